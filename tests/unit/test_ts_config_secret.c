/*  test_ts_config_secret - secrets named by the config and printing it
    (common/ts_config_secret.c): the API key from the environment first,
    then a trimmed file, the start-up check naming where the missing key
    was configured, errors that never show the secret, and
    ts_config_print (URLs in their display form, every key as YAML that
    loads back to the same config).

    Every TSCACHE_* variable is removed at start so
    the caller's environment cannot change results; tests that set one
    unset it before they end. Helpers in ts_config_fixture.h. */

#include "ts_config_fixture.h"

static void
config_secret_check_names_where_the_missing_key_was_configured (
    void **state)
{
    char err [TS_ERRLEN] = "";
    unsetenv ("TSCACHE_API_KEY");
    ts_config_t *cfg = s_load_ok ("gateway:\n  api_key_file: "
                                  "/nonexistent/key\n");
    assert_int_equal (ts_config_secret_check (cfg, "gateway", true, err),
                      TS_ECONFIG);
    assert_string_equal (err, "test.yaml:2: gateway.api_key_file: "
                         "/nonexistent/key: cannot read: No such file or "
                         "directory");
    ts_config_destroy (&cfg);

    cfg = s_load_ok ("gateway:\n  api_key_env: TSCACHE_TEST_UNSET\n");
    assert_int_equal (ts_config_secret_check (cfg, "gateway", true, err),
                      TS_ECONFIG);
    assert_string_equal (err, "test.yaml:2: gateway.api_key_env: no API key: "
                         "the variable TSCACHE_TEST_UNSET is unset or "
                         "empty, and gateway.api_key_file is not set");
    ts_config_destroy (&cfg);

    cfg = s_load_ok ("upstream:\n  api_key_file: " FIXTURES
                     "secret_blank.txt\n");
    assert_int_equal (ts_config_secret_check (cfg, "upstream", false, err),
                      TS_ECONFIG);
    assert_contains (err, "test.yaml:2: upstream.api_key_file: ");
    assert_contains (err, "secret_blank.txt holds no API key");
    ts_config_destroy (&cfg);
}

static void
config_secret_check_passes_a_readable_or_unneeded_key (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = s_load_ok ("gateway:\n  api_key_file: " FIXTURES
                                  "secret.txt\n");
    assert_int_equal (ts_config_secret_check (cfg, "gateway", true, err), 0);
    //  No upstream key configured, and none required.
    assert_int_equal (ts_config_secret_check (cfg, "upstream", false, err),
                      0);
    //  The key itself never reaches an error message.
    ts_config_destroy (&cfg);
    cfg = s_load_ok ("upstream:\n  api_key_env: TSCACHE_TEST_SECRET\n");
    setenv ("TSCACHE_TEST_SECRET", "s3cret", 1);
    int rc = ts_config_secret_check (cfg, "upstream", false, err);
    unsetenv ("TSCACHE_TEST_SECRET");
    assert_int_equal (rc, 0);
    ts_config_destroy (&cfg);
}

static void
config_secret_comes_from_env_first (void **state)
{
    char err [TS_ERRLEN] = "";
    char *secret = NULL;
    setenv ("TSCACHE_TEST_SECRET", "from-env", 1);
    int rc = ts_config_secret ("TSCACHE_TEST_SECRET", FIXTURES "secret.txt",
                               &secret, err);
    unsetenv ("TSCACHE_TEST_SECRET");
    assert_int_equal (rc, 0);
    assert_string_equal (secret, "from-env");
    free (secret);
}

static void
config_secret_falls_back_to_trimmed_file (void **state)
{
    char err [TS_ERRLEN] = "";
    char *secret = NULL;
    setenv ("TSCACHE_TEST_SECRET", "", 1);
    int rc = ts_config_secret ("TSCACHE_TEST_SECRET", FIXTURES "secret.txt",
                               &secret, err);
    unsetenv ("TSCACHE_TEST_SECRET");
    assert_int_equal (rc, 0);
    assert_string_equal (secret, "s3cret-token");
    free (secret);
    assert_int_equal (ts_config_secret (NULL, FIXTURES "secret.txt",
                                        &secret, err), 0);
    assert_string_equal (secret, "s3cret-token");
    free (secret);
}

static void
config_secret_missing_is_not_found (void **state)
{
    char err [TS_ERRLEN] = "";
    char *secret = (char *) "untouched";
    assert_int_equal (ts_config_secret ("TSCACHE_TEST_UNSET", "", &secret,
                                        err), TS_ENOTFOUND);
    assert_null (secret);
    assert_int_equal (ts_config_secret (NULL, NULL, &secret, err),
                      TS_ENOTFOUND);
    assert_int_equal (ts_config_secret ("", FIXTURES "secret_blank.txt",
                                        &secret, err), TS_ENOTFOUND);
    assert_null (secret);
}

static void
config_secret_unreadable_file_is_an_error (void **state)
{
    char err [TS_ERRLEN] = "";
    char *secret = NULL;
    assert_int_equal (ts_config_secret (NULL, FIXTURES "no-such-secret",
                                        &secret, err), TS_EINVAL);
    assert_null (secret);
    assert_string_equal (err, FIXTURES "no-such-secret: cannot read: "
                         "No such file or directory");
}

static void
config_secret_errors_never_show_the_secret (void **state)
{
    char path [] = "/tmp/tscache-test-secret-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    static const char data [] = "hunter2\0hunter2";
    assert_int_equal (write (fd, data, sizeof data - 1), sizeof data - 1);
    close (fd);
    char err [TS_ERRLEN] = "";
    char *secret = NULL;
    assert_int_equal (ts_config_secret (NULL, path, &secret, err), TS_EINVAL);
    assert_null (secret);
    assert_contains (err, "holds a NUL byte");
    assert_null (strstr (err, "hunter2"));
    unlink (path);
}

//  ---------------------------------------------------------------------
//  Printing

static void
config_print_shows_urls_in_their_display_form (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = s_load_ok ("upstream:\n  api_key_env: UP_KEY\n");
    assert_int_equal (ts_config_set (cfg, "upstream.url", "https://h/{id}"
                                     "?apikey=hunter2&k={api_key}", err), 0);
    char *text = s_print (cfg);
    assert_contains (text, "upstream.url: https://h/{id}?apikey=***"
                     "&k={api_key}\n");
    assert_null (strstr (text, "hunter2"));
    free (text);
    ts_config_destroy (&cfg);
}

static void
config_print_writes_every_key_as_yaml (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (FIXTURES "good.yaml", err);
    assert_non_null (cfg);
    char *text = s_print (cfg);
    assert_contains (text, "log.level: debug\n");
    assert_contains (text, "gateway.http_port: 0\n");
    assert_contains (text, "gateway.api_key_file: \"\"\n");
    assert_contains (text, "broker.schedule: 0 * * * *\n");
    assert_contains (text, "upstream.headers: [\"Accept: application/json\", "
                     "\"X-Client: tscache\"]\n");
    assert_contains (text, "upstream.format.measures: {temperature: "
                     "temperature_2m, humidity: relative_humidity_2m}\n");
    assert_contains (text, "store.lmdb.path: /tmp/tscache-test\n");
    free (text);
    ts_config_destroy (&cfg);
}

static void
config_show_same_and_adopt_serve_a_reload (void **state)
{
    ts_config_t *run = s_load_ok ("log:\n  level: info\nupstream:\n"
                                  "  headers: [\"A: 1\"]\n");
    ts_config_t *next = s_load_ok ("log:\n  level: debug\nupstream:\n"
                                   "  headers: [\"A: 1\", \"B: 2\"]\n"
                                   "  url: \"https://u:pw@h/{id}\"\n");
    char was [64], now [64];
    assert_false (ts_config_same (run, next, "log.level"));
    assert_false (ts_config_same (run, next, "upstream.headers"));
    assert_true (ts_config_same (run, next, "broker.schedule"));
    ts_config_show (run, "upstream.headers", was, sizeof was);
    ts_config_show (next, "upstream.headers", now, sizeof now);
    assert_string_equal (was, "[\"A: 1\"]");
    assert_string_equal (now, "[\"A: 1\", \"B: 2\"]");
    //  A URL shows in its display form; a long value is cut with "...".
    ts_config_show (next, "upstream.url", now, sizeof now);
    assert_null (strstr (now, "pw"));
    char tiny [8];
    ts_config_show (next, "upstream.headers", tiny, sizeof tiny);
    assert_string_equal (tiny, "[\"A:...");
    assert_int_equal (ts_config_adopt (run, next, "upstream.headers"), 0);
    assert_true (ts_config_same (run, next, "upstream.headers"));
    assert_false (ts_config_same (run, next, "log.level"));
    assert_int_equal (ts_config_list (run, "upstream.headers")->n, 2);
    ts_config_destroy (&next);
    //  The adopted value is the running config's own.
    assert_string_equal (ts_config_list (run, "upstream.headers")->items [1],
                         "B: 2");
    ts_config_destroy (&run);
}

static void
config_print_output_loads_back_to_the_same_config (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (FIXTURES "good.yaml", err);
    assert_non_null (cfg);
    assert_int_equal (ts_config_set (cfg, "upstream.format.measures",
                                     "a=x:y,b=#z", err), 0);
    assert_int_equal (ts_config_set (cfg, "store.lmdb.path",
                                     "- odd \"path\" \\ #1", err), 0);
    char *text = s_print (cfg);
    ts_config_t *copy = ts_config_load_text (text, "printed", err);
    if (!copy)
        fail_msg ("%s\n%s", err, text);
    char *copy_text = s_print (copy);
    assert_string_equal (copy_text, text);
    assert_string_equal (ts_config_str (copy, "store.lmdb.path"),
                         "- odd \"path\" \\ #1");
    free (text);
    free (copy_text);
    ts_config_destroy (&cfg);
    ts_config_destroy (&copy);
}

int
main (int argc, char *argv [])
{
    s_clear_env ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (config_secret_check_names_where_the_missing_key_was_configured),
        cmocka_unit_test (config_secret_check_passes_a_readable_or_unneeded_key),
        cmocka_unit_test (config_secret_comes_from_env_first),
        cmocka_unit_test (config_secret_falls_back_to_trimmed_file),
        cmocka_unit_test (config_secret_missing_is_not_found),
        cmocka_unit_test (config_secret_unreadable_file_is_an_error),
        cmocka_unit_test (config_secret_errors_never_show_the_secret),
        cmocka_unit_test (config_print_shows_urls_in_their_display_form),
        cmocka_unit_test (config_print_writes_every_key_as_yaml),
        cmocka_unit_test (config_print_output_loads_back_to_the_same_config),
        cmocka_unit_test (config_show_same_and_adopt_serve_a_reload),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_config_secret", tests, NULL, NULL);
}
