/*  ts_store_lmdb_history - the history of the LMDB backend in per-id
    blocks (format 3): writes merged into the blocks they touch, range
    reads and forgetting an id's history.

    A block holds consecutive points of one id under the key "id_no (4)
    time (8) measure_no (2)" of its first point; its value is those
    points as one encoded run (ts_store_lmdb_run.c), the first time's
    delta taken from the key. An id's blocks never overlap: block k holds
    the points from its key's (time, measure) up to (not including) the
    next block's, sorted by time, then measure number, one point per
    (time, measure); so the points of one time may be cut between two
    blocks (when a time has more measures than a block holds).

    A block is at most S_BLOCK_BYTES, so that a full one fills a single
    4 KiB overflow page (LMDB keeps a value of more than about 2 KB on
    pages of its own, and allocating runs of several such pages from a
    fragmented free list is slow); under about 2 KB it sits in a leaf.
    At five-minute points of one measure a full block is about 700
    points, two and a half days.

    A write is merged into the blocks it touches: its points, sorted,
    are cut at the existing blocks' bounds; each part is merged with its
    block (a new point replaces the stored one of the same time and
    measure; points before the id's first block join that block if all
    fit in it) and the result is encoded again, as one block or, when it no longer fits, as
    several (the first ones full). A part that changes nothing (a fetch
    that sends back what is stored) writes nothing. A document of a day of points so costs one or two puts,
    against one per point in format 2.

    Part of the LMDB backend (ts_store_lmdb.h). Argument checks are done
    by ts_store.c; this file trusts its inputs but not the bytes it reads
    back from the file. */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_lmdb.h"

#define S_KEY_LEN      TS_STORE_LMDB_BLOCK_KEY_LEN
#define S_ID_LEN       TS_STORE_LMDB_ID_LEN
#define S_BLOCK_BYTES  TS_STORE_LMDB_BLOCK_BYTES
#define S_POINTS_MAX   TS_STORE_LMDB_BLOCK_POINTS

//  --- keys ------------------------------------------------------------------

static void
s_key_make (unsigned char *buf, uint32_t id_no, int64_t time_ms,
            uint16_t measure)
{
    buf [0] = (unsigned char) (id_no >> 24);
    buf [1] = (unsigned char) (id_no >> 16);
    buf [2] = (unsigned char) (id_no >> 8);
    buf [3] = (unsigned char) id_no;
    ts_lmdb_time_put (buf + S_ID_LEN, time_ms);
    buf [S_KEY_LEN - 2] = (unsigned char) (measure >> 8);
    buf [S_KEY_LEN - 1] = (unsigned char) measure;
}

bool
ts_store_lmdb_block_is (const MDB_val *key, uint32_t id_no)
{
    const unsigned char *k = key->mv_data;
    return key->mv_size == S_KEY_LEN
        && ((uint32_t) k [0] << 24 | (uint32_t) k [1] << 16
            | (uint32_t) k [2] << 8 | k [3]) == id_no;
}

int64_t
ts_store_lmdb_block_time (const MDB_val *key)
{
    return ts_lmdb_time_get ((const unsigned char *) key->mv_data + S_ID_LEN);
}

//  The measure number of a block key (its first point's).
static uint16_t
s_block_measure (const MDB_val *key)
{
    const unsigned char *k = key->mv_data;
    return (uint16_t) (k [S_KEY_LEN - 2] << 8 | k [S_KEY_LEN - 1]);
}

int
ts_store_lmdb_block_seek (MDB_cursor *cursor, uint32_t id_no,
                          int64_t time_ms, uint16_t measure, MDB_val *key,
                          MDB_val *val, bool *holds)
{
    unsigned char want [S_KEY_LEN];
    s_key_make (want, id_no, time_ms, measure);
    *key = (MDB_val) { S_KEY_LEN, want };
    int rc = mdb_cursor_get (cursor, key, val, MDB_SET_RANGE);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    bool after = rc == 0 && ts_store_lmdb_block_is (key, id_no);
    if (after && ts_store_lmdb_block_time (key) == time_ms
    &&  s_block_measure (key) == measure) {
        *holds = true;                  //  a block starts right there
        return 0;
    }
    //  The block before the one found (or the last of all) holds time_ms
    //  if it is id_no's.
    rc = mdb_cursor_get (cursor, key, val, rc == 0? MDB_PREV: MDB_LAST);
    if (rc == 0 && ts_store_lmdb_block_is (key, id_no)) {
        *holds = true;
        return 0;
    }
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    *holds = false;
    if (!after)
        return MDB_NOTFOUND;
    //  Back to the first block after time_ms.
    s_key_make (want, id_no, time_ms, measure);
    *key = (MDB_val) { S_KEY_LEN, want };
    return mdb_cursor_get (cursor, key, val, MDB_SET_RANGE);
}

int
ts_store_lmdb_block_decode (const MDB_val *key, const MDB_val *val,
                            ts_store_lmdb_run_t *out)
{
    out->n = 0;
    if (key->mv_size != S_KEY_LEN || val->mv_size > S_BLOCK_BYTES)
        return TS_EBACKEND;
    int64_t first_ms = ts_store_lmdb_block_time (key);
    int rc = ts_store_lmdb_decode (val->mv_data, val->mv_size, first_ms,
                                   S_POINTS_MAX, out);
    //  The first point is the key's.
    if (rc == 0 && (out->n == 0 || out->time_ms [0] != first_ms
                    || out->measure [0] != s_block_measure (key)))
        rc = TS_EBACKEND;
    return rc;
}

//  --- writing ---------------------------------------------------------------

//  Scratch of one write: the block being merged and the merged points.
typedef struct {
    ts_store_lmdb_run_t block;
    ts_store_lmdb_run_t merged;
} s_scratch_t;

//  Writes points of run (sorted, one per time and measure) as blocks of
//  id_no: as many blocks as they need, keyed by their first points.
static int
s_put_blocks (ts_store_lmdb_t *self, MDB_txn *txn, uint32_t id_no,
              const ts_store_lmdb_run_t *run)
{
    unsigned char buf [S_BLOCK_BYTES], kbuf [S_KEY_LEN];
    for (size_t from = 0; from < run->n; ) {
        //  Each block finds its own scale, from 0 up.
        int scale = 0;
        size_t size, count = ts_store_lmdb_encode (run, from, S_POINTS_MAX,
                                                   run->time_ms [from], buf,
                                                   sizeof buf, &size, &scale);
        assert (count > 0);
        s_key_make (kbuf, id_no, run->time_ms [from], run->measure [from]);
        MDB_val key = { S_KEY_LEN, kbuf }, val = { size, buf };
        int rc = mdb_put (txn, self->blocks, &key, &val, 0);
        if (rc)
            return rc;
        from += count;
    }
    return 0;
}

//  Whether run's points all fit in one block.
static bool
s_fits (const ts_store_lmdb_run_t *run)
{
    unsigned char buf [S_BLOCK_BYTES];
    size_t size;
    int scale = 0;
    return run->n <= S_POINTS_MAX
        && ts_store_lmdb_encode (run, 0, S_POINTS_MAX, run->time_ms [0], buf,
                                 sizeof buf, &size, &scale) == run->n;
}

//  Merges points [from, to) of run into block (decoded; block->n == 0:
//  none) as merged. Returns whether anything changed.
static bool
s_merge (const ts_store_lmdb_run_t *block, const ts_store_lmdb_run_t *run,
         size_t from, size_t to, ts_store_lmdb_run_t *merged)
{
    bool changed = false;
    size_t i = 0, j = from, n = 0;
    while (i < block->n || j < to) {
        int cmp = i == block->n? 1: j == to? -1
                : ts_store_lmdb_run_cmp (block, i, run, j);
        if (cmp < 0) {
            ts_store_lmdb_run_set (merged, n++, block->time_ms [i], block->measure [i],
                       block->value [i]);
            i++;
            continue;
        }
        if (cmp == 0) {
            changed |= memcmp (&block->value [i], &run->value [j],
                               sizeof (double)) != 0;
            i++;
        }
        else
            changed = true;
        ts_store_lmdb_run_set (merged, n++, run->time_ms [j], run->measure [j],
                   run->value [j]);
        j++;
    }
    merged->n = n;
    return changed;
}

int
ts_store_lmdb_history_merge (ts_store_lmdb_t *self, MDB_txn *txn,
                             uint32_t id_no, const ts_store_lmdb_run_t *run,
                             char *err)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->blocks, &cursor);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    s_scratch_t s = { { 0 }, { 0 } };
    int ts_rc = 0;
    for (size_t i = 0; i < run->n && rc == 0 && ts_rc == 0; ) {
        //  The block that holds point i - or, for points before the
        //  id's first block, that block, so that they join it rather than
        //  start a block of their own - and where the one after starts
        //  (next: its first point, as a run of one).
        MDB_val key, val;
        bool holds;
        rc = ts_store_lmdb_block_seek (cursor, id_no, run->time_ms [i],
                                       run->measure [i], &key, &val, &holds);
        if (rc && rc != MDB_NOTFOUND)
            break;
        bool found = rc == 0, has_next = false, moved = false;
        int64_t next_ms = 0;
        uint16_t next_measure = 0;
        unsigned char old_key [S_KEY_LEN];
        s.block.n = 0;
        if (found) {
            ts_rc = ts_store_lmdb_block_decode (&key, &val, &s.block);
            if (ts_rc)
                break;
            memcpy (old_key, key.mv_data, S_KEY_LEN);
            moved = !holds;             //  its first point will be ours
            rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
            has_next = rc == 0 && ts_store_lmdb_block_is (&key, id_no);
            if (has_next) {
                next_ms = ts_store_lmdb_block_time (&key);
                next_measure = s_block_measure (&key);
            }
            if (rc && rc != MDB_NOTFOUND)
                break;
        }
        rc = 0;
        //  The points of the write that belong in that block.
        ts_store_lmdb_run_t next = { 1, 1, &next_ms, &next_measure, NULL };
        size_t to = i + 1;
        while (to < run->n
           &&  (!has_next || ts_store_lmdb_run_cmp (run, to, &next, 0) < 0))
            to++;
        ts_rc = ts_store_lmdb_run_reserve (&s.merged, s.block.n + (to - i));
        if (ts_rc)
            break;
        if (s_merge (&s.block, run, i, to, &s.merged)) {
            //  Points before the first block join it only if all fit one
            //  block: else they go in blocks of their own, so that going
            //  back in time a point at a time fills blocks rather than
            //  cutting a point off the full one each time.
            if (moved && !s_fits (&s.merged)) {
                //  (Those before the block's first point only; the rest
                //  are the next turn's, which finds the block holds them.)
                moved = false;
                size_t before = i;
                while (before < to && ts_store_lmdb_run_cmp (run, before,
                                                             &s.block, 0) < 0)
                    before++;
                s.merged.n = 0;
                for (size_t k = i; k < before; k++)
                    ts_store_lmdb_run_set (&s.merged, s.merged.n++,
                                           run->time_ms [k], run->measure [k],
                                           run->value [k]);
                to = before;
            }
            //  Written again whole: over the old key where its first point
            //  stays first, else under the new first point's.
            if (moved) {
                MDB_val gone = { S_KEY_LEN, old_key };
                rc = mdb_del (txn, self->blocks, &gone, NULL);
            }
            if (rc == 0)
                rc = s_put_blocks (self, txn, id_no, &s.merged);
        }
        i = to;
    }
    mdb_cursor_close (cursor);
    ts_store_lmdb_run_fini (&s.block);
    ts_store_lmdb_run_fini (&s.merged);
    if (ts_rc == TS_ENOMEM)
        ts_errf (err, "lmdb: out of memory writing history");
    else
    if (ts_rc)
        ts_errf (err, "lmdb: malformed history block (store damaged)");
    if (ts_rc)
        return ts_rc;
    return rc? ts_store_lmdb_fail (self, rc, err): 0;
}

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
    ts_store_lmdb_run_t run = { 0 };
    rc = ts_store_lmdb_run_from (self, txn, id, pts, &run, err);
    if (rc == 0)
        rc = ts_store_lmdb_history_merge (self, txn, id_no, &run, err);
    ts_store_lmdb_run_fini (&run);
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
    if (rc == 0) {
        rc = ts_store_lmdb_stamp_touch (self, txn, id,
                                        TS_STORE_LMDB_KEEP_EXPIRY);
        if (rc)
            rc = ts_store_lmdb_fail (self, rc, err);
    }
    return ts_lmdb_end (&self->lmdb, txn, rc, err);
}

//  --- reading ---------------------------------------------------------------

int
ts_store_lmdb_history_open (ts_store_lmdb_t *self, MDB_txn *txn,
                            const char *id, const char *measure,
                            uint32_t *id_no, uint16_t *measure_no,
                            MDB_cursor **cursor, char *err)
{
    *measure_no = 0;
    int rc = ts_store_lmdb_id_number (self, txn, id, false, id_no, err);
    if (rc == 0 && measure)
        rc = ts_store_lmdb_measure_number (self, txn, measure,
                                           strlen (measure), false,
                                           measure_no, err);
    if (rc)
        return rc;
    rc = mdb_cursor_open (txn, self->blocks, cursor);
    return rc? ts_store_lmdb_fail (self, rc, err): 0;
}

int
ts_store_lmdb_history_read (ts_store_lmdb_t *self, MDB_txn *txn,
                            const char *id, const char *measure,
                            int64_t from_ms, int64_t to_ms, size_t max,
                            ts_points_t *out, char *err)
{
    uint32_t id_no;
    uint16_t measure_no;
    MDB_cursor *cursor;
    int rc = ts_store_lmdb_history_open (self, txn, id, measure, &id_no,
                                         &measure_no, &cursor, err);
    if (rc)
        return rc == TS_ENOTFOUND? 0: rc;       //  nothing stored
    ts_store_lmdb_names_t map = { NULL, 0 };
    ts_store_lmdb_run_t block = { 0 };
    size_t first = out->n, appended = 0;
    bool over = false;              //  the range holds more than max
    int ts_rc = 0;
    MDB_val key, val;
    bool holds;
    rc = ts_store_lmdb_block_seek (cursor, id_no, from_ms, 0, &key, &val,
                                   &holds);
    while (rc == 0 && ts_rc == 0 && !over
       &&  ts_store_lmdb_block_is (&key, id_no)
       &&  ts_store_lmdb_block_time (&key) <= to_ms) {
        ts_rc = ts_store_lmdb_block_decode (&key, &val, &block);
        if (ts_rc) {
            if (ts_rc == TS_EBACKEND)
                ts_errf (err, "lmdb: malformed history block of id '%s'",
                         id);
            break;
        }
        for (size_t i = 0; i < block.n && ts_rc == 0; i++) {
            int64_t time_ms = block.time_ms [i];
            uint16_t no = block.measure [i];
            if (time_ms < from_ms || (measure && no != measure_no))
                continue;
            if (time_ms > to_ms)
                break;
            if (appended++ == max) {
                over = true;
                break;
            }
            uint16_t index;
            ts_rc = ts_store_lmdb_names_index (self, txn, &map, no, out,
                                               &index, err);
            if (ts_rc == 0)
                ts_rc = ts_points_append_at (out, time_ms, index,
                                             block.value [i]);
        }
        if (ts_rc == 0 && !over)
            rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    free (map.index);
    ts_store_lmdb_run_fini (&block);
    if (ts_rc && ts_rc != TS_EBACKEND && !(err && *err))
        ts_errf (err, "lmdb: %s reading id '%s'", ts_strerror (ts_rc), id);
    if (ts_rc)
        return ts_rc;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return ts_store_lmdb_fail (self, rc, err);
    if (!measure && ts_store_lmdb_sort_names (out, first) != 0) {
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
    rc = ts_store_lmdb_history_read (self, txn, id, measure, from_ms, to_ms,
                                     max, out, err);
    ts_store_lmdb_abort (self, txn);
    return rc;
}

//  --- deleting --------------------------------------------------------------

int
ts_store_lmdb_history_delete (ts_store_lmdb_t *self, MDB_txn *txn,
                              const char *id, bool *deleted, char *err)
{
    uint32_t id_no;
    int rc = ts_store_lmdb_id_number (self, txn, id, false, &id_no, err);
    if (rc)
        return rc == TS_ENOTFOUND? 0: rc;   //  no history was ever written
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->blocks, &cursor);
    if (rc)
        return ts_store_lmdb_fail (self, rc, err);
    unsigned char start [S_KEY_LEN];
    s_key_make (start, id_no, INT64_MIN, 0);
    MDB_val key = { S_KEY_LEN, start }, val;
    rc = mdb_cursor_get (cursor, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && ts_store_lmdb_block_is (&key, id_no)) {
        rc = mdb_cursor_del (cursor, 0);
        if (rc)
            break;
        *deleted = true;
        //  After a delete the cursor already sits on the next key, and
        //  MDB_GET_CURRENT returns it (MDB_NEXT would too, not skipping).
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close (cursor);
    return rc && rc != MDB_NOTFOUND? ts_store_lmdb_fail (self, rc, err): 0;
}
