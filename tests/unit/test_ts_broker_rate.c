/*  test_ts_broker_rate - the broker's rate limit per source
    (broker/ts_broker_rate.c) as a dispatch asks it: a source without
    tokens is held back while other sources' jobs go (no head-of-line
    blocking), a held source keeps its jobs in order, the walk stops when
    every source is held, a 429 or Retry-After pauses the whole source,
    and the metrics show it. The broker is a bare struct with a config:
    nothing else of it is needed. The buckets run on the real monotonic
    clock; every check is far from a refill (rates of one an hour). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../broker/ts_broker_internal.h"

static const char *s_yaml =
    "sources:\n"
    "  - name: slow\n"
    "    rate_limit: {rate: 1/h, burst: 3}\n"
    "  - name: fast\n"
    "  - name: metered\n"
    "    rate_limit: {rate: 2/h, burst: 1}\n";

typedef struct {
    ts_config_t *cfg;
    ts_broker_t  broker;            //  only cfg and rate are used
    ts_job_t    *job;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    char err [TS_ERRLEN] = "";
    fx->cfg = ts_config_load_text (s_yaml, "test.yaml", err);
    if (!fx->cfg)
        fail_msg ("config: %s", err);
    fx->broker.cfg = fx->cfg;
    assert_int_equal (ts_broker_rate_open (&fx->broker, err), 0);
    fx->job = ts_job_new ();
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    ts_broker_rate_close (&fx->broker);
    ts_config_destroy (&fx->cfg);
    ts_job_destroy (&fx->job);
    free (fx);
    return 0;
}

//  What the accept function says of a job of source with n ids.
static ts_queue_accept_t
s_ask (fixture_t *fx, const char *source, size_t n)
{
    ts_strlist_clear (fx->job->ids);
    for (size_t i = 0; i < n; i++)
        ts_strlist_append (fx->job->ids, "x");
    ts_strlcpy (fx->job->source, source, sizeof fx->job->source);
    return ts_broker_rate_accept (fx->job, fx->broker.rate);
}

static void
rate_holds_back_a_source_without_tokens_while_others_go (void **state)
{
    fixture_t *fx = *state;
    ts_broker_rate_begin (&fx->broker);
    assert_int_equal (ts_broker_rate_next_ms (&fx->broker), -1);
    assert_int_equal (s_ask (fx, "slow", 3), TS_QUEUE_TAKE);
    assert_int_equal (s_ask (fx, "slow", 1), TS_QUEUE_SKIP);
    //  Jobs of the other sources are leased past it.
    assert_int_equal (s_ask (fx, "fast", 1), TS_QUEUE_TAKE);
    assert_int_equal (s_ask (fx, "fast", 50), TS_QUEUE_TAKE);
    assert_int_equal (s_ask (fx, "metered", 1), TS_QUEUE_TAKE);
    //  The broker wakes when the held source has its token: in an hour.
    int64_t next = ts_broker_rate_next_ms (&fx->broker);
    assert_in_range (next - ts_mono_ms (), 3590000, 3600000);
}

static void
rate_keeps_a_held_source_in_order_for_the_pass (void **state)
{
    fixture_t *fx = *state;
    ts_broker_rate_begin (&fx->broker);
    assert_int_equal (s_ask (fx, "slow", 2), TS_QUEUE_TAKE);
    //  1 token left: a job of 2 is held, and so is the job of 1 after
    //  it, which must not overtake it.
    assert_int_equal (s_ask (fx, "slow", 2), TS_QUEUE_SKIP);
    assert_int_equal (s_ask (fx, "slow", 1), TS_QUEUE_SKIP);
    //  The next pass asks afresh: the job of 1 still is not first.
    ts_broker_rate_begin (&fx->broker);
    assert_int_equal (s_ask (fx, "slow", 1), TS_QUEUE_TAKE);
}

static void
rate_walk_goes_on_while_a_source_can_take_and_stops_when_none_can
    (void **state)
{
    fixture_t *fx = *state;
    ts_broker_rate_begin (&fx->broker);
    assert_int_equal (s_ask (fx, "metered", 1), TS_QUEUE_TAKE);
    assert_int_equal (s_ask (fx, "metered", 1), TS_QUEUE_SKIP);
    assert_int_equal (s_ask (fx, "slow", 3), TS_QUEUE_TAKE);
    assert_int_equal (s_ask (fx, "slow", 1), TS_QUEUE_SKIP);
    assert_int_equal (s_ask (fx, "fast", 1), TS_QUEUE_TAKE);
    //  fast has no limit and is never held: the walk goes on.
    assert_int_equal (s_ask (fx, "slow", 1), TS_QUEUE_SKIP);

    //  One source (upstream:, "default"), held: nothing more can go.
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (
        "upstream:\n  rate_limit: {rate: 1/h, burst: 1}\n", "one.yaml", err);
    assert_non_null (cfg);
    ts_broker_t broker = { .cfg = cfg };
    assert_int_equal (ts_broker_rate_open (&broker, err), 0);
    ts_broker_rate_begin (&broker);
    strcpy (fx->job->source, "");
    assert_int_equal (ts_broker_rate_accept (fx->job, broker.rate),
                      TS_QUEUE_TAKE);
    assert_int_equal (ts_broker_rate_accept (fx->job, broker.rate),
                      TS_QUEUE_STOP);
    strcpy (fx->job->source, "default");
    assert_int_equal (ts_broker_rate_accept (fx->job, broker.rate),
                      TS_QUEUE_STOP);
    ts_broker_rate_close (&broker);
    ts_config_destroy (&cfg);
}

static void
rate_takes_the_first_source_for_no_name_and_others_unmetered (void **state)
{
    fixture_t *fx = *state;
    ts_broker_rate_begin (&fx->broker);
    //  "" is the first source, slow.
    assert_int_equal (s_ask (fx, "", 3), TS_QUEUE_TAKE);
    assert_int_equal (s_ask (fx, "slow", 1), TS_QUEUE_SKIP);
    //  A source no longer configured is not metered.
    assert_int_equal (s_ask (fx, "gone", 100), TS_QUEUE_TAKE);
}

static void
rate_pushback_pauses_the_whole_source (void **state)
{
    fixture_t *fx = *state;
    ts_msg_t *msg = ts_msg_new (TS_OP_FAILED);
    //  A failure that is no pushback changes nothing.
    ts_strlcpy (msg->kind, "http_5xx", sizeof msg->kind);
    ts_broker_rate_pushback (&fx->broker, "fast", msg);
    ts_broker_rate_begin (&fx->broker);
    assert_int_equal (s_ask (fx, "fast", 1), TS_QUEUE_TAKE);
    //  A 429 with Retry-After: the source is held, whoever asks.
    ts_strlcpy (msg->kind, "http_429", sizeof msg->kind);
    msg->retry_after_ms = 60000;
    ts_broker_rate_pushback (&fx->broker, "fast", msg);
    ts_broker_rate_begin (&fx->broker);
    assert_int_equal (s_ask (fx, "fast", 1), TS_QUEUE_SKIP);
    assert_int_equal (s_ask (fx, "metered", 1), TS_QUEUE_TAKE);
    int64_t next = ts_broker_rate_next_ms (&fx->broker);
    assert_in_range (next - ts_mono_ms (), 59000, 60000);
    //  The metrics show it.
    ts_prom_t *prom = ts_prom_new (1 << 16);
    ts_broker_rate_metrics (&fx->broker, prom);
    const char *text = ts_prom_text (prom, NULL);
    assert_non_null (strstr (text, "tscache_source_paused{source=\"fast\"} 1\n"));
    assert_non_null (strstr (text, "tscache_source_paused{source=\"slow\"} 0\n"));
    assert_non_null (strstr (text,
        "tscache_source_pushbacks_total{source=\"fast\"} 1\n"));
    assert_non_null (strstr (text,
        "tscache_source_requests_dispatched_total{source=\"fast\"} 1\n"));
    assert_non_null (strstr (text,
        "tscache_source_rate_limit{source=\"metered\"} 0.000555"));
    assert_null (strstr (text, "tscache_source_rate_limit{source=\"fast\"}"));
    ts_prom_destroy (&prom);
    ts_msg_destroy (&msg);
}

int
main (int argc, char *argv [])
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (rate_holds_back_a_source_without_tokens_while_others_go),
        T (rate_keeps_a_held_source_in_order_for_the_pass),
        T (rate_walk_goes_on_while_a_source_can_take_and_stops_when_none_can),
        T (rate_takes_the_first_source_for_no_name_and_others_unmetered),
        T (rate_pushback_pauses_the_whole_source),
    };
#undef T
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_broker_rate", tests, NULL, NULL);
}
