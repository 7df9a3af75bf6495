/*  test_ts_api_broker - the ops the gateway's request handler forwards
    to the broker (gateway/ts_api.c over ts_client): hydrate, job_state,
    stats and the dlq ops, with a broker played by a thread on inproc
    (ts_fakebroker): replies passed on, 503 when it is silent, 502 for a
    reply it cannot take, a late answer never taken for the next one,
    calls from two threads side by side. Fixture in ts_api_fixture.h. */

#include "ts_api_fixture.h"

static void
api_hydrate_answers_404_naming_the_first_unknown_id (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_msg_reset (self->req, TS_OP_HYDRATE);
    ts_strlist_append (self->req->ids, "a");
    ts_strlist_append (self->req->ids, "x1");
    ts_strlist_append (self->req->ids, "x2");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
    assert_non_null (strstr (self->reply->detail, "'x1'"));
}

static void
api_hydrate_answers_503_when_the_broker_is_silent (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    ts_api_set_broker_timeout (self->api, 100);
    ts_msg_reset (self->req, TS_OP_HYDRATE);
    ts_strlist_append (self->req->ids, "a");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 503);
    assert_string_equal (self->reply->error, "unavailable");
    assert_string_equal (self->reply->detail, "broker did not answer");
    //  A second try fails the same way: nothing of the first one is
    //  left in the way.
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 503);
    assert_int_equal (ts_fakebroker_requests (broker), 2);
    ts_fakebroker_destroy (&broker);
}

//  Plays the broker: answers each hydrate with 202 and count = ids.
static void *
s_broker_thread (void *args)
{
    zsock_t *rep = args;
    for (int i = 0; i < 2; i++) {
        zframe_t *frame = zframe_recv (rep);
        if (!frame)
            break;
        ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
        char err [TS_ERRLEN];
        int rc = ts_msg_decode (msg, zframe_data (frame), zframe_size (frame),
                                TS_PROTO_MAX_REQUEST, err);
        size_t n = rc == 0 && msg->op == TS_OP_HYDRATE? msg->ids->n: 0;
        ts_msg_set_ok (msg, 202);
        msg->count = n;
        char *data;
        size_t size;
        ts_msg_encode (msg, &data, &size);
        zsock_send (rep, "b", data, size);
        free (data);
        ts_msg_destroy (&msg);
        zframe_destroy (&frame);
    }
    return NULL;
}

static void
api_hydrate_passes_on_the_broker_reply (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    s_register (self, "b");
    zsock_t *rep = zsock_new_rep ("@" BROKER);
    assert_non_null (rep);
    pthread_t thread;
    pthread_create (&thread, NULL, s_broker_thread, rep);
    ts_msg_reset (self->req, TS_OP_HYDRATE);
    ts_strlist_append (self->req->ids, "a");
    ts_strlist_append (self->req->ids, "b");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 202);
    assert_int_equal (self->reply->count, 2);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 202);
    pthread_join (thread, NULL);
    zsock_unbind (rep, "%s", BROKER);       //  now, not when reaped
    zsock_destroy (&rep);
}

static void
api_passes_on_the_jobs_of_a_hydrate_and_their_states (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    s_register (self, "b");
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_msg_reset (self->req, TS_OP_HYDRATE);
    ts_strlist_append (self->req->ids, "a");
    ts_strlist_append (self->req->ids, "b");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 202);
    assert_int_equal (self->reply->jobs_n, 2);
    assert_int_equal (self->reply->jobs [0], 100);
    assert_int_equal (self->reply->jobs [1], 101);

    ts_msg_reset (self->req, TS_OP_JOB_STATE);
    ts_msg_add_job (self->req, 100);
    ts_msg_add_job (self->req, 101);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_JOB_STATE);
    assert_true (self->reply->has_states);
    assert_int_equal (self->reply->states_n, 2);
    assert_int_equal (self->reply->states [0].job, 100);
    assert_int_equal (self->reply->states [0].status, TS_JOB_STATUS_DONE);
    assert_int_equal (self->reply->states [1].status, TS_JOB_STATUS_DEAD);
    assert_string_equal (self->reply->states [1].error, "HTTP 404");
    ts_fakebroker_destroy (&broker);
}

static void
api_forwards_stats_and_passes_the_reply_on (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_STATS);
    ts_msg_t *expect = ts_msg_new (TS_OP_REPLY);
    ts_fakebroker_stats (expect);
    const ts_stats_t *got = &self->reply->stats;
    assert_true (self->reply->has_stats);
    assert_int_equal (got->queued, expect->stats.queued);
    assert_int_equal (got->done, expect->stats.done);
    assert_int_equal (got->dead_lettered, expect->stats.dead_lettered);
    assert_int_equal (got->oldest_age_ms, expect->stats.oldest_age_ms);
    assert_int_equal (got->workers_n, 2);
    assert_string_equal (got->workers [1].name, "0a1c");
    assert_int_equal (got->workers [1].credit, 16);
    ts_msg_destroy (&expect);
    ts_fakebroker_destroy (&broker);
}

static void
api_forwards_dlq_ls_redrive_and_purge (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);

    ts_msg_reset (self->req, TS_OP_DLQ_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_true (self->reply->has_dlq);
    assert_int_equal (self->reply->dlq_n, 2);
    assert_int_equal (self->reply->dlq [1].job, 9);
    assert_int_equal (self->reply->dlq [1].ids->n, 2);
    assert_string_equal (self->reply->dlq [1].error, "HTTP 404: \"no\"");

    //  Redrive needs no registered ids: the series may be gone by now
    ts_msg_reset (self->req, TS_OP_DLQ_REDRIVE);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 2);
    assert_int_equal (ts_fakebroker_last_ids (broker), 0);
    ts_strlist_append (self->req->ids, "gone");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_DLQ_REDRIVE);
    assert_int_equal (ts_fakebroker_last_ids (broker), 1);
    assert_int_equal (self->reply->count, 1);

    ts_msg_reset (self->req, TS_OP_DLQ_PURGE);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_DLQ_PURGE);
    assert_int_equal (self->reply->count, 2);
    assert_int_equal (ts_fakebroker_requests (broker), 4);
    ts_fakebroker_destroy (&broker);
}

static void
api_dlq_redrive_rejects_invalid_ids_before_asking_the_broker (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_msg_reset (self->req, TS_OP_DLQ_REDRIVE);
    ts_strlist_append (self->req->ids, "ok");
    ts_strlist_append (self->req->ids, "not/ok");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_non_null (strstr (self->reply->detail, "not/ok"));
    assert_int_equal (ts_fakebroker_requests (broker), 0);
    ts_fakebroker_destroy (&broker);
}

static void
api_answers_502_when_the_broker_reply_lacks_its_payload (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_BARE);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_string_equal (self->reply->error, "bad_gateway");
    assert_non_null (strstr (self->reply->detail, "without 'stats'"));
    ts_msg_reset (self->req, TS_OP_DLQ_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_non_null (strstr (self->reply->detail, "without 'dlq'"));
    ts_msg_reset (self->req, TS_OP_JOB_STATE);
    ts_msg_add_job (self->req, 1);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_non_null (strstr (self->reply->detail, "without 'states'"));
    //  A bare 200 is all a purge needs
    ts_msg_reset (self->req, TS_OP_DLQ_PURGE);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 0);

    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_GARBAGE);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_non_null (strstr (self->reply->detail, "bad reply from broker"));
    //  The next call works
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_CANNED);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    ts_fakebroker_destroy (&broker);
}

static void
api_broker_ops_answer_503_when_the_broker_is_silent (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    ts_api_set_broker_timeout (self->api, 100);
    ts_op_t ops [] = { TS_OP_STATS, TS_OP_DLQ_LS, TS_OP_DLQ_REDRIVE,
                       TS_OP_DLQ_PURGE };
    for (size_t i = 0; i < sizeof ops / sizeof ops [0]; i++) {
        ts_msg_reset (self->req, ops [i]);
        assert_int_equal (ts_api_handle (self->api, self->req, self->reply),
                          503);
        assert_string_equal (self->reply->error, "unavailable");
    }
    ts_fakebroker_destroy (&broker);
}

static void
api_answers_502_for_a_two_frame_broker_reply_then_works_again (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_TWO_FRAMES);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 502);
    assert_string_equal (self->reply->error, "bad_gateway");
    assert_non_null (strstr (self->reply->detail,
                             "one body frame after the delimiter, got 2"));
    //  The next call gets its own answer.
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_CANNED);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_true (self->reply->has_stats);
    ts_fakebroker_destroy (&broker);
}

static void
api_late_broker_answer_is_not_taken_for_the_next_one (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    //  The stats request is held past its deadline; the broker answers
    //  it only when the dlq_ls request comes, just before answering that.
    ts_fakebroker_hold (broker, 2);
    ts_api_set_broker_timeout (self->api, 200);
    ts_msg_reset (self->req, TS_OP_STATS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 503);
    ts_api_set_broker_timeout (self->api, 5000);
    ts_msg_reset (self->req, TS_OP_DLQ_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_true (self->reply->has_dlq);
    assert_false (self->reply->has_stats);
    assert_int_equal (ts_fakebroker_requests (broker), 2);
    ts_fakebroker_destroy (&broker);
}

typedef struct {
    ts_api_t *api;              //  shared handler
    ts_op_t   op;               //  op to forward
    int       status;           //  the answer's status
} s_call_t;

static void *
s_call_thread (void *args)
{
    s_call_t *call = args;
    ts_msg_t *req = ts_msg_new (call->op);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    call->status = ts_api_handle (call->api, req, reply);
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
    return NULL;
}

static void
api_calls_from_two_threads_wait_for_the_broker_side_by_side (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    //  The broker answers neither call until both are waiting: calls made
    //  one after the other would see the first one time out.
    ts_fakebroker_hold (broker, 2);
    ts_api_set_broker_timeout (self->api, 5000);
    s_call_t calls [2] = { { self->api, TS_OP_STATS, 0 },
                           { self->api, TS_OP_DLQ_LS, 0 } };
    pthread_t threads [2];
    for (int i = 0; i < 2; i++)
        pthread_create (&threads [i], NULL, s_call_thread, &calls [i]);
    for (int i = 0; i < 2; i++)
        pthread_join (threads [i], NULL);
    assert_int_equal (calls [0].status, 200);
    assert_int_equal (calls [1].status, 200);
    ts_fakebroker_destroy (&broker);
}

static void
api_lists_the_ops_it_forwards_to_the_broker (void **state)
{
    for (int op = TS_OP_REPLY; op < TS_OP_COUNT_; op++) {
        bool broker = op == TS_OP_HYDRATE || op == TS_OP_STATS
                   || op == TS_OP_DLQ_LS || op == TS_OP_DLQ_REDRIVE
                   || op == TS_OP_DLQ_PURGE || op == TS_OP_JOB_STATE;
        assert_int_equal (ts_api_forwarded ((ts_op_t) op), broker);
    }
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (api_hydrate_answers_404_naming_the_first_unknown_id),
        T (api_hydrate_answers_503_when_the_broker_is_silent),
        T (api_hydrate_passes_on_the_broker_reply),
        T (api_passes_on_the_jobs_of_a_hydrate_and_their_states),
        T (api_forwards_stats_and_passes_the_reply_on),
        T (api_forwards_dlq_ls_redrive_and_purge),
        T (api_dlq_redrive_rejects_invalid_ids_before_asking_the_broker),
        T (api_answers_502_when_the_broker_reply_lacks_its_payload),
        T (api_broker_ops_answer_503_when_the_broker_is_silent),
        T (api_answers_502_for_a_two_frame_broker_reply_then_works_again),
        T (api_late_broker_answer_is_not_taken_for_the_next_one),
        T (api_calls_from_two_threads_wait_for_the_broker_side_by_side),
        T (api_lists_the_ops_it_forwards_to_the_broker),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_api_broker", tests, NULL, NULL);
}
