/*  ingestload - the parts of a worker's CPU per document, each alone
    (make bench, figure 11): the physical limits the pipeline's figure 4
    is set beside.

    Reads one upstream document from a file (as a worker fetched it) and
    runs, in this process, the worker's own ingest path (common/ingest,
    the store the config names) three ways:

      parse   the document mapped to points (ts_ingest_map, the
              config's upstream.format), --parse times over the same
              bytes: the mapping alone, no store;
      write   the points of that one mapping split at --now and written
              for --docs new ids (ts_ingest_add_points, ts_ingest_flush
              every --batch documents, as the worker batches): the store
              write alone, one transaction and one sync per batch;
      rewrite the next fetch of those ids: the document's window one
              step later (its shortest time between points), the same
              value at each time it had and one new time at the end,
              written over what the write stored, as every fetch but an
              id's first is (history merged into what is stored: the
              blocks it does not change are not written);
      ingest  both, as the worker does them (ts_ingest_add on the
              document's bytes, then the flush), for --docs other ids.

    The ids (PREFIX-w-000000..., PREFIX-i-000000...) are registered first,
    untimed, as the pipeline's are before their fetch. Each part reports
    the process's CPU (user + system, CLOCK_PROCESS_CPUTIME_ID: the
    kernel's share of the writes and syncs included) per document, and
    the wall time. The store is whatever the config names (plus the usual
    TSCACHE_* overrides, e.g. TSCACHE_STORE_LMDB_PATH): give it one of
    its own.

    Output, one line of "key value" pairs:

      ingestload bytes 21544 points 576 parse_us 101.2 write_us 64.0
                 rewrite_us 70.2 ingest_us 170.3 docs 2000 batch 12
                 write_wall_s 0.41 step_ms 300000

    Exit status: 0 if every document was mapped and stored, 1 if not, 2
    if the run could not start. */

#include "ts_bench.h"
#include "ts_common.h"
#include "ts_config.h"
#include "ts_ingest.h"
#include "ts_map.h"
#include "ts_points.h"
#include "ts_store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *config;
    const char *doc;
    long        parse;
    long        docs;
    long        batch;
    const char *prefix;
    int64_t     now_ms;
} s_opts_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
"usage: ingestload -c CONFIG --doc FILE --now MS [options]\n"
"\n"
"Times a worker's ingest of one upstream document in parts: the mapping\n"
"alone, the store write alone, and both (for make bench).\n"
"\n"
"  -c, --config FILE  tscache config: upstream.format and the store\n"
"  --doc FILE         the upstream document, as fetched\n"
"  --now MS           epoch ms where the points are split into history\n"
"                     and forecast (the document's fetch time)\n"
"  --parse N          mappings of the document timed (default 2000)\n"
"  --docs N           documents written, and then ingested (default 2000)\n"
"  --batch N          documents per store transaction (default 12: the\n"
"                     worker's most)\n"
"  --prefix TEXT      the ids' prefix (default ingest)\n"
"  --help             this text\n"
"\n"
"Prints one line: ingestload bytes B points N parse_us X write_us Y\n"
"rewrite_us R ingest_us Z docs N batch N write_wall_s S step_ms T. Exit 0\n"
"if every document was mapped and stored, 1 if not, 2 if the run could\n"
"not start.\n");
}

static int
s_parse_opts (int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t) { .parse = 2000, .docs = 2000, .batch = 12,
                      .prefix = "ingest" };
    static const struct option longs [] = {
        { "config", required_argument, NULL, 'c' },
        { "doc",    required_argument, NULL, 'd' },
        { "now",    required_argument, NULL, 'n' },
        { "parse",  required_argument, NULL, 'p' },
        { "docs",   required_argument, NULL, 'w' },
        { "batch",  required_argument, NULL, 'b' },
        { "prefix", required_argument, NULL, 'x' },
        { "help",   no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c, index = 0;
    long now = -1;
    while ((c = getopt_long (argc, argv, "c:", longs, &index)) != -1) {
        int rc = 0;
        switch (c) {
            case 'c': o->config = optarg; break;
            case 'd': o->doc = optarg; break;
            case 'n': rc = ts_bench_parse_long (optarg, 0, 253402300799999L,
                                                &now); break;
            case 'p': rc = ts_bench_parse_long (optarg, 1, 10000000,
                                                &o->parse); break;
            case 'w': rc = ts_bench_parse_long (optarg, 1, 1000000,
                                                &o->docs); break;
            case 'b': rc = ts_bench_parse_long (optarg, 1, 1000, &o->batch);
                      break;
            case 'x': o->prefix = optarg; break;
            case 'h': s_usage (stdout); exit (0);
            default:  s_usage (stderr); return TS_EINVAL;
        }
        if (rc) {
            fprintf (stderr, "ingestload: bad value for --%s: '%s'\n",
                     c == 'c'? "config": longs [index].name, optarg);
            return TS_EINVAL;
        }
    }
    if (!o->config || !o->doc || now < 0 || optind < argc) {
        s_usage (stderr);
        return TS_EINVAL;
    }
    if (strlen (o->prefix) + 10 > TS_NAME_MAX || !ts_name_valid (o->prefix)) {
        fprintf (stderr, "ingestload: --prefix: not the start of a valid "
                 "id: '%s'\n", o->prefix);
        return TS_EINVAL;
    }
    o->now_ms = now;
    return 0;
}

//  The process's CPU time (user + system) in seconds.
static double
s_cpu_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  Reads the whole file at path into *data (NUL-terminated, the caller
//  frees). Returns 0 or -1 (message printed).
static int
s_read_file (const char *path, char **data, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        perror (path);
        return -1;
    }
    size_t cap = 65536, used = 0;
    char *buf = malloc (cap);
    while (buf) {
        used += fread (buf + used, 1, cap - used - 1, file);
        if (used < cap - 1)
            break;
        char *grown = realloc (buf, cap * 2);
        if (!grown) {
            free (buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    bool bad = ferror (file) || !buf;
    fclose (file);
    if (bad) {
        fprintf (stderr, "ingestload: cannot read %s\n", path);
        free (buf);
        return -1;
    }
    buf [used] = 0;
    *data = buf;
    *size = used;
    return 0;
}

//  The id number k of part ("w" or "i").
static void
s_id (const s_opts_t *o, const char *part, long k, char *id)
{
    snprintf (id, TS_NAME_MAX + 1, "%s-%s-%06ld", o->prefix, part, k);
}

//  Registers the ids of part, untimed. Returns 0 or -1.
static int
s_register (ts_store_t *store, const s_opts_t *o, const char *part)
{
    char err [TS_ERRLEN];
    ts_strlist_t *ids = ts_strlist_new ();
    char id [TS_NAME_MAX + 1];
    int rc = ids? 0: -1;
    for (long k = 0; rc == 0 && k < o->docs; k++) {
        s_id (o, part, k, id);
        rc = ts_strlist_append (ids, id)? -1: 0;
    }
    if (rc == 0 && ts_store_ids_add (store, (const char *const *) ids->items,
                                     ids->n, NULL, err)) {
        fprintf (stderr, "ingestload: cannot register the ids: %s\n", err);
        rc = -1;
    }
    ts_strlist_destroy (&ids);
    return rc;
}

//  Counts the documents a flush could not store.
static void
s_count_failed (void *arg, const ts_ingest_result_t *result)
{
    if (result->rc) {
        long *failed = arg;
        if ((*failed)++ == 0)
            fprintf (stderr, "ingestload: %s: %s\n", result->id,
                     result->err);
    }
}

//  Writes --docs documents of part: the mapped points all (write) or the
//  document's bytes (ingest, all NULL), fetched at now_ms. Returns the
//  documents that failed, or -1 if the run broke off.
static long
s_store_part (ts_ingest_t *ingest, const s_opts_t *o, const char *part,
              const ts_points_t *all, const char *doc, size_t size,
              int64_t now_ms)
{
    long failed = 0;
    char id [TS_NAME_MAX + 1], err [TS_ERRLEN];
    //  The batch borrows each id until its flush.
    char (*ids) [TS_NAME_MAX + 1] = calloc ((size_t) o->batch, sizeof *ids);
    if (!ids)
        return -1;
    for (long k = 0; k < o->docs; k++) {
        s_id (o, part, k, id);
        char *kept = ids [ts_ingest_pending (ingest)];
        memcpy (kept, id, sizeof id);
        const char *what = "";
        int rc = all? ts_ingest_add_points (ingest, kept, all, now_ms,
                                            false, &what, err)
                    : ts_ingest_add (ingest, kept, doc, size, now_ms,
                                     &what, err);
        if (rc) {
            fprintf (stderr, "ingestload: %s: %s: %s\n", id, what, err);
            free (ids);
            return -1;
        }
        if (ts_ingest_pending (ingest) >= (size_t) o->batch
        ||  k == o->docs - 1)
            ts_ingest_flush (ingest, now_ms, s_count_failed, &failed);
    }
    free (ids);
    return failed;
}

//  Orders indexes of points by time, then measure index.
static int
s_order (const void *a, const void *b, void *arg)
{
    const ts_points_t *pts = arg;
    size_t i = *(const size_t *) a, j = *(const size_t *) b;
    if (pts->time_ms [i] != pts->time_ms [j])
        return pts->time_ms [i] < pts->time_ms [j]? -1: 1;
    return (pts->measure [i] > pts->measure [j])
         - (pts->measure [i] < pts->measure [j]);
}

//  The next fetch of the document pts (the same upstream a step later):
//  its window moves on by the shortest time between two of its points
//  (1 if it has one time), so each point of next sits one step later and
//  holds the value pts has at that time and measure - what the upstream
//  returns again - or, past the end, its own. Returns the step, or -1 if
//  out of memory.
static int64_t
s_next_fetch (const ts_points_t *pts, ts_points_t *next)
{
    size_t *order = malloc ((pts->n? pts->n: 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < pts->n; i++)
        order [i] = i;
    qsort_r (order, pts->n, sizeof *order, s_order, (void *) pts);
    int64_t step = INT64_MAX;
    for (size_t k = 1; k < pts->n; k++) {
        int64_t d = pts->time_ms [order [k]] - pts->time_ms [order [k - 1]];
        if (d > 0 && d < step)
            step = d;
    }
    if (step == INT64_MAX)
        step = 1;
    int rc = 0;
    for (size_t k = 0; k < pts->n && rc == 0; k++) {
        size_t i = order [k];
        int64_t t = pts->time_ms [i] + step;
        double value = pts->value [i];
        //  The point of the same measure at t, searched in order.
        size_t lo = 0, hi = pts->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (pts->time_ms [order [mid]] < t)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < pts->n && pts->time_ms [order [lo]] == t; lo++)
            if (pts->measure [order [lo]] == pts->measure [i]) {
                value = pts->value [order [lo]];
                break;
            }
        rc = ts_points_append (next, t, ts_points_measure (pts, i), value);
    }
    free (order);
    return rc? -1: step;
}

int
main (int argc, char **argv)
{
    s_opts_t o;
    if (s_parse_opts (argc, argv, &o))
        return 2;
    char err [TS_ERRLEN] = "";
    char *doc = NULL;
    size_t size = 0;
    if (s_read_file (o.doc, &doc, &size))
        return 2;
    ts_config_t *cfg = ts_config_load (o.config, err);
    ts_store_t *store = cfg? ts_store_new (cfg, err): NULL;
    ts_map_spec_t spec;
    ts_ingest_t *ingest = NULL;
    if (store && ts_map_spec_from_config (&spec, cfg, err) == 0)
        ingest = ts_ingest_new (&spec, store, (size_t) o.batch, err);
    ts_points_t *all = ts_points_new ();
    ts_points_t *next = ts_points_new ();
    if (!ingest || !all || !next) {
        fprintf (stderr, "ingestload: %s\n", err [0]? err: "out of memory");
        ts_points_destroy (&all);
        ts_points_destroy (&next);
        ts_ingest_destroy (&ingest);
        ts_store_destroy (&store);
        ts_config_destroy (&cfg);
        free (doc);
        return 2;
    }
    int status = 0;
    //  The mapping alone.
    const char *what = "";
    double cpu = s_cpu_s ();
    for (long k = 0; k < o.parse && status == 0; k++) {
        ts_points_clear (all);
        if (ts_ingest_map (ingest, doc, size, o.now_ms, all, &what, err)) {
            fprintf (stderr, "ingestload: %s: %s: %s\n", o.doc, what, err);
            status = 1;
        }
    }
    double parse_us = 1e6 * (s_cpu_s () - cpu) / (double) o.parse;
    //  The write alone and the next fetch's over it, then both, each to
    //  ids of its own.
    double write_us = 0, rewrite_us = 0, ingest_us = 0, write_wall = 0;
    int64_t step = status == 0? s_next_fetch (all, next): 0;
    if (step < 0) {
        fprintf (stderr, "ingestload: out of memory\n");
        status = 2;
    }
    if (status == 0 && (s_register (store, &o, "w")
                        || s_register (store, &o, "i")))
        status = 2;
    if (status == 0) {
        int64_t wall = ts_bench_now_ns ();
        cpu = s_cpu_s ();
        long failed = s_store_part (ingest, &o, "w", all, NULL, 0, o.now_ms);
        write_us = 1e6 * (s_cpu_s () - cpu) / (double) o.docs;
        write_wall = (double) (ts_bench_now_ns () - wall) / 1e9;
        cpu = s_cpu_s ();
        if (failed == 0)
            failed = s_store_part (ingest, &o, "w", next, NULL, 0,
                                   o.now_ms + step);
        rewrite_us = 1e6 * (s_cpu_s () - cpu) / (double) o.docs;
        cpu = s_cpu_s ();
        if (failed == 0)
            failed = s_store_part (ingest, &o, "i", NULL, doc, size,
                                   o.now_ms);
        ingest_us = 1e6 * (s_cpu_s () - cpu) / (double) o.docs;
        if (failed)
            status = 1;
    }
    if (status != 2)
        printf ("ingestload bytes %zu points %zu parse_us %.1f write_us %.1f "
                "rewrite_us %.1f ingest_us %.1f docs %ld batch %ld "
                "write_wall_s %.3f step_ms %lld\n", size, all->n, parse_us,
                write_us, rewrite_us, ingest_us, o.docs, o.batch, write_wall,
                (long long) step);
    ts_points_destroy (&all);
    ts_points_destroy (&next);
    ts_ingest_destroy (&ingest);
    ts_store_destroy (&store);
    ts_config_destroy (&cfg);
    free (doc);
    return status;
}
