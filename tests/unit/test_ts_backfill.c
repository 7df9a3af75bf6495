/*  test_ts_backfill - gap tracking and the backfill planner (pure), and
    the durations its config keys are written in.

    Times are written as RFC 3339 strings so that a failure shows which
    chunk was expected. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../broker/ts_backfill.h"
#include "ts_duration.h"

#define DAY     INT64_C (86400000)
#define HOUR    INT64_C (3600000)

static int64_t
s_ms (const char *iso)
{
    int64_t ms = 0;
    assert_int_equal (ts_time_parse (iso, &ms), 0);
    return ms;
}

//  The settings of a source with past_s 1 day, backfill and window given.
static ts_backfill_conf_t
s_conf (int64_t backfill_ms, int64_t window_ms, uint32_t queued_max)
{
    ts_backfill_conf_t conf = { DAY, backfill_ms, window_ms, queued_max };
    return conf;
}

//  Asserts that windows [i] is [from, to) (RFC 3339).
static void
s_assert_window (const ts_backfill_window_t *w, const char *from,
                 const char *to)
{
    char a [40], b [40];
    assert_string_equal (ts_time_format (w->from_ms, a, sizeof a), from);
    assert_string_equal (ts_time_format (w->to_ms, b, sizeof b), to);
}

//  A fetch at now of the default window: history [now - past, now].
static void
s_fetch (const ts_backfill_conf_t *conf, ts_fill_t *fill, int64_t now)
{
    ts_backfill_fetched (conf, fill, now - conf->past_ms, now, now);
}

static void
duration_parses_units_and_zero (void **state)
{
    int64_t ms = -1;
    assert_int_equal (ts_duration_parse ("30d", &ms, NULL), 0);
    assert_true (ms == 30 * DAY);
    assert_int_equal (ts_duration_parse ("12h", &ms, NULL), 0);
    assert_true (ms == 12 * HOUR);
    assert_int_equal (ts_duration_parse ("90m", &ms, NULL), 0);
    assert_true (ms == 90 * 60000);
    assert_int_equal (ts_duration_parse ("45s", &ms, NULL), 0);
    assert_true (ms == 45000);
    assert_int_equal (ts_duration_parse ("500ms", &ms, NULL), 0);
    assert_true (ms == 500);
    assert_int_equal (ts_duration_parse ("2w", &ms, NULL), 0);
    assert_true (ms == 14 * DAY);
    assert_int_equal (ts_duration_parse ("0", &ms, NULL), 0);
    assert_true (ms == 0);
}

static void
duration_rejects_bad_text_with_the_reason (void **state)
{
    int64_t ms;
    char err [TS_ERRLEN];
    assert_int_equal (ts_duration_parse ("30x", &ms, err), TS_EINVAL);
    assert_non_null (strstr (err, "unknown unit 'x'"));
    assert_int_equal (ts_duration_parse ("30", &ms, err), TS_EINVAL);
    assert_non_null (strstr (err, "missing unit"));
    assert_int_equal (ts_duration_parse ("d", &ms, err), TS_EINVAL);
    assert_int_equal (ts_duration_parse ("-1d", &ms, err), TS_EINVAL);
    assert_int_equal (ts_duration_parse ("1.5d", &ms, err), TS_EINVAL);
    assert_int_equal (ts_duration_parse ("", &ms, err), TS_EINVAL);
    assert_int_equal (ts_duration_parse ("99999999999999999999d", &ms, err),
                      TS_EINVAL);
    assert_non_null (strstr (err, "100 years"));
}

static void
chunks_cut_a_range_oldest_first_the_last_one_shorter (void **state)
{
    ts_backfill_window_t w [8];
    size_t n = ts_backfill_chunks (s_ms ("2026-11-01T00:00:00Z"),
                                   s_ms ("2026-11-03T12:00:00Z"), DAY, w, 8);
    assert_int_equal (n, 3);
    s_assert_window (&w [0], "2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z");
    s_assert_window (&w [1], "2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z");
    s_assert_window (&w [2], "2026-11-03T00:00:00.000Z", "2026-11-03T12:00:00.000Z");
    //  Counted in all even past max; none for an empty range.
    assert_int_equal (ts_backfill_chunks (0, 10 * DAY, DAY, w, 2), 10);
    assert_int_equal (ts_backfill_chunks (DAY, DAY, DAY, w, 8), 0);
}

static void
new_id_is_backfilled_from_now_minus_backfill_to_the_window_start (void **s)
{
    ts_backfill_conf_t conf = s_conf (10 * DAY, DAY, 64);
    ts_fill_t fill = { .flags = TS_FILL_NEW };
    int64_t now = s_ms ("2026-12-06T09:00:00Z");
    s_fetch (&conf, &fill, now);
    assert_int_equal (fill.flags & TS_FILL_NEW, 0);
    assert_true (fill.filled_to_ms == now);
    assert_true (fill.filled_from_ms == now - 10 * DAY);
    assert_int_equal (ts_backfill_total (&conf, &fill), 9);
    ts_backfill_window_t w [16];
    size_t n = ts_backfill_next (&conf, &fill, w, 16);
    assert_int_equal (n, 9);
    s_assert_window (&w [0], "2026-11-26T09:00:00.000Z", "2026-11-27T09:00:00.000Z");
    s_assert_window (&w [8], "2026-12-04T09:00:00.000Z", "2026-12-05T09:00:00.000Z");
    assert_int_equal (fill.queued, 9);
}

static void
id_fetched_before_tracking_began_is_not_backfilled (void **state)
{
    ts_backfill_conf_t conf = s_conf (30 * DAY, DAY, 2);
    ts_fill_t fill = { 0 };
    int64_t now = s_ms ("2026-12-06T09:00:00Z");
    s_fetch (&conf, &fill, now);
    assert_true (fill.filled_from_ms == now - DAY);
    assert_true (fill.filled_to_ms == now);
    ts_backfill_window_t w [4];
    assert_int_equal (ts_backfill_next (&conf, &fill, w, 4), 0);
}

static void
new_id_without_backfill_is_only_tracked (void **state)
{
    ts_backfill_conf_t conf = s_conf (0, DAY, 2);
    ts_fill_t fill = { .flags = TS_FILL_NEW };
    s_fetch (&conf, &fill, 100 * DAY);
    assert_true (fill.filled_from_ms == 99 * DAY);
    assert_int_equal (ts_backfill_total (&conf, &fill), 0);
}

static void
fetches_within_past_s_leave_no_gap (void **state)
{
    ts_backfill_conf_t conf = s_conf (30 * DAY, DAY, 2);
    ts_fill_t fill = { 0 };
    s_fetch (&conf, &fill, 100 * DAY);
    s_fetch (&conf, &fill, 100 * DAY + 5 * 60000);
    s_fetch (&conf, &fill, 101 * DAY);          //  exactly past_s later
    assert_true (fill.filled_from_ms == 99 * DAY);
    assert_true (fill.filled_to_ms == 101 * DAY);
    assert_int_equal (ts_backfill_total (&conf, &fill), 0);
}

static void
downtime_gap_is_filled_from_the_newest_time_covered (void **state)
{
    ts_backfill_conf_t conf = s_conf (30 * DAY, DAY, 2);
    ts_fill_t fill = { 0 };
    s_fetch (&conf, &fill, s_ms ("2026-12-01T06:00:00Z"));
    //  Down 3 days 12 hours: history from 12-01 06:00 to 12-03 18:00
    //  (the next fetch's window start) is missing.
    s_fetch (&conf, &fill, s_ms ("2026-12-04T18:00:00Z"));
    assert_int_equal (ts_backfill_total (&conf, &fill), 3);
    ts_backfill_window_t w [8];
    size_t n = ts_backfill_next (&conf, &fill, w, 8);
    assert_int_equal (n, 2);                    //  queued_max 2
    s_assert_window (&w [0], "2026-12-01T06:00:00.000Z", "2026-12-02T06:00:00.000Z");
    s_assert_window (&w [1], "2026-12-02T06:00:00.000Z", "2026-12-03T06:00:00.000Z");
    assert_int_equal (ts_backfill_next (&conf, &fill, w, 8), 0);
    //  Filled range: contiguous once the backfill is done.
    assert_true (fill.filled_from_ms == s_ms ("2026-11-30T06:00:00Z"));
    //  The second chunk ends first: the third one is queued.
    assert_true (ts_backfill_window_ended (&fill, w [1].from_ms,
                                           w [1].to_ms, true));
    n = ts_backfill_next (&conf, &fill, w + 2, 6);
    assert_int_equal (n, 1);
    s_assert_window (&w [2], "2026-12-03T06:00:00.000Z", "2026-12-03T18:00:00.000Z");
    assert_true (ts_backfill_window_ended (&fill, w [0].from_ms,
                                           w [0].to_ms, true));
    assert_true (ts_backfill_window_ended (&fill, w [2].from_ms,
                                           w [2].to_ms, false));
    //  All ended: no backfill pending, the result kept.
    assert_int_equal (ts_backfill_total (&conf, &fill), 0);
    assert_int_equal (fill.done, 2);
    assert_int_equal (fill.failed, 1);
    assert_int_equal (fill.queued, 0);
}

static void
gap_older_than_backfill_is_filled_back_to_the_horizon_only (void **state)
{
    ts_backfill_conf_t conf = s_conf (5 * DAY, DAY, 64);
    ts_fill_t fill = { 0 };
    s_fetch (&conf, &fill, 10 * DAY);
    s_fetch (&conf, &fill, 30 * DAY);           //  down 20 days
    ts_backfill_window_t w [8];
    size_t n = ts_backfill_next (&conf, &fill, w, 8);
    assert_int_equal (n, 4);
    assert_true (w [0].from_ms == 25 * DAY);
    assert_true (w [3].to_ms == 29 * DAY);
    assert_true (fill.filled_from_ms == 25 * DAY);
}

static void
gap_without_backfill_restarts_the_filled_range (void **state)
{
    ts_backfill_conf_t conf = s_conf (0, DAY, 2);
    ts_fill_t fill = { 0 };
    s_fetch (&conf, &fill, 10 * DAY);
    s_fetch (&conf, &fill, 30 * DAY);
    assert_true (fill.filled_from_ms == 29 * DAY);
    assert_int_equal (ts_backfill_total (&conf, &fill), 0);
}

static void
second_gap_extends_the_pending_backfill (void **state)
{
    ts_backfill_conf_t conf = s_conf (30 * DAY, DAY, 1);
    ts_fill_t fill = { 0 };
    s_fetch (&conf, &fill, 10 * DAY);
    s_fetch (&conf, &fill, 13 * DAY);           //  gap [10d, 12d)
    ts_backfill_window_t w [4];
    assert_int_equal (ts_backfill_next (&conf, &fill, w, 4), 1);
    s_fetch (&conf, &fill, 16 * DAY);           //  gap [13d, 15d)
    assert_true (fill.gap_from_ms == 10 * DAY);
    assert_true (fill.gap_to_ms == 15 * DAY);
    assert_int_equal (ts_backfill_total (&conf, &fill), 5);
}

static void
window_job_outside_the_backfill_is_not_a_chunk (void **state)
{
    ts_backfill_conf_t conf = s_conf (0, DAY, 2);
    ts_fill_t fill = { 0 };
    s_fetch (&conf, &fill, 10 * DAY);
    assert_false (ts_backfill_window_ended (&fill, 7 * DAY, 9 * DAY, true));
    assert_true (fill.filled_from_ms == 7 * DAY);
    //  One that does not reach the filled range leaves it as it is.
    assert_false (ts_backfill_window_ended (&fill, 2 * DAY, 3 * DAY, true));
    assert_true (fill.filled_from_ms == 7 * DAY);
}

static void
conf_is_read_per_source_with_defaults_and_shared_values (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (
        "upstream:\n"
        "  backfill_window: 6h\n"
        "sources:\n"
        "  - name: weather\n"
        "    backfill: 30d\n"
        "    backfill_queued: 4\n"
        "    past_s: 3600\n"
        "  - name: prices\n", "test", err);
    if (!cfg)
        fail_msg ("%s", err);
    assert_int_equal (ts_config_source_count (cfg), 2);
    ts_backfill_conf_t weather, prices;
    ts_backfill_conf_read (ts_config_source_at (cfg, 0), &weather);
    ts_backfill_conf_read (ts_config_source_at (cfg, 1), &prices);
    assert_true (weather.backfill_ms == 30 * DAY);
    assert_true (weather.window_ms == 6 * HOUR);
    assert_int_equal (weather.queued_max, 4);
    assert_true (weather.past_ms == HOUR);
    assert_true (prices.backfill_ms == 0);
    assert_true (prices.window_ms == 6 * HOUR);
    assert_int_equal (prices.queued_max, 2);
    assert_true (prices.past_ms == DAY);
    ts_config_destroy (&cfg);
}

static void
config_refuses_a_bad_duration_naming_the_key (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text ("upstream:\n  backfill: 30x\n",
                                            "test", err);
    assert_null (cfg);
    assert_non_null (strstr (err, "upstream.backfill"));
    assert_non_null (strstr (err, "unknown unit 'x'"));
    cfg = ts_config_load_text ("upstream:\n  backfill_window: 10s\n",
                               "test", err);
    assert_null (cfg);
    assert_non_null (strstr (err, "upstream.backfill_window"));
    assert_non_null (strstr (err, "from 1m to 366d"));
    cfg = ts_config_load_text ("upstream:\n  backfill_queued: 65\n",
                               "test", err);
    assert_null (cfg);
    assert_non_null (strstr (err, "upstream.backfill_queued"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (duration_parses_units_and_zero),
        cmocka_unit_test (duration_rejects_bad_text_with_the_reason),
        cmocka_unit_test (chunks_cut_a_range_oldest_first_the_last_one_shorter),
        cmocka_unit_test (new_id_is_backfilled_from_now_minus_backfill_to_the_window_start),
        cmocka_unit_test (id_fetched_before_tracking_began_is_not_backfilled),
        cmocka_unit_test (new_id_without_backfill_is_only_tracked),
        cmocka_unit_test (fetches_within_past_s_leave_no_gap),
        cmocka_unit_test (downtime_gap_is_filled_from_the_newest_time_covered),
        cmocka_unit_test (gap_older_than_backfill_is_filled_back_to_the_horizon_only),
        cmocka_unit_test (gap_without_backfill_restarts_the_filled_range),
        cmocka_unit_test (second_gap_extends_the_pending_backfill),
        cmocka_unit_test (window_job_outside_the_backfill_is_not_a_chunk),
        cmocka_unit_test (conf_is_read_per_source_with_defaults_and_shared_values),
        cmocka_unit_test (config_refuses_a_bad_duration_naming_the_key),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
