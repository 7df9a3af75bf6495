/*  test_ts_cron - five-field cron expressions and the next matching minute.

    Times are written as RFC 3339 strings and compared as strings, so a
    failure shows which minute was expected. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ts_cron.h"

static int64_t
s_ms (const char *iso)
{
    int64_t ms = 0;
    assert_int_equal (ts_time_parse (iso, &ms), 0);
    return ms;
}

//  Next match of expr strictly after "after", as an RFC 3339 string in
//  buf (or "none").
static const char *
s_next (const char *expr, const char *after, char *buf, size_t size)
{
    ts_cron_t cron;
    char err [TS_ERRLEN] = "";
    int rc = ts_cron_parse (&cron, expr, err);
    if (rc != 0)
        fail_msg ("%s: %s", expr, err);
    int64_t next = ts_cron_next (&cron, s_ms (after));
    if (next < 0)
        return "none";
    return ts_time_format (next, buf, size);
}

#define assert_next(expr, after, expected) do { \
    char buf_ [64]; \
    assert_string_equal (s_next (expr, after, buf_, sizeof buf_), expected); \
} while (0)

//  Parses expr, expects failure, returns the message.
static const char *
s_parse_error (const char *expr, char *err)
{
    ts_cron_t cron;
    err [0] = '\0';
    assert_int_equal (ts_cron_parse (&cron, expr, err), TS_EINVAL);
    assert_true (strlen (err) > 0);
    return err;
}

static void
cron_every_five_minutes_matches_next_multiple_of_five (void **state)
{
    assert_next ("*/5 * * * *", "2024-11-24T10:03:00Z",
                 "2024-11-24T10:05:00.000Z");
    assert_next ("*/5 * * * *", "2024-11-24T10:03:59.999Z",
                 "2024-11-24T10:05:00.000Z");
    assert_next ("*/5 * * * *", "2024-11-24T23:58:10Z",
                 "2024-11-25T00:00:00.000Z");
}

static void
cron_next_is_strictly_after_the_given_time (void **state)
{
    assert_next ("*/5 * * * *", "2024-11-24T10:05:00Z",
                 "2024-11-24T10:10:00.000Z");
    assert_next ("* * * * *", "2024-11-24T10:05:00Z",
                 "2024-11-24T10:06:00.000Z");
    assert_next ("* * * * *", "2024-11-24T10:05:00.001Z",
                 "2024-11-24T10:06:00.000Z");
}

static void
cron_specific_time_matches_once_a_day (void **state)
{
    assert_next ("30 2 * * *", "2024-11-24T01:00:00Z",
                 "2024-11-24T02:30:00.000Z");
    assert_next ("30 2 * * *", "2024-11-24T02:30:00Z",
                 "2024-11-25T02:30:00.000Z");
    assert_next ("0 0 * * *", "2024-12-31T23:59:00Z",
                 "2025-01-01T00:00:00.000Z");
}

static void
cron_ranges_steps_and_lists_combine (void **state)
{
    ts_cron_t cron;
    char err [TS_ERRLEN];
    assert_int_equal (ts_cron_parse (&cron, "0,15,30-40/5 8-17/3 * * *",
                                     err), 0);
    uint64_t minutes = (1ULL << 0) | (1ULL << 15) | (1ULL << 30)
                     | (1ULL << 35) | (1ULL << 40);
    assert_true (cron.minutes == minutes);
    assert_int_equal (cron.hours, (1u << 8) | (1u << 11) | (1u << 14)
                                | (1u << 17));
    assert_next ("0,15,30-40/5 8-17/3 * * *", "2024-11-24T08:36:00Z",
                 "2024-11-24T08:40:00.000Z");
    assert_next ("0,15,30-40/5 8-17/3 * * *", "2024-11-24T08:40:00Z",
                 "2024-11-24T11:00:00.000Z");
    assert_next ("0,15,30-40/5 8-17/3 * * *", "2024-11-24T17:40:00Z",
                 "2024-11-25T08:00:00.000Z");
}

static void
cron_month_and_day_names_are_case_insensitive (void **state)
{
    ts_cron_t by_name, by_number;
    char err [TS_ERRLEN];
    assert_int_equal (ts_cron_parse (&by_name, "0 9 * JAN,jun-Aug mon-FRI",
                                     err), 0);
    assert_int_equal (ts_cron_parse (&by_number, "0 9 * 1,6-8 1-5", err), 0);
    assert_memory_equal (&by_name, &by_number, sizeof by_name);
    //  2024-11-24 is a Sunday; the next weekday in June is Mon 2025-06-02.
    assert_next ("0 9 * jun mon-fri", "2024-11-24T00:00:00Z",
                 "2025-06-02T09:00:00.000Z");
}

static void
cron_zero_and_seven_are_both_sunday (void **state)
{
    ts_cron_t zero, seven, range;
    char err [TS_ERRLEN];
    assert_int_equal (ts_cron_parse (&zero, "0 0 * * 0", err), 0);
    assert_int_equal (ts_cron_parse (&seven, "0 0 * * 7", err), 0);
    assert_int_equal (ts_cron_parse (&range, "0 0 * * 5-7", err), 0);
    assert_int_equal (zero.wdays, 1);
    assert_int_equal (seven.wdays, 1);
    assert_int_equal (range.wdays, 1 | (1 << 5) | (1 << 6));
    //  Saturday 2024-11-23 -> Sunday 2024-11-24.
    assert_next ("0 0 * * 7", "2024-11-23T12:00:00Z",
                 "2024-11-24T00:00:00.000Z");
}

static void
cron_day_fields_match_either_when_both_are_restricted (void **state)
{
    //  The 1st of the month or any Monday (Vixie rule). From Sat
    //  2024-11-23 the next Monday (11-25) comes before December 1st.
    assert_next ("0 0 1 * mon", "2024-11-23T00:00:00Z",
                 "2024-11-25T00:00:00.000Z");
    //  From Tue 2024-11-26 the 1st (a Sunday) comes before Monday 12-02.
    assert_next ("0 0 1 * mon", "2024-11-26T00:00:00Z",
                 "2024-12-01T00:00:00.000Z");
}

static void
cron_day_fields_must_both_match_when_one_is_star (void **state)
{
    //  Only the day-of-week is restricted: every Monday.
    assert_next ("0 0 * * mon", "2024-11-26T00:00:00Z",
                 "2024-12-02T00:00:00.000Z");
    //  Only the day-of-month: every 1st.
    assert_next ("0 0 1 * *", "2024-11-26T00:00:00Z",
                 "2024-12-01T00:00:00.000Z");
    ts_cron_t cron;
    char err [TS_ERRLEN];
    assert_int_equal (ts_cron_parse (&cron, "0 0 */2 * mon", err), 0);
    assert_true (cron.mday_star);
    assert_false (cron.wday_star);
}

static void
cron_rolls_over_months_and_years (void **state)
{
    assert_next ("0 0 31 * *", "2024-11-01T00:00:00Z",
                 "2024-12-31T00:00:00.000Z");
    assert_next ("15 6 1 1 *", "2024-11-24T00:00:00Z",
                 "2025-01-01T06:15:00.000Z");
    assert_next ("0 12 * * *", "2024-01-31T13:00:00Z",
                 "2024-02-01T12:00:00.000Z");
}

static void
cron_february_29_waits_for_a_leap_year (void **state)
{
    assert_next ("0 0 29 2 *", "2024-03-01T00:00:00Z",
                 "2028-02-29T00:00:00.000Z");
    assert_next ("0 0 29 2 *", "2023-06-01T00:00:00Z",
                 "2024-02-29T00:00:00.000Z");
    //  2100 is not a leap year.
    assert_next ("0 0 29 2 *", "2099-06-01T00:00:00Z",
                 "2104-02-29T00:00:00.000Z");
    //  Eight years ahead is past the five-year search window.
    assert_next ("0 0 29 2 *", "2096-03-01T00:00:00Z", "none");
}

static void
cron_impossible_date_has_no_next (void **state)
{
    assert_next ("0 0 30 2 *", "2024-01-01T00:00:00Z", "none");
    assert_next ("0 0 31 4,6,9,11 *", "2024-01-01T00:00:00Z", "none");
}

static void
cron_works_before_1970 (void **state)
{
    assert_next ("*/5 * * * *", "1969-12-31T23:58:30Z",
                 "1970-01-01T00:00:00.000Z");
}

static void
cron_rejects_wrong_number_of_fields (void **state)
{
    char err [TS_ERRLEN];
    assert_non_null (strstr (s_parse_error ("* * * *", err),
                             "expected 5 fields"));
    assert_non_null (strstr (err, "got 4"));
    assert_non_null (strstr (s_parse_error ("* * * * * *", err), "got 6"));
    assert_non_null (strstr (s_parse_error ("", err), "got 0"));
    assert_non_null (strstr (s_parse_error ("   ", err), "got 0"));
    ts_cron_t cron;
    assert_int_equal (ts_cron_parse (&cron, NULL, NULL), TS_EINVAL);
}

static void
cron_rejects_values_out_of_range_naming_the_field (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_parse_error ("0 24 * * *", err),
                         "field 2 (hour): 24 out of 0-23");
    assert_string_equal (s_parse_error ("60 * * * *", err),
                         "field 1 (minute): 60 out of 0-59");
    assert_string_equal (s_parse_error ("0 0 0 * *", err),
                         "field 3 (day-of-month): 0 out of 1-31");
    assert_string_equal (s_parse_error ("0 0 * 13 *", err),
                         "field 4 (month): 13 out of 1-12");
    assert_string_equal (s_parse_error ("0 0 * * 8", err),
                         "field 5 (day-of-week): 8 out of 0-7");
    assert_non_null (strstr (s_parse_error ("0 0 * * 99999999999999", err),
                             "field 5 (day-of-week)"));
}

static void
cron_rejects_garbage (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_parse_error ("x * * * *", err),
                         "field 1 (minute): bad value \"x\"");
    assert_non_null (strstr (s_parse_error ("5x * * * *", err),
                             "field 1 (minute): bad value"));
    assert_non_null (strstr (s_parse_error ("* * * foo *", err),
                             "field 4 (month)"));
    assert_non_null (strstr (s_parse_error ("* * * * monday", err),
                             "field 5 (day-of-week)"));
    //  Names belong to their own field only.
    assert_non_null (strstr (s_parse_error ("* * jan * *", err),
                             "field 3 (day-of-month)"));
    assert_non_null (strstr (s_parse_error ("1,,2 * * * *", err),
                             "empty list item"));
    assert_non_null (strstr (s_parse_error ("1, * * * *", err),
                             "field 1 (minute)"));
    assert_non_null (strstr (s_parse_error ("-5 * * * *", err),
                             "field 1 (minute)"));
    assert_non_null (strstr (s_parse_error ("1-2-3 * * * *", err),
                             "field 1 (minute)"));
    assert_non_null (strstr (s_parse_error ("*/5/2 * * * *", err),
                             "field 1 (minute)"));
    assert_non_null (strstr (s_parse_error ("** * * * *", err),
                             "field 1 (minute)"));
}

static void
cron_rejects_bad_steps_and_ranges (void **state)
{
    char err [TS_ERRLEN];
    assert_non_null (strstr (s_parse_error ("*/0 * * * *", err),
                             "field 1 (minute): step 0 out of 1-59"));
    assert_non_null (strstr (s_parse_error ("*/ * * * *", err),
                             "missing step"));
    assert_non_null (strstr (s_parse_error ("*/x * * * *", err),
                             "bad step"));
    assert_non_null (strstr (s_parse_error ("5/10 * * * *", err),
                             "a step needs * or a range"));
    assert_non_null (strstr (s_parse_error ("0 17-9 * * *", err),
                             "field 2 (hour): range 17-9 is backwards"));
    assert_non_null (strstr (s_parse_error ("0 0 * * fri-mon", err),
                             "backwards"));
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (cron_every_five_minutes_matches_next_multiple_of_five),
        cmocka_unit_test (cron_next_is_strictly_after_the_given_time),
        cmocka_unit_test (cron_specific_time_matches_once_a_day),
        cmocka_unit_test (cron_ranges_steps_and_lists_combine),
        cmocka_unit_test (cron_month_and_day_names_are_case_insensitive),
        cmocka_unit_test (cron_zero_and_seven_are_both_sunday),
        cmocka_unit_test (cron_day_fields_match_either_when_both_are_restricted),
        cmocka_unit_test (cron_day_fields_must_both_match_when_one_is_star),
        cmocka_unit_test (cron_rolls_over_months_and_years),
        cmocka_unit_test (cron_february_29_waits_for_a_leap_year),
        cmocka_unit_test (cron_impossible_date_has_no_next),
        cmocka_unit_test (cron_works_before_1970),
        cmocka_unit_test (cron_rejects_wrong_number_of_fields),
        cmocka_unit_test (cron_rejects_values_out_of_range_naming_the_field),
        cmocka_unit_test (cron_rejects_garbage),
        cmocka_unit_test (cron_rejects_bad_steps_and_ranges),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_cron", tests, NULL, NULL);
}
