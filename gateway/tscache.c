/*  tscache - command-line client of tscache-gateway.

    Speaks the msgpack protocol (docs/protocol.md) over one REQ socket to
    the gateway's ROUTER: registers and removes ids, asks for a hydrate,
    queries a series, shows the broker's stats and manages its dead-letter
    queue. Answers are printed as aligned tables, or with --json as the
    same JSON the HTTP front end answers (/v1/series/{id}, /v1/stats,
    /v1/dlq, /v1/dlq/redrive).

    Output is meant for people and for scripts alike: times are RFC 3339
    UTC with milliseconds, values are printed with the fewest digits that
    read back to the same double, and the exit code says what happened:
    0 ok, 1 the gateway answered an error, 2 usage or config error,
    3 the gateway did not answer in time.

    Besides libtscache it links only ts_json, the gateway's JSON writer,
    so that --json prints exactly what the HTTP front end answers. */

#include "ts_common.h"
#include "ts_config.h"
#include "ts_log.h"
#include "ts_json.h"
#include "ts_proto.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME               "tscache"
#define S_DEFAULT_TIMEOUT_MS 5000
#define S_MAX_REPLY          ((size_t) 1 << 31)     //  bytes

enum { S_EXIT_OK = 0, S_EXIT_ERROR = 1, S_EXIT_USAGE = 2,
       S_EXIT_TIMEOUT = 3 };

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: " S_NAME " [-c FILE] [-e ENDPOINT] [-t TIMEOUT_MS] COMMAND\n"
        "\n"
        "Commands:\n"
        "  ping                    check that the gateway answers\n"
        "  ids add ID...           register ids\n"
        "  ids rm ID               unregister an id and delete its data\n"
        "  ids ls                  list registered ids\n"
        "  hydrate ID...           fetch ids now (through the broker)\n"
        "  query ID [--from T] [--to T] [--measure M] [--json]\n"
        "                          print a series: history, then forecast\n"
        "                          after the newest history point; T is\n"
        "                          epoch ms or RFC 3339 (default: now -/+\n"
        "                          24 h); --json prints the HTTP API's JSON\n"
        "  stats [--json]          the broker's counters and its workers\n"
        "                          (NAME, CREDIT, LEASED)\n"
        "  dlq ls [--json]         dead-lettered jobs: JOB, IDS, RECEIVES,\n"
        "                          DEAD AT, ERROR\n"
        "  dlq redrive [ID...] [--json]\n"
        "                          queue dead-lettered jobs again (receives\n"
        "                          reset); with IDs only the jobs holding\n"
        "                          one of them, else every job\n"
        "  dlq purge [--json]      delete every dead-lettered job\n"
        "  help                    show this help\n"
        "\n"
        "Options:\n"
        "  -c FILE        config file (default: $TSCACHE_CONFIG); used for\n"
        "                 cli.endpoint\n"
        "  -e ENDPOINT    gateway endpoint (default: $TSCACHE_ENDPOINT, else\n"
        "                 cli.endpoint, tcp://127.0.0.1:5555)\n"
        "  -t TIMEOUT_MS  how long to wait for the answer (default 5000)\n"
        "\n"
        "Exit codes: 0 ok, 1 error reply, 2 usage or config error,\n"
        "3 no answer in time.\n");
}

static int
s_usage_error (const char *fmt, const char *arg)
{
    fprintf (stderr, S_NAME ": ");
    fprintf (stderr, fmt, arg);
    fprintf (stderr, "\n(" S_NAME " --help shows the usage)\n");
    return S_EXIT_USAGE;
}

//  Shortest text that reads back as the same double; "null" if not finite.
//  stats: counters one a line, then the workers as a table.
static void
s_print_stats_table (const ts_stats_t *stats)
{
    const struct { const char *name; uint64_t value; } counters [] = {
        { "queued", stats->queued }, { "delayed", stats->delayed },
        { "leased", stats->leased }, { "dlq", stats->dlq },
        { "done", stats->done }, { "failed", stats->failed },
        { "retried", stats->retried },
        { "dead_lettered", stats->dead_lettered }
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters [0]; i++)
        printf ("%-15s %" PRIu64 "\n", counters [i].name, counters [i].value);
    printf ("%-15s %" PRId64 "\n", "oldest_age_ms", stats->oldest_age_ms);
    printf ("%-15s %zu\n\n", "workers", stats->workers_n);
    if (stats->workers_n == 0) {
        printf ("no workers connected\n");
        return;
    }
    int width = (int) strlen ("NAME");
    for (size_t i = 0; i < stats->workers_n; i++) {
        int len = (int) strlen (stats->workers [i].name);
        if (len > width)
            width = len;
    }
    printf ("%-*s  %6s  %6s\n", width, "NAME", "CREDIT", "LEASED");
    for (size_t i = 0; i < stats->workers_n; i++)
        printf ("%-*s  %6" PRIu32 "  %6" PRIu32 "\n", width,
                stats->workers [i].name, stats->workers [i].credit,
                stats->workers [i].leased);
}

//  The ids of a dlq entry joined by commas, cut to fit size with a
//  "+N" tail saying how many were left out.
static void
s_join_ids (const ts_strlist_t *ids, char *buf, size_t size)
{
    size_t used = 0;
    buf [0] = 0;
    for (size_t i = 0; i < ids->n; i++) {
        size_t len = strlen (ids->items [i]);
        //  Room for this id, its comma and a "+N" tail for the rest
        if (used + len + 1 + 24 > size) {
            snprintf (buf + used, size - used, "%s+%zu", used? ",": "",
                      ids->n - i);
            return;
        }
        used += (size_t) snprintf (buf + used, size - used, "%s%s",
                                   used? ",": "", ids->items [i]);
    }
}

//  dlq ls: one job a line; the error last, on one line.
static void
s_print_dlq_table (const ts_msg_t *reply)
{
    char ids [64];
    int job_width = (int) strlen ("JOB");
    int ids_width = (int) strlen ("IDS");
    for (size_t i = 0; i < reply->dlq_n; i++) {
        char job [24];
        int len = snprintf (job, sizeof job, "%" PRIu64, reply->dlq [i].job);
        if (len > job_width)
            job_width = len;
        s_join_ids (reply->dlq [i].ids, ids, sizeof ids);
        len = (int) strlen (ids);
        if (len > ids_width)
            ids_width = len;
    }
    printf ("%-*s  %-*s  %8s  %-24s  %s\n", job_width, "JOB", ids_width,
            "IDS", "RECEIVES", "DEAD AT", "ERROR");
    for (size_t i = 0; i < reply->dlq_n; i++) {
        const ts_dlq_entry_t *entry = &reply->dlq [i];
        char dead_at [40];
        char error [TS_ERRLEN];
        ts_time_format (entry->dead_at_ms, dead_at, sizeof dead_at);
        s_join_ids (entry->ids, ids, sizeof ids);
        ts_strlcpy (error, entry->error, sizeof error);
        for (char *p = error; *p; p++)
            if ((unsigned char) *p < 0x20 || *p == 0x7f)
                *p = ' ';
        printf ("%-*" PRIu64 "  %-*s  %8" PRIu32 "  %-24s  %s\n", job_width,
                entry->job, ids_width, ids, entry->receives, dead_at, error);
    }
    printf ("%zu dead-lettered job%s\n", reply->dlq_n,
            reply->dlq_n == 1? "": "s");
}

static void
s_print_rows (const ts_points_t *points, const char *source,
              int measure_width, int value_width)
{
    char time [40];
    char value [40];
    for (size_t i = 0; i < points->n; i++) {
        const ts_point_t *pt = &points->pts [i];
        ts_time_format (pt->time_ms, time, sizeof time);
        ts_json_format_double (pt->value, value, sizeof value);
        printf ("%-24s  %-*s  %-*s  %s\n", time, measure_width, pt->measure,
                value_width, value, source);
    }
}

static void
s_widths (const ts_points_t *points, int *measure_width, int *value_width)
{
    char value [40];
    for (size_t i = 0; i < points->n; i++) {
        int len = (int) strlen (points->pts [i].measure);
        if (len > *measure_width)
            *measure_width = len;
        ts_json_format_double (points->pts [i].value, value, sizeof value);
        len = (int) strlen (value);
        if (len > *value_width)
            *value_width = len;
    }
}

static void
s_print_series_table (const ts_msg_t *reply)
{
    const ts_points_t *history = reply->series.history;
    const ts_points_t *forecast = reply->series.forecast;
    int measure_width = (int) strlen ("MEASURE");
    int value_width = (int) strlen ("VALUE");
    s_widths (history, &measure_width, &value_width);
    s_widths (forecast, &measure_width, &value_width);
    printf ("%-24s  %-*s  %-*s  %s\n", "TIME", measure_width, "MEASURE",
            value_width, "VALUE", "SOURCE");
    s_print_rows (history, "history", measure_width, value_width);
    s_print_rows (forecast, "forecast", measure_width, value_width);
    char baseline [40] = "none";
    if (reply->series.has_baseline)
        ts_time_format (reply->series.baseline_ms, baseline,
                        sizeof baseline);
    printf ("%zu points (%zu history, %zu forecast), baseline %s\n",
            history->n + forecast->n, history->n, forecast->n, baseline);
}

//  Sends req to endpoint and waits up to timeout_ms for the reply.
//  Returns an exit code; prints what went wrong.
static int
s_call (const char *endpoint, int timeout_ms, const ts_msg_t *req,
        ts_msg_t *reply)
{
    char *data = NULL;
    size_t size = 0;
    if (ts_msg_encode (req, &data, &size)) {
        fprintf (stderr, S_NAME ": out of memory\n");
        return S_EXIT_ERROR;
    }
    zsock_t *sock = zsock_new (ZMQ_REQ);
    if (!sock) {
        free (data);
        fprintf (stderr, S_NAME ": cannot create a ZeroMQ socket\n");
        return S_EXIT_ERROR;
    }
    zsock_set_linger (sock, 0);
    zsock_set_sndtimeo (sock, timeout_ms);
    if (zsock_connect (sock, "%s", endpoint)) {
        free (data);
        zsock_destroy (&sock);
        fprintf (stderr, S_NAME ": bad endpoint '%s'\n", endpoint);
        return S_EXIT_USAGE;
    }
    int rc = S_EXIT_OK;
    zframe_t *frame = zframe_new (data, size);
    free (data);
    zpoller_t *poller = NULL;
    if (zframe_send (&frame, sock, 0) == 0
    &&  (poller = zpoller_new (sock, NULL))
    &&  zpoller_wait (poller, timeout_ms)) {
        zframe_t *answer = zframe_recv (sock);
        char err [TS_ERRLEN] = "";
        if (!answer
        ||  ts_msg_decode (reply, zframe_data (answer), zframe_size (answer),
                           S_MAX_REPLY, err)
        ||  reply->op != TS_OP_REPLY) {
            fprintf (stderr, S_NAME ": bad reply from gateway at %s: %s\n",
                     endpoint, err [0]? err: "not a reply");
            rc = S_EXIT_ERROR;
        }
        zframe_destroy (&answer);
    }
    else
    if (zsys_interrupted) {
        fprintf (stderr, S_NAME ": interrupted\n");
        rc = S_EXIT_ERROR;
    }
    else {
        fprintf (stderr, S_NAME ": gateway at %s did not answer within %d "
                 "ms\n", endpoint, timeout_ms);
        rc = S_EXIT_TIMEOUT;
    }
    zframe_destroy (&frame);
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    return rc;
}

//  Appends argv [from..argc) as ids to list. Returns an exit code.
static int
s_add_ids (ts_strlist_t *list, int argc, char *argv [], int from)
{
    for (int i = from; i < argc; i++) {
        if (!ts_name_valid (argv [i]))
            return s_usage_error ("invalid id '%s': use 1 to 128 of "
                                  "[A-Za-z0-9._:-]", argv [i]);
        if (ts_strlist_append (list, argv [i]))
            return S_EXIT_ERROR;
    }
    if (list->n == 0)
        return s_usage_error ("%s: give at least one ID", argv [from - 1]);
    return S_EXIT_OK;
}

//  Parses the query command's arguments into req. Returns an exit code.
static int
s_parse_query (ts_msg_t *req, int argc, char *argv [], int i, bool *json)
{
    bool have_id = false;
    for (; i < argc; i++) {
        const char *arg = argv [i];
        if (strcmp (arg, "--json") == 0)
            *json = true;
        else
        if (strcmp (arg, "--from") == 0 || strcmp (arg, "--to") == 0
        ||  strcmp (arg, "--measure") == 0) {
            if (i + 1 >= argc)
                return s_usage_error ("%s needs a value", arg);
            const char *value = argv [++i];
            if (strcmp (arg, "--measure") == 0) {
                if (!ts_name_valid (value))
                    return s_usage_error ("invalid measure '%s'", value);
                ts_strlcpy (req->measure, value, sizeof req->measure);
            }
            else {
                bool from = strcmp (arg, "--from") == 0;
                int64_t ms;
                if (ts_time_parse (value, &ms))
                    return s_usage_error ("bad time '%s': use epoch ms or "
                                          "RFC 3339", value);
                if (from) {
                    req->has_from = true;
                    req->from_ms = ms;
                }
                else {
                    req->has_to = true;
                    req->to_ms = ms;
                }
            }
        }
        else
        if (arg [0] == '-' && arg [1])
            return s_usage_error ("query: unknown option '%s'", arg);
        else
        if (have_id)
            return s_usage_error ("query: one ID only, '%s' is extra", arg);
        else {
            if (!ts_name_valid (arg))
                return s_usage_error ("invalid id '%s': use 1 to 128 of "
                                      "[A-Za-z0-9._:-]", arg);
            ts_strlcpy (req->id, arg, sizeof req->id);
            have_id = true;
        }
    }
    if (!have_id)
        return s_usage_error ("%s", "query: give an ID");
    return S_EXIT_OK;
}

//  Reads the arguments of an admin command from argv [i]: --json, and
//  ids if ids is not NULL (else any other argument is an error).
//  Returns an exit code.
static int
s_parse_admin (const char *command, int argc, char *argv [], int i,
               ts_strlist_t *ids, bool *json)
{
    for (; i < argc; i++) {
        const char *arg = argv [i];
        if (strcmp (arg, "--json") == 0)
            *json = true;
        else
        if ((arg [0] == '-' && arg [1]) || !ids) {
            char what [TS_ERRLEN];
            snprintf (what, sizeof what, "%s: %s '%.64s'", command,
                      arg [0] == '-'? "unknown option": "unexpected", arg);
            return s_usage_error ("%s", what);
        }
        else
        if (!ts_name_valid (arg))
            return s_usage_error ("invalid id '%s': use 1 to 128 of "
                                  "[A-Za-z0-9._:-]", arg);
        else
        if (ts_strlist_append (ids, arg))
            return S_EXIT_ERROR;
    }
    return S_EXIT_OK;
}

//  Builds the request of the command at argv [i]. Returns an exit code.
static int
s_build_request (ts_msg_t *req, int argc, char *argv [], int i, bool *json)
{
    const char *command = argv [i];
    const char *sub = i + 1 < argc? argv [i + 1]: "";
    if (strcmp (command, "ping") == 0) {
        ts_msg_reset (req, TS_OP_PING);
        return i + 1 == argc? S_EXIT_OK:
               s_usage_error ("ping: unexpected '%s'", argv [i + 1]);
    }
    if (strcmp (command, "hydrate") == 0) {
        ts_msg_reset (req, TS_OP_HYDRATE);
        return s_add_ids (req->ids, argc, argv, i + 1);
    }
    if (strcmp (command, "query") == 0) {
        ts_msg_reset (req, TS_OP_QUERY);
        return s_parse_query (req, argc, argv, i + 1, json);
    }
    if (strcmp (command, "stats") == 0) {
        ts_msg_reset (req, TS_OP_STATS);
        return s_parse_admin ("stats", argc, argv, i + 1, NULL, json);
    }
    if (strcmp (command, "dlq") == 0) {
        if (strcmp (sub, "ls") == 0) {
            ts_msg_reset (req, TS_OP_DLQ_LS);
            return s_parse_admin ("dlq ls", argc, argv, i + 2, NULL, json);
        }
        if (strcmp (sub, "redrive") == 0) {
            ts_msg_reset (req, TS_OP_DLQ_REDRIVE);
            return s_parse_admin ("dlq redrive", argc, argv, i + 2, req->ids,
                                  json);
        }
        if (strcmp (sub, "purge") == 0) {
            ts_msg_reset (req, TS_OP_DLQ_PURGE);
            return s_parse_admin ("dlq purge", argc, argv, i + 2, NULL,
                                  json);
        }
        return s_usage_error ("dlq: expected ls, redrive or purge, got '%s'",
                              sub);
    }
    if (strcmp (command, "ids") != 0)
        return s_usage_error ("unknown command '%s'", command);
    if (strcmp (sub, "add") == 0) {
        ts_msg_reset (req, TS_OP_IDS_ADD);
        return s_add_ids (req->ids, argc, argv, i + 2);
    }
    if (strcmp (sub, "rm") == 0) {
        ts_msg_reset (req, TS_OP_IDS_RM);
        if (i + 3 != argc)
            return s_usage_error ("%s", "ids rm: give exactly one ID");
        if (!ts_name_valid (argv [i + 2]))
            return s_usage_error ("invalid id '%s'", argv [i + 2]);
        ts_strlcpy (req->id, argv [i + 2], sizeof req->id);
        return S_EXIT_OK;
    }
    if (strcmp (sub, "ls") == 0) {
        ts_msg_reset (req, TS_OP_IDS_LS);
        return i + 2 == argc? S_EXIT_OK:
               s_usage_error ("ids ls: unexpected '%s'", argv [i + 2]);
    }
    return s_usage_error ("ids: expected add, rm or ls, got '%s'", sub);
}

//  --json: writes an answer with the renderer HTTP uses for the same
//  route, so both print the same shape.
static void
s_print_json (int (*render) (ts_json_t *, const ts_msg_t *),
              const ts_msg_t *reply)
{
    ts_json_t *json = ts_json_new ();
    if (!json || render (json, reply) != 0) {
        fprintf (stderr, "tscache: out of memory\n");
        ts_json_destroy (&json);
        return;
    }
    fwrite (ts_json_data (json), 1, ts_json_size (json), stdout);
    putchar ('\n');
    ts_json_destroy (&json);
}

static int
s_render_stats (ts_json_t *json, const ts_msg_t *reply)
{
    return ts_json_stats (json, &reply->stats);
}

static void
s_print_reply (const ts_msg_t *req, const ts_msg_t *reply, bool json)
{
    switch (req->op) {
        case TS_OP_PING:
            printf ("ok\n");
            break;
        case TS_OP_IDS_ADD:
            printf ("added %" PRIu64 "\n", reply->count);
            break;
        case TS_OP_IDS_RM:
            printf ("removed %s\n", req->id);
            break;
        case TS_OP_IDS_LS:
            for (size_t i = 0; i < reply->ids->n; i++)
                printf ("%s\n", reply->ids->items [i]);
            break;
        case TS_OP_HYDRATE:
            printf ("queued %" PRIu64 "\n", reply->count);
            break;
        case TS_OP_QUERY:
            if (json)
                s_print_json (ts_json_series, reply);
            else
                s_print_series_table (reply);
            break;
        case TS_OP_STATS:
            if (json)
                s_print_json (s_render_stats, reply);
            else
                s_print_stats_table (&reply->stats);
            break;
        case TS_OP_DLQ_LS:
            if (json)
                s_print_json (ts_json_dlq, reply);
            else
                s_print_dlq_table (reply);
            break;
        case TS_OP_DLQ_REDRIVE:
            printf (json? "{\"requeued\":%" PRIu64 "}\n": "requeued %" PRIu64
                    "\n", reply->count);
            break;
        case TS_OP_DLQ_PURGE:
            printf (json? "{\"purged\":%" PRIu64 "}\n": "purged %" PRIu64
                    "\n", reply->count);
            break;
        default:
            break;
    }
}

//  Endpoint: -e, else $TSCACHE_ENDPOINT, else cli.endpoint from config.
//  Returns an exit code; *endpoint is a heap string on success.
static int
s_resolve_endpoint (const char *option, const char *config_path,
                    char **endpoint)
{
    const char *env = getenv ("TSCACHE_ENDPOINT");
    if (option || (env && *env)) {
        *endpoint = strdup (option? option: env);
        return *endpoint? S_EXIT_OK: S_EXIT_ERROR;
    }
    if (!config_path && getenv ("TSCACHE_CONFIG")
    &&  *getenv ("TSCACHE_CONFIG"))
        config_path = getenv ("TSCACHE_CONFIG");
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (config_path, err);
    if (!cfg) {
        fprintf (stderr, S_NAME ": %s\n", err);
        return S_EXIT_USAGE;
    }
    *endpoint = strdup (ts_config_str (cfg, "cli.endpoint"));
    ts_config_destroy (&cfg);
    return *endpoint? S_EXIT_OK: S_EXIT_ERROR;
}

int
main (int argc, char *argv [])
{
    ts_log_set_name (S_NAME);
    const char *config_path = NULL;
    const char *endpoint_option = NULL;
    int timeout_ms = S_DEFAULT_TIMEOUT_MS;
    int i = 1;
    for (; i < argc && argv [i][0] == '-'; i++) {
        const char *arg = argv [i];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            s_usage (stdout);
            return S_EXIT_OK;
        }
        if (strcmp (arg, "-c") && strcmp (arg, "-e") && strcmp (arg, "-t"))
            return s_usage_error ("unknown option '%s'", arg);
        if (i + 1 >= argc)
            return s_usage_error ("%s needs a value", arg);
        const char *value = argv [++i];
        if (arg [1] == 'c')
            config_path = value;
        else
        if (arg [1] == 'e')
            endpoint_option = value;
        else {
            char *end;
            long ms = strtol (value, &end, 10);
            if (*value == 0 || *end || ms < 1 || ms > 3600000)
                return s_usage_error ("-t: '%s' is not a timeout in ms "
                                      "(1 to 3600000)", value);
            timeout_ms = (int) ms;
        }
    }
    if (i >= argc) {
        s_usage (stderr);
        return S_EXIT_USAGE;
    }
    if (strcmp (argv [i], "help") == 0) {
        s_usage (stdout);
        return S_EXIT_OK;
    }
    ts_msg_t *req = ts_msg_new (TS_OP_PING);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    char *endpoint = NULL;
    bool json = false;
    int rc = req && reply? S_EXIT_OK: S_EXIT_ERROR;
    if (rc == S_EXIT_OK)
        rc = s_build_request (req, argc, argv, i, &json);
    if (rc == S_EXIT_OK)
        rc = s_resolve_endpoint (endpoint_option, config_path, &endpoint);
    if (rc == S_EXIT_OK)
        rc = s_call (endpoint, timeout_ms, req, reply);
    if (rc == S_EXIT_OK && reply->status >= 400) {
        fprintf (stderr, S_NAME ": %s: %s\n",
                 reply->error [0]? reply->error: "error", reply->detail);
        rc = S_EXIT_ERROR;
    }
    if (rc == S_EXIT_OK)
        s_print_reply (req, reply, json);
    free (endpoint);
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
    return rc;
}
