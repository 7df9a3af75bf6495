/*  zmqload - a ZeroMQ load generator for the gateway's query (make bench).

    Sends the same msgpack query (docs/protocol.md, section 5.2) from N
    concurrent clients and reports requests per second and the latency
    percentiles. Each client is a DEALER socket with at most one request
    in flight (no pipelining), so a client behaves exactly like a REQ
    socket; the clients are spread over a few threads (--threads), each
    running a zmq_poll loop over its sockets, as wrk and redis-benchmark
    spread their connections over an event loop.

    Before the run one request is decoded in full: it must be a 200 whose
    history and forecast hold --expect points (if given). During the run a
    reply counts as good when it has the same size as that first reply, so
    the client spends its time sending and receiving, not decoding.

    The run stops after --duration seconds or --requests requests,
    whichever comes first; a request unanswered for --timeout-ms is an
    error and its client stops. Output is one line of "key value" pairs:

      zmqload clients 50 threads 2 requests 123456 errors 0 seconds 10.00
              req_s 12345.6 p50_ms 0.123 p99_ms 0.456 reply_bytes 5712

    Exit status: 0 if every request got a good reply, 1 if some did not,
    2 if the run could not start (bad option, no answer, wrong answer). */

#include "ts_bench.h"
#include "ts_common.h"
#include "ts_proto.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#define S_MAX_CLIENTS   4096
#define S_MAX_THREADS   64
#define S_MAX_REPLY     (256 * 1024 * 1024)

typedef struct {
    const char *endpoint;
    char        id [TS_NAME_MAX + 1];
    bool        has_from, has_to;
    int64_t     from_ms, to_ms;
    long        clients;
    long        threads;
    double      duration_s;
    long        requests;
    long        expect;             //  points expected; -1: do not check
    long        timeout_ms;
    bool        compact;            //  ask for the compact encoding
} s_opts_t;

//  What every thread shares: the encoded request, the first reply's size,
//  the run's bounds and the count of requests handed out so far.
typedef struct {
    void       *ctx;
    const s_opts_t *opts;
    const char *request;
    size_t      request_size;
    size_t      reply_size;
    int64_t     deadline_ns;        //  no new request after this
    atomic_long claimed;            //  requests handed out
} s_shared_t;

//  One thread: its clients, and the latencies it measured.
typedef struct {
    s_shared_t *shared;
    long        first, count;       //  its clients: [first, first + count)
    uint64_t   *lat_ns;             //  one latency per good reply
    size_t      lat_n, lat_cap;
    long        errors;
    int64_t     end_ns;             //  when its last reply arrived
    pthread_t   tid;
} s_thread_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
"usage: zmqload --endpoint EP --id ID [options]\n"
"\n"
"Sends one tscache query (msgpack) from N concurrent clients to a gateway\n"
"and reports requests/s and latency percentiles.\n"
"\n"
"  --endpoint EP      gateway ZeroMQ endpoint, e.g. tcp://127.0.0.1:5555\n"
"  --id ID            series id to query\n"
"  --from MS          range start, epoch ms (default: the gateway's)\n"
"  --to MS            range end, epoch ms (default: the gateway's)\n"
"  --clients N        concurrent clients, one request in flight each "
"(default 1)\n"
"  --threads N        threads the clients are spread over (default 2, at\n"
"                     most one per client)\n"
"  --duration S       stop sending after S seconds (default 10)\n"
"  --requests N       stop after N requests in all (default 10000000)\n"
"  --expect N         the first reply must hold N points (default: any)\n"
"  --timeout-ms N     a request unanswered this long is an error "
"(default 5000)\n"
"  --compact          ask for the compact reply encoding (\"enc\":\n"
"                     \"compact\", docs/protocol.md 6.3); the first reply\n"
"                     must be compact\n"
"  --help             this text\n"
"\n"
"Prints one line: zmqload clients N threads N requests N errors N seconds S\n"
"req_s R p50_ms X p99_ms Y reply_bytes B. Exit 0 if every reply was good,\n"
"1 if some were not, 2 if the run could not start.\n");
}

static int
s_parse_ms (const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll (s, &end, 10);
    if (errno || end == s || *end)
        return TS_EINVAL;
    *out = v;
    return 0;
}

static int
s_parse_opts (int argc, char **argv, s_opts_t *o)
{
    static const struct option longs [] = {
        { "endpoint",   required_argument, NULL, 'e' },
        { "id",         required_argument, NULL, 'i' },
        { "from",       required_argument, NULL, 'f' },
        { "to",         required_argument, NULL, 't' },
        { "clients",    required_argument, NULL, 'c' },
        { "threads",    required_argument, NULL, 'T' },
        { "duration",   required_argument, NULL, 'd' },
        { "requests",   required_argument, NULL, 'n' },
        { "expect",     required_argument, NULL, 'x' },
        { "timeout-ms", required_argument, NULL, 'o' },
        { "compact",    no_argument,       NULL, 'k' },
        { "help",       no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    *o = (s_opts_t) { .clients = 1, .threads = 2, .duration_s = 10,
                      .requests = 10000000, .expect = -1,
                      .timeout_ms = 5000 };
    int c;
    long v;
    while ((c = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        int rc = 0;
        switch (c) {
            case 'e': o->endpoint = optarg; break;
            case 'i':
                if (!ts_name_valid (optarg)) {
                    char detail [TS_ERRLEN];
                    ts_name_errf (detail, "id", optarg, strlen (optarg));
                    fprintf (stderr, "zmqload: --id: %s\n", detail);
                    return TS_EINVAL;
                }
                ts_strlcpy (o->id, optarg, sizeof o->id);
                break;
            case 'f': rc = s_parse_ms (optarg, &o->from_ms);
                      o->has_from = true; break;
            case 't': rc = s_parse_ms (optarg, &o->to_ms);
                      o->has_to = true; break;
            case 'c': rc = ts_bench_parse_long (optarg, 1, S_MAX_CLIENTS,
                                         &o->clients); break;
            case 'T': rc = ts_bench_parse_long (optarg, 1, S_MAX_THREADS,
                                         &o->threads); break;
            case 'd': rc = ts_bench_parse_long (optarg, 1, 86400, &v);
                      o->duration_s = (double) v; break;
            case 'n': rc = ts_bench_parse_long (optarg, 1, 1000000000,
                                         &o->requests); break;
            case 'x': rc = ts_bench_parse_long (optarg, 0, TS_PROTO_MAX_POINTS,
                                         &o->expect); break;
            case 'o': rc = ts_bench_parse_long (optarg, 1, 3600000,
                                         &o->timeout_ms); break;
            case 'k': o->compact = true; break;
            case 'h': s_usage (stdout); exit (0);
            default:  s_usage (stderr); return TS_EINVAL;
        }
        if (rc) {
            fprintf (stderr, "zmqload: bad value '%s' for an option\n",
                     optarg);
            return TS_EINVAL;
        }
    }
    if (optind < argc || !o->endpoint || !*o->id) {
        fprintf (stderr, "zmqload: --endpoint and --id are required "
                 "(--help)\n");
        return TS_EINVAL;
    }
    if (o->threads > o->clients)
        o->threads = o->clients;
    return 0;
}

//  A connected DEALER socket, or NULL.
static void *
s_connect (void *ctx, const char *endpoint)
{
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    if (!sock)
        return NULL;
    int zero = 0;
    zmq_setsockopt (sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect (sock, endpoint)) {
        zmq_close (sock);
        return NULL;
    }
    return sock;
}

//  Sends the request as a REQ socket would: empty delimiter, message.
static int
s_send (void *sock, const char *data, size_t size)
{
    if (zmq_send (sock, "", 0, ZMQ_SNDMORE) < 0
    ||  zmq_send (sock, data, size, 0) < 0)
        return -1;
    return 0;
}

//  Receives one reply (delimiter and message) without waiting. Returns
//  the message size (msg holds it), or -1 if no complete reply is there
//  or it is not two frames.
static long
s_recv (void *sock, zmq_msg_t *msg)
{
    long size = -1;
    int frames = 0;
    int more = 1;
    while (more) {
        if (zmq_msg_recv (msg, sock, frames? 0: ZMQ_DONTWAIT) < 0)
            return -1;
        frames++;
        more = zmq_msg_more (msg);
        if (frames == 2)
            size = (long) zmq_msg_size (msg);
    }
    return frames == 2? size: -1;
}

//  Hands out one request if the run is not over. True if the caller may
//  send it.
static bool
s_claim (s_shared_t *shared)
{
    if (ts_bench_now_ns () >= shared->deadline_ns)
        return false;
    return atomic_fetch_add (&shared->claimed, 1) < shared->opts->requests;
}

static int
s_record (s_thread_t *self, uint64_t ns)
{
    if (self->lat_n == self->lat_cap) {
        size_t cap = self->lat_cap? self->lat_cap * 2: 65536;
        uint64_t *lat = realloc (self->lat_ns, cap * sizeof *lat);
        if (!lat)
            return TS_ENOMEM;
        self->lat_ns = lat;
        self->lat_cap = cap;
    }
    self->lat_ns [self->lat_n++] = ns;
    return 0;
}

static void *
s_thread (void *arg)
{
    s_thread_t *self = arg;
    s_shared_t *shared = self->shared;
    long n = self->count;
    zmq_pollitem_t *items = calloc ((size_t) n, sizeof *items);
    int64_t *sent = calloc ((size_t) n, sizeof *sent);     //  0: idle
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    if (!items || !sent) {
        self->errors += n;
        goto done;
    }
    long busy = 0;
    for (long i = 0; i < n; i++) {
        items [i].socket = s_connect (shared->ctx, shared->opts->endpoint);
        items [i].events = ZMQ_POLLIN;
        if (!items [i].socket)
            self->errors++;
        else
        if (s_claim (shared)) {
            sent [i] = ts_bench_now_ns ();
            if (s_send (items [i].socket, shared->request,
                        shared->request_size) == 0)
                busy++;
            else {
                sent [i] = 0;
                self->errors++;
            }
        }
    }
    int64_t timeout_ns = (int64_t) shared->opts->timeout_ms * 1000000;
    while (busy > 0) {
        int rc = zmq_poll (items, (int) n, 100);
        if (rc < 0 && zmq_errno () != EINTR)
            break;
        int64_t now = ts_bench_now_ns ();
        for (long i = 0; i < n; i++) {
            if (!sent [i])
                continue;
            if (items [i].revents & ZMQ_POLLIN) {
                long size = s_recv (items [i].socket, &msg);
                if (size < 0)
                    continue;           //  not a whole reply yet
                now = ts_bench_now_ns ();
                if ((size_t) size == shared->reply_size) {
                    if (s_record (self, (uint64_t) (now - sent [i])))
                        self->errors++;
                }
                else
                    self->errors++;
                self->end_ns = now;
                sent [i] = 0;
                busy--;
                if (s_claim (shared)) {
                    sent [i] = ts_bench_now_ns ();
                    if (s_send (items [i].socket, shared->request,
                                shared->request_size) == 0)
                        busy++;
                    else {
                        sent [i] = 0;
                        self->errors++;
                    }
                }
            }
            else
            if (now - sent [i] > timeout_ns) {
                self->errors++;         //  unanswered: this client stops
                sent [i] = 0;
                busy--;
            }
        }
    }
done:
    zmq_msg_close (&msg);
    for (long i = 0; items && i < n; i++)
        if (items [i].socket)
            zmq_close (items [i].socket);
    free (items);
    free (sent);
    return NULL;
}

//  One request, decoded in full: must be a 200 with expect points.
//  Returns the reply size, or -1 (reason on stderr).
static long
s_check (void *ctx, const s_opts_t *o, const char *req, size_t req_size)
{
    void *sock = s_connect (ctx, o->endpoint);
    long result = -1;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    if (!sock || !reply || s_send (sock, req, req_size)) {
        fprintf (stderr, "zmqload: cannot connect to %s\n", o->endpoint);
        goto done;
    }
    zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
    long size = -1;
    int64_t until = ts_bench_now_ns () + (int64_t) o->timeout_ms * 1000000;
    while (size < 0 && ts_bench_now_ns () < until) {
        if (zmq_poll (&item, 1, 100) > 0)
            size = s_recv (sock, &msg);
    }
    if (size < 0) {
        fprintf (stderr, "zmqload: no answer from %s within %ld ms\n",
                 o->endpoint, o->timeout_ms);
        goto done;
    }
    char err [TS_ERRLEN] = "";
    if (ts_msg_decode (reply, zmq_msg_data (&msg), (size_t) size,
                       S_MAX_REPLY, err)) {
        fprintf (stderr, "zmqload: undecodable reply: %s\n", err);
        goto done;
    }
    if (reply->status != 200) {
        fprintf (stderr, "zmqload: the gateway answered %d %s: %s\n",
                 reply->status, reply->error, reply->detail);
        goto done;
    }
    long points = (long) (reply->series.history->n
                          + reply->series.forecast->n);
    if (o->expect >= 0 && points != o->expect) {
        fprintf (stderr, "zmqload: the reply holds %ld points, expected "
                 "%ld\n", points, o->expect);
        goto done;
    }
    if (reply->enc != (o->compact? TS_ENC_COMPACT: TS_ENC_COLUMNS)) {
        fprintf (stderr, "zmqload: the reply is in the %s encoding\n",
                 ts_enc_name (reply->enc));
        goto done;
    }
    result = size;
done:
    ts_msg_destroy (&reply);
    zmq_msg_close (&msg);
    if (sock)
        zmq_close (sock);
    return result;
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y? -1: x > y;
}

//  Nearest-rank percentile of a sorted array, in ms.
static double
s_pct_ms (const uint64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t) (p * (double) n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (double) v [k - 1] / 1e6;
}

int
main (int argc, char **argv)
{
    s_opts_t o;
    if (s_parse_opts (argc, argv, &o))
        return 2;

    ts_msg_t *query = ts_msg_new (TS_OP_QUERY);
    char *req = NULL;
    size_t req_size = 0;
    if (!query)
        return 2;
    ts_strlcpy (query->id, o.id, sizeof query->id);
    query->has_from = o.has_from;
    query->from_ms = o.from_ms;
    query->has_to = o.has_to;
    query->to_ms = o.to_ms;
    query->enc = o.compact? TS_ENC_COMPACT: TS_ENC_COLUMNS;
    int rc = ts_msg_encode (query, &req, &req_size);
    ts_msg_destroy (&query);
    if (rc) {
        fprintf (stderr, "zmqload: cannot encode the query: %s\n",
                 ts_strerror (rc));
        return 2;
    }
    void *ctx = zmq_ctx_new ();
    if (!ctx) {
        free (req);
        return 2;
    }
    zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, S_MAX_CLIENTS + 16);
    long reply_size = s_check (ctx, &o, req, req_size);
    if (reply_size < 0) {
        free (req);
        zmq_ctx_term (ctx);
        return 2;
    }

    s_shared_t shared = {
        .ctx = ctx, .opts = &o, .request = req, .request_size = req_size,
        .reply_size = (size_t) reply_size
    };
    atomic_init (&shared.claimed, 0);
    s_thread_t threads [S_MAX_THREADS];
    memset (threads, 0, sizeof threads);
    int64_t start = ts_bench_now_ns ();
    shared.deadline_ns = start + (int64_t) (o.duration_s * 1e9);
    long first = 0;             //  clients handed to started threads
    long started = 0;
    for (long t = 0; t < o.threads; t++) {
        s_thread_t *th = &threads [t];
        th->shared = &shared;
        th->first = first;
        th->count = o.clients / o.threads + (t < o.clients % o.threads);
        if (pthread_create (&th->tid, NULL, s_thread, th)) {
            fprintf (stderr, "zmqload: cannot start a thread\n");
            break;
        }
        first += th->count;
        started++;
    }
    size_t total = 0;
    long errors = 0;
    int64_t end = start;
    for (long t = 0; t < started; t++) {
        pthread_join (threads [t].tid, NULL);
        total += threads [t].lat_n;
        errors += threads [t].errors;
        if (threads [t].end_ns > end)
            end = threads [t].end_ns;
    }
    errors += o.clients - first;    //  clients that never ran

    uint64_t *all = malloc ((total? total: 1) * sizeof *all);
    size_t n = 0;
    for (long t = 0; t < started; t++) {
        if (all && threads [t].lat_n)
            memcpy (all + n, threads [t].lat_ns,
                    threads [t].lat_n * sizeof *all);
        n += threads [t].lat_n;
        free (threads [t].lat_ns);
    }
    double seconds = (double) (end - start) / 1e9;
    double p50 = 0, p99 = 0;
    if (all) {
        qsort (all, n, sizeof *all, s_cmp_u64);
        p50 = s_pct_ms (all, n, 0.50);
        p99 = s_pct_ms (all, n, 0.99);
    }
    printf ("zmqload clients %ld threads %ld requests %zu errors %ld "
            "seconds %.2f req_s %.1f p50_ms %.3f p99_ms %.3f reply_bytes "
            "%ld\n", o.clients, o.threads, n, errors, seconds,
            seconds > 0? (double) n / seconds: 0.0, p50, p99, reply_size);
    free (all);
    free (req);
    zmq_ctx_term (ctx);
    return errors? 1: 0;
}
