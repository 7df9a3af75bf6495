/*  ts_metrics - the gateway's own figures and its GET /metrics page.

    The front ends count each request the gateway answers itself into a
    latency histogram by API ("http", "zmq") and route (the HTTP route's
    pattern, "/v1/series/{id}"; the ZeroMQ op, "query"): the time from a
    parsed request to its answer ready to send, the store read and the
    answer cache included, the network not. Requests forwarded to the
    broker are not timed here (their time is the broker's round trip).

    ts_metrics_page writes the whole page: the build info, the broker's
    figures from its stats answer (ts_prom_stats), the request
    histograms and the answer cache's counters. docs/metrics.md lists
    every name.

    Thread-safe: the ZeroMQ loop and every HTTP thread count into one
    ts_metrics_t; the counts are atomics, and only a route seen for the
    first time takes a lock. */

#ifndef TS_METRICS_H_INCLUDED
#define TS_METRICS_H_INCLUDED

#include "ts_cache.h"
#include "ts_prom.h"
#include "ts_proto.h"

#define TS_METRICS_ROUTES       64          //  most (api, route) pairs
#define TS_METRICS_MAX_BYTES    (4 << 20)   //  largest page, bytes

typedef struct _ts_metrics_t ts_metrics_t;

//  Returns empty figures, or NULL if out of memory.
ts_metrics_t *ts_metrics_new (void);

//  Frees them; sets *self_p to NULL. Safe on NULL.
void ts_metrics_destroy (ts_metrics_t **self_p);

//  A monotonic clock in seconds, for the durations of ts_metrics_request.
double ts_metrics_now (void);

//  Counts one request of route over api, answered in seconds. api and
//  route are borrowed for the life of self (string constants: a route's
//  pattern, ts_op_name). A pair past the first TS_METRICS_ROUTES is not
//  counted. Thread-safe.
void ts_metrics_request (ts_metrics_t *self, const char *api,
                         const char *route, double seconds);

//  How many requests of route over api were counted (0 if none).
uint64_t ts_metrics_requests (ts_metrics_t *self, const char *api,
                              const char *route);

//  Writes the page into prom (reset first): build info, the broker's
//  figures (broker: its stats answer, NULL if it did not answer), the
//  request histograms, and the answer cache (cache: its counters, NULL
//  if the cache is off). Returns 0 or ts_prom_error's code.
int ts_metrics_page (ts_metrics_t *self, const ts_stats_t *broker,
                     const ts_cache_stats_t *cache, ts_prom_t *prom);

#endif
