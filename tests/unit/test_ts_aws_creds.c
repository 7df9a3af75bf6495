/*  test_ts_aws_creds - the AWS credential chain (common/aws/ts_aws_creds.c):
    its order (environment, shared files and profiles, container, IMDSv2),
    the container and instance metadata endpoints played by a loopback
    server (ts_aws_fixture; AWS_CONTAINER_CREDENTIALS_FULL_URI and
    AWS_EC2_METADATA_SERVICE_ENDPOINT point at it), temporary credentials
    fetched again before they expire, a service's "expired token" answer
    making ts_aws_call fetch them again, and no secret in any log line or
    error text. Instance metadata is disabled in every test that does not
    point it at the fixture, so nothing leaves loopback. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/ts_aws.h"
#include "aws/ts_aws_creds.h"
#include "ts_aws_fixture.h"
#include "ts_log.h"

#define CONTAINER_AUTH "container-auth-token-SECRET"
#define IMDS_TOKEN     "imds-session-token-SECRET"

//  What the fixture serves.
typedef struct {
    int     served;                 //  credential documents served
    int64_t expires_in_ms;          //  Expiration of each, from now
    bool    fail;                   //  answer 500 instead
    int     expired_answers;        //  service answers ExpiredToken first
    char    auth [128];             //  last Authorization of /creds
    int     imds_puts, imds_gets;
    int     service_calls;
    char    service_key [64];       //  access key of the last service call
    pthread_mutex_t lock;
} s_state_t;

static s_state_t s_st;
static ts_fix_t *s_fix;
static char s_dir [64];

static void
s_document (ts_fix_answer_t *ans)
{
    s_st.served++;
    time_t exp = (time_t) ((ts_now_ms () + s_st.expires_in_ms) / 1000);
    struct tm tm;
    gmtime_r (&exp, &tm);
    char when [32];
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf (ans->body, sizeof ans->body,
              "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAFETCH%d\","
              "\"SecretAccessKey\":\"secret-key-%d-SECRET\",\"Token\":\"session-token-%d-SECRET\","
              "\"Expiration\":\"%s\"}", s_st.served, s_st.served, s_st.served, when);
}

static void
s_handler (const ts_fix_request_t *req, ts_fix_answer_t *ans, void *arg)
{
    pthread_mutex_lock (&s_st.lock);
    char value [256] = "";
    if (strcmp (req->path, "/creds") == 0) {
        s_st.auth [0] = 0;
        ts_fix_header (req, "Authorization", s_st.auth, sizeof s_st.auth);
        if (s_st.fail || strcmp (s_st.auth, CONTAINER_AUTH) != 0)
            ans->status = s_st.fail? 500: 401;
        else
            s_document (ans);
    }
    else
    if (strcmp (req->path, "/latest/api/token") == 0) {
        s_st.imds_puts++;
        if (strcmp (req->method, "PUT") != 0
        ||  !ts_fix_header (req, "X-aws-ec2-metadata-token-ttl-seconds", value, sizeof value))
            ans->status = 400;
        else
            strcpy (ans->body, IMDS_TOKEN);
    }
    else
    if (strncmp (req->path, "/latest/meta-data/iam/security-credentials/", 43) == 0) {
        s_st.imds_gets++;
        if (!ts_fix_header (req, "X-aws-ec2-metadata-token", value, sizeof value)
        ||  strcmp (value, IMDS_TOKEN) != 0)
            ans->status = 401;
        else
        if (s_st.fail)
            ans->status = 500;
        else
        if (req->path [43] == 0)
            strcpy (ans->body, "tscache-worker\n");
        else
        if (strcmp (req->path + 43, "tscache-worker") == 0)
            s_document (ans);
        else
            ans->status = 404;
    }
    else {
        //  The service: ExpiredTokenException first if asked, then 200.
        s_st.service_calls++;
        char auth [1024] = "";
        ts_fix_header (req, "Authorization", auth, sizeof auth);
        char *cred = strstr (auth, "Credential=");
        snprintf (s_st.service_key, sizeof s_st.service_key, "%.*s",
                  cred? (int) strcspn (cred + 11, "/"): 0, cred? cred + 11: "");
        if (s_st.expired_answers > 0) {
            s_st.expired_answers--;
            ans->status = 400;
            strcpy (ans->body, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                    "ExpiredTokenException\",\"message\":\"The security token included "
                    "in the request is expired\"}");
        }
        else
            strcpy (ans->body, "{}");
    }
    pthread_mutex_unlock (&s_st.lock);
}

static void
s_write (const char *name, const char *text)
{
    char path [128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen (path, "w");
    fputs (text, f);
    fclose (f);
}

static int
s_setup (void **state)
{
    memset (&s_st, 0, sizeof s_st);
    pthread_mutex_init (&s_st.lock, NULL);
    s_st.expires_in_ms = 3600 * 1000;
    strcpy (s_dir, "/tmp/test_ts_aws_creds_XXXXXX");
    if (!mkdtemp (s_dir))
        return -1;
    char path [128];
    snprintf (path, sizeof path, "%s/credentials", s_dir);
    setenv ("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf (path, sizeof path, "%s/config", s_dir);
    setenv ("AWS_CONFIG_FILE", path, 1);
    const char *unset [] = { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT" };
    for (size_t i = 0; i < sizeof unset / sizeof unset [0]; i++)
        unsetenv (unset [i]);
    setenv ("AWS_EC2_METADATA_DISABLED", "true", 1);
    s_fix = ts_fix_new (s_handler, NULL);
    return s_fix? 0: -1;
}

static int
s_teardown (void **state)
{
    ts_fix_destroy (&s_fix);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system (cmd) == 0? 0: -1;
}

static void
s_container (void)
{
    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/creds", ts_fix_port (s_fix));
    setenv ("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_AUTH, 1);
}

static void
s_imds (void)
{
    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/", ts_fix_port (s_fix));
    setenv ("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    unsetenv ("AWS_EC2_METADATA_DISABLED");
}

static void
environment_comes_first_and_needs_both_keys (void **state)
{
    s_write ("credentials", "[default]\naws_access_key_id = AKIDFILE\n"
             "aws_secret_access_key = file-secret\n");
    setenv ("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    char err [TS_ERRLEN] = "";
    ts_aws_creds_chain_t *chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_non_null (chain);
    ts_aws_creds_t c;
    assert_int_equal (ts_aws_creds_get (chain, ts_now_ms (), &c, err), 0);
    assert_string_equal (c.access_key_id, "AKIDFILE");
    ts_aws_creds_chain_destroy (&chain);
    setenv ("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    setenv ("AWS_SESSION_TOKEN", "env-token", 1);
    chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_int_equal (ts_aws_creds_get (chain, ts_now_ms (), &c, err), 0);
    assert_string_equal (c.access_key_id, "AKIDENV");
    assert_string_equal (c.secret_access_key, "env-secret");
    assert_string_equal (c.session_token, "env-token");
    assert_int_equal (c.expiration_ms, 0);
    assert_string_equal (ts_aws_creds_source (chain), "environment");
    assert_int_equal (ts_aws_creds_refresh (chain, err), TS_EAUTH);
    assert_non_null (strstr (err, "cannot be renewed"));
    ts_aws_creds_chain_destroy (&chain);
    assert_null (chain);
}

static void
shared_files_follow_the_profile_and_the_config_file (void **state)
{
    s_write ("credentials", "# comment\n[default]\naws_access_key_id=AKIDDEFAULT\n"
             "aws_secret_access_key=default-secret\n\n[work]\n"
             "aws_access_key_id = AKIDWORK \naws_secret_access_key = work-secret\n"
             "aws_session_token = work-token\n");
    s_write ("config", "[default]\nregion = eu-west-1\n[profile work]\n"
             "region = eu-north-1\n[profile cfgonly]\n; keys in config\n"
             "aws_access_key_id = AKIDCONFIG\naws_secret_access_key = config-secret\n"
             "[sso-session x]\nregion = us-east-2\n");
    char err [TS_ERRLEN] = "", region [64];
    ts_aws_creds_t c;
    ts_aws_creds_chain_t *chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_int_equal (ts_aws_creds_get (chain, ts_now_ms (), &c, err), 0);
    assert_string_equal (c.access_key_id, "AKIDDEFAULT");
    assert_string_equal (ts_aws_creds_source (chain), "shared files (profile default)");
    ts_aws_creds_chain_destroy (&chain);
    assert_true (ts_aws_creds_profile_region (region, sizeof region));
    assert_string_equal (region, "eu-west-1");

    setenv ("AWS_PROFILE", "work", 1);
    chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_int_equal (ts_aws_creds_get (chain, ts_now_ms (), &c, err), 0);
    assert_string_equal (c.access_key_id, "AKIDWORK");
    assert_string_equal (c.secret_access_key, "work-secret");
    assert_string_equal (c.session_token, "work-token");
    ts_aws_creds_chain_destroy (&chain);
    assert_true (ts_aws_creds_profile_region (region, sizeof region));
    assert_string_equal (region, "eu-north-1");

    setenv ("AWS_PROFILE", "cfgonly", 1);
    chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_int_equal (ts_aws_creds_get (chain, ts_now_ms (), &c, err), 0);
    assert_string_equal (c.access_key_id, "AKIDCONFIG");
    ts_aws_creds_chain_destroy (&chain);
    assert_false (ts_aws_creds_profile_region (region, sizeof region));

    setenv ("AWS_PROFILE", "missing", 1);
    assert_null (ts_aws_creds_chain_new ("t", 0, err));
    assert_non_null (strstr (err, "(profile missing)"));
}

static void
container_credentials_carry_the_authorization_token (void **state)
{
    s_container ();
    char err [TS_ERRLEN] = "";
    ts_aws_creds_t c;
    ts_aws_creds_chain_t *chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_non_null (chain);
    assert_int_equal (ts_aws_creds_get (chain, ts_now_ms (), &c, err), 0);
    assert_string_equal (c.access_key_id, "ASIAFETCH1");
    assert_string_equal (c.secret_access_key, "secret-key-1-SECRET");
    assert_string_equal (c.session_token, "session-token-1-SECRET");
    assert_true (c.expiration_ms > ts_now_ms () + 3500 * 1000);
    assert_string_equal (ts_aws_creds_source (chain), "container");
    assert_string_equal (s_st.auth, CONTAINER_AUTH);
    ts_aws_creds_chain_destroy (&chain);

    //  The token file wins over the variable.
    char path [128];
    snprintf (path, sizeof path, "%s/token", s_dir);
    s_write ("token", "wrong-token\n");
    setenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
    assert_null (ts_aws_creds_chain_new ("t", 0, err));
    assert_non_null (strstr (err, "HTTP 401"));
    s_write ("token", CONTAINER_AUTH "\n");
    chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_non_null (chain);
    ts_aws_creds_chain_destroy (&chain);

    setenv ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
    assert_null (ts_aws_creds_chain_new ("t", 0, err));
    assert_non_null (strstr (err, "neither https nor a loopback"));
}

static void
instance_metadata_asks_a_session_token_then_the_role (void **state)
{
    s_imds ();
    char err [TS_ERRLEN] = "";
    ts_aws_creds_t c;
    ts_aws_creds_chain_t *chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_non_null (chain);
    assert_int_equal (ts_aws_creds_get (chain, ts_now_ms (), &c, err), 0);
    assert_string_equal (c.access_key_id, "ASIAFETCH1");
    assert_string_equal (ts_aws_creds_source (chain), "instance metadata (role tscache-worker)");
    assert_int_equal (s_st.imds_puts, 1);
    assert_int_equal (s_st.imds_gets, 2);
    ts_aws_creds_chain_destroy (&chain);

    setenv ("AWS_EC2_METADATA_DISABLED", "true", 1);
    int requests = ts_fix_requests (s_fix);
    assert_null (ts_aws_creds_chain_new ("t", 0, err));
    assert_non_null (strstr (err, "instance metadata: disabled"));
    assert_int_equal (ts_fix_requests (s_fix), requests);
}

static void
temporary_credentials_are_fetched_again_before_they_expire (void **state)
{
    s_container ();
    char err [TS_ERRLEN] = "";
    ts_aws_creds_t c;
    ts_aws_creds_chain_t *chain = ts_aws_creds_chain_new ("t", 0, err);
    int64_t now = ts_now_ms ();
    assert_int_equal (ts_aws_creds_get (chain, now, &c, err), 0);
    assert_string_equal (c.access_key_id, "ASIAFETCH1");
    assert_int_equal (ts_aws_creds_fetches (chain), 1);
    //  54 minutes later: 6 minutes are left, no fetch.
    assert_int_equal (ts_aws_creds_get (chain, now + 54 * 60000, &c, err), 0);
    assert_string_equal (c.access_key_id, "ASIAFETCH1");
    //  56 minutes later: 4 minutes left, fetched again.
    assert_int_equal (ts_aws_creds_get (chain, now + 56 * 60000, &c, err), 0);
    assert_string_equal (c.access_key_id, "ASIAFETCH2");
    assert_string_equal (c.secret_access_key, "secret-key-2-SECRET");
    assert_int_equal (ts_aws_creds_fetches (chain), 2);
    ts_aws_creds_chain_destroy (&chain);

    //  A document that expires in 4 minutes is renewed at the next use.
    s_st.expires_in_ms = 4 * 60000;
    chain = ts_aws_creds_chain_new ("t", 0, err);
    assert_int_equal (ts_aws_creds_get (chain, ts_now_ms (), &c, err), 0);
    assert_int_equal (ts_aws_creds_fetches (chain), 2);
    ts_aws_creds_chain_destroy (&chain);
}

static void
a_failed_renewal_keeps_valid_credentials_until_they_expire (void **state)
{
    s_imds ();
    char err [TS_ERRLEN] = "";
    ts_aws_creds_t c;
    ts_aws_creds_chain_t *chain = ts_aws_creds_chain_new ("t", 0, err);
    int64_t now = ts_now_ms ();
    s_st.fail = true;
    assert_int_equal (ts_aws_creds_get (chain, now + 58 * 60000, &c, err), 0);
    assert_string_equal (c.access_key_id, "ASIAFETCH1");
    assert_int_equal (ts_aws_creds_get (chain, now + 61 * 60000, &c, err), TS_EAUTH);
    assert_non_null (strstr (err, "expired and not renewed"));
    assert_non_null (strstr (err, "HTTP 500"));
    s_st.fail = false;
    assert_int_equal (ts_aws_creds_get (chain, now + 61 * 60000, &c, err), 0);
    assert_string_equal (c.access_key_id, "ASIAFETCH2");
    ts_aws_creds_chain_destroy (&chain);
}

static void
an_expired_token_answer_makes_the_call_fetch_credentials_again (void **state)
{
    s_container ();
    char endpoint [64], err [TS_ERRLEN] = "";
    snprintf (endpoint, sizeof endpoint, "http://127.0.0.1:%d", ts_fix_port (s_fix));
    ts_aws_config_t cfg = { .service = "dynamodb", .region = "us-east-1",
                            .endpoint = endpoint, .what = "store.dynamodb",
                            .timeout_ms = 2000, .retries = 0 };
    ts_aws_t *aws = ts_aws_new (&cfg, err);
    assert_non_null (aws);
    s_st.expired_answers = 1;
    char *reply = NULL;
    assert_int_equal (ts_aws_call (aws, NULL, "DynamoDB_20120810.GetItem",
                                   "application/x-amz-json-1.0", "{}", 2, &reply,
                                   NULL, NULL, err), 0);
    free (reply);
    assert_int_equal (s_st.service_calls, 2);
    assert_int_equal (s_st.served, 2);
    assert_string_equal (s_st.service_key, "ASIAFETCH2");
    //  Twice in a row: fetched again once only, then the error.
    s_st.expired_answers = 2;
    assert_int_equal (ts_aws_call (aws, NULL, "DynamoDB_20120810.GetItem",
                                   "application/x-amz-json-1.0", "{}", 2, &reply,
                                   NULL, NULL, err), TS_EBACKEND);
    assert_non_null (strstr (err, "ExpiredTokenException"));
    assert_int_equal (s_st.served, 3);
    ts_aws_destroy (&aws);
}

//  Every log line and error of the chain, with every source, read back
//  from stderr: no secret, token or authorization token in any.
static void
no_secret_reaches_a_log_line_or_an_error (void **state)
{
    char path [128];
    snprintf (path, sizeof path, "%s/stderr", s_dir);
    int fd = open (path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    int saved = dup (2);
    dup2 (fd, 2);
    ts_log_set_level (TS_LOG_DEBUG);
    char errors [8 * TS_ERRLEN] = "";
    char err [TS_ERRLEN];
    ts_aws_creds_t c;

    s_container ();
    ts_aws_creds_chain_t *chain = ts_aws_creds_chain_new ("t", 0, err);
    ts_aws_creds_get (chain, ts_now_ms () + 58 * 60000, &c, err);
    s_st.fail = true;
    ts_aws_creds_refresh (chain, err);
    strcat (errors, err);
    ts_aws_creds_get (chain, ts_now_ms () + 200 * 60000, &c, err);
    strcat (errors, err);
    ts_aws_creds_chain_destroy (&chain);
    setenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "bad-" CONTAINER_AUTH, 1);
    s_st.fail = false;
    assert_null (ts_aws_creds_chain_new ("t", 0, err));
    strcat (errors, err);

    unsetenv ("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    s_imds ();
    chain = ts_aws_creds_chain_new ("t", 0, err);
    ts_aws_creds_get (chain, ts_now_ms () + 58 * 60000, &c, err);
    s_st.fail = true;
    ts_aws_creds_get (chain, ts_now_ms () + 200 * 60000, &c, err);
    strcat (errors, err);
    ts_aws_creds_chain_destroy (&chain);
    assert_null (ts_aws_creds_chain_new ("t", 0, err));
    strcat (errors, err);

    fflush (stderr);
    dup2 (saved, 2);
    close (saved);
    close (fd);
    ts_log_set_level (TS_LOG_INFO);
    char logs [16384] = "";
    FILE *f = fopen (path, "r");
    size_t n = fread (logs, 1, sizeof logs - 1, f);
    logs [n] = 0;
    fclose (f);
    print_message ("%s--- errors: %s\n", logs, errors);
    assert_non_null (strstr (logs, "AWS credentials renewed from container"));
    assert_non_null (strstr (logs, "cannot renew AWS credentials"));
    //  Every secret the fixture serves ends in -SECRET.
    assert_null (strstr (logs, "-SECRET"));
    assert_null (strstr (errors, "-SECRET"));
    assert_true (s_st.served >= 4);
}

//  The container's token goes only to https, loopback or the agents, by
//  the host libcurl connects to: not to a name or user info that merely
//  starts like one of them.
static void
container_token_goes_only_to_loopback_agents_or_https (void **state)
{
    const char *allowed [] = {
        "https://creds.example.com/v1", "HTTPS://creds.example.com/",
        "http://127.0.0.1/creds", "http://127.0.0.1:51679/creds",
        "http://127.10.20.30/", "http://localhost:8080/x", "http://LOCALHOST/",
        "http://[::1]:80/creds", "http://169.254.170.2/v2/credentials/x",
        "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1"
    };
    const char *refused [] = {
        "http://127.example.com/creds", "http://127.0.0.1.example.com/",
        "http://127.0.0.1@192.0.2.1/creds", "http://localhost@192.0.2.1/",
        "http://169.254.170.2@192.0.2.1/", "http://169.254.170.20/",
        "http://169.254.170.2.example.com/", "http://localhost.example.com/",
        "http://192.0.2.1/creds", "http://[::2]/", "http://[fd00:ec2::24]/",
        "ftp://127.0.0.1/", "file:///etc/passwd", "127.0.0.1/creds",
        "http:///creds", "", "http://"
    };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed [0]; i++)
        if (!ts_aws_creds_container_url_allowed (allowed [i]))
            fail_msg ("refused %s", allowed [i]);
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++)
        if (ts_aws_creds_container_url_allowed (refused [i]))
            fail_msg ("allowed %s", refused [i]);
    //  A relative URI is put after the ECS agent's address: user info
    //  there cannot move the host either.
    setenv ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "@192.0.2.1/creds", 1);
    char err [TS_ERRLEN] = "";
    assert_null (ts_aws_creds_chain_new ("t", 0, err));
    assert_non_null (strstr (err, "neither https nor a loopback"));
    unsetenv ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
}

//  A credentials document: its fields, a failure Code, a missing key, an
//  unreadable Expiration; no error text holds a secret.
static void
credentials_documents_are_read_or_refused_without_their_secrets (void **state)
{
    ts_aws_creds_t c;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_aws_creds_parse_document (
        "{\"Code\":\"Success\",\"AccessKeyId\":\"AKIDX\","
        "\"SecretAccessKey\":\"doc-SECRET\",\"Token\":\"tok-SECRET\","
        "\"Expiration\":\"2030-01-01T00:00:00Z\"}", &c, "t", err), 0);
    assert_string_equal (c.access_key_id, "AKIDX");
    assert_string_equal (c.secret_access_key, "doc-SECRET");
    assert_string_equal (c.session_token, "tok-SECRET");
    assert_int_equal (c.expiration_ms, 1893456000000LL);
    const char *bad [] = {
        "{\"Code\":\"Failure\",\"AccessKeyId\":\"A\","
        "\"SecretAccessKey\":\"doc-SECRET\"}",
        "{\"AccessKeyId\":\"A\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"doc-SECRET\","
        "\"Expiration\":\"doc-SECRET\"}",
        "[\"doc-SECRET\"]", "doc-SECRET", ""
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        err [0] = 0;
        assert_int_equal (ts_aws_creds_parse_document (bad [i], &c, "t", err),
                          TS_EAUTH);
        assert_true (err [0]);
        assert_null (strstr (err, "SECRET"));
    }
}

int
main (int argc, char *argv [])
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (environment_comes_first_and_needs_both_keys),
        T (shared_files_follow_the_profile_and_the_config_file),
        T (container_credentials_carry_the_authorization_token),
        T (instance_metadata_asks_a_session_token_then_the_role),
        T (temporary_credentials_are_fetched_again_before_they_expire),
        T (a_failed_renewal_keeps_valid_credentials_until_they_expire),
        T (an_expired_token_answer_makes_the_call_fetch_credentials_again),
        T (no_secret_reaches_a_log_line_or_an_error),
        T (container_token_goes_only_to_loopback_agents_or_https),
        T (credentials_documents_are_read_or_refused_without_their_secrets),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_aws_creds", tests, NULL, NULL);
}
