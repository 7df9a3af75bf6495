/*  ts_query_run - the query engine of queries with options. See
    ts_query_run.h; the answer's rules are in docs/protocol.md 5.2.

    The answer is one sequence: the history entries (points, or buckets
    holding a history point), then the forecast entries; each ascending
    by time, then measure name. A page is a slice of it; the token names
    the time of the slice's last entry and how many entries at that time
    it had answered, so that the next page starts right after it. A raw
    page scans history from that time on and stops one entry past the
    page (the peek that says whether a next page exists); an aggregated
    page starts at that bucket, except where a fill depends on what comes
    before it (fill=previous: the values; a fill of every measure: which
    measures the range holds), where the whole range is aggregated
    again. */

#include "ts_query_run.h"
#include "ts_agg.h"
#include "ts_query.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool
ts_query_run_needed (const ts_msg_t *req)
{
    return ts_query_aggregated (req) || req->limit || req->next [0]
        || req->measures->n > 1;
}

//  What the history scan feeds.
typedef struct {
    const ts_msg_t *req;
    ts_points_t  *history;      //  raw: the points collected
    ts_agg_run_t *agg;          //  aggregated: the run, else NULL
    size_t        need;         //  raw: stop at a new time past this many
    bool          stopped;      //  raw: stopped there
    bool          has_newest;   //  the newest history point seen
    int64_t       newest;
} s_scan_t;

//  The measure the store filters by: the only one asked, else NULL (all,
//  or several filtered here).
static const char *
s_store_measure (const ts_msg_t *req)
{
    if (req->measures->n == 1)
        return req->measures->items [0];
    if (req->measures->n == 0 && req->measure [0])
        return req->measure;
    return NULL;
}

static bool
s_wanted (const ts_msg_t *req, const char *measure)
{
    return req->measures->n <= 1
        || ts_strlist_contains (req->measures, measure);
}

static int
s_visit (void *arg, int64_t time_ms, const char *measure, double value)
{
    s_scan_t *scan = arg;
    if (!s_wanted (scan->req, measure))
        return 0;
    if (!scan->agg && scan->history->n >= scan->need
    &&  time_ms != scan->history->time_ms [scan->history->n - 1]) {
        scan->stopped = true;
        return 1;
    }
    scan->has_newest = true;
    scan->newest = time_ms;
    if (scan->agg)
        return ts_agg_add (scan->agg, time_ms, measure, value, true);
    return ts_points_append (scan->history, time_ms, measure, value);
}

//  Reverse scans: the first wanted point sets *found and *time_ms (and
//  is appended to into, if not NULL).
typedef struct {
    const ts_msg_t *req;
    bool         found;
    int64_t      time_ms;
    ts_points_t *into;
} s_first_t;

static int
s_first (void *arg, int64_t time_ms, const char *measure, double value)
{
    s_first_t *first = arg;
    if (!s_wanted (first->req, measure))
        return 0;
    first->found = true;
    first->time_ms = time_ms;
    if (first->into && ts_points_append (first->into, time_ms, measure,
                                         value))
        return TS_ENOMEM;
    return 1;
}

//  The newest history point of [from, to] (the merge rule's baseline).
static int
s_baseline (ts_store_t *store, const ts_msg_t *req, int64_t from,
            int64_t to, s_scan_t *scan, char *err)
{
    s_first_t first = { req, false, 0, NULL };
    int rc = ts_store_history_scan (store, req->id, s_store_measure (req),
                                    from, to, true, s_first, &first, err);
    scan->has_newest = first.found;
    scan->newest = first.time_ms;
    return rc;
}

//  fill=previous: the newest value of each measure from before from_ms,
//  into before.
static int
s_before (ts_store_t *store, const ts_msg_t *req, const ts_strlist_t *names,
          int64_t from, ts_points_t *before, char *err)
{
    if (from == INT64_MIN)
        return 0;
    for (size_t i = 0; i < names->n; i++) {
        s_first_t first = { req, false, 0, before };
        int rc = ts_store_history_scan (store, req->id, names->items [i],
                                        INT64_MIN, from - 1, true, s_first,
                                        &first, err);
        if (rc)
            return rc;
    }
    return 0;
}

//  The measures an aggregated answer fills: those asked, else those with
//  a value in the lists.
static int
s_fill_measures (const ts_msg_t *req, const ts_points_t *h,
                 const ts_points_t *f, ts_strlist_t *names)
{
    const char *one = s_store_measure (req);
    if (req->measures->n > 1)
        for (size_t i = 0; i < req->measures->n; i++) {
            if (ts_strlist_append (names, req->measures->items [i]))
                return TS_ENOMEM;
        }
    else
    if (one)
        return ts_strlist_append (names, one)? TS_ENOMEM: 0;
    else
        for (int l = 0; l < 2; l++) {
            const ts_points_t *list = l? f: h;
            for (size_t i = 0; i < list->n_measures; i++)
                if (!ts_strlist_contains (names, list->measures [i])
                &&  ts_strlist_append (names, list->measures [i]))
                    return TS_ENOMEM;
        }
    return 0;
}

//  Time of entry i of the sequence h ++ f.
static int64_t
s_time (const ts_points_t *h, const ts_points_t *f, size_t i)
{
    return i < h->n? h->time_ms [i]: f->time_ms [i - h->n];
}

//  Forecast points of fc after the baseline, at or after from, wanted:
//  appended to f (raw) or added to the run.
static int
s_forecast (const s_scan_t *scan, const ts_points_t *fc, int64_t from,
            ts_points_t *f)
{
    for (size_t i = 0; i < fc->n; i++) {
        int64_t t = fc->time_ms [i];
        const char *measure = ts_points_measure (fc, i);
        if (t < from || (scan->has_newest && t <= scan->newest)
        ||  !s_wanted (scan->req, measure))
            continue;
        int rc = scan->agg
               ? ts_agg_add (scan->agg, t, measure, fc->value [i], false)
               : ts_points_append_from (f, fc, i);
        if (rc)
            return rc;
    }
    return 0;
}

//  Aggregated: buckets of [scan_from, to] into h and f.
static int
s_aggregate (ts_store_t *store, const ts_msg_t *req, int64_t from,
             int64_t scan_from, int64_t to, const ts_points_t *fc,
             s_scan_t *scan, ts_points_t *h, ts_points_t *f, ts_msg_t *reply,
             char *err)
{
    scan->agg = ts_agg_new (reply->agg, reply->step_ms, h, f,
                            TS_PROTO_MAX_POINTS);
    if (!scan->agg)
        return TS_ENOMEM;
    int rc = ts_store_history_scan (store, req->id, s_store_measure (req),
                                    scan_from, to, false, s_visit, scan, err);
    if (rc == 0 && !scan->has_newest)
        rc = s_baseline (store, req, from, to, scan, err);
    if (rc == 0)
        rc = s_forecast (scan, fc, scan_from, NULL);
    if (rc == 0)
        rc = ts_agg_finish (scan->agg);
    ts_agg_destroy (&scan->agg);
    if (rc == TS_ETOOBIG)
        ts_errf (err, "more than %d buckets: use a larger step",
                 TS_PROTO_MAX_POINTS);
    if (rc || req->fill == TS_FILL_NONE)
        return rc;
    ts_strlist_t *names = ts_strlist_new ();
    ts_points_t *before = ts_points_new ();
    rc = names && before? s_fill_measures (req, h, f, names): TS_ENOMEM;
    if (rc == 0 && req->fill == TS_FILL_PREVIOUS)
        rc = s_before (store, req, names, from, before, err);
    ts_agg_fill_t fill = {
        .fill = req->fill, .step_ms = reply->step_ms, .from_ms = scan_from,
        .to_ms = to, .has_baseline = scan->has_newest,
        .baseline_ms = scan->newest, .measures = names, .before = before,
        .max = TS_PROTO_MAX_POINTS };
    if (rc == 0 && (rc = ts_agg_fill (h, f, &fill)) == TS_ETOOBIG)
        ts_errf (err, "fill=%s over this range makes more than %d buckets: "
                 "use a larger step or a shorter range",
                 ts_fill_name (req->fill), TS_PROTO_MAX_POINTS);
    ts_strlist_destroy (&names);
    ts_points_destroy (&before);
    return rc;
}

//  Copies the page [start, end) of h ++ f into the reply's lists.
static int
s_page (const ts_points_t *h, const ts_points_t *f, size_t start,
        size_t end, ts_msg_t *reply)
{
    for (size_t i = start; i < end; i++) {
        int rc = i < h->n
               ? ts_points_append_from (reply->series.history, h, i)
               : ts_points_append_from (reply->series.forecast, f,
                                        i - h->n);
        if (rc)
            return rc;
    }
    return 0;
}

//  Cuts the answer h ++ f into the page after the token (if any) and
//  sets the reply's token when an entry follows.
static int
s_cut (const ts_msg_t *req, const ts_query_token_t *token, size_t cap,
       const ts_points_t *h, const ts_points_t *f, ts_msg_t *reply,
       char *err)
{
    size_t total = h->n + f->n, start = 0;
    if (req->next [0]) {
        while (start < total && s_time (h, f, start) < token->time_ms)
            start++;
        for (uint32_t k = 0; k < token->at_time && start < total
                          && s_time (h, f, start) == token->time_ms; k++)
            start++;
    }
    bool more = total - start > cap;
    size_t end = more? start + cap: total;
    if (more && !req->limit && !req->next [0]) {
        ts_errf (err, "more than %zu %s in range (gateway.max_points); ask "
                 "for a shorter range%s, or page with limit", cap,
                 ts_query_aggregated (req)? "buckets": "points",
                 ts_query_aggregated (req)? " or a larger step": "");
        return TS_ETOOBIG;
    }
    int rc = s_page (h, f, start, end, reply);
    if (rc == 0 && more) {
        ts_query_token_t next = *token;
        next.hash = ts_query_hash (req);
        next.time_ms = s_time (h, f, end - 1);
        next.at_time = 0;
        for (size_t i = end; i > 0 && s_time (h, f, i - 1) == next.time_ms;
             i--)
            next.at_time++;
        ts_query_token_format (&next, reply->next);
    }
    return rc;
}

static int
s_run (ts_store_t *store, const ts_msg_t *req, const ts_query_token_t *token,
       int64_t now, size_t cap, ts_points_t *h, ts_points_t *f,
       ts_points_t *fc, ts_msg_t *reply, char *err)
{
    int64_t from = token->from_ms, to = token->to_ms;
    int rc = ts_store_forecast_range (store, req->id, s_store_measure (req),
                                      from, to, now, fc, err);
    if (rc)
        return rc;
    //  A later page starts at its token's time, unless its fill depends
    //  on the buckets before it: previous values, or the measures to
    //  fill when none were named (those with a value in the range).
    int64_t scan_from = from;
    bool whole = ts_query_aggregated (req) && req->fill != TS_FILL_NONE
              && (req->fill == TS_FILL_PREVIOUS
                  || (!s_store_measure (req) && req->measures->n <= 1));
    if (req->next [0] && token->time_ms > from && !whole)
        scan_from = token->time_ms;
    s_scan_t scan = { .req = req, .history = h };
    if (ts_query_aggregated (req))
        rc = s_aggregate (store, req, from, scan_from, to, fc, &scan, h, f,
                          reply, err);
    else {
        scan.need = (req->next [0]? token->at_time: 0) + cap + 1;
        rc = ts_store_history_scan (store, req->id, s_store_measure (req),
                                    scan_from, to, false, s_visit, &scan,
                                    err);
        if (rc == 0 && ts_points_sort (h))
            rc = TS_ENOMEM;
        if (rc == 0 && (scan.stopped || !scan.has_newest))
            rc = s_baseline (store, req, from, to, &scan, err);
        if (rc == 0 && !scan.stopped)
            rc = s_forecast (&scan, fc, scan_from, f);
    }
    if (rc)
        return rc;
    reply->series.has_baseline = scan.has_newest;
    reply->series.baseline_ms = scan.newest;
    return s_cut (req, token, cap, h, f, reply, err);
}

int
ts_query_run (ts_store_t *store, const ts_msg_t *req, int64_t now_ms,
              int64_t from_ms, int64_t to_ms, size_t max_points,
              ts_msg_t *reply, char *err)
{
    ts_query_token_t token = { .from_ms = from_ms, .to_ms = to_ms };
    if (req->next [0] && ts_query_token_parse (req, &token, err))
        return TS_EINVAL;
    size_t cap = req->limit && req->limit < max_points? req->limit
                                                      : max_points;
    reply->from_ms = token.from_ms;
    reply->to_ms = token.to_ms;
    if (ts_query_aggregated (req)) {
        reply->step_ms = ts_query_auto_step (req->step_ms, req->max_points,
                                             token.from_ms, token.to_ms);
        reply->agg = req->agg? req->agg: TS_AGG_AVG;
        reply->fill = req->fill;
    }
    ts_points_t *h = ts_points_new ();
    ts_points_t *f = ts_points_new ();
    ts_points_t *fc = ts_points_new ();
    int rc = h && f && fc? s_run (store, req, &token, now_ms, cap, h, f, fc,
                                  reply, err)
                         : TS_ENOMEM;
    if (rc == TS_ENOMEM)
        ts_errf (err, "out of memory answering the query");
    ts_points_destroy (&h);
    ts_points_destroy (&f);
    ts_points_destroy (&fc);
    return rc;
}
