/*  test_ts_daemon - the shared daemon command line. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_daemon.h"
#include "ts_version.h"

static ts_config_t *
s_init (int argc, char **argv, int *code)
{
    return ts_daemon_init (argc, argv, "test", NULL, NULL, code);
}

static void
daemon_help_asks_main_to_exit_zero (void **state)
{
    char *argv [] = { "test", "--help", NULL };
    int code = -1;
    assert_null (s_init (2, argv, &code));
    assert_int_equal (code, 0);
}

static void
daemon_version_asks_main_to_exit_zero (void **state)
{
    char *argv [] = { "test", "-v", "--version", NULL };
    int code = -1;
    assert_null (s_init (3, argv, &code));
    assert_int_equal (code, 0);
}

static void
version_prints_name_version_then_the_libraries (void **state)
{
    const char *version = ts_version ();
    assert_true (version [0] >= '0' && version [0] <= '9');
    assert_non_null (strchr (version, '.'));
    char *text = NULL;
    size_t size = 0;
    //  A binary names the libraries its own modules bring.
    //  Two modules may bring one library: it is named once.
    ts_version_use ("lmdb 0.9.99, libcurl 7.1");
    ts_version_use (NULL);
    ts_version_use ("libcurl 7.1, yajl 2.1");
    FILE *out = open_memstream (&text, &size);
    assert_non_null (out);
    ts_version_print (out, "tscache-test");
    fclose (out);
    char first [256];
    snprintf (first, sizeof first, "tscache-test %s\n", version);
    assert_int_equal (strncmp (text, first, strlen (first)), 0);
    const char *libs = text + strlen (first);
    assert_int_equal (strncmp (libs, "libzmq ", 7), 0);
    assert_non_null (strstr (libs, ", czmq "));
    assert_non_null (strstr (libs, ", msgpack-c "));
    assert_non_null (strstr (libs, ", libyaml "));
    assert_non_null (strstr (libs, ", lmdb 0.9.99, libcurl 7.1, yajl 2.1\n"));
    assert_null (strstr (strstr (libs, "libcurl") + 1, "libcurl"));
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += text [i] == '\n';
    assert_int_equal (lines, 2);
    assert_int_equal (text [size - 1], '\n');
    free (text);
}

static void
daemon_unknown_argument_is_a_usage_error (void **state)
{
    char *argv [] = { "test", "--bogus", NULL };
    int code = -1;
    assert_null (s_init (2, argv, &code));
    assert_int_equal (code, 2);
    char *argv2 [] = { "test", "-c", NULL };
    assert_null (s_init (2, argv2, &code));
    assert_int_equal (code, 2);
}

static void
daemon_check_config_exits_zero_on_a_good_file (void **state)
{
    char *argv [] = { "test", "-c", "config/tscache.example.yaml",
                      "--check-config", NULL };
    int code = -1;
    assert_null (s_init (4, argv, &code));
    assert_int_equal (code, 0);
}

static int
s_check_fails (const ts_config_t *cfg, char *err)
{
    ts_errf (err, "%s: check failed", ts_config_source (cfg));
    return TS_ECONFIG;
}

static void
daemon_runs_the_check_at_start_and_with_check_config (void **state)
{
    char *argv [] = { "test", "-c", "config/tscache.example.yaml",
                      "--check-config", NULL };
    int code = -1;
    assert_null (ts_daemon_init (4, argv, "test", NULL, s_check_fails,
                                 &code));
    assert_int_equal (code, 2);
    code = -1;
    assert_null (ts_daemon_init (3, argv, "test", NULL, s_check_fails,
                                 &code));
    assert_int_equal (code, 2);
}

static void
daemon_print_config_asks_main_to_exit_zero (void **state)
{
    char *argv [] = { "test", "--print-config", NULL };
    int code = -1;
    assert_null (s_init (2, argv, &code));
    assert_int_equal (code, 0);
}

static void
daemon_bad_config_exits_two (void **state)
{
    char *argv [] = { "test", "-c", "tests/data/config/bad_range.yaml", NULL };
    int code = -1;
    assert_null (s_init (3, argv, &code));
    assert_int_equal (code, 2);
    char *argv2 [] = { "test", "-c", "/nonexistent/tscache.yaml", NULL };
    assert_null (s_init (3, argv2, &code));
    assert_int_equal (code, 2);
}

static void
daemon_returns_the_config_to_run_with (void **state)
{
    setenv ("TSCACHE_CONFIG", "config/tscache.example.yaml", 1);
    char *argv [] = { "test", "-v", NULL };
    int code = -1;
    ts_config_t *cfg = s_init (2, argv, &code);
    unsetenv ("TSCACHE_CONFIG");
    assert_non_null (cfg);
    assert_int_equal (code, 0);
    assert_string_equal (ts_config_source (cfg), "config/tscache.example.yaml");
    ts_config_destroy (&cfg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (daemon_help_asks_main_to_exit_zero),
        cmocka_unit_test (daemon_version_asks_main_to_exit_zero),
        cmocka_unit_test (version_prints_name_version_then_the_libraries),
        cmocka_unit_test (daemon_unknown_argument_is_a_usage_error),
        cmocka_unit_test (daemon_check_config_exits_zero_on_a_good_file),
        cmocka_unit_test (daemon_bad_config_exits_two),
        cmocka_unit_test (daemon_runs_the_check_at_start_and_with_check_config),
        cmocka_unit_test (daemon_print_config_asks_main_to_exit_zero),
        cmocka_unit_test (daemon_returns_the_config_to_run_with),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_daemon", tests, NULL, NULL);
}
