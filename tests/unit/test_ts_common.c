/*  test_ts_common - names, times, secure compare, string lists. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_common.h"

static void
name_accepts_allowed_characters (void **state)
{
    assert_true (ts_name_valid ("test-run"));
    assert_true (ts_name_valid ("a.b_c:D-9"));
    char longest [TS_NAME_MAX + 1];
    memset (longest, 'x', TS_NAME_MAX);
    longest [TS_NAME_MAX] = 0;
    assert_true (ts_name_valid (longest));
}

static void
name_rejects_empty_long_and_query_characters (void **state)
{
    assert_false (ts_name_valid (""));
    assert_false (ts_name_valid (NULL));
    char too_long [TS_NAME_MAX + 2];
    memset (too_long, 'x', TS_NAME_MAX + 1);
    too_long [TS_NAME_MAX + 1] = 0;
    assert_false (ts_name_valid (too_long));
    const char *bad [] = { "a b", "a'b", "a\"b", "a/b", "a;b", "a\\b", "a\nb",
                           "é", "a*b", "a=b", "a,b", "(a)" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_false (ts_name_valid (bad [i]));
    assert_false (ts_name_valid_n ("ab\0c", 4));
}

//  "." and ".." are URL path segments a client resolves away: refused
//  as new names, kept as existing ones; other names of dots are names.
static void
name_rejects_dot_and_dot_dot_that_existing_names_may_be (void **state)
{
    assert_false (ts_name_valid ("."));
    assert_false (ts_name_valid (".."));
    assert_false (ts_name_valid_n ("..", 2));
    assert_false (ts_name_valid_n (".x", 1));
    assert_true (ts_name_valid ("..."));
    assert_true (ts_name_valid (".x"));
    assert_true (ts_name_valid ("x."));
    assert_true (ts_name_valid ("a..b"));
    assert_true (ts_name_existing ("."));
    assert_true (ts_name_existing (".."));
    assert_true (ts_name_existing_n ("..", 2));
}

static void
name_rejects_a_leading_dash_that_existing_names_may_have (void **state)
{
    assert_false (ts_name_valid ("-x"));
    assert_false (ts_name_valid ("--json"));
    assert_false (ts_name_valid ("-"));
    assert_false (ts_name_valid_n ("-x", 2));
    assert_true (ts_name_valid ("x-"));
    assert_true (ts_name_valid ("a-b"));
    //  The looser rule for names stored before: only the first character
    //  differs, the alphabet and the length are the same.
    assert_true (ts_name_existing ("-x"));
    assert_true (ts_name_existing_n ("--json", 6));
    assert_true (ts_name_existing ("test-run"));
    assert_false (ts_name_existing (""));
    assert_false (ts_name_existing (NULL));
    assert_false (ts_name_existing ("-a b"));
    assert_false (ts_name_existing_n ("-a\0", 3));
    char too_long [TS_NAME_MAX + 2];
    memset (too_long, '-', TS_NAME_MAX + 1);
    too_long [TS_NAME_MAX + 1] = 0;
    assert_false (ts_name_existing (too_long));
}

static void
name_errf_says_the_rule_and_shows_the_name_printably (void **state)
{
    char err [TS_ERRLEN];
    ts_name_errf (err, "id", "-x", 2);
    assert_string_equal (err, "invalid id '-x': use 1 to 128 characters of "
                         "[A-Za-z0-9._:-], not starting with '-', not . "
                         "or ..");
    ts_name_errf (err, "measure", "a\nb\0c", 5);
    assert_string_equal (err, "invalid measure 'a?b?c': use " TS_NAME_RULE);
    char long_name [300];
    memset (long_name, 'y', sizeof long_name);
    ts_name_errf (err, "id", long_name, sizeof long_name);
    assert_non_null (strstr (err, "'yyyy"));
    assert_int_equal (strchr (err, '\'') [65], '\'');
}

static void
time_parse_takes_epoch_ms_and_rfc3339 (void **state)
{
    int64_t ms;
    assert_int_equal (ts_time_parse ("1732406400000", &ms), 0);
    assert_int_equal (ms, 1732406400000LL);
    assert_int_equal (ts_time_parse ("-1000", &ms), 0);
    assert_int_equal (ms, -1000);
    assert_int_equal (ts_time_parse ("2024-11-24T00:00:00Z", &ms), 0);
    assert_int_equal (ms, 1732406400000LL);
    assert_int_equal (ts_time_parse ("2024-11-24T01:00:00.250+01:00", &ms), 0);
    assert_int_equal (ms, 1732406400250LL);
    assert_int_equal (ts_time_parse ("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal (ms, 0);
}

static void
time_parse_rejects_garbage_and_impossible_dates (void **state)
{
    int64_t ms;
    const char *bad [] = { "", "abc", "12a", "2024-11-24", "2024-11-24T00:00Z",
                           "2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z",
                           "2024-11-24T25:00:00Z", "2024-11-24T00:00:00",
                           "2024-11-24T00:00:00Zjunk", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (ts_time_parse (bad [i], &ms), TS_EINVAL);
}

static void
time_parse_iso_is_lenient_about_zone_and_seconds (void **state)
{
    int64_t ms;
    const char *s = "2024-11-24T00:05";
    assert_int_equal (ts_time_parse_iso (s, strlen (s), &ms), 0);
    assert_int_equal (ms, 1732406700000LL);
    s = "2024-11-24 00:05:00";
    assert_int_equal (ts_time_parse_iso (s, strlen (s), &ms), 0);
    assert_int_equal (ms, 1732406700000LL);
    s = "2024-02-29T00:00:00Z";
    assert_int_equal (ts_time_parse_iso (s, strlen (s), &ms), 0);
    s = "2023-02-29T00:00:00Z";
    assert_int_equal (ts_time_parse_iso (s, strlen (s), &ms), TS_EINVAL);
}

static void
time_format_round_trips_with_parse (void **state)
{
    char buf [40];
    int64_t values [] = { 0, 1732406400123LL, -1, -86400001LL, 4102444800000LL };
    for (size_t i = 0; i < sizeof values / sizeof values [0]; i++) {
        int64_t back;
        ts_time_format (values [i], buf, sizeof buf);
        assert_int_equal (ts_time_parse (buf, &back), 0);
        assert_int_equal (back, values [i]);
    }
    assert_string_equal (ts_time_format (1732406400123LL, buf, sizeof buf),
                         "2024-11-24T00:00:00.123Z");
}

static void
secure_equal_compares_bytes_and_lengths (void **state)
{
    assert_true (ts_secure_equal ("key", 3, "key", 3));
    assert_false (ts_secure_equal ("key", 3, "kez", 3));
    assert_false (ts_secure_equal ("key", 3, "key1", 4));
    assert_false (ts_secure_equal ("", 0, "k", 1));
    assert_true (ts_secure_equal ("", 0, "", 0));
}

static void
strlist_appends_and_finds (void **state)
{
    ts_strlist_t *list = ts_strlist_new ();
    assert_non_null (list);
    for (int i = 0; i < 100; i++) {
        char s [16];
        snprintf (s, sizeof s, "id%d", i);
        assert_int_equal (ts_strlist_append (list, s), 0);
    }
    assert_int_equal (list->n, 100);
    assert_true (ts_strlist_contains (list, "id99"));
    assert_false (ts_strlist_contains (list, "id100"));
    assert_int_equal (ts_strlist_append_n (list, "abcdef", 3), 0);
    assert_string_equal (list->items [100], "abc");
    ts_strlist_clear (list);
    assert_int_equal (list->n, 0);
    ts_strlist_destroy (&list);
    assert_null (list);
    ts_strlist_destroy (&list);
}

static void
strset_finds_repeats_and_resets_only_what_it_needs (void **state)
{
    ts_strset_t set = { 0 };
    const char *ids [] = { "a", "b", "a", "c", "b", "a" };
    assert_int_equal (ts_strset_reset (&set, 6), 0);
    size_t want [] = { 0, 1, 0, 3, 1, 0 };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal (ts_strset_add (&set, ids, i), want [i]);
    //  Grown for many, then reset for few: a small table is cleared.
    char names [5000][8];
    const char *many [5000];
    for (size_t i = 0; i < 5000; i++) {
        snprintf (names [i], sizeof names [i], "n%zu", i % 2500);
        many [i] = names [i];
    }
    assert_int_equal (ts_strset_reset (&set, 5000), 0);
    for (size_t i = 0; i < 5000; i++)
        assert_int_equal (ts_strset_add (&set, many, i), i % 2500);
    size_t cap = set.cap;
    assert_true (cap >= 10000);
    assert_int_equal (ts_strset_reset (&set, 3), 0);
    assert_int_equal (set.size, 64);
    assert_int_equal (set.cap, cap);
    assert_int_equal (ts_strset_add (&set, ids, 0), 0);
    assert_int_equal (ts_strset_add (&set, ids, 2), 0);
    ts_strset_free (&set);
    assert_null (set.slots);
}

static void
strlist_reuses_buffers_after_clear (void **state)
{
    ts_strlist_t *list = ts_strlist_new ();
    assert_non_null (list);
    assert_int_equal (ts_strlist_append (list, "station-1"), 0);
    assert_int_equal (ts_strlist_append (list, "x"), 0);
    char *first = list->items [0];
    ts_strlist_clear (list);
    assert_int_equal (list->n, 0);
    //  The same buffers hold the next items; a longer one grows its own.
    assert_int_equal (ts_strlist_append (list, "station-2"), 0);
    assert_ptr_equal (list->items [0], first);
    char longer [100];
    memset (longer, 'y', sizeof longer - 1);
    longer [sizeof longer - 1] = 0;
    assert_int_equal (ts_strlist_append (list, longer), 0);
    assert_string_equal (list->items [0], "station-2");
    assert_string_equal (list->items [1], longer);

    //  set: shorter in place, longer in a new buffer, another item of
    //  the same list as the source.
    assert_int_equal (ts_strlist_set (list, 0, "a"), 0);
    assert_string_equal (list->items [0], "a");
    assert_int_equal (ts_strlist_set (list, 0, list->items [1]), 0);
    assert_string_equal (list->items [0], longer);
    assert_string_equal (list->items [1], longer);

    //  pop: the last item goes, its buffer is kept; on empty: nothing.
    ts_strlist_pop (list);
    assert_int_equal (list->n, 1);
    assert_int_equal (ts_strlist_append (list, "z"), 0);
    assert_string_equal (list->items [1], "z");
    ts_strlist_pop (list);
    ts_strlist_pop (list);
    ts_strlist_pop (list);
    assert_int_equal (list->n, 0);

    //  A clear keeps at most TS_STRLIST_KEEP buffers.
    for (int i = 0; i < TS_STRLIST_KEEP + 10; i++) {
        char id [16];
        snprintf (id, sizeof id, "id%d", i);
        assert_int_equal (ts_strlist_append (list, id), 0);
    }
    assert_int_equal (list->kept, TS_STRLIST_KEEP + 10);
    ts_strlist_clear (list);
    assert_int_equal (list->kept, TS_STRLIST_KEEP);
    assert_int_equal (ts_strlist_append_n (list, "abcdef", 3), 0);
    assert_string_equal (list->items [0], "abc");
    ts_strlist_destroy (&list);
}

static void
strlcpy_reports_truncation (void **state)
{
    char buf [4];
    assert_int_equal (ts_strlcpy (buf, "abc", sizeof buf), 0);
    assert_string_equal (buf, "abc");
    assert_int_equal (ts_strlcpy (buf, "abcd", sizeof buf), TS_ETOOBIG);
    assert_string_equal (buf, "abc");
}

static void
percent_encode_keeps_unreserved_bytes_and_encodes_the_rest (void **state)
{
    char out [32];
    size_t used = 0;
    assert_true (ts_percent_encode (out, sizeof out, &used, "aZ09-._~"));
    assert_true (ts_percent_encode (out, sizeof out, &used, " /+\xc3\xa9"));
    assert_string_equal (out, "aZ09-._~%20%2F%2B%C3%A9");
    assert_int_equal (used, strlen (out));
    //  What does not fit is left out whole, never half an escape.
    char small [5];
    used = 0;
    assert_false (ts_percent_encode (small, sizeof small, &used, "ab/c"));
    assert_string_equal (small, "ab");
}

static void
mkdirs_creates_parents_and_accepts_existing (void **state)
{
    char base [] = "/tmp/test_ts_common.XXXXXX";
    assert_non_null (mkdtemp (base));
    char path [256], file [256];
    snprintf (path, sizeof path, "%s/a/b/c", base);
    assert_int_equal (ts_mkdirs (path, 0750), 0);
    assert_int_equal (ts_mkdirs (path, 0750), 0);
    snprintf (file, sizeof file, "%s/f", base);
    FILE *f = fopen (file, "w");
    assert_non_null (f);
    fclose (f);
    assert_int_equal (ts_mkdirs (file, 0750), ENOTDIR);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", base);
    assert_int_equal (system (cmd), 0);
}

static void
strerror_names_every_code (void **state)
{
    for (int code = TS_EAUTH; code <= 0; code++)
        assert_string_not_equal (ts_strerror (code), "unknown error");
    assert_string_equal (ts_strerror (-999), "unknown error");
}

static void
rid_is_bounded_to_name_characters_and_new_ones_differ (void **state)
{
    assert_true (ts_rid_valid_n ("a-1.b:C_d", 9));
    assert_false (ts_rid_valid_n ("", 0));
    assert_false (ts_rid_valid_n ("two words", 9));
    assert_false (ts_rid_valid_n ("a\nb", 3));
    char long_rid [TS_RID_MAX + 2];
    memset (long_rid, 'x', sizeof long_rid);
    assert_true (ts_rid_valid_n (long_rid, TS_RID_MAX));
    assert_false (ts_rid_valid_n (long_rid, TS_RID_MAX + 1));
    char a [TS_RID_MAX + 1], b [TS_RID_MAX + 1];
    ts_rid_new (a);
    ts_rid_new (b);
    assert_int_equal (strlen (a), 16);
    assert_true (ts_rid_valid_n (a, strlen (a)));
    assert_string_not_equal (a, b);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (rid_is_bounded_to_name_characters_and_new_ones_differ),
        cmocka_unit_test (name_accepts_allowed_characters),
        cmocka_unit_test (name_rejects_empty_long_and_query_characters),
        cmocka_unit_test (time_parse_takes_epoch_ms_and_rfc3339),
        cmocka_unit_test (time_parse_rejects_garbage_and_impossible_dates),
        cmocka_unit_test (time_parse_iso_is_lenient_about_zone_and_seconds),
        cmocka_unit_test (time_format_round_trips_with_parse),
        cmocka_unit_test (secure_equal_compares_bytes_and_lengths),
        cmocka_unit_test (strlist_appends_and_finds),
        cmocka_unit_test (strlist_reuses_buffers_after_clear),
        cmocka_unit_test (strset_finds_repeats_and_resets_only_what_it_needs),
        cmocka_unit_test (name_rejects_dot_and_dot_dot_that_existing_names_may_be),
        cmocka_unit_test (name_rejects_a_leading_dash_that_existing_names_may_have),
        cmocka_unit_test (name_errf_says_the_rule_and_shows_the_name_printably),
        cmocka_unit_test (strlcpy_reports_truncation),
        cmocka_unit_test (percent_encode_keeps_unreserved_bytes_and_encodes_the_rest),
        cmocka_unit_test (mkdirs_creates_parents_and_accepts_existing),
        cmocka_unit_test (strerror_names_every_code),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_common", tests, NULL, NULL);
}
