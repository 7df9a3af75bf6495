/*  tscache-gateway - answers queries and admin requests over ZeroMQ
    (msgpack, gateway.zmq_bind) and HTTP (JSON, gateway.http_bind and
    gateway.http_port), reading through the store interface and forwarding
    hydrate requests to the broker.

    A thin main: load the config, open the store, build the request
    handler (ts_api), both front ends (ts_zmqsrv, ts_http) and the change
    notice subscriber (ts_notice, when the answer cache is on and
    gateway.notice_endpoint is not ""), serve the ZeroMQ socket in this
    thread until SIGINT/SIGTERM while ts_http serves HTTP and ts_notice
    listens in their own threads, drain (up to gateway.drain_timeout_ms:
    no new connection or request, the requests in flight answered; a
    second signal cuts it short), then tear down in reverse order. */

#include "ts_api.h"
#include "ts_http.h"
#include "ts_notice.h"
#include "ts_zmqsrv.h"
#include "ts_config.h"
#include "ts_curve.h"
#include "ts_daemon.h"
#include "ts_log.h"
#include "ts_store.h"
#include "ts_h1.h"
#include "ts_route.h"
#include "ts_version.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME "tscache-gateway"

//  With HTTP on, an API key must be readable now: the HTTP front end
//  does not start without one. With gateway.api_key_generate on, a
//  missing key is made at start, but a key file, when named, must still
//  hold a key.
static int
s_check (const ts_config_t *cfg, char *err)
{
    //  CURVE: the gateway's key pair, the broker's public key, the
    //  clients' allow-lists.
    static const char *const pairs [] = { "security.gateway_cert", NULL };
    static const char *const publics [] = { "security.broker_cert", NULL };
    static const char *const dirs [] = { "security.read_clients_dir",
                                         "security.admin_clients_dir", NULL };
    if (ts_curve_check (cfg, pairs, publics, dirs, err))
        return TS_ECONFIG;
    if (ts_config_int (cfg, "gateway.http_port") == 0)
        return 0;
    if (ts_config_bool (cfg, "gateway.api_key_generate")
    &&  !*ts_config_str (cfg, "gateway.api_key_file"))
        return 0;
    return ts_config_secret_check (cfg, "gateway", true, err);
}

//  Finishes what is in flight on both front ends, for at most
//  gateway.drain_timeout_ms or until a second signal.
static void
s_drain (const ts_config_t *cfg, ts_zmqsrv_t *zmq, ts_http_t *http)
{
    int64_t drain_ms = ts_config_int (cfg, "gateway.drain_timeout_ms");
    int64_t until = ts_mono_ms () + drain_ms;
    zsys_interrupted = 0;           //  so that a second signal shows
    ts_info ("draining: requests in flight get up to %lld ms",
             (long long) drain_ms);
    if (http)
        ts_http_drain (http, until);
    ts_zmqsrv_drain (zmq, until);
    while (http && !ts_http_drained (http) && !zsys_interrupted)
        zclock_sleep (10);
}

//  The keys the gateway reads, and those it changes while running.
static const char *const s_used [] = { "log.", "gateway.", "store.",
                                       "security.", NULL };
static const char *const s_live [] = { "gateway.api_key_env",
                                       "gateway.api_key_file",
                                       "gateway.api_keys_file", NULL };
typedef struct {
    const ts_config_t *cfg;
    ts_http_t *http;                //  NULL when HTTP is off
} s_reload_t;

//  SIGHUP: the API keys are read again, whatever changed.
static void
s_apply (void *arg, const ts_strlist_t *applied)
{
    s_reload_t *reload = arg;
    if (reload->http)
        ts_http_apply (reload->http, reload->cfg);
}

static int
s_die (const char *what, const char *err)
{
    ts_error ("%s: %s", what, err);
    return 1;
}

//  A change notice of id: read-through's queries of it wake up.
static void
s_noticed (void *arg, const char *id)
{
    ts_api_noticed ((ts_api_t *) arg, id);
}

int
main (int argc, char *argv [])
{
    int code;
    ts_version_use (ts_store_libraries ());
    ts_version_use (ts_route_libraries ());
    ts_version_use (ts_h1_libraries ());
    ts_config_t *cfg = ts_daemon_init (argc, argv, S_NAME,
        "Serves tscache queries over ZeroMQ (gateway.zmq_bind, msgpack) and\n"
        "HTTP (gateway.http_bind:gateway.http_port, JSON). HTTP API keys come\n"
        "from the variable named by gateway.api_key_env (TSCACHE_API_KEY) or\n"
        "the file gateway.api_key_file; with gateway.api_key_generate on and\n"
        "neither set, a key is generated at start and logged once. SIGHUP\n"
        "reloads the config file: log.level, log.format and the API keys\n"
        "(read again) change at once; other changes need a restart.",
        s_check, &code);
    if (!cfg)
        return code;
    char err [TS_ERRLEN] = "";
    int rc = 1;
    ts_api_t *api = NULL;
    ts_zmqsrv_t *zmq = NULL;
    ts_http_t *http = NULL;
    ts_notice_t *notice = NULL;
    const char *notices = ts_config_str (cfg, "gateway.notice_endpoint");
    ts_store_t *store = ts_store_new (cfg, err);
    if (!store)
        s_die ("cannot open store", err);
    else
    if (!(api = ts_api_new (cfg, store, err)))
        s_die ("cannot start", err);
    else
    if (!(zmq = ts_zmqsrv_new (cfg, api, err)))
        s_die ("cannot start", err);
    else
    if (*notices && (ts_api_cache (api) || ts_api_flights (api))
    &&  !(notice = ts_notice_new_for (notices,
                                      ts_api_broker_policy (api)->curve,
                                      ts_api_cache (api), s_noticed, api,
                                      err)))
        s_die ("cannot start", err);
    else
    if (ts_config_int (cfg, "gateway.http_port") > 0
    &&  !(http = ts_http_new (cfg, api, err)))
        s_die ("cannot start", err);
    else {
        const char *address = ts_config_str (cfg, "gateway.http_bind");
        bool v6 = strchr (address, ':') != NULL;
        if (http)
            ts_info ("listening zmq=%s http=http://%s%s%s:%d store=%s",
                     ts_zmqsrv_endpoint (zmq), v6? "[": "", address,
                     v6? "]": "", ts_http_port (http),
                     ts_store_backend (store));
        else
            ts_info ("listening zmq=%s http=off store=%s",
                     ts_zmqsrv_endpoint (zmq), ts_store_backend (store));
        s_reload_t reload = { cfg, http };
        ts_daemon_on_reload (cfg, s_used, s_live, s_apply, &reload);
        rc = ts_zmqsrv_run (zmq) == 0? 0: 1;
        ts_daemon_on_reload (NULL, NULL, NULL, NULL, NULL);
        if (rc == 0)
            s_drain (cfg, zmq, http);
        ts_info (rc == 0? "stopping": "stopping: ZeroMQ socket failed");
    }
    ts_http_destroy (&http);
    ts_notice_destroy (&notice);
    ts_zmqsrv_destroy (&zmq);
    ts_api_destroy (&api);
    ts_store_destroy (&store);
    ts_config_destroy (&cfg);
    return rc;
}
