/*  test_ts_store_router - the store router (common/store/ts_store.c):
    roles served by different backend instances, here three LMDB
    environments in three directories, one per role; and ts_store_read,
    the one read of a query, on a single LMDB store.

    The tests of what a backend keeps are the LMDB backend's own
    (test_ts_store, test_ts_store_lmdb) and the contract suites'; these
    check only where the router sends each call: ids to the registry's
    environment, points to the history's and the forecast's, a removal
    forgotten in the others, a read asked of each in turn, and what the
    split store says of itself (caps, name, stamps).

    Two tests need the LMDB backend's forget operation and its writes of
    one part of a document (a NULL history or forecast), which come with
    branch i13-lmdb2: without them they are reported as skipped, loudly. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store.h"
#include "ts_store_backend.h"

#include "ts_testutil.h"

#define STORE_YAML    "  backend: lmdb\n" \
                      "  forecast_ttl_s: 60\n"
#define NOW_MS        1000000LL

enum { REG, HIST, FC };             //  index of each role's environment

typedef struct {
    ts_testutil_t *base;            //  directory; base->store: one env
    ts_config_t   *cfg [3];         //  DIR/registry, DIR/history,
                                    //  DIR/forecast
    ts_store_t    *split;           //  a role per environment, or NULL
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    *state = self;
    self->base = ts_testutil_new (64, STORE_YAML);
    if (!self->base)
        return -1;
    static const char *const dirs [3] = { "registry", "history", "forecast" };
    for (int i = 0; i < 3; i++) {
        char path [sizeof self->base->dir + 16];
        snprintf (path, sizeof path, "%s/%s", self->base->dir, dirs [i]);
        self->cfg [i] = ts_testutil_config (path, 64, STORE_YAML);
        if (!self->cfg [i])
            return -1;
    }
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_store_destroy (&self->split);
    for (int i = 0; i < 3; i++)
        ts_config_destroy (&self->cfg [i]);
    ts_testutil_destroy (&self->base);
    free (self);
    return 0;
}

//  Opens self->split with the given backends, each role on its own
//  environment.
static void
s_open_split (fixture_t *self, const ts_store_ops_t *registry,
              const ts_store_ops_t *history, const ts_store_ops_t *forecast)
{
    char err [TS_ERRLEN] = "";
    self->split = ts_store_new_with (registry, self->cfg [REG],
                                     history, self->cfg [HIST],
                                     forecast, self->cfg [FC], err);
    if (!self->split)
        fail_msg ("ts_store_new_with: %s", err);
}

//  Closes the split store and opens environment i alone, as a store of
//  its own (an environment is open once per process at a time).
static ts_store_t *
s_open_alone (fixture_t *self, int i)
{
    ts_store_destroy (&self->split);
    char err [TS_ERRLEN] = "";
    ts_store_t *store = ts_store_new (self->cfg [i], err);
    if (!store)
        fail_msg ("ts_store_new: %s", err);
    return store;
}

//  True where the LMDB backend has branch i13-lmdb2's forget and
//  one-part writes; else prints why the calling test is skipped.
static bool
s_lmdb_forgets (const char *test)
{
    if (ts_store_lmdb_ops.forget)
        return true;
    fprintf (stderr, "SKIPPED %s: needs the LMDB forget operation and "
             "one-part writes (branch i13-lmdb2)\n", test);
    return false;
}

//  n points of measure m at start, start + 1000, ..., value = time.
static ts_points_t *
s_points (const char *m, int64_t start, size_t n)
{
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (ts_points_append (pts, start + (int64_t) i * 1000,
                                            m, (double) start + i), 0);
    return pts;
}

//  History and unexpired forecast point counts of id, all time.
static void
s_counts (ts_store_t *store, const char *id, size_t *history,
          size_t *forecast)
{
    ts_points_t *h = ts_points_new (), *f = ts_points_new ();
    assert_true (h && f);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_range (store, id, NULL, INT64_MIN,
                                              INT64_MAX, h, err), 0);
    assert_int_equal (ts_store_forecast_range (store, id, NULL, INT64_MIN,
                                               INT64_MAX, NOW_MS, f, err), 0);
    *history = h->n;
    *forecast = f->n;
    ts_points_destroy (&h);
    ts_points_destroy (&f);
}

static bool
s_exists (ts_store_t *store, const char *id)
{
    bool exists = true;
    assert_int_equal (ts_store_ids_exists (store, id, &exists, NULL), 0);
    return exists;
}

//  --- a store of three environments -------------------------------------

static void
split_store_names_its_backends_and_keeps_no_stamps (void **state)
{
    fixture_t *self = *state;
    s_open_split (self, &ts_store_lmdb_ops, &ts_store_lmdb_ops,
                  &ts_store_lmdb_ops);
    assert_string_equal (ts_store_backend (self->split),
                         "registry=lmdb history=lmdb forecast=lmdb");
    assert_string_equal (ts_store_role_backend (self->split,
                                                TS_STORE_HISTORY), "lmdb");
    unsigned caps = ts_store_caps (self->split);
    assert_false (caps & TS_STORE_CAP_STAMPS);
    assert_false (caps & TS_STORE_CAP_SNAPSHOT);
    assert_false (caps & TS_STORE_CAP_ATOMIC);
    assert_int_equal (caps & TS_STORE_CAP_TTL,
                      ts_store_lmdb_ops.caps & TS_STORE_CAP_TTL);
    //  Every backend deletes an id's points, the history's holds any
    //  time: kept across the split.
    assert_true (caps & TS_STORE_CAP_FORGET);
    assert_true (caps & TS_STORE_CAP_ALLTIME);
    ts_store_stamp_t stamp;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_stamp (self->split, "a", &stamp, err),
                      TS_EINVAL);
    assert_string_equal (err, "store (registry=lmdb history=lmdb "
                         "forecast=lmdb) keeps no change stamps");

    //  One environment for every role: one backend, with its caps.
    unsigned lmdb = TS_STORE_CAP_STAMPS | TS_STORE_CAP_SNAPSHOT
                  | TS_STORE_CAP_ATOMIC;
    assert_string_equal (ts_store_backend (self->base->store), "lmdb");
    assert_int_equal (ts_store_caps (self->base->store) & lmdb, lmdb);
    assert_int_equal (ts_store_stamp (self->base->store, "a", &stamp, err),
                      0);
}

static void
split_store_from_config_keys_per_role (void **state)
{
    fixture_t *self = *state;
    //  Every role naming lmdb on one config is one instance.
    char err [TS_ERRLEN] = "";
    ts_store_destroy (&self->base->store);
    ts_config_t *cfg = self->base->cfg;
    assert_int_equal (ts_config_set (cfg, "store.history.backend", "lmdb",
                                     err), 0);
    assert_int_equal (ts_config_set (cfg, "store.registry.backend", "",
                                     err), 0);
    self->base->store = ts_store_new (cfg, err);
    if (!self->base->store)
        fail_msg ("%s", err);
    assert_string_equal (ts_store_backend (self->base->store), "lmdb");
    assert_true (ts_store_caps (self->base->store) & TS_STORE_CAP_STAMPS);
}

static void
store_init_asks_each_backend_once_and_refuses_history_on_dynamodb
    (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = self->base->cfg;
    ts_strlist_t *report = ts_strlist_new ();
    assert_int_equal (ts_store_init (cfg, report, err), 0);
    assert_int_equal (report->n, 1);
    assert_string_equal (report->items [0], "lmdb: nothing to create");
    //  DynamoDB serves no history: refused before any request.
    ts_strlist_clear (report);
    assert_int_equal (ts_config_set (cfg, "store.backend", "dynamodb", err),
                      0);
    assert_int_equal (ts_store_init (cfg, report, err), TS_ECONFIG);
    assert_string_equal (err, "store.history.backend: dynamodb serves "
                         "registry and forecast only");
    assert_null (ts_store_new (cfg, err));
    assert_string_equal (err, "store.history.backend: dynamodb serves "
                         "registry and forecast only");
    ts_strlist_destroy (&report);
}

static void
split_store_adds_ids_to_the_registry_environment_only (void **state)
{
    fixture_t *self = *state;
    s_open_split (self, &ts_store_lmdb_ops, &ts_store_lmdb_ops,
                  &ts_store_lmdb_ops);
    const char *ids [] = { "a", "b" };
    size_t added = 0;
    assert_int_equal (ts_store_ids_add (self->split, ids, 2, &added, NULL),
                      0);
    assert_int_equal (added, 2);
    assert_true (s_exists (self->split, "a"));
    ts_strlist_t *list = ts_strlist_new ();
    bool more = true;
    assert_int_equal (ts_store_ids_page (self->split, NULL, 10, list, &more,
                                         NULL), 0);
    assert_int_equal (list->n, 2);
    assert_false (more);
    ts_strlist_destroy (&list);
    //  Single-role calls go to their role's environment.
    ts_points_t *pts = s_points ("value", 1000, 3);
    assert_int_equal (ts_store_history_put (self->split, "a", pts, NULL), 0);
    assert_int_equal (ts_store_forecast_replace (self->split, "a", pts,
                                                 NOW_MS, NULL), 0);
    ts_points_destroy (&pts);

    size_t history, forecast;
    ts_store_t *alone = s_open_alone (self, REG);
    assert_true (s_exists (alone, "a"));
    s_counts (alone, "a", &history, &forecast);
    assert_int_equal (history + forecast, 0);
    ts_store_destroy (&alone);
    alone = s_open_alone (self, HIST);
    assert_false (s_exists (alone, "a"));
    s_counts (alone, "a", &history, &forecast);
    assert_int_equal (history, 3);
    assert_int_equal (forecast, 0);
    ts_store_destroy (&alone);
    alone = s_open_alone (self, FC);
    assert_false (s_exists (alone, "a"));
    s_counts (alone, "a", &history, &forecast);
    assert_int_equal (history, 0);
    assert_int_equal (forecast, 3);
    ts_store_destroy (&alone);
}

static void
split_store_writes_history_and_forecast_to_their_environments (void **state)
{
    fixture_t *self = *state;
    if (!s_lmdb_forgets (__func__))
        skip ();
    s_open_split (self, &ts_store_lmdb_ops, &ts_store_lmdb_ops,
                  &ts_store_lmdb_ops);
    ts_points_t *h = s_points ("value", 1000, 2);
    ts_points_t *f = s_points ("value", NOW_MS + 1000, 3);
    ts_points_t *none = ts_points_new ();
    ts_store_doc_t docs [] = { { "a", h, f, 0 }, { "b", h, none, 0 } };
    char err [TS_ERRLEN] = "";
    if (ts_store_write_batch (self->split, docs, 2, NOW_MS, err))
        fail_msg ("%s", err);
    size_t history, forecast;
    s_counts (self->split, "a", &history, &forecast);
    assert_int_equal (history, 2);
    assert_int_equal (forecast, 3);

    ts_store_t *alone = s_open_alone (self, HIST);
    s_counts (alone, "a", &history, &forecast);
    assert_int_equal (history, 2);
    assert_int_equal (forecast, 0);
    s_counts (alone, "b", &history, &forecast);
    assert_int_equal (history, 2);
    ts_store_destroy (&alone);
    alone = s_open_alone (self, FC);
    s_counts (alone, "a", &history, &forecast);
    assert_int_equal (history, 0);
    assert_int_equal (forecast, 3);
    ts_store_destroy (&alone);
    ts_points_destroy (&h);
    ts_points_destroy (&f);
    ts_points_destroy (&none);
}

static void
split_store_remove_forgets_the_points_in_the_other_environments (void **state)
{
    fixture_t *self = *state;
    if (!s_lmdb_forgets (__func__))
        skip ();
    s_open_split (self, &ts_store_lmdb_ops, &ts_store_lmdb_ops,
                  &ts_store_lmdb_ops);
    const char *ids [] = { "a", "b" };
    assert_int_equal (ts_store_ids_add (self->split, ids, 2, NULL, NULL), 0);
    ts_points_t *pts = s_points ("value", 1000, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal (ts_store_history_put (self->split, ids [i], pts,
                                                NULL), 0);
        assert_int_equal (ts_store_forecast_replace (self->split, ids [i],
                                                     pts, NOW_MS, NULL), 0);
    }
    char err [TS_ERRLEN] = "";
    if (ts_store_ids_remove (self->split, "a", err))
        fail_msg ("%s", err);
    assert_int_equal (ts_store_ids_remove (self->split, "a", err),
                      TS_ENOTFOUND);
    size_t history, forecast;
    s_counts (self->split, "a", &history, &forecast);
    assert_int_equal (history + forecast, 0);
    s_counts (self->split, "b", &history, &forecast);
    assert_int_equal (history, 2);
    assert_int_equal (forecast, 2);
    assert_false (s_exists (self->split, "a"));
    assert_true (s_exists (self->split, "b"));
    ts_points_destroy (&pts);
}

static void
split_store_refuses_a_removal_it_could_not_finish (void **state)
{
    fixture_t *self = *state;
    //  Static: the store keeps the pointer until teardown closes it.
    static ts_store_ops_t no_forget;
    no_forget = ts_store_lmdb_ops;
    no_forget.forget = NULL;
    s_open_split (self, &ts_store_lmdb_ops, &no_forget, &no_forget);
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (self->split, ids, 1, NULL, NULL), 0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_ids_remove (self->split, "a", err),
                      TS_EBACKEND);
    assert_non_null (strstr (err, "no forget operation"));
    assert_true (s_exists (self->split, "a"));
}

//  --- ts_store_read -------------------------------------------------------

//  What the logging backend below was asked, in order: R exists, F
//  forecast, H history.
static char s_calls [16];

static void
s_log (char call)
{
    size_t len = strlen (s_calls);
    if (len + 1 < sizeof s_calls)
        s_calls [len] = call;
}

static int
s_log_exists (void *state, const char *id, bool *exists, char *err)
{
    s_log ('R');
    return ts_store_lmdb_ops.ids_exists (state, id, exists, err);
}

static int
s_log_status (void *state, const char *id, bool *exists,
              ts_store_status_t *status, char *err)
{
    s_log ('R');
    return ts_store_lmdb_ops.ids_status (state, id, exists, status, err);
}

static int
s_log_history (void *state, const char *id, const char *measure,
               int64_t from_ms, int64_t to_ms, size_t max, ts_points_t *out,
               char *err)
{
    s_log ('H');
    return ts_store_lmdb_ops.history_range (state, id, measure, from_ms,
                                            to_ms, max, out, err);
}

static int
s_log_forecast (void *state, const char *id, const char *measure,
                int64_t from_ms, int64_t to_ms, int64_t now_ms,
                ts_points_t *out, char *err)
{
    s_log ('F');
    return ts_store_lmdb_ops.forecast_range (state, id, measure, from_ms,
                                             to_ms, now_ms, out, err);
}

//  The LMDB backend without its read operation, logging the reads the
//  router composes it from.
static ts_store_ops_t
s_logging_lmdb (void)
{
    ts_store_ops_t ops = ts_store_lmdb_ops;
    ops.read = NULL;
    ops.ids_exists = s_log_exists;
    ops.ids_status = s_log_status;
    ops.history_range = s_log_history;
    ops.forecast_range = s_log_forecast;
    return ops;
}

//  Runs q on store; returns the code, the answer's parts in the lists.
static int
s_read (ts_store_t *store, const ts_store_query_t *q, bool *exists,
        ts_points_t *history, ts_points_t *forecast)
{
    ts_points_clear (history);
    ts_points_clear (forecast);
    ts_store_answer_t ans = { .history = history, .forecast = forecast };
    memset (s_calls, 0, sizeof s_calls);
    char err [TS_ERRLEN] = "";
    int rc = ts_store_read (store, q, &ans, err);
    *exists = ans.exists;
    return rc;
}

//  Registers a, puts 3 history points (two measures) and 2 forecast.
static void
s_fill (ts_store_t *store)
{
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (store, ids, 1, NULL, NULL), 0);
    ts_points_t *h = s_points ("value", 1000, 2);
    assert_int_equal (ts_points_append (h, 1500, "rain", 1), 0);
    ts_points_t *f = s_points ("value", NOW_MS + 1000, 2);
    assert_int_equal (ts_store_history_put (store, "a", h, NULL), 0);
    assert_int_equal (ts_store_forecast_replace (store, "a", f, NOW_MS,
                                                 NULL), 0);
    //  History of an id that is not registered is never read.
    assert_int_equal (ts_store_history_put (store, "ghost", h, NULL), 0);
    ts_points_destroy (&h);
    ts_points_destroy (&f);
}

//  The checks every store must pass, single or split.
static void
s_read_checks (ts_store_t *store)
{
    ts_points_t *h = ts_points_new (), *f = ts_points_new ();
    bool exists = false;
    ts_store_query_t q = { .id = "a", .from_ms = 0, .to_ms = INT64_MAX,
                           .now_ms = NOW_MS, .max = 100 };
    assert_int_equal (s_read (store, &q, &exists, h, f), 0);
    assert_true (exists);
    assert_int_equal (h->n, 3);
    assert_int_equal (f->n, 2);
    //  The measure filter applies to both parts.
    q.measure = "rain";
    assert_int_equal (s_read (store, &q, &exists, h, f), 0);
    assert_int_equal (h->n, 1);
    assert_int_equal (f->n, 0);
    q.measure = NULL;
    //  At most max history points.
    q.max = 2;
    assert_int_equal (s_read (store, &q, &exists, h, f), TS_ETOOBIG);
    assert_int_equal (h->n, 2);
    q.max = 3;
    assert_int_equal (s_read (store, &q, &exists, h, f), 0);
    //  Not registered: no points, not an error.
    q.id = "ghost";
    exists = true;
    assert_int_equal (s_read (store, &q, &exists, h, f), 0);
    assert_false (exists);
    assert_int_equal (h->n + f->n, 0);
    //  Arguments are checked as for a range.
    q.id = "a";
    q.from_ms = 10;
    q.to_ms = 9;
    char err [TS_ERRLEN] = "";
    ts_store_answer_t ans = { .history = h, .forecast = f };
    assert_int_equal (ts_store_read (store, &q, &ans, err), TS_EINVAL);
    q.to_ms = 10;
    q.id = "bad id";
    assert_int_equal (ts_store_read (store, &q, &ans, err), TS_EINVAL);
    ts_points_destroy (&h);
    ts_points_destroy (&f);
}

static void
read_answers_a_query_of_one_lmdb_store (void **state)
{
    fixture_t *self = *state;
    s_fill (self->base->store);
    s_read_checks (self->base->store);
}

static void
read_answers_a_query_across_environments (void **state)
{
    fixture_t *self = *state;
    s_open_split (self, &ts_store_lmdb_ops, &ts_store_lmdb_ops,
                  &ts_store_lmdb_ops);
    s_fill (self->split);
    s_read_checks (self->split);
}

static void
read_asks_registry_then_forecast_then_history (void **state)
{
    fixture_t *self = *state;
    //  Static: the store keeps the pointer until teardown closes it.
    static ts_store_ops_t logging;
    logging = s_logging_lmdb ();
    s_open_split (self, &logging, &logging, &logging);
    s_fill (self->split);
    ts_points_t *h = ts_points_new (), *f = ts_points_new ();
    bool exists;
    ts_store_query_t q = { .id = "a", .from_ms = 0, .to_ms = INT64_MAX,
                           .now_ms = NOW_MS, .max = 100 };
    //  The reverse of the write order (history, then forecast).
    assert_int_equal (s_read (self->split, &q, &exists, h, f), 0);
    assert_string_equal (s_calls, "RFH");
    q.id = "ghost";
    assert_int_equal (s_read (self->split, &q, &exists, h, f), 0);
    assert_string_equal (s_calls, "R");
    ts_store_destroy (&self->split);

    //  One backend without a read operation: composed the same way.
    ts_store_destroy (&self->base->store);
    char err [TS_ERRLEN] = "";
    self->base->store = ts_store_new_with (&logging, self->base->cfg,
                                           &logging, self->base->cfg,
                                           &logging, self->base->cfg, err);
    assert_non_null (self->base->store);
    s_fill (self->base->store);
    q.id = "a";
    assert_int_equal (s_read (self->base->store, &q, &exists, h, f), 0);
    assert_string_equal (s_calls, "RFH");
    assert_int_equal (h->n, 3);
    s_read_checks (self->base->store);
    ts_points_destroy (&h);
    ts_points_destroy (&f);
}

//  --- the rest of the calls ---------------------------------------------

static void
split_store_expires_and_releases_in_its_environments (void **state)
{
    fixture_t *self = *state;
    s_open_split (self, &ts_store_lmdb_ops, &ts_store_lmdb_ops,
                  &ts_store_lmdb_ops);
    ts_points_t *f = s_points ("value", NOW_MS + 1000, 2);
    assert_int_equal (ts_store_forecast_replace (self->split, "a", f, NOW_MS,
                                                 NULL), 0);
    ts_store_release (self->split);
    size_t removed = 99;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_expire (self->split, NOW_MS, &removed, err),
                      0);
    assert_int_equal (removed, 0);
    assert_int_equal (ts_store_expire (self->split, NOW_MS + 61000,
                                       &removed, err), 0);
    assert_true (removed > 0);
    size_t history, forecast;
    s_counts (self->split, "a", &history, &forecast);
    assert_int_equal (forecast, 0);
    ts_points_destroy (&f);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (split_store_names_its_backends_and_keeps_no_stamps),
        T (split_store_from_config_keys_per_role),
        T (store_init_asks_each_backend_once_and_refuses_history_on_dynamodb),
        T (split_store_adds_ids_to_the_registry_environment_only),
        T (split_store_writes_history_and_forecast_to_their_environments),
        T (split_store_remove_forgets_the_points_in_the_other_environments),
        T (split_store_refuses_a_removal_it_could_not_finish),
        T (read_answers_a_query_of_one_lmdb_store),
        T (read_answers_a_query_across_environments),
        T (read_asks_registry_then_forecast_then_history),
        T (split_store_expires_and_releases_in_its_environments),
#undef T
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_store_router", tests, NULL,
                                        NULL);
}
