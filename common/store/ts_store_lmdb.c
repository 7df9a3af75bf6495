/*  ts_store_lmdb - the embedded LMDB storage backend.

    One LMDB environment directory (store.lmdb.path) that every tscache
    process of a host opens at once: LMDB's lock file serialises writers
    across processes and readers never block. Four named databases:

        ids       id                         -> created_ms (int64)
        history   id \0 time(8) measure      -> value (double)
        forecasts id                         -> expires_ms (int64),
                                                count (uint32), then count
                                                points: time (int64), value
                                                (double), measure length
                                                (uint8), measure
        stamps    id                         -> version (uint64),
                                                expires_ms (int64)

    A forecast is replaced whole on every fetch and expires whole, so it
    is one record per id (the role of one DynamoDB item): a replace is one
    put instead of a delete and a put per point, and a range read decodes
    one value. Its points are kept sorted by time, then measure, one per
    (time, measure) - the last given wins, as with an upsert. Stores of
    the earlier layout (a "forecast" table with a key per point) have
    that table dropped when opened: forecasts come back with the next
    fetch of each id.

    An id's stamp is rewritten by every transaction that changes anything
    of that id; its version is that transaction's id (mdb_txn_id), which
    only grows, and expires_ms is when the id's forecast expires. Readers
    compare stamps to reuse answers (ts_store_stamp); a store written
    before stamps existed simply starts without them (version 0).

    time(8) is the epoch-ms time as 8 big-endian bytes with the sign bit
    flipped, so that byte order is time order, negative times included.
    Ids cannot hold a 0 byte, so "id \0" is an exact prefix: a cursor walk
    from "id \0 time(from)" returns one id's points ascending by time, then
    measure, and stops when the prefix or the time runs out. Values are in
    host byte order, as LMDB's own pages are.

    Every call is one transaction, so a write lands whole or not at all.
    The environment is opened with MDB_NOTLS so that read transactions are
    not tied to threads; one handle serves every thread of a process.

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
#include "ts_store_backend.h"

#define S_TIME_LEN     8                                  //  encoded time
#define S_KEY_MAX      (TS_NAME_MAX + 1 + S_TIME_LEN + TS_NAME_MAX)
#define S_MAX_DBS      8                                  //  4 used
#define S_MAX_READERS  512                                //  reader slots
#define S_RETRIES      50                                 //  busy retries

typedef struct {
    MDB_env *env;                   //  the environment, shared by threads
    MDB_dbi  ids;                   //  id -> created_ms
    MDB_dbi  history;               //  key -> value
    MDB_dbi  forecasts;             //  id -> expires_ms, points
    MDB_dbi  stamps;                //  id -> version, expires_ms
    pthread_rwlock_t remap_lock;    //  shared per txn, exclusive to remap
    int64_t  map_size_mb;           //  store.lmdb.map_size_mb, for errors
    pthread_mutex_t map_lock;       //  guards the three below
    size_t   map_seen_size;         //  map size when map_addr was found
    void    *map_addr;              //  where the data file is mapped
    size_t   map_len;               //  (for s_release), or NULL
} s_lmdb_t;

//  Fills err from an LMDB or errno code; returns TS_EBACKEND.
static int
s_fail (s_lmdb_t *self, int rc, char *err)
{
    if (rc == MDB_MAP_FULL)
        ts_errf (err, "lmdb: store is full (%s); raise "
                 "store.lmdb.map_size_mb (now %lld)",
                 mdb_strerror (rc), (long long) self->map_size_mb);
    else
    if (rc == ENOSPC)
        ts_errf (err, "lmdb: store is full: %s (free disk space; "
                 "store.lmdb.map_size_mb is %lld)",
                 mdb_strerror (rc), (long long) self->map_size_mb);
    else
    if (rc == MDB_READERS_FULL)
        ts_errf (err, "lmdb: %s (too many concurrent readers)",
                 mdb_strerror (rc));
    else
        ts_errf (err, "lmdb: %s", mdb_strerror (rc));
    return TS_EBACKEND;
}

static void
s_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

//  Begins a transaction and takes remap_lock shared; s_txn_commit or
//  s_txn_abort release both. Adopts a map grown by another process and
//  waits out a full reader table. Returns 0 or TS_EBACKEND.
static int
s_txn_begin (s_lmdb_t *self, bool write, MDB_txn **txn, char *err)
{
    int rc = 0;
    for (int attempt = 0; attempt < S_RETRIES; attempt++) {
        pthread_rwlock_rdlock (&self->remap_lock);
        rc = mdb_txn_begin (self->env, NULL, write? 0: MDB_RDONLY, txn);
        if (rc == 0)
            return 0;
        pthread_rwlock_unlock (&self->remap_lock);
        if (rc == MDB_MAP_RESIZED) {
            pthread_rwlock_wrlock (&self->remap_lock);
            rc = mdb_env_set_mapsize (self->env, 0);
            pthread_rwlock_unlock (&self->remap_lock);
            if (rc)
                break;
        }
        else
        if (rc == MDB_READERS_FULL) {
            int dead = 0;
            mdb_reader_check (self->env, &dead);
            if (dead == 0)
                s_sleep_ms (attempt < 10? 1: 10);
        }
        else
            break;
    }
    *txn = NULL;
    return s_fail (self, rc, err);
}

static int
s_txn_commit (s_lmdb_t *self, MDB_txn *txn, char *err)
{
    int rc = mdb_txn_commit (txn);
    pthread_rwlock_unlock (&self->remap_lock);
    return rc? s_fail (self, rc, err): 0;
}

static void
s_txn_abort (s_lmdb_t *self, MDB_txn *txn)
{
    mdb_txn_abort (txn);
    pthread_rwlock_unlock (&self->remap_lock);
}

//  Aborts txn and reports rc; for the error paths of write calls.
static int
s_txn_fail (s_lmdb_t *self, MDB_txn *txn, int rc, char *err)
{
    s_txn_abort (self, txn);
    return s_fail (self, rc, err);
}

//  --- keys --------------------------------------------------------------

static void
s_time_encode (int64_t time_ms, unsigned char *buf)
{
    uint64_t u = (uint64_t) time_ms ^ (UINT64_C (1) << 63);
    for (int i = S_TIME_LEN - 1; i >= 0; i--) {
        buf [i] = (unsigned char) (u & 0xff);
        u >>= 8;
    }
}

static int64_t
s_time_decode (const unsigned char *buf)
{
    uint64_t u = 0;
    for (int i = 0; i < S_TIME_LEN; i++)
        u = (u << 8) | buf [i];
    u ^= UINT64_C (1) << 63;
    int64_t time_ms;
    memcpy (&time_ms, &u, sizeof time_ms);
    return time_ms;
}

//  Writes "id \0 time measure" into buf (S_KEY_MAX bytes); returns its
//  length. measure may be NULL (a range start key).
static size_t
s_key_make (unsigned char *buf, const char *id, int64_t time_ms,
            const char *measure)
{
    size_t id_len = strlen (id);
    assert (id_len <= TS_NAME_MAX);
    memcpy (buf, id, id_len);
    buf [id_len] = 0;
    s_time_encode (time_ms, buf + id_len + 1);
    size_t len = id_len + 1 + S_TIME_LEN;
    if (measure) {
        size_t m_len = strnlen (measure, TS_NAME_MAX + 1);
        assert (m_len <= TS_NAME_MAX);
        memcpy (buf + len, measure, m_len);
        len += m_len;
    }
    return len;
}

//  True if key starts with prefix (len bytes).
static bool
s_has_prefix (const MDB_val *key, const unsigned char *prefix, size_t len)
{
    return key->mv_size >= len && memcmp (key->mv_data, prefix, len) == 0;
}

//  --- change stamps -----------------------------------------------------

#define S_STAMP_LEN  (sizeof (uint64_t) + sizeof (int64_t))
#define S_KEEP_EXPIRY  INT64_MIN        //  s_stamp_touch: keep expires_ms

//  Reads the stamp of id in txn; a missing or malformed one reads as
//  version 0 with no forecast. Returns 0 or an LMDB code.
static int
s_stamp_get (s_lmdb_t *self, MDB_txn *txn, const char *id,
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

//  Records in write txn that id changed: version = this transaction's id;
//  expires_ms as given, or kept with S_KEEP_EXPIRY. Returns 0 or an LMDB
//  code.
static int
s_stamp_touch (s_lmdb_t *self, MDB_txn *txn, const char *id,
               int64_t expires_ms)
{
    ts_store_stamp_t stamp;
    if (expires_ms == S_KEEP_EXPIRY) {
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
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, false, &txn, err);
    if (rc)
        return rc;
    rc = s_stamp_get (self, txn, id, stamp);
    s_txn_abort (self, txn);
    return rc? s_fail (self, rc, err): 0;
}

//  Finds where the data file is mapped in this process, from
//  /proc/self/maps (LMDB reports the address only with MDB_FIXEDMAP).
//  Returns 0 with the range, or -1 if it is not found.
static int
s_map_find (s_lmdb_t *self, void **addr, size_t *len)
{
#ifdef __linux__
    int fd;
    struct stat st;
    if (mdb_env_get_fd (self->env, &fd) != 0 || fstat (fd, &st) != 0)
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
    s_lmdb_t *self = state;
    pthread_rwlock_rdlock (&self->remap_lock);
    MDB_envinfo info;
    if (mdb_env_info (self->env, &info) == 0) {
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
    if (!path || !*path) {
        ts_errf (err, "store.lmdb.path: must not be empty");
        return NULL;
    }
    int rc = ts_mkdirs (path, 0750);
    if (rc) {
        ts_errf (err, "store.lmdb.path: cannot create %s: %s",
                 path, mdb_strerror (rc));
        return NULL;
    }
    s_lmdb_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "lmdb: out of memory");
        return NULL;
    }
    //  Prefer the remapping writer so that busy readers cannot starve it.
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init (&attr);
    pthread_rwlockattr_setkind_np (&attr,
        PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    rc = pthread_rwlock_init (&self->remap_lock, &attr);
    pthread_rwlockattr_destroy (&attr);
    if (rc != 0) {
        free (self);
        ts_errf (err, "lmdb: cannot create lock");
        return NULL;
    }
    pthread_mutex_init (&self->map_lock, NULL);
    self->map_size_mb = ts_config_int (cfg, "store.lmdb.map_size_mb");
    size_t map_size = (size_t) self->map_size_mb * 1024 * 1024;

    rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, S_MAX_DBS);
    if (rc == 0)
        rc = mdb_env_set_maxreaders (self->env, S_MAX_READERS);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env, map_size);
    if (rc) {
        s_fail (self, rc, err);
        s_close (self);
        return NULL;
    }
    rc = mdb_env_open (self->env, path, MDB_NOTLS, 0640);
    if (rc) {
        ts_errf (err, "store.lmdb.path: cannot open %s: %s",
                 path, mdb_strerror (rc));
        s_close (self);
        return NULL;
    }
    //  Readers of crashed processes would pin old pages and fill the table.
    int dead = 0;
    mdb_reader_check (self->env, &dead);
    if (dead > 0)
        ts_info ("lmdb: cleared %d stale reader(s) in %s", dead, path);

    MDB_txn *txn;
    if (s_txn_begin (self, true, &txn, err) != 0) {
        s_close (self);
        return NULL;
    }
    rc = mdb_dbi_open (txn, "ids", MDB_CREATE, &self->ids);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "history", MDB_CREATE, &self->history);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "forecasts", MDB_CREATE, &self->forecasts);
    if (rc == 0) {
        //  The earlier layout's per-point table: forecasts are refetched.
        MDB_dbi old;
        rc = mdb_dbi_open (txn, "forecast", 0, &old);
        if (rc == 0) {
            rc = mdb_drop (txn, old, 1);
            if (rc == 0)
                ts_info ("lmdb: dropped the forecast table of the earlier "
                         "layout in %s; forecasts return with the next "
                         "fetch of each id", path);
        }
        else
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (rc == 0)
        rc = mdb_dbi_open (txn, "stamps", MDB_CREATE, &self->stamps);
    if (rc) {
        s_txn_fail (self, txn, rc, err);
        s_close (self);
        return NULL;
    }
    if (s_txn_commit (self, txn, err) != 0) {
        s_close (self);
        return NULL;
    }
    return self;
}

static void
s_close (void *state)
{
    s_lmdb_t *self = state;
    if (!self)
        return;
    if (self->env)
        mdb_env_close (self->env);
    pthread_rwlock_destroy (&self->remap_lock);
    pthread_mutex_destroy (&self->map_lock);
    free (self);
}

//  --- registry ----------------------------------------------------------

static int
s_ids_add (void *state, const char *const *ids, size_t n, size_t *added,
           char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, true, &txn, err);
    if (rc)
        return rc;
    int64_t created_ms = ts_now_ms ();
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        MDB_val key = { strlen (ids [i]), (void *) ids [i] };
        MDB_val val = { sizeof created_ms, &created_ms };
        rc = mdb_put (txn, self->ids, &key, &val, MDB_NOOVERWRITE);
        if (rc == 0) {
            count++;
            rc = s_stamp_touch (self, txn, ids [i], S_KEEP_EXPIRY);
            if (rc)
                return s_txn_fail (self, txn, rc, err);
        }
        else
        if (rc != MDB_KEYEXIST)
            return s_txn_fail (self, txn, rc, err);
    }
    rc = s_txn_commit (self, txn, err);
    if (rc == 0 && added)
        *added = count;
    return rc;
}

//  Deletes every key of dbi starting with prefix; counts them into *count
//  if not NULL. Returns 0 or an LMDB code.
static int
s_delete_prefix (MDB_txn *txn, MDB_dbi dbi, const unsigned char *prefix,
                 size_t len, size_t *count)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, dbi, &cursor);
    if (rc)
        return rc;
    MDB_val key = { len, (void *) prefix }, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && s_has_prefix (&key, prefix, len)) {
        rc = mdb_cursor_del (cursor, 0);
        if (rc)
            break;
        if (count)
            (*count)++;
        //  After a delete the cursor already sits on the next key, and
        //  MDB_NEXT returns that key rather than skipping it.
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return rc == MDB_NOTFOUND? 0: rc;
}

static int
s_ids_remove (void *state, const char *id, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, true, &txn, err);
    if (rc)
        return rc;
    MDB_val key = { strlen (id), (void *) id };
    rc = mdb_del (txn, self->ids, &key, NULL);
    if (rc == MDB_NOTFOUND) {
        s_txn_abort (self, txn);
        ts_errf (err, "id '%s' is not registered", id);
        return TS_ENOTFOUND;
    }
    unsigned char prefix [TS_NAME_MAX + 1];
    size_t len = strlen (id);
    memcpy (prefix, id, len);
    prefix [len++] = 0;
    if (rc == 0)
        rc = s_delete_prefix (txn, self->history, prefix, len, NULL);
    if (rc == 0) {
        rc = mdb_del (txn, self->forecasts, &key, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (rc == 0)
        rc = s_stamp_touch (self, txn, id, INT64_MAX);
    if (rc)
        return s_txn_fail (self, txn, rc, err);
    return s_txn_commit (self, txn, err);
}

static int
s_ids_page (void *state, const char *after, size_t limit, ts_strlist_t *out,
            bool *more, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, false, &txn, err);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->ids, &cursor);
    if (rc)
        return s_txn_fail (self, txn, rc, err);
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
        if (ts_rc)
            break;
        count++;
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    *more = rc == 0 && ts_rc == 0;
    mdb_cursor_close (cursor);
    s_txn_abort (self, txn);
    if (ts_rc) {
        ts_errf (err, "lmdb: out of memory listing ids");
        return ts_rc;
    }
    return rc == 0 || rc == MDB_NOTFOUND? 0: s_fail (self, rc, err);
}

static int
s_ids_exists (void *state, const char *id, bool *exists, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, false, &txn, err);
    if (rc)
        return rc;
    MDB_val key = { strlen (id), (void *) id }, val;
    rc = mdb_get (txn, self->ids, &key, &val);
    s_txn_abort (self, txn);
    *exists = rc == 0;
    return rc == 0 || rc == MDB_NOTFOUND? 0: s_fail (self, rc, err);
}

//  --- history -------------------------------------------------------------

//  Upserts pts of id into history. Returns 0 or an LMDB code.
static int
s_put_points (s_lmdb_t *self, MDB_txn *txn, const char *id,
              const ts_points_t *pts)
{
    unsigned char kbuf [S_KEY_MAX];
    MDB_val val = { sizeof (double), NULL };
    for (size_t i = 0; i < pts->n; i++) {
        MDB_val key = { s_key_make (kbuf, id, pts->time_ms [i],
                                    ts_points_measure (pts, i)), kbuf };
        val.mv_data = (void *) &pts->value [i];
        int rc = mdb_put (txn, self->history, &key, &val, 0);
        if (rc)
            return rc;
    }
    return 0;
}

static int
s_history_put (void *state, const char *id, const ts_points_t *pts,
               char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, true, &txn, err);
    if (rc)
        return rc;
    rc = s_put_points (self, txn, id, pts);
    if (rc == 0)
        rc = s_stamp_touch (self, txn, id, S_KEEP_EXPIRY);
    if (rc)
        return s_txn_fail (self, txn, rc, err);
    return s_txn_commit (self, txn, err);
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
s_replace_points (s_lmdb_t *self, MDB_txn *txn, const char *id,
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
        rc = s_stamp_touch (self, txn, id, pts->n? expires_ms: INT64_MAX);
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

static int
s_forecast_replace (void *state, const char *id, const ts_points_t *pts,
                    int64_t expires_ms, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, true, &txn, err);
    if (rc)
        return rc;
    rc = s_replace_points (self, txn, id, pts, expires_ms);
    if (rc)
        return s_txn_fail (self, txn, rc, err);
    return s_txn_commit (self, txn, err);
}

static int
s_write (void *state, const ts_store_doc_t *docs, size_t n,
         int64_t expires_ms, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, true, &txn, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = s_put_points (self, txn, docs [i].id, docs [i].history);
        if (rc == 0)
            rc = s_replace_points (self, txn, docs [i].id,
                                   docs [i].forecast, expires_ms);
    }
    if (rc)
        return s_txn_fail (self, txn, rc, err);
    return s_txn_commit (self, txn, err);
}

//  Appends the history points of id in [from_ms, to_ms] to out, at most
//  max of them: one cursor walk from "id \0 time(from)".
static int
s_history_range (void *state, const char *id, const char *measure,
                 int64_t from_ms, int64_t to_ms, size_t max,
                 ts_points_t *out, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, false, &txn, err);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->history, &cursor);
    if (rc)
        return s_txn_fail (self, txn, rc, err);

    unsigned char start [S_KEY_MAX];
    size_t start_len = s_key_make (start, id, from_ms, NULL);
    size_t prefix_len = start_len - S_TIME_LEN;    //  "id \0"
    size_t measure_len = measure? strlen (measure): 0;
    size_t value_len = sizeof (double);
    int ts_rc = 0;
    size_t appended = 0;
    MDB_val key = { start_len, start }, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && s_has_prefix (&key, start, prefix_len)) {
        const unsigned char *k = key.mv_data;
        size_t m_len = key.mv_size - prefix_len;
        if (m_len <= S_TIME_LEN || m_len - S_TIME_LEN > TS_NAME_MAX
        ||  val.mv_size != value_len) {
            ts_errf (err, "lmdb: malformed history record of id '%s'", id);
            ts_rc = TS_EBACKEND;
            break;
        }
        int64_t time_ms = s_time_decode (k + prefix_len);
        if (time_ms > to_ms)
            break;
        m_len -= S_TIME_LEN;
        const char *m = (const char *) k + prefix_len + S_TIME_LEN;
        bool wanted = !measure
                   || (m_len == measure_len
                       && memcmp (m, measure, m_len) == 0);
        if (wanted && appended++ == max) {
            ts_errf (err, "history of id '%s' holds more than %zu points "
                     "in the range", id, max);
            ts_rc = TS_ETOOBIG;
            break;
        }
        if (wanted) {
            double value;
            memcpy (&value, val.mv_data, sizeof value);
            uint16_t index;
            ts_rc = ts_points_measure_index (out, m, m_len, &index);
            if (ts_rc == 0)
                ts_rc = ts_points_append_at (out, time_ms, index, value);
            if (ts_rc) {
                ts_errf (err, "lmdb: %s reading id '%s'",
                         ts_strerror (ts_rc), id);
                break;
            }
        }
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    s_txn_abort (self, txn);
    if (ts_rc)
        return ts_rc;
    return rc == 0 || rc == MDB_NOTFOUND? 0: s_fail (self, rc, err);
}

static int
s_forecast_range (void *state, const char *id, const char *measure,
                  int64_t from_ms, int64_t to_ms, int64_t now_ms,
                  ts_points_t *out, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, false, &txn, err);
    if (rc)
        return rc;
    MDB_val key = { strlen (id), (void *) id }, val;
    rc = mdb_get (txn, self->forecasts, &key, &val);
    if (rc) {
        s_txn_abort (self, txn);
        return rc == MDB_NOTFOUND? 0: s_fail (self, rc, err);
    }
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
    s_txn_abort (self, txn);
    if (ts_rc == TS_EBACKEND)
        ts_errf (err, "lmdb: malformed forecast record of id '%s'", id);
    else
    if (ts_rc)
        ts_errf (err, "lmdb: %s reading id '%s'", ts_strerror (ts_rc), id);
    return ts_rc;
}

static int
s_expire (void *state, int64_t now_ms, size_t *removed, char *err)
{
    s_lmdb_t *self = state;
    MDB_txn *txn;
    int rc = s_txn_begin (self, true, &txn, err);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->forecasts, &cursor);
    if (rc)
        return s_txn_fail (self, txn, rc, err);
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
        return s_txn_fail (self, txn, rc, err);
    rc = s_txn_commit (self, txn, err);
    if (rc == 0 && removed)
        *removed = count;
    return rc;
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
    .caps = TS_STORE_CAP_STAMPS | TS_STORE_CAP_SNAPSHOT | TS_STORE_CAP_ATOMIC,
    .libraries        = s_libraries,
    .open             = s_open,
    .close            = s_close,
    .ids_add          = s_ids_add,
    .ids_remove       = s_ids_remove,
    .ids_page         = s_ids_page,
    .ids_exists       = s_ids_exists,
    .history_put      = s_history_put,
    .history_range    = s_history_range,
    .forecast_replace = s_forecast_replace,
    .forecast_range   = s_forecast_range,
    .write            = s_write,
    .stamp            = s_stamp,
    .release          = s_release,
    .expire           = s_expire,
};
