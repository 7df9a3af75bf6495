/*  test_ts_store_lmdb_blocks - the history blocks of the LMDB backend
    (format 3, ts_store_lmdb_history.c): random writes against a model
    (merges, splits, duplicates, unsorted points, reads of any range,
    scans both ways), values kept bit for bit, the bounds of a block,
    malformed blocks, and the migration of a format 2 store (history and
    forecast records). Each test
    gets a fresh temporary directory, removed afterwards. */

#include <float.h>
#include <math.h>

#include "ts_store_lmdb.h"
#include "ts_store_lmdb_fixture.h"

//  A small deterministic generator (xorshift64*).
static uint64_t s_seed = 88172645463325252ULL;

static uint64_t
s_rand (void)
{
    s_seed ^= s_seed >> 12;
    s_seed ^= s_seed << 25;
    s_seed ^= s_seed >> 27;
    return s_seed * 2685821657736338717ULL;
}

static size_t
s_below (size_t n)
{
    return (size_t) (s_rand () % n);
}

//  A value of one of the kinds upstreams send, and some they should not.
static double
s_value (void)
{
    switch (s_below (10)) {
        case 0:  return (double) ((int64_t) s_below (2000) - 1000);
        case 1:
        case 2:
        case 3:  return ((int64_t) s_below (200000) - 100000) / 100.0;
        case 4:  return ((int64_t) s_below (2000000) - 1000000) / 1e6;
        case 5:  return (double) (s_rand () >> 11) / 9007199254740992.0;
        case 6:  {
            static const double odd [] = {
                -0.0, 0.0, 1.0 / 3, 5e-324, DBL_MAX, -DBL_MAX, 1e300,
                9007199254740993.0, 0.30000000000000004, 1e-13,
                123456789.123456789, 4503599627370495.5 };
            return odd [s_below (sizeof odd / sizeof odd [0])];
        }
        case 7:  return s_below (2)? INFINITY: -INFINITY;
        case 8:  return NAN;
        default: return 21.5;
    }
}

//  --- raw blocks ----------------------------------------------------------


//  Calls fn on every block of the store in path (to check or change
//  it): fn returns a new value's size (0: leave it) in buf.
typedef size_t (block_fn) (const MDB_val *key, const MDB_val *val,
                           unsigned char *buf, void *arg);

static size_t
s_blocks (const char *path, block_fn *fn, void *arg)
{
    MDB_env *env = s_raw_env (path);
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cursor;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "blocks", 0, &dbi), 0);
    assert_int_equal (mdb_cursor_open (txn, dbi, &cursor), 0);
    size_t n = 0;
    MDB_val key, val;
    int rc = mdb_cursor_get (cursor, &key, &val, MDB_FIRST);
    while (rc == 0) {
        unsigned char buf [TS_STORE_LMDB_BLOCK_BYTES + 64];
        size_t size = fn (&key, &val, buf, arg);
        if (size) {
            MDB_val nval = { size, buf };
            assert_int_equal (mdb_cursor_put (cursor, &key, &nval,
                                              MDB_CURRENT), 0);
        }
        n++;
        rc = mdb_cursor_get (cursor, &key, &val, MDB_NEXT);
    }
    assert_int_equal (rc, MDB_NOTFOUND);
    mdb_cursor_close (cursor);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    return n;
}

typedef struct {
    ts_store_lmdb_run_t run;
    size_t   points;
    size_t   most_bytes;
    int64_t  end;              //  the last block's last time
    uint16_t end_measure;      //  and measure
    unsigned char id [TS_STORE_LMDB_ID_LEN];    //  of the last block
    bool     any;
} census_t;

//  Decodes each block: every one decodes, within its bounds, after the
//  block before.
static size_t
s_census_fn (const MDB_val *key, const MDB_val *val, unsigned char *buf,
             void *arg)
{
    census_t *census = arg;
    assert_int_equal (ts_store_lmdb_block_decode (key, val, &census->run),
                      0);
    assert_true (val->mv_size <= TS_STORE_LMDB_BLOCK_BYTES);
    if (val->mv_size > census->most_bytes)
        census->most_bytes = val->mv_size;
    assert_int_equal (census->run.time_ms [0], ts_store_lmdb_block_time (key));
    if (census->any && memcmp (census->id, key->mv_data,
                               TS_STORE_LMDB_ID_LEN) == 0)
        assert_true (census->run.time_ms [0] > census->end
                     || (census->run.time_ms [0] == census->end
                         && census->run.measure [0] > census->end_measure));
    memcpy (census->id, key->mv_data, TS_STORE_LMDB_ID_LEN);
    census->end = census->run.time_ms [census->run.n - 1];
    census->end_measure = census->run.measure [census->run.n - 1];
    census->any = true;
    census->points += census->run.n;
    return 0;
}

//  Takes the census of every block of the store in path (closed): the
//  blocks counted, census filled (its run freed).
static size_t
s_census (const char *path, census_t *census)
{
    *census = (census_t) { .any = false };
    size_t blocks = s_blocks (path, s_census_fn, census);
    ts_store_lmdb_run_fini (&census->run);
    return blocks;
}

//  --- the model ---------------------------------------------------------

//  Times are SLOTS slots of STEP ms from BASE (so that they cross zero),
//  three measures; the model keeps each (id, slot, measure) cell.
#define IDS      3
#define SLOTS    3000
#define STEP     300000
#define BASE     (-(int64_t) 1000 * STEP)
#define MEASURES 3

static const char *s_ids [IDS] = { "a", "b-2", "c.3" };
static const char *s_measures [MEASURES] = { "temp", "rain", "wind" };

typedef struct {
    bool   set [IDS][SLOTS][MEASURES];
    double value [IDS][SLOTS][MEASURES];
} model_t;

static int64_t
s_time (size_t slot)
{
    return BASE + (int64_t) slot * STEP;
}

//  The measures in name order: rain, temp, wind.
static const size_t s_by_name [MEASURES] = { 1, 0, 2 };

//  Checks one read of id (measure index, or MEASURES for any) of slots
//  [from, to] against the model.
static void
s_check_range (fixture_t *self, const model_t *model, size_t id,
               size_t measure, size_t from, size_t to)
{
    char err [TS_ERRLEN] = "";
    ts_points_t *out = ts_points_new ();
    assert_non_null (out);
    int rc = ops->history_range (self->lmdb, s_ids [id],
                                 measure < MEASURES? s_measures [measure]
                                                   : NULL,
                                 s_time (from), s_time (to), SIZE_MAX, out,
                                 err);
    if (rc)
        fail_msg ("range of %s: %s", s_ids [id], err);
    size_t k = 0;
    for (size_t slot = from; slot <= to; slot++)
        for (size_t j = 0; j < MEASURES; j++) {
            size_t m = s_by_name [j];
            if (!model->set [id][slot][m] || (measure < MEASURES
                                              && m != measure))
                continue;
            if (k >= out->n)
                fail_msg ("%s: %zu points read, more expected", s_ids [id],
                          out->n);
            if (out->time_ms [k] != s_time (slot)
            ||  strcmp (ts_points_measure (out, k), s_measures [m]) != 0
            ||  memcmp (&out->value [k], &model->value [id][slot][m],
                        sizeof (double)) != 0)
                fail_msg ("%s point %zu: %lld %s %.17g, model %lld %s %.17g",
                          s_ids [id], k, (long long) out->time_ms [k],
                          ts_points_measure (out, k), out->value [k],
                          (long long) s_time (slot), s_measures [m],
                          model->value [id][slot][m]);
            k++;
        }
    if (k != out->n)
        fail_msg ("%s: %zu points read, %zu in the model", s_ids [id],
                  out->n, k);
    ts_points_destroy (&out);
}

typedef struct {
    size_t  n;
    int64_t last;
    bool    reverse;
    bool    ordered;
} scan_t;

static int
s_scan_fn (void *arg, int64_t time_ms, const char *measure, double value)
{
    scan_t *scan = arg;
    if (scan->n && (scan->reverse? time_ms > scan->last
                                 : time_ms < scan->last))
        scan->ordered = false;
    scan->last = time_ms;
    scan->n++;
    return 0;
}

//  Counts the model's points of id in slots [from, to].
static size_t
s_model_count (const model_t *model, size_t id, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t slot = from; slot <= to; slot++)
        for (size_t m = 0; m < MEASURES; m++)
            n += model->set [id][slot][m];
    return n;
}

static void
history_blocks_match_a_model_under_random_writes (void **state)
{
    fixture_t *self = *state;
    //  Another sequence of writes: TSCACHE_TEST_SEED=N (not 0).
    const char *seed = getenv ("TSCACHE_TEST_SEED");
    if (seed && strtoull (seed, NULL, 10))
        s_seed = strtoull (seed, NULL, 10);
    model_t *model = calloc (1, sizeof *model);
    assert_non_null (model);
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    for (int op = 0; op < 400; op++) {
        size_t id = s_below (IDS);
        //  A run of slots: a stride of 1 to 3, up to a few blocks long,
        //  one to three measures at each time.
        size_t stride = 1 + s_below (3);
        size_t count = 1 + s_below (op % 10 == 0? 1500: 300);
        size_t start = s_below (SLOTS);
        size_t measures = 1 + s_below (MEASURES);
        ts_points_clear (pts);
        for (size_t i = 0; i < count; i++) {
            size_t slot = start + i * stride;
            if (slot >= SLOTS)
                break;
            for (size_t m = 0; m < measures; m++) {
                double value = s_value ();
                assert_int_equal (ts_points_append (pts, s_time (slot),
                                  s_measures [m], value), 0);
                //  Sometimes the same point twice: the last one wins.
                if (s_below (20) == 0) {
                    value = s_value ();
                    assert_int_equal (ts_points_append (pts, s_time (slot),
                                      s_measures [m], value), 0);
                }
            }
        }
        //  Sometimes out of order: swap points far apart (equal points
        //  keep their order, as the model applies them).
        if (op % 7 == 0)
            for (size_t k = 0; k + 1 < pts->n; k += 2) {
                size_t j = s_below (pts->n);
                if (pts->time_ms [j] == pts->time_ms [k])
                    continue;
                int64_t t = pts->time_ms [k];
                uint16_t m = pts->measure [k];
                double v = pts->value [k];
                pts->time_ms [k] = pts->time_ms [j];
                pts->measure [k] = pts->measure [j];
                pts->value [k] = pts->value [j];
                pts->time_ms [j] = t;
                pts->measure [j] = m;
                pts->value [j] = v;
            }
        for (size_t k = 0; k < pts->n; k++) {
            size_t slot = (size_t) ((pts->time_ms [k] - BASE) / STEP);
            size_t m = 0;
            while (strcmp (s_measures [m], ts_points_measure (pts, k)))
                m++;
            model->set [id][slot][m] = true;
            model->value [id][slot][m] = pts->value [k];
        }
        if (ops->history_put (self->lmdb, s_ids [id], pts, err))
            fail_msg ("put: %s", err);

        if (op % 40 == 39) {
            for (size_t i = 0; i < IDS; i++)
                s_check_range (self, model, i, MEASURES, 0, SLOTS - 1);
            for (int r = 0; r < 20; r++) {
                size_t a = s_below (SLOTS), b = s_below (SLOTS);
                size_t from = a < b? a: b, to = a < b? b: a;
                size_t i = s_below (IDS);
                s_check_range (self, model, i, s_below (MEASURES + 1),
                               from, to);
                //  Scans see the same points, in order both ways.
                for (int reverse = 0; reverse < 2; reverse++) {
                    scan_t scan = { .reverse = reverse, .ordered = true };
                    assert_int_equal (ops->history_scan (self->lmdb,
                                      s_ids [i], NULL, s_time (from),
                                      s_time (to), reverse, s_scan_fn,
                                      &scan, err), 0);
                    assert_int_equal (scan.n,
                                      s_model_count (model, i, from, to));
                    assert_true (scan.ordered);
                }
                //  More than max in the range is refused.
                size_t n = s_model_count (model, i, from, to);
                if (n > 0) {
                    ts_points_t *out = ts_points_new ();
                    assert_int_equal (ops->history_range (self->lmdb,
                                      s_ids [i], NULL, s_time (from),
                                      s_time (to), n - 1, out, err),
                                      TS_ETOOBIG);
                    ts_points_destroy (&out);
                }
            }
        }
    }
    //  Between slots, before the first and after the last: nothing more.
    for (size_t i = 0; i < IDS; i++) {
        ts_points_t *out = ts_points_new ();
        assert_int_equal (ops->history_range (self->lmdb, s_ids [i], NULL,
                          s_time (5) + 1, s_time (6) - 1, SIZE_MAX, out,
                          err), 0);
        assert_int_equal (out->n, 0);
        assert_int_equal (ops->history_range (self->lmdb, s_ids [i], NULL,
                          FOREVER_FROM, FOREVER_TO, SIZE_MAX, out, err), 0);
        assert_int_equal (out->n, s_model_count (model, i, 0, SLOTS - 1));
        ts_points_destroy (&out);
    }
    ts_points_destroy (&pts);
    //  The writes went into many blocks, each one in bounds.
    ops->close (self->lmdb);
    self->lmdb = NULL;
    census_t census;
    size_t blocks = s_census (self->base->path, &census);
    size_t total = 0;
    for (size_t i = 0; i < IDS; i++)
        total += s_model_count (model, i, 0, SLOTS - 1);
    assert_int_equal (census.points, total);
    assert_true (blocks > 30);
    free (model);
}

//  One time with more measures than a block holds: its points are cut
//  between blocks, and writes into any of them land where they belong.
static void
one_time_with_more_measures_than_a_block_holds (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    for (int round = 0; round < 3; round++) {
        ts_points_clear (pts);
        for (int m = round; m < 1500; m += 1 + round) {
            char name [16];
            snprintf (name, sizeof name, "m%04d", m);
            assert_int_equal (ts_points_append (pts, 7, name,
                              m / 3.0 + round), 0);
        }
        assert_int_equal (ops->history_put (self->lmdb, "a", pts, err), 0);
    }
    //  Measure m was last written by the last round r with m % (1 + r)
    //  == r.
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ops->history_range (self->lmdb, "a", NULL, 7, 7,
                      SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 1500);
    for (int m = 0; m < 1500; m++) {
        int last = 0;
        for (int r = 0; r < 3; r++)
            if (m >= r && (m - r) % (1 + r) == 0)
                last = r;
        char name [16];
        snprintf (name, sizeof name, "m%04d", m);
        assert_string_equal (ts_points_measure (out, (size_t) m), name);
        assert_true (out->value [m] == m / 3.0 + last);
    }
    ts_points_clear (out);
    assert_int_equal (ops->history_range (self->lmdb, "a", "m1499",
                      FOREVER_FROM, FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 1);
    scan_t scan = { .reverse = true, .ordered = true };
    assert_int_equal (ops->history_scan (self->lmdb, "a", NULL, 7, 7, true,
                      s_scan_fn, &scan, err), 0);
    assert_int_equal (scan.n, 1500);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
    ops->close (self->lmdb);
    self->lmdb = NULL;
    census_t census;
    assert_true (s_census (self->base->path, &census) >= 4);
    assert_int_equal (census.points, 1500);
}

static void
values_are_kept_bit_for_bit_and_blocks_stay_in_bounds (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    ts_points_t *out = ts_points_new ();
    //  Five-minute points of 2 decimals (scaled), then odd values (raw):
    //  blocks of both kinds, several of each.
    for (int64_t i = 0; i < 5000; i++)
        assert_int_equal (ts_points_append (pts, i * 300000, "temp",
                          (double) ((i * 7919) % 4001 - 2000) / 100), 0);
    for (int64_t i = 5000; i < 8000; i++)
        assert_int_equal (ts_points_append (pts, i * 300000, "temp",
                          s_value ()), 0);
    assert_int_equal (ops->history_put (self->lmdb, "a", pts, err), 0);
    assert_int_equal (ops->history_range (self->lmdb, "a", NULL, FOREVER_FROM,
                      FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, pts->n);
    for (size_t i = 0; i < pts->n; i++)
        if (out->time_ms [i] != pts->time_ms [i]
        ||  memcmp (&out->value [i], &pts->value [i], sizeof (double)))
            fail_msg ("point %zu: %.17g read, %.17g written", i,
                      out->value [i], pts->value [i]);

    //  Every block decodes within bounds; the scaled ones are small.
    ops->close (self->lmdb);
    self->lmdb = NULL;
    census_t census;
    size_t blocks = s_census (self->base->path, &census);
    assert_int_equal (census.points, 8000);
    assert_true (census.most_bytes <= TS_STORE_LMDB_BLOCK_BYTES);
    //  5,000 scaled points in about 6 bytes each; 3,000 raw in 12 to 15.
    assert_true (blocks >= 10 && blocks <= 25);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

//  Breaks the first block a given way (arg: which).
static size_t
s_break_fn (const MDB_val *key, const MDB_val *val, unsigned char *buf,
            void *arg)
{
    int *which = arg;
    if (*which < 0)
        return 0;                       //  only the first block
    size_t size = val->mv_size;
    memcpy (buf, val->mv_data, size);
    switch (*which) {
        case 0:  buf [0] = 9; break;                //  unknown kind
        case 1:  size = 1; break;                   //  no header
        case 2:  buf [2] = 5; break;                //  first delta not 0
        case 3:  buf [size - 1] |= 0x80; break;     //  varint runs out
        case 4:  buf [1] = 40; break;               //  scale too large
        case 5:  size = 2; break;                   //  no points
        case 6:  size = 4; break;                   //  half a point
        default: size = size > 2 + 3 * 64? 2 + 3 * 64 + 2: size - 1;
                 break;                             //  cut mid-point
    }
    *which = -1;
    return size;
}

static void
malformed_block_is_an_error_not_a_crash (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    for (int64_t i = 0; i < 100; i++)
        assert_int_equal (ts_points_append (pts, i * 1000, "temp",
                          i / 4.0), 0);
    for (int how = 0; how < 8; how++) {
        char id [8];
        snprintf (id, sizeof id, "m%d", how);
        assert_int_equal (ops->history_put (self->lmdb, id, pts, err), 0);
        ops->close (self->lmdb);
        self->lmdb = NULL;
        //  Each round breaks the first block of the store: id m<how>'s
        //  after the blocks of the ids broken before are forgotten.
        int which = how;
        s_blocks (self->base->path, s_break_fn, &which);
        self->lmdb = ops->open (self->base->cfg, err);
        assert_non_null (self->lmdb);

        ts_points_t *out = ts_points_new ();
        err [0] = '\0';
        assert_int_equal (ops->history_range (self->lmdb, id, NULL,
                          FOREVER_FROM, FOREVER_TO, SIZE_MAX, out, err),
                          TS_EBACKEND);
        assert_non_null (strstr (err, "malformed history block"));
        scan_t scan = { .ordered = true };
        assert_int_equal (ops->history_scan (self->lmdb, id, NULL,
                          FOREVER_FROM, FOREVER_TO, false, s_scan_fn, &scan,
                          err), TS_EBACKEND);
        //  A write into it fails whole; forgetting the id clears it.
        assert_int_equal (ops->history_put (self->lmdb, id, pts, err),
                          TS_EBACKEND);
        assert_int_equal (ops->forget (self->lmdb, TS_STORE_HISTORY, id,
                                       err), 0);
        ts_points_clear (out);
        assert_int_equal (ops->history_range (self->lmdb, id, NULL,
                          FOREVER_FROM, FOREVER_TO, SIZE_MAX, out, err), 0);
        assert_int_equal (out->n, 0);
        ts_points_destroy (&out);
    }
    ts_points_destroy (&pts);
}

//  Times 2^63 apart and more in one block; points written one at a time
//  going back in time join the blocks after them instead of making a
//  block each.
static void
extreme_times_and_backward_writes (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, -1, "v", 1.0), 0);
    assert_int_equal (ts_points_append (pts, INT64_MAX, "v", 2.0), 0);
    assert_int_equal (ops->history_put (self->lmdb, "x", pts, err), 0);
    ts_points_clear (pts);
    assert_int_equal (ts_points_append (pts, INT64_MIN, "v", 3.0), 0);
    assert_int_equal (ops->history_put (self->lmdb, "x", pts, err), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ops->history_range (self->lmdb, "x", NULL,
                      FOREVER_FROM, FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_true (out->time_ms [0] == INT64_MIN && out->value [0] == 3.0);
    assert_true (out->time_ms [1] == -1 && out->value [1] == 1.0);
    assert_true (out->time_ms [2] == INT64_MAX && out->value [2] == 2.0);
    ts_points_clear (out);
    scan_t scan = { .reverse = true, .ordered = true };
    assert_int_equal (ops->history_scan (self->lmdb, "x", NULL, FOREVER_FROM,
                      FOREVER_TO, true, s_scan_fn, &scan, err), 0);
    assert_int_equal (scan.n, 3);
    assert_true (scan.ordered);

    for (int64_t i = 999; i >= 0; i--) {
        ts_points_clear (pts);
        assert_int_equal (ts_points_append (pts, i * 300000, "v",
                          (double) i / 4), 0);
        assert_int_equal (ops->history_put (self->lmdb, "y", pts, err), 0);
    }
    assert_int_equal (ops->history_range (self->lmdb, "y", NULL,
                      FOREVER_FROM, FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 1000);
    for (size_t i = 0; i < out->n; i++)
        assert_true (out->time_ms [i] == (int64_t) i * 300000
                     && out->value [i] == (double) i / 4);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
    ops->close (self->lmdb);
    self->lmdb = NULL;
    census_t census;
    size_t blocks = s_census (self->base->path, &census);
    assert_int_equal (census.points, 1003);
    //  "x" in one block, "y"'s 1,000 points in a few full ones.
    assert_true (blocks <= 6);
}

static void
forecast_record_read_whole_checks_its_count (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    for (int64_t i = 0; i < 10; i++)
        assert_int_equal (ts_points_append (pts, i * 1000, i % 2? "b": "a",
                          i / 8.0), 0);
    assert_int_equal (ops->forecast_replace (self->lmdb, "f", pts, INT64_MAX,
                                             err), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ops->forecast_range (self->lmdb, "f", "b", 2000, 7000,
                      0, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_true (out->time_ms [0] == 3000 && out->value [0] == 3 / 8.0);
    ops->close (self->lmdb);
    self->lmdb = NULL;
    //  The record says 11 points and holds 10: a whole read finds out, a
    //  read that stops before the end cannot and need not.
    MDB_env *env = s_raw_env (self->base->path);
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val key = { 1, "f" }, val;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "forecasts", 0, &dbi), 0);
    assert_int_equal (mdb_get (txn, dbi, &key, &val), 0);
    unsigned char buf [512];
    uint32_t count = 11;
    assert_true (val.mv_size <= sizeof buf);
    memcpy (buf, val.mv_data, val.mv_size);
    memcpy (buf + 8, &count, sizeof count);
    MDB_val nval = { val.mv_size, buf };
    assert_int_equal (mdb_put (txn, dbi, &key, &nval, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    self->lmdb = ops->open (self->base->cfg, err);
    assert_non_null (self->lmdb);
    ts_points_clear (out);
    assert_int_equal (ops->forecast_range (self->lmdb, "f", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), TS_EBACKEND);
    assert_non_null (strstr (err, "malformed forecast record of id 'f'"));
    ts_points_clear (out);
    assert_int_equal (ops->forecast_range (self->lmdb, "f", NULL, 0, 4500,
                      0, out, err), 0);
    assert_int_equal (out->n, 5);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

//  --- format 2 ------------------------------------------------------------


static void
s_raw_u32 (MDB_txn *txn, const char *name, uint32_t value)
{
    s_raw_put (txn, "meta", name, strlen (name), &value, sizeof value);
}

//  Puts a format 2 history point: id_no (4) time (8) measure_no (2).
static void
s_raw_point (MDB_txn *txn, uint32_t id_no, int64_t time_ms,
             uint16_t measure_no, double value)
{
    unsigned char key [TS_STORE_LMDB_KEY_LEN] = {
        (unsigned char) (id_no >> 24), (unsigned char) (id_no >> 16),
        (unsigned char) (id_no >> 8), (unsigned char) id_no };
    ts_lmdb_time_put (key + TS_STORE_LMDB_ID_LEN, time_ms);
    key [TS_STORE_LMDB_KEY_LEN - 2] = (unsigned char) (measure_no >> 8);
    key [TS_STORE_LMDB_KEY_LEN - 1] = (unsigned char) measure_no;
    s_raw_put (txn, "points", key, sizeof key, &value, sizeof value);
}

//  The value of point i of id "b" in the format 2 store.
static double
s_format_2_value (int64_t i)
{
    return i % 3 == 0? i / 3.0: i / 100.0;
}

static void
format_2_store_is_migrated_to_blocks_on_open (void **state)
{
    fixture_t *self = *state;
    ops->close (self->lmdb);
    self->lmdb = NULL;
    char path [sizeof self->base->dir + 16];
    snprintf (path, sizeof path, "%s/two", self->base->dir);
    assert_int_equal (ts_mkdirs (path, 0750), 0);
    MDB_env *env = s_raw_env (path);
    MDB_txn *txn;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    s_raw_u32 (txn, "format", 2);
    s_raw_u32 (txn, "ids", 2);
    s_raw_u32 (txn, "measures", 2);
    //  Ids "a" (0) and "b" (1); measures "zeta" (0) and "alpha" (1).
    const unsigned char zero [4] = { 0, 0, 0, 0 }, one [4] = { 0, 0, 0, 1 };
    s_raw_put (txn, "names", "ia", 2, zero, 4);
    s_raw_put (txn, "names", "ib", 2, one, 4);
    const unsigned char m0 [3] = { 'M', 0, 0 }, m1 [3] = { 'M', 0, 1 };
    s_raw_put (txn, "names", "mzeta", 5, zero, 2);
    s_raw_put (txn, "names", m0, 3, "zeta", 4);
    s_raw_put (txn, "names", "malpha", 6, one + 2, 2);
    s_raw_put (txn, "names", m1, 3, "alpha", 5);
    int64_t created = 1;
    s_raw_put (txn, "ids", "a", 1, &created, sizeof created);
    s_raw_put (txn, "ids", "b", 1, &created, sizeof created);
    for (int64_t t = -3; t < 3; t++) {
        s_raw_point (txn, 0, t * 1000, 0, t * 1.5);
        s_raw_point (txn, 0, t * 1000, 1, t * 0.25);
    }
    for (int64_t i = 0; i < 70000; i++)         //  more than one chunk
        s_raw_point (txn, 1, i * 60000, 0, s_format_2_value (i));
    //  A format 1 binary run on it by mistake wrote point 5 of "b" again
    //  ("history": id \0 time (8, BE, sign flipped) measure -> value):
    //  its value is the newer one and wins.
    unsigned char old [2 + 8 + 4] = { 'b', 0 };
    ts_lmdb_time_put (old + 2, 5 * 60000);
    memcpy (old + 10, "zeta", 4);
    double newer = 99.5;
    s_raw_put (txn, "history", old, sizeof old, &newer, sizeof newer);
    //  Forecast records of format 2: expires, count, then time, value,
    //  name length, name; one for "a", a malformed one for "b".
    unsigned char rec [12 + 21 + 22];
    int64_t expires = INT64_MAX, time_ms = 5000;
    uint32_t count = 2;
    double value = 7.5;
    memcpy (rec, &expires, 8);
    memcpy (rec + 8, &count, 4);
    memcpy (rec + 12, &time_ms, 8);
    memcpy (rec + 20, &value, 8);
    rec [28] = 4;
    memcpy (rec + 29, "zeta", 4);
    time_ms = 6000;
    value = 1.0 / 3;
    memcpy (rec + 33, &time_ms, 8);
    memcpy (rec + 41, &value, 8);
    rec [49] = 5;
    memcpy (rec + 50, "alpha", 5);
    s_raw_put (txn, "forecasts", "a", 1, rec, sizeof rec);
    s_raw_put (txn, "forecasts", "b", 1, rec, sizeof rec - 3);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);

    ts_config_t *cfg = ts_testutil_config (path, STORE_MB, STORE_YAML);
    assert_non_null (cfg);
    char err [TS_ERRLEN] = "";
    void *lmdb = ops->open (cfg, err);
    if (!lmdb)
        fail_msg ("open: %s", err);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ops->history_range (lmdb, "a", NULL, FOREVER_FROM,
                      FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 12);
    for (size_t i = 0; i < out->n; i++) {
        int64_t t = (int64_t) (i / 2) - 3;
        bool alpha = i % 2 == 0;
        assert_int_equal (out->time_ms [i], t * 1000);
        assert_string_equal (ts_points_measure (out, i),
                             alpha? "alpha": "zeta");
        assert_true (out->value [i] == (alpha? t * 0.25: t * 1.5));
    }
    ts_points_clear (out);
    assert_int_equal (ops->history_range (lmdb, "b", "zeta", FOREVER_FROM,
                      FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 70000);
    for (size_t i = 0; i < out->n; i++) {
        double want = i == 5? 99.5: s_format_2_value ((int64_t) i);
        if (out->time_ms [i] != (int64_t) i * 60000
        ||  memcmp (&out->value [i], &want, sizeof want))
            fail_msg ("point %zu of b differs", i);
    }
    //  The forecasts: "a"'s as it was, "b"'s dropped.
    ts_points_clear (out);
    assert_int_equal (ops->forecast_range (lmdb, "a", NULL, FOREVER_FROM,
                      FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 2);
    assert_string_equal (ts_points_measure (out, 0), "zeta");
    assert_true (out->value [0] == 7.5);
    assert_string_equal (ts_points_measure (out, 1), "alpha");
    assert_true (out->value [1] == 1.0 / 3);
    ts_points_clear (out);
    assert_int_equal (ops->forecast_range (lmdb, "b", NULL, FOREVER_FROM,
                      FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 0);
    //  New measures are numbered after the old ones.
    ts_points_clear (out);
    assert_int_equal (ts_points_append (out, 5, "new", 1.0), 0);
    assert_int_equal (ops->history_put (lmdb, "a", out, err), 0);
    ts_points_destroy (&out);
    ops->close (lmdb);

    //  Format 3 recorded, the points table gone.
    env = s_raw_env (path);
    assert_int_equal (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn), 0);
    MDB_dbi dbi;
    assert_int_equal (mdb_dbi_open (txn, "points", 0, &dbi), MDB_NOTFOUND);
    assert_int_equal (mdb_dbi_open (txn, "meta", 0, &dbi), 0);
    MDB_val k = { 6, "format" }, v;
    assert_int_equal (mdb_get (txn, dbi, &k, &v), 0);
    uint32_t format;
    memcpy (&format, v.mv_data, sizeof format);
    assert_int_equal (format, 3);
    MDB_val mk = { 3, "M\0\2" };
    assert_int_equal (mdb_dbi_open (txn, "names", 0, &dbi), 0);
    assert_int_equal (mdb_get (txn, dbi, &mk, &v), 0);
    assert_int_equal (v.mv_size, 3);
    mdb_txn_abort (txn);
    mdb_env_close (env);
    census_t census;
    s_census (path, &census);
    ts_config_destroy (&cfg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (history_blocks_match_a_model_under_random_writes),
        T (one_time_with_more_measures_than_a_block_holds),
        T (extreme_times_and_backward_writes),
        T (forecast_record_read_whole_checks_its_count),
        T (values_are_kept_bit_for_bit_and_blocks_stay_in_bounds),
        T (malformed_block_is_an_error_not_a_crash),
        T (format_2_store_is_migrated_to_blocks_on_open),
#undef T
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_store_lmdb_blocks", tests, NULL,
                                        NULL);
}
