/*  ts_store_lmdb_scan - the LMDB backend's history_scan: one cursor walk
    over the keys "id_no time measure_no" of a range, in one read
    transaction, handing each point to the visitor as it is read; no
    point list is built. Forward from "id_no time(from)"; reverse from
    the last key at or before "id_no time(to) ffff". Measure names are
    looked up once per measure number and kept for the walk. See
    ts_store_lmdb.h and ts_store.h (ts_store_history_scan). */

#include "ts_store_lmdb.h"

#include <stdlib.h>
#include <string.h>

#define S_KEY_LEN  TS_STORE_LMDB_KEY_LEN

//  Names of measure numbers met by the walk (NUL-terminated copies).
typedef struct {
    char   **name;
    size_t   size;
} s_names_t;

static void
s_names_fini (s_names_t *self)
{
    for (size_t i = 0; i < self->size; i++)
        free (self->name [i]);
    free (self->name);
}

//  The name of measure number no (looked up in txn the first time).
static int
s_name (ts_store_lmdb_t *lmdb, MDB_txn *txn, s_names_t *self, uint16_t no,
        const char **out, char *err)
{
    if (no >= self->size) {
        size_t size = self->size? self->size: 16;
        while (size <= no)
            size *= 2;
        char **grown = realloc (self->name, size * sizeof *grown);
        if (!grown)
            goto nomem;
        memset (grown + self->size, 0, (size - self->size) * sizeof *grown);
        self->name = grown;
        self->size = size;
    }
    if (!self->name [no]) {
        const char *name;
        size_t len;
        int rc = ts_store_lmdb_measure_name (lmdb, txn, no, &name, &len, err);
        if (rc)
            return rc;
        self->name [no] = malloc (len + 1);
        if (!self->name [no])
            goto nomem;
        memcpy (self->name [no], name, len);
        self->name [no][len] = '\0';
    }
    *out = self->name [no];
    return 0;
nomem:
    ts_errf (err, "lmdb: out of memory scanning history");
    return TS_ENOMEM;
}

//  Positions cursor on the first key of the walk: forward, the first at
//  or after start; reverse, the last at or before it.
static int
s_seek (MDB_cursor *cursor, MDB_val *key, MDB_val *val, bool reverse)
{
    if (!reverse)
        return mdb_cursor_get (cursor, key, val, MDB_SET_RANGE);
    unsigned char want [S_KEY_LEN];
    memcpy (want, key->mv_data, S_KEY_LEN);
    int rc = mdb_cursor_get (cursor, key, val, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get (cursor, key, val, MDB_LAST);
    if (rc == 0 && (key->mv_size != S_KEY_LEN
                ||  memcmp (key->mv_data, want, S_KEY_LEN) != 0))
        rc = mdb_cursor_get (cursor, key, val, MDB_PREV);
    return rc;
}

static int
s_walk (ts_store_lmdb_t *self, MDB_txn *txn, const char *id,
        const char *measure, int64_t from_ms, int64_t to_ms, bool reverse,
        ts_store_scan_fn *fn, void *arg, char *err)
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
    ts_store_lmdb_key_make (start, id_no, reverse? to_ms: from_ms, reverse? 0xffff: 0);
    s_names_t names = { NULL, 0 };
    int ts_rc = 0;
    MDB_val key = { S_KEY_LEN, start }, val;
    rc = s_seek (cursor, &key, &val, reverse);
    while (rc == 0 && ts_rc == 0 && key.mv_size == S_KEY_LEN
       &&  memcmp (key.mv_data, start, TS_STORE_LMDB_ID_LEN) == 0) {
        const unsigned char *k = key.mv_data;
        int64_t time_ms = ts_lmdb_time_get (k + TS_STORE_LMDB_ID_LEN);
        if (reverse? time_ms < from_ms: time_ms > to_ms)
            break;
        if (val.mv_size != sizeof (double)) {
            ts_errf (err, "lmdb: malformed history record of id '%s'", id);
            ts_rc = TS_EBACKEND;
            break;
        }
        uint16_t no = (uint16_t) (k [S_KEY_LEN - 2] << 8 | k [S_KEY_LEN - 1]);
        const char *name;
        if (!measure || no == measure_no) {
            double value;
            memcpy (&value, val.mv_data, sizeof value);
            ts_rc = s_name (self, txn, &names, no, &name, err);
            if (ts_rc == 0)
                ts_rc = fn (arg, time_ms, name, value);
        }
        rc = mdb_cursor_get (cursor, &key, &val, reverse? MDB_PREV: MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    s_names_fini (&names);
    if (ts_rc)
        return ts_rc == 1? 0: ts_rc;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return ts_store_lmdb_fail (self, rc, err);
    return 0;
}

int
ts_store_lmdb_history_scan (void *state, const char *id, const char *measure,
                            int64_t from_ms, int64_t to_ms, bool reverse,
                            ts_store_scan_fn *fn, void *arg, char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    rc = s_walk (self, txn, id, measure, from_ms, to_ms, reverse, fn, arg,
                 err);
    ts_store_lmdb_abort (self, txn);
    return rc;
}
