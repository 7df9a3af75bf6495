/*  ts_agg - buckets of a query with a step, computed while the points go
    by (docs/protocol.md 5.2): the query engine hands each point of the
    merged series to ts_agg_add as the store scan visits it, in time
    order, and no list of raw points is ever built; only one bucket per
    measure is open at a time.

    Buckets are aligned on multiples of the step from the epoch: the
    bucket of time t starts at floor(t / step) * step and holds
    [start, start + step). A bucket's time in the answer is its start.
    Each (bucket, measure) with at least one point gives one value, the
    aggregate of its points (avg, min, max, sum, count, first, last). It
    lands in the history list if any of its points is a history point (a
    bucket straddling the newest history point and the forecast after it
    combines both and is history), else in the forecast list. In each
    list, entries are ascending by bucket, then measure name.

    ts_agg_fill then adds the buckets that got no value (fill=null: NaN;
    fill=previous: the last value before it, or the value from before the
    range the caller read, else NaN).

    Pure: no I/O, no clock. Not thread-safe: one query at a time. */

#ifndef TS_AGG_H_INCLUDED
#define TS_AGG_H_INCLUDED

#include "ts_common.h"
#include "ts_points.h"
#include "ts_proto.h"

typedef struct _ts_agg_run_t ts_agg_run_t;

//  The start of the bucket of time_ms (floor, negative times too).
int64_t ts_agg_bucket (int64_t time_ms, int64_t step_ms);

//  A run of agg (not TS_AGG_NONE) over buckets of step_ms (> 0), its
//  values appended to history and forecast (borrowed; they must outlive
//  the run), at most max entries in all. NULL if out of memory.
ts_agg_run_t *ts_agg_new (ts_agg_t agg, int64_t step_ms, ts_points_t *history,
                          ts_points_t *forecast, size_t max);

void ts_agg_destroy (ts_agg_run_t **self_p);

//  Adds one point (ascending time across calls; points of one time in
//  any order of measures). history: from the history role, else from
//  the forecast. Returns 0, TS_ENOMEM, or TS_ETOOBIG once the values
//  would pass max.
int ts_agg_add (ts_agg_run_t *self, int64_t time_ms, const char *measure,
                double value, bool history);

//  Closes the last bucket. Returns as ts_agg_add.
int ts_agg_finish (ts_agg_run_t *self);

//  What ts_agg_fill needs beyond the lists.
typedef struct {
    ts_fill_mode_t fill;        //  TS_FILL_NULL or TS_FILL_PREVIOUS
    int64_t  step_ms;
    int64_t  from_ms;           //  buckets of [from_ms, to_ms]
    int64_t  to_ms;
    bool     has_baseline;      //  an empty bucket at or before the
    int64_t  baseline_ms;       //  baseline is history, else forecast
    const ts_strlist_t *measures;   //  measures to fill; empty: those
                                    //  with a value in the lists
    const ts_points_t *before;  //  previous: the value of each measure
                                //  from before the range (NULL: none)
    size_t   max;               //  most entries after filling
} ts_agg_fill_t;

//  Rebuilds history and forecast (ts_agg_finish'ed) with an entry for
//  every bucket of the range and measure. Returns 0, TS_ENOMEM, or
//  TS_ETOOBIG if that is more than f->max entries (the lists are then
//  unchanged).
int ts_agg_fill (ts_points_t *history, ts_points_t *forecast,
                 const ts_agg_fill_t *f);

#endif
