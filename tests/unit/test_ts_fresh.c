/*  test_ts_fresh - the stale rule (next fire after the last success plus
    a grace; never fetched and failing are stale), its upper bound over
    several sources, stale-while-revalidate and stale-if-error windows,
    and the Age / Cache-Control / ETag values. Times are written as
    RFC 3339 strings. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../gateway/ts_fresh.h"

static int64_t
s_ms (const char *iso)
{
    int64_t ms = 0;
    assert_int_equal (ts_time_parse (iso, &ms), 0);
    return ms;
}

//  A rule of one source on expr (NULL: schedule off), shift 0.
static ts_fresh_t *
s_rule (const char *expr, int64_t grace_s, int64_t swr_s, int64_t sie_s)
{
    ts_fresh_schedule_t schedule = { .on = expr != NULL };
    if (expr)
        assert_int_equal (ts_cron_parse (&schedule.cron, expr, NULL), 0);
    ts_fresh_t *fresh = ts_fresh_new_with (&schedule, 1, grace_s, swr_s,
                                           sie_s);
    assert_non_null (fresh);
    return fresh;
}

static void
fresh_until_next_fire_plus_grace (void **state)
{
    ts_fresh_t *fresh = s_rule ("rate(5 minutes)", 60, 0, 0);
    int64_t ok = s_ms ("2026-01-01T10:00:20Z");
    assert_int_equal (ts_fresh_stale_at (fresh, ok),
                      s_ms ("2026-01-01T10:06:00Z"));
    ts_fresh_verdict_t v;
    ts_fresh_judge (fresh, ok, 0, s_ms ("2026-01-01T10:05:59.999Z"), &v);
    assert_false (v.stale);
    assert_int_equal (v.age_s, 339);
    assert_int_equal (v.fetched_ms, ok);
    ts_fresh_judge (fresh, ok, 0, s_ms ("2026-01-01T10:06:00Z"), &v);
    assert_true (v.stale);
    assert_true (v.overdue);
    assert_false (v.failed);
    //  A hydrate between two ticks waits for the next tick, not a period.
    assert_int_equal (ts_fresh_stale_at (fresh, s_ms ("2026-01-01T10:03:00Z")),
                      s_ms ("2026-01-01T10:06:00Z"));
    ts_fresh_destroy (&fresh);
    assert_null (fresh);
}

static void
fresh_follows_eventbridge_cron (void **state)
{
    //  Weekdays at 06:00: fetched Friday 06:00:30, due Monday 06:00.
    ts_fresh_t *fresh = s_rule ("cron(0 6 ? * MON-FRI *)", 120, 0, 0);
    int64_t ok = s_ms ("2026-01-02T06:00:30Z");     //  a Friday
    assert_int_equal (ts_fresh_stale_at (fresh, ok),
                      s_ms ("2026-01-05T06:02:00Z"));
    ts_fresh_verdict_t v;
    ts_fresh_judge (fresh, ok, 0, s_ms ("2026-01-04T23:00:00Z"), &v);
    assert_false (v.stale);
    ts_fresh_destroy (&fresh);
}

static void
never_fetched_is_stale (void **state)
{
    ts_fresh_t *fresh = s_rule ("rate(1 hour)", 60, 0, 0);
    ts_fresh_verdict_t v;
    ts_fresh_judge (fresh, 0, 0, s_ms ("2026-01-01T10:00:00Z"), &v);
    assert_true (v.stale);
    assert_int_equal (v.age_s, -1);
    assert_int_equal (v.fetched_ms, 0);
    assert_false (v.failed);
    //  Failed without ever a success: failing, no data.
    ts_fresh_judge (fresh, 0, s_ms ("2026-01-01T09:00:00Z"),
                    s_ms ("2026-01-01T10:00:00Z"), &v);
    assert_true (v.stale);
    assert_true (v.failed);
    ts_fresh_destroy (&fresh);
}

static void
failure_after_success_is_stale (void **state)
{
    ts_fresh_t *fresh = s_rule ("rate(1 hour)", 60, 0, 0);
    int64_t ok = s_ms ("2026-01-01T10:00:00Z");
    ts_fresh_verdict_t v;
    ts_fresh_judge (fresh, ok, s_ms ("2026-01-01T10:10:00Z"),
                    s_ms ("2026-01-01T10:11:00Z"), &v);
    assert_true (v.stale);
    assert_true (v.failed);
    assert_false (v.overdue);
    //  A failure before the last success is history.
    ts_fresh_judge (fresh, ok, s_ms ("2026-01-01T09:10:00Z"),
                    s_ms ("2026-01-01T10:11:00Z"), &v);
    assert_false (v.stale);
    assert_false (v.failed);
    ts_fresh_destroy (&fresh);
}

static void
schedule_off_never_stale_by_age (void **state)
{
    ts_fresh_t *fresh = s_rule (NULL, 60, 0, 0);
    int64_t ok = s_ms ("2020-01-01T00:00:00Z");
    assert_true (ts_fresh_stale_at (fresh, ok) == INT64_MAX);
    ts_fresh_verdict_t v;
    ts_fresh_judge (fresh, ok, 0, s_ms ("2026-01-01T00:00:00Z"), &v);
    assert_false (v.stale);
    char age [32], cc [TS_FRESH_CC_MAX];
    //  ts_fresh_fill writes reply->fresh alone: a message on the stack.
    ts_msg_t answer = { .op = TS_OP_REPLY }, *reply = &answer;
    ts_fresh_fill (&v, 0, NULL, NULL, reply);
    ts_fresh_headers (fresh, &reply->fresh, age, sizeof age, cc);
    assert_string_equal (cc, "max-age=86400");
    ts_fresh_destroy (&fresh);
}

static void
several_sources_take_the_latest (void **state)
{
    ts_fresh_schedule_t s [2] = { { .on = true }, { .on = true } };
    assert_int_equal (ts_cron_parse (&s [0].cron, "rate(5 minutes)", NULL), 0);
    assert_int_equal (ts_cron_parse (&s [1].cron, "rate(1 hour)", NULL), 0);
    s [1].shift_ms = 30000;
    ts_fresh_t *fresh = ts_fresh_new_with (s, 2, 0, 0, 0);
    //  10:05 (every 5 minutes) is later than 10:00:30 (hourly, shifted).
    assert_int_equal (ts_fresh_stale_at (fresh, s_ms ("2026-01-01T10:00:20Z")),
                      s_ms ("2026-01-01T10:05:00Z"));
    assert_int_equal (ts_fresh_stale_at (fresh, s_ms ("2026-01-01T10:00:40Z")),
                      s_ms ("2026-01-01T11:00:30Z"));
    //  The id's own source known: its schedule alone.
    assert_int_equal (ts_fresh_stale_at_source (fresh, 0,
                                                s_ms ("2026-01-01T10:00:40Z")),
                      s_ms ("2026-01-01T10:05:00Z"));
    assert_int_equal (ts_fresh_stale_at_source (fresh, 1,
                                                s_ms ("2026-01-01T10:00:20Z")),
                      s_ms ("2026-01-01T10:00:30Z"));
    assert_int_equal (ts_fresh_stale_at_source (fresh, 7,
                                                s_ms ("2026-01-01T10:00:20Z")),
                      s_ms ("2026-01-01T10:05:00Z"));
    ts_fresh_destroy (&fresh);
}

static void
headers_of_fresh_and_stale (void **state)
{
    ts_fresh_t *fresh = s_rule ("rate(5 minutes)", 60, 30, 600);
    int64_t ok = s_ms ("2026-01-01T10:00:00Z");
    int64_t now = s_ms ("2026-01-01T10:02:05.500Z");
    ts_fresh_verdict_t v;
    ts_fresh_judge (fresh, ok, 0, now, &v);
    char age [32], cc [TS_FRESH_CC_MAX];
    //  ts_fresh_fill writes reply->fresh alone: a message on the stack.
    ts_msg_t answer = { .op = TS_OP_REPLY }, *reply = &answer;
    ts_fresh_fill (&v, 0, NULL, NULL, reply);
    ts_fresh_headers (fresh, &reply->fresh, age, sizeof age, cc);
    assert_string_equal (age, "125");
    //  Lifetime from the fetch (10:06 - 10:00): Age is subtracted by caches.
    assert_string_equal (cc, "max-age=360, stale-while-revalidate=30, "
                             "stale-if-error=600");
    now = s_ms ("2026-01-01T10:06:01Z");
    ts_fresh_judge (fresh, ok, 0, now, &v);
    ts_fresh_fill (&v, 0, NULL, NULL, reply);
    ts_fresh_headers (fresh, &reply->fresh, age, sizeof age, cc);
    assert_string_equal (age, "361");
    assert_string_equal (cc, "max-age=0, no-cache");
    ts_fresh_judge (fresh, 0, 0, now, &v);
    ts_fresh_fill (&v, 0, NULL, NULL, reply);
    ts_fresh_headers (fresh, &reply->fresh, age, sizeof age, cc);
    assert_string_equal (age, "");
    assert_string_equal (cc, "max-age=0, no-cache");
    ts_fresh_destroy (&fresh);
}

static void
revalidate_within_window_only (void **state)
{
    ts_fresh_t *fresh = s_rule ("rate(5 minutes)", 0, 30, 0);
    int64_t ok = s_ms ("2026-01-01T10:00:00Z");
    ts_fresh_verdict_t v;
    int64_t now = s_ms ("2026-01-01T10:04:00Z");
    ts_fresh_judge (fresh, ok, 0, now, &v);
    assert_false (ts_fresh_revalidate (fresh, &v, now));     //  fresh
    now = s_ms ("2026-01-01T10:05:29Z");
    ts_fresh_judge (fresh, ok, 0, now, &v);
    assert_true (ts_fresh_revalidate (fresh, &v, now));
    now = s_ms ("2026-01-01T10:05:30Z");
    ts_fresh_judge (fresh, ok, 0, now, &v);
    assert_false (ts_fresh_revalidate (fresh, &v, now));     //  past it
    //  Failing: the broker retries, queries do not add fetches.
    now = s_ms ("2026-01-01T10:05:10Z");
    ts_fresh_judge (fresh, ok, s_ms ("2026-01-01T10:05:05Z"), now, &v);
    assert_false (ts_fresh_revalidate (fresh, &v, now));
    ts_fresh_destroy (&fresh);
    //  Off.
    fresh = s_rule ("rate(5 minutes)", 0, 0, 0);
    ts_fresh_judge (fresh, ok, 0, s_ms ("2026-01-01T10:05:01Z"), &v);
    assert_false (ts_fresh_revalidate (fresh, &v,
                                       s_ms ("2026-01-01T10:05:01Z")));
    ts_fresh_destroy (&fresh);
}

static void
stale_if_error_reads_back_the_window (void **state)
{
    ts_fresh_t *fresh = s_rule ("rate(5 minutes)", 0, 0, 600);
    int64_t ok = s_ms ("2026-01-01T10:00:00Z");
    int64_t now = s_ms ("2026-01-01T10:20:00Z");
    ts_fresh_verdict_t v;
    ts_fresh_judge (fresh, ok, 0, now, &v);
    assert_int_equal (ts_fresh_read_ms (fresh, &v, now), now);
    ts_fresh_judge (fresh, ok, s_ms ("2026-01-01T10:15:00Z"), now, &v);
    assert_int_equal (ts_fresh_read_ms (fresh, &v, now), now - 600000);
    ts_fresh_destroy (&fresh);
    fresh = s_rule ("rate(5 minutes)", 0, 0, 0);
    ts_fresh_judge (fresh, ok, s_ms ("2026-01-01T10:15:00Z"), now, &v);
    assert_int_equal (ts_fresh_read_ms (fresh, &v, now), now);
    ts_fresh_destroy (&fresh);
}

static void
etag_and_if_none_match (void **state)
{
    char etag [TS_FRESH_ETAG_MAX];
    //  XXH3 64-bit test vectors.
    ts_fresh_etag (ts_fresh_hash ("", 0), etag);
    assert_string_equal (etag, "\"2d06800538d394c2\"");
    ts_fresh_etag (ts_fresh_hash ("a", 1), etag);
    assert_string_equal (etag, "\"e6c632b61e964e1f\"");
    const char *list = "\"x\", W/\"e6c632b61e964e1f\"";
    assert_true (ts_fresh_etag_matches (list, strlen (list), etag));
    assert_true (ts_fresh_etag_matches (etag, strlen (etag), etag));
    assert_true (ts_fresh_etag_matches ("*", 1, etag));
    assert_false (ts_fresh_etag_matches ("\"e6c632b61e964e1e\"", 18, etag));
    assert_false (ts_fresh_etag_matches ("", 0, etag));
    assert_false (ts_fresh_etag_matches ("e6c632b61e964e1f", 16, etag));
    assert_false (ts_fresh_etag_matches ("\"af63", 5, etag));
}

static void
config_keys_build_the_rule (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (
        "broker:\n  schedule: \"rate(1 hour)\"\n"
        "gateway:\n  stale_grace_s: 10\n  stale_while_revalidate_s: 5\n"
        "  stale_if_error_s: 7\n", "test", err);
    assert_non_null (cfg);
    ts_fresh_t *fresh = ts_fresh_new (cfg, err);
    assert_non_null (fresh);
    assert_int_equal (ts_fresh_swr_s (fresh), 5);
    assert_int_equal (ts_fresh_sie_s (fresh), 7);
    assert_int_equal (ts_fresh_stale_at (fresh, s_ms ("2026-01-01T10:00:01Z")),
                      s_ms ("2026-01-01T11:00:10Z"));
    ts_fresh_destroy (&fresh);
    ts_config_destroy (&cfg);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (fresh_until_next_fire_plus_grace),
        cmocka_unit_test (fresh_follows_eventbridge_cron),
        cmocka_unit_test (never_fetched_is_stale),
        cmocka_unit_test (failure_after_success_is_stale),
        cmocka_unit_test (schedule_off_never_stale_by_age),
        cmocka_unit_test (several_sources_take_the_latest),
        cmocka_unit_test (headers_of_fresh_and_stale),
        cmocka_unit_test (revalidate_within_window_only),
        cmocka_unit_test (stale_if_error_reads_back_the_window),
        cmocka_unit_test (etag_and_if_none_match),
        cmocka_unit_test (config_keys_build_the_rule),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
