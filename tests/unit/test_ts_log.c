/*  test_ts_log - the rate limit of repeated log lines: a burst per
    window passes, the rest is counted and reported with the next line
    let through. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ts_log.h"

static void
limit_lets_a_burst_through_then_counts_the_rest (void **state)
{
    ts_log_limit_t limit = TS_LOG_LIMIT (1000, 3);
    uint64_t dropped = 99;
    for (int i = 0; i < 3; i++) {
        assert_true (ts_log_limit_pass (&limit, 5000 + i, &dropped));
        assert_int_equal (dropped, 0);
    }
    for (int i = 0; i < 10; i++)
        assert_false (ts_log_limit_pass (&limit, 5100 + i, &dropped));
    //  A new window: the first line reports the ten suppressed ones.
    assert_true (ts_log_limit_pass (&limit, 6000, &dropped));
    assert_int_equal (dropped, 10);
    assert_true (ts_log_limit_pass (&limit, 6001, &dropped));
    assert_int_equal (dropped, 0);
}

static void
limit_starts_a_window_when_the_clock_goes_back (void **state)
{
    ts_log_limit_t limit = TS_LOG_LIMIT (1000, 1);
    uint64_t dropped;
    assert_true (ts_log_limit_pass (&limit, 5000, &dropped));
    assert_false (ts_log_limit_pass (&limit, 5500, &dropped));
    assert_true (ts_log_limit_pass (&limit, 10, &dropped));
    assert_int_equal (dropped, 1);
}

static void
limited_lines_below_the_level_are_not_counted (void **state)
{
    ts_log_limit_t limit = TS_LOG_LIMIT (60000, 1);
    ts_log_set_level (TS_LOG_ERROR);
    for (int i = 0; i < 5; i++)
        ts_log_limited (&limit, TS_LOG_DEBUG, "not written %d", i);
    assert_int_equal (limit.lines, 0);
    assert_int_equal (limit.dropped, 0);
    ts_log_limited (&limit, TS_LOG_ERROR, "written");
    ts_log_limited (&limit, TS_LOG_ERROR, "suppressed");
    assert_int_equal (limit.lines, 1);
    assert_int_equal (limit.dropped, 1);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (limit_lets_a_burst_through_then_counts_the_rest),
        cmocka_unit_test (limit_starts_a_window_when_the_clock_goes_back),
        cmocka_unit_test (limited_lines_below_the_level_are_not_counted),
    };
    return cmocka_run_group_tests_name ("ts_log", tests, NULL, NULL);
}
