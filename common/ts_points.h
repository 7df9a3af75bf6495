/*  ts_points - the data model: points, point lists and a query answer
    (a series), with the two pure rules of the pipeline:

    - ts_points_split: a fetched document's points cut at "now": time < now
      goes to history, time >= now goes to the forecast.
    - ts_series_merge: the seed's read rule. History points in [from, to];
      the baseline is the newest of them; forecast points only after the
      baseline (up to to); with no history, forecast points in [from, to].

    A point is (series id, measure name, time in epoch ms, double value); the
    id is implied by the list that holds it. A list is held in columns, as
    the wire protocol carries it (docs/protocol.md §6): times, values and,
    per point, the index of its measure in the list's table of measure
    names, where each name is held once. A point costs 18 bytes whatever
    its measure's name (a million-point answer: 18 MB), and an encoder
    writes each column from one array.

    No I/O and no clock here: the caller passes now_ms so tests can pin
    it. Not thread-safe: a list belongs to one thread at a time. */

#ifndef TS_POINTS_H_INCLUDED
#define TS_POINTS_H_INCLUDED

#include "ts_common.h"

//  Most distinct measure names one list holds.
#define TS_POINTS_MEASURES_MAX 65535

typedef struct {
    size_t    n;            //  number of points
    int64_t  *time_ms;      //  n times, epoch milliseconds, UTC
    double   *value;        //  n values
    uint16_t *measure;      //  n indices into measures
    char    **measures;     //  n_measures names, each once, in order of
                            //  first use; owned
    size_t    n_measures;   //  names in measures
    //  Private: capacities and the name lookup.
    size_t    cap;
    size_t    cap_measures;
    uint32_t *hash;         //  open-addressed index of names (or NULL)
    size_t    hash_size;    //  slots in hash, a power of two
    uint16_t  last;         //  index of the name last looked up
} ts_points_t;

//  Returns an empty list, or NULL if out of memory.
ts_points_t *ts_points_new (void);

//  Frees the list; sets *self_p to NULL. Safe on NULL.
void ts_points_destroy (ts_points_t **self_p);

//  Appends one point. measure must be a valid name (not checked here).
//  Returns 0, TS_ENOMEM, or TS_ETOOBIG if measure is over TS_NAME_MAX or
//  would be the list's TS_POINTS_MEASURES_MAX + 1st name.
int ts_points_append (ts_points_t *self, int64_t time_ms,
                      const char *measure, double value);

//  The index of measure in the list's table, adding the name if it is
//  new (measure is len bytes, need not be terminated). Returns 0 and
//  sets *index, or TS_ENOMEM / TS_ETOOBIG as ts_points_append.
int ts_points_measure_index (ts_points_t *self, const char *measure,
                             size_t len, uint16_t *index);

//  Appends one point of the measure at index (< n_measures; checked by
//  assert only): the fast path of a producer that looked its measures up
//  once. Returns 0 or TS_ENOMEM.
int ts_points_append_at (ts_points_t *self, int64_t time_ms, uint16_t index,
                         double value);

//  Appends point i of from (another list). Returns 0, TS_ENOMEM or
//  TS_ETOOBIG.
int ts_points_append_from (ts_points_t *self, const ts_points_t *from,
                           size_t i);

//  The measure name of point i.
static inline const char *
ts_points_measure (const ts_points_t *self, size_t i)
{
    return self->measures [self->measure [i]];
}

//  Ensures room for at least n points in total. Returns 0 or TS_ENOMEM.
int ts_points_reserve (ts_points_t *self, size_t n);

//  Removes every point and every measure name (keeps the point columns'
//  allocation).
void ts_points_clear (ts_points_t *self);

//  Frees the point columns and the measure names of a list whose points
//  are no longer needed (an encoder that has written them), so that a
//  large answer and its encoding are not both held. The list is then
//  empty, as after ts_points_clear.
void ts_points_release (ts_points_t *self);

//  Sorts ascending by time, then by measure name (stable for equal
//  points). Returns 0, or TS_ENOMEM (the list is then unchanged).
int ts_points_sort (ts_points_t *self);

//  Whether the list is ascending by time, then by measure name.
bool ts_points_sorted (const ts_points_t *self);

//  Appends to history every point of all with time_ms < now_ms, and to
//  forecast every point with time_ms >= now_ms. Order is kept.
//  Returns 0, TS_ENOMEM or TS_ETOOBIG.
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
