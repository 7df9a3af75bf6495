/*  tscache - command-line client of tscache-gateway.

    Speaks the msgpack protocol (docs/protocol.md) to the gateway's
    ROUTER through ts_client (a DEALER, one request at a time): registers,
    lists, shows (source, fetch status) and removes ids, asks for a
    hydrate (and with --wait follows its jobs until the ids are stored),
    queries a series, shows the broker's stats and manages its
    dead-letter queue. Answers are printed as aligned tables, or with
    --json as the same JSON the HTTP front end answers for the same thing
    (ts_json_answer).

    Output is meant for people and for scripts alike: times are RFC 3339
    UTC with milliseconds, values are printed with the fewest digits that
    read back to the same double, and the exit code says what happened:
    0 ok, 1 the gateway answered an error (or a hydrated id failed for
    good), 2 usage or config error, 3 the gateway did not answer in time
    (or --wait ran out of time).

    The command line is parsed by ts_cli_args and the --wait account kept
    by ts_cli_wait; this file does the calls (ts_client, in libtscache)
    and the printing. Besides libtscache it links only those and ts_json,
    the gateway's JSON writer, so that --json prints exactly what the HTTP front end
    answers; and for `source test` (ts_cli_source_test: one id fetched
    from a source now, nothing stored; exit 1 if the fetch or mapping
    fails, 2 for an unknown source) the worker's request, fetch, pages
    and OAuth2 modules. */

#include "ts_common.h"
#include "ts_config.h"
#include "ts_log.h"
#include "ts_json.h"
#include "ts_proto.h"
#include "ts_query.h"
#include "ts_version.h"
#include "ts_cli_args.h"
#include "ts_cli_keys.h"
#include "ts_cli_sources.h"
#include "ts_cli_source_test.h"
#include "ts_cli_wait.h"
#include "ts_client.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_NAME               "tscache"
#define S_MAX_REPLY          ((size_t) 1 << 31)     //  bytes
#define S_IDS_FETCH_PAGE     1000   //  ids ls --fetch: ids a page
#define S_POLL_FIRST_MS      50         //  --wait: first pause between polls
#define S_POLL_MAX_MS        1000       //  --wait: longest pause

enum { S_EXIT_OK = 0, S_EXIT_ERROR = 1, S_EXIT_USAGE = 2,
       S_EXIT_TIMEOUT = 3 };

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
        ts_time_format (points->time_ms [i], time, sizeof time);
        ts_json_format_double (points->value [i], value, sizeof value);
        printf ("%-24s  %-*s  %-*s  %s\n", time, measure_width,
                ts_points_measure (points, i),
                value_width, value, source);
    }
}

static void
s_widths (const ts_points_t *points, int *measure_width, int *value_width)
{
    char value [40];
    for (size_t i = 0; i < points->n; i++) {
        int len = (int) strlen (ts_points_measure (points, i));
        if (len > *measure_width)
            *measure_width = len;
        ts_json_format_double (points->value [i], value, sizeof value);
        len = (int) strlen (value);
        if (len > *value_width)
            *value_width = len;
    }
}

//  How fresh an answer is (protocol.md 6.1.1), one line: "fetched at T
//  (age N s), fresh" / "stale", "never fetched", and the last error.
static void
s_print_freshness (const ts_msg_t *reply)
{
    if (!reply->has_fresh)
        return;
    const ts_freshness_t *fresh = &reply->fresh;
    char at [40];
    if (fresh->fetched_ms)
        printf ("fetched at %s (age %" PRId64 " s), %s\n",
                ts_time_format (fresh->fetched_ms, at, sizeof at),
                fresh->age_s > 0? fresh->age_s: 0,
                fresh->stale? "stale": "fresh");
    else
        printf ("never fetched, stale\n");
    if (fresh->error_ms)
        printf ("last error at %s: %s: %s\n",
                ts_time_format (fresh->error_ms, at, sizeof at),
                fresh->error_kind, fresh->error);
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
    if (reply->step_ms)
        printf ("buckets of %" PRId64 " ms, agg %s, fill %s\n",
                reply->step_ms, ts_agg_name (reply->agg),
                ts_fill_name (reply->fill));
    s_print_freshness (reply);
    if (reply->next [0])
        printf ("next page: --next %s\n", reply->next);
}

//  Sends req to endpoint and waits up to timeout_ms for the reply
//  (ts_client: one attempt, since the CLI's timeout is the user's bound
//  for the whole call; --wait polls again by itself). Returns an exit
//  code: S_EXIT_OK with reply filled; S_EXIT_TIMEOUT if nothing came
//  back in time; S_EXIT_USAGE for a bad endpoint; S_EXIT_ERROR for a
//  reply that is not one, or that is an error (>= 400; reply->status
//  tells which). err says what went wrong.
//  The CLI's CURVE keys for the run (NULL: plain mode), set by s_run.
static const ts_curve_id_t *s_curve;

static int
s_call (const char *endpoint, int timeout_ms, const ts_msg_t *req,
        ts_msg_t *reply, char *err)
{
    ts_client_policy_t policy = {
        .peer = "gateway", .timeout_ms = timeout_ms, .retries = 0,
        .max_reply = S_MAX_REPLY, .curve = s_curve
    };
    int rc = ts_client_call (endpoint, &policy, req, reply);
    if (rc == 0 && reply->status < 400)
        return S_EXIT_OK;
    if (rc == 0) {
        ts_errf (err, "%s: %s", reply->error [0]? reply->error: "error",
                 reply->detail);
        return S_EXIT_ERROR;
    }
    if (rc == TS_ETIMEOUT) {
        //  A server that refuses the key is silent too (ts_curve.h).
        ts_errf (err, "gateway at %s did not answer within %d ms%s",
                 endpoint, timeout_ms, s_curve? " (or refused this key: is "
                 "-k's public key in its allow-list, --server-key its key?)"
                 : "");
        return S_EXIT_TIMEOUT;
    }
    if (rc == TS_EINVAL) {
        ts_errf (err, "bad endpoint '%s'", endpoint);
        return S_EXIT_USAGE;
    }
    if (rc == EINTR)
        ts_errf (err, "interrupted");
    else
        ts_errf (err, "%s (gateway at %s)", reply->detail, endpoint);
    return S_EXIT_ERROR;
}

//  Prints the answer to req with the renderer HTTP uses for the same
//  thing.
static int
s_print_json (const ts_msg_t *req, const ts_msg_t *reply)
{
    ts_json_t *json = ts_json_new ();
    if (!json || ts_json_answer (json, req, reply) != 0) {
        fprintf (stderr, S_NAME ": out of memory\n");
        ts_json_destroy (&json);
        return S_EXIT_ERROR;
    }
    fwrite (ts_json_data (json), 1, ts_json_size (json), stdout);
    putchar ('\n');
    ts_json_destroy (&json);
    return S_EXIT_OK;
}

//  ids show: one "name: value" line per field; times RFC 3339 UTC.
static void
s_print_id_show (const ts_msg_t *reply)
{
    const ts_id_status_t *fetch = &reply->fetch;
    char at [40];
    printf ("id:              %s\n", reply->id);
    printf ("source:          %s\n", reply->source);
    printf ("fetched at:      %s\n", fetch->ok_ms
            ? ts_time_format (fetch->ok_ms, at, sizeof at): "never");
    printf ("last attempt:    %s\n", fetch->attempt_ms
            ? ts_time_format (fetch->attempt_ms, at, sizeof at): "never");
    if (fetch->error_ms)
        printf ("last error:      %s %s: %s\n",
                ts_time_format (fetch->error_ms, at, sizeof at),
                fetch->kind, fetch->error);
    else
        printf ("last error:      none\n");
    printf ("not found until: %s\n", fetch->not_found_until_ms
            ? ts_time_format (fetch->not_found_until_ms, at, sizeof at)
            : "-");
    if (reply->has_fresh) {
        printf ("stale:           %s\n", reply->fresh.stale? "yes": "no");
        if (reply->fresh.fetched_ms)
            printf ("age:             %" PRId64 " s\n",
                    reply->fresh.age_s > 0? reply->fresh.age_s: 0);
        else
            printf ("age:             -\n");
    }
}

static int
s_print_reply (const ts_msg_t *req, const ts_msg_t *reply, bool json)
{
    if (json)
        return s_print_json (req, reply);
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
        case TS_OP_IDS_SHOW:
            s_print_id_show (reply);
            break;
        case TS_OP_HYDRATE:
            printf ("queued %" PRIu64 "\n", reply->count);
            break;
        case TS_OP_QUERY:
            s_print_series_table (reply);
            break;
        case TS_OP_STATS:
            s_print_stats_table (&reply->stats);
            break;
        case TS_OP_DLQ_LS:
            s_print_dlq_table (reply);
            break;
        case TS_OP_DLQ_REDRIVE:
            printf ("requeued %" PRIu64 "\n", reply->count);
            break;
        case TS_OP_DLQ_PURGE:
            printf ("purged %" PRIu64 "\n", reply->count);
            break;
        default:
            break;
    }
    return S_EXIT_OK;
}

//  One line of ids ls: "ID SOURCE", and with --fetch "FETCHED fresh|stale"
//  (FETCHED the last success, RFC 3339, or "never") and the last error's
//  kind if the last attempt failed.
static void
s_print_id_line (const ts_msg_t *reply, size_t i, bool sources)
{
    printf ("%s%s%s", reply->ids->items [i], sources? " ": "",
            sources? reply->sources->items [i]: "");
    if (reply->has_fetches && i < reply->fetches_n) {
        const ts_id_status_t *fetch = &reply->fetches [i];
        char at [40];
        printf (" %s %s", fetch->ok_ms? ts_time_format (fetch->ok_ms, at,
                                                        sizeof at)
                                      : "never",
                fetch->stale? "stale": "fresh");
        if (fetch->error_ms)
            printf (" %s", fetch->kind [0]? fetch->kind: "error");
    }
    printf ("\n");
}

//  ids ls: asks for the registry a page at a time (each page after the
//  last id of the one before) and prints every id once, ascending: one
//  a line as pages come ("ID SOURCE", s_print_id_line; the id alone
//  from a gateway that answers no sources), or with --json one document
//  for the whole list. --fetch asks each page with its fetch statuses.
static int
s_ids_ls (const ts_cli_args_t *args, const char *endpoint, ts_msg_t *req,
          ts_msg_t *reply)
{
    ts_msg_t *whole = args->json? ts_msg_new (TS_OP_REPLY): NULL;
    if (args->json && !whole) {
        fprintf (stderr, S_NAME ": out of memory\n");
        return S_EXIT_ERROR;
    }
    char after [TS_NAME_MAX + 1] = "";
    char err [TS_ERRLEN] = "";
    bool with_fetch = req->with_fetch;      //  --fetch
    int rc = S_EXIT_OK;
    while (rc == S_EXIT_OK) {
        ts_msg_reset (req, TS_OP_IDS_LS);
        //  With statuses, smaller pages: the gateway reads one status per
        //  id, so that no answer holds it long on a remote registry.
        req->limit = with_fetch? S_IDS_FETCH_PAGE: TS_PROTO_IDS_PAGE;
        req->with_fetch = with_fetch;
        ts_strlcpy (req->after, after, sizeof req->after);
        rc = s_call (endpoint, args->timeout_ms, req, reply, err);
        bool sources = reply->sources->n == reply->ids->n;
        if (rc == S_EXIT_OK && with_fetch && !reply->has_fetches) {
            ts_errf (err, "the gateway at %s answers no fetch status with "
                     "its ids (an older version): use ids show ID",
                     endpoint);
            rc = S_EXIT_ERROR;
        }
        for (size_t i = 0; rc == S_EXIT_OK && i < reply->ids->n; i++)
            if (!whole)
                s_print_id_line (reply, i, sources);
            else
            if (ts_strlist_append (whole->ids, reply->ids->items [i])
            ||  (sources && ts_strlist_append (whole->sources,
                                               reply->sources->items [i]))
            ||  (with_fetch && ts_msg_add_fetch (whole,
                                                 &reply->fetches [i]))) {
                ts_errf (err, "out of memory");
                rc = S_EXIT_ERROR;
            }
        if (rc != S_EXIT_OK || !reply->next [0])
            break;
        if (after [0] && strcmp (reply->next, after) <= 0) {
            ts_errf (err, "bad reply from gateway at %s: the page after "
                     "'%s' ends at '%s'", endpoint, after, reply->next);
            rc = S_EXIT_ERROR;
        }
        ts_strlcpy (after, reply->next, sizeof after);
    }
    if (rc != S_EXIT_OK)
        fprintf (stderr, S_NAME ": %s\n", err);
    else
    if (whole) {
        whole->status = 200;
        whole->has_fetches = with_fetch;
        rc = s_print_json (req, whole);
    }
    ts_msg_destroy (&whole);
    return rc;
}

//  hydrate --wait: what the progress display needs.
typedef struct {
    bool   tty;                 //  stdout is a terminal: one line, redrawn
    bool   quiet;               //  --json: nothing until the end
    size_t total;               //  ids waited for
} s_progress_t;

//  ts_cli_wait_fn: one line per stored id when stdout is not a terminal.
static void
s_on_stored (const char *id, void *arg)
{
    s_progress_t *progress = arg;
    if (!progress->tty && !progress->quiet)
        printf ("stored %s\n", id);
}

static void
s_show_progress (const s_progress_t *progress, size_t stored)
{
    if (progress->tty && !progress->quiet) {
        printf ("\rhydrate: %zu/%zu stored", stored, progress->total);
        fflush (stdout);
    }
}

//  Says why the wait ended, unless it ended with every id stored.
//  Returns the exit code.
static int
s_wait_outcome (const ts_cli_wait_t *wait, const ts_cli_args_t *args,
                const char *last_err)
{
    char ids [512];
    const ts_job_info_t *failed = ts_cli_wait_failed (wait);
    if (failed && failed->status == TS_JOB_STATUS_DEAD) {
        fprintf (stderr, S_NAME ": job %" PRIu64 " failed for good after "
                 "%" PRIu32 " receives: %s; its ids: %s\n", failed->job,
                 failed->receives, failed->error,
                 ts_cli_wait_ids (wait, failed->job, ids, sizeof ids));
        return S_EXIT_ERROR;
    }
    if (failed) {
        fprintf (stderr, S_NAME ": job %" PRIu64 " is no longer known to "
                 "the broker (purged or redriven from the dead-letter "
                 "queue, or the broker restarted); its ids: %s\n",
                 failed->job,
                 ts_cli_wait_ids (wait, failed->job, ids, sizeof ids));
        return S_EXIT_ERROR;
    }
    size_t total = ts_cli_wait_total (wait);
    size_t stored = ts_cli_wait_stored (wait);
    if (stored == total)
        return S_EXIT_OK;
    fprintf (stderr, S_NAME ": timed out after %.1f s: %zu of %zu ids not "
             "stored yet: %s%s%s\n", (double) args->wait_ms / 1000,
             total - stored, total, ts_cli_wait_ids (wait, 0, ids,
                                                     sizeof ids),
             last_err [0]? "; last error: ": "", last_err);
    return S_EXIT_TIMEOUT;
}

//  Asks the broker where the jobs are until every id is stored, a job
//  has failed for good, or args->wait_ms have passed since start_ms.
//  A gateway or broker that does not answer for a while is waited for;
//  any other error ends the wait. Returns an exit code.
static int
s_wait_loop (ts_cli_wait_t *wait, const ts_cli_args_t *args,
             const char *endpoint, s_progress_t *progress, int64_t start_ms,
             char *last_err)
{
    ts_msg_t *poll = ts_msg_new (TS_OP_JOB_STATE);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    int rc = poll && reply? S_EXIT_OK: S_EXIT_ERROR;
    int64_t pause_ms = S_POLL_FIRST_MS;
    char err [TS_ERRLEN] = "";
    while (rc == S_EXIT_OK && !ts_cli_wait_failed (wait)
    &&     ts_cli_wait_stored (wait) < ts_cli_wait_total (wait)) {
        int64_t left = start_ms + args->wait_ms - ts_mono_ms ();
        if (left <= 0)
            break;
        if (ts_cli_wait_request (wait, poll)) {
            rc = S_EXIT_ERROR;
            ts_errf (err, "out of memory");
            break;
        }
        int call_ms = left < args->timeout_ms? (int) left: args->timeout_ms;
        int call = s_call (endpoint, call_ms, poll, reply, err);
        if (call == S_EXIT_TIMEOUT
        ||  (call == S_EXIT_ERROR && reply->status == 503))
            ts_strlcpy (last_err, err, TS_ERRLEN);
        else
        if (call != S_EXIT_OK)
            rc = call;
        else
        if (ts_cli_wait_update (wait, reply, s_on_stored, progress, err))
            rc = S_EXIT_ERROR;
        s_show_progress (progress, ts_cli_wait_stored (wait));
        if (rc != S_EXIT_OK || ts_cli_wait_failed (wait)
        ||  ts_cli_wait_stored (wait) == ts_cli_wait_total (wait))
            break;
        left = start_ms + args->wait_ms - ts_mono_ms ();
        zclock_sleep ((int) (pause_ms < left? pause_ms: left > 0? left: 0));
        pause_ms = pause_ms * 2 > S_POLL_MAX_MS? S_POLL_MAX_MS: pause_ms * 2;
        if (zsys_interrupted) {
            ts_errf (err, "interrupted");
            rc = S_EXIT_ERROR;
        }
    }
    if (rc != S_EXIT_OK)
        fprintf (stderr, "%s" S_NAME ": %s\n",
                 progress->tty && !progress->quiet? "\n": "", err);
    ts_msg_destroy (&poll);
    ts_msg_destroy (&reply);
    return rc;
}

//  hydrate --wait: queues the ids, then follows their jobs. Prints the
//  progress (done/total redrawn on a terminal, "stored ID" lines
//  otherwise), then "stored N/N ids", or with --json the account as one
//  JSON document whatever the outcome.
static int
s_hydrate_wait (const ts_cli_args_t *args, const char *endpoint,
                ts_msg_t *req, ts_msg_t *reply)
{
    int64_t start_ms = ts_mono_ms ();
    char err [TS_ERRLEN] = "";
    int rc = s_call (endpoint, args->timeout_ms, req, reply, err);
    ts_cli_wait_t *wait = NULL;
    if (rc == S_EXIT_OK && !(wait = ts_cli_wait_new (req->ids, reply, err)))
        rc = S_EXIT_ERROR;
    if (rc != S_EXIT_OK) {
        fprintf (stderr, S_NAME ": %s\n", err);
        return rc;
    }
    s_progress_t progress = {
        .tty = isatty (STDOUT_FILENO), .quiet = args->json,
        .total = ts_cli_wait_total (wait)
    };
    s_show_progress (&progress, 0);
    char last_err [TS_ERRLEN] = "";
    rc = s_wait_loop (wait, args, endpoint, &progress, start_ms, last_err);
    if (progress.tty && !progress.quiet)
        putchar ('\n');
    if (rc == S_EXIT_OK)
        rc = s_wait_outcome (wait, args, last_err);
    if (args->json) {
        ts_json_t *json = ts_json_new ();
        if (json && ts_cli_wait_json (wait, json) == 0)
            printf ("%s\n", ts_json_data (json));
        ts_json_destroy (&json);
    }
    else
    if (rc == S_EXIT_OK)
        printf ("stored %zu/%zu ids\n", ts_cli_wait_stored (wait),
                ts_cli_wait_total (wait));
    ts_cli_wait_destroy (&wait);
    return rc;
}

//  Loads the config: -c, else $TSCACHE_CONFIG, else defaults and
//  TSCACHE_* variables. Returns an exit code.
static int
s_load_config (const char *config_path, ts_config_t **cfg)
{
    if (!config_path && getenv ("TSCACHE_CONFIG")
    &&  *getenv ("TSCACHE_CONFIG"))
        config_path = getenv ("TSCACHE_CONFIG");
    char err [TS_ERRLEN] = "";
    *cfg = ts_config_load (config_path, err);
    if (!*cfg) {
        fprintf (stderr, S_NAME ": %s\n", err);
        return S_EXIT_USAGE;
    }
    const ts_strlist_t *warnings = ts_config_warnings (*cfg);
    for (size_t i = 0; i < warnings->n; i++)
        fprintf (stderr, S_NAME ": warning: %s\n", warnings->items [i]);
    return S_EXIT_OK;
}

//  The CLI's CURVE keys: -k (else security.cli_cert) and --server-key
//  (else security.gateway_cert); NULL in plain mode. Returns an exit
//  code.
static int
s_load_keys (const ts_cli_args_t *args, const ts_config_t *cfg,
             ts_curve_id_t **curve)
{
    *curve = NULL;
    if (strcmp (ts_config_str (cfg, "security.mode"), "plain") == 0)
        return S_EXIT_OK;
    char err [TS_ERRLEN] = "";
    *curve = ts_curve_id_load (
        args->key? args->key: ts_config_str (cfg, "security.cli_cert"),
        args->server_key? args->server_key
                        : ts_config_str (cfg, "security.gateway_cert"), err);
    if (!*curve) {
        fprintf (stderr, S_NAME ": CURVE key: %s (-k, --server-key; or "
                 "security.mode: plain)\n", err);
        return S_EXIT_USAGE;
    }
    return S_EXIT_OK;
}

//  Runs the parsed command. Returns the exit code.
static int
s_run (const ts_cli_args_t *args, ts_msg_t *req, ts_msg_t *reply)
{
    ts_config_t *cfg = NULL;
    ts_curve_id_t *curve = NULL;
    int rc = s_load_config (args->config_path, &cfg);
    if (rc == S_EXIT_OK)
        rc = s_load_keys (args, cfg, &curve);
    //  Endpoint: -e, else $TSCACHE_ENDPOINT, else cli.endpoint.
    const char *env = getenv ("TSCACHE_ENDPOINT");
    char *endpoint = rc? NULL
                   : strdup (args->endpoint? args->endpoint
                           : env && *env? env
                           : ts_config_str (cfg, "cli.endpoint"));
    ts_config_destroy (&cfg);
    if (rc == S_EXIT_OK && !endpoint)
        rc = S_EXIT_ERROR;
    if (rc != S_EXIT_OK) {
        ts_curve_id_destroy (&curve);
        return rc;
    }
    s_curve = curve;
    char err [TS_ERRLEN] = "";
    if (req->op == TS_OP_IDS_LS)
        rc = s_ids_ls (args, endpoint, req, reply);
    else
    if (req->op == TS_OP_HYDRATE && args->wait)
        rc = s_hydrate_wait (args, endpoint, req, reply);
    else {
        rc = s_call (endpoint, args->timeout_ms, req, reply, err);
        if (rc == S_EXIT_OK)
            rc = s_print_reply (req, reply, args->json);
        else
            fprintf (stderr, S_NAME ": %s\n", err);
    }
    s_curve = NULL;
    ts_curve_id_destroy (&curve);
    free (endpoint);
    return rc;
}

//  keys init: the config's keys (ts_cli_keys_init).
static int
s_keys_init (const char *config_path)
{
    ts_config_t *cfg = NULL;
    int rc = s_load_config (config_path, &cfg);
    if (rc == S_EXIT_OK && ts_cli_keys_init (cfg))
        rc = S_EXIT_ERROR;
    ts_config_destroy (&cfg);
    return rc;
}

//  source ls: the config's sources (ts_cli_sources_print).
static int
s_source_ls (const char *config_path, bool json)
{
    ts_config_t *cfg = NULL;
    int rc = s_load_config (config_path, &cfg);
    if (rc == S_EXIT_OK && ts_cli_sources_print (cfg, json, stdout)) {
        fprintf (stderr, S_NAME ": source ls: out of memory\n");
        rc = S_EXIT_ERROR;
    }
    ts_config_destroy (&cfg);
    return rc;
}

//  source test NAME ID: one id fetched now (ts_cli_source_test); exit
//  codes as the CLI's: 1 the fetch or mapping failed, 2 a bad source.
static int
s_source_test (const ts_cli_args_t *args)
{
    ts_config_t *cfg = NULL;
    int rc = s_load_config (args->config_path, &cfg);
    ts_cli_test_args_t test = {
        .source = args->test_source, .id = args->test_id,
        .has_from = args->has_from, .from_ms = args->from_ms,
        .has_to = args->has_to, .to_ms = args->to_ms, .json = args->json };
    if (rc == S_EXIT_OK)
        rc = ts_cli_source_test (cfg, &test, stdout, stderr);
    ts_config_destroy (&cfg);
    return rc;
}

//  store init: runs tscache-worker --store-init [-c FILE], the binary
//  that links the store backends' network libraries (this one links
//  none): the one beside this binary if there is one, else the first in
//  PATH. Its output and exit code are the command's. Returns only if it
//  cannot be run.
static int
s_store_init (const char *config_path)
{
    char *argv [] = { "tscache-worker", "--store-init",
                      config_path? "-c": NULL, (char *) config_path, NULL };
    char dir [PATH_MAX] = "", worker [PATH_MAX + 16];
    ssize_t len = readlink ("/proc/self/exe", dir, sizeof dir - 1);
    char *slash = len > 0? memrchr (dir, '/', (size_t) len): NULL;
    if (slash) {
        *slash = 0;
        snprintf (worker, sizeof worker, "%s/tscache-worker", dir);
        if (access (worker, X_OK) == 0)
            execv (worker, argv);
    }
    execvp ("tscache-worker", argv);
    fprintf (stderr, S_NAME ": store init: cannot run tscache-worker "
             "(looked beside this program%s%s and in PATH): %s\n",
             *dir? ", in ": "", dir, strerror (errno));
    return S_EXIT_ERROR;
}

int
main (int argc, char *argv [])
{
    ts_log_set_name (S_NAME);
    //  The CLI says what went wrong itself; no log lines of its modules.
    ts_log_set_level (TS_LOG_ERROR);
    ts_cli_args_t args;
    ts_msg_t *req = ts_msg_new (TS_OP_PING);
    ts_msg_t *reply = ts_msg_new (TS_OP_REPLY);
    char err [TS_ERRLEN] = "";
    int rc = S_EXIT_ERROR;
    if (!req || !reply)
        fprintf (stderr, S_NAME ": out of memory\n");
    else
    if (ts_cli_args_parse (&args, req, argc, argv, err) != 0) {
        if (argc < 2)
            ts_cli_args_usage (stderr);
        else
            fprintf (stderr, S_NAME ": %s\n(" S_NAME " --help shows the "
                     "usage)\n", err);
        rc = S_EXIT_USAGE;
    }
    else
    if (args.help) {
        ts_cli_args_usage (stdout);
        rc = S_EXIT_OK;
    }
    else
    if (args.version) {
        ts_version_use (ts_cli_source_test_libraries ());
        ts_version_print (stdout, S_NAME);
        rc = S_EXIT_OK;
    }
    else
    if (args.store_init)
        rc = s_store_init (args.config_path);
    else
    if (args.keygen)
        rc = ts_cli_keys_gen (args.keygen) == 0? S_EXIT_OK: S_EXIT_ERROR;
    else
    if (args.keys_init)
        rc = s_keys_init (args.config_path);
    else
    if (args.source_ls)
        rc = s_source_ls (args.config_path, args.json);
    else
    if (args.source_test)
        rc = s_source_test (&args);
    else
        rc = s_run (&args, req, reply);
    ts_msg_destroy (&req);
    ts_msg_destroy (&reply);
    return rc;
}
