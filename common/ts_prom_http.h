/*  ts_prom_http - a process's own metrics page over plain HTTP, for the
    optional broker.metrics_port and worker.metrics_port.

    GET /metrics (and HEAD) answers the last text the process published,
    as Prometheus text (TS_PROM_CONTENT_TYPE); any other path is 404, any
    other method 405. There is no key: the page is bound to loopback by
    default (<process>.metrics_bind), and says how many jobs and fetches
    there were, never a series id.

    The server is libmicrohttpd (Debian's libmicrohttpd12, also the demo
    upstream's) on a thread of its own, so a slow or stuck scraper never
    holds the process's loop: the loop renders its figures and publishes
    a copy now and then (the broker and the worker do once a second, from
    their housekeeping), and a scrape gets the latest copy, at most that
    old. Bounded: TS_PROM_HTTP_CONNECTIONS connections at once, each
    closed after TS_PROM_HTTP_TIMEOUT_S idle, TS_PROM_HTTP_MEMORY bytes
    of request buffer each (a larger request head is refused by the
    library). */

#ifndef TS_PROM_HTTP_H_INCLUDED
#define TS_PROM_HTTP_H_INCLUDED

#include "ts_common.h"

#define TS_PROM_HTTP_CONNECTIONS    8
#define TS_PROM_HTTP_TIMEOUT_S      5
#define TS_PROM_HTTP_MEMORY         (32 * 1024)

typedef struct _ts_prom_http_t ts_prom_http_t;

//  Starts serving on bind (an IPv4 or IPv6 literal, e.g. "127.0.0.1",
//  "::1") and port (1..65535). Until the first ts_prom_http_publish the
//  page is empty. Returns NULL with the reason in err, e.g. "cannot
//  listen on 127.0.0.1:9100: Address already in use".
ts_prom_http_t *ts_prom_http_new (const char *bind, int port, char *err);

//  Stops the server (waits for its thread) and frees it; sets *self_p to
//  NULL. Safe on NULL.
void ts_prom_http_destroy (ts_prom_http_t **self_p);

//  Replaces the page with a copy of text (size bytes). Thread-safe.
//  Returns 0 or TS_ENOMEM (the previous page stays).
int ts_prom_http_publish (ts_prom_http_t *self, const char *text,
                          size_t size);

#endif
