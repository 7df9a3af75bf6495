/*  test_ts_ingest - a fetched document to the store: map, split at now,
    write in batches.

    Each test opens a fresh LMDB store in a temporary directory
    (ts_testutil) and builds its map spec by hand, as a push-ingest
    process or a CSV import would; what landed is read back through the
    store's public interface. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_ingest.h"
#include "ts_testutil.h"

#define NOV24 1732406400000LL   //  2024-11-24T00:00:00Z
#define HOUR  3600000LL
#define FAR   (NOV24 + 1000 * HOUR)

//  Rows of {"t": ms, "v": value, "h": humidity}.
static const char *s_measures [] = { "value", "humidity" };
static const char *s_fields [] = { "v", "h" };
static const ts_map_spec_t s_spec = {
    .origin = "test", .layout = TS_MAP_ROWS, .time_field = "t",
    .time_unit = TS_MAP_TIME_MS, .measures = s_measures,
    .fields = s_fields, .n_measures = 2 };

//  Four hours of rows around NOV24: two before it, two from it on.
static const char *s_doc =
    "[{\"t\": 1732399200000, \"v\": 1, \"h\": 10},"
    " {\"t\": 1732402800000, \"v\": 2},"
    " {\"t\": 1732406400000, \"v\": 3, \"h\": 30},"
    " {\"t\": 1732410000000, \"v\": 4, \"h\": null}]";

typedef struct {
    ts_testutil_t *util;
    ts_ingest_t   *ingest;
    ts_ingest_result_t results [8];     //  what flush reported, in order
    char           errs [8][TS_ERRLEN]; //  their details
    size_t         n_results;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof (fixture_t));
    assert_non_null (self);
    self->util = ts_testutil_new (64, NULL);
    assert_non_null (self->util);
    const char *ids [] = { "alpha", "beta", "gamma" };
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_ids_add (self->util->store, ids, 3, NULL, err),
                      0);
    self->ingest = ts_ingest_new (&s_spec, self->util->store, 4, err);
    if (!self->ingest)
        fail_msg ("ingest: %s", err);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_ingest_destroy (&self->ingest);
    ts_testutil_destroy (&self->util);
    free (self);
    return 0;
}

static void
s_done (void *arg, const ts_ingest_result_t *result)
{
    fixture_t *self = arg;
    assert_true (self->n_results < 8);
    size_t i = self->n_results++;
    self->results [i] = *result;
    snprintf (self->errs [i], TS_ERRLEN, "%s", result->err);
    self->results [i].err = self->errs [i];
}

static void
s_add_ok (fixture_t *self, const char *id, const char *doc)
{
    const char *what = NULL;
    char err [TS_ERRLEN] = "";
    int rc = ts_ingest_add (self->ingest, id, doc, strlen (doc), NOV24,
                            &what, err);
    if (rc != 0)
        fail_msg ("add %s: %s: %s", id, what, err);
}

//  Reads the history (forecast false) or forecast of id over all time.
static ts_points_t *
s_read (fixture_t *self, const char *id, bool forecast)
{
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    char err [TS_ERRLEN] = "";
    int rc = forecast
           ? ts_store_forecast_range (self->util->store, id, NULL, 0, FAR,
                                      NOV24, pts, err)
           : ts_store_history_range (self->util->store, id, NULL, 0, FAR,
                                     pts, err);
    if (rc != 0)
        fail_msg ("read %s: %s", id, err);
    return pts;
}

static void
ingest_splits_a_document_at_now_into_history_and_forecast (void **state)
{
    fixture_t *self = *state;
    s_add_ok (self, "alpha", s_doc);
    assert_int_equal (ts_ingest_pending (self->ingest), 1);
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, s_done, self),
                      0);
    assert_int_equal (ts_ingest_pending (self->ingest), 0);
    assert_int_equal (self->n_results, 1);
    assert_string_equal (self->results [0].id, "alpha");
    assert_int_equal (self->results [0].rc, 0);
    assert_int_equal (self->results [0].history, 3);
    assert_int_equal (self->results [0].forecast, 3);

    ts_points_t *history = s_read (self, "alpha", false);
    assert_int_equal (history->n, 3);
    for (size_t i = 0; i < history->n; i++)
        assert_true (history->time_ms [i] < NOV24);
    assert_int_equal (history->time_ms [0], NOV24 - 2 * HOUR);
    ts_points_destroy (&history);

    ts_points_t *forecast = s_read (self, "alpha", true);
    assert_int_equal (forecast->n, 3);
    assert_int_equal (forecast->time_ms [0], NOV24);
    assert_int_equal (forecast->time_ms [2], NOV24 + HOUR);
    assert_string_equal (ts_points_measure (forecast, 2), "value");
    assert_true (forecast->value [2] == 4.0);
    ts_points_destroy (&forecast);
}

static void
ingest_writes_a_batch_and_reports_each_document_in_order (void **state)
{
    fixture_t *self = *state;
    s_add_ok (self, "alpha", s_doc);
    s_add_ok (self, "beta", "[{\"t\": 1732399200000, \"v\": 7}]");
    s_add_ok (self, "gamma", "[]");
    assert_int_equal (ts_ingest_pending (self->ingest), 3);
    assert_false (ts_ingest_full (self->ingest));
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, s_done, self),
                      0);
    assert_int_equal (self->n_results, 3);
    const char *ids [] = { "alpha", "beta", "gamma" };
    size_t history [] = { 3, 1, 0 };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (self->results [i].index, i);
        assert_string_equal (self->results [i].id, ids [i]);
        assert_int_equal (self->results [i].rc, 0);
        assert_int_equal (self->results [i].history, history [i]);
    }
    ts_points_t *beta = s_read (self, "beta", false);
    assert_int_equal (beta->n, 1);
    assert_true (beta->value [0] == 7.0);
    ts_points_destroy (&beta);
}

static void
ingest_is_full_at_batch_max (void **state)
{
    fixture_t *self = *state;
    for (int i = 0; i < 4; i++)
        s_add_ok (self, "alpha", s_doc);
    assert_true (ts_ingest_full (self->ingest));
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, NULL, NULL), 0);
    assert_false (ts_ingest_full (self->ingest));
    ts_points_t *history = s_read (self, "alpha", false);
    assert_int_equal (history->n, 3);       //  upserts: one document's
    ts_points_destroy (&history);
}

static void
ingest_refuses_an_invalid_document_with_the_maps_detail (void **state)
{
    fixture_t *self = *state;
    s_add_ok (self, "alpha", s_doc);
    const char *doc = "[{\"t\": 1732399200000, \"v\": 1}, {\"v\": 2}]";
    const char *what = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_ingest_add (self->ingest, "beta", doc, strlen (doc),
                                     NOV24, &what, err), TS_EPROTO);
    assert_string_equal (what, "invalid document");
    assert_string_equal (err, "document[1].t: missing");
    //  JSON of the wrong shape: fetching it again cannot help
    assert_true (ts_ingest_report (self->ingest)->shape);
    assert_int_equal (ts_ingest_pending (self->ingest), 1);
    //  A body cut short may be whole next time
    assert_int_equal (ts_ingest_add (self->ingest, "beta", doc, 20, NOV24,
                                     &what, err), TS_EPROTO);
    assert_false (ts_ingest_report (self->ingest)->shape);
    assert_int_equal (ts_ingest_pending (self->ingest), 1);
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, s_done, self),
                      0);
    assert_int_equal (self->n_results, 1);
    assert_string_equal (self->results [0].id, "alpha");
    ts_points_t *beta = s_read (self, "beta", false);
    assert_int_equal (beta->n, 0);
    ts_points_destroy (&beta);
}

static void
ingest_fails_only_the_document_the_store_refuses (void **state)
{
    fixture_t *self = *state;
    s_add_ok (self, "alpha", s_doc);
    s_add_ok (self, "not an id", s_doc);
    s_add_ok (self, "beta", s_doc);
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, s_done, self),
                      1);
    assert_int_equal (self->n_results, 3);
    assert_int_equal (self->results [0].rc, 0);
    assert_int_equal (self->results [1].rc, TS_EINVAL);
    assert_string_equal (self->results [1].id, "not an id");
    assert_true (strlen (self->results [1].err) > 0);
    assert_int_equal (self->results [2].rc, 0);
    ts_points_t *beta = s_read (self, "beta", true);
    assert_int_equal (beta->n, 3);
    ts_points_destroy (&beta);
}

static void
ingest_replaces_the_forecast_with_each_document (void **state)
{
    fixture_t *self = *state;
    s_add_ok (self, "alpha", s_doc);
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, NULL, NULL), 0);
    s_add_ok (self, "alpha", "[{\"t\": 1732413600000, \"h\": 55}]");
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, NULL, NULL), 0);
    ts_points_t *forecast = s_read (self, "alpha", true);
    assert_int_equal (forecast->n, 1);
    assert_int_equal (forecast->time_ms [0], NOV24 + 2 * HOUR);
    assert_string_equal (ts_points_measure (forecast, 0), "humidity");
    ts_points_destroy (&forecast);
    ts_points_t *history = s_read (self, "alpha", false);
    assert_int_equal (history->n, 3);
    ts_points_destroy (&history);
}

static void
ingest_flush_of_an_empty_batch_does_nothing (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, s_done, self),
                      0);
    assert_int_equal (self->n_results, 0);
}

static void
ingest_of_a_window_job_writes_history_and_leaves_the_forecast (void **state)
{
    fixture_t *self = *state;
    s_add_ok (self, "alpha", s_doc);
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, s_done, self),
                      0);
    //  A backfill chunk of the hours before: history only.
    const char *chunk = "[{\"t\": 1732392000000, \"v\": 9},"
                        " {\"t\": 1732406400000, \"v\": 5}]";
    const char *what = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_ingest_add_history (self->ingest, "alpha", chunk,
                                             strlen (chunk), NOV24, &what,
                                             err), 0);
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, s_done, self),
                      0);
    assert_int_equal (self->n_results, 2);
    assert_int_equal (self->results [1].rc, 0);
    assert_int_equal (self->results [1].history, 1);
    assert_int_equal (self->results [1].forecast, 0);
    assert_int_equal (self->results [1].skipped, 1);
    ts_points_t *history = s_read (self, "alpha", false);
    assert_int_equal (history->n, 4);
    assert_int_equal (history->time_ms [0], NOV24 - 4 * HOUR);
    ts_points_destroy (&history);
    //  The forecast of the first document is intact.
    ts_points_t *forecast = s_read (self, "alpha", true);
    assert_int_equal (forecast->n, 3);
    for (size_t i = 0; i < forecast->n; i++)
        assert_true (forecast->value [i] != 5.0);
    ts_points_destroy (&forecast);
}

static void
ingest_new_refuses_a_bad_spec_with_its_error (void **state)
{
    fixture_t *self = *state;
    ts_map_spec_t spec = s_spec;
    spec.time_field = "";
    char err [TS_ERRLEN] = "";
    ts_ingest_t *ingest = ts_ingest_new (&spec, self->util->store, 1, err);
    assert_null (ingest);
    assert_string_equal (err, "test.time_field: must not be empty");
}

static void
ingest_stores_the_pages_of_a_document_as_one (void **state)
{
    fixture_t *self = *state;
    ts_points_t *all = ts_points_new ();
    assert_non_null (all);
    const char *what = NULL;
    char err [TS_ERRLEN] = "";
    const char *pages [] = {
        "[{\"t\": 1732399200000, \"v\": 1}, {\"t\": 1732402800000, \"v\": 2}]",
        "[{\"t\": 1732406400000, \"v\": 3}]" };
    for (size_t i = 0; i < 2; i++)
        assert_int_equal (ts_ingest_map (self->ingest, pages [i],
                          strlen (pages [i]), NOV24, all, &what, err), 0);
    //  A page that does not map leaves what the others gave.
    assert_int_equal (ts_ingest_map (self->ingest, "[{\"v\": 4}]", 10, NOV24,
                                     all, &what, err), TS_EPROTO);
    assert_string_equal (what, "invalid document");
    assert_int_equal (all->n, 3);
    assert_int_equal (ts_ingest_pending (self->ingest), 0);
    assert_int_equal (ts_ingest_add_points (self->ingest, "alpha", all, NOV24,
                                            false, &what, err), 0);
    assert_int_equal (ts_ingest_pending (self->ingest), 1);
    assert_int_equal (ts_ingest_flush (self->ingest, NOV24, s_done, self), 0);
    assert_int_equal (self->results [0].history, 2);
    assert_int_equal (self->results [0].forecast, 1);
    ts_points_t *history = s_read (self, "alpha", false);
    assert_int_equal (history->n, 2);
    ts_points_destroy (&history);
    ts_points_destroy (&all);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (ingest_splits_a_document_at_now_into_history_and_forecast),
        T (ingest_writes_a_batch_and_reports_each_document_in_order),
        T (ingest_is_full_at_batch_max),
        T (ingest_refuses_an_invalid_document_with_the_maps_detail),
        T (ingest_fails_only_the_document_the_store_refuses),
        T (ingest_replaces_the_forecast_with_each_document),
        T (ingest_flush_of_an_empty_batch_does_nothing),
        T (ingest_new_refuses_a_bad_spec_with_its_error),
        T (ingest_of_a_window_job_writes_history_and_leaves_the_forecast),
        T (ingest_stores_the_pages_of_a_document_as_one),
#undef T
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_ingest", tests, NULL, NULL);
}
