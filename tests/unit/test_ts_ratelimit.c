/*  test_ts_ratelimit - the token bucket and pushback policy of one source
    (common/ts_ratelimit.h): parsing rates, the burst, fractional rates,
    long idle, costs over the burst, pauses by Retry-After and by bare
    429s with their slow-down and recovery, and a clock that steps back.
    Times are plain millisecond counts; nothing sleeps. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "ts_ratelimit.h"

#define T0      INT64_C (5000000)       //  an arbitrary monotonic "now"
#define PAUSE   300000                  //  max_pause_ms of most tests

static double
s_rate (const char *text)
{
    double per_s = -1;
    char err [TS_ERRLEN] = "";
    if (ts_ratelimit_parse (text, &per_s, err) != 0)
        fail_msg ("%s: %s", text, err);
    return per_s;
}

static const char *
s_rate_error (const char *text, char *err)
{
    double per_s = -1;
    assert_int_equal (ts_ratelimit_parse (text, &per_s, err), TS_EINVAL);
    assert_true (per_s == 0);
    return err;
}

//  How many takes of cost 1 succeed at now_ms, trying up to max.
static int
s_drain (ts_ratelimit_t *rl, int64_t now_ms, int max)
{
    int n = 0;
    while (n < max && ts_ratelimit_take (rl, 1, now_ms))
        n++;
    return n;
}

static void
ratelimit_parses_per_second_minute_hour_and_fractions (void **state)
{
    assert_true (s_rate ("20/s") == 20);
    assert_true (s_rate ("20") == 20);
    assert_true (s_rate (" 0.5/s ") == 0.5);
    assert_true (s_rate ("1200/min") == 20);
    assert_true (s_rate ("90 /min") == 1.5);
    assert_true (fabs (s_rate ("3600/h") - 1) < 1e-12);
    assert_true (fabs (s_rate ("1/h") - 1.0 / 3600) < 1e-12);
    assert_true (s_rate ("1000000/s") == 1000000);
    assert_true (s_rate ("") == 0);
    assert_true (s_rate ("off") == 0);
    assert_true (s_rate (NULL) == 0);
}

static void
ratelimit_rejects_what_is_not_a_rate_naming_the_forms (void **state)
{
    char err [TS_ERRLEN];
    assert_non_null (strstr (s_rate_error ("fast", err),
                             "'fast' is not a rate: write N/s, N/min or N/h"));
    assert_non_null (strstr (s_rate_error ("20/sec", err), "not a rate"));
    assert_non_null (strstr (s_rate_error ("-5/s", err), "not a rate"));
    assert_non_null (strstr (s_rate_error ("1.2.3/s", err), "not a rate"));
    assert_non_null (strstr (s_rate_error ("/s", err), "not a rate"));
    assert_non_null (strstr (s_rate_error ("0/s", err), "out of range"));
    assert_non_null (strstr (s_rate_error ("0.00001/s", err),
                             "out of range"));
    assert_non_null (strstr (s_rate_error ("2000000/s", err),
                             "out of range"));
    assert_non_null (strstr (s_rate_error ("1234567890123456/s", err),
                             "not a rate"));
}

static void
ratelimit_default_burst_is_one_second_of_requests (void **state)
{
    assert_true (ts_ratelimit_default_burst (20) == 20);
    assert_true (ts_ratelimit_default_burst (2.5) == 3);
    assert_true (ts_ratelimit_default_burst (0.5) == 1);
    assert_true (ts_ratelimit_default_burst (0) == 1);
}

static void
ratelimit_starts_full_and_allows_the_burst_then_the_rate (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (20, 5, PAUSE, T0);
    assert_non_null (rl);
    assert_int_equal (s_drain (rl, T0, 100), 5);
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, T0), 50);
    assert_int_equal (s_drain (rl, T0 + 49, 100), 0);
    assert_int_equal (s_drain (rl, T0 + 50, 100), 1);
    //  Over one second after the burst: 20 more, never 21.
    int total = 0;
    for (int64_t t = T0 + 51; t <= T0 + 1050; t += 7)
        total += s_drain (rl, t, 100);
    assert_in_range (total, 19, 20);
    ts_ratelimit_destroy (&rl);
    assert_null (rl);
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_long_idle_fills_the_bucket_only_to_the_burst (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (10, 3, PAUSE, T0);
    assert_int_equal (s_drain (rl, T0, 100), 3);
    //  A year of idle: still 3, and no overflow.
    int64_t later = T0 + INT64_C (365) * 86400 * 1000;
    assert_true (ts_ratelimit_tokens (rl, later) == 3);
    assert_int_equal (s_drain (rl, later, 100), 3);
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, later), 100);
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_fractional_rate_spaces_requests_out (void **state)
{
    //  0.5/s, burst 1: one take every 2 s.
    ts_ratelimit_t *rl = ts_ratelimit_new (0.5, 1, PAUSE, T0);
    assert_true (ts_ratelimit_take (rl, 1, T0));
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, T0 + 1000), 1000);
    assert_false (ts_ratelimit_take (rl, 1, T0 + 1999));
    assert_true (ts_ratelimit_take (rl, 1, T0 + 2000));
    //  Many small refills add up to the same as one large one.
    for (int64_t t = T0 + 2001; t < T0 + 4000; t += 3)
        assert_false (ts_ratelimit_take (rl, 1, t));
    assert_true (ts_ratelimit_take (rl, 1, T0 + 4000));
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_job_costs_its_ids_and_one_over_the_burst_runs_into_debt
    (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (10, 4, PAUSE, T0);
    //  A job of 3 ids, then one of 3 more: only 1 token left.
    assert_true (ts_ratelimit_take (rl, 3, T0));
    assert_false (ts_ratelimit_take (rl, 3, T0));
    assert_true (ts_ratelimit_take (rl, 1, T0));
    //  A job of 10 ids waits for a full bucket (4 tokens: 400 ms) ...
    assert_int_equal (ts_ratelimit_wait_ms (rl, 10, T0), 400);
    assert_false (ts_ratelimit_take (rl, 10, T0 + 399));
    assert_true (ts_ratelimit_take (rl, 10, T0 + 400));
    //  ... and leaves it 6 in debt: the next id waits 700 ms.
    assert_true (fabs (ts_ratelimit_tokens (rl, T0 + 400) + 6) < 1e-9);
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, T0 + 400), 700);
    assert_false (ts_ratelimit_take (rl, 1, T0 + 1099));
    assert_true (ts_ratelimit_take (rl, 1, T0 + 1100));
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_unlimited_always_takes_unless_paused (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (0, 1, PAUSE, T0);
    assert_int_equal (s_drain (rl, T0, 1000), 1000);
    assert_int_equal (ts_ratelimit_wait_ms (rl, 50, T0), 0);
    assert_true (ts_ratelimit_rate (rl, T0) == 0);
    //  A bare 429 pauses it 1 s; there is no rate to halve.
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, T0), 1000);
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, T0 + 500), 500);
    assert_false (ts_ratelimit_take (rl, 1, T0 + 999));
    assert_true (ts_ratelimit_take (rl, 1, T0 + 1000));
    assert_true (ts_ratelimit_rate (rl, T0 + 1000) == 0);
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_retry_after_pauses_until_then_capped (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (20, 5, 10000, T0);
    assert_int_equal (ts_ratelimit_pushback (rl, true, 3000, T0), 3000);
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, T0 + 50), 2950 + 50);
    //  An earlier end does not shorten it; a later one lengthens it.
    assert_int_equal (ts_ratelimit_pushback (rl, false, 1000, T0 + 100), 0);
    assert_true (ts_ratelimit_paused (rl, T0 + 2999));
    assert_false (ts_ratelimit_take (rl, 1, T0 + 2999));
    assert_int_equal (ts_ratelimit_pushback (rl, false, 4000, T0 + 3000),
                      4000);
    assert_true (ts_ratelimit_paused (rl, T0 + 6999));
    assert_false (ts_ratelimit_paused (rl, T0 + 7000));
    //  The bucket restarts empty at the pause's end: no burst after it.
    assert_false (ts_ratelimit_take (rl, 1, T0 + 7000));
    assert_true (ts_ratelimit_take (rl, 1, T0 + 7050));
    //  A Retry-After of a day is capped at max_pause_ms.
    assert_int_equal (ts_ratelimit_pushback (rl, true, 86400000, T0 + 8000),
                      10000);
    assert_true (ts_ratelimit_paused (rl, T0 + 17999));
    assert_false (ts_ratelimit_paused (rl, T0 + 18000));
    //  Neither a 429 nor a Retry-After: nothing.
    assert_int_equal (ts_ratelimit_pushback (rl, false, 0, T0 + 20000), 0);
    //  A Retry-After alone does not slow the rate.
    assert_true (ts_ratelimit_rate (rl, T0 + 20000) == 20);
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_bare_429_pauses_doubling_and_halves_the_rate (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (16, 4, 5000, T0);
    int64_t t = T0;
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, t), 1000);
    assert_int_equal (ts_ratelimit_level (rl, t), 1);
    //  The 429s of the jobs in flight arrive during the pause: ignored.
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, t + 10), 0);
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, t + 999), 0);
    t += 1000;
    assert_true (ts_ratelimit_rate (rl, t) == 8);
    //  Again right after the pause: 2 s, a quarter of the rate.
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, t), 2000);
    t += 2000;
    assert_true (ts_ratelimit_rate (rl, t) == 4);
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, t), 4000);
    t += 4000;
    assert_true (ts_ratelimit_rate (rl, t) == 2);
    //  The pause is capped at max_pause_ms; the rate at a sixteenth.
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, t), 5000);
    t += 5000;
    assert_true (ts_ratelimit_rate (rl, t) == 1);
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, t), 5000);
    t += 5000;
    assert_int_equal (ts_ratelimit_level (rl, t), 5);
    assert_true (ts_ratelimit_rate (rl, t) == 1);
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_recovers_one_level_per_quiet_period (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (16, 16, PAUSE, T0);
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, T0), 1000);
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, T0 + 1000), 2000);
    int64_t end = T0 + 3000;
    assert_int_equal (ts_ratelimit_level (rl, end), 2);
    assert_true (ts_ratelimit_rate (rl, end + 9999) == 4);
    assert_true (ts_ratelimit_rate (rl, end + 10000) == 8);
    assert_true (ts_ratelimit_rate (rl, end + 20000) == 16);
    assert_int_equal (ts_ratelimit_level (rl, end + 60000), 0);
    //  What the bucket earned over the recovery: 10 s at 4/s, then 8/s
    //  (capped by the burst of 16).
    ts_ratelimit_t *fresh = ts_ratelimit_new (16, 100, PAUSE, T0);
    assert_int_equal (s_drain (fresh, T0, 1000), 100);
    assert_int_equal (ts_ratelimit_pushback (fresh, true, 0, T0), 1000);
    assert_int_equal (ts_ratelimit_pushback (fresh, true, 0, T0 + 1000),
                      2000);
    //  From the end (3 s): 10 s at 4/s = 40, then 2 s at 8/s = 16.
    double tokens = ts_ratelimit_tokens (fresh, end + 12000);
    assert_true (fabs (tokens - 56) < 1e-6);
    //  A pushback after recovery starts at level 1 again: 1 s.
    assert_int_equal (ts_ratelimit_pushback (rl, true, 0, end + 60000),
                      1000);
    ts_ratelimit_destroy (&fresh);
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_questions_about_a_later_time_change_nothing (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (20, 5, PAUSE, T0);
    assert_int_equal (ts_ratelimit_pushback (rl, true, 3000, T0), 3000);
    //  "The rate once the pause is over" must not end the pause now.
    assert_true (ts_ratelimit_rate (rl, T0 + 3000) == 20);
    assert_false (ts_ratelimit_paused (rl, T0 + 3000));
    assert_int_equal (ts_ratelimit_level (rl, T0 + 60000), 0);
    assert_false (ts_ratelimit_take (rl, 1, T0 + 50));
    assert_true (ts_ratelimit_paused (rl, T0 + 50));
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, T0 + 50), 2950 + 50);
    ts_ratelimit_destroy (&rl);
}

static void
ratelimit_clock_step_back_keeps_pause_length_and_tokens (void **state)
{
    ts_ratelimit_t *rl = ts_ratelimit_new (10, 5, PAUSE, T0);
    assert_int_equal (s_drain (rl, T0, 100), 5);
    //  The clock goes back an hour: no tokens appear or vanish ...
    int64_t back = T0 - 3600000;
    assert_int_equal (s_drain (rl, back, 100), 0);
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, back), 100);
    //  ... and the bucket refills at its rate from there.
    assert_int_equal (s_drain (rl, back + 100, 100), 1);
    //  A pause keeps its remaining length across a step back.
    assert_int_equal (ts_ratelimit_pushback (rl, false, 3000, back + 200),
                      3000);
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, back + 1200), 2000 + 100);
    int64_t again = back + 1200 - 60000;        //  1 s in, a minute back
    assert_int_equal (ts_ratelimit_wait_ms (rl, 1, again), 2000 + 100);
    assert_true (ts_ratelimit_paused (rl, again));
    assert_false (ts_ratelimit_paused (rl, again + 2000));
    ts_ratelimit_destroy (&rl);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (ratelimit_parses_per_second_minute_hour_and_fractions),
        cmocka_unit_test (ratelimit_rejects_what_is_not_a_rate_naming_the_forms),
        cmocka_unit_test (ratelimit_default_burst_is_one_second_of_requests),
        cmocka_unit_test (ratelimit_starts_full_and_allows_the_burst_then_the_rate),
        cmocka_unit_test (ratelimit_long_idle_fills_the_bucket_only_to_the_burst),
        cmocka_unit_test (ratelimit_fractional_rate_spaces_requests_out),
        cmocka_unit_test (ratelimit_job_costs_its_ids_and_one_over_the_burst_runs_into_debt),
        cmocka_unit_test (ratelimit_unlimited_always_takes_unless_paused),
        cmocka_unit_test (ratelimit_retry_after_pauses_until_then_capped),
        cmocka_unit_test (ratelimit_bare_429_pauses_doubling_and_halves_the_rate),
        cmocka_unit_test (ratelimit_recovers_one_level_per_quiet_period),
        cmocka_unit_test (ratelimit_questions_about_a_later_time_change_nothing),
        cmocka_unit_test (ratelimit_clock_step_back_keeps_pause_length_and_tokens),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_ratelimit", tests, NULL, NULL);
}
