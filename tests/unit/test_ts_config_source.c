/*  test_ts_config_source - sources of a config (common/ts_config_source.c
    and the sources: reader of ts_config_yaml.c): a list of entries read
    into views whose upstream.* keys are the source's, the upstream:
    shorthand as the source "default", upstream: as what sources share,
    per-key checks per source, errors naming file, line and
    sources[NAME].KEY, ts_config_print's sources: that loads back, and
    the comparison a reload makes. Helpers in ts_config_fixture.h. */

#include "ts_config_fixture.h"

static const char *s_two =
    "upstream:\n"
    "  timeout_ms: 7000\n"
    "  headers: ['Accept: application/json']\n"
    "sources:\n"
    "  - name: weather\n"
    "    url: http://127.0.0.1:8090/rows/{id}?from={from}&to={to}\n"
    "  - name: prices\n"                                    //  line 7
    "    url: http://127.0.0.1:8090/columns/{id}\n"
    "    time_param: s\n"
    "    format:\n"
    "      layout: columns\n"                               //  line 11
    "      measures: {price: p}\n"
    "    timeout_ms: 9000\n"
    "log:\n"
    "  level: debug\n";

static void
config_sources_are_views_with_their_own_upstream_keys (void **state)
{
    ts_config_t *cfg = s_load_ok (s_two);
    assert_int_equal (ts_config_source_count (cfg), 2);
    assert_null (ts_config_source_name (cfg));
    const ts_config_t *weather = ts_config_source_at (cfg, 0);
    const ts_config_t *prices = ts_config_source_at (cfg, 1);
    assert_string_equal (ts_config_source_name (weather), "weather");
    assert_string_equal (ts_config_source_name (prices), "prices");
    //  Own values.
    assert_string_equal (ts_config_str (prices, "upstream.url"),
                         "http://127.0.0.1:8090/columns/{id}");
    assert_string_equal (ts_config_str (prices, "upstream.format.layout"),
                         "columns");
    assert_string_equal (ts_config_str (prices, "upstream.time_param"), "s");
    assert_int_equal (ts_config_int (prices, "upstream.timeout_ms"), 9000);
    const ts_strlist_t *names, *fields;
    ts_config_map (prices, "upstream.format.measures", &names, &fields);
    assert_int_equal (names->n, 1);
    assert_string_equal (names->items [0], "price");
    assert_string_equal (fields->items [0], "p");
    //  Shared from upstream:, else the default.
    assert_int_equal (ts_config_int (weather, "upstream.timeout_ms"), 7000);
    assert_int_equal (ts_config_list (prices, "upstream.headers")->n, 1);
    assert_string_equal (ts_config_str (weather, "upstream.format.layout"),
                         "rows");
    assert_string_equal (ts_config_str (weather, "upstream.time_param"),
                         "ms");
    //  Every other key is the parent's.
    assert_string_equal (ts_config_str (prices, "log.level"), "debug");
    assert_string_equal (ts_config_source (prices), "test.yaml");
    //  The whole config's upstream.* are the shared values.
    assert_int_equal (ts_config_int (cfg, "upstream.timeout_ms"), 7000);
    //  A view reaches its siblings.
    assert_int_equal (ts_config_source_count (prices), 2);
    assert_ptr_equal (ts_config_source_at (prices, 0), weather);
    //  Lookup by name; "" and NULL are the first source.
    assert_int_equal (ts_config_source_find (cfg, "prices"), 1);
    assert_int_equal (ts_config_source_find (weather, "weather"), 0);
    assert_int_equal (ts_config_source_find (cfg, ""), 0);
    assert_int_equal (ts_config_source_find (cfg, NULL), 0);
    assert_int_equal (ts_config_source_find (cfg, "nope"), -1);
    char names_text [64];
    ts_config_source_names (cfg, names_text, sizeof names_text);
    assert_string_equal (names_text, "weather, prices");
    //  Where a value came from.
    char where [256];
    ts_config_where (prices, "upstream.format.layout", where, sizeof where);
    assert_string_equal (where, "test.yaml:11: sources[prices].format.layout");
    ts_config_where (weather, "upstream.timeout_ms", where, sizeof where);
    assert_string_equal (where, "test.yaml:2: upstream.timeout_ms");
    ts_config_where (weather, "upstream.format.layout", where, sizeof where);
    assert_string_equal (where, "test.yaml: upstream.format.layout (default)");
    ts_config_destroy (&cfg);
}

static void
config_upstream_alone_is_the_source_default (void **state)
{
    ts_config_t *cfg = s_load_ok (
        "upstream:\n"
        "  url: http://up/{id}\n"
        "  format: {layout: columns}\n");
    assert_int_equal (ts_config_source_count (cfg), 1);
    const ts_config_t *only = ts_config_source_at (cfg, 0);
    assert_string_equal (ts_config_source_name (only), "default");
    assert_string_equal (ts_config_str (only, "upstream.url"),
                         "http://up/{id}");
    assert_string_equal (ts_config_str (only, "upstream.format.layout"),
                         "columns");
    assert_int_equal (ts_config_source_find (cfg, "default"), 0);
    ts_config_destroy (&cfg);
    //  No file at all: one default source too.
    cfg = s_load_ok ("");
    assert_int_equal (ts_config_source_count (cfg), 1);
    assert_string_equal (ts_config_source_name (ts_config_source_at (cfg, 0)),
                         "default");
    ts_config_destroy (&cfg);
}

static void
config_environment_overrides_what_sources_share (void **state)
{
    setenv ("TSCACHE_UPSTREAM_TIMEOUT_MS", "1234", 1);
    ts_config_t *cfg = s_load_ok (s_two);
    unsetenv ("TSCACHE_UPSTREAM_TIMEOUT_MS");
    //  weather shares upstream.timeout_ms; prices sets its own.
    assert_int_equal (ts_config_int (ts_config_source_at (cfg, 0),
                                     "upstream.timeout_ms"), 1234);
    assert_int_equal (ts_config_int (ts_config_source_at (cfg, 1),
                                     "upstream.timeout_ms"), 9000);
    ts_config_destroy (&cfg);
}

static void
config_sources_errors_name_line_and_source_key (void **state)
{
    char err [TS_ERRLEN];
    //  Per-key checks apply per source.
    assert_string_equal (s_load_fails (
        "sources:\n"
        "  - name: a\n"
        "    url: http://up/x\n", err),
        "test.yaml:3: sources[a].url: must contain {id}");
    assert_contains (s_load_fails (
        "sources:\n"
        "  - name: a\n"
        "    format:\n"
        "      layout: diagonal\n", err),
        "test.yaml:4: sources[a].format.layout: must be one of: rows, "
        "columns");
    assert_string_equal (s_load_fails (
        "sources:\n"
        "  - name: a\n"
        "    colour: red\n", err),
        "test.yaml:3: sources[a].colour: unknown key");
    assert_string_equal (s_load_fails (
        "sources:\n"
        "  - name: a\n"
        "    broker: {schedule: '* * * * *'}\n", err),
        "test.yaml:3: sources[a].broker: unknown key");
    assert_string_equal (s_load_fails (
        "sources:\n"
        "  - name: a\n"
        "    timeout_ms: 1\n"
        "    timeout_ms: 2\n", err),
        "test.yaml:4: sources[a].timeout_ms: duplicate key");
    //  Names: present, valid, unique.
    assert_string_equal (s_load_fails (
        "sources:\n"
        "  - name: a\n"
        "  - url: http://up/{id}\n", err),
        "test.yaml:3: sources[1]: needs a name");
    assert_contains (s_load_fails (
        "sources:\n"
        "  - name: 'a b'\n", err),
        "test.yaml:2: sources[0].name: must be 1 to");
    assert_string_equal (s_load_fails (
        "sources:\n"
        "  - name: a\n"
        "  - name: a\n", err),
        "test.yaml:3: sources[a].name: a source of that name is listed "
        "before");
    //  Shapes.
    assert_contains (s_load_fails ("sources: weather\n", err),
                     "test.yaml:1: sources: must be a list of sources");
    assert_contains (s_load_fails ("sources: []\n", err),
                     "test.yaml:1: sources: must be a list of sources");
    assert_contains (s_load_fails ("sources:\n  - weather\n", err),
                     "test.yaml:2: sources[0]: must be a mapping");
    //  Rules between keys, per source: {api_key} needs a key.
    assert_string_equal (s_load_fails (
        "sources:\n"
        "  - name: a\n"
        "    url: http://up/{id}\n"
        "  - name: b\n"
        "    url: http://up/{id}?k={api_key}\n", err),
        "test.yaml:5: sources[b].url: {api_key} needs the upstream API key: "
        "set upstream.api_key_env or upstream.api_key_file");
    //  ... which upstream: may give to all.
    ts_config_t *cfg = s_load_ok (
        "upstream: {api_key_env: UP_KEY}\n"
        "sources:\n"
        "  - name: b\n"
        "    url: http://up/{id}?k={api_key}\n");
    ts_config_destroy (&cfg);
}

static void
config_print_lists_sources_that_load_back (void **state)
{
    ts_config_t *cfg = s_load_ok (s_two);
    char *text = s_print (cfg);
    assert_contains (text, "sources:\n  - name: weather\n    url: ");
    assert_contains (text, "  - name: prices\n");
    assert_contains (text, "    format.layout: columns\n");
    char err [TS_ERRLEN] = "";
    ts_config_t *copy = ts_config_load_text (text, "printed", err);
    if (!copy)
        fail_msg ("%s\n%s", err, text);
    assert_true (ts_config_sources_same (cfg, copy));
    assert_int_equal (ts_config_int (ts_config_source_at (copy, 1),
                                     "upstream.timeout_ms"), 9000);
    free (text);
    ts_config_destroy (&copy);
    //  The shorthand prints no sources: list.
    ts_config_destroy (&cfg);
    cfg = s_load_ok ("upstream: {timeout_ms: 5}\n");
    text = s_print (cfg);
    assert_null (strstr (text, "sources:"));
    free (text);
    ts_config_destroy (&cfg);
}

static void
config_sources_same_sees_names_order_and_entries (void **state)
{
    ts_config_t *a = s_load_ok (s_two);
    ts_config_t *b = s_load_ok (s_two);
    assert_true (ts_config_sources_same (a, b));
    ts_config_destroy (&b);
    //  A shared value is compared as a key, not as a source change.
    char *text = strdup (s_two);
    memcpy (strstr (text, "7000"), "8000", 4);
    b = s_load_ok (text);
    assert_true (ts_config_sources_same (a, b));
    assert_false (ts_config_same (a, b, "upstream.timeout_ms"));
    ts_config_destroy (&b);
    memcpy (strstr (text, "9000"), "9001", 4);
    b = s_load_ok (text);
    assert_false (ts_config_sources_same (a, b));
    ts_config_destroy (&b);
    free (text);
    b = s_load_ok ("upstream: {timeout_ms: 7000}\n");
    assert_false (ts_config_sources_same (a, b));
    ts_config_destroy (&b);
    ts_config_destroy (&a);
}

int
main (int argc, char *argv [])
{
    s_clear_env ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (config_sources_are_views_with_their_own_upstream_keys),
        cmocka_unit_test (config_upstream_alone_is_the_source_default),
        cmocka_unit_test (config_environment_overrides_what_sources_share),
        cmocka_unit_test (config_sources_errors_name_line_and_source_key),
        cmocka_unit_test (config_print_lists_sources_that_load_back),
        cmocka_unit_test (config_sources_same_sees_names_order_and_entries),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_config_source", tests, NULL, NULL);
}
