/*  storefill - loads a long history of one id into a store (make bench).

    Registers one id and writes N history points to it, evenly spaced in
    time, through the store interface (common/store/ts_store.h) exactly as
    any process would: ts_store_ids_add, then ts_store_history_put in
    chunks (one call per --chunk points). The store is the one the config
    names (-c FILE, plus the usual TSCACHE_* environment overrides, e.g.
    TSCACHE_STORE_LMDB_PATH); an embedded store may be open in other
    processes meanwhile.

    It serves the benchmark of a very large answer: the gateway's memory
    while it reads and encodes a million points. It uses only the calls
    every version of the store keeps (config load, store open, ids add,
    history put, point lists), so the same loader measures the code before
    and after a change of the store or of the point layout.

    Point k (0 <= k < N) is at time --from + k x --step-ms, measure
    --measure, value (k mod 100000) / 10000: a value with up to 4
    decimals, like the demo upstream's. Writing the same points twice
    leaves what one write leaves (history is upserted).

    Output is one line of "key value" pairs:

      storefill id bench-1m points 1000000 seconds 2.34

    Exit status: 0 if every point was written, 1 if a write failed, 2 if
    the run could not start (bad option, bad config, store not opened). */

#include "ts_common.h"
#include "ts_config.h"
#include "ts_points.h"
#include "ts_store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *config;             //  NULL: defaults and environment
    const char *id;
    const char *measure;
    long long   points;
    long long   chunk;
    long long   from_ms;
    long long   step_ms;
} s_opts_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
"usage: storefill --id ID [options]\n"
"\n"
"Registers ID in the store the config names and writes a long history to\n"
"it through the store interface (for make bench).\n"
"\n"
"  -c, --config FILE  tscache config (default: defaults and TSCACHE_*\n"
"                     environment overrides only)\n"
"  --id ID            series id to register and fill\n"
"  --points N         history points to write (default 1000000)\n"
"  --chunk N          points per store write (default 100000)\n"
"  --from MS          time of the first point, epoch ms\n"
"                     (default 1577836800000, 2020-01-01)\n"
"  --step-ms N        milliseconds between points (default 60000)\n"
"  --measure NAME     measure name of every point (default value)\n"
"  --help             this text\n"
"\n"
"Point k has time FROM + k x STEP and value (k mod 100000) / 10000.\n"
"Prints one line: storefill id ID points N seconds S. Exit 0 if every\n"
"point was written, 1 if a write failed, 2 if the run could not start.\n");
}

//  Parses a whole decimal integer in [min, max]. Returns 0 or TS_EINVAL.
//  (zmqload.c has one like it: this file builds alone, with the store calls
//  only, in a checkout of any version, so it shares no bench helper.)
static int
s_parse_int (const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll (s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return TS_EINVAL;
    *out = v;
    return 0;
}

//  Fills o from the command line. Returns 0, 1 after --help, or 2.
static int
s_parse_opts (int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t) {
        .measure = "value", .points = 1000000, .chunk = 100000,
        .from_ms = 1577836800000LL, .step_ms = 60000
    };
    enum { O_ID = 256, O_POINTS, O_CHUNK, O_FROM, O_STEP, O_MEASURE,
           O_HELP };
    static const struct option longopts [] = {
        { "config",  required_argument, NULL, 'c' },
        { "id",      required_argument, NULL, O_ID },
        { "points",  required_argument, NULL, O_POINTS },
        { "chunk",   required_argument, NULL, O_CHUNK },
        { "from",    required_argument, NULL, O_FROM },
        { "step-ms", required_argument, NULL, O_STEP },
        { "measure", required_argument, NULL, O_MEASURE },
        { "help",    no_argument,       NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    int c, idx = -1;
    while ((c = getopt_long (argc, argv, "c:", longopts, &idx)) != -1) {
        int rc = 0;
        switch (c) {
            case 'c':       o->config = optarg; break;
            case O_ID:      o->id = optarg; break;
            case O_MEASURE: o->measure = optarg; break;
            case O_POINTS:
                rc = s_parse_int (optarg, 1, 100000000, &o->points);
                break;
            case O_CHUNK:
                rc = s_parse_int (optarg, 1, 10000000, &o->chunk);
                break;
            case O_FROM:
                rc = s_parse_int (optarg, -8640000000000000LL,
                                  8640000000000000LL, &o->from_ms);
                break;
            case O_STEP:
                rc = s_parse_int (optarg, 1, 86400000, &o->step_ms);
                break;
            case O_HELP:
                s_usage (stdout);
                return 1;
            default:
                s_usage (stderr);
                return 2;
        }
        if (rc) {
            fprintf (stderr, "storefill: bad value '%s' for --%s\n", optarg,
                     idx >= 0? longopts [idx].name: "?");
            return 2;
        }
        idx = -1;
    }
    if (optind < argc) {
        fprintf (stderr, "storefill: unexpected argument '%s'\n",
                 argv [optind]);
        return 2;
    }
    //  The store checks the id and the measure name.
    if (!o->id) {
        fprintf (stderr, "storefill: --id is required\n");
        return 2;
    }
    return 0;
}

//  Writes the points in chunks. Returns 0 or a TS_E* code (detail in err).
static int
s_fill (ts_store_t *store, const s_opts_t *o, char *err)
{
    ts_points_t *pts = ts_points_new ();
    if (!pts) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    int rc = 0;
    for (long long k = 0; k < o->points && rc == 0; ) {
        ts_points_clear (pts);
        long long end = k + o->chunk < o->points? k + o->chunk: o->points;
        for (; k < end && rc == 0; k++)
            rc = ts_points_append (pts, (int64_t) (o->from_ms + k * o->step_ms),
                                   o->measure, (double) (k % 100000) / 1e4);
        if (rc)
            ts_errf (err, "cannot build point %lld: %s", k, ts_strerror (rc));
        else
            rc = ts_store_history_put (store, o->id, pts, err);
    }
    ts_points_destroy (&pts);
    return rc;
}

int
main (int argc, char **argv)
{
    s_opts_t o;
    int rc = s_parse_opts (argc, argv, &o);
    if (rc)
        return rc == 1? 0: 2;

    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (o.config, err);
    if (!cfg) {
        fprintf (stderr, "storefill: %s\n", err);
        return 2;
    }
    ts_store_t *store = ts_store_new (cfg, err);
    if (!store) {
        fprintf (stderr, "storefill: %s\n", err);
        ts_config_destroy (&cfg);
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    const char *ids [] = { o.id };
    rc = ts_store_ids_add (store, ids, 1, NULL, err);
    if (rc == 0)
        rc = s_fill (store, &o, err);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    if (rc)
        fprintf (stderr, "storefill: %s: %s\n", ts_strerror (rc), err);
    else
        printf ("storefill id %s points %lld seconds %.2f\n", o.id, o.points,
                (double) (t1.tv_sec - t0.tv_sec)
                + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    ts_store_destroy (&store);
    ts_config_destroy (&cfg);
    return rc? 1: 0;
}
