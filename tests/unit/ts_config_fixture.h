/*  ts_config_fixture - what the unit tests of ts_config share
    (tests/unit/test_ts_config*.c): loading text that must be accepted or
    rejected, a substring assertion, ts_config_print's output, and an
    environment without TSCACHE_* variables (s_clear_env, which each
    test's main calls first). Run from the repository root: fixtures are
    read from tests/data/config/ (FIXTURES). Header-only, static inline,
    so that each test compiles it alone. */

#ifndef TS_CONFIG_FIXTURE_H_INCLUDED
#define TS_CONFIG_FIXTURE_H_INCLUDED

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
static inline ts_config_t *
s_load_ok (const char *text)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (text, "test.yaml", err);
    if (!cfg)
        fail_msg ("unexpected error: %s", err);
    return cfg;
}

//  Loads text that must be rejected; returns the message in err.
static inline const char *
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
static inline char *
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

//  Starts from an environment without overrides: unsets every TSCACHE_*
//  variable. Each test's main calls it first.
static inline void
s_clear_env (void)
{
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
}

#endif
