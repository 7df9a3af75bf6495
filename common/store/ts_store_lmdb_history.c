/*  ts_store_lmdb_history - the history of the LMDB backend in per-id
    blocks (format 3): the block codec, writes merged into the blocks
    they touch, range reads and forgetting an id's history.

    A block holds consecutive points of one id under the key "id_no (4)
    time (8) measure_no (2)" of its first point. An id's blocks never
    overlap: block k holds the points from its key's (time, measure) up
    to (not including) the next block's, sorted by time, then measure
    number, one point per (time, measure); so the points of one time may
    be cut between two blocks (when a time has more measures than a block
    holds). The value is

        kind (1)    S_RAW: values are 8-byte doubles;
                    S_SCALED: values are decimals, see below
        scale (1)   S_SCALED: the power of ten (0..S_SCALE_MAX)
        points      per point: varint time delta (from the previous
                    point; the first point's is 0), varint measure
                    number, then the value: S_RAW, 8 bytes (native
                    order); S_SCALED, zigzag varint of n - the previous
                    point's n, where value == (double) n / 10^scale

    Most upstreams send decimals with a few digits (21.37), which
    S_SCALED keeps in one to three bytes. A value goes in scaled only if
    that division gives back its exact bits (the encoder does the
    decoder's division and compares), so no value is ever changed; a
    block with any value that does not (1/3, NaN, -0) is S_RAW. Points of
    five minutes apart cost 3 bytes of time, one of measure.

    A block is at most S_BLOCK_BYTES, so that a full one fills a single
    4 KiB overflow page (LMDB keeps a value of more than about 2 KB on
    pages of its own, and allocating runs of several such pages from a
    fragmented free list is slow); under about 2 KB it sits in a leaf.
    At five-minute points of one measure a full block is about 700
    points, two and a half days.

    A write is merged into the blocks it touches: its points, sorted,
    are cut at the existing blocks' bounds; each part is merged with its
    block (a new point replaces the stored one of the same time and
    measure) and the result is encoded again, as one block or, when it
    no longer fits, as several (the first ones full). A part that
    changes nothing (a fetch that sends back what is stored) writes
    nothing. A document of a day of points so costs one or two puts,
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
#define S_HEAD         2                    //  kind, scale
#define S_POINT_MAX    (10 + 3 + 9)         //  the longest point encoded
#define S_RAW          1
#define S_SCALED       2
#define S_SCALE_MAX    12
//  |n| below 2^53: every n is exact as a double, deltas fit a varint.
#define S_SCALED_MAX   9007199254740992.0

static const double s_pow10 [S_SCALE_MAX + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12
};

//  --- runs ------------------------------------------------------------------

void
ts_store_lmdb_run_fini (ts_store_lmdb_run_t *self)
{
    free (self->time_ms);
    free (self->measure);
    free (self->value);
    memset (self, 0, sizeof *self);
}

int
ts_store_lmdb_run_reserve (ts_store_lmdb_run_t *self, size_t n)
{
    if (n <= self->size)
        return 0;
    size_t size = self->size? self->size: 64;
    while (size < n)
        size *= 2;
    int64_t *time_ms = realloc (self->time_ms, size * sizeof *time_ms);
    if (time_ms)
        self->time_ms = time_ms;
    uint16_t *measure = realloc (self->measure, size * sizeof *measure);
    if (measure)
        self->measure = measure;
    double *value = realloc (self->value, size * sizeof *value);
    if (value)
        self->value = value;
    if (!time_ms || !measure || !value)
        return TS_ENOMEM;
    self->size = size;
    return 0;
}

static inline void
s_run_set (ts_store_lmdb_run_t *self, size_t i, int64_t time_ms,
           uint16_t measure, double value)
{
    self->time_ms [i] = time_ms;
    self->measure [i] = measure;
    self->value [i] = value;
}

//  Compares point i of a with point j of b by time, then measure.
static inline int
s_run_cmp (const ts_store_lmdb_run_t *a, size_t i,
           const ts_store_lmdb_run_t *b, size_t j)
{
    if (a->time_ms [i] != b->time_ms [j])
        return a->time_ms [i] < b->time_ms [j]? -1: 1;
    if (a->measure [i] != b->measure [j])
        return a->measure [i] < b->measure [j]? -1: 1;
    return 0;
}

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

//  --- the codec -------------------------------------------------------------

static inline unsigned char *
s_varint_put (unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char) (v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char) v;
    return p;
}

//  Reads a varint at *p (before end) into *v. Returns false if it runs
//  past end or over 64 bits.
static inline bool
s_varint_get (const unsigned char **p, const unsigned char *end,
              uint64_t *v)
{
    uint64_t out = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char byte = *(*p)++;
        out |= (uint64_t) (byte & 0x7f) << shift;
        if (byte < 0x80) {
            *v = out;
            return true;
        }
    }
    return false;
}

static inline uint64_t
s_zigzag (int64_t v)
{
    return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

static inline int64_t
s_unzigzag (uint64_t v)
{
    return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

//  Whether value is (double) n / 10^scale exactly, bit for bit; sets *n.
static inline bool
s_scaled (double value, int scale, int64_t *n)
{
    double s = value * s_pow10 [scale];
    if (!(s > -S_SCALED_MAX && s < S_SCALED_MAX))
        return false;                   //  too large, or NaN
    int64_t i = (int64_t) (s < 0? s - 0.5: s + 0.5);
    double back = (double) i / s_pow10 [scale];
    if (memcmp (&back, &value, sizeof back) != 0)
        return false;                   //  not a short decimal, or -0
    *n = i;
    return true;
}

//  The smallest scale above at_least that keeps value exactly, or -1.
static int
s_scale_for (double value, int at_least)
{
    int64_t n;
    for (int scale = at_least + 1; scale <= S_SCALE_MAX; scale++)
        if (s_scaled (value, scale, &n))
            return scale;
    return -1;
}

//  Encodes points from.. of run into buf (S_BLOCK_BYTES): as many as fit
//  (at least one, at most S_POINTS_MAX). *scale is the scale to try
//  first (-1: raw) and is left at the one used. Returns how many points,
//  *size the bytes.
static size_t
s_encode (const ts_store_lmdb_run_t *run, size_t from, unsigned char *buf,
          size_t *size, int *scale)
{
    size_t end = run->n - from > S_POINTS_MAX? from + S_POINTS_MAX: run->n;
again:
    buf [0] = *scale < 0? S_RAW: S_SCALED;
    buf [1] = *scale < 0? 0: (unsigned char) *scale;
    unsigned char *p = buf + S_HEAD;
    int64_t prev_time = run->time_ms [from], prev_n = 0;
    size_t i;
    for (i = from; i < end; i++) {
        if ((size_t) (p - buf) + S_POINT_MAX > S_BLOCK_BYTES)
            break;                      //  the block is full
        int64_t n = 0;
        if (*scale >= 0 && !s_scaled (run->value [i], *scale, &n)) {
            //  A value with more decimals than the scale: start again at
            //  a scale that keeps it, or raw.
            *scale = s_scale_for (run->value [i], *scale);
            goto again;
        }
        p = s_varint_put (p, (uint64_t) run->time_ms [i]
                             - (uint64_t) prev_time);
        p = s_varint_put (p, run->measure [i]);
        if (*scale < 0) {
            memcpy (p, &run->value [i], sizeof (double));
            p += sizeof (double);
        }
        else {
            p = s_varint_put (p, s_zigzag (n - prev_n));
            prev_n = n;
        }
        prev_time = run->time_ms [i];
    }
    *size = (size_t) (p - buf);
    return i - from;
}

int
ts_store_lmdb_block_decode (const MDB_val *key, const MDB_val *val,
                            ts_store_lmdb_run_t *out)
{
    out->n = 0;
    const unsigned char *p = val->mv_data, *end = p + val->mv_size;
    if (key->mv_size != S_KEY_LEN || val->mv_size < S_HEAD
    ||  val->mv_size > S_BLOCK_BYTES
    ||  (p [0] != S_RAW && p [0] != S_SCALED)
    ||  (p [0] == S_SCALED && p [1] > S_SCALE_MAX))
        return TS_EBACKEND;
    if (ts_store_lmdb_run_reserve (out, S_POINTS_MAX))
        return TS_ENOMEM;
    bool raw = p [0] == S_RAW;
    double div = s_pow10 [raw? 0: p [1]];
    p += S_HEAD;
    uint64_t time = (uint64_t) ts_store_lmdb_block_time (key);
    uint16_t first = s_block_measure (key);
    int64_t n = 0;
    size_t i = 0;
    while (p < end) {
        uint64_t delta, measure, zz;
        if (i == S_POINTS_MAX || !s_varint_get (&p, end, &delta)
        ||  (i == 0 && delta != 0) || (i > 0 && delta > INT64_MAX)
        ||  !s_varint_get (&p, end, &measure) || measure > UINT16_MAX
        ||  (i == 0 && measure != first))
            return TS_EBACKEND;
        int64_t before = i? out->time_ms [i - 1]: 0;
        time += delta;
        out->time_ms [i] = (int64_t) time;
        out->measure [i] = (uint16_t) measure;
        //  Strictly ascending (time, measure), without wrapping around.
        if (i > 0 && (out->time_ms [i] < before
                      || (delta == 0 && measure <= out->measure [i - 1])))
            return TS_EBACKEND;
        if (raw) {
            if (end - p < (ptrdiff_t) sizeof (double))
                return TS_EBACKEND;
            memcpy (&out->value [i], p, sizeof (double));
            p += sizeof (double);
        }
        else {
            if (!s_varint_get (&p, end, &zz))
                return TS_EBACKEND;
            n = (int64_t) ((uint64_t) n + (uint64_t) s_unzigzag (zz));
            out->value [i] = (double) n / div;
        }
        i++;
    }
    out->n = i;
    return i? 0: TS_EBACKEND;
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
    int scale = 0;
    for (size_t from = 0; from < run->n; ) {
        //  The scale of the block before is the first tried; after a
        //  raw one, scaled is tried again.
        if (scale < 0)
            scale = 0;
        size_t size, count = s_encode (run, from, buf, &size, &scale);
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
                : s_run_cmp (block, i, run, j);
        if (cmp < 0) {
            s_run_set (merged, n++, block->time_ms [i], block->measure [i],
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
        s_run_set (merged, n++, run->time_ms [j], run->measure [j],
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
        //  The block that holds point i, and where the next one starts
        //  (next: its first point, as a run of one).
        MDB_val key, val;
        bool holds;
        rc = ts_store_lmdb_block_seek (cursor, id_no, run->time_ms [i],
                                       run->measure [i], &key, &val, &holds);
        if (rc && rc != MDB_NOTFOUND)
            break;
        bool has_next = rc == 0 && !holds;
        int64_t next_ms = 0;
        uint16_t next_measure = 0;
        if (has_next) {
            next_ms = ts_store_lmdb_block_time (&key);
            next_measure = s_block_measure (&key);
        }
        s.block.n = 0;
        if (rc == 0 && holds) {
            ts_rc = ts_store_lmdb_block_decode (&key, &val, &s.block);
            if (ts_rc)
                break;
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
        while (to < run->n && (!has_next || s_run_cmp (run, to, &next, 0) < 0))
            to++;
        ts_rc = ts_store_lmdb_run_reserve (&s.merged, s.block.n + (to - i));
        if (ts_rc)
            break;
        if (s_merge (&s.block, run, i, to, &s.merged)) {
            //  Written again whole, over the old key: its first point
            //  stays first (points go into the block that holds them).
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

//  Orders indexes of a run by time, then measure, then index.
static int
s_index_order (const void *a, const void *b, void *arg)
{
    const ts_store_lmdb_run_t *run = arg;
    size_t i = *(const size_t *) a, j = *(const size_t *) b;
    int cmp = s_run_cmp (run, i, run, j);
    if (cmp)
        return cmp;
    return i < j? -1: i > j;
}

//  Sorts run by time, then measure, keeping the last given of equal
//  points. Returns 0 or TS_ENOMEM.
static int
s_run_sort (ts_store_lmdb_run_t *run)
{
    bool sorted = true;
    for (size_t i = 1; i < run->n && sorted; i++)
        sorted = s_run_cmp (run, i - 1, run, i) < 0;
    if (sorted)
        return 0;                       //  upstreams send them so
    size_t *order = malloc (run->n * sizeof *order);
    ts_store_lmdb_run_t copy = { 0 };
    if (!order || ts_store_lmdb_run_reserve (&copy, run->n)) {
        free (order);
        ts_store_lmdb_run_fini (&copy);
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < run->n; i++)
        order [i] = i;
    qsort_r (order, run->n, sizeof *order, s_index_order, run);
    size_t kept = 0;
    for (size_t i = 0; i < run->n; i++) {
        size_t k = order [i];
        if (i + 1 < run->n && s_run_cmp (run, k, run, order [i + 1]) == 0)
            continue;                   //  a later one of equals wins
        s_run_set (&copy, kept++, run->time_ms [k], run->measure [k],
                   run->value [k]);
    }
    copy.n = kept;
    free (order);
    ts_store_lmdb_run_fini (run);
    *run = copy;
    return 0;
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
    //  The number of each measure of the list, looked up once, on first
    //  use (a list's table may hold names none of its points use).
    uint32_t small [16];
    uint32_t *numbers = pts->n_measures <= 16? small
                      : malloc (pts->n_measures * sizeof *numbers);
    ts_store_lmdb_run_t run = { 0 };
    if (!numbers || ts_store_lmdb_run_reserve (&run, pts->n)) {
        if (numbers != small)
            free (numbers);
        ts_errf (err, "lmdb: out of memory writing id '%s'", id);
        return TS_ENOMEM;
    }
    for (size_t j = 0; j < pts->n_measures; j++)
        numbers [j] = UINT32_MAX;
    for (size_t i = 0; i < pts->n && rc == 0; i++) {
        uint16_t m = pts->measure [i];
        if (numbers [m] == UINT32_MAX) {
            uint16_t no;
            const char *name = pts->measures [m];
            rc = ts_store_lmdb_measure_number (self, txn, name, strlen (name),
                                               true, &no, err);
            if (rc)
                break;
            numbers [m] = no;
        }
        s_run_set (&run, i, pts->time_ms [i], (uint16_t) numbers [m],
                   pts->value [i]);
    }
    run.n = pts->n;
    if (numbers != small)
        free (numbers);
    if (rc == 0 && s_run_sort (&run) != 0) {
        ts_errf (err, "lmdb: out of memory writing id '%s'", id);
        rc = TS_ENOMEM;
    }
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
    if (rc) {
        ts_store_lmdb_abort (self, txn);
        return rc;
    }
    rc = ts_store_lmdb_stamp_touch (self, txn, id, TS_STORE_LMDB_KEEP_EXPIRY);
    if (rc)
        return ts_store_lmdb_txn_fail (self, txn, rc, err);
    return ts_store_lmdb_commit (self, txn, err);
}

//  --- reading ---------------------------------------------------------------

//  Orders measure indexes of a list by name.
static int
s_name_order (const void *a, const void *b, void *arg)
{
    char **measures = arg;
    return strcmp (measures [*(const uint16_t *) a],
                   measures [*(const uint16_t *) b]);
}

//  Sorts each run of equal times among points start.. of out by measure
//  name (insertion sort by rank: runs are short, and most are in order
//  already). Returns 0 or TS_ENOMEM.
static int
s_sort_runs (ts_points_t *out, size_t start)
{
    if (out->n_measures < 2)
        return 0;
    bool runs = false;
    for (size_t i = start + 1; i < out->n && !runs; i++)
        runs = out->time_ms [i] == out->time_ms [i - 1];
    if (!runs)
        return 0;
    uint16_t *order = malloc (out->n_measures * sizeof *order);
    uint16_t *rank = malloc (out->n_measures * sizeof *rank);
    if (!order || !rank) {
        free (order);
        free (rank);
        return TS_ENOMEM;
    }
    for (size_t j = 0; j < out->n_measures; j++)
        order [j] = (uint16_t) j;
    qsort_r (order, out->n_measures, sizeof *order, s_name_order,
             out->measures);
    for (size_t j = 0; j < out->n_measures; j++)
        rank [order [j]] = (uint16_t) j;
    for (size_t i = start + 1; i < out->n; i++) {
        if (out->time_ms [i] != out->time_ms [i - 1]
        ||  rank [out->measure [i]] > rank [out->measure [i - 1]])
            continue;
        uint16_t m = out->measure [i];
        double value = out->value [i];
        size_t k = i;
        while (k > start && out->time_ms [k - 1] == out->time_ms [i]
           &&  rank [out->measure [k - 1]] > rank [m]) {
            out->measure [k] = out->measure [k - 1];
            out->value [k] = out->value [k - 1];
            k--;
        }
        out->measure [k] = m;
        out->value [k] = value;
    }
    free (order);
    free (rank);
    return 0;
}

//  Maps measure numbers to indexes of an output list (index + 1; 0: not
//  looked up yet), grown on demand.
typedef struct {
    uint32_t *index;
    size_t    size;
} s_measure_map_t;

//  The index in out of measure number no, added to out the first time.
//  Returns 0 or a TS_E* code.
static int
s_measure_index (ts_store_lmdb_t *self, MDB_txn *txn, s_measure_map_t *map,
                 uint16_t no, ts_points_t *out, uint16_t *index, char *err)
{
    if (no >= map->size) {
        size_t size = map->size? map->size: 16;
        while (size <= no)
            size *= 2;
        uint32_t *grown = realloc (map->index, size * sizeof *grown);
        if (!grown)
            return TS_ENOMEM;
        memset (grown + map->size, 0, (size - map->size) * sizeof *grown);
        map->index = grown;
        map->size = size;
    }
    if (map->index [no] == 0) {
        const char *name;
        size_t len;
        uint16_t at;
        int rc = ts_store_lmdb_measure_name (self, txn, no, &name, &len, err);
        if (rc == 0)
            rc = ts_points_measure_index (out, name, len, &at);
        if (rc)
            return rc;
        map->index [no] = (uint32_t) at + 1;
    }
    *index = (uint16_t) (map->index [no] - 1);
    return 0;
}

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
    s_measure_map_t map = { NULL, 0 };
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
            ts_rc = s_measure_index (self, txn, &map, no, out, &index, err);
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
    if (!measure && s_sort_runs (out, first) != 0) {
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
