/*  ts_agg - bucket aggregation during a scan, and filling of empty
    buckets. See ts_agg.h. */

#include "ts_agg.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

//  One measure's open bucket.
typedef struct {
    char    *name;
    double   acc;               //  sum, min or max so far
    double   first;
    double   last;
    uint64_t count;             //  0: no point in the open bucket
    bool     history;           //  one of its points is history
} s_slot_t;

struct _ts_agg_run_t {
    ts_agg_t     agg;
    int64_t      step;
    ts_points_t *history;       //  borrowed
    ts_points_t *forecast;      //  borrowed
    size_t       max;
    bool         open;          //  a bucket is open
    int64_t      bucket;        //  its start
    s_slot_t    *slots;
    size_t       n;
    size_t       cap;
    size_t      *order;         //  n slot indexes, by name (flush)
};

int64_t
ts_agg_bucket (int64_t time_ms, int64_t step_ms)
{
    int64_t q = time_ms / step_ms;
    if (time_ms % step_ms < 0)
        q--;
    if (q < INT64_MIN / step_ms)
        return INT64_MIN;           //  the first bucket of int64 time
    return q * step_ms;
}

ts_agg_run_t *
ts_agg_new (ts_agg_t agg, int64_t step_ms, ts_points_t *history,
            ts_points_t *forecast, size_t max)
{
    assert (agg > TS_AGG_NONE && agg < TS_AGG_COUNT_);
    assert (step_ms > 0);
    ts_agg_run_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->agg = agg;
    self->step = step_ms;
    self->history = history;
    self->forecast = forecast;
    self->max = max;
    return self;
}

void
ts_agg_destroy (ts_agg_run_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_agg_run_t *self = *self_p;
        for (size_t i = 0; i < self->n; i++)
            free (self->slots [i].name);
        free (self->slots);
        free (self->order);
        free (self);
        *self_p = NULL;
    }
}

static double
s_value (const ts_agg_run_t *self, const s_slot_t *slot)
{
    switch (self->agg) {
        case TS_AGG_AVG:    return slot->acc / (double) slot->count;
        case TS_AGG_COUNT:  return (double) slot->count;
        case TS_AGG_FIRST:  return slot->first;
        case TS_AGG_LAST:   return slot->last;
        default:            return slot->acc;       //  min, max, sum
    }
}

static int
s_by_name (const void *a, const void *b, void *arg)
{
    const s_slot_t *slots = arg;
    return strcmp (slots [*(const size_t *) a].name,
                   slots [*(const size_t *) b].name);
}

//  Appends the open bucket's values: history ones, then forecast ones,
//  each by measure name.
static int
s_flush (ts_agg_run_t *self)
{
    if (!self->open)
        return 0;
    self->open = false;
    size_t used = 0;
    for (size_t i = 0; i < self->n; i++)
        if (self->slots [i].count)
            self->order [used++] = i;
    qsort_r (self->order, used, sizeof (size_t), s_by_name, self->slots);
    if (self->history->n + self->forecast->n + used > self->max)
        return TS_ETOOBIG;
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < used; k++) {
            s_slot_t *slot = &self->slots [self->order [k]];
            if (slot->history != (pass == 0))
                continue;
            int rc = ts_points_append (pass == 0? self->history
                                                : self->forecast,
                                       self->bucket, slot->name,
                                       s_value (self, slot));
            if (rc)
                return rc;
        }
    for (size_t k = 0; k < used; k++) {
        self->slots [self->order [k]].count = 0;
        self->slots [self->order [k]].history = false;
    }
    return 0;
}

//  The slot of measure, added if new; NULL if out of memory.
static s_slot_t *
s_slot (ts_agg_run_t *self, const char *measure)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->slots [i].name, measure) == 0)
            return &self->slots [i];
    if (self->n == self->cap) {
        size_t cap = self->cap? 2 * self->cap: 8;
        s_slot_t *slots = realloc (self->slots, cap * sizeof *slots);
        if (!slots)
            return NULL;
        self->slots = slots;
        size_t *order = realloc (self->order, cap * sizeof *order);
        if (!order)
            return NULL;
        self->order = order;
        self->cap = cap;
    }
    s_slot_t *slot = &self->slots [self->n];
    memset (slot, 0, sizeof *slot);
    slot->name = strdup (measure);
    if (!slot->name)
        return NULL;
    self->n++;
    return slot;
}

int
ts_agg_add (ts_agg_run_t *self, int64_t time_ms, const char *measure,
            double value, bool history)
{
    int64_t bucket = ts_agg_bucket (time_ms, self->step);
    if (self->open && bucket != self->bucket) {
        int rc = s_flush (self);
        if (rc)
            return rc;
    }
    self->open = true;
    self->bucket = bucket;
    s_slot_t *slot = s_slot (self, measure);
    if (!slot)
        return TS_ENOMEM;
    if (slot->count++ == 0) {
        slot->first = value;
        slot->acc = self->agg == TS_AGG_AVG || self->agg == TS_AGG_SUM
                  ? 0: value;
    }
    slot->last = value;
    switch (self->agg) {
        case TS_AGG_AVG:
        case TS_AGG_SUM:
            slot->acc += value;
            break;
        case TS_AGG_MIN:
            slot->acc = value < slot->acc? value: slot->acc;
            break;
        case TS_AGG_MAX:
            slot->acc = value > slot->acc? value: slot->acc;
            break;
        default:
            break;
    }
    slot->history |= history;
    return 0;
}

int
ts_agg_finish (ts_agg_run_t *self)
{
    return s_flush (self);
}

//  --- fill ------------------------------------------------------------------

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  The measures to fill, sorted, unique, into *names (n of them; the
//  strings are borrowed).
static int
s_measures (const ts_points_t *history, const ts_points_t *forecast,
            const ts_strlist_t *asked, const char ***names, size_t *n)
{
    size_t cap = asked && asked->n? asked->n
               : history->n_measures + forecast->n_measures;
    const char **list = malloc ((cap? cap: 1) * sizeof *list);
    if (!list)
        return TS_ENOMEM;
    size_t count = 0;
    if (asked && asked->n)
        for (size_t i = 0; i < asked->n; i++)
            list [count++] = asked->items [i];
    else {
        for (size_t i = 0; i < history->n_measures; i++)
            list [count++] = history->measures [i];
        for (size_t i = 0; i < forecast->n_measures; i++)
            list [count++] = forecast->measures [i];
    }
    qsort (list, count, sizeof *list, s_cmp_str);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (unique == 0 || strcmp (list [unique - 1], list [i]))
            list [unique++] = list [i];
    *names = list;
    *n = unique;
    return 0;
}

//  The value of measure in list at index range [lo, hi), or false.
static bool
s_find (const ts_points_t *list, size_t lo, size_t hi, const char *measure,
        double *value)
{
    for (size_t i = lo; i < hi; i++)
        if (strcmp (ts_points_measure (list, i), measure) == 0) {
            *value = list->value [i];
            return true;
        }
    return false;
}

//  Fills into new lists nh and nf; see ts_agg_fill.
static int
s_fill_into (const ts_points_t *history, const ts_points_t *forecast,
             const ts_agg_fill_t *f, const char **names, size_t m,
             uint64_t buckets, ts_points_t *nh, ts_points_t *nf)
{
    double *prev = malloc ((m? m: 1) * sizeof *prev);
    bool *to_history = malloc ((m? m: 1) * sizeof *to_history);
    double *value = malloc ((m? m: 1) * sizeof *value);
    int rc = prev && to_history && value? 0: TS_ENOMEM;
    for (size_t k = 0; rc == 0 && k < m; k++) {
        prev [k] = NAN;
        if (f->before && f->fill == TS_FILL_PREVIOUS)
            for (size_t i = 0; i < f->before->n; i++)
                if (strcmp (ts_points_measure (f->before, i), names [k]) == 0)
                    prev [k] = f->before->value [i];
    }
    size_t hi = 0, fi = 0;
    int64_t first = ts_agg_bucket (f->from_ms, f->step_ms);
    for (uint64_t b = 0; rc == 0 && b < buckets; b++) {
        int64_t start = first + (int64_t) b * f->step_ms;
        size_t h0 = hi, f0 = fi;
        while (hi < history->n && history->time_ms [hi] == start)
            hi++;
        while (fi < forecast->n && forecast->time_ms [fi] == start)
            fi++;
        for (size_t k = 0; k < m; k++) {
            if (s_find (history, h0, hi, names [k], &value [k]))
                to_history [k] = true;
            else
            if (s_find (forecast, f0, fi, names [k], &value [k]))
                to_history [k] = false;
            else {
                value [k] = f->fill == TS_FILL_PREVIOUS? prev [k]: NAN;
                to_history [k] = f->has_baseline && start <= f->baseline_ms;
            }
            prev [k] = value [k];
        }
        for (int pass = 0; rc == 0 && pass < 2; pass++)
            for (size_t k = 0; rc == 0 && k < m; k++)
                if (to_history [k] == (pass == 0))
                    rc = ts_points_append (pass == 0? nh: nf, start,
                                           names [k], value [k]);
    }
    free (prev);
    free (to_history);
    free (value);
    return rc;
}

//  Replaces the points of list by those of from.
static int
s_replace (ts_points_t *list, const ts_points_t *from)
{
    ts_points_clear (list);
    for (size_t i = 0; i < from->n; i++) {
        int rc = ts_points_append_from (list, from, i);
        if (rc)
            return rc;
    }
    return 0;
}

int
ts_agg_fill (ts_points_t *history, ts_points_t *forecast,
             const ts_agg_fill_t *f)
{
    if (f->fill == TS_FILL_NONE || f->from_ms > f->to_ms)
        return 0;
    int64_t first = ts_agg_bucket (f->from_ms, f->step_ms);
    int64_t last = ts_agg_bucket (f->to_ms, f->step_ms);
    uint64_t span = ((uint64_t) last - (uint64_t) first)
                  / (uint64_t) f->step_ms;
    if (span >= f->max)
        return TS_ETOOBIG;
    uint64_t buckets = span + 1;
    const char **names = NULL;
    size_t m = 0;
    int rc = s_measures (history, forecast, f->measures, &names, &m);
    if (rc)
        return rc;
    if (m && buckets > f->max / m) {
        free (names);
        return TS_ETOOBIG;
    }
    ts_points_t *nh = ts_points_new ();
    ts_points_t *nf = ts_points_new ();
    rc = nh && nf? s_fill_into (history, forecast, f, names, m, buckets, nh,
                                nf)
                 : TS_ENOMEM;
    free (names);
    if (rc == 0)
        rc = s_replace (history, nh);
    if (rc == 0)
        rc = s_replace (forecast, nf);
    ts_points_destroy (&nh);
    ts_points_destroy (&nf);
    return rc;
}
