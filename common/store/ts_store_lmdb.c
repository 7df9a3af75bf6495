/*  ts_store_lmdb - the embedded LMDB storage backend: environment, open,
    registry, change stamps and the ops table. History blocks are in
    ts_store_lmdb_history.c (and their scan in ts_store_lmdb_scan.c),
    forecast records and what spans roles in ts_store_lmdb_points.c, the
    format check, the numbers and the migrations in
    ts_store_lmdb_format.c (shared declarations in ts_store_lmdb.h).

    One LMDB environment directory (store.lmdb.path) that every tscache
    process of a host opens at once: LMDB's lock file serialises writers
    across processes and readers never block. Format 3 has seven named
    databases:

        meta      "format"                   -> 3 (uint32)
                  "ids", "measures"          -> numbers given (uint32)
        names     'i' id                     -> id number (4 bytes, BE)
                  'm' measure                -> measure number (2, BE)
                  'M' measure number (2, BE) -> measure
        ids       id                         -> created_ms (int64), then
                                                the source's name (none:
                                                the first source)
        blocks    id number (4) time (8)     -> consecutive points of the
                  measure number (2) of the     id from that one on, in
                  block's first point           at most 4,080 bytes (the
                                                codec and the merge:
                                                ts_store_lmdb_history.c)
        forecasts id                         -> expires_ms (int64),
                                                count (uint32), then the
                                                points as one encoded run
                                                (ts_store_lmdb_run.c)
        stamps    id                         -> version (uint64),
                                                expires_ms (int64)
        status    id                         -> fetch status (the layout:
                                                ts_store_lmdb_status.c;
                                                an id without one was
                                                never fetched)

    History keys hold no names: ids and measure names get numbers on
    their first write (4 billion ids, 65,536 measure names per store;
    past that a write is TS_ETOOBIG and says so), kept in names and never
    reused. time(8) is the epoch-ms time as 8 big-endian bytes with the
    sign bit flipped (ts_lmdb_time_put) so byte order is time order,
    negative times included: a cursor walk from the block that holds
    "from" returns one id's points ascending by time, then measure
    number; the reader sorts points of equal time by name. A point of a
    short decimal every five minutes takes about 6 bytes; format 2 (a key
    per point) took about 32.

    A forecast is replaced whole on every fetch and expires whole, so it
    is one record per id (the role of one DynamoDB item): a replace is one
    put, a range read decodes one value. Its points are kept sorted by
    time, then measure, one per (time, measure) - the last given wins, as
    with an upsert - encoded as history blocks are, with measure numbers.
    Stores of the layout before format 1's records (a "forecast" table
    with a key per point) have that table dropped when opened: forecasts
    come back with the next fetch of each id.

    Formats. Format 1 (every store written before formats were numbered)
    had no meta nor names and kept history as "history: id \0 time(8)
    measure -> value"; format 2 as "points: id number (4) time (8)
    measure number (2) -> value", a key per point. Both kept forecast
    records with each point's time, value and measure name in full.
    Opening an older store migrates it in the one write transaction of
    open: its history is rewritten into blocks and its forecast records
    in the new layout (a malformed one is dropped, with a warning), the
    old table is dropped and meta "format" is set to 3. A failure leaves the store as it was (e.g. a full map:
    until it commits, the migration holds both copies, so
    store.lmdb.map_size_mb must leave room for both). A store of a
    format newer than this code reads refuses to open, naming both
    formats; so does a format 2 binary given a format 3 store. (A binary
    of format 1 does not know formats at all: it would see an empty
    history, and what it writes is only migrated at the next open by a
    new one.) Stop every tscache process of the host, upgrade them all,
    then start them.

    An id's stamp is rewritten by every transaction that changes anything
    of that id; its version is that transaction's id (mdb_txn_id), which
    only grows, and expires_ms is when the id's forecast expires. Readers
    compare stamps to reuse answers (ts_store_stamp); a store written
    before stamps existed simply starts without them (version 0).

    Every call is one transaction, so a write lands whole or not at all,
    across roles (TS_STORE_CAP_ATOMIC), and a read of several roles is one
    snapshot (TS_STORE_CAP_SNAPSHOT). The environment is opened with
    MDB_NOTLS so that read transactions are not tied to threads; one
    handle serves every thread of a process.

    Other processes may grow the map (MDB_MAP_RESIZED): we then adopt the
    new size with mdb_env_set_mapsize (env, 0), which remaps the file and
    therefore must not run while any of our transactions is open. A
    read-write lock guards that: every transaction holds it shared, the
    remap holds it exclusive. A full reader table (MDB_READERS_FULL) is
    answered by clearing stale readers and retrying for a short while.

    Argument checks are done by ts_store.c; this file trusts its inputs
    but not the bytes it reads back from the file. */


#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <lmdb.h>

#include "ts_log.h"
#include "ts_store_lmdb.h"

#define S_MAX_DBS      12                                 //  10 used at most
#define S_MAX_READERS  512                                //  reader slots

int
ts_store_lmdb_fail (ts_store_lmdb_t *self, int rc, char *err)
{
    return ts_lmdb_fail (&self->lmdb, rc, err);
}

int
ts_store_lmdb_begin (ts_store_lmdb_t *self, bool write, MDB_txn **txn,
                     char *err)
{
    return ts_lmdb_begin (&self->lmdb, write, txn, err);
}

int
ts_store_lmdb_commit (ts_store_lmdb_t *self, MDB_txn *txn, char *err)
{
    return ts_lmdb_commit (&self->lmdb, txn, err);
}

void
ts_store_lmdb_abort (ts_store_lmdb_t *self, MDB_txn *txn)
{
    ts_lmdb_abort (&self->lmdb, txn);
}

//  Aborts txn and reports rc; for the error paths of write calls.
int
ts_store_lmdb_txn_fail (ts_store_lmdb_t *self, MDB_txn *txn, int rc, char *err)
{
    ts_store_lmdb_abort (self, txn);
    return ts_store_lmdb_fail (self, rc, err);
}


//  --- change stamps -----------------------------------------------------

#define S_STAMP_LEN  (sizeof (uint64_t) + sizeof (int64_t))

//  Reads the stamp of id in txn; a missing or malformed one reads as
//  version 0 with no forecast. Returns 0 or an LMDB code.
static int
s_stamp_get (ts_store_lmdb_t *self, MDB_txn *txn, const char *id,
             ts_store_stamp_t *stamp)
{
    stamp->version = 0;
    stamp->expires_ms = INT64_MAX;
    MDB_val key = { strlen (id), (void *) id }, val;
    int rc = mdb_get (txn, self->stamps, &key, &val);
    if (rc == 0 && val.mv_size == S_STAMP_LEN) {
        memcpy (&stamp->version, val.mv_data, sizeof stamp->version);
        memcpy (&stamp->expires_ms,
                (const char *) val.mv_data + sizeof stamp->version,
                sizeof stamp->expires_ms);
    }
    return rc == MDB_NOTFOUND? 0: rc;
}

//  See ts_store_lmdb.h.
int
ts_store_lmdb_stamp_touch (ts_store_lmdb_t *self, MDB_txn *txn,
                           const char *id, int64_t expires_ms)
{
    ts_store_stamp_t stamp;
    if (expires_ms == TS_STORE_LMDB_KEEP_EXPIRY) {
        int rc = s_stamp_get (self, txn, id, &stamp);
        if (rc)
            return rc;
        expires_ms = stamp.expires_ms;
    }
    unsigned char buf [S_STAMP_LEN];
    uint64_t version = (uint64_t) mdb_txn_id (txn);
    memcpy (buf, &version, sizeof version);
    memcpy (buf + sizeof version, &expires_ms, sizeof expires_ms);
    MDB_val key = { strlen (id), (void *) id }, val = { sizeof buf, buf };
    return mdb_put (txn, self->stamps, &key, &val, 0);
}

static int
s_stamp (void *state, const char *id, ts_store_stamp_t *stamp, char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    rc = s_stamp_get (self, txn, id, stamp);
    ts_store_lmdb_abort (self, txn);
    return rc? ts_store_lmdb_fail (self, rc, err): 0;
}

//  Finds where the data file is mapped in this process, from
//  /proc/self/maps (LMDB reports the address only with MDB_FIXEDMAP).
//  Returns 0 with the range, or -1 if it is not found.
static int
s_map_find (ts_store_lmdb_t *self, void **addr, size_t *len)
{
#ifdef __linux__
    int fd;
    struct stat st;
    if (mdb_env_get_fd (self->lmdb.env, &fd) != 0 || fstat (fd, &st) != 0)
        return -1;
    FILE *maps = fopen ("/proc/self/maps", "r");
    if (!maps)
        return -1;
    char line [512];
    int rc = -1;
    while (rc != 0 && fgets (line, sizeof line, maps)) {
        unsigned long start, end, offset, inode;
        unsigned int major, minor;
        char perms [8];
        if (sscanf (line, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms,
                    &offset, &major, &minor, &inode) == 7
        &&  inode == (unsigned long) st.st_ino
        &&  makedev (major, minor) == st.st_dev && offset == 0) {
            *addr = (void *) start;
            *len = end - start;
            rc = 0;
        }
    }
    fclose (maps);
    return rc;
#else
    return -1;
#endif
}

//  Drops the pages of the map from this process's page tables: the map
//  is read-only and shared (no MDB_WRITEMAP), so the next access faults
//  the page back in from the page cache, unchanged. Under the remap lock
//  (shared) so that the map cannot move meanwhile; the range is looked up
//  again whenever the map size changed.
static void
s_release (void *state)
{
    ts_store_lmdb_t *self = state;
    pthread_rwlock_rdlock (&self->remap_lock);
    MDB_envinfo info;
    if (mdb_env_info (self->lmdb.env, &info) == 0) {
        pthread_mutex_lock (&self->map_lock);
        if (info.me_mapsize != self->map_seen_size) {
            self->map_seen_size = info.me_mapsize;
            if (s_map_find (self, &self->map_addr, &self->map_len) != 0)
                self->map_addr = NULL;
        }
        if (self->map_addr
        &&  madvise (self->map_addr, self->map_len, MADV_DONTNEED) != 0)
            ts_debug ("lmdb: madvise: %s", strerror (errno));
        pthread_mutex_unlock (&self->map_lock);
    }
    pthread_rwlock_unlock (&self->remap_lock);
}


//  --- open / close ------------------------------------------------------

static void s_close (void *state);

static void *
s_open (const ts_config_t *cfg, char *err)
{
    const char *path = ts_config_str (cfg, "store.lmdb.path");
    ts_store_lmdb_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "lmdb: out of memory");
        return NULL;
    }
    //  Prefer the remapping writer so that busy readers cannot starve it.
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init (&attr);
    pthread_rwlockattr_setkind_np (&attr,
        PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init (&self->remap_lock, &attr);
    pthread_rwlockattr_destroy (&attr);
    if (rc != 0) {
        free (self);
        ts_errf (err, "lmdb: cannot create lock");
        return NULL;
    }
    pthread_mutex_init (&self->map_lock, NULL);
    self->lmdb = (ts_lmdb_t) {
        .what = "store", .key_path = "store.lmdb.path",
        .key_map = "store.lmdb.map_size_mb",
        .map_size_mb = ts_config_int (cfg, "store.lmdb.map_size_mb"),
        .remap_lock = &self->remap_lock
    };
    if (ts_lmdb_open (&self->lmdb, path, S_MAX_DBS, S_MAX_READERS,
                      MDB_NOTLS, err) != 0) {
        s_close (self);
        return NULL;
    }
    MDB_txn *txn;
    if (ts_store_lmdb_begin (self, true, &txn, err) != 0) {
        s_close (self);
        return NULL;
    }
    if (ts_store_lmdb_format_open (self, txn, path, err) != 0) {
        ts_store_lmdb_abort (self, txn);
        s_close (self);
        return NULL;
    }
    if (ts_store_lmdb_commit (self, txn, err) != 0) {
        s_close (self);
        return NULL;
    }
    return self;
}

static void
s_close (void *state)
{
    ts_store_lmdb_t *self = state;
    if (!self)
        return;
    ts_lmdb_close (&self->lmdb, false);
    pthread_rwlock_destroy (&self->remap_lock);
    pthread_mutex_destroy (&self->map_lock);
    free (self);
}


//  --- registry ----------------------------------------------------------

//  An ids record: created_ms (8 bytes), then the source's name (0 to
//  TS_NAME_MAX bytes; records written before sources have none).
#define S_ID_CREATED    TS_STORE_LMDB_ID_CREATED
typedef struct {
    unsigned char bytes [S_ID_CREATED + TS_NAME_MAX];
    size_t size;
} s_id_record_t;

//  Sets source (TS_NAME_MAX + 1 bytes) to the source an ids record names.
static void
s_id_record_source (const MDB_val *val, char *source)
{
    size_t len = val->mv_size > S_ID_CREATED? val->mv_size - S_ID_CREATED: 0;
    if (len > TS_NAME_MAX)
        len = TS_NAME_MAX;
    memcpy (source, (const char *) val->mv_data + S_ID_CREATED, len);
    source [len] = '\0';
}

//  Registers ids; source NULL leaves registered ids as they are, else
//  each id gets source ("" the first source), a registered one keeping
//  its created_ms.
static int
s_ids_add_to (void *state, const char *const *ids, size_t n,
              const char *source, size_t *added, char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    int64_t created_ms = ts_now_ms ();
    size_t source_len = source? strnlen (source, TS_NAME_MAX): 0;
    s_id_record_t record = { .size = S_ID_CREATED + source_len };
    if (source_len)
        memcpy (record.bytes + S_ID_CREATED, source, source_len);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        MDB_val key = { strlen (ids [i]), (void *) ids [i] }, old;
        memcpy (record.bytes, &created_ms, S_ID_CREATED);
        rc = mdb_get (txn, self->ids, &key, &old);
        if (rc == 0 && source) {
            char was [TS_NAME_MAX + 1];
            s_id_record_source (&old, was);
            if (strcmp (was, source) == 0)
                continue;
            //  Moves to source; created when it was.
            if (old.mv_size >= S_ID_CREATED)
                memcpy (record.bytes, old.mv_data, S_ID_CREATED);
            MDB_val val = { record.size, record.bytes };
            rc = mdb_put (txn, self->ids, &key, &val, 0);
            if (rc)
                return ts_store_lmdb_txn_fail (self, txn, rc, err);
            continue;
        }
        if (rc == 0)
            continue;
        if (rc != MDB_NOTFOUND)
            return ts_store_lmdb_txn_fail (self, txn, rc, err);
        MDB_val val = { record.size, record.bytes };
        rc = mdb_put (txn, self->ids, &key, &val, MDB_NOOVERWRITE);
        if (rc == 0) {
            count++;
            rc = ts_store_lmdb_stamp_touch (self, txn, ids [i],
                                            TS_STORE_LMDB_KEEP_EXPIRY);
            if (rc)
                return ts_store_lmdb_txn_fail (self, txn, rc, err);
        }
        else
        if (rc != MDB_KEYEXIST)
            return ts_store_lmdb_txn_fail (self, txn, rc, err);
    }
    rc = ts_store_lmdb_commit (self, txn, err);
    if (rc == 0 && added)
        *added = count;
    return rc;
}

static int
s_ids_add (void *state, const char *const *ids, size_t n, size_t *added,
           char *err)
{
    return s_ids_add_to (state, ids, n, NULL, added, err);
}

static int
s_ids_remove (void *state, const char *id, char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    MDB_val key = { strlen (id), (void *) id };
    rc = mdb_del (txn, self->ids, &key, NULL);
    if (rc == MDB_NOTFOUND) {
        ts_store_lmdb_abort (self, txn);
        ts_errf (err, "id '%s' is not registered", id);
        return TS_ENOTFOUND;
    }
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    rc = ts_store_lmdb_status_delete (self, txn, id);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    rc = ts_store_lmdb_points_delete (self, txn, TS_STORE_HISTORY
                                      | TS_STORE_FORECAST, id, NULL, err);
    if (rc) {
        ts_store_lmdb_abort (self, txn);
        return rc;
    }
    rc = ts_store_lmdb_stamp_touch (self, txn, id, INT64_MAX);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    return ts_store_lmdb_commit (self, txn, err);
}

//  As ids_page; sources (if not NULL) gets each listed id's source, each
//  (if not NULL) its fetch status (the status table, in the same
//  transaction).
static int
s_ids_page_sources (void *state, const char *after, size_t limit,
                    ts_strlist_t *out, ts_strlist_t *sources,
                    ts_store_status_fn *each, void *arg, bool *more,
                    char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->ids, &cursor);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    MDB_val key = { 0, NULL }, val;
    if (after) {
        //  The first key >= after, then past it if it is after itself.
        key.mv_size = strlen (after);
        key.mv_data = (void *) after;
        rc = mdb_cursor_get (cursor, &key, &val, MDB_SET_RANGE);
        if (rc == 0 && key.mv_size == strlen (after)
        &&  memcmp (key.mv_data, after, key.mv_size) == 0)
            rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    else
        rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    int ts_rc = 0;
    size_t count = 0;
    while (rc == 0 && count < limit) {
        ts_rc = ts_strlist_append_n (out, key.mv_data, key.mv_size);
        if (ts_rc == 0 && sources) {
            char source [TS_NAME_MAX + 1];
            s_id_record_source (&val, source);
            ts_rc = ts_strlist_append (sources, source);
        }
        if (ts_rc == 0 && each) {
            ts_store_status_t status;
            int got = ts_store_lmdb_status_get (self, txn,
                                                out->items [out->n - 1],
                                                &val, &status);
            if (got) {
                mdb_cursor_close (cursor);
                return ts_store_lmdb_txn_fail (self, txn, got, err);
            }
            got = each (arg, count, &status, err);
            if (got) {
                mdb_cursor_close (cursor);
                ts_store_lmdb_abort (self, txn);
                return got;
            }
        }
        if (ts_rc)
            break;
        count++;
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    *more = rc == 0 && ts_rc == 0;
    mdb_cursor_close (cursor);
    ts_store_lmdb_abort (self, txn);
    if (ts_rc) {
        ts_errf (err, "lmdb: out of memory listing ids");
        return ts_rc;
    }
    return rc == 0 || rc == MDB_NOTFOUND? 0
         : ts_store_lmdb_fail (self, rc, err);
}

static int
s_ids_page (void *state, const char *after, size_t limit, ts_strlist_t *out,
            bool *more, char *err)
{
    return s_ids_page_sources (state, after, limit, out, NULL, NULL, NULL,
                               more, err);
}

static int
s_ids_source (void *state, const char *id, bool *exists, char *source,
              char *err)
{
    ts_store_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = ts_store_lmdb_begin (self, false, &txn, err);
    if (rc)
        return rc;
    MDB_val key = { strlen (id), (void *) id }, val;
    rc = mdb_get (txn, self->ids, &key, &val);
    *exists = rc == 0;
    if (source) {
        source [0] = '\0';
        if (rc == 0)
            s_id_record_source (&val, source);
    }
    ts_store_lmdb_abort (self, txn);
    return rc == 0 || rc == MDB_NOTFOUND? 0
         : ts_store_lmdb_fail (self, rc, err);
}

static int
s_ids_exists (void *state, const char *id, bool *exists, char *err)
{
    return s_ids_source (state, id, exists, NULL, err);
}


static const char *
s_libraries (void)
{
    static char text [32];
    if (!*text) {
        int major, minor, patch;
        mdb_version (&major, &minor, &patch);
        snprintf (text, sizeof text, "lmdb %d.%d.%d", major, minor, patch);
    }
    return text;
}

const ts_store_ops_t ts_store_lmdb_ops = {
    .name             = "lmdb",
    .caps = TS_STORE_CAP_STAMPS | TS_STORE_CAP_SNAPSHOT | TS_STORE_CAP_ATOMIC
          | TS_STORE_CAP_FORGET | TS_STORE_CAP_ALLTIME,
    .libraries        = s_libraries,
    .open             = s_open,
    .close            = s_close,
    .ids_add          = s_ids_add,
    .ids_remove       = s_ids_remove,
    .ids_page         = s_ids_page,
    .ids_exists       = s_ids_exists,
    .ids_add_to       = s_ids_add_to,
    .ids_page_sources = s_ids_page_sources,
    .ids_source       = s_ids_source,
    .ids_status       = ts_store_lmdb_ids_status,
    .ids_mark         = ts_store_lmdb_ids_mark,
    .forget           = ts_store_lmdb_forget,
    .history_put      = ts_store_lmdb_history_put,
    .history_range    = ts_store_lmdb_history_range,
    .history_scan     = ts_store_lmdb_history_scan,
    .forecast_replace = ts_store_lmdb_forecast_replace,
    .forecast_range   = ts_store_lmdb_forecast_range,
    .write            = ts_store_lmdb_write,
    .read             = ts_store_lmdb_read,
    .stamp            = s_stamp,
    .release          = s_release,
    .expire           = ts_store_lmdb_expire,
};
