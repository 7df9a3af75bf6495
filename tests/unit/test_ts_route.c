/*  test_ts_route - the gateway's HTTP routes without sockets: requests go
    straight to ts_route_handle over a temporary LMDB store; status codes
    and JSON bodies are checked as text and re-read with jansson. The
    routes the broker answers are also taken apart (ts_route_start, then
    ts_route_finish), as the HTTP loop does, and must answer the same.
    The route table gives each path its auth rule. The replaced service's
    route (gateway/ts_seed.c) is tested in test_ts_seed.c; the fixture
    both share is in ts_route_fixture.h. */

#include "ts_route_fixture.h"

static void
route_healthz_needs_no_key (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_get_as (self, "/healthz", NULL, NULL), 200);
    assert_string_equal (ts_reply_text (self->body), "{\"status\":\"ok\"}");
}

static void
route_answers_401_without_the_right_key (void **state)
{
    fixture_t *self = *state;
    const char *tokens [] = { NULL, "", "dem", "demo2", "DEMO",
                             "demo,second" };
    for (size_t i = 0; i < sizeof tokens / sizeof tokens [0]; i++) {
        assert_int_equal (s_get_as (self, "/v1/ids", tokens [i], NULL), 401);
        assert_non_null (strstr (ts_reply_text (self->body),
                                 "\"error\":\"unauthorized\""));
    }
    //  Unknown routes say 401 too: nothing is revealed without a key.
    assert_int_equal (s_get_as (self, "/nope", NULL, "Basic demo"), 401);
}

static void
route_accepts_any_listed_key_as_token_or_bearer (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (ts_route_keys (self->route), 3);
    const char *auths [] = { "Bearer demo", "bearer second", "Bearer  third" };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal (s_get_as (self, "/v1/ids", NULL, auths [i]), 200);
    assert_int_equal (s_get_as (self, "/v1/ids", "third", NULL), 200);
}

//  One request as key; the answer's status.
static int
s_as (ts_route_t *route, fixture_t *self, const char *method,
      const char *target, const char *key, const char *body)
{
    ts_route_req_t req = {
        .method = method, .target = target,
        .token = key, .token_len = strlen (key),
        .body = body, .body_size = body? strlen (body): 0
    };
    return ts_route_handle (route, &req, self->body);
}

static void
route_named_read_keys_query_but_get_403_on_admin_routes (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_route_t *route = ts_route_new (self->api, self->base->cfg,
                                      ",legacy\n"
                                      "reader read r-key-1\n"
                                      "ops admin o-key-2\n", err);
    assert_non_null (route);
    assert_int_equal (ts_route_keys (route), 3);
    ts_route_req_t req = { .method = "GET", .target = "/v1/ids",
                           .token = "r-key-1", .token_len = 7 };
    char name [TS_ROUTE_KEY_NAME];
    assert_true (ts_route_key_name (route, &req, name, sizeof name));
    assert_string_equal (name, "reader");
    req.token = "legacy";
    req.token_len = 6;
    assert_true (ts_route_key_name (route, &req, name, sizeof name));
    assert_string_equal (name, "default");
    req.token = "reader";
    req.token_len = 6;
    assert_false (ts_route_key_name (route, &req, name, sizeof name));
    assert_int_equal (s_as (route, self, "GET", "/v1/ids", "r-key-1", NULL),
                      200);
    assert_int_equal (s_as (route, self, "POST", "/v1/ids", "r-key-1",
                            "{\"ids\":[\"a\"]}"), 403);
    assert_non_null (strstr (ts_reply_text (self->body), "\"forbidden\""));
    assert_null (strstr (ts_reply_text (self->body), "r-key-1"));
    assert_int_equal (s_as (route, self, "DELETE", "/v1/ids/a", "r-key-1",
                            NULL), 403);
    assert_int_equal (s_as (route, self, "POST", "/v1/hydrate", "r-key-1",
                            "{\"ids\":[\"a\"]}"), 403);
    assert_int_equal (s_as (route, self, "POST", "/v1/dlq/redrive",
                            "r-key-1", NULL), 403);
    assert_int_equal (s_as (route, self, "DELETE", "/v1/dlq", "r-key-1",
                            NULL), 403);
    assert_int_equal (s_as (route, self, "POST", "/v1/ids", "o-key-2",
                            "{\"ids\":[\"a\"]}"), 200);
    assert_int_equal (s_as (route, self, "POST", "/v1/ids", "legacy",
                            "{\"ids\":[\"b\"]}"), 200);
    //  The name and role are not keys.
    assert_int_equal (s_as (route, self, "GET", "/v1/ids", "reader", NULL),
                      401);
    ts_route_destroy (&route);
}

static void
route_set_keys_replaces_the_keys_while_serving (void **state)
{
    fixture_t *self = *state;
    bool changed = false;
    assert_int_equal (ts_route_set_keys (self->route, "fresh, other\n",
                                         &changed), 0);
    assert_true (changed);
    assert_int_equal (ts_route_keys (self->route), 2);
    assert_int_equal (s_get_as (self, "/v1/ids", "demo", NULL), 401);
    assert_int_equal (s_get_as (self, "/v1/ids", "fresh", NULL), 200);
    assert_int_equal (ts_route_set_keys (self->route, "fresh,other",
                                         &changed), 0);
    assert_false (changed);
    //  No key at all: the running keys stay.
    assert_int_equal (ts_route_set_keys (self->route, " , \n", &changed),
                      TS_ENOTFOUND);
    assert_int_equal (s_get_as (self, "/v1/ids", "other", NULL), 200);
    //  Same key, now named and read-only: a change; admin routes 403.
    assert_int_equal (ts_route_set_keys (self->route, "viewer read fresh\n",
                                         &changed), 0);
    assert_true (changed);
    char name [TS_ROUTE_KEY_NAME];
    ts_route_req_t req = { .method = "GET", .target = "/v1/ids",
                           .token = "fresh", .token_len = 5 };
    assert_true (ts_route_key_name (self->route, &req, name, sizeof name));
    assert_string_equal (name, "viewer");
    assert_int_equal (s_as (self->route, self, "POST", "/v1/ids", "fresh",
                            "{\"ids\":[\"a\"]}"), 403);
}

static void
route_new_refuses_a_key_list_without_keys (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    assert_null (ts_route_new (self->api, self->base->cfg, " , \n ", err));
    assert_non_null (strstr (err, "no API key"));
    assert_null (ts_route_new (self->api, self->base->cfg, "", err));
}

static void
route_ids_can_be_added_listed_and_removed (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_call (self, "POST", "/v1/ids",
                              "{\"ids\":[\"b\",\"a\"]}"), 200);
    assert_int_equal (json_integer_value (json_object_get (self->doc,
                                                           "added")), 2);
    assert_int_equal (s_call (self, "GET", "/v1/ids", NULL), 200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"ids\":[\"a\",\"b\"]"
                         ",\"sources\":[\"default\",\"default\"],\"next\":null}");
    assert_int_equal (s_call (self, "DELETE", "/v1/ids/a", NULL), 200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"id\":\"a\",\"removed\":true}");
    assert_int_equal (s_call (self, "DELETE", "/v1/ids/a", NULL), 404);
    assert_string_equal (s_str (self, "error"), "not_found");
    assert_int_equal (s_call (self, "DELETE", "/v1/ids/a%20b", NULL), 400);
}

static void
route_ids_pages_with_after_and_limit (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_call (self, "POST", "/v1/ids",
                              "{\"ids\":[\"d\",\"c\",\"b\",\"a\",\"e\"]}"), 200);
    assert_int_equal (s_call (self, "GET", "/v1/ids?limit=2", NULL), 200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"ids\":[\"a\",\"b\"]"
                         ",\"sources\":[\"default\",\"default\"],\"next\":\"b\"}");
    assert_int_equal (s_call (self, "GET", "/v1/ids?after=b&limit=2", NULL),
                      200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"ids\":[\"c\",\"d\"]"
                         ",\"sources\":[\"default\",\"default\"],\"next\":\"d\"}");
    assert_int_equal (s_call (self, "GET", "/v1/ids?after=d&limit=2", NULL),
                      200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"ids\":[\"e\"]"
                         ",\"sources\":[\"default\"],\"next\":null}");
    //  A cursor need not be registered.
    assert_int_equal (s_call (self, "GET", "/v1/ids?after=bb", NULL), 200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"ids\":[\"c\",\"d\",\"e\"]"
                         ",\"sources\":[\"default\",\"default\",\"default\"],\"next\":null}");
    const char *bad [] = {
        "/v1/ids?limit=0", "/v1/ids?limit=10001", "/v1/ids?limit=x",
        "/v1/ids?limit=-1", "/v1/ids?limit=2x", "/v1/ids?after=a%20b"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_call (self, "GET", bad [i], NULL), 400);
        assert_string_equal (s_str (self, "error"), "bad_request");
    }
}

static void
route_hydrate_answers_the_job_of_each_id (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (ROUTE_BROKER);
    assert_non_null (broker);
    assert_int_equal (s_call (self, "POST", "/v1/ids",
                              "{\"ids\":[\"a\",\"b\"]}"), 200);
    assert_int_equal (s_call (self, "POST", "/v1/hydrate",
                              "{\"ids\":[\"a\",\"b\"]}"), 202);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"queued\":2,\"jobs\":[100,101]}");
    //  A priority fetch (read-through's lane), and a priority that is not
    //  a boolean.
    assert_int_equal (s_call (self, "POST", "/v1/hydrate",
                              "{\"ids\":[\"a\"],\"priority\":true}"), 202);
    assert_int_equal (s_call (self, "POST", "/v1/hydrate",
                              "{\"ids\":[\"a\"],\"priority\":\"yes\"}"),
                      400);
    assert_string_equal (s_str (self, "detail"),
                         "priority: expected true or false");
    //  skip_fetched_since (protocol 5.6) is passed on, as epoch ms or
    //  RFC 3339; a time that is neither, or before 1970, is refused.
    assert_int_equal (s_call (self, "POST", "/v1/hydrate",
                              "{\"ids\":[\"a\"],"
                              "\"skip_fetched_since\":1732406400000}"), 202);
    assert_true (ts_fakebroker_last_skip (broker) == 1732406400000LL);
    assert_int_equal (s_call (self, "POST", "/v1/hydrate",
                              "{\"ids\":[\"a\"],\"skip_fetched_since\":"
                              "\"2024-11-24T00:00:01Z\"}"), 202);
    assert_true (ts_fakebroker_last_skip (broker) == 1732406401000LL);
    assert_int_equal (s_call (self, "POST", "/v1/hydrate",
                              "{\"ids\":[\"a\"],"
                              "\"skip_fetched_since\":null}"), 202);
    assert_true (ts_fakebroker_last_skip (broker) == 0);
    const char *bad [] = {
        "{\"ids\":[\"a\"],\"skip_fetched_since\":-1}",
        "{\"ids\":[\"a\"],\"skip_fetched_since\":1.5}",
        "{\"ids\":[\"a\"],\"skip_fetched_since\":\"yesterday\"}",
        "{\"ids\":[\"a\"],\"skip_fetched_since\":\"1969-12-31T00:00:00Z\"}",
        "{\"ids\":[\"a\"],\"skip_fetched_since\":true}"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_call (self, "POST", "/v1/hydrate", bad [i]), 400);
        assert_string_equal (s_str (self, "detail"),
                             "skip_fetched_since: expected epoch milliseconds"
                             " (not negative) or an RFC 3339 time");
    }
    //  An id with a leading '-' is not created, whatever the front end.
    assert_int_equal (s_call (self, "POST", "/v1/ids",
                              "{\"ids\":[\"-x\"]}"), 400);
    assert_string_equal (s_str (self, "detail"),
                         "invalid id '-x': use " TS_NAME_RULE);
    assert_int_equal (s_call (self, "DELETE", "/v1/ids/-x", NULL), 400);
    ts_fakebroker_destroy (&broker);
}

static void
route_series_writes_history_then_forecast_after_the_baseline (void **state)
{
    fixture_t *self = *state;
    int64_t base = 1800000000000LL;
    s_add_with_points (self, "a", base);
    char target [256];
    snprintf (target, sizeof target, "/v1/series/a?from=%lld&to=%lld",
              (long long) (base - 10 * HOUR_MS),
              (long long) (base + 10 * HOUR_MS));
    assert_int_equal (s_call (self, "GET", target, NULL), 200);
    char expect [1024];
    snprintf (expect, sizeof expect,
        "{\"id\":\"a\",\"from\":%lld,\"to\":%lld,\"baseline\":%lld,"
        "\"fetched_at\":null,\"fetched_ms\":null,\"stale\":true,"
        "\"points\":["
        "{\"time\":%lld,\"measure\":\"value\",\"value\":1.5,"
        "\"source\":\"history\"},"
        "{\"time\":%lld,\"measure\":\"value\",\"value\":0.30000000000000004,"
        "\"source\":\"history\"},"
        "{\"time\":%lld,\"measure\":\"value\",\"value\":2.25,"
        "\"source\":\"forecast\"},"
        "{\"time\":%lld,\"measure\":\"value\",\"value\":-3,"
        "\"source\":\"forecast\"}]}",
        (long long) (base - 10 * HOUR_MS), (long long) (base + 10 * HOUR_MS),
        (long long) (base - HOUR_MS), (long long) (base - 2 * HOUR_MS),
        (long long) (base - HOUR_MS), (long long) base,
        (long long) (base + HOUR_MS));
    assert_string_equal (ts_reply_text (self->body), expect);

    //  RFC 3339 works as well as epoch ms; an empty range has no baseline.
    assert_int_equal (s_call (self, "GET", "/v1/series/a?from=2000-01-01T00"
                              "%3A00%3A00Z&to=2000-01-02T00:00:00.000Z", NULL),
                      200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"id\":\"a\",\"from\":946684800000,"
                         "\"to\":946771200000,\"baseline\":null,"
                         "\"fetched_at\":null,\"fetched_ms\":null,"
                         "\"stale\":true,\"points\":[]}");
}

static void
route_answers_400_for_bad_parameters_and_bodies (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_call (self, "POST", "/v1/ids", "{\"ids\":[\"a\"]}"),
                      200);
    const char *targets [] = {
        "/v1/series/a?from=yesterday", "/v1/series/a?to=1e3",
        "/v1/series/a?measure=no%20way", "/v1/series/a%2",
        "/v1/series/has%20space"
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets [0]; i++) {
        assert_int_equal (s_call (self, "GET", targets [i], NULL), 400);
        assert_string_equal (s_str (self, "error"), "bad_request");
    }
    assert_int_equal (s_call (self, "GET", "/v1/series/a?from=10&to=9",
                              NULL), 400);
    assert_string_equal (s_str (self, "error"), "bad_range");

    const char *bodies [] = {
        NULL, "", "{", "[]", "{\"ids\":\"a\"}", "{\"ids\":[]}",
        "{\"ids\":[1]}", "{\"ids\":[\"a b\"]}", "{\"ids\":[\"a\"],\"ids\":[]}",
        "{\"ids\":[\"\\u0000\"]}", "\xff\xfe\"<script>"
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies [0]; i++) {
        assert_int_equal (s_call (self, "POST", "/v1/ids", bodies [i]), 400);
        assert_string_equal (s_str (self, "error"), "bad_request");
        assert_int_equal (s_call (self, "POST", "/v1/hydrate", bodies [i]),
                          400);
    }
}

static void
route_answers_404_405_and_413 (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_call (self, "GET", "/v2/ids", NULL), 404);
    assert_string_equal (s_str (self, "error"), "not_found");
    assert_int_equal (s_call (self, "GET", "/v1/series/zz", NULL), 404);
    assert_int_equal (s_call (self, "GET", "/v1/series", NULL), 404);

    const char *allow = NULL;
    ts_route_req_t req = { .method = "PUT", .target = "/v1/ids",
                           .token = KEY, .token_len = strlen (KEY) };
    assert_int_equal (s_handle (self, &req, &allow), 405);
    assert_string_equal (allow, "GET, POST");
    req.method = "GET";
    req.target = "/v1/hydrate";
    assert_int_equal (s_handle (self, &req, &allow), 405);
    assert_string_equal (allow, "POST");
    req.method = "POST";
    req.target = "/v1/ids";
    req.body_too_big = true;
    assert_int_equal (s_handle (self, &req, &allow), 413);
    assert_null (allow);
    assert_non_null (strstr (ts_reply_text (self->body), "too_big"));
}

static void
route_hydrate_answers_503_when_the_broker_is_away (void **state)
{
    fixture_t *self = *state;
    ts_api_set_broker_timeout (self->api, 50);
    assert_int_equal (s_call (self, "POST", "/v1/ids", "{\"ids\":[\"a\"]}"),
                      200);
    assert_int_equal (s_call (self, "POST", "/v1/hydrate",
                              "{\"ids\":[\"a\",\"b\"]}"), 404);
    assert_non_null (strstr (s_str (self, "detail"), "'b'"));
    assert_int_equal (s_call (self, "POST", "/v1/hydrate",
                              "{\"ids\":[\"a\"]}"), 503);
    assert_string_equal (s_str (self, "error"), "unavailable");
}

static void
route_stats_writes_counters_and_workers (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (ROUTE_BROKER);
    assert_non_null (broker);
    assert_int_equal (s_call (self, "GET", "/v1/stats", NULL), 200);
    assert_string_equal (ts_reply_text (self->body),
        "{\"queued\":3,\"delayed\":1,\"leased\":2,\"dlq\":2,\"done\":40,"
        "\"failed\":6,\"retried\":4,\"dead_lettered\":2,"
        "\"oldest_age_ms\":1500,\"workers\":["
        "{\"name\":\"0a1b\",\"credit\":15,\"leased\":1},"
        "{\"name\":\"0a1c\",\"credit\":16,\"leased\":1}]}");
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_STATS);
    ts_fakebroker_destroy (&broker);
}

static void
route_metrics_needs_no_key_and_writes_the_broker_figures_as_text (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (ROUTE_BROKER);
    assert_non_null (broker);
    assert_int_equal (s_call (self, "GET", "/v1/ids", NULL), 200);
    assert_int_equal (s_get_as (self, "/metrics", NULL, NULL), 200);
    assert_string_equal (ts_reply_type (self->body), TS_REPLY_PROMETHEUS);
    const char *text = ts_reply_text (self->body);
    assert_non_null (strstr (text, "\ntscache_broker_up 1\n"));
    assert_non_null (strstr (text, "\ntscache_jobs{state=\"dead\"} 2\n"));
    assert_non_null (strstr (text, "\ntscache_jobs_done_total 40\n"));
    assert_non_null (strstr (text, "\ntscache_oldest_job_age_seconds 1.5\n"));
    assert_non_null (strstr (text,
                             "\ntscache_worker_credit{worker=\"0a1c\"} 16\n"));
    //  The GET /v1/ids above is counted, the /metrics itself is not.
    assert_non_null (strstr (text, "\ntscache_gateway_request_duration_"
                             "seconds_count{api=\"http\",route=\"/v1/ids\"} 1\n"));
    assert_null (strstr (text, "route=\"/metrics\""));
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_STATS);
    ts_fakebroker_destroy (&broker);
    //  Without a broker the page is still there, saying so.
    assert_int_equal (s_get_as (self, "/metrics", NULL, NULL), 200);
    assert_non_null (strstr (ts_reply_text (self->body),
                             "\ntscache_broker_up 0\n"));
    assert_null (strstr (ts_reply_text (self->body), "tscache_jobs{"));
}

//  Routes over a config of their own: setting, a "gateway:" key line
//  ("  metrics_auth: true\n"), and the key demo. *base holds the config
//  and store; the caller destroys both.
static ts_route_t *
s_route_with (fixture_t *self, const char *setting, ts_testutil_t **base)
{
    char text [256];
    snprintf (text, sizeof text, "gateway:\n  broker_endpoint: "
              ROUTE_BROKER "\n%s", setting);
    *base = ts_testutil_new (16, text);
    assert_non_null (*base);
    char err [TS_ERRLEN] = "";
    ts_route_t *route = ts_route_new (self->api, (*base)->cfg, "demo", err);
    assert_non_null (route);
    return route;
}

static void
route_metrics_needs_the_key_with_metrics_auth (void **state)
{
    fixture_t *self = *state;
    ts_testutil_t *base;
    ts_route_t *route = s_route_with (self, "  metrics_auth: true\n", &base);
    assert_int_equal (ts_route_auth (route, "/metrics"), TS_ROUTE_KEY);
    ts_route_req_t req = { .method = "GET", .target = "/metrics" };
    assert_int_equal (ts_route_handle (route, &req, self->body), 401);
    req.authorization = "Bearer demo";
    req.authorization_len = strlen (req.authorization);
    assert_int_equal (ts_route_handle (route, &req, self->body), 200);
    assert_string_equal (ts_reply_type (self->body), TS_REPLY_PROMETHEUS);
    ts_route_destroy (&route);
    ts_testutil_destroy (&base);
}

static void
route_dlq_lists_redrives_and_purges (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (ROUTE_BROKER);
    assert_non_null (broker);
    assert_int_equal (s_call (self, "GET", "/v1/dlq", NULL), 200);
    assert_string_equal (ts_reply_text (self->body),
        "{\"jobs\":["
        "{\"job\":7,\"ids\":[\"a\"],\"receives\":3,"
        "\"dead_at\":1732406400000,\"error\":\"HTTP 500\"},"
        "{\"job\":9,\"ids\":[\"b\",\"c\"],\"receives\":1,"
        "\"dead_at\":1732406460000,\"error\":\"HTTP 404: \\\"no\\\"\"}]}");

    //  No body, white space, {} and an empty list all mean every entry
    const char *every [] = { NULL, "", " \n", "{}", "{\"ids\":[]}" };
    for (size_t i = 0; i < sizeof every / sizeof every [0]; i++) {
        assert_int_equal (s_call (self, "POST", "/v1/dlq/redrive",
                                  every [i]), 200);
        assert_string_equal (ts_reply_text (self->body), "{\"requeued\":2}");
        assert_int_equal (ts_fakebroker_last_ids (broker), 0);
    }
    assert_int_equal (s_call (self, "POST", "/v1/dlq/redrive",
                              "{\"ids\":[\"a\",\"gone\",\"c\"]}"), 200);
    assert_string_equal (ts_reply_text (self->body), "{\"requeued\":3}");
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_DLQ_REDRIVE);
    assert_int_equal (ts_fakebroker_last_ids (broker), 3);
    assert_int_equal (s_call (self, "POST", "/v1/dlq/redrive",
                              "{\"jobs\":[7,9]}"), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_DLQ_REDRIVE);
    assert_int_equal (ts_fakebroker_last_ids (broker), 0);

    assert_int_equal (s_call (self, "DELETE", "/v1/dlq", NULL), 200);
    assert_string_equal (ts_reply_text (self->body), "{\"purged\":2}");
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_DLQ_PURGE);

    //  Bad redrive bodies never reach the broker
    size_t before = ts_fakebroker_requests (broker);
    const char *bad [] = {
        "{", "[]", "{\"ids\":\"a\"}", "{\"ids\":[1]}", "{\"ids\":[\"a b\"]}",
        "null", "{\"jobs\":[]}", "{\"jobs\":[0]}", "{\"jobs\":[\"7\"]}",
        "{\"jobs\":7}", "{\"ids\":[\"a\"],\"jobs\":[7]}"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_call (self, "POST", "/v1/dlq/redrive", bad [i]),
                          400);
        assert_string_equal (s_str (self, "error"), "bad_request");
    }
    assert_int_equal (ts_fakebroker_requests (broker), before);
    ts_fakebroker_destroy (&broker);
}

//  GET /v1/jobs?jobs=: the broker's job_state, as JSON; a bad list never
//  reaches the broker.
static void
route_jobs_says_where_each_job_is (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (ROUTE_BROKER);
    assert_non_null (broker);
    assert_int_equal (s_call (self, "GET", "/v1/jobs?jobs=12,13", NULL), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_JOB_STATE);
    assert_string_equal (ts_reply_text (self->body),
        "{\"jobs\":[{\"job\":12,\"state\":\"done\",\"receives\":1,"
        "\"error\":\"\"},{\"job\":13,\"state\":\"dead\",\"receives\":2,"
        "\"error\":\"HTTP 404\"}]}");
    size_t before = ts_fakebroker_requests (broker);
    const char *bad [] = {
        "/v1/jobs", "/v1/jobs?jobs=", "/v1/jobs?jobs=x", "/v1/jobs?jobs=0",
        "/v1/jobs?jobs=1,,2", "/v1/jobs?jobs=1,", "/v1/jobs?jobs=-1",
        "/v1/jobs?jobs=99999999999999999999", "/v1/jobs?jobs=1%202"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        if (s_call (self, "GET", bad [i], NULL) != 400)
            fail_msg ("%s: %s", bad [i], ts_reply_text (self->body));
        assert_string_equal (s_str (self, "error"), "bad_request");
    }
    assert_int_equal (ts_fakebroker_requests (broker), before);
    ts_fakebroker_destroy (&broker);
}

static void
route_start_hands_back_broker_routes_and_finish_writes_what_handle_does (
    void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (ROUTE_BROKER);
    assert_non_null (broker);
    assert_int_equal (s_call (self, "POST", "/v1/ids", "{\"ids\":[\"a\"]}"),
                      200);
    struct {
        const char *method, *target, *body;
        ts_op_t op;
        int status;
    } routes [] = {
        { "POST", "/v1/hydrate", "{\"ids\":[\"a\"]}", TS_OP_HYDRATE, 202 },
        { "GET", "/v1/stats", NULL, TS_OP_STATS, 200 },
        { "GET", "/v1/dlq", NULL, TS_OP_DLQ_LS, 200 },
        { "POST", "/v1/dlq/redrive", "{\"ids\":[\"b\"]}",
          TS_OP_DLQ_REDRIVE, 200 },
        { "DELETE", "/v1/dlq", NULL, TS_OP_DLQ_PURGE, 200 },
        { "GET", "/v1/jobs?jobs=7", NULL, TS_OP_JOB_STATE, 200 }
    };
    ts_reply_t *split = ts_reply_new ();
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    for (size_t i = 0; i < sizeof routes / sizeof routes [0]; i++) {
        ts_route_req_t req = {
            .method = routes [i].method, .target = routes [i].target,
            .token = KEY, .token_len = strlen (KEY),
            .body = routes [i].body,
            .body_size = routes [i].body? strlen (routes [i].body): 0
        };
        ts_msg_t *forward = NULL;
        size_t asked = ts_fakebroker_requests (broker);
        assert_int_equal (ts_route_start (self->route, &req, split, &forward), TS_ROUTE_FORWARD);
        assert_non_null (forward);
        assert_int_equal (forward->op, routes [i].op);
        size_t split_size = 1;
        ts_reply_body (split, &split_size);
        assert_int_equal (split_size, 0);
        assert_int_equal (ts_fakebroker_requests (broker), asked);
        ts_client_policy_t policy = { .peer = "broker", .timeout_ms = 5000 };
        ts_client_call (ROUTE_BROKER, &policy, forward, reply);
        assert_int_equal (ts_route_finish (self->route, req.target, forward,
                                           reply, split),
                          routes [i].status);
        ts_msg_destroy (&forward);
        //  The one-call path writes the same answer.
        assert_int_equal (s_handle (self, &req, NULL), routes [i].status);
        assert_string_equal (ts_reply_text (split),
                             ts_reply_text (self->body));
    }
    //  The broker's errors become the route's error answers.
    ts_msg_t *stats = ts_msg_new (TS_OP_STATS);
    ts_msg_set_error (reply, 503, "unavailable", "broker did not answer");
    assert_int_equal (ts_route_finish (self->route, "/v1/stats", stats,
                                       reply, split), 503);
    assert_string_equal (ts_reply_text (split), "{\"error\":\"unavailable\","
                         "\"detail\":\"broker did not answer\"}");
    //  Checks come before: an unknown id is answered, never handed back.
    ts_msg_t *forward = NULL;
    const char *unknown = "{\"ids\":[\"zz\"]}";
    ts_route_req_t req = { .method = "POST", .target = "/v1/hydrate",
                           .token = KEY, .token_len = strlen (KEY),
                           .body = unknown, .body_size = strlen (unknown) };
    assert_int_equal (ts_route_start (self->route, &req, split, &forward), 404);
    assert_null (forward);
    //  And what the gateway answers itself is answered at once.
    req = (ts_route_req_t) { .method = "GET", .target = "/v1/ids",
                             .token = KEY, .token_len = strlen (KEY) };
    assert_int_equal (ts_route_start (self->route, &req, split, &forward), 200);
    assert_null (forward);
    assert_string_equal (ts_reply_text (split),
                         "{\"ids\":[\"a\"]"
                         ",\"sources\":[\"default\"],\"next\":null}");
    ts_msg_destroy (&stats);
    ts_msg_destroy (&reply);
    ts_reply_destroy (&split);
    ts_fakebroker_destroy (&broker);
}

static void
route_admin_routes_check_methods_and_keys (void **state)
{
    fixture_t *self = *state;
    const char *allow = NULL;
    ts_route_req_t req = { .method = "POST", .target = "/v1/stats",
                           .token = KEY, .token_len = strlen (KEY) };
    assert_int_equal (s_handle (self, &req, &allow), 405);
    assert_string_equal (allow, "GET");
    req.target = "/v1/dlq";
    assert_int_equal (s_handle (self, &req, &allow), 405);
    assert_string_equal (allow, "GET, DELETE");
    req.method = "GET";
    req.target = "/v1/dlq/redrive";
    assert_int_equal (s_handle (self, &req, &allow), 405);
    assert_string_equal (allow, "POST");
    req.target = "/v1/dlq/other";
    assert_int_equal (s_handle (self, &req, &allow), 404);
    assert_int_equal (s_get_as (self, "/v1/stats", NULL, NULL), 401);
    assert_int_equal (s_get_as (self, "/v1/dlq", "wrong", NULL), 401);
}

static void
route_admin_routes_answer_503_when_the_broker_is_away (void **state)
{
    fixture_t *self = *state;
    ts_api_set_broker_timeout (self->api, 50);
    assert_int_equal (s_call (self, "GET", "/v1/stats", NULL), 503);
    assert_string_equal (s_str (self, "error"), "unavailable");
    assert_int_equal (s_call (self, "GET", "/v1/dlq", NULL), 503);
    assert_int_equal (s_call (self, "POST", "/v1/dlq/redrive", NULL), 503);
    assert_int_equal (s_call (self, "DELETE", "/v1/dlq", NULL), 503);
    assert_string_equal (s_str (self, "error"), "unavailable");
}

//  ---------------------------------------------------------------------
//  The route table

static void
route_table_gives_each_path_its_auth_rule (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (ts_route_auth (self->route, "/healthz"), TS_ROUTE_OPEN);
    //  gateway.metrics_auth is false by default.
    assert_int_equal (ts_route_auth (self->route, "/metrics"), TS_ROUTE_OPEN);
    assert_int_equal (ts_route_auth (self->route, "/v1/ids"), TS_ROUTE_KEY);
    assert_int_equal (ts_route_auth (self->route, "/v1/series/a?from=1"),
                      TS_ROUTE_KEY);
    assert_int_equal (ts_route_auth (self->route, "/v1/dlq/redrive"),
                      TS_ROUTE_KEY);
    assert_int_equal (ts_route_auth (self->route, "/timeSeries-data?x=1"),
                      TS_ROUTE_SEED);
    assert_int_equal (ts_route_auth (self->route, "/prod"), TS_ROUTE_SEED);
    assert_int_equal (ts_route_auth (self->route, "/prod/other"),
                      TS_ROUTE_SEED);
    //  A path no route knows needs the key (then it is 404).
    assert_int_equal (ts_route_auth (self->route, "/nowhere"), TS_ROUTE_KEY);
    assert_int_equal (ts_route_auth (self->route, "/v1/ids/a/b"),
                      TS_ROUTE_KEY);
}

static void
route_table_answers_404_and_405_after_the_rule_of_the_path (void **state)
{
    fixture_t *self = *state;
    const char *allow = NULL;
    //  Open: 405 needs no key.
    ts_route_req_t req = { .method = "POST", .target = "/healthz" };
    assert_int_equal (s_handle (self, &req, &allow), 405);
    assert_string_equal (allow, "GET");
    //  Key routes: the key first, for known and unknown paths alike.
    req.target = "/v1/ids";
    req.method = "PUT";
    assert_int_equal (s_handle (self, &req, &allow), 401);
    assert_null (allow);
    req.target = "/nowhere";
    assert_int_equal (s_handle (self, &req, &allow), 401);
    req.token = KEY;
    req.token_len = strlen (KEY);
    assert_int_equal (s_handle (self, &req, &allow), 404);
    assert_null (allow);
    req.target = "/v1/ids/a/b";
    assert_int_equal (s_handle (self, &req, &allow), 404);
    req.target = "/v1/series/a";
    req.method = "POST";
    assert_int_equal (s_handle (self, &req, &allow), 405);
    assert_string_equal (allow, "GET");
    req.target = "/v1/ids/a";
    req.method = "PUT";
    assert_int_equal (s_handle (self, &req, &allow), 405);
    assert_string_equal (allow, "GET, DELETE");
    //  The 405 answer is a JSON error with its Allow header.
    assert_non_null (strstr (ts_reply_text (self->body),
                             "method_not_allowed"));
    assert_string_equal (ts_reply_type (self->body), TS_REPLY_JSON);
    //  The seed's paths keep their own rule: no 401, no 405, no Allow.
    req.target = "/timeSeries-data";
    req.method = "PUT";
    req.token = NULL;
    req.token_len = 0;
    assert_int_equal (s_handle (self, &req, &allow), 400);
    assert_null (allow);
}

static void
route_series_answer_is_the_encoded_answer_adopted (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_call (self, "POST", "/v1/ids", "{\"ids\":[\"a\"]}"),
                      200);
    assert_int_equal (s_call (self, "GET", "/v1/series/a?from=0&to=1", NULL),
                      200);
    assert_string_equal (ts_reply_type (self->body), TS_REPLY_JSON);
    //  Twice: the second comes out of the answer cache, the same bytes.
    char first [512];
    snprintf (first, sizeof first, "%s", ts_reply_text (self->body));
    assert_int_equal (s_call (self, "GET", "/v1/series/a?from=0&to=1", NULL),
                      200);
    assert_string_equal (ts_reply_text (self->body), first);
}


//  The value of header name in the last answer, copied into buf ("" if
//  absent).
static const char *
s_header (fixture_t *self, const char *name, char *buf, size_t size)
{
    size_t len = 0;
    const char *value = ts_reply_header_value (self->body, name, &len);
    snprintf (buf, size, "%.*s", value? (int) len: 0, value? value: "");
    return buf;
}

static void
route_page_is_open_with_its_headers_and_can_be_turned_off (void **state)
{
    fixture_t *self = *state;
    char value [512], etag [128];
    assert_int_equal (s_get_as (self, "/", NULL, NULL), 200);
    assert_string_equal (ts_reply_type (self->body), TS_REPLY_HTML);
    assert_non_null (strstr (ts_reply_text (self->body), "/ui/app.js"));
    assert_non_null (strstr (s_header (self, "Content-Security-Policy", value,
                                       sizeof value), "default-src 'none'"));
    assert_string_equal (s_header (self, "X-Content-Type-Options", value,
                                   sizeof value), "nosniff");
    assert_int_equal (s_get_as (self, "/ui/app.js", NULL, NULL), 200);
    assert_non_null (strstr (ts_reply_type (self->body), "javascript"));
    assert_int_equal (s_get_as (self, "/ui/app.css", NULL, NULL), 200);
    s_header (self, "ETag", etag, sizeof etag);
    assert_true (strlen (etag) > 4);
    ts_route_req_t req = { .method = "GET", .target = "/ui/app.css",
                           .if_none_match = etag,
                           .if_none_match_len = strlen (etag) };
    assert_int_equal (ts_route_handle (self->route, &req, self->body), 304);
    assert_int_equal (s_get_as (self, "/ui/nope.js", NULL, NULL), 404);
    assert_non_null (strstr (ts_reply_text (self->body), "not_found"));
    //  Not a file of the page: /ui itself, a deeper path, another method.
    assert_int_equal (s_get_as (self, "/ui", NULL, NULL), 401);
    assert_int_equal (s_get_as (self, "/ui/a/b", NULL, NULL), 401);
    req = (ts_route_req_t) { .method = "POST", .target = "/" };
    assert_int_equal (ts_route_handle (self->route, &req, self->body), 405);

    //  gateway.ui false: unknown paths (401 without a key, then 404).
    ts_testutil_t *base;
    ts_route_t *route = s_route_with (self, "  ui: false\n", &base);
    req = (ts_route_req_t) { .method = "GET", .target = "/" };
    assert_int_equal (ts_route_handle (route, &req, self->body), 401);
    req.token = "demo";
    req.token_len = 4;
    assert_int_equal (ts_route_handle (route, &req, self->body), 404);
    req.target = "/ui/app.js";
    assert_int_equal (ts_route_handle (route, &req, self->body), 404);
    ts_route_destroy (&route);
    ts_testutil_destroy (&base);
}

static void
route_key_answers_the_name_and_role_never_the_key (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_route_t *route = ts_route_new (self->api, self->base->cfg,
                                      "legacy\nreader read r-key-1\n", err);
    assert_non_null (route);
    assert_int_equal (s_as (route, self, "GET", "/v1/key", "r-key-1", NULL),
                      200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"name\":\"reader\",\"role\":\"read\"}");
    assert_int_equal (s_as (route, self, "GET", "/v1/key", "legacy", NULL),
                      200);
    assert_string_equal (ts_reply_text (self->body),
                         "{\"name\":\"default\",\"role\":\"admin\"}");
    assert_int_equal (s_as (route, self, "GET", "/v1/key", "zz-bad-9", NULL),
                      401);
    assert_null (strstr (ts_reply_text (self->body), "zz-bad-9"));
    ts_route_destroy (&route);
}

static void
route_series_says_its_freshness_in_headers_and_answers_304 (void **state)
{
    fixture_t *self = *state;
    int64_t base = ts_now_ms () / HOUR_MS * HOUR_MS;
    s_add_with_points (self, "a", base);
    ts_store_mark_t mark = { .id = "a", .at_ms = ts_now_ms () - 3000,
                             .ok = true };
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_ids_mark (self->base->store, &mark, 1, err), 0);
    char target [128], etag [64], value [64];
    snprintf (target, sizeof target, "/v1/series/a?from=%lld&to=%lld",
              (long long) (base - 10 * HOUR_MS),
              (long long) (base + 10 * HOUR_MS));
    assert_int_equal (s_call (self, "GET", target, NULL), 200);
    assert_false (json_is_true (json_object_get (self->doc, "stale")));
    assert_int_equal (json_integer_value (json_object_get (self->doc,
                                                           "fetched_ms")),
                      mark.at_ms);
    assert_true (json_is_string (json_object_get (self->doc, "fetched_at")));
    assert_null (json_object_get (self->doc, "last_error"));
    long age = atol (s_header (self, "Age", value, sizeof value));
    assert_in_range (age, 2, 4);
    assert_non_null (strstr (s_header (self, "Cache-Control", value,
                                       sizeof value), "max-age="));
    s_header (self, "ETag", etag, sizeof etag);
    assert_int_equal (strlen (etag), 18);
    assert_int_equal (etag [0], '"');

    //  If-None-Match with that ETag: 304, no body, the headers again.
    ts_route_req_t req = {
        .method = "GET", .target = target, .token = KEY,
        .token_len = strlen (KEY), .if_none_match = etag,
        .if_none_match_len = strlen (etag) };
    assert_int_equal (s_handle (self, &req, NULL), 304);
    size_t size = 99;
    ts_reply_body (self->body, &size);
    assert_int_equal (size, 0);
    assert_string_equal (s_header (self, "ETag", value, sizeof value), etag);
    //  Another ETag: the whole answer.
    req.if_none_match = "\"0000000000000000\"";
    req.if_none_match_len = strlen (req.if_none_match);
    assert_int_equal (s_handle (self, &req, NULL), 200);

    //  A failure after the success: stale, last_error, no-cache, a new ETag.
    mark = (ts_store_mark_t) { .id = "a", .at_ms = ts_now_ms (), .ok = false,
                               .kind = "timeout", .detail = "no answer" };
    assert_int_equal (ts_store_ids_mark (self->base->store, &mark, 1, err), 0);
    assert_int_equal (s_call (self, "GET", target, NULL), 200);
    assert_true (json_is_true (json_object_get (self->doc, "stale")));
    json_t *last = json_object_get (self->doc, "last_error");
    assert_string_equal (json_string_value (json_object_get (last, "kind")),
                         "timeout");
    assert_string_equal (json_string_value (json_object_get (last, "detail")),
                         "no answer");
    assert_string_equal (s_header (self, "Cache-Control", value,
                                   sizeof value), "max-age=0, no-cache");
    assert_string_not_equal (s_header (self, "ETag", value, sizeof value),
                             etag);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (route_healthz_needs_no_key),
        T (route_answers_401_without_the_right_key),
        T (route_named_read_keys_query_but_get_403_on_admin_routes),
        T (route_page_is_open_with_its_headers_and_can_be_turned_off),
        T (route_key_answers_the_name_and_role_never_the_key),
        T (route_set_keys_replaces_the_keys_while_serving),
        T (route_accepts_any_listed_key_as_token_or_bearer),
        T (route_new_refuses_a_key_list_without_keys),
        T (route_ids_can_be_added_listed_and_removed),
        T (route_ids_pages_with_after_and_limit),
        T (route_hydrate_answers_the_job_of_each_id),
        T (route_series_writes_history_then_forecast_after_the_baseline),
        T (route_answers_400_for_bad_parameters_and_bodies),
        T (route_answers_404_405_and_413),
        T (route_hydrate_answers_503_when_the_broker_is_away),
        T (route_stats_writes_counters_and_workers),
        T (route_metrics_needs_no_key_and_writes_the_broker_figures_as_text),
        T (route_metrics_needs_the_key_with_metrics_auth),
        T (route_dlq_lists_redrives_and_purges),
        T (route_jobs_says_where_each_job_is),
        T (route_start_hands_back_broker_routes_and_finish_writes_what_handle_does),
        T (route_admin_routes_check_methods_and_keys),
        T (route_admin_routes_answer_503_when_the_broker_is_away),
        T (route_table_gives_each_path_its_auth_rule),
        T (route_table_answers_404_and_405_after_the_rule_of_the_path),
        T (route_series_answer_is_the_encoded_answer_adopted),
        T (route_series_says_its_freshness_in_headers_and_answers_304),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_route", tests, NULL, NULL);
}
