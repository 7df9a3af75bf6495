/*  ts_http - the gateway's HTTP front end on libmicrohttpd.

    Runs libmicrohttpd's own threads (a pool of gateway.http_threads, epoll
    where available) bound to gateway.http_bind:gateway.http_port. Each
    request's raw target is captured, its body collected up to
    TS_ROUTE_MAX_BODY, and the whole request handed to ts_route, whose
    status and JSON become the response. Nothing here knows the routes.

    API keys come from ts_config_secret (the variable named by
    gateway.api_key_env, else gateway.api_key_file): a comma- or
    newline-separated list. With no key the front end does not start. */

#ifndef TS_HTTP_H_INCLUDED
#define TS_HTTP_H_INCLUDED

#include "ts_api.h"
#include "ts_config.h"

typedef struct _ts_http_t ts_http_t;

//  Reads the API keys and starts serving api over HTTP. Returns NULL with
//  the reason in err: no API key ("no API key: set TSCACHE_API_KEY or
//  gateway.api_key_file"), unreadable key file, bad bind address, or the
//  port cannot be bound. Do not call when gateway.http_port is 0.
ts_http_t *ts_http_new (const ts_config_t *cfg, ts_api_t *api, char *err);

//  Stops the threads (answers in progress finish first) and frees; sets
//  *self_p to NULL. Safe on NULL.
void ts_http_destroy (ts_http_t **self_p);

//  The port actually bound.
int ts_http_port (const ts_http_t *self);

#endif
