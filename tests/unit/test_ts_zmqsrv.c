/*  test_ts_zmqsrv - the gateway's ZeroMQ front end: malformed bodies get
    error replies, and the ROUTER loop answers REQ and DEALER clients and
    messages of the wrong shape, then stops on the interrupt flag. The
    broker ops (stats, dlq_*, hydrate) are answered through a fake broker:
    forwarded without holding the loop, checked before, and a malformed
    or late broker answer is never passed on as it is. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_log.h"
#include "../../gateway/ts_zmqsrv.h"
#include "ts_testutil.h"
#include "ts_fakebroker.h"

#define ENDPOINT "inproc://test-ts-zmqsrv"
#define BROKER   "inproc://test-ts-zmqsrv-broker"

typedef struct s_rig s_rig_t;

typedef struct {
    ts_testutil_t *base;        //  temporary directory, config, store
    ts_api_t      *api;         //  request handler
    ts_msg_t      *reply;       //  decoded reply
    s_rig_t       *rig;         //  running rig, stopped by teardown if a
                                //  failed check left it running
    bool           probe;       //  the next rig pings for readiness
} fixture_t;

static void s_rig_stop (fixture_t *self);

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    *state = self;
    self->base = ts_testutil_new (16, "gateway:\n  zmq_bind: " ENDPOINT "\n"
                                  "  broker_endpoint: " BROKER "\n");
    if (!self->base)
        return -1;
    char err [TS_ERRLEN] = "";
    self->api = ts_api_new (self->base->cfg, self->base->store, err);
    if (!self->api) {
        fprintf (stderr, "setup: %s\n", err);
        return -1;
    }
    self->reply = ts_msg_new (TS_OP_REPLY);
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    s_rig_stop (self);
    ts_msg_destroy (&self->reply);
    ts_api_destroy (&self->api);
    ts_testutil_destroy (&self->base);
    free (self);
    return 0;
}

//  Answers data and decodes the reply into self->reply; returns status.
static int
s_answer (fixture_t *self, const void *data, size_t size)
{
    char *out = NULL;
    size_t out_size = 0;
    assert_int_equal (ts_zmqsrv_answer (self->api, data, size, &out,
                                        &out_size), 0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_msg_decode (self->reply, out, out_size,
                                     TS_PROTO_MAX_REQUEST, err), 0);
    free (out);
    return self->reply->status;
}

static void
answer_gives_400_with_detail_for_garbage (void **state)
{
    fixture_t *self = *state;
    const char *garbage [] = { "garbage", "\x85\xa1v", "\xc1", "\x80" };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage [0]; i++) {
        assert_int_equal (s_answer (self, garbage [i], strlen (garbage [i])),
                          400);
        assert_string_equal (self->reply->error, "bad_request");
        assert_true (strlen (self->reply->detail) > 0);
    }
    assert_int_equal (s_answer (self, "", 0), 400);
}

static void
answer_gives_413_for_oversized_requests (void **state)
{
    fixture_t *self = *state;
    size_t size = TS_PROTO_MAX_REQUEST + 1;
    char *big = calloc (1, size);
    assert_int_equal (s_answer (self, big, size), 413);
    assert_string_equal (self->reply->error, "too_big");
    free (big);
}

static void
answer_refuses_a_reply_as_request (void **state)
{
    fixture_t *self = *state;
    ts_msg_t *msg = ts_msg_new (TS_OP_REPLY);
    ts_msg_set_ok (msg, 200);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    assert_int_equal (s_answer (self, data, size), 400);
    free (data);
    ts_msg_reset (msg, TS_OP_PING);
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    assert_int_equal (s_answer (self, data, size), 200);
    free (data);
    ts_msg_destroy (&msg);
}

//  Encodes msg and answers it (see s_answer).
static int
s_answer_msg (fixture_t *self, const ts_msg_t *msg)
{
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    int status = s_answer (self, data, size);
    free (data);
    return status;
}

static void
answer_refuses_worker_messages_as_not_client_operations (void **state)
{
    fixture_t *self = *state;
    ts_op_t ops [] = { TS_OP_JOB, TS_OP_DONE, TS_OP_READY, TS_OP_FAILED,
                       TS_OP_HEARTBEAT };
    ts_msg_t *msg = ts_msg_new (TS_OP_JOB);
    for (size_t i = 0; i < sizeof ops / sizeof ops [0]; i++) {
        ts_msg_reset (msg, ops [i]);
        msg->job = 7;
        msg->credit = 1;
        ts_strlist_append (msg->ids, "a");
        assert_int_equal (s_answer_msg (self, msg), 400);
        assert_string_equal (self->reply->error, TS_PROTO_NOT_CLIENT_OP);
        char want [TS_ERRLEN];
        snprintf (want, sizeof want, "op '%s' is not a client operation",
                  ts_op_name (ops [i]));
        assert_string_equal (self->reply->detail, want);
    }
    ts_msg_destroy (&msg);
}

static void
answer_serves_stats_and_the_dlq_ops_through_the_broker (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_msg_t *msg = ts_msg_new (TS_OP_STATS);

    assert_int_equal (s_answer_msg (self, msg), 200);
    assert_true (self->reply->has_stats);
    assert_int_equal (self->reply->stats.done, 40);
    assert_int_equal (self->reply->stats.workers_n, 2);

    ts_msg_reset (msg, TS_OP_DLQ_LS);
    assert_int_equal (s_answer_msg (self, msg), 200);
    assert_true (self->reply->has_dlq);
    assert_int_equal (self->reply->dlq_n, 2);
    assert_string_equal (self->reply->dlq [0].ids->items [0], "a");

    ts_msg_reset (msg, TS_OP_DLQ_REDRIVE);
    ts_strlist_append (msg->ids, "b");
    assert_int_equal (s_answer_msg (self, msg), 200);
    assert_int_equal (self->reply->count, 1);
    assert_int_equal (ts_fakebroker_last_ids (broker), 1);

    ts_msg_reset (msg, TS_OP_DLQ_PURGE);
    assert_int_equal (s_answer_msg (self, msg), 200);
    assert_int_equal (self->reply->count, 2);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_DLQ_PURGE);
    ts_msg_destroy (&msg);
    ts_fakebroker_destroy (&broker);

    //  Broker gone: 503, not a hang
    ts_api_set_broker_timeout (self->api, 50);
    msg = ts_msg_new (TS_OP_STATS);
    assert_int_equal (s_answer_msg (self, msg), 503);
    ts_msg_destroy (&msg);
}

static void *
s_serve (void *args)
{
    ts_zmqsrv_run (args);
    return NULL;
}

//  Receives a message on sock; returns the status of its last frame and
//  sets *frames.
static int
s_recv_status (fixture_t *self, zsock_t *sock, size_t *frames)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    void *which = zpoller_wait (poller, 2000);
    zpoller_destroy (&poller);
    assert_non_null (which);
    zmsg_t *msg = zmsg_recv (sock);
    *frames = zmsg_size (msg);
    zframe_t *last = zmsg_last (msg);
    char err [TS_ERRLEN];
    assert_int_equal (ts_msg_decode (self->reply, zframe_data (last),
                                     zframe_size (last),
                                     TS_PROTO_MAX_REQUEST, err), 0);
    zmsg_destroy (&msg);
    return self->reply->status;
}

static void
server_answers_req_and_dealer_clients_and_bad_shapes (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_zmqsrv_t *server = ts_zmqsrv_new (self->base->cfg, self->api, err);
    assert_non_null (server);
    assert_string_equal (ts_zmqsrv_endpoint (server), ENDPOINT);
    ts_zmqsrv_set_probe (server, false);    //  none left for the next test
    pthread_t thread;
    pthread_create (&thread, NULL, s_serve, server);

    ts_msg_t *ping = ts_msg_new (TS_OP_PING);
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (ping, &data, &size), 0);
    size_t frames;

    zsock_t *req = zsock_new_req (">" ENDPOINT);
    zstr_send (req, "not msgpack");
    assert_int_equal (s_recv_status (self, req, &frames), 400);
    zsock_send (req, "b", data, size);
    assert_int_equal (s_recv_status (self, req, &frames), 200);

    zsock_t *dealer = zsock_new_dealer (">" ENDPOINT);
    zsock_send (dealer, "zb", data, size);
    assert_int_equal (s_recv_status (self, dealer, &frames), 200);
    assert_int_equal (frames, 2);
    zsock_send (dealer, "b", data, size);
    assert_int_equal (s_recv_status (self, dealer, &frames), 400);
    assert_int_equal (frames, 1);
    zsock_send (dealer, "z");
    assert_int_equal (s_recv_status (self, dealer, &frames), 400);
    zsock_send (dealer, "zbb", data, size, data, size);
    assert_int_equal (s_recv_status (self, dealer, &frames), 400);
    assert_non_null (strstr (self->reply->detail, "got 2"));
    //  Still serving after all that.
    zsock_send (dealer, "zb", data, size);
    assert_int_equal (s_recv_status (self, dealer, &frames), 200);

    zsys_interrupted = 1;
    pthread_join (thread, NULL);
    zsys_interrupted = 0;
    free (data);
    ts_msg_destroy (&ping);
    zsock_destroy (&req);
    zsock_destroy (&dealer);
    ts_zmqsrv_destroy (&server);
}

//  A fake broker, a server thread on the fixture's api and a client of
//  it, with a message to send. One per fixture (self->rig), so that a
//  failed check, which leaves its test at once, does not leave the
//  endpoints bound for the tests after it: teardown stops it.
struct s_rig {
    ts_fakebroker_t *broker;    //  at BROKER
    ts_zmqsrv_t     *server;    //  at ENDPOINT
    pthread_t        thread;    //  serving
    bool             serving;   //  thread started
    zsock_t         *client;    //  REQ or DEALER
    ts_msg_t        *msg;       //  scratch request
};

static s_rig_t *
s_rig_start (fixture_t *self, int client_type)
{
    assert_null (self->rig);
    s_rig_t *rig = self->rig = calloc (1, sizeof *rig);
    assert_non_null (rig);
    rig->broker = ts_fakebroker_new (BROKER);
    assert_non_null (rig->broker);
    char err [TS_ERRLEN] = "";
    rig->server = ts_zmqsrv_new (self->base->cfg, self->api, err);
    assert_non_null (rig->server);
    //  The tests count the broker's requests: no readiness pings but in
    //  the test of them.
    ts_zmqsrv_set_probe (rig->server, self->probe);
    assert_int_equal (pthread_create (&rig->thread, NULL, s_serve,
                                      rig->server), 0);
    rig->serving = true;
    rig->client = client_type == ZMQ_DEALER
                ? zsock_new_dealer (">" ENDPOINT)
                : zsock_new_req (">" ENDPOINT);
    rig->msg = ts_msg_new (TS_OP_PING);
    return rig;
}

//  Stops and frees the fixture's rig, if it has one.
static void
s_rig_stop (fixture_t *self)
{
    s_rig_t *rig = self->rig;
    if (!rig)
        return;
    if (rig->serving) {
        zsys_interrupted = 1;
        pthread_join (rig->thread, NULL);
        zsys_interrupted = 0;
    }
    ts_zmqsrv_destroy (&rig->server);
    zsock_destroy (&rig->client);
    ts_msg_destroy (&rig->msg);
    ts_fakebroker_destroy (&rig->broker);
    free (rig);
    self->rig = NULL;
}

//  Sends msg on a REQ or DEALER socket (DEALER: delimiter first).
static void
s_send_msg (zsock_t *sock, const ts_msg_t *msg)
{
    char *data;
    size_t size;
    assert_int_equal (ts_msg_encode (msg, &data, &size), 0);
    if (zsock_type (sock) == ZMQ_DEALER)
        zsock_send (sock, "zb", data, size);
    else
        zsock_send (sock, "b", data, size);
    free (data);
}

//  Sends rig->msg reset to op on the rig's client; returns the status of
//  the answer (decoded into self->reply).
static int
s_rig_ask (fixture_t *self, s_rig_t *rig, ts_op_t op)
{
    ts_msg_reset (rig->msg, op);
    s_send_msg (rig->client, rig->msg);
    size_t frames;
    return s_recv_status (self, rig->client, &frames);
}

static void
server_answers_a_ping_while_a_hydrate_waits_for_the_broker (void **state)
{
    fixture_t *self = *state;
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (self->base->store, ids, 1, NULL,
                                        NULL), 0);
    ts_api_set_broker_timeout (self->api, 10000);
    s_rig_t *rig = s_rig_start (self, ZMQ_DEALER);
    ts_fakebroker_hold (rig->broker, 100);       //  answers nothing yet
    ts_msg_reset (rig->msg, TS_OP_HYDRATE);
    ts_strlist_append (rig->msg->ids, "a");
    s_send_msg (rig->client, rig->msg);
    //  At least the hydrate: a request an earlier test's socket still held
    //  may reach this broker too (same endpoint; seen once under ASAN).
    assert_true (ts_fakebroker_wait_requests (rig->broker, 1, 5000) >= 1);
    //  The hydrate is with the broker: a ping from another client is
    //  answered meanwhile (well within s_recv_status's 2 s, far under the
    //  10 s broker timeout).
    zsock_t *other = zsock_new_req (">" ENDPOINT);
    ts_msg_reset (rig->msg, TS_OP_PING);
    s_send_msg (other, rig->msg);
    size_t frames;
    assert_int_equal (s_recv_status (self, other, &frames), 200);
    zsock_destroy (&other);
    //  Then the broker answers, and the hydrate gets its own answer.
    ts_fakebroker_hold (rig->broker, 0);
    assert_int_equal (s_recv_status (self, rig->client, &frames), 202);
    assert_int_equal (self->reply->count, 1);
    assert_int_equal (ts_fakebroker_last_op (rig->broker), TS_OP_HYDRATE);
    s_rig_stop (self);
}

static void
server_checks_a_hydrate_before_forwarding_it (void **state)
{
    fixture_t *self = *state;
    s_rig_t *rig = s_rig_start (self, ZMQ_REQ);
    ts_msg_reset (rig->msg, TS_OP_HYDRATE);
    ts_strlist_append (rig->msg->ids, "unknown");
    s_send_msg (rig->client, rig->msg);
    size_t frames;
    assert_int_equal (s_recv_status (self, rig->client, &frames), 404);
    ts_msg_reset (rig->msg, TS_OP_DLQ_REDRIVE);
    ts_strlist_append (rig->msg->ids, "not/ok");
    s_send_msg (rig->client, rig->msg);
    assert_int_equal (s_recv_status (self, rig->client, &frames), 400);
    assert_int_equal (ts_fakebroker_requests (rig->broker), 0);
    s_rig_stop (self);
}

static void
server_answers_502_for_a_two_frame_broker_reply_then_serves_on (void **state)
{
    fixture_t *self = *state;
    s_rig_t *rig = s_rig_start (self, ZMQ_REQ);
    ts_fakebroker_set_mode (rig->broker, TS_FAKEBROKER_TWO_FRAMES);
    assert_int_equal (s_rig_ask (self, rig, TS_OP_STATS), 502);
    assert_string_equal (self->reply->error, "bad_gateway");
    assert_non_null (strstr (self->reply->detail, "got 2"));
    //  Garbage is a 502 too; then a good answer is passed on.
    ts_fakebroker_set_mode (rig->broker, TS_FAKEBROKER_GARBAGE);
    assert_int_equal (s_rig_ask (self, rig, TS_OP_STATS), 502);
    ts_fakebroker_set_mode (rig->broker, TS_FAKEBROKER_BARE);
    assert_int_equal (s_rig_ask (self, rig, TS_OP_STATS), 502);
    assert_non_null (strstr (self->reply->detail, "without 'stats'"));
    ts_fakebroker_set_mode (rig->broker, TS_FAKEBROKER_CANNED);
    assert_int_equal (s_rig_ask (self, rig, TS_OP_STATS), 200);
    assert_true (self->reply->has_stats);
    assert_int_equal (self->reply->stats.done, 40);
    s_rig_stop (self);
}

static void
server_drops_a_late_broker_answer_instead_of_passing_it_on (void **state)
{
    fixture_t *self = *state;
    ts_api_set_broker_timeout (self->api, 1000);
    s_rig_t *rig = s_rig_start (self, ZMQ_DEALER);
    //  stats is held past its deadline; the broker answers it when
    //  dlq_ls comes, just before answering that.
    ts_fakebroker_hold (rig->broker, 2);
    assert_int_equal (s_rig_ask (self, rig, TS_OP_STATS), 503);
    assert_string_equal (self->reply->detail, "broker did not answer");
    assert_int_equal (s_rig_ask (self, rig, TS_OP_DLQ_LS), 200);
    assert_true (self->reply->has_dlq);
    assert_false (self->reply->has_stats);
    assert_int_equal (ts_fakebroker_requests (rig->broker), 2);
    //  Nothing else comes: the late stats answer was dropped.
    zpoller_t *poller = zpoller_new (rig->client, NULL);
    assert_null (zpoller_wait (poller, 100));
    zpoller_destroy (&poller);
    s_rig_stop (self);
}

static void
server_pings_the_broker_and_is_ready_while_it_answers (void **state)
{
    fixture_t *self = *state;
    ts_ready_t *ready = ts_api_ready (self->api);
    ts_json_t *json = ts_json_new ();
    assert_int_equal (ts_ready_json (ready, ts_mono_ms (), json), 503);
    assert_non_null (strstr (ts_json_data (json), "no answer yet"));
    self->probe = true;
    s_rig_t *rig = s_rig_start (self, ZMQ_REQ);
    assert_true (ts_fakebroker_wait_requests (rig->broker, 1, 5000) >= 1);
    assert_int_equal (ts_fakebroker_last_op (rig->broker), TS_OP_PING);
    //  The answer reaches the server's loop just after the broker sent
    //  it.
    int status = 503;
    for (int i = 0; i < 100 && status != 200; i++) {
        ts_json_reset (json);
        status = ts_ready_json (ready, ts_mono_ms (), json);
        if (status != 200)
            zclock_sleep (20);
    }
    assert_int_equal (status, 200);
    assert_non_null (strstr (ts_json_data (json),
                             "\"status\":\"ready\",\"not_ready\":[]"));
    //  Long after, with nothing heard since: not ready.
    ts_json_reset (json);
    assert_int_equal (ts_ready_json (ready, ts_mono_ms () + 3600000, json),
                      503);
    assert_non_null (strstr (ts_json_data (json), "\"not_ready\":"
                             "[\"broker\"]"));
    assert_non_null (strstr (ts_json_data (json),
                             "over gateway.broker_ready_ms"));
    ts_json_destroy (&json);
    s_rig_stop (self);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (answer_gives_400_with_detail_for_garbage),
        T (answer_gives_413_for_oversized_requests),
        T (answer_refuses_a_reply_as_request),
        T (answer_refuses_worker_messages_as_not_client_operations),
        T (answer_serves_stats_and_the_dlq_ops_through_the_broker),
        T (server_answers_req_and_dealer_clients_and_bad_shapes),
        T (server_answers_a_ping_while_a_hydrate_waits_for_the_broker),
        T (server_checks_a_hydrate_before_forwarding_it),
        T (server_answers_502_for_a_two_frame_broker_reply_then_serves_on),
        T (server_drops_a_late_broker_answer_instead_of_passing_it_on),
        T (server_pings_the_broker_and_is_ready_while_it_answers),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_zmqsrv", tests, NULL, NULL);
}
