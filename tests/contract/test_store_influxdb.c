/*  test_store_influxdb - the InfluxDB backend against a real influxd
    (1.x, tests/contract/ts_influxd.h), through its ops table so that
    names the store's checks would refuse reach it too: hostile ids and
    measures stay what they are (no line protocol or InfluxQL
    injection, ids that are prefixes of one another apart, an id of the
    old rule starting with '-'), a partial write fails naming the refused
    point and lands the rest, store init creates then finds. The store
    contract (configuration influxdb) is test_store_contract*. */

#include "ts_contract.h"
#include "ts_influxd.h"
#include "ts_store_influxdb.h"

typedef struct {
    const char  *url;
    char         db [64];
    ts_config_t *cfg;
    void        *state;         //  the backend's
} fixture_t;

static int s_serial;

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    char err [TS_ERRLEN] = "", text [512];
    fx->url = ts_influxd_url (err, sizeof err);
    if (!fx->url)
        fail_msg ("%s", err);
    snprintf (fx->db, sizeof fx->db, "tscache-it-%d-%d", (int) getpid (),
              ++s_serial);
    snprintf (text, sizeof text,
              "store:\n  history:\n    backend: influxdb\n"
              "  influxdb:\n    url: %s\n    database: %s\n"
              "    retries: 1\n    batch_points: 100\n", fx->url, fx->db);
    fx->cfg = ts_config_load_text (text, "test.yaml", err);
    if (!fx->cfg)
        fail_msg ("config: %s", err);
    ts_strlist_t *report = ts_strlist_new ();
    assert_int_equal (ts_store_influxdb_init (fx->cfg, report, err), 0);
    assert_int_equal (ts_store_influxdb_init (fx->cfg, report, err), 0);
    assert_int_equal (report->n, 2);
    assert_non_null (strstr (report->items [0], " created"));
    assert_non_null (strstr (report->items [1], " found"));
    ts_strlist_destroy (&report);
    fx->state = ts_store_influxdb_ops.open (fx->cfg, err);
    if (!fx->state)
        fail_msg ("open: %s", err);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    ts_store_influxdb_ops.close (fx->state);
    ts_config_destroy (&fx->cfg);
    free (fx);
    return 0;
}

//  Points of id in all time, read by the backend.
static ts_points_t *
s_read (fixture_t *fx, const char *id, const char *measure)
{
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN] = "";
    if (ts_store_influxdb_ops.history_range (fx->state, id, measure,
                                             INT64_MIN, INT64_MAX, 1000, out,
                                             err))
        fail_msg ("range %s: %s", id, err);
    return out;
}

//  A bare line protocol write; returns the HTTP status.
static long
s_bare_write (fixture_t *fx, const char *lines)
{
    char url [256];
    snprintf (url, sizeof url, "%s/write?db=%s&precision=ms", fx->url,
              fx->db);
    CURL *curl = curl_easy_init ();
    long status = 0;
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, lines);
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (curl);
    return status;
}

static void
hostile_ids_and_measures_stay_what_they_are (void **state)
{
    fixture_t *fx = *state;
    const char *ids [] = { "a", "a.b", "a.b:c", "a.b:c-d", "-old", "other",
                           "x' OR 'a'='a" };
    const char *measures [] = { "x=1,id=other", "m 1", "a,b", "v" };
    char err [TS_ERRLEN] = "";
    for (size_t i = 0; i < 6; i++) {
        ts_points_t *pts = ts_points_new ();
        for (size_t m = 0; m < 4; m++)
            assert_int_equal (ts_points_append (pts, 1000 + (int64_t) i,
                              measures [m], (double) (i * 10 + m)), 0);
        if (ts_store_influxdb_ops.history_put (fx->state, ids [i], pts, err))
            fail_msg ("put %s: %s", ids [i], err);
        ts_points_destroy (&pts);
    }
    for (size_t i = 0; i < 6; i++) {
        ts_points_t *out = s_read (fx, ids [i], NULL);
        assert_int_equal (out->n, 4);
        for (size_t k = 0; k < out->n; k++) {
            assert_int_equal (out->time_ms [k], 1000 + (int64_t) i);
            const char *name = ts_points_measure (out, k);
            size_t m = 0;
            while (m < 4 && strcmp (measures [m], name))
                m++;
            assert_true (m < 4);
            assert_true (out->value [k] == (double) (i * 10 + m));
        }
        ts_points_destroy (&out);
        //  One measure by name, quoted.
        out = s_read (fx, ids [i], "x=1,id=other");
        assert_int_equal (out->n, 1);
        assert_true (out->value [0] == (double) (i * 10));
        ts_points_destroy (&out);
    }
    //  The old-rule id's delete does not touch its neighbours; an id that
    //  is not a name never reaches InfluxQL.
    assert_int_equal (ts_store_influxdb_ops.forget (fx->state,
                      TS_STORE_HISTORY, "-old", err), 0);
    ts_points_t *out = s_read (fx, "-old", NULL);
    assert_int_equal (out->n, 0);
    ts_points_destroy (&out);
    out = s_read (fx, "other", NULL);
    assert_int_equal (out->n, 4);
    ts_points_clear (out);
    assert_int_equal (ts_store_influxdb_ops.history_range (fx->state,
                      ids [6], NULL, 0, 1, 10, out, err), TS_EINVAL);
    assert_int_equal (ts_store_influxdb_ops.forget (fx->state,
                      TS_STORE_HISTORY, ids [6], err), TS_EINVAL);
    ts_points_destroy (&out);
    out = s_read (fx, "a.b:c-d", NULL);
    assert_int_equal (out->n, 4);
    ts_points_destroy (&out);
}

static void
partial_write_names_the_refused_point_and_lands_the_rest (void **state)
{
    fixture_t *fx = *state;
    //  n is an integer field of the measurement: a float n is refused.
    assert_int_equal (s_bare_write (fx, "history,id=p n=1i 500"), 204);
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, 2000, "ok", 1), 0);
    assert_int_equal (ts_points_append (pts, 1000, "n", 1.5), 0);
    assert_int_equal (ts_points_append (pts, 3000, "ok", 2), 0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_influxdb_ops.history_put (fx->state, "p", pts,
                                                         err), TS_EBACKEND);
    assert_non_null (strstr (err, "store.influxdb: 1 of 3 lines refused: "
                             "id 'p' time 1000 measures n: "));
    assert_non_null (strstr (err, "field type conflict"));
    ts_points_t *out = s_read (fx, "p", "ok");
    assert_int_equal (out->n, 2);
    assert_int_equal (out->time_ms [0], 2000);
    assert_int_equal (out->time_ms [1], 3000);
    ts_points_destroy (&out);
    //  The integer point reads as a number.
    out = s_read (fx, "p", "n");
    assert_int_equal (out->n, 1);
    assert_true (out->value [0] == 1);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
many_refused_points_are_capped_in_the_error (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (s_bare_write (fx, "history,id=q n=1i 1"), 204);
    ts_points_t *pts = ts_points_new ();
    for (int i = 0; i < 30; i++)
        assert_int_equal (ts_points_append (pts, 1000 + i, "n", 0.5), 0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_influxdb_ops.history_put (fx->state, "q", pts,
                                                         err), TS_EBACKEND);
    assert_non_null (strstr (err, "30 of 30 lines refused"));
    assert_non_null (strstr (err, " more)"));
    ts_points_destroy (&pts);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (
            hostile_ids_and_measures_stay_what_they_are, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown (
            partial_write_names_the_refused_point_and_lands_the_rest,
            s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (
            many_refused_points_are_capped_in_the_error, s_setup,
            s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
