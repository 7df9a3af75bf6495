/*  ts_fakebroker - a broker control socket played by a thread, for the
    gateway's unit tests (ts_api, ts_route, ts_zmqsrv).

    It binds a ROUTER at an endpoint (inproc:// in the tests) and answers
    each request, like the broker's control socket, with its envelope
    (REQ clients and DEALERs with correlation frames alike) and a canned
    reply for its op, so the tests see the gateway forward stats, dlq_ls,
    dlq_redrive, dlq_purge, hydrate and job_state and pass the answers
    on, without a real broker:

        hydrate      202, count = ids sent, jobs 100, 101, ... one per id
        job_state    200, states: the jobs asked for, in order, "done"
                     (even places) or "dead" with error "HTTP 404" (odd),
                     receives = place + 1
        stats        200, stats as ts_fakebroker_stats fills them
        dlq_ls       200, the two entries of ts_fakebroker_dlq
        dlq_redrive  200, count = ids sent, or 2 when none (every entry)
        dlq_purge    200, count = 2
        anything     400 bad_request
    A mode makes it misbehave instead (see ts_fakebroker_set_mode), and
    ts_fakebroker_hold makes it answer late. */

#ifndef TS_FAKEBROKER_H_INCLUDED
#define TS_FAKEBROKER_H_INCLUDED

#include "ts_proto.h"

typedef enum {
    TS_FAKEBROKER_CANNED = 0,   //  the canned replies above
    TS_FAKEBROKER_BARE,         //  200 with nothing in it (no stats/dlq)
    TS_FAKEBROKER_GARBAGE,      //  bytes that are not msgpack
    TS_FAKEBROKER_TWO_FRAMES,   //  the canned reply, then a second frame
    TS_FAKEBROKER_SILENT,       //  no answer at all (requests still count)
    TS_FAKEBROKER_JOB,          //  a job message of the worker dialogue
    TS_FAKEBROKER_SKIPPED       //  hydrate: 202, count 0, jobs all 0 (as
                                //  for ids fetched since skip_fetched_
                                //  since); the rest canned
} ts_fakebroker_mode_t;

typedef struct _ts_fakebroker_t ts_fakebroker_t;

//  Binds endpoint and starts answering. Returns NULL (reason on stderr)
//  if the socket cannot be bound.
ts_fakebroker_t *ts_fakebroker_new (const char *endpoint);

//  Stops the thread, closes the socket; sets *self_p to NULL. Safe on
//  NULL.
void ts_fakebroker_destroy (ts_fakebroker_t **self_p);

//  Sets how later requests are answered.
void ts_fakebroker_set_mode (ts_fakebroker_t *self, ts_fakebroker_mode_t mode);

//  Holds the next requests unanswered until n of them are held, then
//  answers them all, in the order they came, as the mode then says, and
//  stops holding. n = 0 stops holding at once (what is held is answered).
void ts_fakebroker_hold (ts_fakebroker_t *self, size_t n);

//  Waits (at most timeout_ms) until n requests came. Returns how many
//  came.
size_t ts_fakebroker_wait_requests (ts_fakebroker_t *self, size_t n,
                                    int timeout_ms);

//  Requests answered so far, and the op and number of ids of the last one.
size_t ts_fakebroker_requests (ts_fakebroker_t *self);
ts_op_t ts_fakebroker_last_op (ts_fakebroker_t *self);
size_t ts_fakebroker_last_ids (ts_fakebroker_t *self);

//  The skip_fetched_since of the last request (0: none, or not a
//  hydrate).
int64_t ts_fakebroker_last_skip (ts_fakebroker_t *self);

//  Fills reply (reset first) with the canned stats answer: queued 3,
//  delayed 1, leased 2, dlq 2, done 40, failed 6, retried 4,
//  dead_lettered 2, oldest_age_ms 1500; workers "0a1b" (credit 15,
//  leased 1) and "0a1c" (credit 16, leased 1).
void ts_fakebroker_stats (ts_msg_t *reply);

//  Fills reply (reset first) with the canned dlq_ls answer: job 7 ids
//  ["a"] receives 3 dead_at 1732406400000 error "HTTP 500"; job 9 ids
//  ["b", "c"] receives 1 dead_at 1732406460000 error "HTTP 404: \"no\"".
void ts_fakebroker_dlq (ts_msg_t *reply);

#endif
