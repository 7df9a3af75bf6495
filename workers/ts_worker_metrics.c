/*  ts_worker_metrics - the worker's fetch figures and its metrics page
    (see ts_worker_metrics.h). */

#include "ts_worker_metrics.h"
#include "ts_fetch.h"
#include "ts_log.h"
#include "ts_prom.h"
#include "ts_prom_http.h"
#include "ts_prom_stats.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_KINDS         16          //  room for ts_fetch_kinds
#define S_PAGE_MAX      (1 << 20)   //  largest page, bytes

struct _ts_worker_metrics_t {
    ts_prom_hist_t  fetch;          //  upstream request latency, seconds
    uint64_t        errors [S_KINDS];   //  failed ids, by ts_fetch_kinds
    size_t          kinds;          //  how many kinds there are
    ts_prom_http_t *http;           //  the page; NULL if the port is 0
    ts_prom_t      *prom;           //  scratch: the page being written
};

ts_worker_metrics_t *
ts_worker_metrics_new (const ts_config_t *cfg, char *err)
{
    ts_worker_metrics_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    ts_prom_hist_init (&self->fetch, ts_prom_latency_bounds,
                       ts_prom_latency_bounds_n);
    while (ts_fetch_kinds [self->kinds])
        self->kinds++;
    assert (self->kinds <= S_KINDS);
    int port = (int) ts_config_int (cfg, "worker.metrics_port");
    if (port == 0)
        return self;
    const char *bind = ts_config_str (cfg, "worker.metrics_bind");
    char detail [TS_ERRLEN];
    self->http = ts_prom_http_new (bind, port, detail);
    self->prom = ts_prom_new (S_PAGE_MAX);
    if (!self->http || !self->prom) {
        ts_errf (err, "worker.metrics_port: %s", self->http? "out of memory"
                                                           : detail);
        ts_worker_metrics_destroy (&self);
        return NULL;
    }
    ts_info ("metrics on http://%s:%d/metrics", bind, port);
    return self;
}

void
ts_worker_metrics_destroy (ts_worker_metrics_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_prom_http_destroy (&(*self_p)->http);
        ts_prom_destroy (&(*self_p)->prom);
        free (*self_p);
        *self_p = NULL;
    }
}

void
ts_worker_metrics_fetched (ts_worker_metrics_t *self, int64_t elapsed_ms)
{
    assert (self);
    ts_prom_hist_observe (&self->fetch, (double) elapsed_ms / 1000);
}

//  The index of kind in ts_fetch_kinds; "worker"'s if it is not there.
static size_t
s_kind (const ts_worker_metrics_t *self, const char *kind)
{
    size_t worker = 0;
    for (size_t i = 0; i < self->kinds; i++) {
        if (kind && strcmp (ts_fetch_kinds [i], kind) == 0)
            return i;
        if (strcmp (ts_fetch_kinds [i], "worker") == 0)
            worker = i;
    }
    return worker;
}

void
ts_worker_metrics_failed (ts_worker_metrics_t *self, const char *kind)
{
    assert (self);
    self->errors [s_kind (self, kind)]++;
}

uint64_t
ts_worker_metrics_failures (const ts_worker_metrics_t *self,
                            const char *kind)
{
    assert (self);
    return self->errors [s_kind (self, kind)];
}

void
ts_worker_metrics_publish (ts_worker_metrics_t *self, ts_store_t *store)
{
    assert (self && store);
    if (!self->http)
        return;
    ts_prom_t *prom = self->prom;
    ts_prom_reset (prom);
    ts_prom_build_info (prom, "worker");
    ts_prom_family (prom, "tscache_fetch_duration_seconds", "histogram",
                    "Time of one upstream request, from its start to its "
                    "last byte, whatever the outcome.");
    ts_prom_histogram (prom, "tscache_fetch_duration_seconds", NULL, 0,
                       &self->fetch);
    ts_prom_family (prom, "tscache_fetch_errors_total", "counter",
                    "Ids whose fetch failed, by kind (see docs/metrics.md).");
    for (size_t i = 0; i < self->kinds; i++) {
        const char *labels [] = { "kind", ts_fetch_kinds [i] };
        ts_prom_sample (prom, "tscache_fetch_errors_total", labels, 1,
                        (double) self->errors [i]);
    }
    ts_store_metrics (store, prom);
    size_t size;
    const char *text = ts_prom_text (prom, &size);
    int rc = ts_prom_error (prom);
    if (rc == 0)
        rc = ts_prom_http_publish (self->http, text, size);
    if (rc)
        ts_warn ("metrics: page not renewed: %s", ts_strerror (rc));
}
