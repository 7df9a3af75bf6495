/*  ts_ready - the gateway's readiness. See ts_ready.h.

    One atomic holds the monotonic time of the broker's last answer (0:
    never); the front ends' loops write it, readiness requests read it.
    Nothing here sends anything: the ZeroMQ loop (ts_zmqsrv) pings. */

#include "ts_ready.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct _ts_ready_t {
    ts_store_t     *store;          //  borrowed: its roles' backends
    int64_t         bound_ms;       //  gateway.broker_ready_ms
    atomic_llong    answered_ms;    //  monotonic: last broker answer, 0
                                    //  never
};

ts_ready_t *
ts_ready_new (const ts_config_t *cfg, ts_store_t *store)
{
    ts_ready_t *self = calloc (1, sizeof (ts_ready_t));
    if (!self)
        return NULL;
    self->store = store;
    self->bound_ms = ts_config_int (cfg, "gateway.broker_ready_ms");
    atomic_init (&self->answered_ms, 0);
    return self;
}

void
ts_ready_destroy (ts_ready_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
ts_ready_broker_answered (ts_ready_t *self, int64_t now_ms)
{
    //  0 means never: a clock that starts at 0 still counts.
    atomic_store (&self->answered_ms, now_ms > 0? now_ms: 1);
}

int64_t
ts_ready_ping_ms (const ts_ready_t *self)
{
    return self->bound_ms / 3;
}

//  One check: "NAME":{"ok":..,"detail":..[,extra]} with a comma before
//  all but the first.
static void
s_check (ts_json_t *out, bool first, const char *name, bool ok,
         const char *detail, const char *extra)
{
    ts_json_raw (out, first? "": ",");
    ts_json_str (out, name);
    ts_json_raw (out, ok? ":{\"ok\":true,\"detail\":"
                        : ":{\"ok\":false,\"detail\":");
    ts_json_str (out, detail);
    ts_json_raw (out, extra? extra: "");
    ts_json_raw (out, "}");
}

int
ts_ready_json (ts_ready_t *self, int64_t now_ms, ts_json_t *out)
{
    static const struct { const char *name; unsigned role; } roles [] = {
        { "registry", TS_STORE_REGISTRY },
        { "history", TS_STORE_HISTORY },
        { "forecast", TS_STORE_FORECAST }
    };
    int64_t answered = atomic_load (&self->answered_ms);
    int64_t ago = answered? now_ms - answered: -1;
    bool broker_ok = answered && ago <= self->bound_ms;
    char detail [TS_ERRLEN], extra [64];
    if (!answered)
        ts_errf (detail, "not answering: no answer yet to the gateway's "
                 "pings");
    else
    if (!broker_ok)
        ts_errf (detail, "not answering: last answer %lld ms ago, over "
                 "gateway.broker_ready_ms (%lld)", (long long) ago,
                 (long long) self->bound_ms);
    else
        ts_errf (detail, "answering");
    if (answered)
        snprintf (extra, sizeof extra, ",\"answered_ms_ago\":%lld",
                  (long long) (ago > 0? ago: 0));
    else
        snprintf (extra, sizeof extra, ",\"answered_ms_ago\":null");

    ts_json_raw (out, broker_ok? "{\"status\":\"ready\",\"not_ready\":["
                               : "{\"status\":\"not_ready\",\"not_ready\":"
                                 "[\"broker\"");
    ts_json_raw (out, "],\"checks\":{");
    for (size_t i = 0; i < sizeof roles / sizeof roles [0]; i++) {
        char open [TS_ERRLEN];
        ts_errf (open, "%s, open",
                 ts_store_role_backend (self->store, roles [i].role));
        s_check (out, i == 0, roles [i].name, true, open, NULL);
    }
    s_check (out, false, "broker", broker_ok, detail, extra);
    ts_json_raw (out, "}}");
    return broker_ok? 200: 503;
}
