/*  ts_points - points, series, the split rule and the merge rule.
    See ts_points.h. */

#include "ts_points.h"

#include <stdlib.h>
#include <string.h>

ts_points_t *
ts_points_new (void)
{
    return calloc (1, sizeof (ts_points_t));
}

void
ts_points_destroy (ts_points_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->pts);
        free (*self_p);
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
    ts_point_t *pts = realloc (self->pts, cap * sizeof (ts_point_t));
    if (!pts)
        return TS_ENOMEM;
    self->pts = pts;
    self->cap = cap;
    return 0;
}

int
ts_points_append (ts_points_t *self, int64_t time_ms, const char *measure,
                  double value)
{
    size_t len = strlen (measure);
    if (len > TS_NAME_MAX)
        return TS_ETOOBIG;
    if (self->n == self->cap && ts_points_reserve (self, self->n + 1))
        return TS_ENOMEM;
    ts_point_t *point = &self->pts [self->n++];
    point->time_ms = time_ms;
    point->value = value;
    memcpy (point->measure, measure, len + 1);
    return 0;
}

void
ts_points_clear (ts_points_t *self)
{
    self->n = 0;
}

static int
s_compare (const void *a, const void *b)
{
    const ts_point_t *x = a, *y = b;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms? -1: 1;
    return strcmp (x->measure, y->measure);
}

void
ts_points_sort (ts_points_t *self)
{
    if (self->n > 1)
        qsort (self->pts, self->n, sizeof (ts_point_t), s_compare);
}

int
ts_points_split (const ts_points_t *all, int64_t now_ms,
                 ts_points_t *history, ts_points_t *forecast)
{
    for (size_t i = 0; i < all->n; i++) {
        const ts_point_t *p = &all->pts [i];
        ts_points_t *into = p->time_ms < now_ms? history: forecast;
        if (ts_points_append (into, p->time_ms, p->measure, p->value))
            return TS_ENOMEM;
    }
    return 0;
}

void
ts_series_merge (ts_series_t *self)
{
    self->has_baseline = false;
    self->baseline_ms = 0;
    for (size_t i = 0; i < self->history->n; i++) {
        int64_t t = self->history->pts [i].time_ms;
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
        if (fc->pts [i].time_ms > self->baseline_ms)
            fc->pts [keep++] = fc->pts [i];
    fc->n = keep;
}
