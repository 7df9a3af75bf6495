/*  test_ts_aws - signed JSON calls (common/aws/ts_aws.c) against a
    service played by a loopback server (ts_aws_fixture): what is sent
    is what is signed (the server checks every Authorization header with
    the signer), answers and errors, retries of throttling, 429, 5xx and
    network errors with backoff, no retry of a client error, connection
    reuse, several threads at once, region and endpoint resolution. The
    environment holds the credentials; instance metadata is disabled so
    that nothing is asked beyond loopback. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/ts_aws.h"
#include "aws/ts_aws_body.h"
#include "aws/ts_aws_sigv4.h"
#include "ts_aws_fixture.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

typedef struct {
    ts_fix_answer_t script [8];     //  answers in order, then 200 {}
    int             script_len;
    int             next;
    char            target [128];   //  last X-Amz-Target
    char            token [256];    //  last X-Amz-Security-Token
    char            body [4096];    //  last body
    int             verified;       //  Authorization headers checked good
    int             bad;            //  and bad
    pthread_mutex_t lock;
} s_service_t;

static s_service_t s_svc;
static ts_fix_t *s_fix;

//  Checks the request's Authorization with the signer, from what arrived.
static void
s_verify (const ts_fix_request_t *req)
{
    char host [128] = "", type [128] = "", target [128] = "", date [32] = "";
    char auth [1024] = "";
    ts_fix_header (req, "Host", host, sizeof host);
    ts_fix_header (req, "Content-Type", type, sizeof type);
    bool has_target = ts_fix_header (req, "X-Amz-Target", target, sizeof target);
    ts_fix_header (req, "X-Amz-Date", date, sizeof date);
    ts_fix_header (req, "Authorization", auth, sizeof auth);
    ts_aws_creds_t creds;
    memset (&creds, 0, sizeof creds);
    strcpy (creds.access_key_id, "AKIDEXAMPLE");
    strcpy (creds.secret_access_key, SECRET);
    ts_fix_header (req, "X-Amz-Security-Token", creds.session_token,
                   sizeof creds.session_token);
    struct tm tm;
    memset (&tm, 0, sizeof tm);
    strptime (date, "%Y%m%dT%H%M%SZ", &tm);
    ts_aws_header_t headers [] = { { "Host", host }, { "Content-Type", type },
                                   { "X-Amz-Target", target } };
    ts_aws_sigv4_request_t sreq = { .method = req->method, .path = req->path,
                                    .headers = headers, .header_count = has_target? 3: 2,
                                    .body = req->body, .body_size = req->body_size };
    ts_aws_sigv4_t *signer = ts_aws_sigv4_new ("us-test-1", "dynamodb");
    ts_aws_sigv4_out_t out;
    if (ts_aws_sigv4_sign (signer, &sreq, &creds, timegm (&tm), &out, NULL) == 0
    &&  strcmp (out.authorization, auth) == 0)
        s_svc.verified++;
    else
        s_svc.bad++;
    ts_aws_sigv4_destroy (&signer);
}

static void
s_handler (const ts_fix_request_t *req, ts_fix_answer_t *ans, void *arg)
{
    pthread_mutex_lock (&s_svc.lock);
    s_verify (req);
    ts_fix_header (req, "X-Amz-Target", s_svc.target, sizeof s_svc.target);
    s_svc.token [0] = 0;
    ts_fix_header (req, "X-Amz-Security-Token", s_svc.token, sizeof s_svc.token);
    snprintf (s_svc.body, sizeof s_svc.body, "%s", req->body);
    if (s_svc.next < s_svc.script_len)
        *ans = s_svc.script [s_svc.next++];
    else
        strcpy (ans->body, "{}");
    pthread_mutex_unlock (&s_svc.lock);
}

static void
s_script (int status, const char *headers, const char *body)
{
    ts_fix_answer_t *a = &s_svc.script [s_svc.script_len++];
    memset (a, 0, sizeof *a);
    a->status = status;
    snprintf (a->headers, sizeof a->headers, "%s", headers? headers: "");
    snprintf (a->body, sizeof a->body, "%s", body? body: "");
}

static int
s_setup (void **state)
{
    memset (&s_svc, 0, sizeof s_svc);
    pthread_mutex_init (&s_svc.lock, NULL);
    setenv ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv ("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    unsetenv ("AWS_SESSION_TOKEN");
    unsetenv ("AWS_REGION");
    unsetenv ("AWS_DEFAULT_REGION");
    unsetenv ("AWS_PROFILE");
    setenv ("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv ("AWS_CONFIG_FILE", "/nonexistent/aws/config", 1);
    setenv ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws/credentials", 1);
    s_fix = ts_fix_new (s_handler, NULL);
    return s_fix? 0: -1;
}

static int
s_teardown (void **state)
{
    ts_fix_destroy (&s_fix);
    return 0;
}

static ts_aws_t *
s_client (int retries)
{
    static char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "http://127.0.0.1:%d", ts_fix_port (s_fix));
    ts_aws_config_t cfg = { .service = "dynamodb", .region = "us-test-1",
                            .endpoint = endpoint, .what = "store.dynamodb",
                            .timeout_ms = 2000, .retries = retries };
    char err [TS_ERRLEN] = "";
    ts_aws_t *aws = ts_aws_new (&cfg, err);
    if (!aws)
        print_message ("ts_aws_new: %s\n", err);
    return aws;
}

static void
call_posts_a_signed_request_and_returns_the_answer (void **state)
{
    ts_aws_t *aws = s_client (0);
    assert_non_null (aws);
    s_script (200, NULL, "{\"TableNames\":[\"a\"]}");
    char *reply = NULL;
    size_t size = 0;
    char err [TS_ERRLEN] = "";
    const char *body = "{\"Limit\":  10}";
    assert_int_equal (ts_aws_call (aws, NULL, "DynamoDB_20120810.ListTables",
                                   "application/x-amz-json-1.0", body, strlen (body),
                                   &reply, &size, NULL, err), 0);
    assert_string_equal (reply, "{\"TableNames\":[\"a\"]}");
    assert_int_equal (size, strlen (reply));
    free (reply);
    assert_string_equal (s_svc.target, "DynamoDB_20120810.ListTables");
    assert_string_equal (s_svc.body, body);
    assert_int_equal (s_svc.verified, 1);
    assert_int_equal (s_svc.bad, 0);
    assert_string_equal (ts_aws_region (aws), "us-test-1");
    assert_string_equal (ts_aws_credentials_source (aws), "environment");
    assert_non_null (strstr (ts_aws_libraries (), "libcurl"));
    ts_aws_destroy (&aws);
    assert_null (aws);
}

static void
call_sends_the_session_token_and_signs_it (void **state)
{
    setenv ("AWS_SESSION_TOKEN", "FQoGZXIvYXdzEXAMPLETOKEN", 1);
    ts_aws_t *aws = s_client (0);
    char *reply = NULL;
    assert_int_equal (ts_aws_call (aws, NULL, "DynamoDB_20120810.GetItem",
                                   "application/x-amz-json-1.0", "{}", 2, &reply,
                                   NULL, NULL, NULL), 0);
    free (reply);
    assert_string_equal (s_svc.token, "FQoGZXIvYXdzEXAMPLETOKEN");
    assert_int_equal (s_svc.bad, 0);
    ts_aws_destroy (&aws);
    unsetenv ("AWS_SESSION_TOKEN");
}

static void
call_retries_throttling_429_and_5xx_over_one_connection (void **state)
{
    ts_aws_t *aws = s_client (4);
    int connections = ts_fix_connections (s_fix);
    s_script (400, NULL, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
              "ProvisionedThroughputExceededException\",\"message\":\"slow\"}");
    s_script (429, NULL, "");
    s_script (500, NULL, "{\"__type\":\"InternalServerError\"}");
    s_script (400, "x-amzn-ErrorType: ThrottlingException:http://internal\r\n", "");
    s_script (200, NULL, "{\"done\":1}");
    char *reply = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_aws_call (aws, NULL, "DynamoDB_20120810.BatchWriteItem",
                                   "application/x-amz-json-1.0", "{}", 2, &reply,
                                   NULL, NULL, err), 0);
    assert_string_equal (reply, "{\"done\":1}");
    free (reply);
    assert_int_equal (s_svc.next, 5);
    assert_int_equal (s_svc.verified, 5);
    assert_int_equal (ts_fix_connections (s_fix) - connections, 1);
    ts_aws_destroy (&aws);
}

static void
call_gives_up_after_its_retries_with_the_last_error (void **state)
{
    ts_aws_t *aws = s_client (1);
    s_script (503, NULL, "{\"message\":\"down\"}");
    s_script (400, NULL, "{\"__type\":\"a.b#ThrottlingException\",\"Message\":\"Rate exceeded\"}");
    s_script (200, NULL, "{}");
    char *reply = (char *) "x";
    char err [TS_ERRLEN] = "";
    ts_aws_error_t error;
    assert_int_equal (ts_aws_call (aws, NULL, "Timestream_20181101.WriteRecords",
                                   "application/x-amz-json-1.0", "{}", 2, &reply,
                                   NULL, &error, err), TS_EBACKEND);
    assert_null (reply);
    assert_int_equal (s_svc.next, 2);
    assert_int_equal (error.http_status, 400);
    assert_string_equal (error.type, "ThrottlingException");
    assert_string_equal (error.message, "Rate exceeded");
    assert_string_equal (err, "store.dynamodb: Timestream_20181101.WriteRecords: "
                         "ThrottlingException: Rate exceeded");
    ts_aws_destroy (&aws);
}

static void
call_does_not_retry_a_client_error (void **state)
{
    ts_aws_t *aws = s_client (5);
    s_script (400, NULL, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
              "ResourceNotFoundException\",\"message\":\"Requested resource not found\"}");
    char *reply = NULL;
    char err [TS_ERRLEN] = "";
    ts_aws_error_t error;
    assert_int_equal (ts_aws_call (aws, NULL, "DynamoDB_20120810.Query",
                                   "application/x-amz-json-1.0", "{}", 2, &reply,
                                   NULL, &error, err), TS_EBACKEND);
    assert_int_equal (s_svc.next, 1);
    assert_string_equal (error.type, "ResourceNotFoundException");
    assert_string_equal (err, "store.dynamodb: DynamoDB_20120810.Query: "
                         "ResourceNotFoundException: Requested resource not found");
    assert_null (strstr (err, SECRET));
    ts_aws_destroy (&aws);
}

static void
call_retries_network_errors_then_names_them (void **state)
{
    ts_aws_t *aws = s_client (2);
    //  A port nothing listens on: the fixture's, once it is gone.
    ts_fix_t *gone = ts_fix_new (s_handler, NULL);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "http://127.0.0.1:%d/", ts_fix_port (gone));
    ts_fix_destroy (&gone);
    char *reply = NULL;
    char err [TS_ERRLEN] = "";
    ts_aws_error_t error;
    int64_t t0 = ts_mono_ms ();
    assert_int_equal (ts_aws_call (aws, endpoint, "DynamoDB_20120810.Query",
                                   "application/x-amz-json-1.0", "{}", 2, &reply,
                                   NULL, &error, err), TS_EBACKEND);
    assert_true (ts_mono_ms () - t0 < 2000);
    assert_int_equal (error.http_status, 0);
    print_message ("%s\n", err);
    assert_non_null (strstr (err, "store.dynamodb: DynamoDB_20120810.Query: "));
    ts_aws_destroy (&aws);
}

static void *
s_caller (void *arg)
{
    ts_aws_t *aws = arg;
    intptr_t failures = 0;
    for (int i = 0; i < 25; i++) {
        char *reply = NULL;
        char body [64];
        int n = snprintf (body, sizeof body, "{\"i\":%d}", i);
        if (ts_aws_call (aws, NULL, "DynamoDB_20120810.GetItem",
                         "application/x-amz-json-1.0", body, (size_t) n, &reply,
                         NULL, NULL, NULL))
            failures++;
        free (reply);
    }
    return (void *) failures;
}

static void
call_is_safe_from_several_threads_and_reuses_connections (void **state)
{
    ts_aws_t *aws = s_client (0);
    int connections = ts_fix_connections (s_fix);
    pthread_t threads [4];
    for (int i = 0; i < 4; i++)
        pthread_create (&threads [i], NULL, s_caller, aws);
    intptr_t failures = 0;
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join (threads [i], &rc);
        failures += (intptr_t) rc;
    }
    assert_int_equal (failures, 0);
    assert_int_equal (s_svc.bad, 0);
    assert_int_equal (s_svc.verified, 100);
    assert_true (ts_fix_connections (s_fix) - connections <= 4);
    ts_aws_destroy (&aws);
}

static void
new_takes_the_region_from_config_env_or_profile (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_aws_config_t cfg = { .service = "dynamodb", .what = "store.dynamodb" };
    assert_null (ts_aws_new (&cfg, err));
    assert_non_null (strstr (err, "no AWS region"));
    assert_non_null (strstr (err, "store.dynamodb.region"));
    char path [] = "/tmp/test_ts_aws_config_XXXXXX";
    int fd = mkstemp (path);
    const char *text = "[default]\nregion = eu-north-1\n[profile other]\nregion=ap-south-2\n";
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    setenv ("AWS_CONFIG_FILE", path, 1);
    ts_aws_t *aws = ts_aws_new (&cfg, err);
    assert_string_equal (ts_aws_region (aws), "eu-north-1");
    assert_string_equal (ts_aws_endpoint (aws), "https://dynamodb.eu-north-1.amazonaws.com");
    ts_aws_destroy (&aws);
    setenv ("AWS_PROFILE", "other", 1);
    aws = ts_aws_new (&cfg, err);
    assert_string_equal (ts_aws_region (aws), "ap-south-2");
    ts_aws_destroy (&aws);
    setenv ("AWS_DEFAULT_REGION", "us-west-2", 1);
    aws = ts_aws_new (&cfg, err);
    assert_string_equal (ts_aws_region (aws), "us-west-2");
    ts_aws_destroy (&aws);
    setenv ("AWS_REGION", "cn-north-1", 1);
    aws = ts_aws_new (&cfg, err);
    assert_string_equal (ts_aws_region (aws), "cn-north-1");
    assert_string_equal (ts_aws_endpoint (aws), "https://dynamodb.cn-north-1.amazonaws.com.cn");
    ts_aws_destroy (&aws);
    cfg.region = "eu-west-3";
    cfg.endpoint = "http://localhost:8000";
    aws = ts_aws_new (&cfg, err);
    assert_string_equal (ts_aws_region (aws), "eu-west-3");
    assert_string_equal (ts_aws_endpoint (aws), "http://localhost:8000");
    ts_aws_destroy (&aws);
    cfg.endpoint = "localhost:8000";
    assert_null (ts_aws_new (&cfg, err));
    assert_non_null (strstr (err, "http:// or https://"));
    cfg.endpoint = NULL;
    cfg.region = "eu west";
    assert_null (ts_aws_new (&cfg, err));
    assert_non_null (strstr (err, "not a region name"));
    unlink (path);
    unsetenv ("AWS_REGION");
    unsetenv ("AWS_DEFAULT_REGION");
    unsetenv ("AWS_PROFILE");
    setenv ("AWS_CONFIG_FILE", "/nonexistent/aws/config", 1);
}

static void
new_names_every_place_it_looked_for_credentials (void **state)
{
    unsetenv ("AWS_ACCESS_KEY_ID");
    char err [TS_ERRLEN] = "";
    ts_aws_config_t cfg = { .service = "dynamodb", .region = "us-east-1", .what = "x" };
    assert_null (ts_aws_new (&cfg, err));
    print_message ("%s\n", err);
    assert_non_null (strstr (err, "no AWS credentials"));
    assert_non_null (strstr (err, "AWS_ACCESS_KEY_ID"));
    assert_non_null (strstr (err, "/nonexistent/aws/credentials"));
    assert_non_null (strstr (err, "container credentials: not set"));
    assert_non_null (strstr (err, "instance metadata: disabled"));
    setenv ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
}

static void
error_parse_reads_type_and_message_from_body_or_header (void **state)
{
    ts_aws_error_t e;
    const char *b1 = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ValidationException\","
                     "\"message\":\"One or more parameter values were invalid\"}";
    ts_aws_error_parse (400, b1, strlen (b1), NULL, &e);
    assert_int_equal (e.http_status, 400);
    assert_string_equal (e.type, "ValidationException");
    assert_string_equal (e.message, "One or more parameter values were invalid");
    const char *b2 = "{\"Message\":\"The security token included in the request is expired\"}";
    ts_aws_error_parse (400, b2, strlen (b2), "ExpiredTokenException:http://x", &e);
    assert_string_equal (e.type, "ExpiredTokenException");
    assert_string_equal (e.message, "The security token included in the request is expired");
    ts_aws_error_parse (502, "<html>\nBad gateway</html>", 25, NULL, &e);
    assert_string_equal (e.type, "");
    assert_string_equal (e.message, "<html> Bad gateway</html>");
    ts_aws_error_parse (500, NULL, 0, NULL, &e);
    assert_string_equal (e.type, "");
    assert_string_equal (e.message, "");
}

static void
retryable_is_true_for_throttling_429_5xx_and_no_answer_only (void **state)
{
    assert_true (ts_aws_retryable (0, NULL));
    assert_true (ts_aws_retryable (429, ""));
    assert_true (ts_aws_retryable (500, "InternalServerError"));
    assert_true (ts_aws_retryable (503, NULL));
    assert_true (ts_aws_retryable (400, "ThrottlingException"));
    assert_true (ts_aws_retryable (400, "ProvisionedThroughputExceededException"));
    assert_true (ts_aws_retryable (400, "RequestLimitExceeded"));
    assert_true (ts_aws_retryable (400, "TooManyRequestsException"));
    assert_false (ts_aws_retryable (400, "ValidationException"));
    assert_false (ts_aws_retryable (400, "ConditionalCheckFailedException"));
    assert_false (ts_aws_retryable (403, "AccessDeniedException"));
    assert_false (ts_aws_retryable (404, NULL));
}

static void
backoff_is_full_jitter_under_a_doubling_cap (void **state)
{
    unsigned seed = 42;
    for (int attempt = 0; attempt < 12; attempt++) {
        int64_t cap = 50LL << attempt;
        if (cap > 5000)
            cap = 5000;
        int64_t most = 0;
        for (int i = 0; i < 2000; i++) {
            int64_t ms = ts_aws_backoff_ms (attempt, &seed);
            assert_true (ms >= 0 && ms <= cap);
            if (ms > most)
                most = ms;
        }
        assert_true (most > cap / 2);
    }
}

static void
body_write_grows_by_doubling_and_stops_at_the_cap (void **state)
{
    ts_aws_body_t b = { .max = 10000 };
    char chunk [3000];
    memset (chunk, 'x', sizeof chunk);
    assert_int_equal (ts_aws_body_write (chunk, 1, 3000, &b), 3000);
    assert_int_equal (ts_aws_body_write (chunk, 3, 1000, &b), 3000);
    assert_int_equal (ts_aws_body_write (chunk, 1, 3000, &b), 3000);
    assert_int_equal (b.size, 9000);
    assert_true (b.cap >= 9001 && b.cap <= 16384);
    assert_int_equal (b.data [9000], 0);
    assert_false (b.over);
    assert_int_equal (ts_aws_body_write (chunk, 1, 1001, &b), 0);
    assert_true (b.over);
    assert_int_equal (b.size, 9000);
    free (b.data);
}

int
main (int argc, char *argv [])
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (call_posts_a_signed_request_and_returns_the_answer),
        T (call_sends_the_session_token_and_signs_it),
        T (call_retries_throttling_429_and_5xx_over_one_connection),
        T (call_gives_up_after_its_retries_with_the_last_error),
        T (call_does_not_retry_a_client_error),
        T (call_retries_network_errors_then_names_them),
        T (call_is_safe_from_several_threads_and_reuses_connections),
        T (new_takes_the_region_from_config_env_or_profile),
        T (new_names_every_place_it_looked_for_credentials),
        T (error_parse_reads_type_and_message_from_body_or_header),
        T (retryable_is_true_for_throttling_429_5xx_and_no_answer_only),
        T (backoff_is_full_jitter_under_a_doubling_cap),
        T (body_write_grows_by_doubling_and_stops_at_the_cap),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_aws", tests, NULL, NULL);
}
