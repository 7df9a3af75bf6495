/*  ts_store_lmdb_points - history and forecast records of the LMDB
    backend: puts, range reads, one query's read, documents written
    together, forgetting an id's points and the expiry sweep.

    History keys are numbered (format 2, see ts_store_lmdb.c): id
    number (4) time (8) measure number (2), so that one cursor walk from
    "id_no time(from)" returns one id's points ascending by time. Measure
    numbers are given in the order names first arrive, not in name order,
    so a range read sorts each run of points of one time by measure name
    (usually already in order: one comparison per point), as the contract
    promises "ascending by time, then measure".

    Forecast records keep their format 1 layout: one record per id with
    each point's measure name inside. A forecast is a few days of points
    per id, replaced whole and expiring, so its bytes do not grow with
    time as history does; a record that needs no dictionary is decoded
    and expired on its own.

    Part of the LMDB backend (ts_store_lmdb.h). Argument checks are done
    by ts_store.c; this file trusts its inputs but not the bytes it reads
    back from the file. */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_lmdb.h"

#define S_KEY_LEN  TS_STORE_LMDB_KEY_LEN

void
ts_store_lmdb_key_make (unsigned char *buf, uint32_t id_no, int64_t time_ms,
            uint16_t measure_no)
{
    buf [0] = (unsigned char) (id_no >> 24);
    buf [1] = (unsigned char) (id_no >> 16);
    buf [2] = (unsigned char) (id_no >> 8);
    buf [3] = (unsigned char) id_no;
    ts_lmdb_time_put (buf + TS_STORE_LMDB_ID_LEN, time_ms);
    buf [S_KEY_LEN - 2] = (unsigned char) (measure_no >> 8);
    buf [S_KEY_LEN - 1] = (unsigned char) measure_no;
}

//  --- history -------------------------------------------------------------

int
ts_store_lmdb_history_write (ts_store_lmdb_t *self, MDB_txn *txn,
                             const char *id, const ts_points_t *pts,
                             char *err)
{
    if (pts->n == 0)
        return 0;
    uint32_t id_no;
    int rc = ts_store_lmdb_id_number (self, txn, id, true, &id_no, err);
    if (rc)
        return rc;
    //  The number of each measure of the list, looked up once, on first
    //  use (a list's table may hold names none of its points use).
    uint32_t small [16];
    uint32_t *numbers = pts->n_measures <= 16? small
                      : malloc (pts->n_measures * sizeof *numbers);
    if (!numbers) {
        ts_errf (err, "lmdb: out of memory writing id '%s'", id);
        return TS_ENOMEM;
    }
    for (size_t j = 0; j < pts->n_measures; j++)
        numbers [j] = UINT32_MAX;
    unsigned char kbuf [S_KEY_LEN];
    MDB_val val = { sizeof (double), NULL };
    for (size_t i = 0; i < pts->n && rc == 0; i++) {
        uint16_t m = pts->measure [i];
        if (numbers [m] == UINT32_MAX) {
            uint16_t no;
            const char *name = pts->measures [m];
            rc = ts_store_lmdb_measure_number (self, txn, name, strlen (name),
                                               true, &no, err);
            if (rc)
                break;
            numbers [m] = no;
        }
        ts_store_lmdb_key_make (kbuf, id_no, pts->time_ms [i], (uint16_t) numbers [m]);
        MDB_val key = { S_KEY_LEN, kbuf };
        val.mv_data = (void *) &pts->value [i];
        rc = mdb_put (txn, self->points, &key, &val, 0);
        if (rc)
            rc = ts_store_lmdb_fail (self, rc, err);
    }
    if (numbers != small)
        free (numbers);
    return rc;
}

int
ts_store_lmdb_history_put (void *state, const char *id,
                           const ts_points_t *pts, char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    rc = ts_store_lmdb_history_write (self, txn, id, pts, err);
    if (rc) {
        ts_store_lmdb_abort (self, txn);
        return rc;
    }
    rc = ts_store_lmdb_stamp_touch (self, txn, id, TS_STORE_LMDB_KEEP_EXPIRY);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    return ts_store_lmdb_commit (self, txn, err);
}

//  Orders measure indexes of a list by name.
static int
s_name_order (const void *a, const void *b, void *arg)
{
    char **measures = arg;
    return strcmp (measures [*(const uint16_t *) a],
                   measures [*(const uint16_t *) b]);
}

//  Sorts each run of equal times among points start.. of out by measure
//  name (insertion sort by rank: runs are short, and most are in order
//  already). Returns 0 or TS_ENOMEM.
static int
s_sort_runs (ts_points_t *out, size_t start)
{
    if (out->n_measures < 2)
        return 0;
    bool runs = false;
    for (size_t i = start + 1; i < out->n && !runs; i++)
        runs = out->time_ms [i] == out->time_ms [i - 1];
    if (!runs)
        return 0;
    uint16_t *order = malloc (out->n_measures * sizeof *order);
    uint16_t *rank = malloc (out->n_measures * sizeof *rank);
    if (!order || !rank) {
        free (order);
        free (rank);
        return TS_ENOMEM;
    }
    for (size_t j = 0; j < out->n_measures; j++)
        order [j] = (uint16_t) j;
    qsort_r (order, out->n_measures, sizeof *order, s_name_order,
             out->measures);
    for (size_t j = 0; j < out->n_measures; j++)
        rank [order [j]] = (uint16_t) j;
    for (size_t i = start + 1; i < out->n; i++) {
        if (out->time_ms [i] != out->time_ms [i - 1]
        ||  rank [out->measure [i]] > rank [out->measure [i - 1]])
            continue;
        uint16_t m = out->measure [i];
        double value = out->value [i];
        size_t k = i;
        while (k > start && out->time_ms [k - 1] == out->time_ms [i]
           &&  rank [out->measure [k - 1]] > rank [m]) {
            out->measure [k] = out->measure [k - 1];
            out->value [k] = out->value [k - 1];
            k--;
        }
        out->measure [k] = m;
        out->value [k] = value;
    }
    free (order);
    free (rank);
    return 0;
}

//  Maps measure numbers to indexes of an output list (index + 1; 0: not
//  looked up yet), grown on demand.
typedef struct {
    uint32_t *index;
    size_t    size;
} s_measure_map_t;

//  Appends to out the history points of id in [from_ms, to_ms] (only
//  those of measure if not NULL), at most max: one cursor walk in txn
//  from "id_no time(from)". Returns 0 or a TS_E* code with err filled.
static int
s_history_read (ts_store_lmdb_t *self, MDB_txn *txn, const char *id,
                const char *measure, int64_t from_ms, int64_t to_ms,
                size_t max, ts_points_t *out, char *err)
{
    uint32_t id_no;
    int rc = ts_store_lmdb_id_number (self, txn, id, false, &id_no, err);
    uint16_t measure_no = 0;
    if (rc == 0 && measure)
        rc = ts_store_lmdb_measure_number (self, txn, measure,
                                           strlen (measure), false,
                                           &measure_no, err);
    if (rc)
        return rc == TS_ENOTFOUND? 0: rc;       //  nothing stored
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->points, &cursor);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);

    unsigned char start [S_KEY_LEN];
    ts_store_lmdb_key_make (start, id_no, from_ms, 0);
    s_measure_map_t map = { NULL, 0 };
    size_t first = out->n, appended = 0;
    bool over = false;              //  the range holds more than max
    int ts_rc = 0;
    MDB_val key = { S_KEY_LEN, start }, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == S_KEY_LEN
       &&  memcmp (key.mv_data, start, TS_STORE_LMDB_ID_LEN) == 0) {
        const unsigned char *k = key.mv_data;
        if (val.mv_size != sizeof (double)) {
            ts_errf (err, "lmdb: malformed history record of id '%s'", id);
            ts_rc = TS_EBACKEND;
            break;
        }
        int64_t time_ms = ts_lmdb_time_get (k + TS_STORE_LMDB_ID_LEN);
        if (time_ms > to_ms)
            break;
        uint16_t no = (uint16_t) (k [S_KEY_LEN - 2] << 8 | k [S_KEY_LEN - 1]);
        bool wanted = !measure || no == measure_no;
        if (wanted && appended++ == max) {
            over = true;
            break;
        }
        if (wanted && no >= map.size) {
            size_t size = map.size? map.size: 16;
            while (size <= no)
                size *= 2;
            uint32_t *grown = realloc (map.index, size * sizeof *grown);
            if (!grown) {
                ts_rc = TS_ENOMEM;
                ts_errf (err, "lmdb: out of memory reading id '%s'", id);
                break;
            }
            memset (grown + map.size, 0, (size - map.size) * sizeof *grown);
            map.index = grown;
            map.size = size;
        }
        if (wanted && map.index [no] == 0) {
            const char *name;
            size_t len;
            uint16_t index;
            ts_rc = ts_store_lmdb_measure_name (self, txn, no, &name, &len,
                                                err);
            if (ts_rc)
                break;
            ts_rc = ts_points_measure_index (out, name, len, &index);
            if (ts_rc) {
                ts_errf (err, "lmdb: %s reading id '%s'",
                         ts_strerror (ts_rc), id);
                break;
            }
            map.index [no] = (uint32_t) index + 1;
        }
        if (wanted) {
            double value;
            memcpy (&value, val.mv_data, sizeof value);
            ts_rc = ts_points_append_at (out, time_ms,
                                         (uint16_t) (map.index [no] - 1),
                                         value);
            if (ts_rc) {
                ts_errf (err, "lmdb: %s reading id '%s'",
                         ts_strerror (ts_rc), id);
                break;
            }
        }
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    free (map.index);
    if (ts_rc)
        return ts_rc;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return ts_store_lmdb_fail (self, rc, err);
    if (!measure && s_sort_runs (out, first) != 0) {
        ts_errf (err, "lmdb: out of memory reading id '%s'", id);
        return TS_ENOMEM;
    }
    if (over) {
        ts_errf (err, "history of id '%s' holds more than %zu points "
                 "in the range", id, max);
        return TS_ETOOBIG;
    }
    return 0;
}

int
ts_store_lmdb_history_range (void *state, const char *id,
                             const char *measure, int64_t from_ms,
                             int64_t to_ms, size_t max, ts_points_t *out,
                             char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    rc = s_history_read (self, txn, id, measure, from_ms, to_ms, max, out,
                         err);
    ts_store_lmdb_abort (self, txn);
    return rc;
}

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
        if (rc == MDB_NOTFOUND)
            rc = 0;
        if (rc)
            rc = ts_store_lmdb_fail (self, rc, err);
        else
        if (!ans->exists)
            roles = 0;                  //  not registered: no points
    }
    if (rc == 0 && (roles & TS_STORE_HISTORY) && ans->history)
        rc = s_history_read (self, txn, q->id, q->measure, q->from_ms,
                             q->to_ms, q->max, ans->history, err);
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
        uint32_t id_no;
        rc = ts_store_lmdb_id_number (self, txn, id, false, &id_no, err);
        MDB_cursor *cursor = NULL;
        if (rc == 0)
            rc = mdb_cursor_open (txn, self->points, &cursor);
        else
        if (rc == TS_ENOTFOUND)
            rc = MDB_NOTFOUND;          //  no history was ever written
        else
            return rc;
        unsigned char prefix [S_KEY_LEN];
        if (rc == 0) {
            ts_store_lmdb_key_make (prefix, id_no, INT64_MIN, 0);
            MDB_val key = { S_KEY_LEN, prefix }, val;
            rc = mdb_cursor_get (cursor, &key, &val, MDB_SET_RANGE);
            while (rc == 0 && key.mv_size == S_KEY_LEN
               &&  memcmp (key.mv_data, prefix, TS_STORE_LMDB_ID_LEN) == 0) {
                rc = mdb_cursor_del (cursor, 0);
                if (rc)
                    break;
                any = true;
                //  After a delete the cursor already sits on the next key,
                //  and MDB_NEXT returns that key rather than skipping it.
                rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
            }
        }
        if (cursor)
            mdb_cursor_close (cursor);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (rc == 0 && (roles & TS_STORE_FORECAST)) {
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

