/*  ts_store_lmdb - what the files of the LMDB store backend share.

    Private to common/store/ts_store_lmdb*.c: the backend's state, its
    transactions, the time encoding of keys, change stamps, the format
    number and the operations each file gives to the ops table. The store
    layout and its formats are described at the top of ts_store_lmdb.c.

    ts_store_lmdb.c            environment, open, registry, stamps, ops
    ts_store_lmdb_run.c        runs of numbered points, their codec
    ts_store_lmdb_history.c    history blocks: merged writes, reads
    ts_store_lmdb_points.c     forecast records, documents, one query
    ts_store_lmdb_scan.c       history_scan over the blocks
    ts_store_lmdb_format.c     format check and migration on open
    ts_store_lmdb_status.c     fetch status of registered ids */

#ifndef TS_STORE_LMDB_H_INCLUDED
#define TS_STORE_LMDB_H_INCLUDED

#include <pthread.h>

#include <lmdb.h>

#include "ts_lmdb.h"
#include "ts_store_backend.h"

//  The format this code reads and writes (meta "format").
#define TS_STORE_LMDB_FORMAT  3

//  Expiry argument of ts_store_lmdb_stamp_touch: keep the stamp's expiry.
#define TS_STORE_LMDB_KEEP_EXPIRY  INT64_MIN

typedef struct {
    ts_lmdb_t lmdb;                 //  the environment, shared by threads
    MDB_dbi  meta;                  //  "format", counters -> uint32
    MDB_dbi  names;                 //  id / measure <-> number
    MDB_dbi  ids;                   //  id -> created_ms
    MDB_dbi  blocks;                //  history: id_no time -> points
    MDB_dbi  forecasts;             //  id -> expires_ms, points
    MDB_dbi  stamps;                //  id -> version, expires_ms
    MDB_dbi  status;                //  id -> fetch status
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

//  --- runs and their codec (ts_store_lmdb_run.c) ---------------------------

//  Points of one id in parallel arrays, ascending by time, then measure
//  number, one per (time, measure): a decoded block or forecast, or what
//  a write stores. Zeroed to start; ts_store_lmdb_run_fini frees.
typedef struct {
    size_t    n;                    //  points
    size_t    size;                 //  room in the arrays
    int64_t  *time_ms;
    uint16_t *measure;              //  measure numbers
    double   *value;
} ts_store_lmdb_run_t;

void ts_store_lmdb_run_fini (ts_store_lmdb_run_t *self);

//  Makes room for n points in self (grown by doubling). Returns 0 or
//  TS_ENOMEM.
int ts_store_lmdb_run_reserve (ts_store_lmdb_run_t *self, size_t n);

static inline void
ts_store_lmdb_run_set (ts_store_lmdb_run_t *self, size_t i, int64_t time_ms,
                       uint16_t measure, double value)
{
    self->time_ms [i] = time_ms;
    self->measure [i] = measure;
    self->value [i] = value;
}

//  Compares point i of a with point j of b by time, then measure.
static inline int
ts_store_lmdb_run_cmp (const ts_store_lmdb_run_t *a, size_t i,
                       const ts_store_lmdb_run_t *b, size_t j)
{
    if (a->time_ms [i] != b->time_ms [j])
        return a->time_ms [i] < b->time_ms [j]? -1: 1;
    if (a->measure [i] != b->measure [j])
        return a->measure [i] < b->measure [j]? -1: 1;
    return 0;
}

//  Makes run (empty, or reused) of pts, points of id written in write
//  txn: measure names numbered (new ones given numbers), sorted, the last
//  given of equal points kept. Returns 0 or a TS_E* code with err filled
//  (TS_ETOOBIG: no measure number left).
int ts_store_lmdb_run_from (ts_store_lmdb_t *self, MDB_txn *txn,
                            const char *id, const ts_points_t *pts,
                            ts_store_lmdb_run_t *run, char *err);

//  Bytes of an encoded run's head, and the most one point takes.
#define TS_STORE_LMDB_CODEC_HEAD   2
#define TS_STORE_LMDB_CODEC_POINT  (10 + 3 + 9)

//  Encodes points from.. of run, at most max, into buf (cap bytes, at
//  least TS_STORE_LMDB_CODEC_HEAD + TS_STORE_LMDB_CODEC_POINT): as many
//  as fit. The first time is kept as its delta from base_ms. *scale is
//  the decimal scale tried first (-1: raw doubles) and is left at the
//  one used. Returns how many points (at least one), *size the bytes.
size_t ts_store_lmdb_encode (const ts_store_lmdb_run_t *run, size_t from,
                             size_t max, int64_t base_ms, unsigned char *buf,
                             size_t cap, size_t *size, int *scale);

//  Called with each point decoded: returns 0 to go on, 1 to stop (the
//  decode then returns 0), or a TS_E* code (< 0) to stop with it.
typedef int (ts_store_lmdb_point_fn) (void *arg, int64_t time_ms,
                                      uint16_t measure, double value);

//  Decodes len bytes of data encoded from base_ms, at most max points,
//  calling fn with each in order, without a list; *count is the points
//  handed on. Returns 0, TS_EBACKEND if the bytes break the encoding or
//  hold more than max, or fn's code.
int ts_store_lmdb_decode_each (const unsigned char *data, size_t len,
                               int64_t base_ms, size_t max,
                               ts_store_lmdb_point_fn *fn, void *arg,
                               size_t *count);

//  Decodes len bytes of data encoded from base_ms into out (replacing
//  its points), at most max points. Returns 0, TS_EBACKEND if the bytes
//  break the encoding or hold more than max, or TS_ENOMEM.
int ts_store_lmdb_decode (const unsigned char *data, size_t len,
                          int64_t base_ms, size_t max,
                          ts_store_lmdb_run_t *out);

//  Measure numbers met by a read and their index in its output list
//  (index + 1; 0: not looked up yet). Zeroed to start; free index.
typedef struct {
    uint32_t *index;
    size_t    size;
} ts_store_lmdb_names_t;

//  The index in out of measure number no, its name looked up in txn and
//  added to out the first time. Returns 0 or a TS_E* code (TS_EBACKEND
//  with err filled: the number has no name).
int ts_store_lmdb_names_index (ts_store_lmdb_t *self, MDB_txn *txn,
                               ts_store_lmdb_names_t *map, uint16_t no,
                               ts_points_t *out, uint16_t *index, char *err);

//  Sorts each run of equal times among points start.. of out by measure
//  name (stores keep them by number). Returns 0 or TS_ENOMEM.
int ts_store_lmdb_sort_names (ts_points_t *out, size_t start);

//  --- history blocks (ts_store_lmdb_history.c) ----------------------------

//  A block's key: id number, its first point's time and measure number.
#define TS_STORE_LMDB_BLOCK_KEY_LEN  (TS_STORE_LMDB_ID_LEN + TS_LMDB_TIME_LEN \
                                      + TS_STORE_LMDB_MEASURE_LEN)
//  The most bytes of a block: one 4 KiB page of LMDB's (its 16-byte
//  header off), and the most points that fit (3 bytes at least each).
#define TS_STORE_LMDB_BLOCK_BYTES    4080
#define TS_STORE_LMDB_BLOCK_POINTS   ((TS_STORE_LMDB_BLOCK_BYTES - 2) / 3)

//  Whether key is a key of one of id_no's blocks.
bool ts_store_lmdb_block_is (const MDB_val *key, uint32_t id_no);

//  The time of a block key (its first point's).
int64_t ts_store_lmdb_block_time (const MDB_val *key);

//  Positions cursor (on self->blocks) on id_no's block that holds the
//  point (time_ms, measure number), the last that starts at or before
//  it (*holds = true), or else on id_no's first block after it (*holds =
//  false); key and val are that block's. Returns 0, MDB_NOTFOUND if
//  id_no has neither, or an LMDB code.
int ts_store_lmdb_block_seek (MDB_cursor *cursor, uint32_t id_no,
                              int64_t time_ms, uint16_t measure,
                              MDB_val *key, MDB_val *val, bool *holds);

//  Decodes the block key, val into out (replacing its points). Returns
//  0, TS_EBACKEND if the block is malformed, or TS_ENOMEM.
int ts_store_lmdb_block_decode (const MDB_val *key, const MDB_val *val,
                                ts_store_lmdb_run_t *out);

//  Upserts run (sorted as a run is) into id_no's blocks inside write
//  txn. Returns 0 or a TS_E* code with err filled.
int ts_store_lmdb_history_merge (ts_store_lmdb_t *self, MDB_txn *txn,
                                 uint32_t id_no,
                                 const ts_store_lmdb_run_t *run, char *err);

//  Upserts pts of id into history inside write txn, numbering the id and
//  measures that are new (as ts_store_lmdb_history_put, without stamp).
//  Returns 0 or a TS_E* code with err filled: TS_ETOOBIG if the store has
//  no measure number left, TS_EBACKEND if LMDB failed.
int ts_store_lmdb_history_write (ts_store_lmdb_t *self, MDB_txn *txn,
                                 const char *id, const ts_points_t *pts,
                                 char *err);

//  Looks up the numbers of id and measure (if not NULL) in txn and opens
//  *cursor on the blocks. Returns 0, TS_ENOTFOUND (err untouched) if
//  either has no number (nothing of it is stored), or a TS_E* code with
//  err filled.
int ts_store_lmdb_history_open (ts_store_lmdb_t *self, MDB_txn *txn,
                                const char *id, const char *measure,
                                uint32_t *id_no, uint16_t *measure_no,
                                MDB_cursor **cursor, char *err);

//  Appends to out the history points of id in [from_ms, to_ms] (only
//  those of measure if not NULL), at most max, read in txn. Returns 0 or
//  a TS_E* code with err filled (TS_ETOOBIG: more than max).
int ts_store_lmdb_history_read (ts_store_lmdb_t *self, MDB_txn *txn,
                                const char *id, const char *measure,
                                int64_t from_ms, int64_t to_ms, size_t max,
                                ts_points_t *out, char *err);

//  Deletes every block of id inside write txn; sets *deleted if there
//  was one. Returns 0 or a TS_E* code with err filled.
int ts_store_lmdb_history_delete (ts_store_lmdb_t *self, MDB_txn *txn,
                                  const char *id, bool *deleted, char *err);

//  --- forecast records (ts_store_lmdb_points.c) -----------------------------

//  Replaces the forecast of id with pts (none: deleted) inside write txn,
//  expiring at expires_ms, and touches the id's stamp. Returns 0 or a
//  TS_E* code with err filled.
int ts_store_lmdb_forecast_put (ts_store_lmdb_t *self, MDB_txn *txn,
                                const char *id, const ts_points_t *pts,
                                int64_t expires_ms, char *err);

//  Decodes forecast record val into run to check it. Returns 0, or
//  TS_EBACKEND if it is malformed, TS_ENOMEM.
int ts_store_lmdb_forecast_check (const MDB_val *val,
                                  ts_store_lmdb_run_t *run);

//  --- fetch status (ts_store_lmdb_status.c) --------------------------------

//  Bytes of created_ms at the start of an ids record.
#define TS_STORE_LMDB_ID_CREATED   8

//  Reads the status of registered id, whose ids record is record, in
//  txn (zero if it has none). Returns 0 or an LMDB code.
int ts_store_lmdb_status_get (ts_store_lmdb_t *self, MDB_txn *txn,
                              const char *id, const MDB_val *record,
                              ts_store_status_t *status);

//  Applies mark in write txn (ignored for an id not registered, or older
//  than its attempt), touching the id's stamp. Returns 0 or an LMDB
//  code.
int ts_store_lmdb_status_mark (ts_store_lmdb_t *self, MDB_txn *txn,
                               const ts_store_mark_t *mark);

//  Deletes the status of id in write txn. Returns 0 or an LMDB code.
int ts_store_lmdb_status_delete (ts_store_lmdb_t *self, MDB_txn *txn,
                                 const char *id);

//  The ops ids_status and ids_mark (ts_store_backend.h).
int ts_store_lmdb_ids_status (void *state, const char *id, bool *exists,
                              ts_store_status_t *status, char *err);
int ts_store_lmdb_ids_mark (void *state, const ts_store_mark_t *marks,
                            size_t n, char *err);

//  --- numbers (ts_store_lmdb_format.c) ------------------------------------

#define TS_STORE_LMDB_ID_LEN       4    //  bytes of an id number in keys
#define TS_STORE_LMDB_MEASURE_LEN  2    //  bytes of a measure number
//  A history key of format 2: id number, time, measure number.
#define TS_STORE_LMDB_KEY_LEN  (TS_STORE_LMDB_ID_LEN + TS_LMDB_TIME_LEN \
                                + TS_STORE_LMDB_MEASURE_LEN)

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
//  is created in it; formats 1 and 2 are migrated). path is for messages. Returns
//  0 or a TS_E* code with err filled (TS_EBACKEND: a format this code
//  does not read, a malformed record, LMDB failed).
int ts_store_lmdb_format_open (ts_store_lmdb_t *self, MDB_txn *txn,
                               const char *path, char *err);

#endif
