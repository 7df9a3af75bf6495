/*  test_ts_accept - a series answer's encoding: format= wins, Accept is
    read with weights and specificity, JSON by default, 406 when Accept
    names neither JSON nor CSV. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../gateway/ts_accept.h"

//  The status ts_accept_series answers for format and accept (NULL: not
//  given), its pick in *as.
static int
s_pick (const char *format, const char *accept, ts_accept_t *as)
{
    char err [TS_ERRLEN] = "";
    int status = ts_accept_series (format, accept,
                                   accept? strlen (accept): 0, as, err);
    if (status)
        assert_true (strlen (err) > 0);
    return status;
}

static void
accept_missing_empty_or_any_is_json (void **state)
{
    ts_accept_t as;
    assert_int_equal (s_pick (NULL, NULL, &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    assert_int_equal (s_pick (NULL, "", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    assert_int_equal (s_pick (NULL, "  ", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    assert_int_equal (s_pick (NULL, "*/*", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    assert_int_equal (s_pick (NULL, "application/json", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    assert_int_equal (s_pick (NULL, "application/*", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    assert_int_equal (s_pick ("", "APPLICATION/JSON; charset=utf-8", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
}

static void
accept_text_csv_or_text_any_is_csv (void **state)
{
    ts_accept_t as;
    assert_int_equal (s_pick (NULL, "text/csv", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
    assert_int_equal (s_pick (NULL, "text/*", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
    assert_int_equal (s_pick (NULL, "text/csv;header=present", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
    assert_int_equal (s_pick (NULL, "application/xml, text/csv", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
}

static void
accept_weights_and_order_decide_between_both (void **state)
{
    ts_accept_t as;
    assert_int_equal (s_pick (NULL, "application/json;q=0.5, text/csv", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
    assert_int_equal (s_pick (NULL, "text/csv;q=0.2, application/json", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    //  Equal weights: the range listed first.
    assert_int_equal (s_pick (NULL, "text/csv, application/json", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
    assert_int_equal (s_pick (NULL, "application/json, text/csv", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    //  A browser's: text/html first, then */* at 0.8: JSON.
    assert_int_equal (s_pick (NULL, "text/html,application/xhtml+xml,"
                              "application/xml;q=0.9,*/*;q=0.8", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    //  The most specific range sets the weight: text/csv;q=0 refuses CSV
    //  even under */*.
    assert_int_equal (s_pick (NULL, "*/*, text/csv;q=0", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    assert_int_equal (s_pick (NULL, "text/csv, */*;q=0.1", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
    //  Several Accept fields, joined by ts_h1.
    assert_int_equal (s_pick (NULL, "application/xml, text/csv;q=0.9", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
}

static void
accept_naming_neither_is_406 (void **state)
{
    ts_accept_t as;
    assert_int_equal (s_pick (NULL, "application/xml", &as), 406);
    assert_int_equal (s_pick (NULL, "text/html, image/png", &as), 406);
    assert_int_equal (s_pick (NULL, "text/csv;q=0, application/json;q=0",
                              &as), 406);
    assert_int_equal (s_pick (NULL, "*/*;q=0", &as), 406);
    //  A malformed weight drops its range.
    assert_int_equal (s_pick (NULL, "text/csv;q=2", &as), 406);
    assert_int_equal (s_pick (NULL, "text/csv;q=abc", &as), 406);
    assert_int_equal (s_pick (NULL, ",,;", &as), 406);
}

static void
format_parameter_wins_and_is_checked (void **state)
{
    ts_accept_t as;
    assert_int_equal (s_pick ("csv", "application/json", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
    assert_int_equal (s_pick ("json", "text/csv", &as), 0);
    assert_int_equal (as, TS_ACCEPT_JSON);
    assert_int_equal (s_pick ("csv", "application/xml", &as), 0);
    assert_int_equal (as, TS_ACCEPT_CSV);
    assert_int_equal (s_pick ("xml", NULL, &as), 400);
    assert_int_equal (s_pick ("CSV", NULL, &as), 400);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (accept_missing_empty_or_any_is_json),
        cmocka_unit_test (accept_text_csv_or_text_any_is_csv),
        cmocka_unit_test (accept_weights_and_order_decide_between_both),
        cmocka_unit_test (accept_naming_neither_is_406),
        cmocka_unit_test (format_parameter_wins_and_is_checked),
    };
    return cmocka_run_group_tests_name ("ts_accept", tests, NULL, NULL);
}
