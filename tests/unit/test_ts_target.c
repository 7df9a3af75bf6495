/*  test_ts_target - HTTP request targets: path segments decoded one by
    one, query parameters form-decoded, malformed escapes refused. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_target.h"

static ts_target_t *
s_parse (const char *text)
{
    ts_target_t *target = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_target_parse (text, &target, err), 0);
    assert_non_null (target);
    return target;
}

static void
target_splits_path_into_decoded_segments (void **state)
{
    ts_target_t *target = s_parse ("/v1/series/a%2Eb%3Ac");
    assert_int_equal (ts_target_segments (target), 3);
    assert_string_equal (ts_target_segment (target, 0), "v1");
    assert_string_equal (ts_target_segment (target, 1), "series");
    assert_string_equal (ts_target_segment (target, 2), "a.b:c");
    assert_null (ts_target_segment (target, 3));
    assert_null (ts_target_param (target, "from"));
    ts_target_destroy (&target);
    assert_null (target);

    target = s_parse ("/");
    assert_int_equal (ts_target_segments (target), 0);
    ts_target_destroy (&target);
}

static void
target_keeps_an_encoded_slash_inside_its_segment (void **state)
{
    ts_target_t *target = s_parse ("/v1/ids/a%2Fb");
    assert_int_equal (ts_target_segments (target), 3);
    assert_string_equal (ts_target_segment (target, 2), "a/b");
    ts_target_destroy (&target);
}

static void
target_ignores_one_trailing_slash_but_keeps_empty_segments (void **state)
{
    ts_target_t *target = s_parse ("/v1/ids/");
    assert_int_equal (ts_target_segments (target), 2);
    assert_true (ts_target_trailing_slash (target));
    ts_target_destroy (&target);
    target = s_parse ("/v1//ids");
    assert_int_equal (ts_target_segments (target), 3);
    assert_string_equal (ts_target_segment (target, 1), "");
    assert_false (ts_target_trailing_slash (target));
    ts_target_destroy (&target);
    target = s_parse ("/?a=/");
    assert_false (ts_target_trailing_slash (target));
    ts_target_destroy (&target);
}

static void
target_counts_parameters_and_finds_the_last_of_a_repeated_one (void **state)
{
    ts_target_t *target = s_parse ("/x?a=1&b&a=2&&a=");
    assert_int_equal (ts_target_params (target), 4);
    assert_string_equal (ts_target_param (target, "a"), "1");
    assert_string_equal (ts_target_param_last (target, "a"), "");
    assert_string_equal (ts_target_param_last (target, "b"), "");
    assert_null (ts_target_param_last (target, "c"));
    ts_target_destroy (&target);
    const char *none [] = { "/x", "/x?", "/x?&&", "/x?#a=1" };
    for (size_t i = 0; i < sizeof none / sizeof none [0]; i++) {
        target = s_parse (none [i]);
        assert_int_equal (ts_target_params (target), 0);
        ts_target_destroy (&target);
    }
}

static void
target_form_decodes_query_parameters (void **state)
{
    ts_target_t *target = s_parse (
        "/x?from=2024-11-24T00%3A00%3A00%2B01%3A00&to=5&flag&empty="
        "&q=a+b%20c&to=6&&x%41y=1#frag");
    assert_string_equal (ts_target_param (target, "from"),
                         "2024-11-24T00:00:00+01:00");
    assert_string_equal (ts_target_param (target, "to"), "5");
    assert_string_equal (ts_target_param (target, "flag"), "");
    assert_string_equal (ts_target_param (target, "empty"), "");
    assert_string_equal (ts_target_param (target, "q"), "a b c");
    assert_string_equal (ts_target_param (target, "xAy"), "1");
    assert_null (ts_target_param (target, "frag"));
    assert_null (ts_target_param (target, "missing"));
    assert_int_equal (ts_target_segments (target), 1);
    ts_target_destroy (&target);
}

static void
target_rejects_bad_percent_escapes (void **state)
{
    const char *bad [] = { "/a%2", "/a%", "/a%zz", "/a%00b", "/a?x=%4",
                           "/a?x=%G1", "/a?%00=1", "/a?x=1%00" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        ts_target_t *target = NULL;
        char err [TS_ERRLEN] = "";
        assert_int_equal (ts_target_parse (bad [i], &target, err), TS_EINVAL);
        assert_null (target);
        assert_non_null (strstr (err, "percent-encoding"));
    }
}

static void
target_rejects_targets_without_slash_or_too_long (void **state)
{
    ts_target_t *target = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_target_parse ("v1/ids", &target, err), TS_EINVAL);
    assert_int_equal (ts_target_parse ("", &target, err), TS_EINVAL);
    assert_int_equal (ts_target_parse ("*", &target, err), TS_EINVAL);
    char *longer = malloc (TS_TARGET_MAX + 2);
    memset (longer, 'a', TS_TARGET_MAX + 1);
    longer [0] = '/';
    longer [TS_TARGET_MAX + 1] = 0;
    assert_int_equal (ts_target_parse (longer, &target, err), TS_EINVAL);
    assert_null (target);
    free (longer);
}

static void
decode_turns_plus_into_space_only_for_forms (void **state)
{
    char *out = NULL;
    assert_int_equal (ts_target_decode ("a+b%41", 6, true, &out), 0);
    assert_string_equal (out, "a bA");
    free (out);
    assert_int_equal (ts_target_decode ("a+b", 3, false, &out), 0);
    assert_string_equal (out, "a+b");
    free (out);
    //  len bounds the input: an escape cut by len is malformed.
    assert_int_equal (ts_target_decode ("a%41", 3, false, &out), TS_EINVAL);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (target_splits_path_into_decoded_segments),
        cmocka_unit_test (target_keeps_an_encoded_slash_inside_its_segment),
        cmocka_unit_test (target_ignores_one_trailing_slash_but_keeps_empty_segments),
        cmocka_unit_test (target_counts_parameters_and_finds_the_last_of_a_repeated_one),
        cmocka_unit_test (target_form_decodes_query_parameters),
        cmocka_unit_test (target_rejects_bad_percent_escapes),
        cmocka_unit_test (target_rejects_targets_without_slash_or_too_long),
        cmocka_unit_test (decode_turns_plus_into_space_only_for_forms),
    };
    return cmocka_run_group_tests_name ("ts_target", tests, NULL, NULL);
}
