/*  ts_store_lmdb_points - forecast records of the LMDB backend, and
    what spans both roles: documents written together, one query's read,
    forgetting an id's points and the expiry sweep. History blocks are
    in ts_store_lmdb_history.c.

    A forecast is one record per id, replaced whole and expiring whole:
    expires_ms and the count of points first, so that the expiry sweep
    reads no further, then its points as one encoded run
    (ts_store_lmdb_run.c, measure numbers for names), sorted by time,
    then measure, the last given of equal ones kept.

    Part of the LMDB backend (ts_store_lmdb.h). Argument checks are done
    by ts_store.c; this file trusts its inputs but not the bytes it reads
    back from the file. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_lmdb.h"

//  --- forecast records ----------------------------------------------------

//  A record: expires_ms, count, then the points as one encoded run
//  (ts_store_lmdb_run.c) from time 0.
#define S_FC_HEAD   (sizeof (int64_t) + sizeof (uint32_t))

int
ts_store_lmdb_forecast_put (ts_store_lmdb_t *self, MDB_txn *txn,
                            const char *id, const ts_points_t *pts,
                            int64_t expires_ms, char *err)
{
    MDB_val key = { strlen (id), (void *) id };
    int rc = 0;
    if (pts->n == 0) {
        rc = mdb_del (txn, self->forecasts, &key, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    else {
        if (pts->n > UINT32_MAX) {
            ts_errf (err, "lmdb: forecast of id '%s' too long", id);
            return TS_ETOOBIG;
        }
        ts_store_lmdb_run_t run = { 0 };
        int ts_rc = ts_store_lmdb_run_from (self, txn, id, pts, &run, err);
        size_t cap = S_FC_HEAD + TS_STORE_LMDB_CODEC_HEAD
                   + run.n * TS_STORE_LMDB_CODEC_POINT;
        unsigned char *buf = ts_rc == 0? malloc (cap): NULL;
        if (ts_rc == 0 && !buf) {
            ts_errf (err, "lmdb: out of memory writing id '%s'", id);
            ts_rc = TS_ENOMEM;
        }
        if (ts_rc) {
            ts_store_lmdb_run_fini (&run);
            return ts_rc;
        }
        size_t size;
        int scale = 0;
        ts_store_lmdb_encode (&run, 0, run.n, 0, buf + S_FC_HEAD,
                              cap - S_FC_HEAD, &size, &scale);
        uint32_t count = (uint32_t) run.n;
        memcpy (buf, &expires_ms, sizeof expires_ms);
        memcpy (buf + sizeof expires_ms, &count, sizeof count);
        MDB_val val = { S_FC_HEAD + size, buf };
        rc = mdb_put (txn, self->forecasts, &key, &val, 0);
        free (buf);
        ts_store_lmdb_run_fini (&run);
    }
    if (rc == 0)
        rc = ts_store_lmdb_stamp_touch (self, txn, id,
                                        pts->n? expires_ms: INT64_MAX);
    return rc? ts_store_lmdb_fail (self, rc, err): 0;
}

//  Reads the head of forecast record val: *expires_ms and *count.
//  Returns 0 or TS_EBACKEND (too short).
static int
s_forecast_head (const MDB_val *val, int64_t *expires_ms, size_t *count)
{
    if (val->mv_size < S_FC_HEAD)
        return TS_EBACKEND;
    uint32_t n;
    memcpy (expires_ms, val->mv_data, sizeof *expires_ms);
    memcpy (&n, (const unsigned char *) val->mv_data + sizeof *expires_ms,
            sizeof n);
    *count = n;
    return 0;
}

int
ts_store_lmdb_forecast_replace (void *state, const char *id,
                                const ts_points_t *pts, int64_t expires_ms,
                                char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    rc = ts_store_lmdb_forecast_put (self, txn, id, pts, expires_ms, err);
    return ts_lmdb_end (&self->lmdb, txn, rc, err);
}

int
ts_store_lmdb_write (void *state, const ts_store_doc_t *docs, size_t n,
                     int64_t expires_ms, char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    //  A NULL part belongs to another backend: left alone.
    for (size_t i = 0; i < n && rc == 0; i++) {
        const ts_store_doc_t *doc = &docs [i];
        if (doc->history && doc->history->n) {
            rc = ts_store_lmdb_history_write (self, txn, doc->id,
                                              doc->history, err);
            if (rc == 0) {
                rc = ts_store_lmdb_stamp_touch (self, txn, doc->id,
                                                TS_STORE_LMDB_KEEP_EXPIRY);
                if (rc)
                    rc = ts_store_lmdb_fail (self, rc, err);
            }
        }
        if (rc == 0 && doc->forecast)
            rc = ts_store_lmdb_forecast_put (self, txn, doc->id,
                                             doc->forecast, expires_ms, err);
        if (rc == 0 && doc->fetched_ms > 0) {
            //  The success mark, in the data's transaction.
            ts_store_mark_t mark = {
                .id = doc->id, .at_ms = doc->fetched_ms, .ok = true };
            rc = ts_store_lmdb_status_mark (self, txn, &mark);
            if (rc)
                rc = ts_store_lmdb_fail (self, rc, err);
        }
    }
    if (rc) {
        ts_store_lmdb_abort (self, txn);
        return rc;
    }
    return ts_store_lmdb_commit (self, txn, err);
}

int
ts_store_lmdb_forecast_check (const MDB_val *val, ts_store_lmdb_run_t *run)
{
    int64_t expires_ms;
    size_t count;
    int rc = s_forecast_head (val, &expires_ms, &count);
    if (rc == 0)
        rc = ts_store_lmdb_decode ((const unsigned char *) val->mv_data
                                   + S_FC_HEAD, val->mv_size - S_FC_HEAD, 0,
                                   count, run);
    if (rc == 0 && run->n != count)
        rc = TS_EBACKEND;
    return rc;
}

//  A forecast read: what s_fc_point appends, and where.
typedef struct {
    ts_store_lmdb_t      *self;
    MDB_txn              *txn;
    ts_store_lmdb_names_t map;
    bool                  one;          //  of one measure only
    uint16_t              measure_no;   //  that one
    int64_t               from_ms;
    int64_t               to_ms;
    ts_points_t          *out;
    char                 *err;
    bool                  stopped;      //  past to_ms before the end
} s_fc_read_t;

//  Appends a decoded point to the read arg if it is in its range.
static int
s_fc_point (void *arg, int64_t time_ms, uint16_t measure, double value)
{
    s_fc_read_t *read = arg;
    if (time_ms > read->to_ms) {
        read->stopped = true;           //  sorted: nothing more
        return 1;
    }
    if (time_ms < read->from_ms || (read->one && measure != read->measure_no))
        return 0;
    uint16_t index;
    int rc = ts_store_lmdb_names_index (read->self, read->txn, &read->map,
                                        measure, read->out, &index,
                                        read->err);
    if (rc == 0)
        rc = ts_points_append_at (read->out, time_ms, index, value);
    return rc;
}

//  Appends to out the forecast points of id in [from_ms, to_ms] of
//  measure (NULL: any) unexpired at now_ms, read in txn, decoded straight
//  into out. Returns 0 or a TS_E* code with err filled.
static int
s_forecast_read (ts_store_lmdb_t *self, MDB_txn *txn, const char *id,
                 const char *measure, int64_t from_ms, int64_t to_ms,
                 int64_t now_ms, ts_points_t *out, char *err)
{
    MDB_val key = { strlen (id), (void *) id }, val;
    int rc = mdb_get (txn, self->forecasts, &key, &val);
    if (rc)
        return rc == MDB_NOTFOUND? 0: ts_store_lmdb_fail (self, rc, err);
    //  An expired forecast reads as none; its points are not decoded.
    int64_t expires_ms;
    size_t count;
    int ts_rc = s_forecast_head (&val, &expires_ms, &count);
    if (ts_rc == 0 && now_ms >= expires_ms)
        return 0;
    s_fc_read_t read = {
        .self = self, .txn = txn, .one = measure != NULL,
        .from_ms = from_ms, .to_ms = to_ms, .out = out, .err = err };
    if (ts_rc == 0 && measure) {
        ts_rc = ts_store_lmdb_measure_number (self, txn, measure,
                                              strlen (measure), false,
                                              &read.measure_no, err);
        if (ts_rc == TS_ENOTFOUND)
            return 0;                   //  a measure never stored
    }
    size_t first = out->n, decoded = 0;
    if (ts_rc == 0)
        ts_rc = ts_store_lmdb_decode_each ((const unsigned char *) val.mv_data
                                           + S_FC_HEAD,
                                           val.mv_size - S_FC_HEAD, 0, count,
                                           s_fc_point, &read, &decoded);
    //  Read to its end (not stopped past to_ms): count points.
    if (ts_rc == 0 && !read.stopped && decoded != count)
        ts_rc = TS_EBACKEND;
    if (ts_rc == 0 && !measure)
        ts_rc = ts_store_lmdb_sort_names (out, first);
    free (read.map.index);
    if (ts_rc == TS_EBACKEND && !(err && *err))
        ts_errf (err, "lmdb: malformed forecast record of id '%s'", id);
    else
    if (ts_rc && !(err && *err))
        ts_errf (err, "lmdb: %s reading id '%s'", ts_strerror (ts_rc), id);
    return ts_rc;
}

int
ts_store_lmdb_forecast_range (void *state, const char *id,
                              const char *measure, int64_t from_ms,
                              int64_t to_ms, int64_t now_ms,
                              ts_points_t *out, char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    rc = s_forecast_read (self, txn, id, measure, from_ms, to_ms, now_ms,
                          out, err);
    ts_store_lmdb_abort (self, txn);
    return rc;
}

//  --- one query -------------------------------------------------------------

int
ts_store_lmdb_read (void *state, unsigned roles, const ts_store_query_t *q,
                    ts_store_answer_t *ans, char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    //  One read transaction: every part is of one snapshot.
    if (roles & TS_STORE_REGISTRY) {
        MDB_val key = { strlen (q->id), (void *) q->id }, val;
        rc = mdb_get (txn, self->ids, &key, &val);
        ans->exists = rc == 0;
        if (rc == 0)
            rc = ts_store_lmdb_status_get (self, txn, q->id, &val,
                                           &ans->status);
        if (rc == MDB_NOTFOUND)
            rc = 0;
        if (rc)
            rc = ts_store_lmdb_fail (self, rc, err);
        else
        if (!ans->exists)
            roles = 0;                  //  not registered: no points
    }
    if (rc == 0 && (roles & TS_STORE_HISTORY) && ans->history)
        rc = ts_store_lmdb_history_read (self, txn, q->id, q->measure,
                                         q->from_ms, q->to_ms, q->max,
                                         ans->history, err);
    if (rc == 0 && (roles & TS_STORE_FORECAST) && ans->forecast)
        rc = s_forecast_read (self, txn, q->id, q->measure, q->from_ms,
                              q->to_ms, q->now_ms, ans->forecast, err);
    ts_store_lmdb_abort (self, txn);
    return rc;
}

//  --- deleting --------------------------------------------------------------

int
ts_store_lmdb_points_delete (ts_store_lmdb_t *self, MDB_txn *txn,
                             unsigned roles, const char *id, bool *deleted,
                             char *err)
{
    bool any = false;
    int rc = 0;
    if (roles & TS_STORE_HISTORY) {
        rc = ts_store_lmdb_history_delete (self, txn, id, &any, err);
        if (rc)
            return rc;
    }
    if (roles & TS_STORE_FORECAST) {
        MDB_val key = { strlen (id), (void *) id };
        rc = mdb_del (txn, self->forecasts, &key, NULL);
        if (rc == 0)
            any = true;
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (deleted)
        *deleted = any;
    return rc? ts_store_lmdb_fail (self, rc, err): 0;
}

int
ts_store_lmdb_forget (void *state, unsigned roles, const char *id,
                      char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    bool deleted = false;
    rc = ts_store_lmdb_points_delete (self, txn, roles, id, &deleted, err);
    if (rc) {
        ts_store_lmdb_abort (self, txn);
        return rc;
    }
    if (!deleted) {                     //  nothing changed: nothing to do
        ts_store_lmdb_abort (self, txn);
        return 0;
    }
    //  A forecast forgotten has no expiry any more.
    rc = ts_store_lmdb_stamp_touch (self, txn, id,
                                    (roles & TS_STORE_FORECAST)
                                    ? INT64_MAX: TS_STORE_LMDB_KEEP_EXPIRY);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    return ts_store_lmdb_commit (self, txn, err);
}

//  --- expiry ----------------------------------------------------------------

int
ts_store_lmdb_expire (void *state, int64_t now_ms, size_t *removed,
                      char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->forecasts, &cursor);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    size_t count = 0;
    ts_store_lmdb_run_t run = { 0 };
    MDB_val key, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    while (rc == 0) {
        int64_t expires_ms;
        size_t points = 0;
        //  A malformed record is reclaimed too (the id's next fetch
        //  writes it again); the points of the others are checked.
        int check = s_forecast_head (&val, &expires_ms, &points);
        if (check == 0 && expires_ms > now_ms)
            check = ts_store_lmdb_forecast_check (&val, &run);
        if (check == TS_ENOMEM) {
            rc = ENOMEM;
            break;
        }
        if (check)
            expires_ms = INT64_MIN;
        if (expires_ms <= now_ms) {
            rc = mdb_cursor_del (cursor, 0);
            if (rc)
                break;
            count += points;
        }
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    ts_store_lmdb_run_fini (&run);
    if (rc != MDB_NOTFOUND)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    rc = ts_store_lmdb_commit (self, txn, err);
    if (rc == 0 && removed)
        *removed = count;
    return rc;
}

