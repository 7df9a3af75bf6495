/*  test_ts_url - upstream URL templates: {id}, {from}, {to}, encoding. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../workers/ts_url.h"

#define T0 1732406400000LL          //  2024-11-24T00:00:00Z

static void
url_replaces_id_from_and_to_in_milliseconds (void **state)
{
    char url [256];
    assert_int_equal (ts_url_build ("http://h/rows/{id}?from={from}&to={to}",
                                    "a.b", T0, T0 + 3600000, TS_URL_TIME_MS,
                                    url, sizeof url, NULL), 0);
    assert_string_equal (url,
        "http://h/rows/a.b?from=1732406400000&to=1732410000000");
}

static void
url_writes_seconds_rounded_down (void **state)
{
    char url [256];
    assert_int_equal (ts_url_build ("{from},{to}", "x", T0 + 999, -1,
                                    TS_URL_TIME_S, url, sizeof url, NULL), 0);
    assert_string_equal (url, "1732406400,-1");
}

static void
url_writes_iso8601_percent_encoded (void **state)
{
    char url [256];
    assert_int_equal (ts_url_build ("?start={from}", "x", T0, T0,
                                    TS_URL_TIME_ISO, url, sizeof url, NULL), 0);
    assert_string_equal (url, "?start=2024-11-24T00%3A00%3A00.000Z");
}

static void
url_percent_encodes_reserved_characters_of_the_id (void **state)
{
    char url [256];
    assert_int_equal (ts_url_build ("/{id}/{id}", "st:1", 0, 0,
                                    TS_URL_TIME_MS, url, sizeof url, NULL), 0);
    assert_string_equal (url, "/st%3A1/st%3A1");
}

static void
url_copies_unknown_placeholders_as_they_are (void **state)
{
    char url [256];
    assert_int_equal (ts_url_build ("/{name}/{id", "a", 0, 0,
                                    TS_URL_TIME_MS, url, sizeof url, NULL), 0);
    assert_string_equal (url, "/{name}/{id");
}

static void
url_rejects_a_result_longer_than_the_buffer (void **state)
{
    char url [16], err [TS_ERRLEN] = "";
    assert_int_equal (ts_url_build ("http://host/{id}", "abcdefgh", 0, 0,
                                    TS_URL_TIME_MS, url, sizeof url, err),
                      TS_ETOOBIG);
    assert_true (strlen (url) < sizeof url);
    assert_non_null (strstr (err, "longer than"));
    //  Exactly fitting is fine.
    assert_int_equal (ts_url_build ("http://h/{id}", "abcdef", 0, 0,
                                    TS_URL_TIME_MS, url, sizeof url, err), 0);
    assert_string_equal (url, "http://h/abcdef");
}

static void
url_time_parse_knows_three_units (void **state)
{
    ts_url_time_t unit;
    assert_int_equal (ts_url_time_parse ("ms", &unit), 0);
    assert_int_equal (unit, TS_URL_TIME_MS);
    assert_int_equal (ts_url_time_parse ("s", &unit), 0);
    assert_int_equal (unit, TS_URL_TIME_S);
    assert_int_equal (ts_url_time_parse ("iso8601", &unit), 0);
    assert_int_equal (unit, TS_URL_TIME_ISO);
    assert_int_equal (ts_url_time_parse ("minutes", &unit), TS_EINVAL);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (url_replaces_id_from_and_to_in_milliseconds),
        cmocka_unit_test (url_writes_seconds_rounded_down),
        cmocka_unit_test (url_writes_iso8601_percent_encoded),
        cmocka_unit_test (url_percent_encodes_reserved_characters_of_the_id),
        cmocka_unit_test (url_copies_unknown_placeholders_as_they_are),
        cmocka_unit_test (url_rejects_a_result_longer_than_the_buffer),
        cmocka_unit_test (url_time_parse_knows_three_units),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_url", tests, NULL, NULL);
}
