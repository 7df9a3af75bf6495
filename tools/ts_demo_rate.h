/*  ts_demo_rate - the demo upstream's server-side rate limit and its log
    of data requests (tools/tscache-demo-upstream.c), so that tests can
    check how fast tscache fetches: the rate limit of a source is kept by
    the broker across all workers, and a test reads here what reached the
    upstream.

    The limit: at most limit data requests are served in any 1000 ms
    window (sliding); one more is answered 429 with a Retry-After of
    retry_after_s seconds (0: a bare 429, no Retry-After). Off (limit 0)
    by default. The same Retry-After goes on the 429s of mode "429".

    The log: the arrival time of every data request since the last reset
    (at most S_LOG_MAX; later ones are counted but not timed) and whether
    it was answered 429 by the limit. ts_demo_rate_report gives the
    counts per whole second since the reset, the peak in any sliding
    1000 ms window, and the arrival and rejection times.

    Thread-safe (one mutex): libmicrohttpd serves each connection in a
    thread of its own. Times are wall-clock epoch ms, passed in. */

#ifndef TS_DEMO_RATE_H_INCLUDED
#define TS_DEMO_RATE_H_INCLUDED

#include "ts_common.h"

#include <jansson.h>

//  Sets the limit (requests per 1000 ms window, 0: off) and the
//  Retry-After of its 429s and of mode 429 (seconds, 0: none). Either may
//  be -1 to keep it.
void ts_demo_rate_set (int64_t limit, int64_t retry_after_s);

//  Forgets the log; the next request starts it at its arrival time.
void ts_demo_rate_reset (void);

//  Applies the keys of a POST /control body that are the limit's:
//  "rate_limit" (0..1000000), "retry_after_s" (0..86400) and "reset_log"
//  (true: ts_demo_rate_reset). Returns NULL, or the reason the body is
//  refused (static text; then nothing was applied).
const char *ts_demo_rate_control (const json_t *json);

//  A data request arrived at now_ms: logs it. Returns true to serve it,
//  false to answer it 429 (the limit is reached).
bool ts_demo_rate_admit (int64_t now_ms);

//  The Retry-After header value for a 429 ("1"), or NULL for none.
//  Static text, valid until the next ts_demo_rate_set.
const char *ts_demo_rate_retry_after (void);

//  Adds to obj the key "rate": {"limit", "retry_after_s", "arrivals",
//  "rejected", "start_ms", "peak_1s", "per_second": [...],
//  "arrivals_ms": [...], "rejected_ms": [...]} (times relative to
//  start_ms, the first arrival since the reset; arrivals_ms holds every
//  data request timed, rejected_ms those the limit answered 429).
//  Returns 0 or -1 (out of memory).
int ts_demo_rate_report (json_t *obj);

#endif
