/*  ts_hydrator - sends the gateway's read-through fetches: a thread with
    a client of the broker's control socket (ts_client) that asks for a
    priority fetch (hydrate, "priority": true) of each id handed to it,
    so that the thread that hands one over (an HTTP loop, the ZeroMQ
    front end, a caller of ts_api_revalidate) never waits for the broker.

    Each hydrate carries the time the caller read the id as unfetched
    (skip_fetched_since, docs/protocol.md 5.6), so that the broker does
    not fetch again an id whose job was acked just after that read (the
    scheduled fetch was then in flight).

    Only the fetches that will bring no change notice come back (the
    ended callback, from the hydrator's thread): the broker answered
    anything but 202, or did not answer in gateway.broker_timeout_ms, or
    the backlog was full, or it skipped the id as fetched since the read
    and no job holds it. A queued fetch needs no callback: its change
    notice says it (ts_notice, ts_flight). Which ids to send, and sending
    each once, is the caller's (ts_flight); this module sends what it is
    given. */

#ifndef TS_HYDRATOR_H_INCLUDED
#define TS_HYDRATOR_H_INCLUDED

#include "ts_common.h"
#include "ts_client.h"

#define TS_HYDRATOR_BACKLOG  4096   //  ids handed over, not yet sent

typedef struct _ts_hydrator_t ts_hydrator_t;

//  No fetch of id follows the ask that gave tag: refused (status is the
//  broker's, or ts_client's 502/503, and detail says why) or skipped
//  (202: fetched at or after the ask's read time, and held by no job).
//  Called from the hydrator's thread (or from ts_hydrator_destroy, with
//  503); must not call the hydrator.
typedef void (ts_hydrator_ended_fn) (void *arg, const char *id, uint64_t tag,
                                     int status, const char *detail);

//  Starts the thread with a client of endpoint as policy says (copied;
//  policy->curve borrowed, must outlive the hydrator). Returns NULL with
//  the reason in err.
ts_hydrator_t *ts_hydrator_new (const char *endpoint,
                                const ts_client_policy_t *policy,
                                ts_hydrator_ended_fn *ended, void *arg,
                                char *err);

//  Stops the thread (within a quarter of a second); fetches still waiting
//  for the broker are refused with 503. Sets *self_p to NULL. Safe on
//  NULL.
void ts_hydrator_destroy (ts_hydrator_t **self_p);

//  Hands id over to be sent; returns at once. read_ms: when the caller
//  read id and found it unfetched (epoch ms), sent as skip_fetched_since;
//  0 to fetch whatever was fetched since. tag is the caller's, given back
//  to the ended callback (the gateway's flight number: a late answer
//  about one ask must not end a newer one of the same id). Thread-safe.
//  Returns 0, TS_ETOOBIG if TS_HYDRATOR_BACKLOG ids wait already,
//  TS_ENOMEM.
int ts_hydrator_ask (ts_hydrator_t *self, const char *id, int64_t read_ms,
                     uint64_t tag);

//  Hydrates sent (answered or not) since the start. Thread-safe.
uint64_t ts_hydrator_sent (ts_hydrator_t *self);

#endif
