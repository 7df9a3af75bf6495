/*  test_ts_store_lmdb - the LMDB backend through its ops table: the
    parts ts_store.c routes to it (forget, one read per query, documents
    with another backend's NULL parts), the numbering of ids and measures
    and the migration of a format 1 store on open. The history blocks of
    format 3 and the migration of format 2 are tested in
    test_ts_store_lmdb_blocks.c. Each test gets a fresh temporary
    directory, removed afterwards. */

#include "ts_store_lmdb_fixture.h"

//  A list of n points of measure at start, start + step, ...; value =
//  time * scale.
static ts_points_t *
s_points (const char *measure, int64_t start, int64_t step, size_t n,
          double scale)
{
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    for (size_t i = 0; i < n; i++) {
        int64_t t = start + (int64_t) i * step;
        assert_int_equal (ts_points_append (pts, t, measure, t * scale), 0);
    }
    return pts;
}

//  Number of history (or, with forecast, unexpired forecast at now 0)
//  points of id.
static size_t
s_count (void *lmdb, const char *id, bool forecast)
{
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN] = "";
    int rc = forecast
        ? ops->forecast_range (lmdb, id, NULL, FOREVER_FROM, FOREVER_TO, 0,
                               out, err)
        : ops->history_range (lmdb, id, NULL, FOREVER_FROM, FOREVER_TO,
                              SIZE_MAX, out, err);
    if (rc)
        fail_msg ("range of %s: %s", id, err);
    size_t n = out->n;
    ts_points_destroy (&out);
    return n;
}

static uint64_t
s_version (void *lmdb, const char *id)
{
    ts_store_stamp_t stamp;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ops->stamp (lmdb, id, &stamp, err), 0);
    return stamp.version;
}

//  --- the ops that span roles ---------------------------------------------

static void
lmdb_keeps_stamps_snapshots_atomic_writes_deletes_and_any_time (void **state)
{
    (void) state;
    assert_int_equal (ops->caps, TS_STORE_CAP_STAMPS | TS_STORE_CAP_SNAPSHOT
                                 | TS_STORE_CAP_ATOMIC | TS_STORE_CAP_FORGET
                                 | TS_STORE_CAP_ALLTIME);
    assert_non_null (ops->forget);
    assert_non_null (ops->read);
}

static void
write_leaves_a_null_part_alone_and_an_empty_forecast_replaces (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *h1 = s_points ("value", 1000, 100, 3, 1.0);
    ts_points_t *f1 = s_points ("value", 9000, 100, 2, 1.0);
    ts_points_t *empty = ts_points_new ();
    ts_store_doc_t doc = { "a", h1, f1, 0 };
    assert_int_equal (ops->write (self->lmdb, &doc, 1, INT64_MAX, err), 0);

    //  History only: the forecast stays.
    ts_points_t *h2 = s_points ("value", 2000, 100, 2, 1.0);
    doc = (ts_store_doc_t) { "a", h2, NULL, 0 };
    assert_int_equal (ops->write (self->lmdb, &doc, 1, INT64_MAX, err), 0);
    assert_int_equal (s_count (self->lmdb, "a", false), 5);
    assert_int_equal (s_count (self->lmdb, "a", true), 2);

    //  Forecast only: the history stays; an empty one replaces it by none.
    uint64_t before = s_version (self->lmdb, "a");
    doc = (ts_store_doc_t) { "a", NULL, empty, 0 };
    assert_int_equal (ops->write (self->lmdb, &doc, 1, INT64_MAX, err), 0);
    assert_int_equal (s_count (self->lmdb, "a", false), 5);
    assert_int_equal (s_count (self->lmdb, "a", true), 0);
    assert_true (s_version (self->lmdb, "a") > before);

    //  Both NULL: nothing at all.
    doc = (ts_store_doc_t) { "a", NULL, NULL, 0 };
    before = s_version (self->lmdb, "a");
    assert_int_equal (ops->write (self->lmdb, &doc, 1, INT64_MAX, err), 0);
    assert_int_equal (s_count (self->lmdb, "a", false), 5);
    assert_true (s_version (self->lmdb, "a") == before);
    ts_points_destroy (&h1);
    ts_points_destroy (&h2);
    ts_points_destroy (&f1);
    ts_points_destroy (&empty);
}

static void
forget_deletes_history_or_forecast_and_keeps_the_registry (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a", "b" };
    assert_int_equal (ops->ids_add (self->lmdb, ids, 2, NULL, err), 0);
    ts_points_t *h = s_points ("value", 1000, 100, 3, 1.0);
    ts_points_t *f = s_points ("value", 9000, 100, 2, 1.0);
    ts_store_doc_t docs [] = { { "a", h, f, 0 }, { "b", h, f, 0 } };
    assert_int_equal (ops->write (self->lmdb, docs, 2, 5000, err), 0);

    uint64_t v0 = s_version (self->lmdb, "a");
    uint64_t b0 = s_version (self->lmdb, "b");
    assert_int_equal (ops->forget (self->lmdb, TS_STORE_HISTORY, "a", err),
                      0);
    assert_int_equal (s_count (self->lmdb, "a", false), 0);
    assert_int_equal (s_count (self->lmdb, "a", true), 2);
    uint64_t v1 = s_version (self->lmdb, "a");
    assert_true (v1 > v0);

    assert_int_equal (ops->forget (self->lmdb, TS_STORE_FORECAST, "a", err),
                      0);
    assert_int_equal (s_count (self->lmdb, "a", true), 0);
    ts_store_stamp_t stamp;
    assert_int_equal (ops->stamp (self->lmdb, "a", &stamp, err), 0);
    assert_true (stamp.version > v1);
    assert_true (stamp.expires_ms == INT64_MAX);

    //  The registry keeps the id; forgetting what is not there is no
    //  change; b is untouched.
    bool exists = false;
    assert_int_equal (ops->ids_exists (self->lmdb, "a", &exists, err), 0);
    assert_true (exists);
    assert_int_equal (ops->forget (self->lmdb, TS_STORE_HISTORY
                                   | TS_STORE_FORECAST, "a", err), 0);
    assert_true (s_version (self->lmdb, "a") == stamp.version);
    assert_int_equal (ops->forget (self->lmdb, TS_STORE_HISTORY, "never",
                                   err), 0);
    assert_int_equal (s_count (self->lmdb, "b", false), 3);
    assert_int_equal (s_count (self->lmdb, "b", true), 2);
    assert_true (s_version (self->lmdb, "b") == b0);
    ts_points_destroy (&h);
    ts_points_destroy (&f);
}

static void
read_answers_existence_history_and_forecast_in_one_call (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a" };
    assert_int_equal (ops->ids_add (self->lmdb, ids, 1, NULL, err), 0);
    ts_points_t *h = s_points ("value", 1000, 100, 10, 1.0);
    ts_points_t *f = s_points ("value", 9000, 100, 5, 1.0);
    ts_store_doc_t docs [] = { { "a", h, f, 0 }, { "stray", h, f, 0 } };
    assert_int_equal (ops->write (self->lmdb, docs, 2, 5000, err), 0);

    ts_store_query_t q = { "a", NULL, 1200, 9200, 4999, 100 };
    ts_store_answer_t ans = { .history = ts_points_new (),
                              .forecast = ts_points_new () };
    assert_int_equal (ops->read (self->lmdb, TS_STORE_ROLES, &q, &ans, err),
                      0);
    assert_true (ans.exists);
    assert_int_equal (ans.history->n, 8);           //  1200 .. 1900
    assert_int_equal (ans.history->time_ms [0], 1200);
    assert_int_equal (ans.forecast->n, 3);          //  9000 .. 9200

    //  Expired at now: no forecast; past max: TS_ETOOBIG with max points.
    ts_points_clear (ans.history);
    ts_points_clear (ans.forecast);
    q.now_ms = 5000;
    q.max = 5;
    assert_int_equal (ops->read (self->lmdb, TS_STORE_ROLES, &q, &ans, err),
                      TS_ETOOBIG);
    assert_int_equal (ans.history->n, 5);
    assert_non_null (strstr (err, "more than 5"));

    //  Not registered: no points, no error, unless the registry is not
    //  asked (it is another backend's).
    ts_points_clear (ans.history);
    ts_points_clear (ans.forecast);
    q = (ts_store_query_t) { "stray", NULL, FOREVER_FROM, FOREVER_TO, 0, 100 };
    ans.exists = true;
    assert_int_equal (ops->read (self->lmdb, TS_STORE_ROLES, &q, &ans, err),
                      0);
    assert_false (ans.exists);
    assert_int_equal (ans.history->n + ans.forecast->n, 0);
    assert_int_equal (ops->read (self->lmdb, TS_STORE_HISTORY
                                 | TS_STORE_FORECAST, &q, &ans, err), 0);
    assert_int_equal (ans.history->n, 10);
    assert_int_equal (ans.forecast->n, 5);

    //  One role: the other list is not touched.
    ts_points_clear (ans.history);
    ts_points_clear (ans.forecast);
    q.measure = "value";
    assert_int_equal (ops->read (self->lmdb, TS_STORE_FORECAST, &q, &ans,
                                 err), 0);
    assert_int_equal (ans.history->n, 0);
    assert_int_equal (ans.forecast->n, 5);
    ts_points_destroy (&ans.history);
    ts_points_destroy (&ans.forecast);
    ts_points_destroy (&h);
    ts_points_destroy (&f);
}

//  --- numbered ids and measures ------------------------------------------

static void
history_orders_equal_times_by_name_whatever_the_numbering (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    //  "zeta" is numbered before "alpha" and "mid".
    ts_points_t *pts = ts_points_new ();
    for (int64_t t = -2; t <= 2; t++) {
        assert_int_equal (ts_points_append (pts, t, "zeta", 3.0 * t), 0);
        assert_int_equal (ts_points_append (pts, t, "alpha", 1.0 * t), 0);
    }
    assert_int_equal (ops->history_put (self->lmdb, "a", pts, err), 0);
    ts_points_clear (pts);
    assert_int_equal (ts_points_append (pts, 0, "mid", 2.0), 0);
    assert_int_equal (ops->history_put (self->lmdb, "a", pts, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ops->history_range (self->lmdb, "a", NULL, FOREVER_FROM,
                      FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 11);
    assert_true (ts_points_sorted (out));
    assert_int_equal (out->time_ms [0], -2);
    assert_string_equal (ts_points_measure (out, 0), "alpha");
    assert_true (out->value [0] == -2.0);
    assert_string_equal (ts_points_measure (out, 1), "zeta");
    assert_true (out->value [1] == -6.0);
    assert_string_equal (ts_points_measure (out, 5), "mid");
    assert_true (out->value [5] == 2.0);

    //  One measure; a measure never stored; an id never stored.
    ts_points_clear (out);
    assert_int_equal (ops->history_range (self->lmdb, "a", "zeta", -1, 1,
                      SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_true (out->value [2] == 3.0);
    ts_points_clear (out);
    assert_int_equal (ops->history_range (self->lmdb, "a", "none",
                      FOREVER_FROM, FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (ops->history_range (self->lmdb, "b", NULL,
                      FOREVER_FROM, FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 0);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
removed_id_added_again_starts_with_no_history (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a", "ab" };
    assert_int_equal (ops->ids_add (self->lmdb, ids, 2, NULL, err), 0);
    ts_points_t *pts = s_points ("value", 0, 1, 100, 1.0);
    assert_int_equal (ops->history_put (self->lmdb, "a", pts, err), 0);
    assert_int_equal (ops->history_put (self->lmdb, "ab", pts, err), 0);
    assert_int_equal (ops->ids_remove (self->lmdb, "a", err), 0);
    assert_int_equal (s_count (self->lmdb, "a", false), 0);
    assert_int_equal (s_count (self->lmdb, "ab", false), 100);
    assert_int_equal (ops->ids_add (self->lmdb, ids, 1, NULL, err), 0);
    assert_int_equal (s_count (self->lmdb, "a", false), 0);
    assert_int_equal (ops->history_put (self->lmdb, "a", pts, err), 0);
    assert_int_equal (s_count (self->lmdb, "a", false), 100);
    ts_points_destroy (&pts);
}

//  --- raw LMDB: format 1 stores and meta ----------------------------------



//  Puts a format 1 history point: "id \0 time(8) measure" -> value.
static void
s_raw_point (MDB_txn *txn, const char *id, int64_t time_ms,
             const char *measure, double value)
{
    unsigned char key [300];
    size_t len = strlen (id);
    memcpy (key, id, len + 1);
    uint64_t u = (uint64_t) time_ms ^ (UINT64_C (1) << 63);
    for (int i = 7; i >= 0; i--, u >>= 8)
        key [len + 1 + i] = (unsigned char) u;
    memcpy (key + len + 9, measure, strlen (measure));
    s_raw_put (txn, "history", key, len + 9 + strlen (measure), &value,
               sizeof value);
}

//  Puts a forecast record of formats 1 and 2 for id: expires, count,
//  then time, value, name length, name; two points of "value", 7.5.
static void
s_raw_forecast (MDB_txn *txn, const char *id)
{
    unsigned char rec [12 + 2 * 22];
    int64_t expires = INT64_MAX, time_ms = 5000;
    uint32_t count = 2;
    double value = 7.5;
    memcpy (rec, &expires, 8);
    memcpy (rec + 8, &count, 4);
    for (int i = 0; i < 2; i++) {
        unsigned char *p = rec + 12 + i * 22;
        memcpy (p, &time_ms, 8);
        memcpy (p + 8, &value, 8);
        p [16] = 5;
        memcpy (p + 17, "value", 5);
        time_ms += 1000;
    }
    s_raw_put (txn, "forecasts", id, strlen (id), rec, sizeof rec);
}

//  Writes the store a format 1 binary leaves: ids, history, a forecast
//  record and a stamp, in path (not opened by the new code yet).
static void
s_format_1_store (const char *path)
{
    assert_int_equal (ts_mkdirs (path, 0750), 0);
    MDB_env *env = s_raw_env (path);
    MDB_txn *txn;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    int64_t created = 1;
    s_raw_put (txn, "ids", "a", 1, &created, sizeof created);
    s_raw_put (txn, "ids", "a-b", 3, &created, sizeof created);
    //  Two measures, names out of first-use order, negative times too.
    for (int64_t t = -3; t < 3; t++) {
        s_raw_point (txn, "a", t * 1000, "zeta", t * 1.5);
        s_raw_point (txn, "a", t * 1000, "alpha", t * 0.25);
    }
    for (int64_t t = 0; t < 70000; t++)         //  more than one chunk
        s_raw_point (txn, "a-b", t, "value", (double) t);
    s_raw_forecast (txn, "a");
    unsigned char stamp [16] = { 0 };
    s_raw_put (txn, "stamps", "a", 1, stamp, sizeof stamp);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

//  The meta "format" of the store in path, or 0.
static uint32_t
s_raw_format (const char *path, bool *has_history)
{
    MDB_env *env = s_raw_env (path);
    MDB_txn *txn;
    MDB_dbi dbi;
    uint32_t format = 0;
    assert_int_equal (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn), 0);
    *has_history = mdb_dbi_open (txn, "history", 0, &dbi) == 0;
    if (mdb_dbi_open (txn, "meta", 0, &dbi) == 0) {
        MDB_val k = { 6, "format" }, v;
        if (mdb_get (txn, dbi, &k, &v) == 0 && v.mv_size == 4)
            memcpy (&format, v.mv_data, 4);
    }
    mdb_txn_abort (txn);
    mdb_env_close (env);
    return format;
}

//  Checks that lmdb holds exactly what s_format_1_store wrote.
static void
s_check_format_1_points (void *lmdb)
{
    char err [TS_ERRLEN] = "";
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ops->history_range (lmdb, "a", NULL, FOREVER_FROM,
                      FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 12);
    for (size_t i = 0; i < out->n; i++) {
        int64_t t = (int64_t) (i / 2) - 3;
        assert_int_equal (out->time_ms [i], t * 1000);
        bool alpha = i % 2 == 0;
        assert_string_equal (ts_points_measure (out, i),
                             alpha? "alpha": "zeta");
        assert_true (out->value [i] == (alpha? t * 0.25: t * 1.5));
    }
    ts_points_clear (out);
    assert_int_equal (ops->history_range (lmdb, "a-b", "value", FOREVER_FROM,
                      FOREVER_TO, SIZE_MAX, out, err), 0);
    assert_int_equal (out->n, 70000);
    for (size_t i = 0; i < out->n; i++)
        if (out->time_ms [i] != (int64_t) i || out->value [i] != (double) i)
            fail_msg ("point %zu of a-b differs", i);
    ts_points_clear (out);
    assert_int_equal (ops->forecast_range (lmdb, "a", NULL, FOREVER_FROM,
                      FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 2);
    assert_true (out->value [1] == 7.5);
    ts_points_destroy (&out);
}

static void
format_1_store_is_migrated_on_open_and_reads_back_exactly (void **state)
{
    fixture_t *self = *state;
    char path [sizeof self->base->dir + 16];
    snprintf (path, sizeof path, "%s/old", self->base->dir);
    s_format_1_store (path);
    ts_config_t *cfg = ts_testutil_config (path, STORE_MB, STORE_YAML);
    assert_non_null (cfg);
    char err [TS_ERRLEN] = "";
    void *lmdb = ops->open (cfg, err);
    if (!lmdb)
        fail_msg ("open: %s", err);
    s_check_format_1_points (lmdb);
    bool exists = false;
    assert_int_equal (ops->ids_exists (lmdb, "a-b", &exists, err), 0);
    assert_true (exists);
    ops->close (lmdb);

    //  Format 3 recorded, the old table gone; opening again changes
    //  nothing.
    bool has_history = true;
    assert_int_equal (s_raw_format (path, &has_history), 3);
    assert_false (has_history);
    lmdb = ops->open (cfg, err);
    assert_non_null (lmdb);
    s_check_format_1_points (lmdb);
    ops->close (lmdb);

    //  A format 1 binary started by mistake writes its history table
    //  again: the next open migrates those points too.
    MDB_env *env = s_raw_env (path);
    MDB_txn *txn;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    s_raw_point (txn, "a-b", 70000, "value", 70000.0);
    //  And a forecast record in its layout, which a format 3 store's
    //  reader would take for a malformed one.
    s_raw_forecast (txn, "a-b");
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    lmdb = ops->open (cfg, err);
    assert_non_null (lmdb);
    assert_int_equal (s_count (lmdb, "a-b", false), 70001);
    assert_int_equal (s_count (lmdb, "a-b", true), 2);
    assert_int_equal (s_count (lmdb, "a", true), 2);
    ops->close (lmdb);
    assert_int_equal (s_raw_format (path, &has_history), 3);
    assert_false (has_history);
    ts_config_destroy (&cfg);
}

static void
new_store_is_format_3_and_a_newer_format_refuses_to_open (void **state)
{
    fixture_t *self = *state;
    bool has_history = true;
    ops->close (self->lmdb);
    self->lmdb = NULL;
    assert_int_equal (s_raw_format (self->base->path, &has_history), 3);
    assert_false (has_history);

    MDB_env *env = s_raw_env (self->base->path);
    MDB_txn *txn;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    uint32_t format = 4;
    s_raw_put (txn, "meta", "format", 6, &format, sizeof format);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    char err [TS_ERRLEN] = "";
    assert_null (ops->open (self->base->cfg, err));
    assert_non_null (strstr (err, "format 4"));
    assert_non_null (strstr (err, "reads format 3"));
    assert_non_null (strstr (err, self->base->path));
}

static void
store_out_of_measure_numbers_refuses_a_new_measure (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = s_points ("value", 0, 1, 2, 1.0);
    assert_int_equal (ops->history_put (self->lmdb, "a", pts, err), 0);
    ops->close (self->lmdb);
    MDB_env *env = s_raw_env (self->base->path);
    MDB_txn *txn;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    uint32_t used = 65536;
    s_raw_put (txn, "meta", "measures", 8, &used, sizeof used);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    self->lmdb = ops->open (self->base->cfg, err);
    assert_non_null (self->lmdb);

    //  A known measure still lands; a new one does not, and nothing of
    //  its put does.
    assert_int_equal (ops->history_put (self->lmdb, "a", pts, err), 0);
    assert_int_equal (ts_points_append (pts, 5, "other", 1.0), 0);
    assert_int_equal (ts_points_append (pts, 6, "value", 1.0), 0);
    assert_int_equal (ops->history_put (self->lmdb, "a", pts, err),
                      TS_ETOOBIG);
    assert_non_null (strstr (err, "'other'"));
    assert_int_equal (s_count (self->lmdb, "a", false), 2);
    ts_points_destroy (&pts);
}

//  Fetch status records (ts_store_lmdb_status.c): an ids record without
//  one (written before statuses) reads as never fetched; a status left
//  by a binary without statuses that removed the id (another
//  registration's created_ms) and a malformed one read as never fetched;
//  the store stays format 3.
static void
status_of_old_and_stray_records_reads_as_never_fetched (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a" };
    assert_int_equal (ops->ids_add (self->lmdb, ids, 1, NULL, err), 0);
    ts_store_mark_t ok = { .id = "a", .at_ms = 5000, .ok = true };
    assert_int_equal (ops->ids_mark (self->lmdb, &ok, 1, err), 0);
    bool exists = false;
    ts_store_status_t status;
    assert_int_equal (ops->ids_status (self->lmdb, "a", &exists, &status,
                                       err), 0);
    assert_true (exists);
    assert_int_equal (status.ok_ms, 5000);
    ops->close (self->lmdb);

    MDB_env *env = s_raw_env (self->base->path);
    MDB_txn *txn;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    //  "a" registered again (another created_ms) by an older binary.
    int64_t created = 42;
    s_raw_put (txn, "ids", "a", 1, &created, sizeof created);
    //  "old": an ids record of before sources and statuses.
    s_raw_put (txn, "ids", "old", 3, &created, sizeof created);
    //  "bad": a status record too short to be one.
    s_raw_put (txn, "ids", "bad", 3, &created, sizeof created);
    s_raw_put (txn, "status", "bad", 3, "xyz", 3);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    self->lmdb = ops->open (self->base->cfg, err);
    assert_non_null (self->lmdb);

    const char *names [] = { "a", "old", "bad" };
    for (size_t i = 0; i < 3; i++) {
        status.ok_ms = 1;
        assert_int_equal (ops->ids_status (self->lmdb, names [i], &exists,
                                           &status, err), 0);
        assert_true (exists);
        assert_int_equal (status.ok_ms, 0);
        assert_int_equal (status.attempt_ms, 0);
    }
    //  The next mark rewrites them.
    ok.id = "bad";
    assert_int_equal (ops->ids_mark (self->lmdb, &ok, 1, err), 0);
    assert_int_equal (ops->ids_status (self->lmdb, "bad", &exists, &status,
                                       err), 0);
    assert_int_equal (status.ok_ms, 5000);
    bool has_history;
    ops->close (self->lmdb);
    self->lmdb = NULL;
    assert_int_equal (s_raw_format (self->base->path, &has_history), 3);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (lmdb_keeps_stamps_snapshots_atomic_writes_deletes_and_any_time),
        T (write_leaves_a_null_part_alone_and_an_empty_forecast_replaces),
        T (forget_deletes_history_or_forecast_and_keeps_the_registry),
        T (read_answers_existence_history_and_forecast_in_one_call),
        T (history_orders_equal_times_by_name_whatever_the_numbering),
        T (removed_id_added_again_starts_with_no_history),
        T (format_1_store_is_migrated_on_open_and_reads_back_exactly),
        T (new_store_is_format_3_and_a_newer_format_refuses_to_open),
        T (store_out_of_measure_numbers_refuses_a_new_measure),
        T (status_of_old_and_stray_records_reads_as_never_fetched),
#undef T
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_store_lmdb", tests, NULL, NULL);
}
