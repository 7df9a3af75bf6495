/*  test_ts_url - upstream URL and header templates: {id}, {from}, {to},
    {api_key}, encoding, and where the API key goes. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../workers/ts_url.h"
#include "ts_redact.h"

#define T0 1732406400000LL          //  2024-11-24T00:00:00Z
#define KEY "k3y/with+reserved&chars=!"
#define KEY_ENCODED "k3y%2Fwith%2Breserved%26chars%3D%21"

//  ts_url_build with the arguments spelled out.
static int
s_build (const char *tmpl, const char *id, int64_t from_ms, int64_t to_ms,
         ts_url_time_t unit, char *out, size_t size, char *err)
{
    ts_url_args_t args = { .id = id, .from_ms = from_ms, .to_ms = to_ms,
                           .unit = unit, .api_key = NULL };
    return ts_url_build (tmpl, &args, out, size, err);
}

//  Same, with the API key.
static int
s_build_key (const char *tmpl, const char *key, char *out, size_t size,
             char *err)
{
    ts_url_args_t args = { .id = "a", .from_ms = T0, .to_ms = T0,
                           .unit = TS_URL_TIME_MS, .api_key = key };
    return ts_url_build (tmpl, &args, out, size, err);
}

static void
url_replaces_id_from_and_to_in_milliseconds (void **state)
{
    char url [256];
    assert_int_equal (s_build ("http://h/rows/{id}?from={from}&to={to}",
                                    "a.b", T0, T0 + 3600000, TS_URL_TIME_MS,
                                    url, sizeof url, NULL), 0);
    assert_string_equal (url,
        "http://h/rows/a.b?from=1732406400000&to=1732410000000");
}

static void
url_writes_seconds_rounded_down (void **state)
{
    char url [256];
    assert_int_equal (s_build ("{from},{to}", "x", T0 + 999, -1,
                                    TS_URL_TIME_S, url, sizeof url, NULL), 0);
    assert_string_equal (url, "1732406400,-1");
}

static void
url_writes_iso8601_percent_encoded (void **state)
{
    char url [256];
    assert_int_equal (s_build ("?start={from}", "x", T0, T0,
                                    TS_URL_TIME_ISO, url, sizeof url, NULL), 0);
    assert_string_equal (url, "?start=2024-11-24T00%3A00%3A00.000Z");
}

static void
url_percent_encodes_reserved_characters_of_the_id (void **state)
{
    char url [256];
    assert_int_equal (s_build ("/{id}/{id}", "st:1", 0, 0,
                                    TS_URL_TIME_MS, url, sizeof url, NULL), 0);
    assert_string_equal (url, "/st%3A1/st%3A1");
}

static void
url_copies_unknown_placeholders_as_they_are (void **state)
{
    char url [256];
    assert_int_equal (s_build ("/{name}/{id", "a", 0, 0,
                                    TS_URL_TIME_MS, url, sizeof url, NULL), 0);
    assert_string_equal (url, "/{name}/{id");
}

static void
url_rejects_a_result_longer_than_the_buffer (void **state)
{
    char url [16], err [TS_ERRLEN] = "";
    assert_int_equal (s_build ("http://host/{id}", "abcdefgh", 0, 0,
                                    TS_URL_TIME_MS, url, sizeof url, err),
                      TS_ETOOBIG);
    assert_true (strlen (url) < sizeof url);
    assert_non_null (strstr (err, "longer than"));
    //  Exactly fitting is fine.
    assert_int_equal (s_build ("http://h/{id}", "abcdef", 0, 0,
                                    TS_URL_TIME_MS, url, sizeof url, err), 0);
    assert_string_equal (url, "http://h/abcdef");
}

static void
url_fills_api_key_percent_encoded (void **state)
{
    char url [256];
    assert_int_equal (s_build_key ("http://h/rows/{id}?from={from}"
                                   "&apikey={api_key}", KEY, url,
                                   sizeof url, NULL), 0);
    assert_string_equal (url, "http://h/rows/a?from=1732406400000&apikey="
                         KEY_ENCODED);
}

static void
url_refuses_api_key_placeholder_without_a_key (void **state)
{
    char url [256], err [TS_ERRLEN] = "";
    assert_int_equal (s_build_key ("http://h/{id}?k={api_key}", NULL, url,
                                   sizeof url, err), TS_EINVAL);
    assert_string_equal (url, "");
    assert_non_null (strstr (err, "no key is configured"));
}

static void
url_too_long_for_the_buffer_keeps_no_part_of_the_key (void **state)
{
    char url [24], err [TS_ERRLEN] = "";
    assert_int_equal (s_build_key ("http://h/{id}?k={api_key}", KEY, url,
                                   sizeof url, err), TS_ETOOBIG);
    for (size_t i = 0; i < sizeof url; i++)
        assert_int_equal (url [i], 0);
    assert_null (strstr (err, "k3y"));
}

static void
url_uses_key_finds_the_placeholder (void **state)
{
    assert_true (ts_url_uses_key ("http://h/{id}?k={api_key}"));
    assert_true (ts_url_uses_key ("Authorization: Bearer {api_key}"));
    assert_false (ts_url_uses_key ("http://h/{id}?k={api-key}"));
}

static void
url_display_form_of_a_built_url_shows_no_key (void **state)
{
    char url [256], shown [256];
    assert_int_equal (s_build_key ("http://h/v1/{api_key}/{id}?key={api_key}",
                                   KEY, url, sizeof url, NULL), 0);
    assert_non_null (strstr (url, KEY_ENCODED));
    ts_redact_url (url, KEY, shown, sizeof shown);
    assert_string_equal (shown, "http://h/v1/***/a?key=***");
}

//  ts_url_headers with conf given as a NULL-terminated list of lines.
static int
s_headers (const char *const *lines, const char *url, const char *key,
           ts_strlist_t **headers, char *err)
{
    ts_strlist_t *conf = ts_strlist_new ();
    assert_non_null (conf);
    for (size_t i = 0; lines && lines [i]; i++)
        assert_int_equal (ts_strlist_append (conf, lines [i]), 0);
    int rc = ts_url_headers (conf, url, key, "x-api-key", headers, err);
    ts_strlist_destroy (&conf);
    return rc;
}

static void
headers_send_the_key_in_api_key_header_when_no_placeholder_is_used (void **state)
{
    const char *conf [] = { "Accept: application/json", NULL };
    ts_strlist_t *headers = NULL;
    assert_int_equal (s_headers (conf, "http://h/{id}", KEY, &headers, NULL),
                      0);
    assert_int_equal (headers->n, 2);
    assert_string_equal (headers->items [0], "Accept: application/json");
    assert_string_equal (headers->items [1], "x-api-key: " KEY);
    ts_url_headers_destroy (&headers);
    assert_null (headers);
}

static void
headers_fill_api_key_as_it_is_and_send_no_other_key_header (void **state)
{
    const char *conf [] = { "Authorization: Bearer {api_key}",
                            "Accept: application/json", NULL };
    ts_strlist_t *headers = NULL;
    assert_int_equal (s_headers (conf, "http://h/{id}", KEY, &headers, NULL),
                      0);
    assert_int_equal (headers->n, 2);
    assert_string_equal (headers->items [0], "Authorization: Bearer " KEY);
    assert_string_equal (headers->items [1], "Accept: application/json");
    ts_url_headers_destroy (&headers);
}

static void
headers_add_no_key_header_when_the_url_carries_the_key (void **state)
{
    ts_strlist_t *headers = NULL;
    assert_int_equal (s_headers (NULL, "http://h/{id}?key={api_key}", KEY,
                                 &headers, NULL), 0);
    assert_int_equal (headers->n, 0);
    ts_url_headers_destroy (&headers);
}

static void
headers_without_a_key_are_the_configured_ones (void **state)
{
    const char *conf [] = { "Accept: application/json", NULL };
    ts_strlist_t *headers = NULL;
    assert_int_equal (s_headers (conf, "http://h/{id}", NULL, &headers, NULL),
                      0);
    assert_int_equal (headers->n, 1);
    ts_url_headers_destroy (&headers);
}

static void
headers_refuse_a_placeholder_without_a_key (void **state)
{
    const char *conf [] = { "Authorization: Bearer {api_key}", NULL };
    ts_strlist_t *headers = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_headers (conf, "http://h/{id}", NULL, &headers, err),
                      TS_EINVAL);
    assert_null (headers);
    assert_non_null (strstr (err, "no upstream API key is configured"));
    assert_int_equal (s_headers (NULL, "http://h/{id}?k={api_key}", NULL,
                                 &headers, err), TS_EINVAL);
}

static void
headers_refuse_a_key_with_control_characters_without_showing_it (void **state)
{
    ts_strlist_t *headers = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_headers (NULL, "http://h/{id}", "sec\r\nX-Evil: 1",
                                 &headers, err), TS_EINVAL);
    assert_null (headers);
    assert_non_null (strstr (err, "control characters"));
    assert_null (strstr (err, "sec"));
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
        cmocka_unit_test (url_fills_api_key_percent_encoded),
        cmocka_unit_test (url_refuses_api_key_placeholder_without_a_key),
        cmocka_unit_test (url_too_long_for_the_buffer_keeps_no_part_of_the_key),
        cmocka_unit_test (url_uses_key_finds_the_placeholder),
        cmocka_unit_test (url_display_form_of_a_built_url_shows_no_key),
        cmocka_unit_test (headers_send_the_key_in_api_key_header_when_no_placeholder_is_used),
        cmocka_unit_test (headers_fill_api_key_as_it_is_and_send_no_other_key_header),
        cmocka_unit_test (headers_add_no_key_header_when_the_url_carries_the_key),
        cmocka_unit_test (headers_without_a_key_are_the_configured_ones),
        cmocka_unit_test (headers_refuse_a_placeholder_without_a_key),
        cmocka_unit_test (headers_refuse_a_key_with_control_characters_without_showing_it),
        cmocka_unit_test (url_time_parse_knows_three_units),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_url", tests, NULL, NULL);
}
