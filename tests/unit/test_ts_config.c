/*  test_ts_config - the configuration as a whole (common/ts_config.c):
    defaults without a file, the example file, environment overrides
    (and warnings about TSCACHE_* variables that are no key), where each
    value came from, and changing one key. The YAML reader is tested in
    test_ts_config_yaml.c, the rules of keys in test_ts_config_keys.c,
    secrets and printing in test_ts_config_secret.c.

    Every TSCACHE_* variable is removed at start so
    the caller's environment cannot change results; tests that set one
    unset it before they end. Helpers in ts_config_fixture.h. */

#include "ts_config_fixture.h"

static void
config_defaults_apply_without_a_file (void **state)
{
    char err [TS_ERRLEN];
    ts_config_t *cfg = ts_config_load (NULL, err);
    assert_non_null (cfg);
    assert_string_equal (ts_config_source (cfg), "(defaults)");
    assert_string_equal (ts_config_str (cfg, "log.level"), "info");
    assert_string_equal (ts_config_str (cfg, "store.backend"), "lmdb");
    assert_int_equal (ts_config_int (cfg, "store.forecast_ttl_s"), 604800);
    assert_string_equal (ts_config_str (cfg, "store.lmdb.path"), "./var/data");
    assert_string_equal (ts_config_str (cfg, "broker.schedule"),
                         "*/5 * * * *");
    assert_string_equal (ts_config_str (cfg, "broker.worker_bind"),
                         "tcp://127.0.0.1:5557");
    assert_int_equal (ts_config_int (cfg, "gateway.http_port"), 8080);
    assert_int_equal (ts_config_int (cfg, "gateway.max_points"), 1000000);
    assert_string_equal (ts_config_str (cfg, "gateway.api_key_env"),
                         "TSCACHE_API_KEY");
    assert_string_equal (ts_config_str (cfg, "gateway.api_key_file"), "");
    assert_string_equal (ts_config_str (cfg, "upstream.url"),
                         "http://127.0.0.1:8090/rows/{id}?from={from}&to={to}");
    assert_int_equal (ts_config_list (cfg, "upstream.headers")->n, 0);
    assert_int_equal (ts_config_int (cfg, "upstream.max_body_bytes"),
                      16777216);
    assert_string_equal (ts_config_str (cfg, "upstream.format.layout"),
                         "rows");
    assert_string_equal (ts_config_str (cfg, "upstream.format.path"), "");
    const ts_strlist_t *names, *values;
    ts_config_map (cfg, "upstream.format.measures", &names, &values);
    assert_int_equal (names->n, 1);
    assert_string_equal (names->items [0], "value");
    assert_string_equal (values->items [0], "value");
    ts_config_destroy (&cfg);
    assert_null (cfg);
    ts_config_destroy (&cfg);
}

static void
config_example_file_loads_to_the_defaults (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *example = ts_config_load ("config/tscache.example.yaml", err);
    if (!example)
        fail_msg ("%s", err);
    ts_config_t *defaults = ts_config_load (NULL, err);
    assert_non_null (defaults);
    char *example_text = s_print (example);
    char *defaults_text = s_print (defaults);
    assert_string_equal (example_text, defaults_text);
    free (example_text);
    free (defaults_text);
    ts_config_destroy (&example);
    ts_config_destroy (&defaults);
}

static void
config_env_overrides_file_values (void **state)
{
    setenv ("TSCACHE_GATEWAY_HTTP_PORT", "9090", 1);
    setenv ("TSCACHE_STORE_LMDB_PATH", "/srv/tscache", 1);
    setenv ("TSCACHE_UPSTREAM_HEADERS", "Accept: application/json, "
            "X-Client: tscache,,", 1);
    setenv ("TSCACHE_UPSTREAM_FORMAT_MEASURES", "temp = t2m, rh=rh2m", 1);
    setenv ("TSCACHE_BROKER_SCHEDULE", "", 1);
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (FIXTURES "good.yaml", err);
    unsetenv ("TSCACHE_GATEWAY_HTTP_PORT");
    unsetenv ("TSCACHE_STORE_LMDB_PATH");
    unsetenv ("TSCACHE_UPSTREAM_HEADERS");
    unsetenv ("TSCACHE_UPSTREAM_FORMAT_MEASURES");
    unsetenv ("TSCACHE_BROKER_SCHEDULE");
    if (!cfg)
        fail_msg ("%s", err);
    assert_int_equal (ts_config_int (cfg, "gateway.http_port"), 9090);
    assert_string_equal (ts_config_str (cfg, "store.lmdb.path"),
                         "/srv/tscache");
    assert_string_equal (ts_config_str (cfg, "broker.schedule"), "");
    const ts_strlist_t *headers = ts_config_list (cfg, "upstream.headers");
    assert_int_equal (headers->n, 2);
    assert_string_equal (headers->items [0], "Accept: application/json");
    assert_string_equal (headers->items [1], "X-Client: tscache");
    const ts_strlist_t *names, *values;
    ts_config_map (cfg, "upstream.format.measures", &names, &values);
    assert_int_equal (names->n, 2);
    assert_string_equal (names->items [0], "temp");
    assert_string_equal (values->items [0], "t2m");
    assert_string_equal (names->items [1], "rh");
    assert_string_equal (values->items [1], "rh2m");
    //  Untouched keys keep the file's values.
    assert_string_equal (ts_config_str (cfg, "log.level"), "debug");
    ts_config_destroy (&cfg);
}

static void
config_env_override_with_bad_value_names_the_variable (void **state)
{
    char err [TS_ERRLEN] = "";
    setenv ("TSCACHE_GATEWAY_HTTP_PORT", "80a", 1);
    assert_null (ts_config_load (NULL, err));
    unsetenv ("TSCACHE_GATEWAY_HTTP_PORT");
    assert_string_equal (err, "env TSCACHE_GATEWAY_HTTP_PORT: must be an "
                         "integer from 0 to 65535");

    setenv ("TSCACHE_UPSTREAM_FORMAT_MEASURES", "temp=t2m,rh", 1);
    assert_null (ts_config_load (NULL, err));
    unsetenv ("TSCACHE_UPSTREAM_FORMAT_MEASURES");
    assert_string_equal (err, "env TSCACHE_UPSTREAM_FORMAT_MEASURES: entry 2 "
                         "must look like name=field");

    setenv ("TSCACHE_LOG_LEVEL", "loud", 1);
    assert_null (ts_config_load_text ("log:\n  level: warn\n", "t.yaml",
                                      err));
    unsetenv ("TSCACHE_LOG_LEVEL");
    assert_contains (err, "env TSCACHE_LOG_LEVEL: must be one of:");
}

static void
config_ignores_unrelated_tscache_variables (void **state)
{
    setenv ("TSCACHE_API_KEY", "k1,k2", 1);
    setenv ("TSCACHE_NOT_A_KEY", "whatever", 1);
    setenv ("TSCACHE_", "x", 1);
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (NULL, err);
    unsetenv ("TSCACHE_API_KEY");
    unsetenv ("TSCACHE_NOT_A_KEY");
    unsetenv ("TSCACHE_");
    if (!cfg)
        fail_msg ("%s", err);
    assert_string_equal (ts_config_str (cfg, "gateway.api_key_env"),
                         "TSCACHE_API_KEY");
    ts_config_destroy (&cfg);
}

//  Joins the warnings of cfg into buf, one a line.
static const char *
s_warnings (const ts_config_t *cfg, char *buf, size_t size)
{
    const ts_strlist_t *warnings = ts_config_warnings (cfg);
    size_t len = 0;
    buf [0] = 0;
    for (size_t i = 0; i < warnings->n && len < size; i++)
        len += (size_t) snprintf (buf + len, size - len, "%s\n",
                                  warnings->items [i]);
    return buf;
}

static void
config_warns_about_a_tscache_variable_that_is_not_a_key (void **state)
{
    setenv ("TSCACHE_GATEWAY_HTTPPORT", "9090", 1);
    setenv ("TSCACHE_NOT_A_KEY", "whatever", 1);
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (NULL, err);
    unsetenv ("TSCACHE_GATEWAY_HTTPPORT");
    unsetenv ("TSCACHE_NOT_A_KEY");
    if (!cfg)
        fail_msg ("%s", err);
    char text [2048];
    s_warnings (cfg, text, sizeof text);
    assert_contains (text, "env TSCACHE_GATEWAY_HTTPPORT: not a config key, "
                     "ignored (did you mean TSCACHE_GATEWAY_HTTP_PORT?)");
    assert_contains (text, "env TSCACHE_NOT_A_KEY: not a config key");
    //  The misspelt override did not change the key.
    assert_int_equal (ts_config_int (cfg, "gateway.http_port"), 8080);
    ts_config_destroy (&cfg);
}

static void
config_does_not_warn_about_variables_tscache_reads (void **state)
{
    setenv ("TSCACHE_API_KEY", "k1", 1);
    setenv ("TSCACHE_CONFIG", "", 1);
    setenv ("TSCACHE_ENDPOINT", "tcp://127.0.0.1:1", 1);
    setenv ("TSCACHE_UPSTREAM_API_KEY_ENV", "TSCACHE_MY_UPSTREAM_KEY", 1);
    setenv ("TSCACHE_MY_UPSTREAM_KEY", "k2", 1);
    setenv ("TSCACHE_WORKER_CONCURRENCY", "4", 1);
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (NULL, err);
    unsetenv ("TSCACHE_API_KEY");
    unsetenv ("TSCACHE_CONFIG");
    unsetenv ("TSCACHE_ENDPOINT");
    unsetenv ("TSCACHE_UPSTREAM_API_KEY_ENV");
    unsetenv ("TSCACHE_MY_UPSTREAM_KEY");
    unsetenv ("TSCACHE_WORKER_CONCURRENCY");
    if (!cfg)
        fail_msg ("%s", err);
    char text [2048];
    assert_string_equal (s_warnings (cfg, text, sizeof text), "");
    ts_config_destroy (&cfg);
}

static void
config_where_names_the_line_the_variable_or_the_default (void **state)
{
    ts_config_t *cfg = s_load_ok ("log:\n  level: warn\n"
                                  "gateway:\n  http_port: 9000\n");
    char where [TS_ERRLEN];
    ts_config_where (cfg, "gateway.http_port", where, sizeof where);
    assert_string_equal (where, "test.yaml:4: gateway.http_port");
    ts_config_where (cfg, "gateway.zmq_bind", where, sizeof where);
    assert_string_equal (where, "test.yaml: gateway.zmq_bind (default)");
    ts_config_destroy (&cfg);

    setenv ("TSCACHE_GATEWAY_HTTP_PORT", "9001", 1);
    char err [TS_ERRLEN] = "";
    cfg = ts_config_load_text ("gateway:\n  http_port: 9000\n", "t.yaml",
                               err);
    unsetenv ("TSCACHE_GATEWAY_HTTP_PORT");
    if (!cfg)
        fail_msg ("%s", err);
    ts_config_where (cfg, "gateway.http_port", where, sizeof where);
    assert_string_equal (where, "env TSCACHE_GATEWAY_HTTP_PORT: "
                         "gateway.http_port");
    ts_config_destroy (&cfg);
}

static void
config_set_changes_one_key_after_checking_it (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = s_load_ok ("");
    assert_int_equal (ts_config_set (cfg, "worker.concurrency", "4", err), 0);
    assert_int_equal (ts_config_int (cfg, "worker.concurrency"), 4);
    assert_int_equal (ts_config_set (cfg, "upstream.headers",
                                     "A: 1,B: 2", err), 0);
    assert_int_equal (ts_config_list (cfg, "upstream.headers")->n, 2);
    assert_int_equal (ts_config_set (cfg, "worker.concurrency", "5000", err),
                      TS_ECONFIG);
    assert_string_equal (err, "worker.concurrency: must be an integer from 1 "
                         "to 1024");
    assert_int_equal (ts_config_int (cfg, "worker.concurrency"), 4);
    assert_int_equal (ts_config_set (cfg, "no.such.key", "1", err),
                      TS_ECONFIG);
    assert_string_equal (err, "no.such.key: unknown key");
    assert_int_equal (ts_config_set (cfg, "upstream.url", "http://x/", err),
                      TS_ECONFIG);
    assert_string_equal (err, "upstream.url: must contain {id}");
    assert_int_equal (ts_config_set (cfg, "upstream.format.measures",
                                     "bad name=x", err), TS_ECONFIG);
    assert_contains (err, "measure name \"bad name\"");
    ts_config_destroy (&cfg);
}

int
main (int argc, char *argv [])
{
    s_clear_env ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (config_defaults_apply_without_a_file),
        cmocka_unit_test (config_example_file_loads_to_the_defaults),
        cmocka_unit_test (config_env_overrides_file_values),
        cmocka_unit_test (config_env_override_with_bad_value_names_the_variable),
        cmocka_unit_test (config_ignores_unrelated_tscache_variables),
        cmocka_unit_test (config_warns_about_a_tscache_variable_that_is_not_a_key),
        cmocka_unit_test (config_does_not_warn_about_variables_tscache_reads),
        cmocka_unit_test (config_where_names_the_line_the_variable_or_the_default),
        cmocka_unit_test (config_set_changes_one_key_after_checking_it),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_config", tests, NULL, NULL);
}
