/*  test_ts_http_key - reading the gateway's HTTP API keys: the single key
    of gateway.api_key_env / api_key_file, and the named keys with a role
    of gateway.api_keys_file, whose faults are named by file and line and
    never show a key. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../gateway/ts_http_key.h"

#define KEYS_FILE   "/tmp/test_ts_http_key.keys"

//  A config with api_keys_file holding text (NULL: no such key set) and
//  TSCACHE_API_KEY set to env (NULL: unset).
static ts_config_t *
s_config (const char *text, const char *env)
{
    if (text) {
        FILE *f = fopen (KEYS_FILE, "w");
        assert_non_null (f);
        fputs (text, f);
        fclose (f);
        chmod (KEYS_FILE, 0600);
    }
    if (env)
        setenv ("TSCACHE_API_KEY", env, 1);
    else
        unsetenv ("TSCACHE_API_KEY");
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (text?
        "gateway:\n  api_keys_file: " KEYS_FILE "\n": "log:\n  level: warn\n",
        "test.yaml", err);
    assert_non_null (cfg);
    return cfg;
}

static void
s_free (char **keys, ts_config_t **cfg)
{
    free (*keys);
    *keys = NULL;
    ts_config_destroy (cfg);
    unlink (KEYS_FILE);
}

static void
named_keys_follow_the_single_key (void **state)
{
    ts_config_t *cfg = s_config ("# name role key\n\n"
                                 "reader read r-secret-1\n"
                                 "  ops   admin   o-secret-2  \n", "single");
    char *keys = NULL, err [TS_ERRLEN] = "";
    assert_int_equal (ts_http_key_read (cfg, &keys, err), 0);
    //  The file is read trimmed, as every secret file is.
    assert_string_equal (keys, "single\nreader read r-secret-1\n"
                               "ops   admin   o-secret-2\n");
    s_free (&keys, &cfg);
}

static void
named_keys_alone_are_enough (void **state)
{
    ts_config_t *cfg = s_config ("reader read r-secret-1\n", NULL);
    char *keys = NULL, err [TS_ERRLEN] = "";
    assert_int_equal (ts_http_key_read (cfg, &keys, err), 0);
    assert_string_equal (keys, "\nreader read r-secret-1\n");
    s_free (&keys, &cfg);
}

static void
a_bad_line_is_named_by_file_and_line_without_its_key (void **state)
{
    const char *bad [] = {
        "reader read r-secret-1\nops root o-secret-2\n",     //  role
        "reader read r-secret-1\nops o-secret-2\n",          //  fields
        "reader read r-secret-1\nop/s admin o-secret-2\n",   //  name
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ts_config_t *cfg = s_config (bad [i], NULL);
        char *keys = NULL, err [TS_ERRLEN] = "";
        assert_int_equal (ts_http_key_read (cfg, &keys, err), TS_EINVAL);
        assert_null (keys);
        assert_non_null (strstr (err, KEYS_FILE ":2: expected NAME ROLE KEY"));
        assert_null (strstr (err, "secret"));
        s_free (&keys, &cfg);
    }
}

static void
no_key_anywhere_is_not_found (void **state)
{
    ts_config_t *cfg = s_config (NULL, NULL);
    char *keys = NULL, err [TS_ERRLEN] = "";
    assert_int_equal (ts_http_key_read (cfg, &keys, err), TS_ENOTFOUND);
    assert_non_null (strstr (err, "gateway.api_keys_file"));
    s_free (&keys, &cfg);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (named_keys_follow_the_single_key),
        cmocka_unit_test (named_keys_alone_are_enough),
        cmocka_unit_test (a_bad_line_is_named_by_file_and_line_without_its_key),
        cmocka_unit_test (no_key_anywhere_is_not_found),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_http_key", tests, NULL, NULL);
}
