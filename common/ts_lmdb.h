/*  ts_lmdb - what every LMDB layer of tscache repeats: opening an
    environment (creating its directory, sizing its map), transactions
    with the project's error codes, and big-endian keys.

    Used by the broker's queue backend (broker/queue/ts_queue_lmdb.c) and
    the store's backend (common/store/ts_store_lmdb.c). It knows
    no database of either: a layer opens its own named databases inside
    the first transaction. Errors name the config keys of the layer that
    owns the environment (key_path, key_map), so that a full map says
    which key to raise.

    A layer embeds one ts_lmdb_t, fills the first five fields and calls
    ts_lmdb_open. A layer shared by threads that remaps (the store) sets
    remap_lock: every transaction then holds it shared, and adopting a
    map grown by another process holds it exclusive. Not thread-safe
    otherwise; every function that can fail returns 0 or TS_EBACKEND and
    fills err (TS_ERRLEN bytes, may be NULL). */

#ifndef TS_LMDB_H_INCLUDED
#define TS_LMDB_H_INCLUDED

#include "ts_common.h"

#include <lmdb.h>
#include <pthread.h>

#define TS_LMDB_TIME_LEN    8       //  bytes of an encoded time or u64

typedef struct {
    const char *what;               //  log and error prefix, e.g. "queue"
    const char *key_path;           //  config key of the directory
    const char *key_map;            //  config key of the map size, in MiB
    int64_t     map_size_mb;        //  value of key_map
    pthread_rwlock_t *remap_lock;   //  NULL unless shared by threads
    MDB_env    *env;                //  set by ts_lmdb_open
} ts_lmdb_t;

//  Creates directory path (and its parents, mode 0750) and opens the
//  environment in it with max_dbs named databases, max_readers reader
//  slots (0: LMDB's default), a map of map_size_mb and flags (e.g.
//  MDB_NOSYNC, MDB_NOTLS). Clears the reader slots of dead processes.
//  On error the environment is closed again and err names key_path, e.g.
//  "broker.queue_path: cannot create /x: Permission denied".
int ts_lmdb_open (ts_lmdb_t *self, const char *path, unsigned max_dbs,
                  unsigned max_readers, unsigned flags, char *err);

//  Flushes (sync) and closes the environment. Safe if it is not open.
void ts_lmdb_close (ts_lmdb_t *self, bool sync);

//  Fills err from an LMDB or errno code: a full map says "store full" and
//  names key_map with its value, a full disk says so, a full reader
//  table says so. Returns TS_EBACKEND.
int ts_lmdb_fail (const ts_lmdb_t *self, int rc, char *err);

//  Begins a transaction (read-only unless write). Adopts a map grown by
//  another process and waits out a full reader table (bounded). Returns
//  0, or TS_EBACKEND with *txn NULL.
int ts_lmdb_begin (ts_lmdb_t *self, bool write, MDB_txn **txn, char *err);

//  Commits txn. Returns 0 or TS_EBACKEND (then nothing of txn landed).
int ts_lmdb_commit (ts_lmdb_t *self, MDB_txn *txn, char *err);

//  Aborts txn (read-only or write). Safe on NULL.
void ts_lmdb_abort (ts_lmdb_t *self, MDB_txn *txn);

//  Commits txn if result >= 0, else aborts it. Returns result, or
//  TS_EBACKEND if the commit failed.
int ts_lmdb_end (ts_lmdb_t *self, MDB_txn *txn, int result, char *err);

//  A named database to open: name, where its handle goes.
typedef struct {
    const char *name;
    MDB_dbi    *dbi;
} ts_lmdb_db_t;

//  Opens (creating) the n named databases in one write transaction.
int ts_lmdb_dbs_open (ts_lmdb_t *self, const ts_lmdb_db_t *dbs, size_t n,
                      char *err);

//  --- keys: big-endian, so byte order is numeric order ------------------

//  Writes value as 8 bytes, most significant first.
void ts_lmdb_u64_put (unsigned char *buf, uint64_t value);

//  Reads 8 bytes written by ts_lmdb_u64_put.
uint64_t ts_lmdb_u64_get (const unsigned char *buf);

//  Writes an epoch time as 8 bytes, sign bit flipped, so that negative
//  times sort before positive ones.
void ts_lmdb_time_put (unsigned char *buf, int64_t time_ms);

//  Reads 8 bytes written by ts_lmdb_time_put.
int64_t ts_lmdb_time_get (const unsigned char *buf);

#endif
