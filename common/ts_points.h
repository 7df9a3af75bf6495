/*  ts_points - the data model: points, point lists and a query answer
    (a series), with the two pure rules of the pipeline:

    - ts_points_split: a fetched document's points cut at "now": time < now
      goes to history, time >= now goes to the forecast.
    - ts_series_merge: the seed's read rule. History points in [from, to];
      the baseline is the newest of them; forecast points only after the
      baseline (up to to); with no history, forecast points in [from, to].

    A point is (series id, measure name, time in epoch ms, double value); the
    id is implied by the list that holds it. No I/O and no clock here: the
    caller passes now_ms so tests can pin it. */

#ifndef TS_POINTS_H_INCLUDED
#define TS_POINTS_H_INCLUDED

#include "ts_common.h"

typedef struct {
    int64_t time_ms;                    //  epoch milliseconds, UTC
    double  value;                      //  the measured or forecast value
    char    measure [TS_NAME_MAX + 1];  //  measure name, e.g. "value"
} ts_point_t;

typedef struct {
    ts_point_t *pts;        //  n points, owned
    size_t      n;          //  number of points
    size_t      cap;        //  allocated slots
} ts_points_t;

//  Returns an empty list, or NULL if out of memory.
ts_points_t *ts_points_new (void);

//  Frees the list; sets *self_p to NULL. Safe on NULL.
void ts_points_destroy (ts_points_t **self_p);

//  Appends one point. measure must be a valid name (not checked here).
//  Returns 0, TS_ENOMEM, or TS_ETOOBIG if measure is over TS_NAME_MAX.
int ts_points_append (ts_points_t *self, int64_t time_ms,
                      const char *measure, double value);

//  Ensures room for at least n points in total. Returns 0 or TS_ENOMEM.
int ts_points_reserve (ts_points_t *self, size_t n);

//  Removes every point (keeps the allocation).
void ts_points_clear (ts_points_t *self);

//  Sorts ascending by time, then by measure name.
void ts_points_sort (ts_points_t *self);

//  Appends to history every point of all with time_ms < now_ms, and to
//  forecast every point with time_ms >= now_ms. Order is kept.
//  Returns 0 or TS_ENOMEM.
int ts_points_split (const ts_points_t *all, int64_t now_ms,
                     ts_points_t *history, ts_points_t *forecast);

//  A query answer: what the gateway returns for one id and range.
typedef struct {
    ts_points_t *history;       //  ascending by time, within [from, to]
    ts_points_t *forecast;      //  ascending, after baseline, within range
    bool         has_baseline;  //  true if history is not empty
    int64_t      baseline_ms;   //  newest history time (if has_baseline)
} ts_series_t;

//  Applies the merge rule in place. On entry history and forecast hold
//  the store's points in [from, to] (ascending by time); on return
//  baseline is set from history and forecast points with time_ms <=
//  baseline_ms are removed. Never fails.
void ts_series_merge (ts_series_t *self);

#endif
