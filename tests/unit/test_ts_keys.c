/*  test_ts_keys - the gateway's HTTP API key set: the key text's two
    kinds of line (comma lists of admin keys named default, default-2...;
    "NAME ROLE KEY"), a reload's swap and whether it changed anything,
    and the lookup: the whole key with its length, its name and role, and
    every key compared whether one matched or not. The comparisons are
    counted by wrapping ts_secure_equal at link time (the Makefile links
    this test with -Wl,--wrap=ts_secure_equal). The routes' use of the
    set (which header carries a key, 401 and 403) is in test_ts_route. */

#include "../../gateway/ts_keys.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

//  ts_secure_equal as ts_keys calls it: counted, then the real one.
static size_t s_compared;

bool __real_ts_secure_equal (const void *a, size_t alen, const void *b,
                             size_t blen);
bool __wrap_ts_secure_equal (const void *a, size_t alen, const void *b,
                             size_t blen);

bool
__wrap_ts_secure_equal (const void *a, size_t alen, const void *b,
                        size_t blen)
{
    s_compared++;
    return __real_ts_secure_equal (a, alen, b, blen);
}

//  Looks key up; its name in name (TS_KEYS_NAME bytes), its role in
//  *role.
static bool
s_lookup (ts_keys_t *keys, const char *key, char *name, ts_role_t *role)
{
    snprintf (name, TS_KEYS_NAME, "?");
    *role = TS_ROLE_NONE;
    return ts_keys_lookup (keys, key, strlen (key), role, name,
                           TS_KEYS_NAME);
}

static void
keys_comma_lists_are_admin_keys_named_default_in_order (void **state)
{
    ts_keys_t *keys = ts_keys_new (" one , two,,\n\tthree\r\n");
    assert_non_null (keys);
    assert_int_equal (ts_keys_size (keys), 3);
    char name [TS_KEYS_NAME];
    ts_role_t role;
    assert_true (s_lookup (keys, "one", name, &role));
    assert_string_equal (name, "default");
    assert_int_equal (role, TS_ROLE_ADMIN);
    assert_true (s_lookup (keys, "two", name, &role));
    assert_string_equal (name, "default-2");
    assert_true (s_lookup (keys, "three", name, &role));
    assert_string_equal (name, "default-3");
    //  White space around a key is not part of it.
    assert_false (s_lookup (keys, " one", name, &role));
    ts_keys_destroy (&keys);
    assert_null (keys);
    ts_keys_destroy (&keys);
}

static void
keys_named_lines_give_name_and_role_and_the_rest_of_the_line_is_the_key (
    void **state)
{
    ts_keys_t *keys = ts_keys_new ("legacy\n"
                                   "reader read r-key-1\n"
                                   "ops   admin  o key 2 \t\r\n");
    assert_int_equal (ts_keys_size (keys), 3);
    char name [TS_KEYS_NAME];
    ts_role_t role;
    assert_true (s_lookup (keys, "r-key-1", name, &role));
    assert_string_equal (name, "reader");
    assert_int_equal (role, TS_ROLE_READ);
    assert_true (s_lookup (keys, "o key 2", name, &role));
    assert_string_equal (name, "ops");
    assert_int_equal (role, TS_ROLE_ADMIN);
    assert_true (s_lookup (keys, "legacy", name, &role));
    assert_string_equal (name, "default");
    //  A name or a role is not a key.
    assert_false (s_lookup (keys, "reader", name, &role));
    assert_false (s_lookup (keys, "read", name, &role));
    assert_string_equal (name, "?");
    ts_keys_destroy (&keys);
}

static void
keys_a_line_with_a_bad_role_or_a_comma_in_its_name_is_a_key_list (
    void **state)
{
    ts_keys_t *keys = ts_keys_new ("x owner k\n"
                                   "a,b read k2\n");
    assert_int_equal (ts_keys_size (keys), 3);
    char name [TS_KEYS_NAME];
    ts_role_t role;
    assert_true (s_lookup (keys, "x owner k", name, &role));
    assert_string_equal (name, "default");
    assert_int_equal (role, TS_ROLE_ADMIN);
    assert_true (s_lookup (keys, "a", name, &role));
    assert_string_equal (name, "default-2");
    assert_true (s_lookup (keys, "b read k2", name, &role));
    assert_string_equal (name, "default-3");
    ts_keys_destroy (&keys);
}

static void
keys_text_without_keys_makes_an_empty_set (void **state)
{
    const char *texts [] = { "", " , \n ", "\n\n", NULL };
    for (size_t i = 0; i < sizeof texts / sizeof texts [0]; i++) {
        ts_keys_t *keys = ts_keys_new (texts [i]);
        assert_non_null (keys);
        assert_int_equal (ts_keys_size (keys), 0);
        char name [TS_KEYS_NAME];
        ts_role_t role;
        assert_false (s_lookup (keys, "", name, &role));
        ts_keys_destroy (&keys);
    }
}

static void
keys_set_swaps_the_keys_and_says_whether_they_changed (void **state)
{
    ts_keys_t *keys = ts_keys_new ("demo");
    bool changed = false;
    assert_int_equal (ts_keys_set (keys, "fresh, other\n", &changed), 0);
    assert_true (changed);
    assert_int_equal (ts_keys_size (keys), 2);
    char name [TS_KEYS_NAME];
    ts_role_t role;
    assert_false (s_lookup (keys, "demo", name, &role));
    assert_true (s_lookup (keys, "other", name, &role));
    //  The same keys written otherwise: no change.
    assert_int_equal (ts_keys_set (keys, " fresh,other", &changed), 0);
    assert_false (changed);
    //  The same key with another name, role or place: a change.
    assert_int_equal (ts_keys_set (keys, "viewer read fresh\nother",
                                   &changed), 0);
    assert_true (changed);
    assert_true (s_lookup (keys, "fresh", name, &role));
    assert_string_equal (name, "viewer");
    assert_int_equal (role, TS_ROLE_READ);
    assert_int_equal (ts_keys_set (keys, "viewer admin fresh\nother",
                                   &changed), 0);
    assert_true (changed);
    assert_int_equal (ts_keys_set (keys, "other\nviewer admin fresh",
                                   &changed), 0);
    assert_true (changed);
    ts_keys_destroy (&keys);
}

static void
keys_set_without_keys_keeps_the_running_keys (void **state)
{
    ts_keys_t *keys = ts_keys_new ("demo");
    bool changed = false;
    assert_int_equal (ts_keys_set (keys, " , \n", &changed), TS_ENOTFOUND);
    assert_int_equal (ts_keys_set (keys, "", &changed), TS_ENOTFOUND);
    assert_false (changed);
    assert_int_equal (ts_keys_size (keys), 1);
    char name [TS_KEYS_NAME];
    ts_role_t role;
    assert_true (s_lookup (keys, "demo", name, &role));
    ts_keys_destroy (&keys);
}

static void
keys_lookup_compares_the_whole_key_with_its_length (void **state)
{
    ts_keys_t *keys = ts_keys_new ("demo");
    assert_true (ts_keys_lookup (keys, "demo", 4, NULL, NULL, 0));
    assert_false (ts_keys_lookup (keys, "demo\0", 5, NULL, NULL, 0));
    assert_false (ts_keys_lookup (keys, "dem", 3, NULL, NULL, 0));
    assert_false (ts_keys_lookup (keys, "demo2", 5, NULL, NULL, 0));
    assert_false (ts_keys_lookup (keys, "DEMO", 4, NULL, NULL, 0));
    assert_false (ts_keys_lookup (keys, "", 0, NULL, NULL, 0));
    assert_false (ts_keys_lookup (keys, NULL, 0, NULL, NULL, 0));
    //  Only the first len bytes count.
    assert_true (ts_keys_lookup (keys, "demo, more", 4, NULL, NULL, 0));
    ts_keys_destroy (&keys);
}

static void
keys_lookup_compares_every_key_whether_one_matched_or_not (void **state)
{
    ts_keys_t *keys = ts_keys_new ("first, second\n"
                                   "third read 3rd\n"
                                   "fourth admin 4th\n");
    const char *tried [] = { "first", "3rd", "4th", "none", "firs" };
    for (size_t i = 0; i < sizeof tried / sizeof tried [0]; i++) {
        s_compared = 0;
        ts_keys_lookup (keys, tried [i], strlen (tried [i]), NULL, NULL, 0);
        assert_int_equal (s_compared, 4);
    }
    ts_keys_destroy (&keys);
}

static void
keys_lookup_gives_the_first_listing_of_a_key_listed_twice (void **state)
{
    ts_keys_t *keys = ts_keys_new ("a read same\nb admin same\n");
    char name [TS_KEYS_NAME];
    ts_role_t role;
    assert_true (s_lookup (keys, "same", name, &role));
    assert_string_equal (name, "a");
    assert_int_equal (role, TS_ROLE_READ);
    ts_keys_destroy (&keys);
}

static void
keys_lookup_cuts_a_name_to_the_buffer (void **state)
{
    char line [200];
    char long_name [TS_KEYS_NAME];
    memset (long_name, 'n', TS_KEYS_NAME - 1);
    long_name [TS_KEYS_NAME - 1] = 0;
    snprintf (line, sizeof line, "%s admin k", long_name);
    ts_keys_t *keys = ts_keys_new (line);
    char name [TS_KEYS_NAME];
    ts_role_t role;
    assert_true (s_lookup (keys, "k", name, &role));
    assert_string_equal (name, long_name);
    char small [4];
    assert_true (ts_keys_lookup (keys, "k", 1, NULL, small, sizeof small));
    assert_string_equal (small, "nnn");
    ts_keys_destroy (&keys);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (
            keys_comma_lists_are_admin_keys_named_default_in_order),
        cmocka_unit_test (
            keys_named_lines_give_name_and_role_and_the_rest_of_the_line_is_the_key),
        cmocka_unit_test (
            keys_a_line_with_a_bad_role_or_a_comma_in_its_name_is_a_key_list),
        cmocka_unit_test (keys_text_without_keys_makes_an_empty_set),
        cmocka_unit_test (
            keys_set_swaps_the_keys_and_says_whether_they_changed),
        cmocka_unit_test (keys_set_without_keys_keeps_the_running_keys),
        cmocka_unit_test (keys_lookup_compares_the_whole_key_with_its_length),
        cmocka_unit_test (
            keys_lookup_compares_every_key_whether_one_matched_or_not),
        cmocka_unit_test (
            keys_lookup_gives_the_first_listing_of_a_key_listed_twice),
        cmocka_unit_test (keys_lookup_cuts_a_name_to_the_buffer),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_keys", tests, NULL, NULL);
}
