/*  test_ts_url_template - request templates: a format per time
    placeholder ({from:ms}, {to:rfc3339}, {from:%Y-%m-%d}, ...),
    {last_fetched}, and values escaped for a JSON or a form body. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../workers/ts_url.h"

#define T0 1732406400000LL          //  2024-11-24T00:00:00Z
#define T1 (T0 + 86400000 + 3723456) //  2024-11-25T01:02:03.456Z

static int
s_expand (const char *tmpl, ts_url_escape_t esc, const char *id,
          const char *key, char *out, size_t size, char *err)
{
    ts_url_args_t args = { .id = id, .from_ms = T0, .to_ms = T1,
                           .unit = TS_URL_TIME_MS, .api_key = key };
    return ts_url_expand (tmpl, &args, esc, "upstream.body", out, size, err);
}

static void
time_placeholders_take_a_format_each (void **state)
{
    char out [512];
    assert_int_equal (s_expand ("{from:ms} {to:ms} {from:s} {to:s}",
                                TS_URL_ESC_JSON, "a", NULL, out, sizeof out,
                                NULL), 0);
    assert_string_equal (out, "1732406400000 1732496523456 1732406400 "
                              "1732496523");
    assert_int_equal (s_expand ("{from:rfc3339}|{to:rfc3339}|{to:iso8601}",
                                TS_URL_ESC_JSON, "a", NULL, out, sizeof out,
                                NULL), 0);
    assert_string_equal (out, "2024-11-24T00:00:00Z|2024-11-25T01:02:03Z|"
                              "2024-11-25T01:02:03.456Z");
}

static void
strftime_patterns_are_written_in_utc_whatever_the_local_zone (void **state)
{
    char out [256];
    const char *tz = getenv ("TZ");
    setenv ("TZ", "Pacific/Auckland", 1);
    tzset ();
    int rc = s_expand ("{from:%Y-%m-%d}/{to:%d.%m.%Y %H:%M}",
                       TS_URL_ESC_JSON, "a", NULL, out, sizeof out, NULL);
    if (tz)
        setenv ("TZ", tz, 1);
    else
        unsetenv ("TZ");
    tzset ();
    assert_int_equal (rc, 0);
    assert_string_equal (out, "2024-11-24/25.11.2024 01:02");
}

static void
plain_time_placeholders_keep_the_time_param_unit (void **state)
{
    char out [256];
    ts_url_args_t args = { .id = "a", .from_ms = T0, .to_ms = T1,
                           .unit = TS_URL_TIME_S };
    assert_int_equal (ts_url_expand ("{from}-{to}", &args, TS_URL_ESC_URL,
                                     "upstream.url", out, sizeof out, NULL),
                      0);
    assert_string_equal (out, "1732406400-1732496523");
}

static void
last_fetched_is_the_window_start_unless_given (void **state)
{
    char out [256];
    ts_url_args_t args = { .id = "a", .from_ms = T0, .to_ms = T1,
                           .unit = TS_URL_TIME_MS };
    assert_int_equal (ts_url_expand ("{last_fetched}|{last_fetched:s}", &args,
                                     TS_URL_ESC_URL, "upstream.url", out,
                                     sizeof out, NULL), 0);
    assert_string_equal (out, "1732406400000|1732406400");
    args.last_fetched_ms = T1;
    assert_int_equal (ts_url_expand ("{last_fetched:%Y%m%d}", &args,
                                     TS_URL_ESC_URL, "upstream.url", out,
                                     sizeof out, NULL), 0);
    assert_string_equal (out, "20241125");
}

static void
an_unknown_time_format_is_an_error_naming_the_template (void **state)
{
    char out [256], err [256] = "";
    assert_int_equal (s_expand ("x={from:days}", TS_URL_ESC_URL, "a", NULL,
                                out, sizeof out, err), TS_EINVAL);
    assert_non_null (strstr (err, "upstream.body for id a"));
    assert_non_null (strstr (err, "{from"));
    assert_string_equal (out, "");
    assert_int_equal (s_expand ("x={to:%Y", TS_URL_ESC_URL, "a", NULL,
                                out, sizeof out, err), TS_EINVAL);
}

static void
a_percent_encoded_url_encodes_a_formatted_time (void **state)
{
    char out [256];
    assert_int_equal (s_expand ("?d={from:%Y-%m-%d %H:%M}", TS_URL_ESC_URL,
                                "a", NULL, out, sizeof out, NULL), 0);
    assert_string_equal (out, "?d=2024-11-24%2000%3A00");
}

static void
json_body_escapes_quotes_backslashes_and_control_characters (void **state)
{
    char out [256];
    assert_int_equal (s_expand ("{\"id\": \"{id}\", \"from\": {from:ms}}",
                                TS_URL_ESC_JSON, "a\"b\\c\n\x01", NULL, out,
                                sizeof out, NULL), 0);
    assert_string_equal (out, "{\"id\": \"a\\\"b\\\\c\\u000a\\u0001\", "
                              "\"from\": 1732406400000}");
}

static void
json_body_keeps_utf8_and_escapes_the_key_too (void **state)
{
    char out [256];
    assert_int_equal (s_expand ("{\"k\": \"{api_key}\", \"id\": \"{id}\"}",
                                TS_URL_ESC_JSON, "Z\xc3\xbcrich", "s\"3",
                                out, sizeof out, NULL), 0);
    assert_string_equal (out, "{\"k\": \"s\\\"3\", \"id\": \"Z\xc3\xbcrich\"}");
}

static void
form_body_percent_encodes_every_value (void **state)
{
    char out [256];
    assert_int_equal (s_expand ("station={id}&day={from:%Y-%m-%d}&key={api_key}",
                                TS_URL_ESC_FORM, "a b&c=d", "k+/", out,
                                sizeof out, NULL), 0);
    assert_string_equal (out, "station=a%20b%26c%3Dd&day=2024-11-24"
                              "&key=k%2B%2F");
}

static void
a_body_too_long_for_the_buffer_is_refused_and_wiped (void **state)
{
    char out [16], err [256] = "";
    assert_int_equal (s_expand ("{\"k\": \"{api_key}\"}", TS_URL_ESC_JSON,
                                "a", "0123456789abcdef", out, sizeof out,
                                err), TS_ETOOBIG);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal (out [i], 0);
    assert_null (strstr (err, "0123456789"));
}

static void
time_format_refuses_unknown_names (void **state)
{
    char buf [64];
    assert_int_equal (ts_url_time_format (T0, "rfc3339", buf, sizeof buf), 0);
    assert_string_equal (buf, "2024-11-24T00:00:00Z");
    assert_int_equal (ts_url_time_format (T0, "RFC3339", buf, sizeof buf),
                      TS_EINVAL);
    assert_int_equal (ts_url_time_format (T0, "", buf, sizeof buf),
                      TS_EINVAL);
    //  strftime's %s would read UTC fields as local time.
    assert_int_equal (ts_url_time_format (T0, "%s", buf, sizeof buf),
                      TS_EINVAL);
    assert_int_equal (ts_url_time_format (-1, "s", buf, sizeof buf), 0);
    assert_string_equal (buf, "-1");
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (time_placeholders_take_a_format_each),
        cmocka_unit_test (strftime_patterns_are_written_in_utc_whatever_the_local_zone),
        cmocka_unit_test (plain_time_placeholders_keep_the_time_param_unit),
        cmocka_unit_test (last_fetched_is_the_window_start_unless_given),
        cmocka_unit_test (an_unknown_time_format_is_an_error_naming_the_template),
        cmocka_unit_test (a_percent_encoded_url_encodes_a_formatted_time),
        cmocka_unit_test (json_body_escapes_quotes_backslashes_and_control_characters),
        cmocka_unit_test (json_body_keeps_utf8_and_escapes_the_key_too),
        cmocka_unit_test (form_body_percent_encodes_every_value),
        cmocka_unit_test (a_body_too_long_for_the_buffer_is_refused_and_wiped),
        cmocka_unit_test (time_format_refuses_unknown_names),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests (tests, NULL, NULL);
}
