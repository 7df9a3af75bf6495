/*  ts_store_lmdb_format - the store's format: which one a store is in,
    the numbers that formats 2 and 3 give ids and measure names, and the
    migration of a format 1 or 2 store, all inside the write transaction
    of open.

    The layout of both formats is described at the top of
    ts_store_lmdb.c. Here:

    - ts_store_lmdb_format_open reads meta "format" (a store without a
      meta table is format 1 if it has the "history" table, else new),
      refuses a format newer than TS_STORE_LMDB_FORMAT, and migrates an
      older one: the history of format 1 ("history", a key per point
      with names) and of format 2 ("points", a key per point with
      numbers) is rewritten into blocks, the old table is dropped and
      "format" is set, in the one transaction of open. A failure leaves
      the store as it was. A format 1 history table found in a later
      store (a format 1 binary run on it by mistake) is migrated the same
      way, with a warning. (A format 2 binary refuses a format 3 store.)
    - ts_store_lmdb_id_number / _measure_number look up (or give) the
      numbers that history keys hold instead of names. Numbers are given
      in order, never reused (an id removed and added again keeps its
      number) and counted in meta ("ids", "measures").

    Part of the LMDB backend (ts_store_lmdb.h); used by no other file. */

#include <errno.h>
#include <string.h>
#include <time.h>

#include "ts_log.h"
#include "ts_store_lmdb.h"

#define S_NAME_KEY_MAX  (1 + TS_NAME_MAX)       //  kind byte + name
#define S_ID_MAX        UINT32_MAX              //  ids numbered at most
#define S_MEASURE_MAX   (UINT32_C (1) << 16)    //  measures numbered
#define S_CHUNK         65536                   //  points per rewrite

//  Kinds of key in the names table.
#define S_KIND_ID          'i'      //  'i' id -> id number (4, BE)
#define S_KIND_MEASURE     'm'      //  'm' name -> measure number (2, BE)
#define S_KIND_MEASURE_NO  'M'      //  'M' number (2, BE) -> name

//  --- meta --------------------------------------------------------------

//  Reads uint32 meta value name into *value (0 if missing). Returns 0,
//  or an LMDB code (MDB_CORRUPTED for a value of the wrong size).
static int
s_meta_get (ts_store_lmdb_t *self, MDB_txn *txn, const char *name,
            uint32_t *value)
{
    *value = 0;
    MDB_val key = { strlen (name), (void *) name }, val;
    int rc = mdb_get (txn, self->meta, &key, &val);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0 && val.mv_size != sizeof *value)
        return MDB_CORRUPTED;
    if (rc == 0)
        memcpy (value, val.mv_data, sizeof *value);
    return rc;
}

static int
s_meta_put (ts_store_lmdb_t *self, MDB_txn *txn, const char *name,
            uint32_t value)
{
    MDB_val key = { strlen (name), (void *) name };
    MDB_val val = { sizeof value, &value };
    return mdb_put (txn, self->meta, &key, &val, 0);
}

//  --- numbers -----------------------------------------------------------

//  Looks up kind + name (len bytes) in the names table; with assign,
//  gives it the next number of counter (at most max) if it has none.
//  size: bytes of the number (2 or 4). Returns 0 and *no, TS_ENOTFOUND,
//  TS_ETOOBIG or TS_EBACKEND as ts_store_lmdb_id_number.
static int
s_number (ts_store_lmdb_t *self, MDB_txn *txn, char kind, const char *name,
          size_t len, bool assign, const char *counter, uint64_t max,
          size_t size, uint32_t *no, char *err)
{
    unsigned char kbuf [S_NAME_KEY_MAX];
    if (len > TS_NAME_MAX)
        len = TS_NAME_MAX;          //  checked by ts_store.c: never here
    kbuf [0] = (unsigned char) kind;
    memcpy (kbuf + 1, name, len);
    MDB_val key = { 1 + len, kbuf }, val;
    int rc = mdb_get (txn, self->names, &key, &val);
    if (rc == 0 && val.mv_size == size) {
        const unsigned char *p = val.mv_data;
        *no = size == 2? (uint32_t) (p [0] << 8 | p [1])
                       : (uint32_t) p [0] << 24 | (uint32_t) p [1] << 16
                         | (uint32_t) p [2] << 8 | p [3];
        return 0;
    }
    if (rc == 0) {
        ts_errf (err, "lmdb: malformed number of '%.*s'", (int) len, name);
        return TS_EBACKEND;
    }
    if (rc != MDB_NOTFOUND)
        return ts_store_lmdb_fail (self, rc, err);
    if (!assign)
        return TS_ENOTFOUND;

    uint32_t next;
    rc = s_meta_get (self, txn, counter, &next);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    if (next >= max) {
        ts_errf (err, "lmdb: the store has numbered %llu %s, the most it "
                 "can; '%.*s' cannot be stored", (unsigned long long) max,
                 counter, (int) len, name);
        return TS_ETOOBIG;
    }
    unsigned char nbuf [4];
    if (size == 2) {
        nbuf [0] = (unsigned char) (next >> 8);
        nbuf [1] = (unsigned char) next;
    }
    else {
        nbuf [0] = (unsigned char) (next >> 24);
        nbuf [1] = (unsigned char) (next >> 16);
        nbuf [2] = (unsigned char) (next >> 8);
        nbuf [3] = (unsigned char) next;
    }
    val.mv_size = size;
    val.mv_data = nbuf;
    rc = mdb_put (txn, self->names, &key, &val, 0);
    if (rc == 0 && kind == S_KIND_MEASURE) {
        //  And back, for reads: number -> name.
        unsigned char rbuf [3] = { S_KIND_MEASURE_NO, nbuf [0], nbuf [1] };
        MDB_val rkey = { sizeof rbuf, rbuf };
        MDB_val rval = { len, (void *) name };
        rc = mdb_put (txn, self->names, &rkey, &rval, 0);
    }
    if (rc == 0)
        rc = s_meta_put (self, txn, counter, next + 1);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    *no = next;
    return 0;
}

int
ts_store_lmdb_id_number (ts_store_lmdb_t *self, MDB_txn *txn,
                         const char *id, bool assign, uint32_t *no,
                         char *err)
{
    return s_number (self, txn, S_KIND_ID, id, strlen (id), assign, "ids",
                     S_ID_MAX, TS_STORE_LMDB_ID_LEN, no, err);
}

int
ts_store_lmdb_measure_number (ts_store_lmdb_t *self, MDB_txn *txn,
                              const char *name, size_t len, bool assign,
                              uint16_t *no, char *err)
{
    uint32_t number = 0;
    int rc = s_number (self, txn, S_KIND_MEASURE, name, len, assign,
                       "measures", S_MEASURE_MAX, TS_STORE_LMDB_MEASURE_LEN,
                       &number, err);
    *no = (uint16_t) number;
    return rc;
}

int
ts_store_lmdb_measure_name (ts_store_lmdb_t *self, MDB_txn *txn,
                            uint16_t no, const char **name, size_t *len,
                            char *err)
{
    unsigned char kbuf [3] = { S_KIND_MEASURE_NO, (unsigned char) (no >> 8),
                               (unsigned char) no };
    MDB_val key = { sizeof kbuf, kbuf }, val;
    int rc = mdb_get (txn, self->names, &key, &val);
    if (rc == 0 && (val.mv_size == 0 || val.mv_size > TS_NAME_MAX))
        rc = MDB_CORRUPTED;
    if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
        ts_errf (err, "lmdb: measure number %u has no name (store damaged)",
                 (unsigned) no);
        return TS_EBACKEND;
    }
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    *name = val.mv_data;
    *len = val.mv_size;
    return 0;
}

//  --- migrations -----------------------------------------------------------

//  The end of a migration from format: drops the old table and says how
//  many points took how long since t0. Returns 0 or TS_EBACKEND.
static int
s_migrated (ts_store_lmdb_t *self, MDB_txn *txn, MDB_dbi old,
            const char *path, int format, size_t total,
            const struct timespec *t0, char *err)
{
    int rc = mdb_drop (txn, old, 1);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    struct timespec t1;
    clock_gettime (CLOCK_MONOTONIC, &t1);
    ts_info ("lmdb: migrated %s from format %d to %d: %zu history points "
             "in %.1f s", path, format, TS_STORE_LMDB_FORMAT, total,
             (double) (t1.tv_sec - t0->tv_sec)
             + (t1.tv_nsec - t0->tv_nsec) / 1e9);
    return 0;
}

//  --- from format 1 ---------------------------------------------------------

//  Rewrites every record of the format 1 history table old ("id \0
//  time(8) measure" -> value) into the numbered table, one id's run of
//  points at a time, then drops old. Stamps are left alone: what a
//  reader reads does not change. Returns 0 or a TS_E* code with err.
static int
s_migrate_1 (ts_store_lmdb_t *self, MDB_txn *txn, MDB_dbi old,
             const char *path, char *err)
{
    struct timespec t0;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, old, &cursor);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    ts_points_t *pts = ts_points_new ();
    if (!pts) {
        mdb_cursor_close (cursor);
        ts_errf (err, "lmdb: out of memory migrating %s", path);
        return TS_ENOMEM;
    }
    char id [TS_NAME_MAX + 1] = "";
    size_t total = 0;
    int ts_rc = 0;
    MDB_val key, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    while (rc == 0 && ts_rc == 0) {
        const unsigned char *k = key.mv_data;
        const unsigned char *zero = memchr (k, 0, key.mv_size);
        size_t id_len = zero? (size_t) (zero - k): 0;
        size_t m_len = zero? key.mv_size - id_len - 1 - TS_LMDB_TIME_LEN: 0;
        if (!zero || id_len == 0 || id_len > TS_NAME_MAX
        ||  key.mv_size < id_len + 1 + TS_LMDB_TIME_LEN + 1
        ||  m_len > TS_NAME_MAX || val.mv_size != sizeof (double)) {
            ts_errf (err, "store.lmdb.path: %s holds a malformed history "
                     "record (format 1); it was not migrated", path);
            ts_rc = TS_EBACKEND;
            break;
        }
        //  A new id, or a full chunk: write what we hold.
        bool same = strlen (id) == id_len && memcmp (id, k, id_len) == 0;
        if (pts->n && (!same || pts->n >= S_CHUNK)) {
            ts_rc = ts_store_lmdb_history_write (self, txn, id, pts, err);
            total += pts->n;
            ts_points_clear (pts);
        }
        if (!same) {
            memcpy (id, k, id_len);
            id [id_len] = 0;
        }
        int64_t time_ms = ts_lmdb_time_get (k + id_len + 1);
        double value;
        memcpy (&value, val.mv_data, sizeof value);
        uint16_t index;
        if (ts_rc == 0)
            ts_rc = ts_points_measure_index (pts, (const char *) k + id_len
                                             + 1 + TS_LMDB_TIME_LEN, m_len,
                                             &index);
        if (ts_rc == 0)
            ts_rc = ts_points_append_at (pts, time_ms, index, value);
        if (ts_rc == 0)
            rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    if (ts_rc == 0 && rc != MDB_NOTFOUND)
        ts_rc = ts_store_lmdb_fail (self, rc, err);
    if (ts_rc == 0 && pts->n) {
        ts_rc = ts_store_lmdb_history_write (self, txn, id, pts, err);
        total += pts->n;
    }
    ts_points_destroy (&pts);
    if (ts_rc) {
        if (err && !*err)
            ts_errf (err, "lmdb: %s migrating %s", ts_strerror (ts_rc), path);
        return ts_rc;
    }
    return s_migrated (self, txn, old, path, 1, total, &t0, err);
}

//  --- from format 2 ---------------------------------------------------------

//  Rewrites every record of the format 2 history table old ("id_no (4)
//  time (8) measure_no (2)" -> value) into blocks, one id's points at a
//  time (they come sorted as a block wants them), then drops old.
//  Returns 0 or a TS_E* code with err filled.
static int
s_migrate_2 (ts_store_lmdb_t *self, MDB_txn *txn, MDB_dbi old,
             const char *path, char *err)
{
    struct timespec t0;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, old, &cursor);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    ts_store_lmdb_run_t run = { 0 };
    uint32_t id_no = 0;
    size_t total = 0;
    int ts_rc = 0;
    MDB_val key, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    while (rc == 0 && ts_rc == 0) {
        const unsigned char *k = key.mv_data;
        if (key.mv_size != TS_STORE_LMDB_KEY_LEN
        ||  val.mv_size != sizeof (double)) {
            ts_errf (err, "store.lmdb.path: %s holds a malformed history "
                     "record (format 2); it was not migrated", path);
            ts_rc = TS_EBACKEND;
            break;
        }
        uint32_t no = (uint32_t) k [0] << 24 | (uint32_t) k [1] << 16
                    | (uint32_t) k [2] << 8 | k [3];
        if (run.n && (no != id_no || run.n >= S_CHUNK)) {
            ts_rc = ts_store_lmdb_history_merge (self, txn, id_no, &run, err);
            total += run.n;
            run.n = 0;
        }
        id_no = no;
        if (ts_rc == 0)
            ts_rc = ts_store_lmdb_run_reserve (&run, run.n + 1);
        if (ts_rc)
            break;
        run.time_ms [run.n] = ts_lmdb_time_get (k + TS_STORE_LMDB_ID_LEN);
        run.measure [run.n] = (uint16_t) (k [TS_STORE_LMDB_KEY_LEN - 2] << 8
                                        | k [TS_STORE_LMDB_KEY_LEN - 1]);
        memcpy (&run.value [run.n], val.mv_data, sizeof (double));
        run.n++;
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    if (ts_rc == 0 && rc != MDB_NOTFOUND)
        ts_rc = ts_store_lmdb_fail (self, rc, err);
    if (ts_rc == 0 && run.n) {
        ts_rc = ts_store_lmdb_history_merge (self, txn, id_no, &run, err);
        total += run.n;
    }
    ts_store_lmdb_run_fini (&run);
    if (ts_rc) {
        if (err && !*err)
            ts_errf (err, "lmdb: %s migrating %s", ts_strerror (ts_rc), path);
        return ts_rc;
    }
    return s_migrated (self, txn, old, path, 2, total, &t0, err);
}

//  --- forecast records of formats 1 and 2 ---------------------------------

//  Their layout: expires_ms (8), count (4), then count points: time (8),
//  value (8), measure length (1), measure.
#define S_FC2_HEAD   (sizeof (int64_t) + sizeof (uint32_t))
#define S_FC2_POINT  (sizeof (int64_t) + sizeof (double) + 1)

//  Reads the format 2 forecast record val into *expires_ms and out.
//  Returns 0, TS_EBACKEND if the record is malformed, or what
//  ts_points_append_at returns.
static int
s_forecast_2_read (const MDB_val *val, int64_t *expires_ms, ts_points_t *out)
{
    const unsigned char *p = val->mv_data;
    size_t left = val->mv_size;
    if (left < S_FC2_HEAD)
        return TS_EBACKEND;
    uint32_t n;
    memcpy (expires_ms, p, sizeof *expires_ms);
    memcpy (&n, p + sizeof *expires_ms, sizeof n);
    p += S_FC2_HEAD;
    left -= S_FC2_HEAD;
    for (uint32_t i = 0; i < n; i++) {
        if (left < S_FC2_POINT || left - S_FC2_POINT < p [16] || p [16] == 0
        ||  p [16] > TS_NAME_MAX)
            return TS_EBACKEND;
        size_t m_len = p [16];
        int64_t time_ms;
        double value;
        memcpy (&time_ms, p, sizeof time_ms);
        memcpy (&value, p + 8, sizeof value);
        uint16_t index;
        int rc = ts_points_measure_index (out, (const char *) p + S_FC2_POINT,
                                          m_len, &index);
        if (rc == 0)
            rc = ts_points_append_at (out, time_ms, index, value);
        if (rc)
            return rc;
        p += S_FC2_POINT + m_len;
        left -= S_FC2_POINT + m_len;
    }
    return left == 0? 0: TS_EBACKEND;
}

//  Rewrites every forecast record of a format 1 or 2 store in format 3's
//  layout (measure numbers, encoded points); with mixed (a format 3
//  store a format 1 binary wrote to), those that do not read in format
//  3's already. A malformed record (or one under a key no id can have)
//  is dropped with a warning: the id's next fetch writes it again.
//  Returns 0 or a TS_E* code with err filled.
static int
s_migrate_forecasts (ts_store_lmdb_t *self, MDB_txn *txn, bool mixed,
                     const char *path, char *err)
{
    //  Keys first: the records are rewritten under the walk.
    ts_strlist_t *ids = ts_strlist_new ();
    MDB_cursor *cursor;
    int rc = ids? mdb_cursor_open (txn, self->forecasts, &cursor): ENOMEM;
    if (rc) {
        ts_strlist_destroy (&ids);
        return ts_store_lmdb_fail (self, rc, err);
    }
    size_t dropped = 0;
    ts_store_lmdb_run_t run = { 0 };
    MDB_val key, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    while (rc == 0) {
        char id [TS_NAME_MAX + 1];
        if (key.mv_size == 0 || key.mv_size > TS_NAME_MAX
        ||  memchr (key.mv_data, 0, key.mv_size)) {
            rc = mdb_cursor_del (cursor, 0);
            dropped++;
        }
        else
        if (!mixed || ts_store_lmdb_forecast_check (&val, &run) != 0) {
            memcpy (id, key.mv_data, key.mv_size);
            id [key.mv_size] = '\0';
            rc = ts_strlist_append (ids, id)? ENOMEM: 0;
        }
        if (rc == 0)
            rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    ts_store_lmdb_run_fini (&run);
    mdb_cursor_close (cursor);
    if (rc != MDB_NOTFOUND) {
        ts_strlist_destroy (&ids);
        return ts_store_lmdb_fail (self, rc, err);
    }
    ts_points_t *pts = ts_points_new ();
    int ts_rc = pts? 0: TS_ENOMEM;
    for (size_t i = 0; i < ids->n && ts_rc == 0; i++) {
        const char *id = ids->items [i];
        key = (MDB_val) { strlen (id), (void *) id };
        rc = mdb_get (txn, self->forecasts, &key, &val);
        if (rc) {
            ts_rc = ts_store_lmdb_fail (self, rc, err);
            break;
        }
        int64_t expires_ms = 0;
        ts_points_clear (pts);
        ts_rc = s_forecast_2_read (&val, &expires_ms, pts);
        if (ts_rc == TS_EBACKEND) {
            ts_rc = 0;
            dropped++;
            ts_points_clear (pts);      //  an empty forecast: deleted
        }
        if (ts_rc == 0)
            ts_rc = ts_store_lmdb_forecast_put (self, txn, id, pts,
                                                expires_ms, err);
    }
    if (ts_rc == TS_ENOMEM && !(err && *err))
        ts_errf (err, "lmdb: out of memory migrating %s", path);
    if (ts_rc == 0 && dropped)
        ts_warn ("lmdb: the migration of %s dropped malformed forecast "
                 "records: %zu (each comes back with its id's next fetch)",
                 path, dropped);
    ts_points_destroy (&pts);
    ts_strlist_destroy (&ids);
    return ts_rc;
}

//  --- open ----------------------------------------------------------------

//  Finds the format of the store: meta "format", or where there is none
//  1 if the store has the format 1 history table, else 0 (a new store).
//  *has_old: whether that table is there (opened into *old): in a format
//  1 store, or in a format 2 store that a format 1 binary wrote to after
//  all (its points are migrated too). Returns 0 or an LMDB code.
static int
s_format_find (ts_store_lmdb_t *self, MDB_txn *txn, uint32_t *format,
               MDB_dbi *old, bool *has_old)
{
    *format = 0;
    int rc = mdb_dbi_open (txn, "history", 0, old);
    *has_old = rc == 0;
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &self->meta);
    if (rc == 0)
        rc = s_meta_get (self, txn, "format", format);
    if (rc == 0 && *format == 0 && *has_old)
        *format = 1;
    return rc;
}

int
ts_store_lmdb_format_open (ts_store_lmdb_t *self, MDB_txn *txn,
                           const char *path, char *err)
{
    uint32_t format = 0;
    MDB_dbi old;
    bool has_old;
    int rc = s_format_find (self, txn, &format, &old, &has_old);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    if (format > TS_STORE_LMDB_FORMAT) {
        ts_errf (err, "store.lmdb.path: %s holds a store of format %u; this "
                 "tscache reads format %d (and migrates formats 1 and 2): "
                 "run a tscache that knows format %u", path, (unsigned) format,
                 TS_STORE_LMDB_FORMAT, (unsigned) format);
        return TS_EBACKEND;
    }
    rc = mdb_dbi_open (txn, "names", MDB_CREATE, &self->names);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "ids", MDB_CREATE, &self->ids);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "blocks", MDB_CREATE, &self->blocks);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "forecasts", MDB_CREATE, &self->forecasts);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "stamps", MDB_CREATE, &self->stamps);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "status", MDB_CREATE, &self->status);
    if (rc == 0) {
        //  The per-point forecast table of a layout before format 1's
        //  records: forecasts are fetched again.
        MDB_dbi fc;
        rc = mdb_dbi_open (txn, "forecast", 0, &fc);
        if (rc == 0) {
            rc = mdb_drop (txn, fc, 1);
            if (rc == 0)
                ts_info ("lmdb: dropped the forecast table of the earlier "
                         "layout in %s; forecasts return with the next "
                         "fetch of each id", path);
        }
        else
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    //  The format 2 history (a key per point, numbered) first, then
    //  format 1's: where both hold a point, the format 1 binary that
    //  wrote after the migration to 2 wrote it last, so its value wins.
    MDB_dbi points;
    rc = mdb_dbi_open (txn, "points", 0, &points);
    if (rc == 0)
        rc = s_migrate_2 (self, txn, points, path, err);
    else
    if (rc == MDB_NOTFOUND)
        rc = 0;
    else
        return ts_store_lmdb_fail (self, rc, err);
    if (rc)
        return rc;
    if (has_old) {
        if (format > 1)
            ts_warn ("lmdb: a binary of format 1 wrote history to %s after "
                     "its migration; migrating those points too (stop "
                     "every process of the host before an upgrade)", path);
        rc = s_migrate_1 (self, txn, old, path, err);
        if (rc)
            return rc;
    }
    //  Forecast records of the old layout: all of them in a format 1 or
    //  2 store; in a format 3 store those a format 1 binary wrote.
    if ((format > 0 && format < 3) || has_old) {
        rc = s_migrate_forecasts (self, txn, format == 3, path, err);
        if (rc)
            return rc;
    }
    if (format != TS_STORE_LMDB_FORMAT) {
        rc = s_meta_put (self, txn, "format", TS_STORE_LMDB_FORMAT);
        if (rc)
            return ts_store_lmdb_fail (self, rc, err);
    }
    return 0;
}
