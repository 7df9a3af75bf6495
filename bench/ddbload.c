/*  ddbload - the store's limit for the DynamoDB and InfluxDB hydration
    benchmarks (bench/bench-dynamodb, bench/bench-influxdb, make bench).

    A bare HTTP client that replays a store's write requests (in the
    benchmarks: the BatchWriteItem bodies tscache sent to dynalite, the
    line-protocol bodies it sent to influxd's /write) at an endpoint, as
    fast as it answers, so the benchmark can set tscache's hydration rate
    beside what the store itself does with the same requests.

    One thread, libcurl multi, --connections easy handles each with one
    request in flight and its connection kept alive. Each request takes
    the next line of the bodies file (round robin): "TARGET<TAB>BODY", sent
    as a POST with X-Amz-Target: DynamoDB_20120810.TARGET and a fixed
    Authorization header (dynalite checks no signature; signing costs
    about 5 us a request, see docs/benchmarks.md). With --raw the bodies
    file holds records "BYTES<LF>" followed by that many bytes (any bytes:
    a gzipped line-protocol body, say), each sent as a POST with the
    --header lines only. A request counts as good when the answer is 2xx
    and, for BatchWriteItem, its UnprocessedItems is empty.

    Stops after --requests requests or --duration seconds, whichever comes
    first (requests in flight are finished), then prints one line:
    "ddbload connections N requests N errors N unprocessed N seconds S
    req_s R p50_ms A p99_ms B". Exit 0, 1 if any request failed, 2 on a
    bad option or bodies file. */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define S_MAX_CONNECTIONS 256
#define S_MAX_BODIES      100000
#define S_MAX_HEADERS     16
#define S_MAX_BODY        (64 * 1024 * 1024)

typedef struct {
    char   *target;                 //  "X-Amz-Target: ...", NULL with --raw
    char   *body;
    size_t  size;
    bool    batch;                  //  a BatchWriteItem: check UnprocessedItems
} s_body_t;

typedef struct {
    CURL              *curl;
    struct curl_slist *headers;
    char              *answer;
    size_t             used, cap;
    double             started;
    const s_body_t    *body;
} s_conn_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
"usage: ddbload --url URL --bodies FILE [--connections N] [--requests N]\n"
"               [--duration S] [--raw [--header H]...]\n"
"\n"
"Replays DynamoDB requests at URL (dynalite), or with --raw any POST\n"
"bodies (influxd's /write), as fast as it answers: the store's limit of\n"
"make bench's DynamoDB and InfluxDB figures.\n"
"\n"
"  --url URL          the endpoint, e.g. http://127.0.0.1:8000/\n"
"  --bodies FILE      one request a line: TARGET<TAB>BODY (TARGET e.g.\n"
"                     BatchWriteItem), sent round robin\n"
"  --raw              FILE holds records BYTES<LF> then that many bytes,\n"
"                     sent as they are with the --header lines only\n"
"  --header H         with --raw, a header line sent with every request,\n"
"                     e.g. 'Content-Encoding: gzip' (at most %d)\n"
"  --connections N    requests in flight, each on its own kept-alive\n"
"                     connection (1 to %d, default 4)\n"
"  --requests N       stop after N requests (default 10000)\n"
"  --duration S       ... or after S seconds (default 10)\n"
"  --help             this text\n"
"\n"
"Prints \"ddbload connections N requests N errors N unprocessed N seconds S\n"
"req_s R p50_ms A p99_ms B\"; exit 0, 1 if a request failed, 2 on a bad\n"
"option or file.\n", S_MAX_HEADERS, S_MAX_CONNECTIONS);
}

//  Reads the next line "TARGET<TAB>BODY" of f into *b (empty lines are
//  skipped). Returns 1, 0 at the end of the file, -1 if the line is not
//  one or memory ran out.
static int
s_read_line (FILE *f, s_body_t *b)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline (&line, &cap, f)) > 0) {
        while (len > 0 && (line [len - 1] == '\n' || line [len - 1] == '\r'))
            line [--len] = 0;
        if (len == 0)
            continue;
        char *tab = strchr (line, '\t');
        if (!tab || tab == line) {
            rc = -1;
            break;
        }
        *tab = 0;
        size_t tlen = strlen ("X-Amz-Target: DynamoDB_20120810.") + strlen (line) + 1;
        b->target = malloc (tlen);
        b->body = strdup (tab + 1);
        if (!b->target || !b->body) {
            rc = -1;
            break;
        }
        snprintf (b->target, tlen, "X-Amz-Target: DynamoDB_20120810.%s", line);
        b->size = strlen (b->body);
        b->batch = strcmp (line, "BatchWriteItem") == 0;
        rc = 1;
    }
    free (line);
    return rc;
}

//  Reads the next record "BYTES<LF>" and that many bytes of f into *b.
//  Returns 1, 0 at the end of the file, -1 if it is not one (or larger
//  than S_MAX_BODY) or memory ran out.
static int
s_read_record (FILE *f, s_body_t *b)
{
    char head [32];
    if (!fgets (head, sizeof head, f))
        return 0;
    char *end = NULL;
    long long size = strtoll (head, &end, 10);
    if (end == head || *end != '\n' || size < 0 || size > S_MAX_BODY)
        return -1;
    b->body = malloc ((size_t) size + 1);
    if (!b->body || fread (b->body, 1, (size_t) size, f) != (size_t) size)
        return -1;
    b->body [size] = 0;
    b->size = (size_t) size;
    return 1;
}

//  Reads the bodies file (raw: records, else lines) into bodies, which
//  holds max + 1 (zeroed: what was read is freed by the caller). Returns
//  the count, or -1 (reason on stderr).
static long
s_read_bodies (const char *path, bool raw, s_body_t *bodies, long max)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "ddbload: cannot open %s: %s\n", path, strerror (errno));
        return -1;
    }
    //  bodies holds max + 1: a request past max is read, then refused.
    long n = 0;
    int rc;
    while ((rc = raw? s_read_record (f, &bodies [n]): s_read_line (f, &bodies [n])) == 1)
        if (++n > max) {
            rc = -1;
            break;
        }
    fclose (f);
    if (rc < 0)
        fprintf (stderr, "ddbload: %s: request %ld is not %s, or memory ran out "
                 "(at most %ld requests)\n", path, n + 1,
                 raw? "BYTES<LF> and the bytes": "a line TARGET<TAB>BODY", max);
    else
    if (n == 0)
        fprintf (stderr, "ddbload: %s holds no request\n", path);
    return rc == 0 && n > 0? n: -1;
}

static size_t
s_on_data (char *p, size_t size, size_t n, void *arg)
{
    s_conn_t *c = arg;
    size_t len = size * n;
    if (c->used + len + 1 > c->cap) {
        size_t cap = (c->used + len + 1) * 2;
        char *grown = realloc (c->answer, cap);
        if (!grown)
            return 0;
        c->answer = grown;
        c->cap = cap;
    }
    memcpy (c->answer + c->used, p, len);
    c->used += len;
    c->answer [c->used] = 0;
    return len;
}

//  What every request shares.
typedef struct {
    const char *url;
    const char *extra [S_MAX_HEADERS];  //  --header lines (raw requests)
    int         extras;
} s_load_t;

static void
s_start (CURLM *multi, s_conn_t *c, const s_load_t *load, const s_body_t *body)
{
    curl_slist_free_all (c->headers);
    c->headers = NULL;
    if (body->target) {
        c->headers = curl_slist_append (c->headers, "Content-Type: application/x-amz-json-1.0");
        c->headers = curl_slist_append (c->headers, body->target);
        c->headers = curl_slist_append (c->headers, "X-Amz-Date: 20260101T000000Z");
        c->headers = curl_slist_append (c->headers,
            "Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/"
            "dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0");
    }
    for (int i = 0; !body->target && i < load->extras; i++)
        c->headers = curl_slist_append (c->headers, load->extra [i]);
    c->headers = curl_slist_append (c->headers, "Expect:");
    curl_easy_setopt (c->curl, CURLOPT_URL, load->url);
    curl_easy_setopt (c->curl, CURLOPT_POSTFIELDS, body->body);
    curl_easy_setopt (c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body->size);
    curl_easy_setopt (c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt (c->curl, CURLOPT_WRITEFUNCTION, s_on_data);
    curl_easy_setopt (c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt (c->curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt (c->curl, CURLOPT_NOSIGNAL, 1L);
    c->used = 0;
    c->body = body;
    c->started = s_now ();
    curl_multi_add_handle (multi, c->curl);
}

//  True if the answer says some items were not processed.
static bool
s_unprocessed (const s_conn_t *c)
{
    const char *u = c->answer? strstr (c->answer, "\"UnprocessedItems\""): NULL;
    if (!u)
        return false;
    u += strlen ("\"UnprocessedItems\"");
    while (*u == ' ' || *u == ':')
        u++;
    return strncmp (u, "{}", 2) != 0;
}

static int
s_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

int
main (int argc, char *argv [])
{
    s_load_t load = { NULL, { NULL }, 0 };
    const char *path = NULL;
    bool raw = false;
    long connections = 4, requests = 10000;
    double duration = 10;
    static const struct option options [] = {
        { "url", required_argument, NULL, 'u' },
        { "bodies", required_argument, NULL, 'b' },
        { "connections", required_argument, NULL, 'c' },
        { "requests", required_argument, NULL, 'n' },
        { "duration", required_argument, NULL, 'd' },
        { "raw", no_argument, NULL, 'r' },
        { "header", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
            case 'u': load.url = optarg; break;
            case 'b': path = optarg; break;
            case 'c': connections = strtol (optarg, &end, 10); break;
            case 'n': requests = strtol (optarg, &end, 10); break;
            case 'd': duration = strtod (optarg, &end); break;
            case 'r': raw = true; break;
            case 'H':
                if (load.extras == S_MAX_HEADERS) {
                    fprintf (stderr, "ddbload: at most %d --header\n", S_MAX_HEADERS);
                    return 2;
                }
                load.extra [load.extras++] = optarg;
                break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
        if (end && (*end || end == optarg)) {
            fprintf (stderr, "ddbload: bad value '%s' for an option\n", optarg);
            return 2;
        }
    }
    if (!load.url || !path || connections < 1 || connections > S_MAX_CONNECTIONS
    ||  requests < 1 || requests > 100000000 || !(duration > 0 && duration <= 3600)) {
        fprintf (stderr, "ddbload: --url and --bodies are required; --connections 1 "
                 "to %d, --requests 1 to 1e8, --duration 0 to 3600 s\n",
                 S_MAX_CONNECTIONS);
        return 2;
    }
    s_body_t *bodies = calloc (S_MAX_BODIES + 1, sizeof *bodies);
    double *latency = malloc ((size_t) requests * sizeof *latency);
    s_conn_t *conns = calloc ((size_t) connections, sizeof *conns);
    if (!bodies || !latency || !conns) {
        fprintf (stderr, "ddbload: out of memory\n");
        return 2;
    }
    long count = s_read_bodies (path, raw, bodies, S_MAX_BODIES);
    if (count < 0) {
        for (long i = 0; i <= S_MAX_BODIES; i++) {
            free (bodies [i].target);
            free (bodies [i].body);
        }
        free (bodies);
        free (latency);
        free (conns);
        return 2;
    }
    curl_global_init (CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init ();
    long sent = 0, done = 0, errors = 0, unprocessed = 0;
    double t0 = s_now (), deadline = t0 + duration;
    for (long i = 0; i < connections && sent < requests; i++) {
        conns [i].curl = curl_easy_init ();
        curl_easy_setopt (conns [i].curl, CURLOPT_PRIVATE, &conns [i]);
        s_start (multi, &conns [i], &load, &bodies [sent++ % count]);
    }
    int running = 1;
    while (running || done < sent) {
        curl_multi_perform (multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read (multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            s_conn_t *c;
            curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &c);
            long status = 0;
            curl_easy_getinfo (c->curl, CURLINFO_RESPONSE_CODE, &status);
            CURLcode code = msg->data.result;
            curl_multi_remove_handle (multi, c->curl);
            latency [done++] = (s_now () - c->started) * 1000;
            if (code != CURLE_OK || status / 100 != 2) {
                if (errors++ < 3)
                    fprintf (stderr, "ddbload: %s: %.300s\n", c->body->target?
                             c->body->target + strlen ("X-Amz-Target: "): "POST",
                             code != CURLE_OK? curl_easy_strerror (code)
                             : c->used? c->answer: "no body");
            }
            else
            if (c->body->batch && s_unprocessed (c))
                unprocessed++;
            if (sent < requests && s_now () < deadline)
                s_start (multi, c, &load, &bodies [sent++ % count]);
        }
        if (done < sent)
            curl_multi_poll (multi, NULL, 0, 100, NULL);
    }
    double seconds = s_now () - t0;
    qsort (latency, (size_t) done, sizeof *latency, s_compare);
    //  Nearest rank.
    double p50 = done? latency [(done * 50 + 99) / 100 - 1]: 0;
    double p99 = done? latency [(done * 99 + 99) / 100 - 1]: 0;
    printf ("ddbload connections %ld requests %ld errors %ld unprocessed %ld "
            "seconds %.3f req_s %.1f p50_ms %.3f p99_ms %.3f\n", connections, done,
            errors, unprocessed, seconds, done / seconds, p50, p99);
    for (long i = 0; i < connections; i++) {
        if (conns [i].curl)
            curl_easy_cleanup (conns [i].curl);
        curl_slist_free_all (conns [i].headers);
        free (conns [i].answer);
    }
    for (long i = 0; i < count; i++) {
        free (bodies [i].target);
        free (bodies [i].body);
    }
    curl_multi_cleanup (multi);
    curl_global_cleanup ();
    free (bodies);
    free (latency);
    free (conns);
    return errors || unprocessed? 1: 0;
}
