/*  ts_lmdb - the LMDB helper shared by the queue and the store backends:
    environment open, transactions with project error codes and big-endian
    keys. See ts_lmdb.h. */

#include "ts_lmdb.h"
#include "ts_log.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#define S_RETRIES   50              //  begins tried on a full reader table

int
ts_lmdb_fail (const ts_lmdb_t *self, int rc, char *err)
{
    if (rc == MDB_MAP_FULL)
        ts_errf (err, "%s: lmdb: store full (%s); raise %s (now %lld)",
                 self->what, mdb_strerror (rc), self->key_map,
                 (long long) self->map_size_mb);
    else
    if (rc == ENOSPC)
        ts_errf (err, "%s: lmdb: store full: %s (free disk space under "
                 "%s; %s is %lld)", self->what, mdb_strerror (rc),
                 self->key_path, self->key_map,
                 (long long) self->map_size_mb);
    else
    if (rc == MDB_READERS_FULL)
        ts_errf (err, "%s: lmdb: %s (too many concurrent readers)",
                 self->what, mdb_strerror (rc));
    else
        ts_errf (err, "%s: lmdb: %s", self->what, mdb_strerror (rc));
    return TS_EBACKEND;
}

int
ts_lmdb_open (ts_lmdb_t *self, const char *path, unsigned max_dbs,
              unsigned max_readers, unsigned flags, char *err)
{
    assert (self && self->what && self->key_path && self->key_map);
    self->env = NULL;
    if (!path || !*path) {
        ts_errf (err, "%s: must not be empty", self->key_path);
        return TS_EBACKEND;
    }
    int rc = ts_mkdirs (path, 0750);
    if (rc) {
        ts_errf (err, "%s: cannot create %s: %s", self->key_path, path,
                 strerror (rc));
        return TS_EBACKEND;
    }
    rc = mdb_env_create (&self->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (self->env, max_dbs);
    if (rc == 0 && max_readers)
        rc = mdb_env_set_maxreaders (self->env, max_readers);
    if (rc == 0)
        rc = mdb_env_set_mapsize (self->env,
                                  (size_t) self->map_size_mb * 1024 * 1024);
    if (rc == 0)
        rc = mdb_env_open (self->env, path, flags, 0640);
    if (rc) {
        ts_errf (err, "%s: cannot open %s: %s", self->key_path, path,
                 mdb_strerror (rc));
        ts_lmdb_close (self, false);
        return TS_EBACKEND;
    }
    //  Readers of crashed processes would pin old pages and fill the table.
    int dead = 0;
    mdb_reader_check (self->env, &dead);
    if (dead > 0)
        ts_info ("%s: lmdb: cleared %d stale reader(s) in %s", self->what,
                 dead, path);
    return 0;
}

void
ts_lmdb_close (ts_lmdb_t *self, bool sync)
{
    assert (self);
    if (self->env) {
        if (sync)
            mdb_env_sync (self->env, 1);
        mdb_env_close (self->env);
        self->env = NULL;
    }
}

static void
s_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

int
ts_lmdb_begin (ts_lmdb_t *self, bool write, MDB_txn **txn, char *err)
{
    int rc = 0;
    for (int attempt = 0; attempt < S_RETRIES; attempt++) {
        if (self->remap_lock)
            pthread_rwlock_rdlock (self->remap_lock);
        rc = mdb_txn_begin (self->env, NULL, write? 0: MDB_RDONLY, txn);
        if (rc == 0)
            return 0;
        if (self->remap_lock)
            pthread_rwlock_unlock (self->remap_lock);
        if (rc == MDB_MAP_RESIZED) {
            if (self->remap_lock)
                pthread_rwlock_wrlock (self->remap_lock);
            rc = mdb_env_set_mapsize (self->env, 0);
            if (self->remap_lock)
                pthread_rwlock_unlock (self->remap_lock);
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
    return ts_lmdb_fail (self, rc, err);
}

int
ts_lmdb_commit (ts_lmdb_t *self, MDB_txn *txn, char *err)
{
    int rc = mdb_txn_commit (txn);
    if (self->remap_lock)
        pthread_rwlock_unlock (self->remap_lock);
    return rc? ts_lmdb_fail (self, rc, err): 0;
}

void
ts_lmdb_abort (ts_lmdb_t *self, MDB_txn *txn)
{
    if (!txn)
        return;
    mdb_txn_abort (txn);
    if (self->remap_lock)
        pthread_rwlock_unlock (self->remap_lock);
}

int
ts_lmdb_end (ts_lmdb_t *self, MDB_txn *txn, int result, char *err)
{
    if (result < 0) {
        ts_lmdb_abort (self, txn);
        return result;
    }
    int rc = ts_lmdb_commit (self, txn, err);
    return rc? rc: result;
}

int
ts_lmdb_dbs_open (ts_lmdb_t *self, const ts_lmdb_db_t *dbs, size_t n,
                  char *err)
{
    MDB_txn *txn;
    int rc = ts_lmdb_begin (self, true, &txn, err);
    if (rc)
        return rc;
    int mrc = 0;
    for (size_t i = 0; i < n && mrc == 0; i++)
        mrc = mdb_dbi_open (txn, dbs [i].name, MDB_CREATE, dbs [i].dbi);
    rc = mrc? ts_lmdb_fail (self, mrc, err): 0;
    return ts_lmdb_end (self, txn, rc, err);
}

void
ts_lmdb_u64_put (unsigned char *buf, uint64_t value)
{
    for (int i = TS_LMDB_TIME_LEN - 1; i >= 0; i--) {
        buf [i] = (unsigned char) (value & 0xff);
        value >>= 8;
    }
}

uint64_t
ts_lmdb_u64_get (const unsigned char *buf)
{
    uint64_t value = 0;
    for (int i = 0; i < TS_LMDB_TIME_LEN; i++)
        value = (value << 8) | buf [i];
    return value;
}

void
ts_lmdb_time_put (unsigned char *buf, int64_t time_ms)
{
    ts_lmdb_u64_put (buf, (uint64_t) time_ms ^ (UINT64_C (1) << 63));
}

int64_t
ts_lmdb_time_get (const unsigned char *buf)
{
    uint64_t u = ts_lmdb_u64_get (buf) ^ (UINT64_C (1) << 63);
    int64_t time_ms;
    memcpy (&time_ms, &u, sizeof time_ms);
    return time_ms;
}
