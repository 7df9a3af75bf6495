/*  ts_points - points in columns, the split rule and the merge rule.
    See ts_points.h.

    Measure names are looked up on every append by name: the name last
    used is tried first (a document's points mostly come measure by
    measure, or in rows of a few), then a linear scan of up to
    S_LINEAR names, then an open-addressed hash table built once a list
    holds more. */

#include "ts_points.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_LINEAR 8      //  names scanned before a list gets a hash table

ts_points_t *
ts_points_new (void)
{
    return calloc (1, sizeof (ts_points_t));
}

static void
s_free_measures (ts_points_t *self)
{
    for (size_t i = 0; i < self->n_measures; i++)
        free (self->measures [i]);
    self->n_measures = 0;
    self->last = 0;
    free (self->hash);
    self->hash = NULL;
    self->hash_size = 0;
}

void
ts_points_destroy (ts_points_t **self_p)
{
    if (self_p && *self_p) {
        ts_points_t *self = *self_p;
        s_free_measures (self);
        free (self->measures);
        free (self->time_ms);
        free (self->value);
        free (self->measure);
        free (self);
        *self_p = NULL;
    }
}

int
ts_points_reserve (ts_points_t *self, size_t n)
{
    if (n <= self->cap)
        return 0;
    size_t cap = self->cap? self->cap: 64;
    while (cap < n)
        cap *= 2;
    int64_t *time_ms = realloc (self->time_ms, cap * sizeof *time_ms);
    if (!time_ms)
        return TS_ENOMEM;
    self->time_ms = time_ms;
    double *value = realloc (self->value, cap * sizeof *value);
    if (!value)
        return TS_ENOMEM;
    self->value = value;
    uint16_t *measure = realloc (self->measure, cap * sizeof *measure);
    if (!measure)
        return TS_ENOMEM;
    self->measure = measure;
    self->cap = cap;
    return 0;
}

static uint32_t
s_hash (const char *name, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) name [i]) * 16777619u;
    return h;
}

//  Puts index into the hash table (which has room).
static void
s_hash_put (ts_points_t *self, size_t index)
{
    const char *name = self->measures [index];
    size_t mask = self->hash_size - 1;
    size_t slot = s_hash (name, strlen (name)) & mask;
    while (self->hash [slot])
        slot = (slot + 1) & mask;
    self->hash [slot] = (uint32_t) index + 1;
}

//  Keeps the hash table under half full; builds it once the list has
//  more than S_LINEAR names.
static int
s_hash_grow (ts_points_t *self)
{
    if (self->n_measures <= S_LINEAR
    ||  self->n_measures * 2 < self->hash_size)
        return 0;
    size_t size = self->hash_size? self->hash_size * 2: 64;
    while (size < self->n_measures * 2)
        size *= 2;
    uint32_t *hash = calloc (size, sizeof *hash);
    if (!hash)
        return TS_ENOMEM;
    free (self->hash);
    self->hash = hash;
    self->hash_size = size;
    for (size_t i = 0; i < self->n_measures; i++)
        s_hash_put (self, i);
    return 0;
}

static bool
s_same (const char *stored, const char *name, size_t len)
{
    return strncmp (stored, name, len) == 0 && stored [len] == 0;
}

int
ts_points_measure_index (ts_points_t *self, const char *measure, size_t len,
                         uint16_t *index)
{
    if (self->n_measures
    &&  s_same (self->measures [self->last], measure, len)) {
        *index = self->last;
        return 0;
    }
    if (self->hash) {
        size_t mask = self->hash_size - 1;
        size_t slot = s_hash (measure, len) & mask;
        for (; self->hash [slot]; slot = (slot + 1) & mask)
            if (s_same (self->measures [self->hash [slot] - 1], measure, len)) {
                *index = self->last = (uint16_t) (self->hash [slot] - 1);
                return 0;
            }
    }
    else
        for (size_t i = 0; i < self->n_measures; i++)
            if (s_same (self->measures [i], measure, len)) {
                *index = self->last = (uint16_t) i;
                return 0;
            }
    if (len > TS_NAME_MAX || self->n_measures == TS_POINTS_MEASURES_MAX)
        return TS_ETOOBIG;
    if (self->n_measures == self->cap_measures) {
        size_t cap = self->cap_measures? self->cap_measures * 2: 4;
        char **measures = realloc (self->measures, cap * sizeof *measures);
        if (!measures)
            return TS_ENOMEM;
        self->measures = measures;
        self->cap_measures = cap;
    }
    char *name = malloc (len + 1);
    if (!name)
        return TS_ENOMEM;
    memcpy (name, measure, len);
    name [len] = 0;
    size_t at = self->n_measures++;
    self->measures [at] = name;
    if (self->hash && self->n_measures * 2 < self->hash_size)
        s_hash_put (self, at);
    else
    if (s_hash_grow (self)) {
        free (name);
        self->n_measures--;
        return TS_ENOMEM;
    }
    *index = self->last = (uint16_t) at;
    return 0;
}

int
ts_points_append_at (ts_points_t *self, int64_t time_ms, uint16_t index,
                     double value)
{
    assert (index < self->n_measures);
    if (self->n == self->cap && ts_points_reserve (self, self->n + 1))
        return TS_ENOMEM;
    self->time_ms [self->n] = time_ms;
    self->value [self->n] = value;
    self->measure [self->n] = index;
    self->n++;
    return 0;
}

int
ts_points_append (ts_points_t *self, int64_t time_ms, const char *measure,
                  double value)
{
    uint16_t index;
    int rc = ts_points_measure_index (self, measure, strlen (measure), &index);
    if (rc)
        return rc;
    return ts_points_append_at (self, time_ms, index, value);
}

int
ts_points_append_from (ts_points_t *self, const ts_points_t *from, size_t i)
{
    assert (i < from->n);
    return ts_points_append (self, from->time_ms [i],
                             ts_points_measure (from, i), from->value [i]);
}

void
ts_points_clear (ts_points_t *self)
{
    self->n = 0;
    s_free_measures (self);
}

void
ts_points_release (ts_points_t *self)
{
    ts_points_clear (self);
    free (self->time_ms);
    free (self->value);
    free (self->measure);
    free (self->measures);
    self->time_ms = NULL;
    self->value = NULL;
    self->measure = NULL;
    self->measures = NULL;
    self->cap = self->cap_measures = 0;
}

//  Order of points i and j of self: by time, then measure name.
static int
s_order (const ts_points_t *self, size_t i, size_t j)
{
    if (self->time_ms [i] != self->time_ms [j])
        return self->time_ms [i] < self->time_ms [j]? -1: 1;
    if (self->measure [i] == self->measure [j])
        return 0;
    return strcmp (ts_points_measure (self, i), ts_points_measure (self, j));
}

bool
ts_points_sorted (const ts_points_t *self)
{
    for (size_t i = 1; i < self->n; i++)
        if (s_order (self, i - 1, i) > 0)
            return false;
    return true;
}

static int
s_compare (const void *a, const void *b, void *arg)
{
    const uint32_t *x = a, *y = b;
    int cmp = s_order (arg, *x, *y);
    if (cmp)
        return cmp;
    return *x < *y? -1: *x > *y;    //  stable
}

int
ts_points_sort (ts_points_t *self)
{
    if (self->n < 2 || ts_points_sorted (self))
        return 0;
    assert (self->n <= UINT32_MAX);
    uint32_t *order = malloc (self->n * sizeof *order);
    int64_t *time_ms = malloc (self->n * sizeof *time_ms);
    double *value = malloc (self->n * sizeof *value);
    uint16_t *measure = malloc (self->n * sizeof *measure);
    if (!order || !time_ms || !value || !measure) {
        free (order);
        free (time_ms);
        free (value);
        free (measure);
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < self->n; i++)
        order [i] = (uint32_t) i;
    qsort_r (order, self->n, sizeof *order, s_compare, self);
    for (size_t i = 0; i < self->n; i++) {
        time_ms [i] = self->time_ms [order [i]];
        value [i] = self->value [order [i]];
        measure [i] = self->measure [order [i]];
    }
    free (order);
    free (self->time_ms);
    free (self->value);
    free (self->measure);
    self->time_ms = time_ms;
    self->value = value;
    self->measure = measure;
    self->cap = self->n;
    return 0;
}

int
ts_points_split (const ts_points_t *all, int64_t now_ms,
                 ts_points_t *history, ts_points_t *forecast)
{
    for (size_t i = 0; i < all->n; i++) {
        ts_points_t *into = all->time_ms [i] < now_ms? history: forecast;
        int rc = ts_points_append_from (into, all, i);
        if (rc)
            return rc;
    }
    return 0;
}

void
ts_series_merge (ts_series_t *self)
{
    self->has_baseline = false;
    self->baseline_ms = 0;
    const ts_points_t *hist = self->history;
    for (size_t i = 0; i < hist->n; i++) {
        int64_t t = hist->time_ms [i];
        if (!self->has_baseline || t > self->baseline_ms) {
            self->baseline_ms = t;
            self->has_baseline = true;
        }
    }
    if (!self->has_baseline)
        return;
    //  Forecast is ascending: keep only the tail after the baseline.
    ts_points_t *fc = self->forecast;
    size_t keep = 0;
    for (size_t i = 0; i < fc->n; i++)
        if (fc->time_ms [i] > self->baseline_ms) {
            fc->time_ms [keep] = fc->time_ms [i];
            fc->value [keep] = fc->value [i];
            fc->measure [keep] = fc->measure [i];
            keep++;
        }
    fc->n = keep;
}
