/*  test_ts_seed - the replaced service's route (gateway/ts_seed.c),
    GET /timeSeries-data and the paths under seed_path_prefix, through
    ts_route_handle as in test_ts_route.c: its answers byte for byte
    (quoted braces without the right key or a query string, its messages,
    its rows), the whole token compared with its length, and tscache's
    own checks of ids, dates and measures kept. Fixture in
    ts_route_fixture.h. */

#include "ts_route_fixture.h"

//  ---------------------------------------------------------------------
//  GET /timeSeries-data: the replaced service's answers, byte for byte

#define NO_KEY      "\"{}\""
#define ONLY_GET    "We only accept GET /timeSeries-data"
#define MISSING     "\"Some query string params missing: [object Object]\""
#define NO_METHOD   "{\"message\":\"Missing Authentication Token\"}"
#define NO_ROWS     "{\"historicalRows\":[],\"futureRows\":[]}"
#define RANGE       "&startDate=1000&endDate=2000"

//  Sends method target with a token of token_len bytes (NULL for none);
//  returns the status, the answer is in body. Fails if an Allow header
//  is set: the seed never sent one.
static int
s_seed (fixture_t *self, const char *method, const char *target,
        const char *token, size_t token_len)
{
    ts_route_req_t req = { .method = method, .target = target,
                           .token = token, .token_len = token_len };
    const char *allow = "unset";
    int status = s_handle (self, &req, &allow);
    assert_null (allow);
    return status;
}

//  Asserts that method target with the right key answers status with
//  exactly the bytes of expect.
static void
s_seed_expect (fixture_t *self, const char *method, const char *target,
               int status, const char *expect)
{
    int got = s_seed (self, method, target, KEY, strlen (KEY));
    if (got != status || strcmp (ts_reply_text (self->body), expect)
    ||  strlen (ts_reply_text (self->body)) != strlen (expect))
        fail_msg ("%s %s: %d %s, expected %d %s", method, target, got,
                  ts_reply_text (self->body), status, expect);
}

//  Stores cpu points next to s_add_with_points' value points: history
//  42 at base - 1 h, forecast 43.5 at base + 1 h (the forecast is
//  replaced whole, so its value points are written again).
static void
s_add_cpu_points (fixture_t *self, const char *id, int64_t base)
{
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    ts_points_append (history, base - HOUR_MS, "cpu", 42);
    ts_points_append (forecast, base - HOUR_MS, "value", 99);
    ts_points_append (forecast, base, "value", 2.25);
    ts_points_append (forecast, base + HOUR_MS, "cpu", 43.5);
    ts_points_append (forecast, base + HOUR_MS, "value", -3);
    s_put_points (self, id, &history, &forecast);
}

static void
seed_route_answers_400_quoted_braces_without_the_right_key (void **state)
{
    fixture_t *self = *state;
    const char *targets [] = {
        "/timeSeries-data?identifier=a" RANGE,
        "/prod/timeSeries-data?identifier=a" RANGE,
        "/timeSeries-data", "/prod/other/path", "/timeSeries-data/x"
    };
    const char *tokens [] = { NULL, "", "dem", "demo2", "DEMO", " demo" };
    for (size_t t = 0; t < sizeof targets / sizeof targets [0]; t++)
        for (size_t k = 0; k < sizeof tokens / sizeof tokens [0]; k++) {
            size_t len = tokens [k]? strlen (tokens [k]): 0;
            assert_int_equal (s_seed (self, "GET", targets [t], tokens [k],
                                      len), 400);
            assert_string_equal (ts_reply_text (self->body), NO_KEY);
            assert_int_equal (strlen (ts_reply_text (self->body)), 4);
            assert_int_equal (s_seed (self, "POST", targets [t], tokens [k],
                                      len), 400);
            assert_string_equal (ts_reply_text (self->body), NO_KEY);
        }
    //  The seed read x-security-token only: a Bearer key is no key there,
    //  while tscache's own routes take it.
    assert_int_equal (s_get_as (self, "/timeSeries-data?identifier=a" RANGE,
                                NULL, "Bearer demo"), 400);
    assert_string_equal (ts_reply_text (self->body), NO_KEY);
    assert_int_equal (s_get_as (self, "/v1/ids", NULL, "Bearer demo"), 200);
    //  Any configured key is accepted, as on tscache's routes.
    assert_int_equal (s_get_as (self, "/timeSeries-data?identifier=a" RANGE,
                                "third", NULL), 200);
}

static void
route_compares_the_whole_token_with_its_length (void **state)
{
    fixture_t *self = *state;
    //  "demo" followed by a NUL byte is not the key "demo".
    const char token [] = "demo\0";
    assert_int_equal (s_seed (self, "GET", "/v1/ids", token, 5), 401);
    assert_int_equal (s_seed (self, "GET", "/timeSeries-data?identifier=a"
                              RANGE, token, 5), 400);
    assert_string_equal (ts_reply_text (self->body), NO_KEY);
    const char more [] = "demo\0second";
    assert_int_equal (s_seed (self, "GET", "/v1/ids", more, 11), 401);
    assert_int_equal (s_seed (self, "GET", "/v1/ids", "demo", 4), 200);
    //  The length is the value's: bytes past it are not the header's.
    assert_int_equal (s_seed (self, "GET", "/v1/ids", "demoX", 4), 200);
    assert_int_equal (s_seed (self, "GET", "/v1/ids", "demo", 3), 401);

    const char bearer [] = "Bearer demo\0";
    ts_route_req_t req = { .method = "GET", .target = "/v1/ids",
                           .authorization = bearer,
                           .authorization_len = sizeof bearer - 1 };
    assert_int_equal (s_handle (self, &req, NULL),
                      401);
    req.authorization_len = sizeof bearer - 2;
    assert_int_equal (s_handle (self, &req, NULL),
                      200);
    req.authorization_len = 6;      //  "Bearer" cut short
    assert_int_equal (s_handle (self, &req, NULL),
                      401);
}

static void
seed_route_answers_400_quoted_braces_without_a_query_string (void **state)
{
    fixture_t *self = *state;
    const char *targets [] = {
        "/timeSeries-data", "/timeSeries-data?", "/timeSeries-data?&&",
        "/prod/timeSeries-data", "/prod/timeSeries-data?"
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets [0]; i++)
        s_seed_expect (self, "GET", targets [i], 400, NO_KEY);
}

static void
seed_route_answers_its_message_for_a_missing_or_empty_parameter (void **state)
{
    fixture_t *self = *state;
    const char *targets [] = {
        "/timeSeries-data?startDate=1000&endDate=2000",
        "/timeSeries-data?identifier=&startDate=1000&endDate=2000",
        "/timeSeries-data?identifier=a&endDate=2000",
        "/timeSeries-data?identifier=a&startDate=&endDate=2000",
        "/timeSeries-data?identifier=a&startDate=1000",
        "/timeSeries-data?identifier=a&startDate=1000&endDate",
        "/timeSeries-data?foo=1",
        ("/timeSeries-data?identifier=a&identifier=" RANGE),
        "/prod/timeSeries-data?identifier=a&startDate=1000"
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets [0]; i++)
        s_seed_expect (self, "GET", targets [i], 400, MISSING);
}

static void
seed_route_answers_empty_rows_for_an_id_without_data (void **state)
{
    fixture_t *self = *state;
    //  Not registered: the seed had no registry, only no data.
    s_seed_expect (self, "GET", "/timeSeries-data?identifier=nobody" RANGE,
                   200, NO_ROWS);
    s_seed_expect (self, "GET", "/prod/timeSeries-data?identifier=nobody"
                   RANGE, 200, NO_ROWS);
    assert_int_equal (s_call (self, "POST", "/v1/ids", "{\"ids\":[\"a\"]}"),
                      200);
    s_seed_expect (self, "GET", "/timeSeries-data?identifier=a" RANGE, 200,
                   NO_ROWS);
}

static void
seed_route_rows_carry_identifier_cpu_and_time_only (void **state)
{
    fixture_t *self = *state;
    int64_t base = 1800000000000LL;
    s_add_with_points (self, "a", base);
    s_add_cpu_points (self, "a", base);
    char target [256], expect [1024];
    long long b = (long long) base, h = (long long) HOUR_MS;

    //  No measure=: the first measure configured (cpu).
    snprintf (target, sizeof target, "/timeSeries-data?identifier=a"
              "&startDate=%lld&endDate=%lld", b - 10 * h, b + 10 * h);
    snprintf (expect, sizeof expect,
              "{\"historicalRows\":["
              "{\"identifier\":\"a\",\"cpu\":\"42\",\"time\":%lld}],"
              "\"futureRows\":["
              "{\"identifier\":\"a\",\"cpu\":\"43.5\",\"time\":%lld}]}",
              b - h, b + h);
    s_seed_expect (self, "GET", target, 200, expect);

    //  measure=value: history newest first, the forecast after the
    //  newest history point ascending (the one at b - h is dropped).
    snprintf (target, sizeof target, "/prod/timeSeries-data?measure=value"
              "&identifier=a&startDate=%lld&endDate=%lld", b - 10 * h,
              b + 10 * h);
    snprintf (expect, sizeof expect,
              "{\"historicalRows\":["
              "{\"identifier\":\"a\",\"cpu\":\"0.30000000000000004\","
              "\"time\":%lld},"
              "{\"identifier\":\"a\",\"cpu\":\"1.5\",\"time\":%lld}],"
              "\"futureRows\":["
              "{\"identifier\":\"a\",\"cpu\":\"2.25\",\"time\":%lld},"
              "{\"identifier\":\"a\",\"cpu\":\"-3\",\"time\":%lld}]}",
              b - h, b - 2 * h, b, b + h);
    s_seed_expect (self, "GET", target, 200, expect);

    //  Exact millisecond ends, inclusive; the last of a repeated
    //  parameter counts, as in API Gateway's queryStringParameters.
    snprintf (target, sizeof target, "/timeSeries-data?identifier=zz"
              "&identifier=a&measure=value&startDate=1&startDate=%lld"
              "&endDate=%lld", b - 2 * h, b - 2 * h);
    snprintf (expect, sizeof expect,
              "{\"historicalRows\":["
              "{\"identifier\":\"a\",\"cpu\":\"1.5\",\"time\":%lld}],"
              "\"futureRows\":[]}", b - 2 * h);
    s_seed_expect (self, "GET", target, 200, expect);
}

static void
seed_route_answers_other_methods_with_its_text (void **state)
{
    fixture_t *self = *state;
    const char *methods [] = { "POST", "PUT", "DELETE", "PATCH", "HEAD",
                               "OPTIONS" };
    const char *targets [] = {
        "/timeSeries-data?identifier=a" RANGE, "/timeSeries-data",
        "/prod/timeSeries-data?identifier=a" RANGE
    };
    for (size_t m = 0; m < sizeof methods / sizeof methods [0]; m++)
        for (size_t t = 0; t < sizeof targets / sizeof targets [0]; t++)
            s_seed_expect (self, methods [m], targets [t], 400, ONLY_GET);
}

static void
seed_paths_under_the_prefix_answer_as_its_lambda (void **state)
{
    fixture_t *self = *state;
    const char *targets [] = {
        "/prod/other", "/prod/v1/ids", "/prod/healthz",
        "/prod/timeSeries-data/?identifier=a" RANGE,
        "/prod/timeSeries-data/x?identifier=a" RANGE,
        "/prod/prod/timeSeries-data?identifier=a" RANGE,
        "/prod//timeSeries-data?identifier=a" RANGE,
        "/timeSeries-data/?identifier=a" RANGE,
        "/timeSeries-data/x"
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets [0]; i++)
        s_seed_expect (self, "GET", targets [i], 400, ONLY_GET);
    //  The root route stays served with a prefix.
    s_seed_expect (self, "GET", "/timeSeries-data?identifier=nobody" RANGE,
                   200, NO_ROWS);
}

static void
seed_prefix_root_answers_missing_authentication_token (void **state)
{
    fixture_t *self = *state;
    const char *methods [] = { "GET", "POST", "HEAD", "OPTIONS" };
    const char *targets [] = { "/prod", "/prod/", "/prod?identifier=a" };
    for (size_t m = 0; m < sizeof methods / sizeof methods [0]; m++)
        for (size_t t = 0; t < sizeof targets / sizeof targets [0]; t++) {
            s_seed_expect (self, methods [m], targets [t], 403, NO_METHOD);
            //  API Gateway answers before any key is looked at.
            assert_int_equal (s_seed (self, methods [m], targets [t], NULL,
                                      0), 403);
            assert_string_equal (ts_reply_text (self->body), NO_METHOD);
        }
}

static void
seed_route_keeps_tscache_checks_of_ids_dates_and_measures (void **state)
{
    fixture_t *self = *state;
    const char *bad [] = {
        "/timeSeries-data?identifier=a%27%20OR%20%271%27=%271" RANGE,
        "/timeSeries-data?identifier=a+b" RANGE,
        "/timeSeries-data?identifier=a&startDate=yesterday&endDate=2000",
        "/timeSeries-data?identifier=a&startDate=1000&endDate=2e3",
        "/timeSeries-data?identifier=a&measure=other" RANGE,
        "/timeSeries-data?identifier=a&measure=no%20way" RANGE
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_call (self, "GET", bad [i], NULL), 400);
        assert_string_equal (s_str (self, "error"), "bad_request");
    }
    assert_int_equal (s_call (self, "GET", "/timeSeries-data?identifier=a"
                              "&startDate=2000&endDate=1000", NULL), 400);
    assert_string_equal (s_str (self, "error"), "bad_range");
    //  RFC 3339 as well as epoch ms.
    s_seed_expect (self, "GET", "/timeSeries-data?identifier=a"
                   "&startDate=2000-01-01T00:00:00Z"
                   "&endDate=2000-01-02T00%3A00%3A00Z", 200, NO_ROWS);
}

static void
seed_route_without_a_prefix_leaves_other_paths_to_tscache (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_testutil_config (self->base->path, 16, NULL);
    assert_non_null (cfg);
    ts_route_t *route = ts_route_new (self->api, cfg, KEY, err);
    assert_non_null (route);
    ts_route_req_t req = { .method = "GET", .target = "/prod",
                           .token = KEY, .token_len = strlen (KEY) };
    assert_int_equal (ts_route_handle (route, &req, self->body), 404);
    req.target = "/prod/timeSeries-data?identifier=a" RANGE;
    assert_int_equal (ts_route_handle (route, &req, self->body), 404);
    req.target = "/timeSeries-data?identifier=a" RANGE;
    assert_int_equal (ts_route_handle (route, &req, self->body), 200);
    assert_string_equal (ts_reply_text (self->body), NO_ROWS);
    req.target = "/timeSeries-data/more";
    assert_int_equal (ts_route_handle (route, &req, self->body), 400);
    assert_string_equal (ts_reply_text (self->body), ONLY_GET);
    req.token = NULL;
    req.target = "/prod";
    assert_int_equal (ts_route_handle (route, &req, self->body), 401);
    ts_route_destroy (&route);
    ts_config_destroy (&cfg);

    //  With the prefix, paths outside it stay tscache's too.
    assert_int_equal (s_get_as (self, "/other", KEY, NULL), 404);
    assert_int_equal (s_get_as (self, "/other", NULL, NULL), 401);
    //  / is the built-in page's (gateway/ts_ui.h), key or none.
    assert_int_equal (s_get_as (self, "/", KEY, NULL), 200);
    assert_string_equal (ts_reply_type (self->body), TS_REPLY_HTML);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (seed_route_answers_400_quoted_braces_without_the_right_key),
        T (route_compares_the_whole_token_with_its_length),
        T (seed_route_answers_400_quoted_braces_without_a_query_string),
        T (seed_route_answers_its_message_for_a_missing_or_empty_parameter),
        T (seed_route_answers_empty_rows_for_an_id_without_data),
        T (seed_route_rows_carry_identifier_cpu_and_time_only),
        T (seed_route_answers_other_methods_with_its_text),
        T (seed_paths_under_the_prefix_answer_as_its_lambda),
        T (seed_prefix_root_answers_missing_authentication_token),
        T (seed_route_keeps_tscache_checks_of_ids_dates_and_measures),
        T (seed_route_without_a_prefix_leaves_other_paths_to_tscache),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_seed", tests, NULL, NULL);
}
