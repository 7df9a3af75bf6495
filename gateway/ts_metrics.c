/*  ts_metrics - the gateway's request histograms and its GET /metrics
    page (see ts_metrics.h). Slots are appended, never removed: a reader
    walks the first n, published with release order once a slot is whole,
    so counting takes no lock. */

#include "ts_metrics.h"
#include "ts_prom_stats.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_REQUESTS  "tscache_gateway_request_duration_seconds"

typedef struct {
    const char     *api;            //  "http", "zmq"
    const char     *route;          //  route pattern or op name
    ts_prom_hist_t  hist;           //  latency, seconds
} s_slot_t;

struct _ts_metrics_t {
    s_slot_t        slots [TS_METRICS_ROUTES];
    atomic_size_t   n;              //  slots in use
    pthread_mutex_t lock;           //  taken to append a slot
};

ts_metrics_t *
ts_metrics_new (void)
{
    ts_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    atomic_init (&self->n, 0);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
ts_metrics_destroy (ts_metrics_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        pthread_mutex_destroy (&(*self_p)->lock);
        free (*self_p);
        *self_p = NULL;
    }
}

double
ts_metrics_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  The slot of (api, route) among the first n, or NULL.
static s_slot_t *
s_find (ts_metrics_t *self, size_t n, const char *api, const char *route)
{
    for (size_t i = 0; i < n; i++) {
        s_slot_t *slot = &self->slots [i];
        if ((slot->route == route || strcmp (slot->route, route) == 0)
        &&  (slot->api == api || strcmp (slot->api, api) == 0))
            return slot;
    }
    return NULL;
}

void
ts_metrics_request (ts_metrics_t *self, const char *api, const char *route,
                    double seconds)
{
    assert (self && api && route);
    size_t n = atomic_load_explicit (&self->n, memory_order_acquire);
    s_slot_t *slot = s_find (self, n, api, route);
    if (!slot) {
        pthread_mutex_lock (&self->lock);
        n = atomic_load_explicit (&self->n, memory_order_acquire);
        slot = s_find (self, n, api, route);
        if (!slot && n < TS_METRICS_ROUTES) {
            slot = &self->slots [n];
            slot->api = api;
            slot->route = route;
            ts_prom_hist_init (&slot->hist, ts_prom_latency_bounds,
                               ts_prom_latency_bounds_n);
            atomic_store_explicit (&self->n, n + 1, memory_order_release);
        }
        pthread_mutex_unlock (&self->lock);
    }
    if (slot)
        ts_prom_hist_observe (&slot->hist, seconds);
}

uint64_t
ts_metrics_requests (ts_metrics_t *self, const char *api, const char *route)
{
    assert (self && api && route);
    size_t n = atomic_load_explicit (&self->n, memory_order_acquire);
    s_slot_t *slot = s_find (self, n, api, route);
    return slot? ts_prom_hist_count (&slot->hist): 0;
}

int
ts_metrics_page (ts_metrics_t *self, const ts_stats_t *broker,
                 const ts_cache_stats_t *cache, ts_prom_t *prom)
{
    assert (self && prom);
    ts_prom_reset (prom);
    ts_prom_build_info (prom, "gateway");
    ts_prom_stats (prom, broker);
    ts_prom_family (prom, S_REQUESTS, "histogram",
                    "Time the gateway took to answer a request it answers "
                    "itself, by API (http, zmq) and route (HTTP route "
                    "pattern or ZeroMQ op).");
    size_t n = atomic_load_explicit (&self->n, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        const char *labels [] = { "api", self->slots [i].api,
                                  "route", self->slots [i].route };
        ts_prom_histogram (prom, S_REQUESTS, labels, 2,
                           &self->slots [i].hist);
    }
    ts_cache_stats_t off = { 0 };
    if (!cache)
        cache = &off;
    struct { const char *name, *type, *help; double value; } rows [] = {
        { "tscache_gateway_cache_hits_total", "counter",
          "Query answers served from the answer cache.",
          (double) cache->hits },
        { "tscache_gateway_cache_misses_total", "counter",
          "Answer cache lookups that found nothing usable.",
          (double) cache->misses },
        { "tscache_gateway_cache_declined_total", "counter",
          "Answers read but not kept: the first time their query was "
          "asked (gateway.cache_admit).", (double) cache->declined },
        { "tscache_gateway_cache_bytes", "gauge",
          "Bytes the answer cache holds (as counted for its budget).",
          (double) cache->bytes },
        { "tscache_gateway_cache_entries", "gauge",
          "Answers the answer cache holds.", (double) cache->entries },
        { "tscache_gateway_cache_trims_total", "counter",
          "Times the answer cache gave the memory it freed back to the "
          "system.", (double) cache->trims },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows [0]; i++) {
        ts_prom_family (prom, rows [i].name, rows [i].type, rows [i].help);
        ts_prom_sample (prom, rows [i].name, NULL, 0, rows [i].value);
    }
    return ts_prom_error (prom);
}
