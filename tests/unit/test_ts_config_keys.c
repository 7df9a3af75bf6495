/*  test_ts_config_keys - the key table and the rules of a value
    (common/ts_config_keys.c): integer bounds, enums, the cron schedule,
    ZeroMQ endpoints, the upstream URL and headers (no credential written
    in, {api_key} needs a key source), measure names and the seed's path
    prefix.

    Every TSCACHE_* variable is removed at start so
    the caller's environment cannot change results; tests that set one
    unset it before they end. Helpers in ts_config_fixture.h. */

#include "ts_config_fixture.h"

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

//  A config the loader accepts makes a mapping (found by fuzz_config:
//  an empty time field passed the loader, then the worker refused it).
static void
config_rejects_empty_time_field_as_the_mapping_does (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("upstream:\n  format:\n"
                                       "    time_field:\n", err),
                         "test.yaml:3: upstream.format.time_field: must not "
                         "be empty");
    assert_contains (s_load_fails ("upstream:\n  format:\n"
                                   "    time_field: \"\"\n", err),
                     "upstream.format.time_field: must not be empty");
}

static void
config_rejects_value_not_in_enum_listing_the_choices (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("log:\n  level: verbose\n", err),
                         "test.yaml:2: log.level: must be one of: error, "
                         "warn, info, debug");
    assert_string_equal (s_load_fails ("store:\n  backend: redis\n", err),
                         "test.yaml:2: store.backend: must be one of: lmdb, "
                         "dynamodb");
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
                         "of: \"\", lmdb, dynamodb, timestream, influxdb");
    assert_string_equal (s_load_fails ("log:\n  level: info\nstore:\n"
                                       "  registry:\n    backend: redis\n",
                                       err),
                         "test.yaml:5: store.registry.backend: must be one "
                         "of: \"\", lmdb, dynamodb, timestream, influxdb");
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
config_puts_influxdb_on_history_only_and_checks_its_keys (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("store:\n  history:\n    backend: "
                         "influxdb\n  forecast:\n    backend: influxdb\n",
                         err), "test.yaml:5: store.forecast.backend: "
                         "influxdb serves the history role only "
                         "(store.history.backend)");
    assert_string_equal (s_load_fails ("store:\n  registry:\n    backend: "
                         "influxdb\n", err), "test.yaml:3: "
                         "store.registry.backend: influxdb serves the "
                         "history role only (store.history.backend)");
    assert_contains (s_load_fails ("store:\n  influxdb:\n"
                     "    precision: ns\n", err),
                     "test.yaml:3: store.influxdb.precision: must be one of: "
                     "ms");
    assert_contains (s_load_fails ("store:\n  influxdb:\n"
                     "    url: http://u:secret@host:8086\n", err),
                     "test.yaml:3: store.influxdb.url: must hold no user");
    assert_null (strstr (err, "u:secret"));
    assert_contains (s_load_fails ("store:\n  influxdb:\n"
                     "    url: ftp://host\n", err),
                     "store.influxdb.url: must start with http://");
    assert_contains (s_load_fails ("store:\n  influxdb:\n"
                     "    measurement: \"\"\n", err),
                     "test.yaml:3: store.influxdb.measurement: must be 1 to "
                     "256 characters");
    assert_contains (s_load_fails ("store:\n  influxdb:\n"
                     "    batch_points: 0\n", err),
                     "must be an integer from 1 to 1000000");
    assert_string_equal (s_load_fails ("store:\n  history:\n    backend: "
                         "influxdb\n  influxdb:\n    bucket: b\n", err),
                         "test.yaml:5: store.influxdb.bucket: a bucket (the "
                         "v2 API) needs store.influxdb.org");
    ts_config_t *cfg = s_load_ok ("store:\n  history:\n    backend: "
                                  "influxdb\n");
    assert_string_equal (ts_config_str (cfg, "store.influxdb.url"),
                         "http://127.0.0.1:8086");
    assert_string_equal (ts_config_str (cfg, "store.influxdb.database"),
                         "tscache");
    assert_string_equal (ts_config_str (cfg, "store.influxdb.measurement"),
                         "history");
    assert_int_equal (ts_config_int (cfg, "store.influxdb.batch_points"),
                      5000);
    assert_true (ts_config_bool (cfg, "store.influxdb.gzip"));
    ts_config_destroy (&cfg);
}

static void
config_puts_timestream_on_history_only_and_checks_its_names
    (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("store:\n  history:\n    backend: "
                         "timestream\n  forecast:\n    backend: timestream\n",
                         err), "test.yaml:5: store.forecast.backend: "
                         "timestream serves the history role only "
                         "(store.history.backend)");
    assert_string_equal (s_load_fails ("store:\n  registry:\n    backend: "
                         "timestream\n", err), "test.yaml:3: "
                         "store.registry.backend: timestream serves the "
                         "history role only (store.history.backend)");
    assert_string_equal (s_load_fails ("store:\n  timestream:\n"
                         "    table: \"a\\\" OR 1\"\n", err),
                         "test.yaml:3: store.timestream.table: must be 3 to "
                         "256 characters of A-Z a-z 0-9 _ . - (a Timestream "
                         "name)");
    assert_contains (s_load_fails ("store:\n  timestream:\n"
                     "    database: db\n", err),
                     "test.yaml:3: store.timestream.database: must be 3 to");
    assert_contains (s_load_fails ("store:\n  timestream:\n"
                     "    discovery: sometimes\n", err),
                     "store.timestream.discovery: must be one of: auto, on, "
                     "off");
    assert_contains (s_load_fails ("store:\n  timestream:\n"
                     "    magnetic_retention_days: 73001\n", err),
                     "must be an integer from 1 to 73000");
    assert_string_equal (s_load_fails ("store:\n  history:\n    backend: "
                         "timestream\n  timestream:\n    discovery: off\n",
                         err), "test.yaml:5: store.timestream.discovery: off "
                         "needs store.timestream.endpoint");
    ts_config_t *cfg = s_load_ok ("store:\n  history:\n    backend: "
                                  "timestream\n");
    assert_string_equal (ts_config_str (cfg, "store.timestream.database"),
                         "TimeSeriesDB");
    assert_string_equal (ts_config_str (cfg, "store.timestream.table"),
                         "identifierTimeSeriesHistory");
    assert_int_equal (ts_config_int (cfg,
                      "store.timestream.memory_retention_hours"), 720);
    assert_int_equal (ts_config_int (cfg,
                      "store.timestream.magnetic_retention_days"), 730);
    assert_true (ts_config_bool (cfg, "store.timestream.magnetic_writes"));
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
config_checks_every_schedule_form_and_the_shift_keys (void **state)
{
    char err [TS_ERRLEN];
    assert_string_equal (s_load_fails ("upstream:\n  schedule: "
                                       "\"cron(0 24 * * ? *)\"\n", err),
                         "test.yaml:2: upstream.schedule: cron(0 24 * * ? "
                         "*): field 2 (hours): 24 out of 0-23");
    assert_string_equal (s_load_fails ("broker:\n  schedule: "
                                       "rate(5 minute)\n", err),
                         "test.yaml:2: broker.schedule: rate(5 minute): a "
                         "value above 1 takes the plural unit \"minutes\"");
    assert_contains (s_load_fails ("broker:\n  schedule_jitter_s: -1\n",
                                   err), "test.yaml:2: "
                     "broker.schedule_jitter_s:");
    assert_contains (s_load_fails ("upstream:\n  schedule_offset_s: -2\n",
                                   err), "test.yaml:2: "
                     "upstream.schedule_offset_s:");
    ts_config_t *cfg = s_load_ok ("broker:\n"
                                  "  schedule: \"@hourly\"\n"
                                  "  schedule_offset_s: 30\n"
                                  "upstream:\n"
                                  "  schedule: \"cron(0/15 * ? * MON-FRI *)\"\n"
                                  "  schedule_jitter_s: 60\n");
    assert_string_equal (ts_config_str (cfg, "upstream.schedule"),
                         "cron(0/15 * ? * MON-FRI *)");
    assert_int_equal (ts_config_int (cfg, "broker.schedule_offset_s"), 30);
    assert_int_equal (ts_config_int (cfg, "upstream.schedule_offset_s"), -1);
    assert_int_equal (ts_config_int (cfg, "upstream.schedule_jitter_s"), 60);
    ts_config_destroy (&cfg);
    cfg = s_load_ok ("upstream:\n  schedule: rate(1 day)\n");
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
    const char *routes [] = { "/readyz", "/metrics", "/ui", "/grafana/x" };
    for (size_t i = 0; i < sizeof routes / sizeof routes [0]; i++) {
        assert_null (s_load_prefix (routes [i], err));
        assert_contains (err, "is a route of the gateway");
    }
    ts_config_t *near = s_load_prefix ("/grafana2", err);
    assert_non_null (near);
    ts_config_destroy (&near);
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
config_checks_the_rate_limit_of_a_source (void **state)
{
    char err [TS_ERRLEN];
    ts_config_t *cfg = s_load_ok ("upstream:\n  rate_limit:\n"
                                  "    rate: 1200/min\n    burst: 5\n"
                                  "    max_pause_s: 60\n");
    assert_string_equal (ts_config_str (cfg, "upstream.rate_limit.rate"),
                         "1200/min");
    assert_int_equal (ts_config_int (cfg, "upstream.rate_limit.burst"), 5);
    assert_int_equal (ts_config_int (cfg, "upstream.rate_limit.max_pause_s"),
                      60);
    ts_config_destroy (&cfg);
    cfg = s_load_ok ("upstream:\n  rate_limit:\n    rate: 0.5\n");
    ts_config_destroy (&cfg);
    //  Defaults: no limit, burst of one second, pauses of 5 min at most.
    cfg = s_load_ok ("");
    assert_string_equal (ts_config_str (cfg, "upstream.rate_limit.rate"),
                         "off");
    assert_int_equal (ts_config_int (cfg, "upstream.rate_limit.burst"), 0);
    assert_int_equal (ts_config_int (cfg, "upstream.rate_limit.max_pause_s"),
                      300);
    ts_config_destroy (&cfg);
    assert_contains (s_load_fails ("upstream:\n  rate_limit:\n"
                                   "    rate: 20/sec\n", err),
                     "test.yaml:3: upstream.rate_limit.rate: '20/sec' is "
                     "not a rate: write N/s, N/min or N/h");
    assert_contains (s_load_fails ("upstream:\n  rate_limit:\n"
                                   "    rate: 0/s\n", err),
                     "upstream.rate_limit.rate: 0/s is out of range");
    assert_contains (s_load_fails ("upstream:\n  rate_limit:\n"
                                   "    burst: -1\n", err),
                     "test.yaml:3: upstream.rate_limit.burst: must be an "
                     "integer from 0 to 1000000");
    assert_contains (s_load_fails ("upstream:\n  rate_limit:\n"
                                   "    burst: 5\n", err),
                     "test.yaml:3: upstream.rate_limit.burst: a burst needs "
                     "upstream.rate_limit.rate");
    assert_contains (s_load_fails ("upstream:\n  rate_limit:\n"
                                   "    max_pause_s: 0\n", err),
                     "upstream.rate_limit.max_pause_s: must be an integer "
                     "from 1 to 86400");
}

int
main (int argc, char *argv [])
{
    s_clear_env ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (config_rejects_out_of_range_or_non_integer_values),
        cmocka_unit_test (config_rejects_value_not_in_enum_listing_the_choices),
        cmocka_unit_test (config_rejects_empty_time_field_as_the_mapping_does),
        cmocka_unit_test (config_rejects_unknown_backend_of_a_role_naming_file_line_and_key),
        cmocka_unit_test (config_puts_timestream_on_history_only_and_checks_its_names),
        cmocka_unit_test (config_puts_influxdb_on_history_only_and_checks_its_keys),
        cmocka_unit_test (config_checks_the_cron_schedule),
        cmocka_unit_test (config_checks_every_schedule_form_and_the_shift_keys),
        cmocka_unit_test (config_rejects_endpoint_without_zeromq_scheme),
        cmocka_unit_test (config_rejects_upstream_url_without_id),
        cmocka_unit_test (config_rejects_malformed_header_without_echoing_it),
        cmocka_unit_test (config_rejects_a_credential_written_into_a_header),
        cmocka_unit_test (config_api_key_placeholder_needs_a_key_source),
        cmocka_unit_test (config_rejects_an_api_key_header_that_is_no_header_name),
        cmocka_unit_test (config_rejects_invalid_measure_names),
        cmocka_unit_test (config_checks_the_seed_path_prefix),
        cmocka_unit_test (config_checks_the_rate_limit_of_a_source),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_config_keys", tests, NULL, NULL);
}
