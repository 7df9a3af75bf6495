/*  ts_notice - the gateway's subscriber to the broker's change notices
    (docs/protocol.md 5.18): a SUB socket on gateway.notice_endpoint, in
    a thread of its own, that drops the cached answers of every id the
    broker says was written (ts_cache_drop_id) and tells read-through
    (ts_notice_new_for: ts_api_noticed), whose queries wait for it.

    The rules of order (ts_notice_sync_*, pure, so they are tested
    without sockets): the first message heard starts the count (the
    cache is told notices are heard: ts_cache_set_heard); each next one
    must carry the number that follows and the same broker process
    (boot). A gap, another broker process, a message that does not
    decode, or silence for TS_NOTICE_SILENCE_MS (the broker sends a
    heartbeat notice every second) means notices may have been missed:
    the whole cache is dropped (ts_cache_drop_all). After a gap the
    count starts again from the message that showed it; after silence
    the cache is told notices are not heard until the next message.

    A reconnect needs no event of its own: what was published meanwhile
    shows as a gap in the numbers, a restarted broker as another boot,
    and a long absence as silence. */

#ifndef TS_NOTICE_H_INCLUDED
#define TS_NOTICE_H_INCLUDED

#include "ts_common.h"
#include "ts_cache.h"
#include "ts_curve.h"

#define TS_NOTICE_SILENCE_MS  3000      //  no message this long: deaf

//  ---------------------------------------------------------------------
//  The rules of order

typedef struct {
    bool     heard;         //  in order since the last message
    uint64_t boot;          //  the broker process heard
    uint64_t next_seq;      //  number the next message must carry
    int64_t  last_ms;       //  monotonic time of the last message
} ts_notice_sync_t;

typedef enum {
    TS_NOTICE_IN_ORDER,     //  the number that follows: apply its ids
    TS_NOTICE_FIRST,        //  the first heard (at start or after
                            //  silence): apply its ids; heard from now
    TS_NOTICE_GAP           //  notices were missed: drop the whole cache,
                            //  then apply its ids; heard from now
} ts_notice_order_t;

//  Not heard, nothing expected.
void ts_notice_sync_init (ts_notice_sync_t *self);

//  A notice of broker process boot, numbered from seq, of n ids (0: a
//  heartbeat, whose seq is the number of the next id), heard at now_ms
//  (monotonic). Says what to do with it.
ts_notice_order_t ts_notice_sync_message (ts_notice_sync_t *self,
                                          uint64_t boot, uint64_t seq,
                                          size_t n, int64_t now_ms);

//  A message that did not decode, at now_ms: true if notices were heard
//  (drop the whole cache); not heard from now.
bool ts_notice_sync_lost (ts_notice_sync_t *self, int64_t now_ms);

//  True if notices were heard and nothing came for TS_NOTICE_SILENCE_MS
//  before now_ms (drop the whole cache); not heard from now.
bool ts_notice_sync_silence (ts_notice_sync_t *self, int64_t now_ms);

//  ---------------------------------------------------------------------
//  The subscriber

typedef struct _ts_notice_t ts_notice_t;

//  Starts the subscriber thread on endpoint (a ZeroMQ endpoint), a CURVE
//  client with the keys of curve (borrowed; NULL: plain), dropping
//  answers of cache (borrowed: must outlive the subscriber). Returns
//  NULL with the reason in err (TS_ERRLEN).
ts_notice_t *ts_notice_new (const char *endpoint,
                            const ts_curve_id_t *curve, ts_cache_t *cache,
                            char *err);

//  Told id (borrowed for the call) was written, from the subscriber's
//  thread: read-through's wake-up (ts_api_noticed).
typedef void (ts_notice_fn) (void *arg, const char *id);

//  ts_notice_new, with cache NULL for none, and noticed (may be NULL if
//  cache is not) called with arg for every id of every notice, after
//  its answers were dropped.
ts_notice_t *ts_notice_new_for (const char *endpoint,
                                const ts_curve_id_t *curve,
                                ts_cache_t *cache, ts_notice_fn *noticed,
                                void *arg, char *err);

//  Stops the thread (within a quarter of a second) and frees the
//  subscriber; sets *self_p to NULL. Safe on NULL.
void ts_notice_destroy (ts_notice_t **self_p);

#endif
