/*  fuzz_http - bytes from an HTTP client through the gateway's request
    reader (gateway/ts_h1.c) and its routes (gateway/ts_route.c: the key
    check, path and query parameters parsed by gateway/ts_target.c, the
    JSON request bodies, the replaced service's routes of ts_seed.c).

    The first byte sets how many bytes each ts_h1_feed gets (1 to 64,
    or all at once for 0), as a socket's reads cut a stream anywhere;
    the rest is the connection's bytes, pipelined requests and all, read
    as ts_http.c reads them. Every whole request goes to ts_route_start;
    one for the broker gets a canned 200 reply through ts_route_finish,
    so nothing is sent. A produced answer is drained, as the connection
    would. Ends with ts_h1_eof, as a peer that closes.

    The routes run over a real request handler and LMDB store (the
    gateway's answers read it), opened once on a tmpfs directory
    (/dev/shm, else TMPDIR) that is removed at exit. Registrations the
    inputs make stay in it across inputs, as on a live gateway. */

#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "ts_log.h"
#include "../gateway/ts_route.h"
#include "../tests/unit/ts_testutil.h"

#define S_KEY "demo"

static struct {
    char         dir [64];      //  the store's tmpfs directory
    ts_config_t *cfg;
    ts_store_t  *store;
    ts_api_t    *api;
    ts_route_t  *route;
    ts_reply_t  *out;
    ts_json_t   *part;          //  a produced answer's parts
} s_gw;

static void
s_cleanup (void)
{
    ts_json_destroy (&s_gw.part);
    ts_reply_destroy (&s_gw.out);
    ts_route_destroy (&s_gw.route);
    ts_api_destroy (&s_gw.api);
    ts_store_destroy (&s_gw.store);
    ts_config_destroy (&s_gw.cfg);
    if (*s_gw.dir)
        ts_testutil_rmrf (s_gw.dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    ts_log_set_level (TS_LOG_ERROR);
    const char *base = access ("/dev/shm", W_OK) == 0? "/dev/shm"
                     : getenv ("TMPDIR")? getenv ("TMPDIR"): "/tmp";
    snprintf (s_gw.dir, sizeof s_gw.dir, "%s/fuzz_http.XXXXXX", base);
    if (!mkdtemp (s_gw.dir)) {
        perror ("fuzz_http: mkdtemp");
        exit (1);
    }
    atexit (s_cleanup);
    char path [128];
    snprintf (path, sizeof path, "%s/data", s_gw.dir);
    //  No answer cache: an answer depends on the input and the store only.
    s_gw.cfg = ts_testutil_config (path, 16,
        "gateway:\n"
        "  broker_endpoint: inproc://fuzz-http-nobody\n"
        "  seed_path_prefix: /prod\n"
        "  cache_mb: 0\n"
        "  max_points: 1000\n"
        "upstream:\n"
        "  format:\n"
        "    measures:\n"
        "      cpu: cpu_usage\n"
        "      value: value\n");
    char err [TS_ERRLEN] = "";
    if (s_gw.cfg)
        s_gw.store = ts_store_new (s_gw.cfg, err);
    if (s_gw.store)
        s_gw.api = ts_api_new (s_gw.cfg, s_gw.store, err);
    if (s_gw.api)
        s_gw.route = ts_route_new (s_gw.api, s_gw.cfg, S_KEY ",second", err);
    s_gw.out = ts_reply_new ();
    s_gw.part = ts_json_new ();
    if (!s_gw.route || !s_gw.out || !s_gw.part) {
        fprintf (stderr, "fuzz_http: setup: %s\n", err);
        exit (1);
    }
    //  One registered id with points, so that queries find something.
    const char *ids [] = { "a" };
    ts_points_t *pts = ts_points_new ();
    if (!pts || ts_store_ids_add (s_gw.store, ids, 1, NULL, err) != 0
    ||  ts_points_append (pts, 1732406400000LL, "value", 1.5) != 0
    ||  ts_points_append (pts, 1732410000000LL, "cpu", 0.25) != 0
    ||  ts_store_history_put (s_gw.store, "a", pts, err) != 0) {
        fprintf (stderr, "fuzz_http: setup: %s\n", err);
        exit (1);
    }
    ts_points_destroy (&pts);
    return 0;
}

//  Drains a produced answer, as the connection writes it out.
static void
s_drain (ts_reply_t *out)
{
    ts_reply_producer_t producer;
    if (!ts_reply_take_producer (out, &producer))
        return;
    int rc = 0;
    while (rc == 0) {
        ts_json_reset (s_gw.part);
        rc = producer.produce (producer.arg, s_gw.part);
    }
    if (producer.free)
        producer.free (producer.arg);
}

//  Answers the request h1 holds, as ts_http.c's s_answer_request does.
static void
s_answer (ts_h1_t *h1)
{
    ts_route_req_t req;
    ts_route_req_of (&req, h1);
    ts_msg_t *forward = NULL;
    int status = ts_route_start (s_gw.route, &req, s_gw.out, &forward);
    if (status == TS_ROUTE_FORWARD) {
        if (!forward)
            abort ();               //  ts_route.h: forwarded means a message
        ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
        if (reply) {
            ts_msg_set_ok (reply, forward->op == TS_OP_HYDRATE? 202: 200);
            status = ts_route_finish (s_gw.route, req.target, forward, reply,
                                      s_gw.out);
        }
        ts_msg_destroy (&reply);
        ts_msg_destroy (&forward);
    }
    if (status < 100 || status > 599)
        abort ();
    s_drain (s_gw.out);
    ts_reply_text (s_gw.out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned step;                  //  0: everything at once
    if (!fuzz_mode (&data, &size, 65, &step))
        return 0;
    const char *in = (const char *) data;
    size_t left = size;
    ts_h1_limits_t limits = ts_h1_limits_default (TS_ROUTE_MAX_BODY);
    ts_h1_t *h1 = ts_h1_new (&limits);
    if (!h1)
        return 0;
    ts_h1_event_t event = TS_H1_MORE;
    while (left > 0) {
        size_t len = step && step < left? step: left;
        size_t used = 0;
        event = ts_h1_feed (h1, in, len, &used);
        if (used > len)
            abort ();
        in += used;
        left -= used;
        if (event == TS_H1_ERROR) {
            if (ts_h1_status (h1) < 400 || !ts_h1_error (h1))
                abort ();
            break;
        }
        if (event == TS_H1_REQUEST) {
            s_answer (h1);
            ts_h1_next (h1);
        }
    }
    if (event != TS_H1_ERROR)
        ts_h1_eof (h1);
    ts_h1_destroy (&h1);
    return 0;
}
