/*  ts_hydrator - sends the gateway's read-through fetches: a thread with
    a client of the broker's control socket (ts_client) that asks for a
    priority fetch (hydrate, "priority": true) of each id handed to it,
    so that the thread that hands one over (an HTTP loop, the ZeroMQ
    front end, a caller of ts_api_revalidate) never waits for the broker.

    Only refusals come back (the refused callback, from the hydrator's
    thread): the broker answered anything but 202, or did not answer in
    gateway.broker_timeout_ms, or the backlog was full. Success needs no
    callback: the fetch's change notice says it (ts_notice, ts_flight).
    Which ids to send, and sending each once, is the caller's
    (ts_flight); this module sends what it is given. */

#ifndef TS_HYDRATOR_H_INCLUDED
#define TS_HYDRATOR_H_INCLUDED

#include "ts_common.h"
#include "ts_client.h"

#define TS_HYDRATOR_BACKLOG  4096   //  ids handed over, not yet sent

typedef struct _ts_hydrator_t ts_hydrator_t;

//  A fetch of id was not queued: status is the broker's (or ts_client's
//  502/503) and detail says why. Called from the hydrator's thread (or
//  from ts_hydrator_destroy, with 503); must not call the hydrator.
typedef void (ts_hydrator_refused_fn) (void *arg, const char *id,
                                       int status, const char *detail);

//  Starts the thread with a client of endpoint as policy says (copied;
//  policy->curve borrowed, must outlive the hydrator). Returns NULL with
//  the reason in err.
ts_hydrator_t *ts_hydrator_new (const char *endpoint,
                                const ts_client_policy_t *policy,
                                ts_hydrator_refused_fn *refused, void *arg,
                                char *err);

//  Stops the thread (within a quarter of a second); fetches still waiting
//  for the broker are refused with 503. Sets *self_p to NULL. Safe on
//  NULL.
void ts_hydrator_destroy (ts_hydrator_t **self_p);

//  Hands id over to be sent; returns at once. Thread-safe. Returns 0,
//  TS_ETOOBIG if TS_HYDRATOR_BACKLOG ids wait already, TS_ENOMEM.
int ts_hydrator_ask (ts_hydrator_t *self, const char *id);

//  Hydrates sent (answered or not) since the start. Thread-safe.
uint64_t ts_hydrator_sent (ts_hydrator_t *self);

#endif
