/*  ts_store_lmdb - what the files of the LMDB store backend share.

    Private to common/store/ts_store_lmdb*.c: the backend's state, its
    transactions, the time encoding of keys, change stamps, the format
    number and the operations each file gives to the ops table. The store
    layout and its formats are described at the top of ts_store_lmdb.c.

    ts_store_lmdb.c            environment, open, registry, stamps, ops
    ts_store_lmdb_points.c     history and forecast records, one query
    ts_store_lmdb_format.c     format check and migration on open */

#ifndef TS_STORE_LMDB_H_INCLUDED
#define TS_STORE_LMDB_H_INCLUDED

#include <pthread.h>

#include <lmdb.h>

#include "ts_lmdb.h"
#include "ts_store_backend.h"

//  The format this code reads and writes (meta "format").
#define TS_STORE_LMDB_FORMAT  2

//  Expiry argument of ts_store_lmdb_stamp_touch: keep the stamp's expiry.
#define TS_STORE_LMDB_KEEP_EXPIRY  INT64_MIN

typedef struct {
    ts_lmdb_t lmdb;                 //  the environment, shared by threads
    MDB_dbi  meta;                  //  "format", counters -> uint32
    MDB_dbi  names;                 //  id / measure <-> number
    MDB_dbi  ids;                   //  id -> created_ms
    MDB_dbi  points;                //  history: id_no time measure_no
                                    //  -> value
    MDB_dbi  forecasts;             //  id -> expires_ms, points
    MDB_dbi  stamps;                //  id -> version, expires_ms
    pthread_rwlock_t remap_lock;    //  shared per txn, exclusive to remap
                                    //  (lmdb.remap_lock points to it)
    pthread_mutex_t map_lock;       //  guards the three below
    size_t   map_seen_size;         //  map size when map_addr was found
    void    *map_addr;              //  where the data file is mapped
    size_t   map_len;               //  (for s_release), or NULL
} ts_store_lmdb_t;

//  --- transactions (ts_store_lmdb.c) -------------------------------------

//  Fills err from an LMDB or errno code; returns TS_EBACKEND.
int ts_store_lmdb_fail (ts_store_lmdb_t *self, int rc, char *err);

//  Begins a transaction and takes the remap lock shared; commit or abort
//  release both. Returns 0 or TS_EBACKEND.
int ts_store_lmdb_begin (ts_store_lmdb_t *self, bool write, MDB_txn **txn,
                         char *err);
int ts_store_lmdb_commit (ts_store_lmdb_t *self, MDB_txn *txn, char *err);
void ts_store_lmdb_abort (ts_store_lmdb_t *self, MDB_txn *txn);

//  Aborts txn and reports rc (an LMDB or errno code): TS_EBACKEND.
int ts_store_lmdb_txn_fail (ts_store_lmdb_t *self, MDB_txn *txn, int rc,
                            char *err);

//  --- change stamps (ts_store_lmdb.c) -------------------------------------

//  Records in write txn that id changed: version = this transaction's id;
//  expires_ms as given, or kept with TS_STORE_LMDB_KEEP_EXPIRY. Returns 0
//  or an LMDB code.
int ts_store_lmdb_stamp_touch (ts_store_lmdb_t *self, MDB_txn *txn,
                               const char *id, int64_t expires_ms);

//  --- points (ts_store_lmdb_points.c) -------------------------------------

//  Deletes what is stored of id in roles (TS_STORE_HISTORY,
//  TS_STORE_FORECAST) inside write txn; *deleted (may be NULL) is set to
//  whether anything was. Touches no stamp. Returns 0 or TS_EBACKEND with
//  err filled.
int ts_store_lmdb_points_delete (ts_store_lmdb_t *self, MDB_txn *txn,
                                 unsigned roles, const char *id,
                                 bool *deleted, char *err);

//  Upserts pts of id into history inside write txn, numbering the id and
//  measures that are new (as ts_store_lmdb_history_put, without stamp).
//  Returns 0 or a TS_E* code with err filled: TS_ETOOBIG if the store has
//  no measure number left, TS_EBACKEND if LMDB failed.
int ts_store_lmdb_history_write (ts_store_lmdb_t *self, MDB_txn *txn,
                                 const char *id, const ts_points_t *pts,
                                 char *err);

//  The ops of ts_store_backend.h of the same names (their contract is
//  there), for the ops table in ts_store_lmdb.c.
int ts_store_lmdb_history_put (void *state, const char *id,
                               const ts_points_t *pts, char *err);
int ts_store_lmdb_history_range (void *state, const char *id,
                                 const char *measure, int64_t from_ms,
                                 int64_t to_ms, size_t max,
                                 ts_points_t *out, char *err);
int ts_store_lmdb_forecast_replace (void *state, const char *id,
                                    const ts_points_t *pts,
                                    int64_t expires_ms, char *err);
int ts_store_lmdb_forecast_range (void *state, const char *id,
                                  const char *measure, int64_t from_ms,
                                  int64_t to_ms, int64_t now_ms,
                                  ts_points_t *out, char *err);
int ts_store_lmdb_write (void *state, const ts_store_doc_t *docs, size_t n,
                         int64_t expires_ms, char *err);
int ts_store_lmdb_forget (void *state, unsigned roles, const char *id,
                          char *err);
int ts_store_lmdb_read (void *state, unsigned roles,
                        const ts_store_query_t *q, ts_store_answer_t *ans,
                        char *err);
//  ts_store_history_scan: one cursor walk (ts_store_lmdb_scan.c).
int ts_store_lmdb_history_scan (void *state, const char *id,
                                const char *measure, int64_t from_ms,
                                int64_t to_ms, bool reverse,
                                ts_store_scan_fn *fn, void *arg, char *err);
int ts_store_lmdb_expire (void *state, int64_t now_ms, size_t *removed,
                          char *err);

//  --- numbers (ts_store_lmdb_format.c) ------------------------------------

#define TS_STORE_LMDB_ID_LEN       4    //  bytes of an id number in keys
#define TS_STORE_LMDB_MEASURE_LEN  2    //  bytes of a measure number
//  A history key: id number, time, measure number.
#define TS_STORE_LMDB_KEY_LEN  (TS_STORE_LMDB_ID_LEN + TS_LMDB_TIME_LEN \
                                + TS_STORE_LMDB_MEASURE_LEN)

//  Writes the history key "id_no time measure_no" into buf
//  (TS_STORE_LMDB_KEY_LEN bytes).
void ts_store_lmdb_key_make (unsigned char *buf, uint32_t id_no,
                             int64_t time_ms, uint16_t measure_no);

//  The number of id (len bytes) in txn. With assign (a write txn), an id
//  without one is given the next. Returns 0 and sets *no; TS_ENOTFOUND
//  (err untouched) if id has none and assign is false; TS_ETOOBIG or
//  TS_EBACKEND with err filled.
int ts_store_lmdb_id_number (ts_store_lmdb_t *self, MDB_txn *txn,
                             const char *id, bool assign, uint32_t *no,
                             char *err);

//  The same for a measure name (len bytes, need not be terminated).
int ts_store_lmdb_measure_number (ts_store_lmdb_t *self, MDB_txn *txn,
                                  const char *name, size_t len,
                                  bool assign, uint16_t *no, char *err);

//  The name of measure number no: *name points into the map (valid until
//  txn ends), *len bytes, not terminated. Returns 0, or TS_EBACKEND with
//  err filled (no such number: the store is damaged).
int ts_store_lmdb_measure_name (ts_store_lmdb_t *self, MDB_txn *txn,
                                uint16_t no, const char **name, size_t *len,
                                char *err);

//  --- format (ts_store_lmdb_format.c) -------------------------------------

//  Inside the write txn of open: opens every database into self, finds
//  the store's format and brings it to TS_STORE_LMDB_FORMAT (a new store
//  is created in it; format 1 is migrated). path is for messages. Returns
//  0 or a TS_E* code with err filled (TS_EBACKEND: a format this code
//  does not read, a malformed record, LMDB failed).
int ts_store_lmdb_format_open (ts_store_lmdb_t *self, MDB_txn *txn,
                               const char *path, char *err);

#endif
