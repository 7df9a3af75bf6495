/*  test_ts_log - the line formats (text as it always was, logfmt and
    JSON with their escaping and fields, lines cut to the buffer and still
    whole) and the rate limit of repeated log lines: a burst per window
    passes, the rest is counted and reported with the next line let
    through. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ts_log.h"

#define S_NOW   1732483800123LL     //  2024-11-24T21:30:00.123Z

static size_t
s_line (char *buf, size_t size, int format, const ts_log_field_t *fields,
        size_t n, const char *msg)
{
    return ts_log_format_line (buf, size, format, S_NOW, "tscache-worker",
                               1234, TS_LOG_INFO, fields, n, msg);
}

static void
text_line_is_the_format_it_always_was (void **state)
{
    char line [TS_LOG_LINE_MAX];
    size_t len = s_line (line, sizeof line, TS_LOG_TEXT, NULL, 0,
                         "fetched id=a");
    assert_string_equal (line, "2024-11-24T21:30:00.123Z tscache-worker[1234] "
                               "INFO fetched id=a\n");
    assert_int_equal (len, strlen (line));
    s_line (line, sizeof line, TS_LOG_TEXT, NULL, 0, "two\nlines");
    assert_non_null (strstr (line, "INFO two?lines\n"));
}

static void
text_line_appends_fields_as_key_value (void **state)
{
    char line [TS_LOG_LINE_MAX];
    s_line (line, sizeof line, TS_LOG_TEXT, TS_LOG_FIELDS (
            TS_LF_STR ("id", "a"), TS_LF_UINT ("job", 12),
            TS_LF_INT ("ms", -3), TS_LF_STR ("detail", "two words"),
            TS_LF_OPT ("rid", "")), "fetched");
    assert_non_null (strstr (line, "INFO fetched id=a job=12 ms=-3 "
                                   "detail=\"two words\"\n"));
}

static void
logfmt_line_quotes_the_message_and_values_that_need_it (void **state)
{
    char line [TS_LOG_LINE_MAX];
    s_line (line, sizeof line, TS_LOG_LOGFMT, TS_LOG_FIELDS (
            TS_LF_STR ("rid", "r-1"), TS_LF_STR ("detail", "a=b \"c\""),
            TS_LF_STR ("empty", "")), "job \"7\" done");
    assert_string_equal (line,
        "ts=2024-11-24T21:30:00.123Z level=info proc=tscache-worker "
        "pid=1234 msg=\"job \\\"7\\\" done\" rid=r-1 "
        "detail=\"a=b \\\"c\\\"\" empty=\"\"\n");
}

static void
json_line_is_one_object_with_fields_as_members (void **state)
{
    char line [TS_LOG_LINE_MAX];
    s_line (line, sizeof line, TS_LOG_JSON, TS_LOG_FIELDS (
            TS_LF_UINT ("job", 18446744073709551615ULL),
            TS_LF_INT ("status", 202), TS_LF_STR ("rid", "abc"),
            TS_LF_STR ("gone", NULL)), "hydrate");
    assert_string_equal (line,
        "{\"ts\":\"2024-11-24T21:30:00.123Z\",\"level\":\"info\","
        "\"proc\":\"tscache-worker\",\"pid\":1234,\"msg\":\"hydrate\","
        "\"job\":18446744073709551615,\"status\":202,\"rid\":\"abc\"}\n");
}

static void
json_line_escapes_control_characters_and_bad_utf8 (void **state)
{
    char line [TS_LOG_LINE_MAX];
    s_line (line, sizeof line, TS_LOG_JSON, TS_LOG_FIELDS (
            TS_LF_STR ("id", "\xc3\xa9t\xe9")), "a\tb\x1b[31m\\\x7f\xff\xc0\xaf");
    assert_non_null (strstr (line, "\"msg\":\"a\\tb\\u001b[31m\\\\"
                                   "\\u007f\xef\xbf\xbd\xef\xbf\xbd"
                                   "\xef\xbf\xbd\""));
    //  Valid UTF-8 passes as it is; a lone byte becomes U+FFFD.
    assert_non_null (strstr (line, "\"id\":\"\xc3\xa9t\xef\xbf\xbd\"}\n"));
}

static void
long_json_line_is_cut_and_stays_one_object (void **state)
{
    char msg [1000];
    memset (msg, '"', sizeof msg - 1);      //  each escapes to two bytes
    msg [sizeof msg - 1] = 0;
    char line [256];
    size_t len = s_line (line, sizeof line, TS_LOG_JSON, TS_LOG_FIELDS (
                         TS_LF_STR ("rid", "abc")), msg);
    assert_true (len < sizeof line);
    assert_int_equal (line [len - 1], '\n');
    assert_int_equal (line [len - 2], '}');
    assert_int_equal (line [len - 3], '"');
    //  Never half an escape: an even run of backslash-quote pairs.
    const char *start = strstr (line, "\"msg\":\"") + 7;
    assert_int_equal ((line + len - 3 - start) % 2, 0);
    assert_null (strstr (line, "rid"));
}

static void
format_and_level_names_parse (void **state)
{
    assert_int_equal (ts_log_format_parse ("json"), TS_LOG_JSON);
    assert_int_equal (ts_log_format_parse ("LOGFMT"), TS_LOG_LOGFMT);
    assert_int_equal (ts_log_format_parse ("text"), TS_LOG_TEXT);
    assert_int_equal (ts_log_format_parse ("xml"), -1);
    assert_int_equal (ts_log_level_parse ("debug"), TS_LOG_DEBUG);
    assert_int_equal (ts_log_level_parse ("loud"), -1);
}

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
        cmocka_unit_test (text_line_is_the_format_it_always_was),
        cmocka_unit_test (text_line_appends_fields_as_key_value),
        cmocka_unit_test (logfmt_line_quotes_the_message_and_values_that_need_it),
        cmocka_unit_test (json_line_is_one_object_with_fields_as_members),
        cmocka_unit_test (json_line_escapes_control_characters_and_bad_utf8),
        cmocka_unit_test (long_json_line_is_cut_and_stays_one_object),
        cmocka_unit_test (format_and_level_names_parse),
        cmocka_unit_test (limit_lets_a_burst_through_then_counts_the_rest),
        cmocka_unit_test (limit_starts_a_window_when_the_clock_goes_back),
        cmocka_unit_test (limited_lines_below_the_level_are_not_counted),
    };
    return cmocka_run_group_tests_name ("ts_log", tests, NULL, NULL);
}
