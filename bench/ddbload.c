/*  ddbload - the store's limit for the DynamoDB hydration benchmark
    (bench/bench-dynamodb, make bench).

    A bare HTTP client that replays DynamoDB requests (in the benchmark:
    the BatchWriteItem bodies tscache sent for 576-point documents) at an
    endpoint (dynalite), as fast as it answers, so the benchmark can set
    tscache's hydration rate beside what the store itself does with the
    same requests.

    One thread, libcurl multi, --connections easy handles each with one
    request in flight and its connection kept alive. Each request takes
    the next line of the bodies file (round robin): "TARGET<TAB>BODY", sent
    as a POST with X-Amz-Target: DynamoDB_20120810.TARGET and a fixed
    Authorization header (dynalite checks no signature; signing costs
    about 5 us a request, see docs/benchmarks.md). A request counts as
    good when the answer is 200 and, for BatchWriteItem, its
    UnprocessedItems is empty.

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

typedef struct {
    char   *target;                 //  "DynamoDB_20120810.BatchWriteItem"
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
"               [--duration S]\n"
"\n"
"Replays DynamoDB requests at URL (dynalite) as fast as it answers: the\n"
"store's limit of make bench's DynamoDB figure.\n"
"\n"
"  --url URL          the endpoint, e.g. http://127.0.0.1:8000/\n"
"  --bodies FILE      one request a line: TARGET<TAB>BODY (TARGET e.g.\n"
"                     BatchWriteItem), sent round robin\n"
"  --connections N    requests in flight, each on its own kept-alive\n"
"                     connection (1 to %d, default 4)\n"
"  --requests N       stop after N requests (default 10000)\n"
"  --duration S       ... or after S seconds (default 10)\n"
"  --help             this text\n"
"\n"
"Prints \"ddbload connections N requests N errors N unprocessed N seconds S\n"
"req_s R p50_ms A p99_ms B\"; exit 0, 1 if a request failed, 2 on a bad\n"
"option or file.\n", S_MAX_CONNECTIONS);
}

//  Reads the bodies file: lines "TARGET<TAB>BODY". Returns the count, or
//  -1 (reason on stderr).
static long
s_read_bodies (const char *path, s_body_t *bodies, long max)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        fprintf (stderr, "ddbload: cannot open %s: %s\n", path, strerror (errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    long n = 0;
    ssize_t len;
    while ((len = getline (&line, &cap, f)) > 0) {
        while (len > 0 && (line [len - 1] == '\n' || line [len - 1] == '\r'))
            line [--len] = 0;
        char *tab = strchr (line, '\t');
        if (len == 0)
            continue;
        if (!tab || tab == line || n >= max) {
            fprintf (stderr, "ddbload: %s: line %ld is not TARGET<TAB>BODY "
                     "(or more than %ld lines)\n", path, n + 1, max);
            n = -1;
            break;
        }
        *tab = 0;
        s_body_t *b = &bodies [n++];
        size_t tlen = strlen ("DynamoDB_20120810.") + strlen (line) + 1;
        b->target = malloc (strlen ("X-Amz-Target: ") + tlen);
        b->body = strdup (tab + 1);
        if (!b->target || !b->body) {
            fprintf (stderr, "ddbload: out of memory\n");
            n = -1;
            break;
        }
        sprintf (b->target, "X-Amz-Target: DynamoDB_20120810.%s", line);
        b->size = strlen (b->body);
        b->batch = strcmp (line, "BatchWriteItem") == 0;
    }
    free (line);
    fclose (f);
    if (n == 0)
        fprintf (stderr, "ddbload: %s holds no request\n", path);
    return n > 0? n: -1;
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

static void
s_start (CURLM *multi, s_conn_t *c, const char *url, const s_body_t *body)
{
    curl_slist_free_all (c->headers);
    c->headers = NULL;
    c->headers = curl_slist_append (c->headers, "Content-Type: application/x-amz-json-1.0");
    c->headers = curl_slist_append (c->headers, body->target);
    c->headers = curl_slist_append (c->headers, "X-Amz-Date: 20260101T000000Z");
    c->headers = curl_slist_append (c->headers,
        "Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/"
        "dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0");
    c->headers = curl_slist_append (c->headers, "Expect:");
    curl_easy_setopt (c->curl, CURLOPT_URL, url);
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
    const char *url = NULL, *path = NULL;
    long connections = 4, requests = 10000;
    double duration = 10;
    static const struct option options [] = {
        { "url", required_argument, NULL, 'u' },
        { "bodies", required_argument, NULL, 'b' },
        { "connections", required_argument, NULL, 'c' },
        { "requests", required_argument, NULL, 'n' },
        { "duration", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
            case 'u': url = optarg; break;
            case 'b': path = optarg; break;
            case 'c': connections = strtol (optarg, &end, 10); break;
            case 'n': requests = strtol (optarg, &end, 10); break;
            case 'd': duration = strtod (optarg, &end); break;
            case 'h': s_usage (stdout); return 0;
            default: s_usage (stderr); return 2;
        }
        if (end && (*end || end == optarg)) {
            fprintf (stderr, "ddbload: bad value '%s' for an option\n", optarg);
            return 2;
        }
    }
    if (!url || !path || connections < 1 || connections > S_MAX_CONNECTIONS
    ||  requests < 1 || requests > 100000000 || !(duration > 0 && duration <= 3600)) {
        fprintf (stderr, "ddbload: --url and --bodies are required; --connections 1 "
                 "to %d, --requests 1 to 1e8, --duration 0 to 3600 s\n",
                 S_MAX_CONNECTIONS);
        return 2;
    }
    s_body_t *bodies = calloc (S_MAX_BODIES, sizeof *bodies);
    double *latency = malloc ((size_t) requests * sizeof *latency);
    s_conn_t *conns = calloc ((size_t) connections, sizeof *conns);
    if (!bodies || !latency || !conns) {
        fprintf (stderr, "ddbload: out of memory\n");
        return 2;
    }
    long count = s_read_bodies (path, bodies, S_MAX_BODIES);
    if (count < 0) {
        for (long i = 0; i < S_MAX_BODIES && bodies [i].target; i++) {
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
        s_start (multi, &conns [i], url, &bodies [sent++ % count]);
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
            if (code != CURLE_OK || status != 200) {
                if (errors++ < 3)
                    fprintf (stderr, "ddbload: %s: %.300s\n",
                             c->body->target + strlen ("X-Amz-Target: "),
                             code != CURLE_OK? curl_easy_strerror (code)
                             : c->used? c->answer: "no body");
            }
            else
            if (c->body->batch && s_unprocessed (c))
                unprocessed++;
            if (sent < requests && s_now () < deadline)
                s_start (multi, c, url, &bodies [sent++ % count]);
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
