/*  test_ts_cron - schedule expressions (five fields, @ shorthands,
    EventBridge cron() and rate()) and their next fire time.

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

//  -------------------------------------------------------------------
//  The @ shorthands

static void
macros_fire_at_the_start_of_their_period (void **state)
{
    assert_next ("@hourly", "2024-11-24T10:03:00Z",
                 "2024-11-24T11:00:00.000Z");
    assert_next ("@hourly", "2024-12-31T23:00:00Z",
                 "2025-01-01T00:00:00.000Z");
    assert_next ("@daily", "2024-11-24T10:03:00Z",
                 "2024-11-25T00:00:00.000Z");
    assert_next ("@midnight", "2024-02-28T00:00:00Z",
                 "2024-02-29T00:00:00.000Z");
    //  2024-11-24 is a Sunday
    assert_next ("@weekly", "2024-11-24T00:00:00Z",
                 "2024-12-01T00:00:00.000Z");
    assert_next ("@monthly", "2024-02-15T08:00:00Z",
                 "2024-03-01T00:00:00.000Z");
    assert_next ("@yearly", "2024-11-24T10:03:00Z",
                 "2025-01-01T00:00:00.000Z");
    assert_next ("@annually", "2025-01-01T00:00:00Z",
                 "2026-01-01T00:00:00.000Z");
    assert_next ("  @DAILY ", "2024-11-24T10:03:00Z",
                 "2024-11-25T00:00:00.000Z");
}

static void
macros_reject_reboot_and_unknown_names (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_parse_error ("@reboot", err),
                         "\"@reboot\": not one of @hourly, @daily, "
                         "@midnight, @weekly, @monthly, @yearly, "
                         "@annually");
    assert_non_null (strstr (s_parse_error ("@every 5m", err), "not one of"));
    assert_non_null (strstr (s_parse_error ("@", err), "not one of"));
}

//  -------------------------------------------------------------------
//  EventBridge cron()

static void
eventbridge_daily_at_one (void **state)
{
    assert_next ("cron(0 1 * * ? *)", "2024-11-24T00:59:59Z",
                 "2024-11-24T01:00:00.000Z");
    assert_next ("cron(0 1 * * ? *)", "2024-11-24T01:00:00Z",
                 "2024-11-25T01:00:00.000Z");
    assert_next ("cron(0 1 * * ? *)", "2024-12-31T01:00:00Z",
                 "2025-01-01T01:00:00.000Z");
    assert_next ("cron(0 1 * * ? *)", "2024-02-28T01:00:00Z",
                 "2024-02-29T01:00:00.000Z");
    assert_next ("cron(0 1 * * ? *)", "2023-02-28T01:00:00Z",
                 "2023-03-01T01:00:00.000Z");
    assert_next ("  cron( 0  1 * * ? * )  ", "2024-11-24T00:00:00Z",
                 "2024-11-24T01:00:00.000Z");
}

static void
eventbridge_every_quarter_hour_on_weekdays (void **state)
{
    const char *expr = "cron(0/15 * ? * MON-FRI *)";
    //  2024-11-22 is a Friday: the weekend is skipped
    assert_next (expr, "2024-11-22T23:44:00Z", "2024-11-22T23:45:00.000Z");
    assert_next (expr, "2024-11-22T23:45:00Z", "2024-11-25T00:00:00.000Z");
    assert_next (expr, "2024-11-25T00:00:00Z", "2024-11-25T00:15:00.000Z");
    assert_next (expr, "2024-11-25T10:14:59.999Z",
                 "2024-11-25T10:15:00.000Z");
    //  2024-12-31 is a Tuesday, 2025-01-01 a Wednesday
    assert_next (expr, "2024-12-31T23:50:00Z", "2025-01-01T00:00:00.000Z");
    assert_next ("cron(5/20 * ? * 2-6 *)", "2024-11-25T10:46:00Z",
                 "2024-11-25T11:05:00.000Z");
    assert_next ("cron(*/20 9-17 ? * mon-fri *)", "2024-11-25T17:40:00Z",
                 "2024-11-26T09:00:00.000Z");
}

static void
eventbridge_day_of_week_counts_from_one_for_sunday (void **state)
{
    //  2024-11-23 is a Saturday
    assert_next ("cron(0 0 ? * 1 *)", "2024-11-23T00:00:00Z",
                 "2024-11-24T00:00:00.000Z");
    assert_next ("cron(0 0 ? * SUN *)", "2024-11-23T00:00:00Z",
                 "2024-11-24T00:00:00.000Z");
    assert_next ("cron(0 0 ? * 7 *)", "2024-11-23T00:00:00Z",
                 "2024-11-30T00:00:00.000Z");
    assert_next ("cron(0 0 ? * 2 *)", "2024-11-23T00:00:00Z",
                 "2024-11-25T00:00:00.000Z");
    assert_next ("cron(0 0 ? * 1,7 *)", "2024-11-24T00:00:00Z",
                 "2024-11-30T00:00:00.000Z");
}

static void
eventbridge_month_and_day_of_month_as_unix_cron (void **state)
{
    assert_next ("cron(30 6 1 JAN,JUL ? *)", "2024-01-01T06:30:00Z",
                 "2024-07-01T06:30:00.000Z");
    assert_next ("cron(0 0 31 * ? *)", "2024-11-01T00:00:00Z",
                 "2024-12-31T00:00:00.000Z");
    assert_next ("cron(0 0 29 2 ? *)", "2024-03-01T00:00:00Z",
                 "2028-02-29T00:00:00.000Z");
    assert_next ("cron(0 0 1/10 * ? *)", "2024-11-11T00:00:00Z",
                 "2024-11-21T00:00:00.000Z");
    assert_next ("cron(0 0 1/10 * ? *)", "2024-12-21T00:00:00Z",
                 "2024-12-31T00:00:00.000Z");
}

static void
eventbridge_year_field_limits_the_years (void **state)
{
    assert_next ("cron(0 0 1 1 ? 2030)", "2026-12-06T00:00:00Z",
                 "2030-01-01T00:00:00.000Z");
    assert_next ("cron(0 0 1 1 ? 2030)", "2030-01-01T00:00:00Z", "none");
    assert_next ("cron(0 0 1 1 ? 2025-2026)", "2026-06-01T00:00:00Z",
                 "none");
    assert_next ("cron(0 0 1 1 ? 2024/4)", "2025-01-01T00:00:00Z",
                 "2028-01-01T00:00:00.000Z");
    assert_next ("cron(0 12 * * ? 2025,2027)", "2025-12-31T12:00:00Z",
                 "2027-01-01T12:00:00.000Z");
    //  February 29th: 2100 is no leap year
    assert_next ("cron(0 0 29 2 ? 2100-2199)", "2024-01-01T00:00:00Z",
                 "2104-02-29T00:00:00.000Z");
    assert_next ("cron(0 0 29 2 ? 2100)", "2024-01-01T00:00:00Z", "none");
    assert_next ("cron(0 0 * * ? *)", "2199-12-31T00:00:00Z", "none");
    assert_next ("cron(0 0 * * ? *)", "1969-12-31T12:00:00Z",
                 "1970-01-01T00:00:00.000Z");
}

static void
eventbridge_last_day_of_the_month (void **state)
{
    const char *expr = "cron(0 12 L * ? *)";
    assert_next (expr, "2024-02-01T00:00:00Z", "2024-02-29T12:00:00.000Z");
    assert_next (expr, "2023-02-01T00:00:00Z", "2023-02-28T12:00:00.000Z");
    assert_next (expr, "2100-02-01T00:00:00Z", "2100-02-28T12:00:00.000Z");
    assert_next (expr, "2024-04-30T11:59:00Z", "2024-04-30T12:00:00.000Z");
    assert_next (expr, "2024-04-30T12:00:00Z", "2024-05-31T12:00:00.000Z");
    assert_next (expr, "2024-12-31T12:00:00Z", "2025-01-31T12:00:00.000Z");
    assert_next ("cron(0 0 L 2 ? *)", "2024-03-01T00:00:00Z",
                 "2025-02-28T00:00:00.000Z");
}

static void
eventbridge_nearest_weekday (void **state)
{
    //  2024-06-15 is a Saturday: the Friday before
    assert_next ("cron(0 0 15W * ? *)", "2024-06-01T00:00:00Z",
                 "2024-06-14T00:00:00.000Z");
    //  2024-09-15 is a Sunday: the Monday after
    assert_next ("cron(0 0 15W * ? *)", "2024-09-01T00:00:00Z",
                 "2024-09-16T00:00:00.000Z");
    //  2024-11-15 is a Friday: that day
    assert_next ("cron(0 0 15W * ? *)", "2024-11-01T00:00:00Z",
                 "2024-11-15T00:00:00.000Z");
    //  2024-06-01 is a Saturday: not back into May, Monday the 3rd
    assert_next ("cron(0 0 1W * ? *)", "2024-05-31T12:00:00Z",
                 "2024-06-03T00:00:00.000Z");
    //  2024-03-31 is a Sunday: not into April, Friday the 29th
    assert_next ("cron(0 0 31W * ? *)", "2024-03-01T00:00:00Z",
                 "2024-03-29T00:00:00.000Z");
    //  no day 31 in April or June: May 31st (a Friday), then July 31st
    assert_next ("cron(0 0 31W * ? *)", "2024-04-01T00:00:00Z",
                 "2024-05-31T00:00:00.000Z");
    assert_next ("cron(0 0 31W * ? *)", "2024-05-31T00:00:00Z",
                 "2024-07-31T00:00:00.000Z");
    //  the last weekday: August 31st 2024 is a Saturday
    assert_next ("cron(0 0 LW * ? *)", "2024-08-01T00:00:00Z",
                 "2024-08-30T00:00:00.000Z");
    assert_next ("cron(0 0 LW * ? *)", "2024-03-01T00:00:00Z",
                 "2024-03-29T00:00:00.000Z");
    assert_next ("cron(0 0 LW * ? *)", "2024-10-01T00:00:00Z",
                 "2024-10-31T00:00:00.000Z");
}

static void
eventbridge_nth_and_last_day_of_week_in_the_month (void **state)
{
    //  second Tuesday: Nov 2024 has Tuesdays 5, 12; Dec 3, 10
    assert_next ("cron(0 9 ? * 3#2 *)", "2024-11-01T00:00:00Z",
                 "2024-11-12T09:00:00.000Z");
    assert_next ("cron(0 9 ? * TUE#2 *)", "2024-11-12T09:00:00Z",
                 "2024-12-10T09:00:00.000Z");
    //  fifth Friday: Nov 29th 2024, then none in December, Jan 31st
    assert_next ("cron(0 0 ? * 6#5 *)", "2024-11-01T00:00:00Z",
                 "2024-11-29T00:00:00.000Z");
    assert_next ("cron(0 0 ? * 6#5 *)", "2024-11-29T00:00:00Z",
                 "2025-01-31T00:00:00.000Z");
    //  last Friday of the month
    assert_next ("cron(0 0 ? * 6L *)", "2024-11-01T00:00:00Z",
                 "2024-11-29T00:00:00.000Z");
    assert_next ("cron(0 0 ? * FRIL *)", "2024-11-29T00:00:00Z",
                 "2024-12-27T00:00:00.000Z");
    //  L alone: the last day of the week, Saturday
    assert_next ("cron(0 0 ? * L *)", "2024-11-24T00:00:00Z",
                 "2024-11-30T00:00:00.000Z");
}

static void
eventbridge_errors_name_the_expression_and_field (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_parse_error ("cron(0 24 * * ? *)", err),
                         "cron(0 24 * * ? *): field 2 (hours): 24 out of "
                         "0-23");
    assert_string_equal (s_parse_error ("cron(60 0 * * ? *)", err),
                         "cron(60 0 * * ? *): field 1 (minutes): 60 out "
                         "of 0-59");
    assert_string_equal (s_parse_error ("cron(0 0 ? * 0 *)", err),
                         "cron(0 0 ? * 0 *): field 5 (day-of-week): 0 out "
                         "of 1-7 (1 = SUN ... 7 = SAT)");
    assert_string_equal (s_parse_error ("cron(0 0 * * ? 2200)", err),
                         "cron(0 0 * * ? 2200): field 6 (year): 2200 out "
                         "of 1970-2199");
    assert_string_equal (s_parse_error ("cron(0 0 * 13 ? *)", err),
                         "cron(0 0 * 13 ? *): field 4 (month): 13 out of "
                         "1-12");
    assert_string_equal (s_parse_error ("cron(0 0 * * ?)", err),
                         "cron(0 0 * * ?): expected 6 fields (minutes "
                         "hours day-of-month month day-of-week year), "
                         "got 5");
    assert_non_null (strstr (s_parse_error ("cron(0 0 * * ? * *)", err),
                             "got 7"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 * * ? *", err),
                             "expected cron(...) and nothing after it"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 * * ? *) x", err),
                             "nothing after it"));
    assert_non_null (strstr (s_parse_error ("cron 0 0 * * ? *", err),
                             "expected cron(...)"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 17-9 * ? *)", err),
                             "field 3 (day-of-month): range 17-9 is "
                             "backwards"));
    assert_non_null (strstr (s_parse_error ("cron(0/0 0 * * ? *)", err),
                             "field 1 (minutes): step 0 out of 1-59"));
}

static void
eventbridge_requires_exactly_one_question_mark_day (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_parse_error ("cron(0 0 * * * *)", err),
                         "cron(0 0 * * * *): one of day-of-month (field "
                         "3) and day-of-week (field 5) must be ?, the "
                         "other a value or *");
    assert_non_null (strstr (s_parse_error ("cron(0 0 1 * MON *)", err),
                             "must be ?"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 ? * ? *)", err),
                             "not both ?"));
    assert_string_equal (s_parse_error ("cron(0 ? * * ? *)", err),
                         "cron(0 ? * * ? *): field 2 (hours): ? is only "
                         "for day-of-month or day-of-week");
    assert_non_null (strstr (s_parse_error ("cron(0 0 ?,1 * ? *)", err),
                             "field 3 (day-of-month): ? stands alone"));
}

static void
eventbridge_refuses_unsupported_special_characters (void **state)
{
    char err [TS_ERRLEN];
    assert_non_null (strstr (s_parse_error ("cron(0 0 L-3 * ? *)", err),
                             "field 3 (day-of-month): \"L-3\": L and W "
                             "stand alone"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 1,L * ? *)", err),
                             "L and W stand alone"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 1W-5W * ? *)", err),
                             "L and W stand alone"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 32W * ? *)", err),
                             "32 out of 1-31"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 ? * 3#1,6#3 *)", err),
                             "field 5 (day-of-week): \"3#1,6#3\": # takes "
                             "one day"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 ? * 3#6 *)", err),
                             "the week after # must be 1-5"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 ? * 8#1 *)", err),
                             "8 out of 1-7"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 ? * 2,6L *)", err),
                             "L stands alone"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 * L * ? *)", err),
                             "got 7"));
    assert_non_null (strstr (s_parse_error ("cron(0 0 * L ? *)", err),
                             "field 4 (month): bad value \"L\""));
    assert_non_null (strstr (s_parse_error ("cron(0 0 * * ? L)", err),
                             "field 6 (year): bad value \"L\""));
}

//  -------------------------------------------------------------------
//  rate()

static void
rate_fires_on_multiples_of_its_period_since_the_epoch (void **state)
{
    assert_next ("rate(5 minutes)", "2024-11-24T10:03:00Z",
                 "2024-11-24T10:05:00.000Z");
    assert_next ("rate(5 minutes)", "2024-11-24T10:05:00Z",
                 "2024-11-24T10:10:00.000Z");
    assert_next ("rate(5 minutes)", "2024-12-31T23:59:00Z",
                 "2025-01-01T00:00:00.000Z");
    assert_next ("rate(1 minute)", "2024-11-24T10:05:30Z",
                 "2024-11-24T10:06:00.000Z");
    assert_next ("rate(90 minutes)", "2024-11-24T10:00:00Z",
                 "2024-11-24T10:30:00.000Z");
    assert_next ("rate(1 hour)", "2024-11-24T23:30:00Z",
                 "2024-11-25T00:00:00.000Z");
    assert_next ("rate(6 hours)", "2024-11-24T13:00:00Z",
                 "2024-11-24T18:00:00.000Z");
    assert_next ("rate(1 day)", "2024-02-28T12:00:00Z",
                 "2024-02-29T00:00:00.000Z");
    assert_next ("rate(1 day)", "2024-12-31T00:00:00Z",
                 "2025-01-01T00:00:00.000Z");
    //  1970-01-01 was a Thursday: weeks counted from there
    assert_next ("rate(7 days)", "2024-11-24T00:00:00Z",
                 "2024-11-28T00:00:00.000Z");
    assert_next ("rate(5 minutes)", "1969-12-31T23:58:00Z",
                 "1970-01-01T00:00:00.000Z");
    assert_next ("  RATE( 2  Hours )  ", "2024-11-24T01:00:00Z",
                 "2024-11-24T02:00:00.000Z");
}

static void
rate_requires_eventbridge_units (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_parse_error ("rate(5 minute)", err),
                         "rate(5 minute): a value above 1 takes the plural "
                         "unit \"minutes\"");
    assert_string_equal (s_parse_error ("rate(1 hours)", err),
                         "rate(1 hours): the value 1 takes the singular "
                         "unit \"hour\"");
    assert_non_null (strstr (s_parse_error ("rate(0 minutes)", err),
                             "whole number above 0"));
    assert_non_null (strstr (s_parse_error ("rate(-5 minutes)", err),
                             "whole number above 0"));
    assert_non_null (strstr (s_parse_error ("rate(1.5 hours)", err),
                             "whole number above 0"));
    assert_non_null (strstr (s_parse_error ("rate(99999999999999 minutes)",
                                            err), "whole number above 0"));
    assert_string_equal (s_parse_error ("rate(2 weeks)", err),
                         "rate(2 weeks): unit \"weeks\" is not minute(s), "
                         "hour(s) or day(s)");
    assert_non_null (strstr (s_parse_error ("rate(5)", err),
                             "expected rate(value unit)"));
    assert_non_null (strstr (s_parse_error ("rate()", err),
                             "expected rate(value unit)"));
    assert_non_null (strstr (s_parse_error ("rate(5 minutes", err),
                             "expected rate(...)"));
    assert_string_equal (s_parse_error ("rate(366 days)", err),
                         "rate(366 days): the period is at most 365 days");
    assert_non_null (strstr (s_parse_error ("rate(8761 hours)", err),
                             "at most 365 days"));
    ts_cron_t cron;
    assert_int_equal (ts_cron_parse (&cron, "rate(365 days)", err), 0);
    assert_int_equal (ts_cron_parse (&cron, "rate(525600 minutes)", err), 0);
}

static void
five_fields_hint_at_cron_for_six (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_parse_error ("0 0 * * ? *", err),
                         "expected 5 fields (minute hour day-of-month month "
                         "day-of-week), got 6; an EventBridge expression "
                         "is written cron(...)");
}

//  -------------------------------------------------------------------
//  Offset and spread

static void
shifted_schedule_fires_offset_after_each_fire_time (void **state)
{
    ts_cron_t cron;
    char buf [64];
    assert_int_equal (ts_cron_parse (&cron, "rate(5 minutes)", NULL), 0);
    const int64_t shift = 30000;
    assert_string_equal (ts_time_format (ts_cron_next_shifted (&cron,
        s_ms ("2024-11-24T10:03:00Z"), shift), buf, sizeof buf),
        "2024-11-24T10:05:30.000Z");
    assert_string_equal (ts_time_format (ts_cron_next_shifted (&cron,
        s_ms ("2024-11-24T10:05:29.999Z"), shift), buf, sizeof buf),
        "2024-11-24T10:05:30.000Z");
    assert_string_equal (ts_time_format (ts_cron_next_shifted (&cron,
        s_ms ("2024-11-24T10:05:30Z"), shift), buf, sizeof buf),
        "2024-11-24T10:10:30.000Z");
    //  an offset past the period still only moves each fire time
    assert_string_equal (ts_time_format (ts_cron_next_shifted (&cron,
        s_ms ("2024-11-24T10:03:00Z"), 420000), buf, sizeof buf),
        "2024-11-24T10:07:00.000Z");
    assert_int_equal (ts_cron_parse (&cron, "cron(0 1 * * ? *)", NULL), 0);
    assert_string_equal (ts_time_format (ts_cron_next_shifted (&cron,
        s_ms ("2024-12-31T01:00:00Z"), 90000), buf, sizeof buf),
        "2024-12-31T01:01:30.000Z");
    assert_string_equal (ts_time_format (ts_cron_next_shifted (&cron,
        s_ms ("2024-12-31T01:01:30Z"), 90000), buf, sizeof buf),
        "2025-01-01T01:01:30.000Z");
    assert_int_equal (ts_cron_parse (&cron, "cron(0 0 1 1 ? 2030)", NULL), 0);
    assert_int_equal (ts_cron_next_shifted (&cron,
        s_ms ("2030-01-01T00:00:01Z"), 1000), -1);
}

static void
spread_is_a_stable_hash_of_the_name_within_the_jitter (void **state)
{
    //  FNV-1a 64 of the name, modulo jitter_s * 1000
    assert_int_equal (ts_cron_spread_ms ("default", 60), 46782);
    assert_int_equal (ts_cron_spread_ms ("weather", 60), 11699);
    assert_int_equal (ts_cron_spread_ms ("prices", 3600), 1586939);
    assert_int_equal (ts_cron_spread_ms ("default", 0), 0);
    assert_int_equal (ts_cron_spread_ms (NULL, 60), 0);
    for (int jitter = 1; jitter < 100; jitter += 7) {
        int64_t spread = ts_cron_spread_ms ("a-source", jitter);
        assert_true (spread >= 0 && spread < jitter * 1000);
    }
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
        cmocka_unit_test (macros_fire_at_the_start_of_their_period),
        cmocka_unit_test (macros_reject_reboot_and_unknown_names),
        cmocka_unit_test (eventbridge_daily_at_one),
        cmocka_unit_test (eventbridge_every_quarter_hour_on_weekdays),
        cmocka_unit_test (eventbridge_day_of_week_counts_from_one_for_sunday),
        cmocka_unit_test (eventbridge_month_and_day_of_month_as_unix_cron),
        cmocka_unit_test (eventbridge_year_field_limits_the_years),
        cmocka_unit_test (eventbridge_last_day_of_the_month),
        cmocka_unit_test (eventbridge_nearest_weekday),
        cmocka_unit_test (eventbridge_nth_and_last_day_of_week_in_the_month),
        cmocka_unit_test (eventbridge_errors_name_the_expression_and_field),
        cmocka_unit_test (eventbridge_requires_exactly_one_question_mark_day),
        cmocka_unit_test (eventbridge_refuses_unsupported_special_characters),
        cmocka_unit_test (rate_fires_on_multiples_of_its_period_since_the_epoch),
        cmocka_unit_test (rate_requires_eventbridge_units),
        cmocka_unit_test (five_fields_hint_at_cron_for_six),
        cmocka_unit_test (shifted_schedule_fires_offset_after_each_fire_time),
        cmocka_unit_test (spread_is_a_stable_hash_of_the_name_within_the_jitter),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_cron", tests, NULL, NULL);
}
