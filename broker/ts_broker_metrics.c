/*  ts_broker_metrics - the broker's own metrics page, on
    broker.metrics_port (0: none). Part of ts_broker
    (ts_broker_internal.h).

    Once a second, from the housekeeping, the broker writes what a stats
    request answers (ts_broker_stats: jobs by state, oldest job age,
    totals, workers and their credit) as Prometheus text (ts_prom_stats)
    and publishes it to the page's server thread (ts_prom_http), so a
    scrape reads figures at most a second old and never waits on the
    broker's loop. The gateway's GET /metrics shows the same figures; this
    page is for a broker watched on its own. */

#include "ts_broker_internal.h"
#include "ts_prom_stats.h"

#define S_PAGE_MAX      (4 << 20)   //  largest page, bytes

int
ts_broker_metrics_open (ts_broker_t *self, char *err)
{
    int port = (int) ts_config_int (self->cfg, "broker.metrics_port");
    if (port == 0)
        return 0;
    const char *bind = ts_config_str (self->cfg, "broker.metrics_bind");
    char detail [TS_ERRLEN];
    self->metrics_http = ts_prom_http_new (bind, port, detail);
    if (!self->metrics_http) {
        ts_errf (err, "broker.metrics_port: %s", detail);
        return TS_ECONFIG;
    }
    self->metrics_prom = ts_prom_new (S_PAGE_MAX);
    self->metrics_msg = ts_msg_new (TS_OP_REPLY);
    if (!self->metrics_prom || !self->metrics_msg) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    ts_info ("metrics on http://%s:%d/metrics", bind, port);
    ts_broker_metrics_publish (self);
    return 0;
}

void
ts_broker_metrics_close (ts_broker_t *self)
{
    ts_prom_http_destroy (&self->metrics_http);
    ts_prom_destroy (&self->metrics_prom);
    ts_msg_destroy (&self->metrics_msg);
}

void
ts_broker_metrics_publish (ts_broker_t *self)
{
    if (!self->metrics_http)
        return;
    char err [TS_ERRLEN];
    ts_prom_t *prom = self->metrics_prom;
    ts_prom_reset (prom);
    ts_prom_build_info (prom, "broker");
    int rc = ts_broker_stats (self, self->metrics_msg, err);
    if (rc)
        ts_warn ("metrics: cannot read the queue's figures: %s", err);
    ts_prom_stats (prom, rc == 0? &self->metrics_msg->stats: NULL);
    ts_broker_rate_metrics (self, prom);
    ts_broker_backfill_metrics (self, prom);
    size_t size;
    const char *text = ts_prom_text (prom, &size);
    if (ts_prom_error (prom) || ts_prom_http_publish (self->metrics_http,
                                                      text, size))
        ts_warn ("metrics: page not renewed: %s",
                 ts_strerror (ts_prom_error (prom)? ts_prom_error (prom)
                                                  : TS_ENOMEM));
}
