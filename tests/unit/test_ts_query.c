/*  test_ts_query - the query parameter parser (common/ts_query): each
    parameter, its errors (naming the parameter, the value and what is
    expected), the whole-request checks, relative times, the automatic
    step, and page tokens (format, hash, range checks). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ts_query.h"

//  Reads name=text into msg; asserts rc and, on error, that err holds
//  each of the words.
static void
s_param (ts_msg_t *msg, const char *name, const char *text, int rc,
         const char *word1, const char *word2)
{
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_query_param (msg, name, text, err), rc);
    if (word1 && !strstr (err, word1))
        fail_msg ("'%s' not in '%s'", word1, err);
    if (word2 && !strstr (err, word2))
        fail_msg ("'%s' not in '%s'", word2, err);
}

static void
query_reads_times_absolute_and_relative (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    s_param (msg, "from", "1732406400000", 0, NULL, NULL);
    assert_true (msg->has_from && !msg->from_rel);
    assert_int_equal (msg->from_ms, 1732406400000LL);
    s_param (msg, "to", "2024-11-24T00:00:00Z", 0, NULL, NULL);
    assert_int_equal (msg->to_ms, 1732406400000LL);
    s_param (msg, "from", "now-24h", 0, NULL, NULL);
    assert_true (msg->from_rel);
    assert_int_equal (msg->from_ms, -86400000LL);
    s_param (msg, "to", "now+2d", 0, NULL, NULL);
    assert_int_equal (msg->to_ms, 2 * 86400000LL);
    s_param (msg, "to", "now", 0, NULL, NULL);
    assert_true (msg->to_rel);
    assert_int_equal (msg->to_ms, 0);
    ts_query_resolve (msg, 1000000000);
    assert_false (msg->from_rel || msg->to_rel);
    assert_int_equal (msg->from_ms, 1000000000 - 86400000LL);
    assert_int_equal (msg->to_ms, 1000000000);
    assert_int_equal (ts_query_instant (INT64_MAX, true, 5), INT64_MAX);
    const char *bad [] = { "yesterday", "now-", "now-3x", "now*2h", "nowh",
                           "12ab", "2024-13-01T00:00:00Z" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        s_param (msg, "from", bad [i], TS_EINVAL, "from:", bad [i]);
    ts_msg_destroy (&msg);
}

static void
query_reads_step_agg_fill_and_counts (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    s_param (msg, "step", "5m", 0, NULL, NULL);
    assert_int_equal (msg->step_ms, 300000);
    s_param (msg, "step", "1500", 0, NULL, NULL);
    assert_int_equal (msg->step_ms, 1500);
    s_param (msg, "step", "0", TS_EINVAL, "step:", "'0'");
    s_param (msg, "step", "-5m", TS_EINVAL, "step:", "duration");
    s_param (msg, "step", "5q", TS_EINVAL, "step:", "'5q'");
    for (int agg = TS_AGG_AVG; agg < TS_AGG_COUNT_; agg++) {
        s_param (msg, "agg", ts_agg_name (agg), 0, NULL, NULL);
        assert_int_equal (msg->agg, agg);
    }
    s_param (msg, "agg", "median", TS_EINVAL, "agg:", "avg, min, max");
    s_param (msg, "agg", "none", TS_EINVAL, "agg:", "'none'");
    for (int fill = TS_FILL_NONE; fill < TS_FILL_COUNT_; fill++) {
        s_param (msg, "fill", ts_fill_name (fill), 0, NULL, NULL);
        assert_int_equal (msg->fill, fill);
    }
    s_param (msg, "fill", "zero", TS_EINVAL, "fill:", "none, null or");
    s_param (msg, "max_points", "500", 0, NULL, NULL);
    assert_int_equal (msg->max_points, 500);
    s_param (msg, "max_points", "0", TS_EINVAL, "max_points:", "1 to");
    s_param (msg, "limit", "10", 0, NULL, NULL);
    assert_int_equal (msg->limit, 10);
    s_param (msg, "limit", "1e3", TS_EINVAL, "limit:", "'1e3'");
    s_param (msg, "limit", "99999999999", TS_EINVAL, "limit:", NULL);
    s_param (msg, "next", "q1.x", 0, NULL, NULL);
    assert_string_equal (msg->next, "q1.x");
    s_param (msg, "next", "a b", TS_EINVAL, "next:", NULL);
    s_param (msg, "format", "csv", 1, NULL, NULL);        //  not ours
    s_param (msg, "step", "", 0, NULL, NULL);             //  as if absent
    assert_int_equal (msg->step_ms, 1500);
    ts_msg_destroy (&msg);
}

static void
query_keeps_measures_and_the_single_measure (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    s_param (msg, "measure", "a", 0, NULL, NULL);
    assert_string_equal (msg->measure, "a");
    s_param (msg, "measure", "b", 0, NULL, NULL);
    s_param (msg, "measure", "a", 0, NULL, NULL);         //  once
    assert_int_equal (msg->measures->n, 2);
    assert_string_equal (msg->measure, "");
    s_param (msg, "measure", "no good", TS_EINVAL, "measure", NULL);
    for (int i = 0; i < TS_PROTO_MAX_QUERY_MEASURES; i++) {
        char name [16];
        snprintf (name, sizeof name, "m%d", i);
        ts_query_param (msg, "measure", name, NULL);
    }
    s_param (msg, "measure", "one-more", TS_EINVAL, "more than", NULL);
    ts_msg_destroy (&msg);
}

static void
query_check_wants_a_step_for_agg_and_fill (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_query_check (msg, err), 0);
    msg->agg = TS_AGG_MAX;
    assert_int_equal (ts_query_check (msg, err), TS_EINVAL);
    assert_non_null (strstr (err, "agg: 'max' needs step or max_points"));
    msg->agg = TS_AGG_NONE;
    msg->fill = TS_FILL_NULL;
    assert_int_equal (ts_query_check (msg, err), TS_EINVAL);
    msg->max_points = 10;
    assert_int_equal (ts_query_check (msg, err), 0);
    ts_msg_destroy (&msg);
}

static void
query_auto_step_keeps_buckets_under_max_points (void **state)
{
    int64_t day = 86400000;
    for (uint32_t max = 1; max < 3000; max = max * 3 + 1) {
        int64_t step = ts_query_auto_step (0, max, 17, 17 + 7 * day);
        int64_t buckets = (17 + 7 * day) / step - 17 / step + 1;
        assert_true (buckets <= max);
    }
    assert_int_equal (ts_query_auto_step (0, 288, 0, day - 1), 300000);
    assert_int_equal (ts_query_auto_step (0, 24, 0, day - 1), 3600000);
    assert_int_equal (ts_query_auto_step (5, 0, 0, day), 5);
    //  The whole int64 range: no overflow, a step of weeks.
    assert_true (ts_query_auto_step (0, 1000, INT64_MIN, INT64_MAX)
                 >= 604800000);
}

static void
query_tokens_round_trip_and_are_checked (void **state)
{
    ts_msg_t *msg = ts_msg_new (TS_OP_QUERY);
    ts_strlcpy (msg->id, "a", sizeof msg->id);
    ts_query_param (msg, "from", "now-1h", NULL);
    ts_query_param (msg, "step", "1m", NULL);
    ts_query_token_t token = { ts_query_hash (msg), -5, 1000, 500, 3 };
    ts_query_token_format (&token, msg->next);
    assert_true (ts_name_existing (msg->next));
    assert_true (strlen (msg->next) < 100);
    ts_query_token_t back;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_query_token_parse (msg, &back, err), 0);
    assert_int_equal (back.from_ms, -5);
    assert_int_equal (back.to_ms, 1000);
    assert_int_equal (back.time_ms, 500);
    assert_int_equal (back.at_time, 3);
    //  Another step, another relative offset, a fixed to that differs.
    ts_query_param (msg, "step", "2m", NULL);
    assert_int_equal (ts_query_token_parse (msg, &back, err), TS_EINVAL);
    assert_non_null (strstr (err, "another query"));
    ts_query_param (msg, "step", "1m", NULL);
    ts_query_param (msg, "to", "999", NULL);
    assert_int_equal (ts_query_token_parse (msg, &back, err), TS_EINVAL);
    ts_query_param (msg, "to", "1000", NULL);
    assert_int_equal (ts_query_token_parse (msg, &back, err), 0);
    ts_strlcpy (msg->next, "q1.0.1.2", sizeof msg->next);
    assert_int_equal (ts_query_token_parse (msg, &back, err), TS_EINVAL);
    assert_non_null (strstr (err, "not a page token"));
    ts_msg_destroy (&msg);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (query_reads_times_absolute_and_relative),
        cmocka_unit_test (query_reads_step_agg_fill_and_counts),
        cmocka_unit_test (query_keeps_measures_and_the_single_measure),
        cmocka_unit_test (query_check_wants_a_step_for_agg_and_fill),
        cmocka_unit_test (query_auto_step_keeps_buckets_under_max_points),
        cmocka_unit_test (query_tokens_round_trip_and_are_checked),
    };
    return cmocka_run_group_tests_name ("ts_query", tests, NULL, NULL);
}
