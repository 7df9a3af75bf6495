/*  ts_store_lmdb_points - forecast records of the LMDB backend, and
    what spans both roles: documents written together, one query's read,
    forgetting an id's points and the expiry sweep. History blocks are
    in ts_store_lmdb_history.c.

    Forecast records keep their format 1 layout: one record per id with
    each point's measure name inside. A forecast is a few days of points
    per id, replaced whole and expiring, so its bytes do not grow with
    time as history does; a record that needs no dictionary is decoded
    and expired on its own.

    Part of the LMDB backend (ts_store_lmdb.h). Argument checks are done
    by ts_store.c; this file trusts its inputs but not the bytes it reads
    back from the file. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_lmdb.h"

//  --- forecast records ----------------------------------------------------

#define S_FC_HEAD   (sizeof (int64_t) + sizeof (uint32_t))
#define S_FC_POINT  (sizeof (int64_t) + sizeof (double) + 1)

//  Compares points i and j of pts by time, then measure: < 0, 0 (the
//  same key) or > 0.
static int
s_point_cmp (const ts_points_t *pts, size_t i, size_t j)
{
    if (pts->time_ms [i] != pts->time_ms [j])
        return pts->time_ms [i] < pts->time_ms [j]? -1: 1;
    if (pts->measure [i] == pts->measure [j])
        return 0;
    return strcmp (ts_points_measure (pts, i), ts_points_measure (pts, j));
}

//  Orders indexes of points by time, then measure, then index.
static int
s_point_order (const void *a, const void *b, void *arg)
{
    const ts_points_t *pts = arg;
    size_t i = *(const size_t *) a, j = *(const size_t *) b;
    int cmp = s_point_cmp (pts, i, j);
    if (cmp)
        return cmp;
    return i < j? -1: i > j;
}

//  Replaces the forecast of id with pts inside txn: one record, points
//  sorted, the last of equal (time, measure) kept. Returns 0 or an LMDB
//  or errno code.
static int
s_replace_points (ts_store_lmdb_t *self, MDB_txn *txn, const char *id,
                  const ts_points_t *pts, int64_t expires_ms)
{
    MDB_val key = { strlen (id), (void *) id };
    int rc = 0;
    if (pts->n == 0) {
        rc = mdb_del (txn, self->forecasts, &key, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    else {
        if (pts->n > UINT32_MAX)
            return MDB_BAD_VALSIZE;
        size_t *order = malloc (pts->n * sizeof (size_t));
        if (!order)
            return ENOMEM;
        //  Upstreams send points in time order: sort only if they are
        //  not (strictly) in order already.
        bool sorted = true;
        for (size_t i = 0; i < pts->n; i++) {
            order [i] = i;
            if (i && sorted)
                sorted = s_point_cmp (pts, i - 1, i) < 0;
        }
        if (!sorted)
            qsort_r (order, pts->n, sizeof (size_t), s_point_order,
                     (void *) pts);
        //  Keep the last of each run of equal (time, measure).
        size_t kept = 0, size = S_FC_HEAD;
        for (size_t i = 0; i < pts->n; i++) {
            if (i + 1 < pts->n
            &&  s_point_cmp (pts, order [i], order [i + 1]) == 0)
                continue;
            size += S_FC_POINT + strlen (ts_points_measure (pts, order [i]));
            order [kept++] = order [i];
        }
        MDB_val val = { size, NULL };
        rc = mdb_put (txn, self->forecasts, &key, &val, MDB_RESERVE);
        if (rc == 0) {
            unsigned char *p = val.mv_data;
            uint32_t count = (uint32_t) kept;
            memcpy (p, &expires_ms, sizeof expires_ms);
            memcpy (p + sizeof expires_ms, &count, sizeof count);
            p += S_FC_HEAD;
            for (size_t i = 0; i < kept; i++) {
                size_t k = order [i];
                const char *name = ts_points_measure (pts, k);
                size_t m_len = strlen (name);
                memcpy (p, &pts->time_ms [k], sizeof (int64_t));
                memcpy (p + 8, &pts->value [k], sizeof (double));
                p [16] = (unsigned char) m_len;
                memcpy (p + S_FC_POINT, name, m_len);
                p += S_FC_POINT + m_len;
            }
        }
        free (order);
    }
    if (rc == 0)
        rc = ts_store_lmdb_stamp_touch (self, txn, id,
                                        pts->n? expires_ms: INT64_MAX);
    return rc;
}

//  Reads the forecast record val: sets *expires_ms and *count, and if out
//  is not NULL appends the points in [from_ms, to_ms] of measure (NULL:
//  any). Returns 0, TS_EBACKEND if the record is malformed, or what
//  ts_points_append returns.
static int
s_forecast_decode (const MDB_val *val, const char *measure, int64_t from_ms,
                   int64_t to_ms, ts_points_t *out, int64_t *expires_ms,
                   size_t *count)
{
    const unsigned char *p = val->mv_data;
    size_t left = val->mv_size;
    if (left < S_FC_HEAD)
        return TS_EBACKEND;
    uint32_t n;
    memcpy (expires_ms, p, sizeof *expires_ms);
    memcpy (&n, p + sizeof *expires_ms, sizeof n);
    *count = n;
    p += S_FC_HEAD;
    left -= S_FC_HEAD;
    size_t measure_len = measure? strlen (measure): 0;
    for (uint32_t i = 0; i < n; i++) {
        if (left < S_FC_POINT || left - S_FC_POINT < p [16] || p [16] == 0
        ||  p [16] > TS_NAME_MAX)
            return TS_EBACKEND;
        size_t m_len = p [16];
        const char *m = (const char *) p + S_FC_POINT;
        int64_t time_ms;
        memcpy (&time_ms, p, sizeof time_ms);
        if (out && time_ms > to_ms)
            break;
        if (out && time_ms >= from_ms
        &&  (!measure || (m_len == measure_len
                          && memcmp (m, measure, m_len) == 0))) {
            double value;
            memcpy (&value, p + 8, sizeof value);
            uint16_t index;
            int rc = ts_points_measure_index (out, m, m_len, &index);
            if (rc == 0)
                rc = ts_points_append_at (out, time_ms, index, value);
            if (rc)
                return rc;
        }
        p += S_FC_POINT + m_len;
        left -= S_FC_POINT + m_len;
    }
    return out || left == 0? 0: TS_EBACKEND;
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
    rc = s_replace_points (self, txn, id, pts, expires_ms);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    return ts_store_lmdb_commit (self, txn, err);
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
        if (rc == 0 && doc->forecast) {
            rc = s_replace_points (self, txn, doc->id, doc->forecast,
                                   expires_ms);
            if (rc)
                rc = ts_store_lmdb_fail (self, rc, err);
        }
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

//  Appends to out the forecast points of id in [from_ms, to_ms] of
//  measure (NULL: any) unexpired at now_ms, read in txn. Returns 0 or a
//  TS_E* code with err filled.
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
    int64_t expires_ms = INT64_MIN;
    size_t count;
    int ts_rc = 0;
    if (val.mv_size >= S_FC_HEAD)
        memcpy (&expires_ms, val.mv_data, sizeof expires_ms);
    else
        ts_rc = TS_EBACKEND;
    if (ts_rc == 0 && now_ms < expires_ms)
        ts_rc = s_forecast_decode (&val, measure, from_ms, to_ms, out,
                                   &expires_ms, &count);
    if (ts_rc == TS_EBACKEND)
        ts_errf (err, "lmdb: malformed forecast record of id '%s'", id);
    else
    if (ts_rc)
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
    MDB_val key, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    while (rc == 0) {
        int64_t expires_ms;
        size_t points = 0;
        if (s_forecast_decode (&val, NULL, 0, 0, NULL, &expires_ms,
                               &points) != 0)
            expires_ms = INT64_MIN;         //  malformed: reclaim it too
        if (expires_ms <= now_ms) {
            rc = mdb_cursor_del (cursor, 0);
            if (rc)
                break;
            count += points;
        }
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    if (rc != MDB_NOTFOUND)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    rc = ts_store_lmdb_commit (self, txn, err);
    if (rc == 0 && removed)
        *removed = count;
    return rc;
}

