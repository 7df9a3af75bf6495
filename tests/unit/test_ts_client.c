/*  test_ts_client - the request-reply client (the gateway's forwarder to
    the broker, the CLI's client of the gateway), against a fake broker
    on inproc: every request gets
    exactly one completion with its own context, 503 at its deadline, 502
    for a malformed answer; a late answer is dropped; a cancelled request
    gets no completion (and one not sent yet is never sent); a full ring
    refuses; what waited unsent goes out when the broker comes, waking
    the ZMQ_FD an epoll loop watches; destroy completes what is left; a
    silent attempt is sent again as the retry policy says, and a message
    of another dialogue is no answer. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ts_log.h"
#include "../../common/ts_client.h"
#include "ts_fakebroker.h"

#define BROKER      "inproc://test-ts-forward-broker"
#define S_BOUND_MS  5000        //  every wait in these tests, at most
#define S_DONE_MAX  (TS_CLIENT_MAX + 8)

//  One completion as the callback saw it.
typedef struct {
    void    *ctx;               //  the request's context
    ts_op_t  op;                //  its op
    int      rc;                //  the completion's rc
    int      status;            //  the reply's status
    char     error [64];        //  the reply's error name
    char     detail [TS_ERRLEN];    //  the reply's detail
    bool     has_stats;         //  the reply carried stats
    bool     has_dlq;           //  the reply carried the dlq
} s_done_t;

typedef struct {
    ts_client_t *forward;      //  under test, or NULL
    s_done_t     *done;         //  completions, in order
    size_t        done_n;       //  how many
    int           contexts [8]; //  distinct addresses to use as contexts
    //  What a completion does besides recording (reentrancy tests).
    ts_op_t       chain_op;     //  if not 0: send this op from done
    void         *cancel_ctx;   //  if not NULL: cancel this from done
    size_t        cancelled;    //  what that cancel returned
} fixture_t;

static void
s_done (void *arg, void *ctx, ts_op_t op, int rc, ts_msg_t *reply)
{
    fixture_t *self = arg;
    assert_true (self->done_n < S_DONE_MAX);
    s_done_t *done = &self->done [self->done_n++];
    done->rc = rc;
    done->ctx = ctx;
    done->op = op;
    done->status = reply->status;
    snprintf (done->error, sizeof done->error, "%s", reply->error);
    snprintf (done->detail, sizeof done->detail, "%s", reply->detail);
    done->has_stats = reply->has_stats;
    done->has_dlq = reply->has_dlq;
    if (self->chain_op) {
        ts_msg_t *req = ts_msg_new (self->chain_op);
        self->chain_op = 0;
        assert_int_equal (ts_client_send (self->forward, req,
                                           &self->contexts [7], reply), 0);
        ts_msg_destroy (&req);
    }
    if (self->cancel_ctx) {
        self->cancelled = ts_client_cancel (self->forward, self->cancel_ctx);
        self->cancel_ctx = NULL;
    }
}

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->done = calloc (S_DONE_MAX, sizeof (s_done_t));
    *state = self;
    return self->done? 0: -1;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_client_destroy (&self->forward);
    free (self->done);
    free (self);
    return 0;
}

//  The gateway's policy towards the broker, with timeout_ms and retries.
static ts_client_policy_t
s_policy (int timeout_ms, int retries)
{
    return (ts_client_policy_t) { .peer = "broker", .timeout_ms = timeout_ms,
                                  .retries = retries,
                                  .max_reply = 256 << 20 };
}

static void
s_new_retrying (fixture_t *self, const char *endpoint, int timeout_ms,
                int retries)
{
    char err [TS_ERRLEN] = "";
    ts_client_policy_t policy = s_policy (timeout_ms, retries);
    self->forward = ts_client_new (endpoint, &policy, s_done, self, err);
    assert_non_null (self->forward);
}

static void
s_new_at (fixture_t *self, const char *endpoint, int timeout_ms)
{
    s_new_retrying (self, endpoint, timeout_ms, 0);
}

static void
s_new (fixture_t *self, int timeout_ms)
{
    s_new_at (self, BROKER, timeout_ms);
}

//  Writes a loopback TCP endpoint where nobody listens into endpoint
//  (64 bytes). An inproc connection is there before its peer binds; a
//  TCP one only once the peer listens, which these tests need.
static void
s_free_tcp (char *endpoint)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    assert_true (fd >= 0);
    assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *) &addr, &len), 0);
    close (fd);
    snprintf (endpoint, 64, "tcp://127.0.0.1:%d", ntohs (addr.sin_port));
}

//  A fake broker at the endpoint of s_free_tcp (tried again for a
//  while should anything hold the port for a moment).
static ts_fakebroker_t *
s_broker_at (const char *endpoint)
{
    ts_fakebroker_t *broker = NULL;
    for (int i = 0; i < 200 && !broker; i++)
        if (!(broker = ts_fakebroker_new (endpoint)))
            zclock_sleep (10);
    assert_non_null (broker);
    return broker;
}

//  Sends a request of op (job_state: of job 1) with context ctx; asserts
//  it is taken.
static void
s_send (fixture_t *self, ts_op_t op, void *ctx)
{
    ts_msg_t *req = ts_msg_new (op);
    if (op == TS_OP_JOB_STATE)
        ts_msg_add_job (req, 1);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    assert_int_equal (ts_client_send (self->forward, req, ctx, reply), 0);
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
}

//  Runs the forwarder as a zmq_poll loop does until n completions came
//  (bounded by S_BOUND_MS). Returns the ms it took.
static int64_t
s_run_until (fixture_t *self, size_t n)
{
    int64_t start = ts_mono_ms ();
    while (self->done_n < n && ts_mono_ms () - start < S_BOUND_MS) {
        int64_t wait = ts_client_process (self->forward);
        if (self->done_n >= n || wait == 0)
            continue;
        if (wait < 0 || wait > 100)
            wait = 100;
        zmq_pollitem_t item = {
            zsock_resolve (ts_client_sock (self->forward)), 0,
            ts_client_poll_events (self->forward), 0 };
        zmq_poll (&item, 1, (long) wait);
    }
    assert_int_equal (self->done_n, n);
    return ts_mono_ms () - start;
}

//  Runs the forwarder for ms more, to see that nothing else completes.
static void
s_run_for (fixture_t *self, int64_t ms)
{
    size_t before = self->done_n;
    int64_t end = ts_mono_ms () + ms;
    while (ts_mono_ms () < end) {
        ts_client_process (self->forward);
        zmq_pollitem_t item = {
            zsock_resolve (ts_client_sock (self->forward)), 0,
            ts_client_poll_events (self->forward), 0 };
        zmq_poll (&item, 1, 10);
    }
    assert_int_equal (self->done_n, before);
}

static void
forward_completes_each_request_once_with_its_own_context (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    s_new (self, 5000);
    ts_op_t ops [] = { TS_OP_STATS, TS_OP_DLQ_LS, TS_OP_DLQ_PURGE };
    for (int i = 0; i < 3; i++)
        s_send (self, ops [i], &self->contexts [i]);
    assert_int_equal (ts_client_pending (self->forward), 3);
    s_run_until (self, 3);
    //  The broker answers in order; each answer finds its own request.
    for (int i = 0; i < 3; i++) {
        assert_ptr_equal (self->done [i].ctx, &self->contexts [i]);
        assert_int_equal (self->done [i].op, ops [i]);
        assert_int_equal (self->done [i].status, 200);
    }
    assert_true (self->done [0].has_stats);
    assert_true (self->done [1].has_dlq);
    assert_int_equal (ts_client_pending (self->forward), 0);
    assert_int_equal (ts_client_process (self->forward), -1);
    s_run_for (self, 100);
    ts_fakebroker_destroy (&broker);
}

static void
forward_answers_503_at_the_deadline_when_the_broker_is_silent (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    s_new (self, 200);
    int64_t sent = ts_mono_ms ();
    s_send (self, TS_OP_STATS, &self->contexts [0]);
    //  Until its deadline, the forwarder says how long to wait for it.
    int64_t wait = ts_client_process (self->forward);
    assert_true (wait > 0 && wait <= 200);
    s_run_until (self, 1);
    assert_true (ts_mono_ms () - sent >= 200);      //  not before
    assert_ptr_equal (self->done [0].ctx, &self->contexts [0]);
    assert_int_equal (self->done [0].status, 503);
    assert_string_equal (self->done [0].error, "unavailable");
    assert_string_equal (self->done [0].detail, "broker did not answer");
    assert_int_equal (ts_fakebroker_requests (broker), 1);
    ts_fakebroker_destroy (&broker);
}

static void
forward_answers_502_for_malformed_broker_answers (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    s_new (self, 5000);
    struct {
        ts_fakebroker_mode_t mode;
        ts_op_t op;
        const char *detail;
    } cases [] = {
        { TS_FAKEBROKER_TWO_FRAMES, TS_OP_STATS,
          "one body frame after the delimiter, got 2" },
        { TS_FAKEBROKER_GARBAGE, TS_OP_DLQ_PURGE, "bad reply from broker" },
        { TS_FAKEBROKER_BARE, TS_OP_STATS, "stats answer without 'stats'" },
        { TS_FAKEBROKER_BARE, TS_OP_DLQ_LS, "dlq_ls answer without 'dlq'" },
        { TS_FAKEBROKER_BARE, TS_OP_JOB_STATE, "without 'states'" },
        { TS_FAKEBROKER_JOB, TS_OP_STATS, "op 'job' is not a reply" }
    };
    size_t n = sizeof cases / sizeof cases [0];
    for (size_t i = 0; i < n; i++) {
        ts_fakebroker_set_mode (broker, cases [i].mode);
        s_send (self, cases [i].op, &self->contexts [i]);
        s_run_until (self, i + 1);
        assert_ptr_equal (self->done [i].ctx, &self->contexts [i]);
        assert_int_equal (self->done [i].rc, TS_EPROTO);
        assert_int_equal (self->done [i].status, 502);
        assert_string_equal (self->done [i].error, "bad_gateway");
        assert_non_null (strstr (self->done [i].detail, cases [i].detail));
    }
    //  A bare 200 is all a purge needs; then a good answer passes on.
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_BARE);
    s_send (self, TS_OP_DLQ_PURGE, &self->contexts [0]);
    s_run_until (self, n + 1);
    assert_int_equal (self->done [n].status, 200);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_CANNED);
    s_send (self, TS_OP_STATS, &self->contexts [1]);
    s_run_until (self, n + 2);
    assert_int_equal (self->done [n + 1].status, 200);
    assert_true (self->done [n + 1].has_stats);
    ts_fakebroker_destroy (&broker);
}

static void
forward_drops_a_late_answer_instead_of_passing_it_on (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    //  stats is held past its deadline; the broker answers it when
    //  dlq_ls comes, just before answering that.
    ts_fakebroker_hold (broker, 2);
    s_new (self, 300);
    s_send (self, TS_OP_STATS, &self->contexts [0]);
    s_run_until (self, 1);
    assert_int_equal (self->done [0].status, 503);
    s_send (self, TS_OP_DLQ_LS, &self->contexts [1]);
    s_run_until (self, 2);
    assert_ptr_equal (self->done [1].ctx, &self->contexts [1]);
    assert_int_equal (self->done [1].status, 200);
    assert_true (self->done [1].has_dlq);
    assert_false (self->done [1].has_stats);
    assert_int_equal (ts_fakebroker_requests (broker), 2);
    s_run_for (self, 100);                  //  and nothing for stats
    ts_fakebroker_destroy (&broker);
}

static void
forward_cancel_forgets_a_request_and_drops_its_answer (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_hold (broker, 2);
    s_new (self, 5000);
    s_send (self, TS_OP_STATS, &self->contexts [0]);
    s_send (self, TS_OP_STATS, &self->contexts [1]);
    s_send (self, TS_OP_DLQ_LS, &self->contexts [0]);
    assert_int_equal (ts_client_cancel (self->forward, &self->contexts [0]),
                      2);
    assert_int_equal (ts_client_cancel (self->forward, &self->contexts [0]),
                      0);
    assert_int_equal (ts_client_pending (self->forward), 1);
    //  The broker answers all three (the first two once both are held).
    s_run_until (self, 1);
    assert_ptr_equal (self->done [0].ctx, &self->contexts [1]);
    assert_int_equal (self->done [0].status, 200);
    assert_int_equal (ts_fakebroker_wait_requests (broker, 3, 5000), 3);
    s_run_for (self, 100);
    ts_fakebroker_destroy (&broker);
}

static void
forward_never_sends_a_request_cancelled_before_the_broker_came (void **state)
{
    fixture_t *self = *state;
    char endpoint [64];
    s_free_tcp (endpoint);
    s_new_at (self, endpoint, 5000);        //  nobody there yet
    s_send (self, TS_OP_DLQ_PURGE, &self->contexts [0]);
    ts_client_process (self->forward);
    assert_true (ts_client_poll_events (self->forward) & ZMQ_POLLOUT);
    assert_int_equal (ts_client_cancel (self->forward, &self->contexts [0]),
                      1);
    assert_false (ts_client_poll_events (self->forward) & ZMQ_POLLOUT);
    ts_fakebroker_t *broker = s_broker_at (endpoint);
    s_send (self, TS_OP_STATS, &self->contexts [1]);
    s_run_until (self, 1);
    assert_ptr_equal (self->done [0].ctx, &self->contexts [1]);
    assert_int_equal (self->done [0].status, 200);
    assert_int_equal (ts_fakebroker_requests (broker), 1);
    assert_int_equal (ts_fakebroker_last_op (broker), TS_OP_STATS);
    ts_fakebroker_destroy (&broker);
}

static void
forward_sends_when_the_broker_comes_and_wakes_its_fd (void **state)
{
    fixture_t *self = *state;
    char endpoint [64];
    s_free_tcp (endpoint);
    s_new_at (self, endpoint, 5000);        //  nobody there yet
    s_send (self, TS_OP_STATS, &self->contexts [0]);
    assert_true (ts_client_process (self->forward) > 0);
    ts_fakebroker_t *broker = s_broker_at (endpoint);
    //  An epoll loop's way: wait on ZMQ_FD until it is readable or the
    //  wait the forwarder asked for is over. The connection coming up
    //  and the answer each wake the fd: no wait runs out (one that did
    //  would last until the deadline, and the answer would be a 503).
    struct pollfd item = { .fd = ts_client_fd (self->forward),
                           .events = POLLIN };
    int wakes = 0;
    int timeouts = 0;
    for (int i = 0; i < 100 && self->done_n == 0; i++) {
        int64_t wait = ts_client_process (self->forward);
        if (self->done_n || wait == 0)
            continue;
        if (poll (&item, 1, (int) wait) > 0)
            wakes++;
        else
            timeouts++;
    }
    assert_int_equal (self->done_n, 1);
    //  Under load one process call may send and read the answer, so no
    //  wake is needed: what must hold is that no wait ran out.
    (void) wakes;
    assert_int_equal (timeouts, 0);
    assert_ptr_equal (self->done [0].ctx, &self->contexts [0]);
    assert_int_equal (self->done [0].status, 200);
    assert_true (self->done [0].has_stats);
    ts_fakebroker_destroy (&broker);
}

static void
forward_refuses_a_request_when_the_ring_is_full (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    s_new (self, 10000);
    for (size_t i = 0; i < TS_CLIENT_MAX; i++)
        s_send (self, TS_OP_STATS, &self->contexts [i % 4]);
    assert_int_equal (ts_client_pending (self->forward), TS_CLIENT_MAX);
    ts_msg_t *req = ts_msg_new (TS_OP_STATS);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    assert_int_equal (ts_client_send (self->forward, req,
                                       &self->contexts [5], reply), 503);
    assert_string_equal (reply->error, "unavailable");
    assert_non_null (strstr (reply->detail, "too many requests"));
    ts_client_process (self->forward);
    assert_int_equal (self->done_n, 0);     //  the refused one: no call
    //  Places are counted from the oldest request: cancelling the ones
    //  of contexts [0], the oldest among them, frees one.
    assert_int_equal (ts_client_cancel (self->forward, &self->contexts [0]),
                      TS_CLIENT_MAX / 4);
    assert_int_equal (ts_client_send (self->forward, req,
                                       &self->contexts [5], reply), 0);
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
    //  Destroy completes every request left, with 503.
    ts_client_destroy (&self->forward);
    size_t left = TS_CLIENT_MAX - TS_CLIENT_MAX / 4 + 1;
    assert_int_equal (self->done_n, left);
    for (size_t i = 0; i < left; i++) {
        assert_int_equal (self->done [i].status, 503);
        assert_string_equal (self->done [i].detail, "client is stopping");
        assert_ptr_not_equal (self->done [i].ctx, &self->contexts [0]);
    }
    assert_ptr_equal (self->done [left - 1].ctx, &self->contexts [5]);
    ts_fakebroker_destroy (&broker);
}

static void
forward_lets_a_completion_send_and_cancel (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_hold (broker, 2);
    s_new (self, 5000);
    s_send (self, TS_OP_STATS, &self->contexts [0]);
    s_send (self, TS_OP_DLQ_PURGE, &self->contexts [1]);
    //  The first completion cancels the second (its answer is already
    //  in) and sends a dlq_ls, which completes in turn.
    self->cancel_ctx = &self->contexts [1];
    self->chain_op = TS_OP_DLQ_LS;
    s_run_until (self, 2);
    assert_int_equal (self->cancelled, 1);
    assert_ptr_equal (self->done [0].ctx, &self->contexts [0]);
    assert_ptr_equal (self->done [1].ctx, &self->contexts [7]);
    assert_int_equal (self->done [1].op, TS_OP_DLQ_LS);
    assert_int_equal (self->done [1].status, 200);
    s_run_for (self, 100);
    ts_fakebroker_destroy (&broker);
}

static void
forward_call_is_one_blocking_round_trip (void **state)
{
    ts_msg_t *req = ts_msg_new (TS_OP_STATS);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_client_policy_t policy = s_policy (5000, 0);
    assert_int_equal (ts_client_call (BROKER, &policy, req, reply), 0);
    assert_int_equal (reply->status, 200);
    assert_true (reply->has_stats);
    assert_int_equal (reply->stats.done, 40);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    policy.timeout_ms = 100;
    assert_int_equal (ts_client_call (BROKER, &policy, req, reply),
                      TS_ETIMEOUT);
    assert_int_equal (reply->status, 503);
    assert_string_equal (reply->detail, "broker did not answer");
    ts_fakebroker_destroy (&broker);
    assert_int_equal (ts_client_call ("not an endpoint", &policy, req, reply),
                      TS_EINVAL);
    assert_int_equal (reply->status, 503);
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
}

static void
client_sends_a_silent_attempt_again_and_takes_its_answer (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    s_new_retrying (self, BROKER, 300, 2);
    s_send (self, TS_OP_STATS, &self->contexts [0]);
    //  The first attempt reaches a silent broker, which then answers.
    while (ts_fakebroker_requests (broker) < 1)
        assert_int_equal (ts_fakebroker_wait_requests (broker, 1, S_BOUND_MS),
                          1);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_CANNED);
    s_run_until (self, 1);
    assert_int_equal (self->done [0].rc, 0);
    assert_int_equal (self->done [0].status, 200);
    assert_true (self->done [0].has_stats);
    assert_int_equal (ts_fakebroker_requests (broker), 2);
    s_run_for (self, 100);
    ts_fakebroker_destroy (&broker);
}

static void
client_answers_503_after_its_last_attempt (void **state)
{
    fixture_t *self = *state;
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_SILENT);
    s_new_retrying (self, BROKER, 50, 2);
    s_send (self, TS_OP_STATS, &self->contexts [0]);
    s_run_until (self, 1);
    assert_int_equal (self->done [0].rc, TS_ETIMEOUT);
    assert_int_equal (self->done [0].status, 503);
    assert_string_equal (self->done [0].detail, "broker did not answer");
    assert_int_equal (ts_fakebroker_wait_requests (broker, 3, S_BOUND_MS), 3);
    s_run_for (self, 100);
    assert_int_equal (ts_fakebroker_requests (broker), 3);
    ts_fakebroker_destroy (&broker);
}

static void
client_call_takes_no_message_of_another_dialogue (void **state)
{
    ts_msg_t *req = ts_msg_new (TS_OP_PING);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    ts_fakebroker_t *broker = ts_fakebroker_new (BROKER);
    assert_non_null (broker);
    ts_fakebroker_set_mode (broker, TS_FAKEBROKER_JOB);
    ts_client_policy_t policy = s_policy (5000, 1);
    assert_int_equal (ts_client_call (BROKER, &policy, req, reply),
                      TS_EPROTO);
    assert_int_equal (reply->status, 502);
    assert_int_equal (reply->op, TS_OP_REPLY);
    assert_non_null (strstr (reply->detail, "op 'job' is not a reply"));
    //  A malformed answer is an answer: not sent again.
    assert_int_equal (ts_fakebroker_requests (broker), 1);
    ts_fakebroker_destroy (&broker);
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (forward_completes_each_request_once_with_its_own_context),
        T (forward_answers_503_at_the_deadline_when_the_broker_is_silent),
        T (forward_answers_502_for_malformed_broker_answers),
        T (forward_drops_a_late_answer_instead_of_passing_it_on),
        T (forward_cancel_forgets_a_request_and_drops_its_answer),
        T (forward_never_sends_a_request_cancelled_before_the_broker_came),
        T (forward_sends_when_the_broker_comes_and_wakes_its_fd),
        T (forward_refuses_a_request_when_the_ring_is_full),
        T (forward_lets_a_completion_send_and_cancel),
        T (forward_call_is_one_blocking_round_trip),
        T (client_sends_a_silent_attempt_again_and_takes_its_answer),
        T (client_answers_503_after_its_last_attempt),
        T (client_call_takes_no_message_of_another_dialogue),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_client", tests, NULL, NULL);
}
