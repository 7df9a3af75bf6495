/*  ts_store_scan - ts_store_history_scan for the backends that have no
    walk of their own (DynamoDB, Timestream, InfluxDB): their
    history_range read in chunks of at most TS_STORE_SCAN_CHUNK points,
    each handed to the visitor and dropped, so that memory stays bounded
    whatever the range holds. A forward scan resumes at the time of a
    full chunk's last point (the points of that time are read again, as
    a chunk may have cut them); a reverse scan reads windows of time back
    from to_ms, a day first and twice as long each time, halved while a
    window holds more than a chunk. See ts_store.h. */

#include "ts_store_backend.h"

#include <stdint.h>

//  Hands points [0, n) of chunk (backwards if reverse) to fn. Returns 0,
//  1 if fn stopped, or fn's error.
static int
s_deliver (const ts_points_t *chunk, size_t n, bool reverse,
           ts_store_scan_fn *fn, void *arg)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = reverse? n - 1 - k: k;
        int rc = fn (arg, chunk->time_ms [i], ts_points_measure (chunk, i),
                     chunk->value [i]);
        if (rc)
            return rc;
    }
    return 0;
}

//  Reads [from, to] into chunk (cleared), at most max points: 0, 1 (more
//  than max: chunk holds max), or the backend's error.
static int
s_read (const ts_store_ops_t *ops, void *state, const char *id,
        const char *measure, int64_t from, int64_t to, size_t max,
        ts_points_t *chunk, char *err)
{
    ts_points_clear (chunk);
    int rc = ops->history_range (state, id, measure, from, to, max, chunk,
                                 err);
    if (rc == TS_ETOOBIG) {
        if (err)
            err [0] = '\0';
        return 1;
    }
    return rc;
}

static int
s_forward (const ts_store_ops_t *ops, void *state, const char *id,
           const char *measure, int64_t from, int64_t to,
           ts_store_scan_fn *fn, void *arg, ts_points_t *chunk, char *err)
{
    while (true) {
        int rc = s_read (ops, state, id, measure, from, to,
                         TS_STORE_SCAN_CHUNK, chunk, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return s_deliver (chunk, chunk->n, false, fn, arg);
        int64_t last = chunk->time_ms [chunk->n - 1];
        if (chunk->time_ms [0] == last) {
            //  One time holds a chunk's worth of measures: read it whole.
            if ((rc = s_read (ops, state, id, measure, last, last, SIZE_MAX,
                              chunk, err)) < 0
            ||  (rc = s_deliver (chunk, chunk->n, false, fn, arg)))
                return rc;
            if (last == to)
                return 0;
            from = last + 1;
            continue;
        }
        size_t n = chunk->n;
        while (chunk->time_ms [n - 1] == last)
            n--;
        if ((rc = s_deliver (chunk, n, false, fn, arg)))
            return rc;
        from = last;
    }
}

static int
s_reverse (const ts_store_ops_t *ops, void *state, const char *id,
           const char *measure, int64_t from, int64_t to,
           ts_store_scan_fn *fn, void *arg, ts_points_t *chunk, char *err)
{
    int64_t width = 86400000;               //  ms, at least 1
    while (true) {
        //  [low, to], width ms wide, not below from.
        int64_t low = (uint64_t) to - (uint64_t) from < (uint64_t) width
                    ? from: to - (width - 1);
        size_t max = low == to? SIZE_MAX: TS_STORE_SCAN_CHUNK;
        int rc = s_read (ops, state, id, measure, low, to, max, chunk, err);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            width = width / 2 > 0? width / 2: 1;
            continue;
        }
        if ((rc = s_deliver (chunk, chunk->n, true, fn, arg)))
            return rc;
        if (low == from)
            return 0;
        to = low - 1;
        if (width < INT64_MAX / 2)
            width *= 2;
    }
}

int
ts_store_scan_chunked (const ts_store_ops_t *ops, void *state,
                       const char *id, const char *measure, int64_t from_ms,
                       int64_t to_ms, bool reverse, ts_store_scan_fn *fn,
                       void *arg, char *err)
{
    ts_points_t *chunk = ts_points_new ();
    if (!chunk) {
        ts_errf (err, "out of memory scanning id '%s'", id);
        return TS_ENOMEM;
    }
    int rc = reverse? s_reverse (ops, state, id, measure, from_ms, to_ms,
                                 fn, arg, chunk, err)
                    : s_forward (ops, state, id, measure, from_ms, to_ms,
                                 fn, arg, chunk, err);
    ts_points_destroy (&chunk);
    return rc == 1? 0: rc;
}
