/*  ts_worker_metrics - the worker's own figures and its metrics page on
    worker.metrics_port (docs/metrics.md).

    The worker counts every completed upstream request into a latency
    histogram (tscache_fetch_duration_seconds, whatever the outcome) and
    every failed id by kind (tscache_fetch_errors_total{kind}, the kinds
    of ts_fetch_kinds); its store counts its own writes by role and
    backend (ts_store_metrics). Once a second the worker's loop publishes
    the page (ts_prom_http), which a scrape reads without waiting on the
    loop.

    Only this page shows these figures: the gateway's /metrics shows what
    the broker knows (jobs, workers and their credit), and Prometheus
    scrapes each worker, as it would any fleet of processes. Counters
    restart at 0 with the worker, which Prometheus' rate() expects of a
    process's counters.

    One thread: the worker's loop (the page's server reads only the
    published copy). */

#ifndef TS_WORKER_METRICS_H_INCLUDED
#define TS_WORKER_METRICS_H_INCLUDED

#include "ts_config.h"
#include "ts_store.h"

typedef struct _ts_worker_metrics_t ts_worker_metrics_t;

//  Returns empty figures, serving them on worker.metrics_bind and
//  worker.metrics_port of cfg unless the port is 0 (then they are only
//  counted). Returns NULL with the reason in err (a port in use, out of
//  memory).
ts_worker_metrics_t *ts_worker_metrics_new (const ts_config_t *cfg,
                                            char *err);

//  Stops serving and frees the figures; sets *self_p to NULL. Safe on
//  NULL.
void ts_worker_metrics_destroy (ts_worker_metrics_t **self_p);

//  Counts one completed upstream request that took elapsed_ms.
void ts_worker_metrics_fetched (ts_worker_metrics_t *self,
                                int64_t elapsed_ms);

//  Counts one failed id of kind (one of ts_fetch_kinds; any other text
//  counts as "worker").
void ts_worker_metrics_failed (ts_worker_metrics_t *self, const char *kind);

//  How many ids failed with kind so far.
uint64_t ts_worker_metrics_failures (const ts_worker_metrics_t *self,
                                     const char *kind);

//  Renews the page with the figures as they are now and store's write
//  figures. Does nothing if the port is 0.
void ts_worker_metrics_publish (ts_worker_metrics_t *self, ts_store_t *store);

#endif
