/*  test_ts_config - YAML loading, validation errors, environment
    overrides and secrets.

    Run from the repository root: fixtures are read from tests/data/config/
    and the example from config/tscache.example.yaml. Every TSCACHE_*
    variable is removed at start so the caller's environment cannot change
    results; tests that set one unset it before they end. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_config.h"

#define FIXTURES "tests/data/config/"

extern char **environ;

//  Loads text that must be accepted.
static ts_config_t *
s_load_ok (const char *text)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (text, "test.yaml", err);
    if (!cfg)
        fail_msg ("unexpected error: %s", err);
    return cfg;
}

//  Loads text that must be rejected; returns the message in err.
static const char *
s_load_fails (const char *text, char *err)
{
    err [0] = '\0';
    ts_config_t *cfg = ts_config_load_text (text, "test.yaml", err);
    if (cfg) {
        ts_config_destroy (&cfg);
        fail_msg ("accepted: %s", text);
    }
    assert_true (strlen (err) > 0);
    return err;
}

#define assert_contains(haystack, needle) do { \
    const char *h_ = (haystack); \
    if (!strstr (h_, (needle))) \
        fail_msg ("\"%s\" does not contain \"%s\"", h_, (needle)); \
} while (0)

//  Runs ts_config_print and returns its output (caller frees).
static char *
s_print (const ts_config_t *cfg)
{
    fflush (stdout);
    FILE *tmp = tmpfile ();
    assert_non_null (tmp);
    int saved = dup (STDOUT_FILENO);
    assert_true (saved >= 0);
    assert_true (dup2 (fileno (tmp), STDOUT_FILENO) >= 0);
    ts_config_print (cfg);
    fflush (stdout);
    assert_true (dup2 (saved, STDOUT_FILENO) >= 0);
    close (saved);
    long size = ftell (tmp);
    assert_true (size > 0);
    char *text = calloc (1, (size_t) size + 1);
    assert_non_null (text);
    rewind (tmp);
    assert_int_equal (fread (text, 1, (size_t) size, tmp), (size_t) size);
    fclose (tmp);
    return text;
}

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
config_file_sets_nested_keys_lists_and_maps (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (FIXTURES "good.yaml", err);
    if (!cfg)
        fail_msg ("%s", err);
    assert_string_equal (ts_config_source (cfg), FIXTURES "good.yaml");
    assert_string_equal (ts_config_str (cfg, "log.level"), "debug");
    assert_int_equal (ts_config_int (cfg, "store.forecast_ttl_s"), 3600);
    assert_string_equal (ts_config_str (cfg, "store.lmdb.path"),
                         "/tmp/tscache-test");
    assert_int_equal (ts_config_int (cfg, "store.lmdb.map_size_mb"), 4096);
    assert_string_equal (ts_config_str (cfg, "broker.schedule"), "0 * * * *");
    assert_int_equal (ts_config_int (cfg, "broker.ids_per_job"), 10);
    assert_int_equal (ts_config_int (cfg, "gateway.http_port"), 0);
    assert_string_equal (ts_config_str (cfg, "gateway.api_key_file"), "");
    const ts_strlist_t *headers = ts_config_list (cfg, "upstream.headers");
    assert_int_equal (headers->n, 2);
    assert_string_equal (headers->items [0], "Accept: application/json");
    assert_string_equal (headers->items [1], "X-Client: tscache");
    assert_string_equal (ts_config_str (cfg, "upstream.format.layout"),
                         "columns");
    assert_string_equal (ts_config_str (cfg, "upstream.format.path"),
                         "hourly");
    const ts_strlist_t *names, *values;
    ts_config_map (cfg, "upstream.format.measures", &names, &values);
    assert_int_equal (names->n, 2);
    assert_string_equal (names->items [0], "temperature");
    assert_string_equal (values->items [0], "temperature_2m");
    assert_string_equal (names->items [1], "humidity");
    assert_string_equal (values->items [1], "relative_humidity_2m");
    ts_config_destroy (&cfg);
}

static void
config_accepts_dotted_keys_and_empty_files (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (FIXTURES "dotted.yaml", err);
    if (!cfg)
        fail_msg ("%s", err);
    assert_int_equal (ts_config_int (cfg, "gateway.http_port"), 9090);
    const ts_strlist_t *names, *values;
    ts_config_map (cfg, "upstream.format.measures", &names, &values);
    assert_int_equal (names->n, 2);
    assert_string_equal (values->items [1], "y");
    ts_config_destroy (&cfg);

    cfg = ts_config_load (FIXTURES "empty.yaml", err);
    assert_non_null (cfg);
    assert_int_equal (ts_config_int (cfg, "gateway.http_port"), 8080);
    ts_config_destroy (&cfg);

    cfg = s_load_ok ("");
    ts_config_destroy (&cfg);
    cfg = s_load_ok ("gateway:\n");
    ts_config_destroy (&cfg);
}

static void
config_null_or_empty_string_value_means_empty (void **state)
{
    ts_config_t *cfg = s_load_ok ("upstream:\n"
                                  "  api_key_env:\n"
                                  "  api_key_file: ~\n"
                                  "  format:\n"
                                  "    path: ''\n"
                                  "    time_field: \"null\"\n"
                                  "  headers:\n");
    assert_string_equal (ts_config_str (cfg, "upstream.api_key_env"), "");
    assert_string_equal (ts_config_str (cfg, "upstream.api_key_file"), "");
    assert_string_equal (ts_config_str (cfg, "upstream.format.path"), "");
    //  A quoted "null" is a string.
    assert_string_equal (ts_config_str (cfg, "upstream.format.time_field"),
                         "null");
    assert_int_equal (ts_config_list (cfg, "upstream.headers")->n, 0);
    ts_config_destroy (&cfg);
}

static void
config_rejects_unknown_key_naming_file_line_and_key (void **state)
{
    char err [TS_ERRLEN] = "";
    assert_null (ts_config_load (FIXTURES "bad_unknown_key.yaml", err));
    assert_string_equal (err, FIXTURES "bad_unknown_key.yaml:4: "
                         "gateway.htp_threads: unknown key");
    assert_string_equal (s_load_fails ("\n\nfoo: 1\n", err),
                         "test.yaml:3: foo: unknown key");
    assert_string_equal (s_load_fails ("gateway:\n  http_port:\n"
                                       "    nested: 1\n", err),
                         "test.yaml:2: gateway.http_port: must be an "
                         "integer from 0 to 65535");
    assert_string_equal (s_load_fails ("store:\n  lmdb:\n    size: 1\n",
                                       err),
                         "test.yaml:3: store.lmdb.size: unknown key");
}

static void
config_rejects_out_of_range_or_non_integer_values (void **state)
{
    char err [TS_ERRLEN] = "";
    assert_null (ts_config_load (FIXTURES "bad_range.yaml", err));
    assert_string_equal (err, FIXTURES "bad_range.yaml:3: gateway.http_port: "
                         "must be an integer from 0 to 65535");
    assert_string_equal (s_load_fails ("worker:\n  concurrency: 0\n", err),
                         "test.yaml:2: worker.concurrency: must be an "
                         "integer from 1 to 1024");
    assert_contains (s_load_fails ("worker:\n  concurrency: many\n", err),
                     "test.yaml:2: worker.concurrency: must be an integer");
    assert_contains (s_load_fails ("worker:\n  concurrency: 1.5\n", err),
                     "test.yaml:2: worker.concurrency: must be an integer");
    assert_contains (s_load_fails ("worker:\n  concurrency:\n", err),
                     "test.yaml:2: worker.concurrency: must be an integer");
    assert_contains (s_load_fails ("worker:\n  concurrency: [1]\n", err),
                     "test.yaml:2: worker.concurrency: must be an integer");
    assert_contains (s_load_fails ("upstream:\n  past_s: "
                                   "99999999999999999999999\n", err),
                     "test.yaml:2: upstream.past_s: must be an integer "
                     "from 0 to");
    assert_contains (s_load_fails ("upstream:\n  timeout_ms: -5\n", err),
                     "test.yaml:2: upstream.timeout_ms: must be an integer");
    ts_config_t *cfg = s_load_ok ("gateway:\n  http_port: '65535'\n");
    assert_int_equal (ts_config_int (cfg, "gateway.http_port"), 65535);
    ts_config_destroy (&cfg);
}

static void
config_rejects_value_not_in_enum_listing_the_choices (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("log:\n  level: verbose\n", err),
                         "test.yaml:2: log.level: must be one of: error, "
                         "warn, info, debug");
    assert_string_equal (s_load_fails ("store:\n  backend: redis\n", err),
                         "test.yaml:2: store.backend: must be one of: lmdb");
    assert_contains (s_load_fails ("upstream:\n  format:\n    layout: "
                                   "table\n", err),
                     "test.yaml:3: upstream.format.layout: must be one of: "
                     "rows, columns");
    assert_contains (s_load_fails ("upstream:\n  time_param:\n", err),
                     "upstream.time_param: must be one of: ms, s, iso8601");
}

static void
config_rejects_unknown_backend_of_a_role_naming_file_line_and_key (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("store:\n  history:\n    backend: "
                                       "nosuch\n", err),
                         "test.yaml:3: store.history.backend: must be one "
                         "of: \"\", lmdb");
    assert_string_equal (s_load_fails ("log:\n  level: info\nstore:\n"
                                       "  registry:\n    backend: redis\n",
                                       err),
                         "test.yaml:5: store.registry.backend: must be one "
                         "of: \"\", lmdb");
    setenv ("TSCACHE_STORE_FORECAST_BACKEND", "nosuch", 1);
    assert_null (ts_config_load_text ("", "test.yaml", err));
    unsetenv ("TSCACHE_STORE_FORECAST_BACKEND");
    assert_contains (err, "env TSCACHE_STORE_FORECAST_BACKEND: must be one "
                     "of: \"\", lmdb");
    //  "" (the default) means store.backend's; a role may name one.
    ts_config_t *cfg = s_load_ok ("store:\n  forecast_ttl_s: 60\n"
                                  "  forecast:\n    backend: lmdb\n"
                                  "  history:\n    backend: \"\"\n");
    assert_string_equal (ts_config_str (cfg, "store.forecast.backend"),
                         "lmdb");
    assert_string_equal (ts_config_str (cfg, "store.history.backend"), "");
    assert_string_equal (ts_config_str (cfg, "store.registry.backend"), "");
    assert_int_equal (ts_config_int (cfg, "store.forecast_ttl_s"), 60);
    ts_config_destroy (&cfg);
}

static void
config_checks_the_cron_schedule (void **state)
{
    char err [TS_ERRLEN] = "";
    assert_null (ts_config_load (FIXTURES "bad_cron.yaml", err));
    assert_string_equal (err, FIXTURES "bad_cron.yaml:2: broker.schedule: "
                         "field 2 (hour): 24 out of 0-23");
    assert_contains (s_load_fails ("broker:\n  schedule: every hour\n", err),
                     "test.yaml:2: broker.schedule: expected 5 fields");
    ts_config_t *cfg = s_load_ok ("broker:\n  schedule: \"\"\n");
    assert_string_equal (ts_config_str (cfg, "broker.schedule"), "");
    ts_config_destroy (&cfg);
    cfg = s_load_ok ("broker:\n  schedule: off\n");
    assert_string_equal (ts_config_str (cfg, "broker.schedule"), "off");
    ts_config_destroy (&cfg);
    cfg = s_load_ok ("broker:\n  schedule:\n");
    assert_string_equal (ts_config_str (cfg, "broker.schedule"), "");
    ts_config_destroy (&cfg);
}

static void
config_rejects_endpoint_without_zeromq_scheme (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("broker:\n  worker_bind: "
                                       "127.0.0.1:5557\n", err),
                         "test.yaml:2: broker.worker_bind: must be a ZeroMQ "
                         "endpoint (tcp://, ipc:// or inproc://)");
    assert_contains (s_load_fails ("cli:\n  endpoint: tcp://\n", err),
                     "test.yaml:2: cli.endpoint: must be a ZeroMQ endpoint");
    ts_config_t *cfg = s_load_ok ("broker:\n"
                                  "  worker_bind: ipc:///tmp/w.sock\n"
                                  "  control_bind: inproc://control\n");
    ts_config_destroy (&cfg);
}

static void
config_rejects_upstream_url_without_id (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("upstream:\n  url: "
                                       "http://x/rows?from={from}\n", err),
                         "test.yaml:2: upstream.url: must contain {id}");
}

static void
config_rejects_malformed_header_without_echoing_it (void **state)
{
    char err [TS_ERRLEN];
    s_load_fails ("upstream:\n  headers:\n    - \"Accept: text/json\"\n"
                  "    - \"Authorization Bearer hunter2\"\n", err);
    assert_contains (err, "test.yaml:4: upstream.headers: entry 2 must "
                     "look like \"Name: value\"");
    assert_null (strstr (err, "hunter2"));
    assert_contains (s_load_fails ("upstream:\n  headers:\n"
                                   "    - \": no name\"\n", err),
                     "upstream.headers: entry 1");
    assert_contains (s_load_fails ("upstream:\n  headers: \"A: b\"\n", err),
                     "test.yaml:2: upstream.headers: must be a list");
    assert_contains (s_load_fails ("upstream:\n  headers:\n"
                                   "    - {a: b}\n", err),
                     "test.yaml:3: upstream.headers: must be a list");
}

static void
config_rejects_a_credential_written_into_a_header (void **state)
{
    char err [TS_ERRLEN];
    s_load_fails ("upstream:\n  headers:\n    - \"Accept: text/json\"\n"
                  "    - \"Authorization: Bearer hunter2\"\n", err);
    assert_contains (err, "test.yaml:4: upstream.headers: entry 2: "
                     "Authorization carries a credential");
    assert_contains (err, "{api_key}");
    assert_null (strstr (err, "hunter2"));
    assert_contains (s_load_fails ("upstream:\n  headers:\n"
                                   "    - \"X-Api-Key: hunter2\"\n", err),
                     "entry 1: X-Api-Key carries a credential");
    setenv ("TSCACHE_UPSTREAM_HEADERS", "Cookie: s=hunter2", 1);
    assert_contains (s_load_fails ("", err), "env TSCACHE_UPSTREAM_HEADERS: "
                     "entry 1: Cookie carries a credential");
    assert_null (strstr (err, "hunter2"));
    unsetenv ("TSCACHE_UPSTREAM_HEADERS");
    //  From {api_key}, with a key source, it is fine.
    ts_config_t *cfg = s_load_ok ("upstream:\n  api_key_env: UP_KEY\n"
                                  "  headers:\n"
                                  "    - \"Authorization: Bearer {api_key}\"\n");
    ts_config_destroy (&cfg);
}

static void
config_api_key_placeholder_needs_a_key_source (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("log:\n  level: info\nupstream:\n"
                                       "  url: \"http://h/{id}?k={api_key}\"\n",
                                       err),
                         "test.yaml:4: upstream.url: {api_key} needs the "
                         "upstream API key: set upstream.api_key_env or "
                         "upstream.api_key_file");
    assert_contains (s_load_fails ("upstream:\n  headers:\n"
                                   "    - \"Authorization: Bearer {api_key}\"\n",
                                   err),
                     "test.yaml:2: upstream.headers: {api_key} needs");
    setenv ("TSCACHE_UPSTREAM_URL", "http://h/{id}?k={api_key}", 1);
    assert_contains (s_load_fails ("", err),
                     "env TSCACHE_UPSTREAM_URL: upstream.url: {api_key} needs");
    //  Either source will do, from the file or the environment.
    setenv ("TSCACHE_UPSTREAM_API_KEY_FILE", "/run/secrets/up", 1);
    ts_config_t *cfg = s_load_ok ("");
    ts_config_destroy (&cfg);
    unsetenv ("TSCACHE_UPSTREAM_API_KEY_FILE");
    cfg = s_load_ok ("upstream:\n  api_key_env: UP_KEY\n");
    assert_string_equal (ts_config_str (cfg, "upstream.url"),
                         "http://h/{id}?k={api_key}");
    ts_config_destroy (&cfg);
    unsetenv ("TSCACHE_UPSTREAM_URL");
}

static void
config_rejects_an_api_key_header_that_is_no_header_name (void **state)
{
    char err [TS_ERRLEN];
    assert_contains (s_load_fails ("upstream:\n  api_key_header: \"\"\n",
                                   err),
                     "test.yaml:2: upstream.api_key_header: must be a header "
                     "name");
    assert_contains (s_load_fails ("upstream:\n  api_key_header: "
                                   "\"x-key: y\"\n", err),
                     "upstream.api_key_header: must be a header name");
}

static void
config_rejects_invalid_measure_names (void **state)
{
    char err [TS_ERRLEN] = "";
    assert_null (ts_config_load (FIXTURES "bad_measure.yaml", err));
    assert_contains (err, FIXTURES "bad_measure.yaml:5: "
                     "upstream.format.measures: measure name \"bad name\"");
    assert_contains (s_load_fails ("upstream:\n  format:\n    measures: {}\n",
                                   err),
                     "upstream.format.measures: must name at least one");
    assert_contains (s_load_fails ("upstream:\n  format:\n    measures:\n"
                                   "      a: x\n      b: [1]\n", err),
                     "test.yaml:5: upstream.format.measures: must be a "
                     "mapping");
    assert_contains (s_load_fails ("upstream:\n  format:\n    measures: "
                                   "value\n", err),
                     "test.yaml:3: upstream.format.measures: must be a "
                     "mapping");
}

//  Loads gateway.seed_path_prefix: value; returns the config or NULL with
//  the reason in err.
static ts_config_t *
s_load_prefix (const char *value, char *err)
{
    char text [128];
    snprintf (text, sizeof text, "gateway:\n  seed_path_prefix: %s\n",
              value);
    return ts_config_load_text (text, "test.yaml", err);
}

static void
config_checks_the_seed_path_prefix (void **state)
{
    char err [TS_ERRLEN];
    const char *good [] = { "\"\"", "/prod", "/v2/stage_1", "/a.b~c/v1",
                            "/timeSeries-data2" };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        ts_config_t *cfg = s_load_prefix (good [i], err);
        if (!cfg)
            fail_msg ("%s: %s", good [i], err);
        ts_config_destroy (&cfg);
    }
    assert_null (s_load_prefix ("prod", err));
    assert_string_equal (err, "test.yaml:2: gateway.seed_path_prefix: must "
                         "be \"\" or start with '/', not end with '/', and "
                         "be at most 256 characters (e.g. /prod)");
    assert_null (s_load_prefix ("/", err));
    assert_contains (err, "gateway.seed_path_prefix: must be");
    assert_null (s_load_prefix ("/prod/", err));
    assert_contains (err, "gateway.seed_path_prefix: must be");
    const char *segments [] = { "/a//b", "/a/./b", "/..", "/a%2Fb",
                                "\"/a b\"", "/a?b", "/a#b", "\"/a\\\\b\"" };
    for (size_t i = 0; i < sizeof segments / sizeof segments [0]; i++) {
        assert_null (s_load_prefix (segments [i], err));
        assert_contains (err, "test.yaml:2: gateway.seed_path_prefix: "
                         "segment ");
    }
    assert_null (s_load_prefix ("/v1/x", err));
    assert_string_equal (err, "test.yaml:2: gateway.seed_path_prefix: /v1 "
                         "is a route of the gateway; choose another prefix");
    assert_null (s_load_prefix ("/healthz", err));
    assert_contains (err, "/healthz is a route");
    assert_null (s_load_prefix ("/timeSeries-data", err));
    assert_contains (err, "/timeSeries-data is a route");
    char long_prefix [300];
    memset (long_prefix, 'a', sizeof long_prefix - 1);
    long_prefix [0] = '/';
    long_prefix [sizeof long_prefix - 1] = 0;
    setenv ("TSCACHE_GATEWAY_SEED_PATH_PREFIX", long_prefix, 1);
    assert_null (ts_config_load_text ("", "test.yaml", err));
    unsetenv ("TSCACHE_GATEWAY_SEED_PATH_PREFIX");
    assert_contains (err, "env TSCACHE_GATEWAY_SEED_PATH_PREFIX: must be");
}

static void
config_rejects_duplicate_keys (void **state)
{
    char err [TS_ERRLEN] = "";
    assert_null (ts_config_load (FIXTURES "bad_duplicate.yaml", err));
    assert_string_equal (err, FIXTURES "bad_duplicate.yaml:4: "
                         "broker.ids_per_job: duplicate key");
    assert_string_equal (s_load_fails ("broker:\n  ids_per_job: 2\n"
                                       "broker:\n  max_receives: 2\n", err),
                         "test.yaml:3: broker: duplicate key");
    assert_string_equal (s_load_fails ("broker:\n  ids_per_job: 2\n"
                                       "broker.ids_per_job: 3\n", err),
                         "test.yaml:3: broker.ids_per_job: duplicate key");
    assert_contains (s_load_fails ("upstream:\n  format:\n    measures:\n"
                                   "      a: x\n      a: y\n", err),
                     "upstream.format.measures: duplicate name \"a\"");
}

static void
config_reports_yaml_syntax_errors_with_line (void **state)
{
    char err [TS_ERRLEN] = "";
    assert_null (ts_config_load (FIXTURES "bad_syntax.yaml", err));
    assert_contains (err, FIXTURES "bad_syntax.yaml:");
    assert_contains (err, ": syntax error: ");
    assert_contains (s_load_fails ("a: b: c\n", err),
                     "test.yaml:1: syntax error: mapping values are not "
                     "allowed");
    assert_contains (s_load_fails ("log:\n  level: [info\n", err),
                     "syntax error");
}

static void
config_rejects_wrong_shapes_of_document (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("- a\n- b\n", err),
                         "test.yaml:1: top level must be a mapping of keys");
    assert_string_equal (s_load_fails ("\ngateway: 8080\n", err),
                         "test.yaml:2: gateway: must be a mapping (a section "
                         "of keys)");
    assert_contains (s_load_fails ("log:\n  level: info\n---\nlog:\n"
                                   "  level: warn\n", err),
                     "only one YAML document");
    assert_contains (s_load_fails ("? [a, b]\n: c\n", err),
                     "test.yaml:1: keys must be plain names");
}

static void
config_reports_unreadable_file (void **state)
{
    char err [TS_ERRLEN] = "";
    assert_null (ts_config_load (FIXTURES "no-such-file.yaml", err));
    assert_string_equal (err, FIXTURES "no-such-file.yaml: cannot read: "
                         "No such file or directory");
    assert_null (ts_config_load (FIXTURES, err));
    assert_contains (err, FIXTURES ": cannot read: ");
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
    //  Start from an environment without overrides.
    for (bool again = true; again; ) {
        again = false;
        for (char **var = environ; *var; var++)
            if (strncmp (*var, "TSCACHE_", 8) == 0) {
                char name [256];
                size_t len = strcspn (*var, "=");
                snprintf (name, sizeof name, "%.*s", (int) len, *var);
                unsetenv (name);
                again = true;
                break;
            }
    }
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (config_defaults_apply_without_a_file),
        cmocka_unit_test (config_example_file_loads_to_the_defaults),
        cmocka_unit_test (config_file_sets_nested_keys_lists_and_maps),
        cmocka_unit_test (config_accepts_dotted_keys_and_empty_files),
        cmocka_unit_test (config_null_or_empty_string_value_means_empty),
        cmocka_unit_test (config_rejects_unknown_key_naming_file_line_and_key),
        cmocka_unit_test (config_rejects_out_of_range_or_non_integer_values),
        cmocka_unit_test (config_rejects_value_not_in_enum_listing_the_choices),
        cmocka_unit_test (config_rejects_unknown_backend_of_a_role_naming_file_line_and_key),
        cmocka_unit_test (config_checks_the_cron_schedule),
        cmocka_unit_test (config_rejects_endpoint_without_zeromq_scheme),
        cmocka_unit_test (config_rejects_upstream_url_without_id),
        cmocka_unit_test (config_rejects_malformed_header_without_echoing_it),
        cmocka_unit_test (config_rejects_a_credential_written_into_a_header),
        cmocka_unit_test (config_api_key_placeholder_needs_a_key_source),
        cmocka_unit_test (config_rejects_an_api_key_header_that_is_no_header_name),
        cmocka_unit_test (config_rejects_invalid_measure_names),
        cmocka_unit_test (config_checks_the_seed_path_prefix),
        cmocka_unit_test (config_rejects_duplicate_keys),
        cmocka_unit_test (config_reports_yaml_syntax_errors_with_line),
        cmocka_unit_test (config_rejects_wrong_shapes_of_document),
        cmocka_unit_test (config_reports_unreadable_file),
        cmocka_unit_test (config_env_overrides_file_values),
        cmocka_unit_test (config_env_override_with_bad_value_names_the_variable),
        cmocka_unit_test (config_ignores_unrelated_tscache_variables),
        cmocka_unit_test (config_warns_about_a_tscache_variable_that_is_not_a_key),
        cmocka_unit_test (config_does_not_warn_about_variables_tscache_reads),
        cmocka_unit_test (config_where_names_the_line_the_variable_or_the_default),
        cmocka_unit_test (config_secret_check_names_where_the_missing_key_was_configured),
        cmocka_unit_test (config_secret_check_passes_a_readable_or_unneeded_key),
        cmocka_unit_test (config_set_changes_one_key_after_checking_it),
        cmocka_unit_test (config_secret_comes_from_env_first),
        cmocka_unit_test (config_secret_falls_back_to_trimmed_file),
        cmocka_unit_test (config_secret_missing_is_not_found),
        cmocka_unit_test (config_secret_unreadable_file_is_an_error),
        cmocka_unit_test (config_secret_errors_never_show_the_secret),
        cmocka_unit_test (config_print_shows_urls_in_their_display_form),
        cmocka_unit_test (config_print_writes_every_key_as_yaml),
        cmocka_unit_test (config_print_output_loads_back_to_the_same_config),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_config", tests, NULL, NULL);
}
