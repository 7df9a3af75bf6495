/*  ts_store_lmdb_scan - the LMDB backend's history_scan: one cursor walk
    over the history blocks of a range, in one read transaction, handing
    each point to the visitor as its block is decoded; no point list of
    the range is built. Forward from the block that holds from; reverse
    from the block that holds to, each block's points last first.
    Measure names are looked up once per measure number and kept for the
    walk. See ts_store_lmdb.h and ts_store.h (ts_store_history_scan). */

#include "ts_store_lmdb.h"

#include <stdlib.h>
#include <string.h>

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

static int
s_walk (ts_store_lmdb_t *self, MDB_txn *txn, const char *id,
        const char *measure, int64_t from_ms, int64_t to_ms, bool reverse,
        ts_store_scan_fn *fn, void *arg, char *err)
{
    uint32_t id_no;
    uint16_t measure_no;
    MDB_cursor *cursor;
    int rc = ts_store_lmdb_history_open (self, txn, id, measure, &id_no,
                                         &measure_no, &cursor, err);
    if (rc)
        return rc == TS_ENOTFOUND? 0: rc;       //  nothing stored
    s_names_t names = { NULL, 0 };
    ts_store_lmdb_run_t block = { 0 };
    int ts_rc = 0;
    bool done = false;
    MDB_val key, val;
    bool holds;
    rc = ts_store_lmdb_block_seek (cursor, id_no, reverse? to_ms: from_ms,
                                   reverse? UINT16_MAX: 0, &key, &val,
                                   &holds);
    if (rc == 0 && reverse && !holds)
        rc = MDB_NOTFOUND;          //  every block starts after to
    while (rc == 0 && ts_rc == 0 && !done
       &&  ts_store_lmdb_block_is (&key, id_no)
       &&  (reverse || ts_store_lmdb_block_time (&key) <= to_ms)) {
        ts_rc = ts_store_lmdb_block_decode (&key, &val, &block);
        if (ts_rc == TS_EBACKEND)
            ts_errf (err, "lmdb: malformed history block of id '%s'", id);
        for (size_t k = 0; k < block.n && ts_rc == 0; k++) {
            size_t i = reverse? block.n - 1 - k: k;
            int64_t time_ms = block.time_ms [i];
            if (reverse? time_ms > to_ms: time_ms < from_ms)
                continue;
            if (reverse? time_ms < from_ms: time_ms > to_ms) {
                done = true;
                break;
            }
            uint16_t no = block.measure [i];
            const char *name;
            if (!measure || no == measure_no) {
                ts_rc = s_name (self, txn, &names, no, &name, err);
                if (ts_rc == 0)
                    ts_rc = fn (arg, time_ms, name, block.value [i]);
            }
        }
        if (ts_rc == 0 && !done)
            rc = mdb_cursor_get (cursor, &key, &val,
                                 reverse? MDB_PREV: MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    s_names_fini (&names);
    ts_store_lmdb_run_fini (&block);
    if (ts_rc == TS_ENOMEM)
        ts_errf (err, "lmdb: out of memory scanning history");
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
