/*  test_ts_config_yaml - reading the YAML file (common/ts_config_yaml.c):
    nested and dotted keys, lists and maps, empty files and null values,
    and the errors that name file and line (unknown or duplicate keys,
    syntax errors, wrong shapes of document, an unreadable file).

    Every TSCACHE_* variable is removed at start so
    the caller's environment cannot change results; tests that set one
    unset it before they end. Helpers in ts_config_fixture.h. */

#include "ts_config_fixture.h"

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

int
main (int argc, char *argv [])
{
    s_clear_env ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (config_file_sets_nested_keys_lists_and_maps),
        cmocka_unit_test (config_accepts_dotted_keys_and_empty_files),
        cmocka_unit_test (config_null_or_empty_string_value_means_empty),
        cmocka_unit_test (config_rejects_unknown_key_naming_file_line_and_key),
        cmocka_unit_test (config_rejects_duplicate_keys),
        cmocka_unit_test (config_reports_yaml_syntax_errors_with_line),
        cmocka_unit_test (config_rejects_wrong_shapes_of_document),
        cmocka_unit_test (config_reports_unreadable_file),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_config_yaml", tests, NULL, NULL);
}
