/*  test_ts_oauth2 - the OAuth2 client-credentials token of a source:
    when to refresh, parsing the token endpoint's answers and errors,
    the token request in both auth styles, the token held, dropped on a
    401, and every secret kept out of errors. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/ts_oauth2.h"

#define SECRET "s3cr3t-Value/+"

static void
refresh_comes_ten_percent_before_expiry_at_most_a_minute (void **state)
{
    assert_int_equal (ts_oauth2_refresh_at (1000, 3600),
                      1000 + 3600000 - 60000);
    assert_int_equal (ts_oauth2_refresh_at (1000, 10), 1000 + 10000 - 1000);
    assert_int_equal (ts_oauth2_refresh_at (0, 1), 900);
    assert_int_equal (ts_oauth2_refresh_at (5, 0), INT64_MAX);
    assert_int_equal (ts_oauth2_refresh_at (5, -3), INT64_MAX);
    assert_int_equal (ts_oauth2_refresh_at (INT64_MAX - 10, 3600),
                      INT64_MAX);
}

//  Parses body answered with status; returns the rc.
static int
s_parse (long status, const char *body, ts_oauth2_token_t *token,
         bool *retry, char *err)
{
    return ts_oauth2_parse (status, body, strlen (body), token, retry, err);
}

static void
parse_takes_the_token_and_its_lifetime (void **state)
{
    ts_oauth2_token_t token;
    bool retry;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_parse (200, "{\"access_token\": \"abc.DEF-1\", "
                               "\"token_type\": \"bearer\", \"expires_in\": "
                               "3600}", &token, &retry, err), 0);
    assert_string_equal (token.access_token, "abc.DEF-1");
    assert_int_equal (token.expires_in_s, 3600);
    free (token.access_token);
    //  Some endpoints write it as a string; some leave out the type.
    assert_int_equal (s_parse (200, "{\"access_token\": \"t\", \"expires_in\""
                               ": \"120\"}", &token, &retry, err), 0);
    assert_int_equal (token.expires_in_s, 120);
    free (token.access_token);
    //  No lifetime: kept until a 401.
    assert_int_equal (s_parse (200, "{\"access_token\": \"t\", \"token_type\""
                               ": \"Bearer\"}", &token, &retry, err), 0);
    assert_int_equal (token.expires_in_s, 0);
    free (token.access_token);
}

static void
parse_refuses_answers_without_a_usable_bearer_token (void **state)
{
    ts_oauth2_token_t token;
    bool retry;
    char err [TS_ERRLEN];
    const char *bad [] = {
        "not json", "[1]", "{\"token_type\": \"bearer\"}",
        "{\"access_token\": \"\"}", "{\"access_token\": \"a b\"}",
        "{\"access_token\": 7}",
        "{\"access_token\": \"t\", \"token_type\": \"mac\"}",
        "{\"access_token\": \"t\", \"expires_in\": -5}",
        "{\"access_token\": \"t\", \"expires_in\": \"soon\"}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        err [0] = 0;
        assert_int_equal (s_parse (200, bad [i], &token, &retry, err),
                          TS_EUPSTREAM);
        assert_null (token.access_token);
        assert_true (retry);
        assert_non_null (strstr (err, "token endpoint"));
    }
}

static void
parse_does_not_retry_invalid_client (void **state)
{
    ts_oauth2_token_t token;
    bool retry;
    char err [TS_ERRLEN];
    assert_int_equal (s_parse (401, "{\"error\": \"invalid_client\", "
                               "\"error_description\": \"bad secret\"}",
                               &token, &retry, err), TS_EUPSTREAM);
    assert_false (retry);
    assert_string_equal (err, "token endpoint HTTP 401: invalid_client: "
                              "bad secret (not retried)");
    assert_int_equal (s_parse (400, "{\"error\": \"invalid_scope\"}",
                               &token, &retry, err), TS_EUPSTREAM);
    assert_false (retry);
}

static void
parse_retries_server_errors_and_unexplained_refusals (void **state)
{
    ts_oauth2_token_t token;
    bool retry;
    char err [TS_ERRLEN];
    assert_int_equal (s_parse (503, "<html>down</html>", &token, &retry,
                               err), TS_EUPSTREAM);
    assert_true (retry);
    assert_string_equal (err, "token endpoint HTTP 503");
    assert_int_equal (s_parse (401, "", &token, &retry, err), TS_EUPSTREAM);
    assert_true (retry);
    assert_int_equal (s_parse (400, "{\"error\": \"invalid_request\"}",
                               &token, &retry, err), TS_EUPSTREAM);
    assert_true (retry);
}

static void
parse_quotes_the_description_printable_and_short (void **state)
{
    ts_oauth2_token_t token;
    bool retry;
    char err [TS_ERRLEN];
    char body [512];
    snprintf (body, sizeof body, "{\"error\": \"invalid_client\", "
              "\"error_description\": \"line\\none %0100d\"}", 7);
    assert_int_equal (s_parse (401, body, &token, &retry, err),
                      TS_EUPSTREAM);
    assert_null (strchr (err, '\n'));
    assert_non_null (strstr (err, "line?one 000"));
    assert_non_null (strstr (err, "... (not retried)"));
}

static void
basic_credentials_follow_rfc_6749 (void **state)
{
    char out [256];
    //  The example of RFC 6749 section 2.3.1.
    assert_int_equal (ts_oauth2_basic ("s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw",
                                       out, sizeof out), 0);
    assert_string_equal (out, "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJu"
                              "ZlZkbUl3");
    //  id and secret are form-encoded first: "a%3Ab:c%20d".
    assert_int_equal (ts_oauth2_basic ("a:b", "c d", out, sizeof out), 0);
    assert_string_equal (out, "Basic YSUzQWI6YyUyMGQ=");
    assert_int_equal (ts_oauth2_basic ("a", "b", out, 8), TS_ETOOBIG);
}

//  ---------------------------------------------------------------------
//  The token of a source

static ts_config_t *
s_config (const char *style)
{
    char text [1024], err [TS_ERRLEN];
    snprintf (text, sizeof text,
              "upstream:\n"
              "  oauth2:\n"
              "    token_url: http://127.0.0.1:1/oauth/token\n"
              "    client_id_env: TEST_OAUTH2_ID\n"
              "    client_secret_env: TEST_OAUTH2_SECRET\n"
              "    scope: read data\n"
              "    auth_style: %s\n", style);
    ts_config_t *cfg = ts_config_load_text (text, "test.yaml", err);
    if (!cfg)
        fail_msg ("%s", err);
    return cfg;
}

static int
env_setup (void **state)
{
    setenv ("TEST_OAUTH2_ID", "client-1", 1);
    setenv ("TEST_OAUTH2_SECRET", SECRET, 1);
    return 0;
}

//  A completed token request answered status with body.
static ts_fetch_result_t
s_result (long status, const char *body)
{
    ts_fetch_result_t res = { .rc = 0, .status = status, .body = body,
                              .size = strlen (body) };
    return res;
}

static void
request_posts_the_grant_with_basic_credentials (void **state)
{
    ts_config_t *cfg = s_config ("client_secret_basic");
    char err [TS_ERRLEN];
    ts_oauth2_t *auth = ts_oauth2_new (cfg, err);
    assert_non_null (auth);
    ts_fetch_request_t req;
    assert_false (ts_oauth2_fetching (auth));
    assert_int_equal (ts_oauth2_request (auth, &req), 0);
    assert_true (ts_oauth2_fetching (auth));
    assert_string_equal (req.method, "POST");
    assert_string_equal (req.url, "http://127.0.0.1:1/oauth/token");
    assert_true (req.bare);
    assert_string_equal (req.body, "grant_type=client_credentials"
                                   "&scope=read%20data");
    char basic [256];
    ts_oauth2_basic ("client-1", SECRET, basic, sizeof basic);
    bool found = false;
    for (size_t i = 0; i < req.headers->n; i++)
        found |= strncmp (req.headers->items [i], "Authorization: ", 15) == 0
              && strcmp (req.headers->items [i] + 15, basic) == 0;
    assert_true (found);
    ts_oauth2_destroy (&auth);
    assert_null (auth);
    ts_config_destroy (&cfg);
}

static void
request_posts_the_credentials_in_the_body_in_post_style (void **state)
{
    ts_config_t *cfg = s_config ("client_secret_post");
    char err [TS_ERRLEN];
    ts_oauth2_t *auth = ts_oauth2_new (cfg, err);
    assert_non_null (auth);
    ts_fetch_request_t req;
    assert_int_equal (ts_oauth2_request (auth, &req), 0);
    assert_string_equal (req.body, "grant_type=client_credentials"
                         "&scope=read%20data&client_id=client-1"
                         "&client_secret=s3cr3t-Value%2F%2B");
    for (size_t i = 0; i < req.headers->n; i++)
        assert_null (strstr (req.headers->items [i], "Authorization"));
    ts_oauth2_destroy (&auth);
    ts_config_destroy (&cfg);
}

static void
token_is_held_until_its_refresh_time (void **state)
{
    ts_config_t *cfg = s_config ("client_secret_basic");
    char err [TS_ERRLEN];
    ts_oauth2_t *auth = ts_oauth2_new (cfg, err);
    ts_fetch_request_t req;
    bool retry;
    assert_null (ts_oauth2_token (auth, 0));
    assert_int_equal (ts_oauth2_request (auth, &req), 0);
    ts_fetch_result_t res = s_result (200, "{\"access_token\": \"tok-1\", "
                                      "\"expires_in\": 10}");
    assert_int_equal (ts_oauth2_done (auth, &res, 1000, &retry, err), 0);
    assert_false (ts_oauth2_fetching (auth));
    assert_int_equal (ts_oauth2_obtained (auth), 1);
    assert_string_equal (ts_oauth2_token (auth, 1000), "tok-1");
    assert_string_equal (ts_oauth2_token (auth, 9999), "tok-1");
    assert_null (ts_oauth2_token (auth, 10000));
    ts_oauth2_destroy (&auth);
    ts_config_destroy (&cfg);
}

static void
a_401_drops_the_token_it_was_sent_with_only (void **state)
{
    ts_config_t *cfg = s_config ("client_secret_basic");
    char err [TS_ERRLEN];
    ts_oauth2_t *auth = ts_oauth2_new (cfg, err);
    ts_fetch_request_t req;
    bool retry;
    ts_oauth2_request (auth, &req);
    ts_fetch_result_t res = s_result (200, "{\"access_token\": \"tok-2\"}");
    assert_int_equal (ts_oauth2_done (auth, &res, 5000, &retry, err), 0);
    assert_int_equal (ts_oauth2_obtained (auth), 1);
    //  A request that carried an older token (none: generation 0).
    ts_oauth2_reject (auth, 0, 14);
    assert_string_equal (ts_oauth2_token (auth, 6000), "tok-2");
    //  Compared on the low bits the caller kept: 1 + 2^14 is 1.
    ts_oauth2_reject (auth, 2, 1);
    assert_string_equal (ts_oauth2_token (auth, 6000), "tok-2");
    //  One sent with it: the endpoint revoked it.
    ts_oauth2_reject (auth, 1 + (1 << 14), 14);
    assert_null (ts_oauth2_token (auth, 6000));
    //  The dropped token is still scrubbed from errors.
    char text [TS_ERRLEN] = "Bearer tok-2 was refused";
    ts_oauth2_redact (auth, text, sizeof text);
    assert_null (strstr (text, "tok-2"));
    ts_oauth2_destroy (&auth);
    ts_config_destroy (&cfg);
}

static void
a_failed_token_request_keeps_secrets_out_of_the_error (void **state)
{
    ts_config_t *cfg = s_config ("client_secret_post");
    char err [TS_ERRLEN];
    ts_oauth2_t *auth = ts_oauth2_new (cfg, err);
    ts_fetch_request_t req;
    bool retry;
    ts_oauth2_request (auth, &req);
    //  An endpoint that echoes what it was sent.
    ts_fetch_result_t res = s_result (401, "{\"error\": \"invalid_client\", "
                                      "\"error_description\": \"secret "
                                      SECRET " unknown\"}");
    assert_int_equal (ts_oauth2_done (auth, &res, 0, &retry, err),
                      TS_EUPSTREAM);
    assert_false (retry);
    assert_false (ts_oauth2_fetching (auth));
    assert_null (strstr (err, "s3cr3t"));
    assert_non_null (strstr (err, "invalid_client"));
    //  A transfer that failed is retried.
    ts_oauth2_request (auth, &req);
    ts_fetch_result_t down = { .rc = TS_EUPSTREAM, .error = "connection "
                               "refused" };
    assert_int_equal (ts_oauth2_done (auth, &down, 0, &retry, err),
                      TS_EUPSTREAM);
    assert_true (retry);
    assert_string_equal (err, "token endpoint: connection refused");
    ts_oauth2_destroy (&auth);
    ts_config_destroy (&cfg);
}

static void
new_names_the_missing_secret_without_showing_any (void **state)
{
    ts_config_t *cfg = s_config ("client_secret_basic");
    unsetenv ("TEST_OAUTH2_SECRET");
    char err [TS_ERRLEN] = "";
    assert_null (ts_oauth2_new (cfg, err));
    assert_non_null (strstr (err, "TEST_OAUTH2_SECRET"));
    assert_non_null (strstr (err, "client_secret"));
    ts_config_destroy (&cfg);
}

static void
same_client_tells_a_rotated_secret (void **state)
{
    ts_config_t *cfg = s_config ("client_secret_basic");
    char err [TS_ERRLEN];
    ts_oauth2_t *one = ts_oauth2_new (cfg, err);
    ts_oauth2_t *two = ts_oauth2_new (cfg, err);
    assert_true (ts_oauth2_same_client (one, two));
    setenv ("TEST_OAUTH2_SECRET", "rotated", 1);
    ts_oauth2_t *three = ts_oauth2_new (cfg, err);
    assert_false (ts_oauth2_same_client (one, three));
    ts_oauth2_destroy (&one);
    ts_oauth2_destroy (&two);
    ts_oauth2_destroy (&three);
    ts_config_destroy (&cfg);
}

static void
config_refuses_oauth2_without_client_credentials (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text ("upstream:\n  oauth2:\n"
                                            "    token_url: https://a/t\n",
                                            "test.yaml", err);
    assert_null (cfg);
    assert_non_null (strstr (err, "upstream.oauth2.token_url"));
    assert_non_null (strstr (err, "client_id"));
    cfg = ts_config_load_text ("upstream:\n  oauth2:\n"
                               "    token_url: https://id:pw@a/t\n",
                               "test.yaml", err);
    assert_null (cfg);
    assert_null (strstr (err, "pw"));
    cfg = ts_config_load_text ("upstream:\n  headers: ['Authorization: "
                               "Bearer {api_key}']\n  api_key_env: K\n"
                               "  oauth2:\n    token_url: https://a/t\n"
                               "    client_id_env: I\n"
                               "    client_secret_env: S\n",
                               "test.yaml", err);
    assert_null (cfg);
    assert_non_null (strstr (err, "Authorization is sent by upstream.oauth2"));
    cfg = ts_config_load_text ("upstream:\n  body: '{\"a\": 1}'\n",
                               "test.yaml", err);
    assert_null (cfg);
    assert_non_null (strstr (err, "POST"));
    cfg = ts_config_load_text ("upstream:\n  method: POST\n"
                               "  body: 'd={from:days}'\n", "test.yaml", err);
    assert_null (cfg);
    assert_non_null (strstr (err, "test.yaml:3"));
    assert_non_null (strstr (err, "unknown time format"));
    cfg = ts_config_load_text ("upstream:\n  url: 'http://h/{id}?t={to:%s}'\n",
                               "test.yaml", err);
    assert_null (cfg);
    assert_non_null (strstr (err, "not %s"));
    cfg = ts_config_load_text ("upstream:\n  url: 'http://h/{id}?d={from:%Y}"
                               "&t={to:s}'\n", "test.yaml", err);
    assert_non_null (cfg);
    ts_config_destroy (&cfg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (refresh_comes_ten_percent_before_expiry_at_most_a_minute),
        cmocka_unit_test (parse_takes_the_token_and_its_lifetime),
        cmocka_unit_test (parse_refuses_answers_without_a_usable_bearer_token),
        cmocka_unit_test (parse_does_not_retry_invalid_client),
        cmocka_unit_test (parse_retries_server_errors_and_unexplained_refusals),
        cmocka_unit_test (parse_quotes_the_description_printable_and_short),
        cmocka_unit_test (basic_credentials_follow_rfc_6749),
        cmocka_unit_test_setup (request_posts_the_grant_with_basic_credentials,
                                env_setup),
        cmocka_unit_test_setup (request_posts_the_credentials_in_the_body_in_post_style,
                                env_setup),
        cmocka_unit_test_setup (token_is_held_until_its_refresh_time,
                                env_setup),
        cmocka_unit_test_setup (a_401_drops_the_token_it_was_sent_with_only,
                                env_setup),
        cmocka_unit_test_setup (a_failed_token_request_keeps_secrets_out_of_the_error,
                                env_setup),
        cmocka_unit_test_setup (new_names_the_missing_secret_without_showing_any,
                                env_setup),
        cmocka_unit_test_setup (same_client_tells_a_rotated_secret, env_setup),
        cmocka_unit_test (config_refuses_oauth2_without_client_credentials),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests (tests, NULL, NULL);
}
