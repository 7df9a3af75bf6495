/*  dispatchload - the broker's dispatch rate (make bench, figure 9).

    Plays --workers workers at the protocol level (docs/protocol.md,
    sections 5.7 to 5.11 and 8) against a broker's worker socket, with no
    upstream and no store behind them: each DEALER introduces itself with
    ready (--credit slots) and acknowledges every job the moment it
    arrives, as a worker whose fetches took no time would: per socket and
    wake, one ready giving back the slots freed, then one done per job
    naming its ids as written. Heartbeats go out every second, as the
    protocol asks of a worker. At the end each sends release (no jobs)
    before it closes, as a worker that stops does.

    The --ids ids (PREFIX000000, PREFIX000001, ...) are queued by hydrate
    requests to the broker's control socket, 10,000 ids each (the
    protocol's limit), all sent at once at the start. The run is timed
    from the first hydrate sent to the stats reply that counts --ids more
    jobs done than before the run (the broker's done total is read once
    every worker is known to it, and polled every 5 ms once the last done
    is sent), so the figure is the broker's: queueing, leasing, sending,
    acking and syncing every job, not only the loader's sends.

    With --allocs FILE (the broker's counters of bench/alloccount.so)
    the run is in two phases instead: the workers introduce themselves
    with no credit, every id is queued and its hydrate answered, and only
    then do they give their credit. The line then also has the dispatch
    phase alone: its seconds and jobs/s (dispatch_s, dispatch_jobs_s) and
    the broker's heap allocations per job in it (allocs_main by its main
    thread, allocs_io by the others), so that queueing, which is a bulk
    request and not the per-job path, is not counted.

    One thread: on two cores the loader takes one, the broker the other.

    Output, one line of "key value" pairs:

      dispatchload workers 64 credit 16 jobs 100000 errors 0 seconds 1.87
                   jobs_s 53475.9

    Exit status: 0 if every job was done; 1 if not within --timeout-s or
    a message was not what the protocol says; 2 if the run could not
    start (bad option, no broker). */

#include "ts_bench.h"
#include "ts_common.h"
#include "ts_proto.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#define S_MAX_WORKERS   1024
#define S_HYDRATE_IDS   10000       //  ids one hydrate may hold
#define S_MAX_MESSAGE   (16 * 1024 * 1024)
#define S_HEARTBEAT_MS  1000
#define S_STATS_MS      5

typedef struct {
    const char *broker;             //  the broker's worker socket
    const char *control;            //  the broker's control socket
    long        workers;
    long        credit;
    long        ids;
    const char *prefix;
    long        timeout_s;
    const char *allocs;             //  the broker's allocation counters
} s_opts_t;

//  The run: sockets, counters, and a scratch message for each direction.
typedef struct {
    const s_opts_t *opts;
    void       *ctx;
    void      **workers;            //  opts->workers DEALERs
    void       *control;            //  DEALER to the control socket
    ts_msg_t   *in;                 //  decoded from the broker
    ts_msg_t   *out;                //  encoded to the broker
    long        done_sent;          //  dones sent (one per job)
    long        done_counted;       //  jobs the broker counts done since
                                    //  the run began (its last stats)
    long        hydrates_due;       //  hydrate replies not yet in
    int64_t     next_heartbeat_ms;
} s_run_t;

static int64_t
s_now_ms (void)
{
    return ts_bench_now_ns () / 1000000;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
"usage: dispatchload --broker EP --control EP [options]\n"
"\n"
"Plays N workers that acknowledge every job at once against a tscache\n"
"broker, queues --ids ids by hydrate, and reports the jobs/s from the\n"
"first hydrate to the broker counting the last job done.\n"
"\n"
"  --broker EP        the broker's worker socket (worker.broker_endpoint)\n"
"  --control EP       the broker's control socket (broker.control_bind)\n"
"  --workers N        workers, one DEALER each (default 64)\n"
"  --credit N         each worker's slots (ready credit; default 16)\n"
"  --ids N            ids to queue, one job each with broker.ids_per_job\n"
"                     1 (default 100000)\n"
"  --prefix TEXT      the ids' prefix (default dispatch-); ids are\n"
"                     PREFIX000000, PREFIX000001, ...\n"
"  --timeout-s N      give up after N seconds (default 120)\n"
"  --allocs FILE      the broker's counters of bench/alloccount.so:\n"
"                     queue every id first, then dispatch, and report\n"
"                     the dispatch alone and its allocations per job\n"
"  --help             this text\n"
"\n"
"Prints one line: dispatchload workers N credit N jobs N errors N seconds S\n"
"jobs_s R (jobs: those the broker counted done in the run; errors: those\n"
"it did not). Exit 0 if every job was done, 1 if not (or a message was\n"
"wrong), 2 if the run could not start.\n");
}

static int
s_parse_opts (int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t) { .workers = 64, .credit = 16, .ids = 100000,
                      .prefix = "dispatch-", .timeout_s = 120 };
    static const struct option longs [] = {
        { "broker",    required_argument, NULL, 'b' },
        { "control",   required_argument, NULL, 'c' },
        { "workers",   required_argument, NULL, 'w' },
        { "credit",    required_argument, NULL, 'k' },
        { "ids",       required_argument, NULL, 'n' },
        { "prefix",    required_argument, NULL, 'p' },
        { "timeout-s", required_argument, NULL, 't' },
        { "allocs",    required_argument, NULL, 'a' },
        { "help",      no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c, index = 0;
    while ((c = getopt_long (argc, argv, "", longs, &index)) != -1) {
        int rc = 0;
        switch (c) {
            case 'b': o->broker = optarg; break;
            case 'c': o->control = optarg; break;
            case 'w': rc = ts_bench_parse_long (optarg, 1, S_MAX_WORKERS,
                                         &o->workers); break;
            case 'k': rc = ts_bench_parse_long (optarg, 1, 1024, &o->credit);
                      break;
            case 'n': rc = ts_bench_parse_long (optarg, 1, 10000000, &o->ids);
                      break;
            case 'p': o->prefix = optarg; break;
            case 'a': o->allocs = optarg; break;
            case 't': rc = ts_bench_parse_long (optarg, 1, 86400,
                                                &o->timeout_s);
                      break;
            case 'h': s_usage (stdout); exit (0);
            default:  s_usage (stderr); return TS_EINVAL;
        }
        if (rc) {
            fprintf (stderr, "dispatchload: bad value for --%s: '%s'\n",
                     longs [index].name, optarg);
            return TS_EINVAL;
        }
    }
    if (!o->broker || !o->control || optind < argc) {
        s_usage (stderr);
        return TS_EINVAL;
    }
    if (strlen (o->prefix) + 7 > TS_NAME_MAX
    ||  !ts_name_valid (o->prefix)) {
        fprintf (stderr, "dispatchload: --prefix: not the start of a "
                 "valid id: '%s'\n", o->prefix);
        return TS_EINVAL;
    }
    return 0;
}

//  Encodes run->out and sends it on sock, after an empty delimiter frame
//  if delimited (the control socket). Returns 0 or -1.
static int
s_send (s_run_t *run, void *sock, bool delimited)
{
    char *data = NULL;
    size_t size = 0;
    if (ts_msg_encode (run->out, &data, &size))
        return -1;
    int rc = 0;
    if (delimited && zmq_send (sock, "", 0, ZMQ_SNDMORE) == -1)
        rc = -1;
    if (rc == 0 && zmq_send (sock, data, size, 0) == -1)
        rc = -1;
    free (data);
    return rc;
}

//  Sends ready with credit from worker w. Returns 0 or -1.
static int
s_ready (s_run_t *run, long w, uint32_t credit)
{
    ts_msg_reset (run->out, TS_OP_READY);
    run->out->credit = credit;
    return s_send (run, run->workers [w], false);
}

//  Receives one reply on the control socket into run->in, waiting at
//  most timeout_ms (0: not at all). Returns 1, 0 if none came, -1 if it
//  was not a reply.
static int
s_control_reply (s_run_t *run, long timeout_ms)
{
    zmq_pollitem_t item = { run->control, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout_ms) <= 0)
        return 0;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    int rc = -1;
    if (zmq_msg_recv (&frame, run->control, 0) == 0     //  the delimiter
    &&  zmq_msg_more (&frame)
    &&  zmq_msg_recv (&frame, run->control, 0) >= 0) {
        char err [TS_ERRLEN];
        rc = ts_msg_decode_in (run->in, TS_DIALOGUE_REPLIES,
                               zmq_msg_data (&frame), zmq_msg_size (&frame),
                               S_MAX_MESSAGE, err) == 0? 1: -1;
        if (rc < 0)
            fprintf (stderr, "dispatchload: control reply: %s\n", err);
    }
    zmq_msg_close (&frame);
    return rc;
}

//  Asks the broker for its stats and waits up to timeout_ms for them in
//  run->in. Returns 0 or -1.
static int
s_stats (s_run_t *run, long timeout_ms)
{
    ts_msg_reset (run->out, TS_OP_STATS);
    if (s_send (run, run->control, true))
        return -1;
    //  A hydrate reply may come first: count it, then wait on.
    int64_t deadline = s_now_ms () + timeout_ms;
    for (;;) {
        long left = (long) (deadline - s_now_ms ());
        if (left < 0 || s_control_reply (run, left) != 1)
            return -1;
        if (run->in->has_stats)
            return 0;
        if (run->in->status == 202 && run->hydrates_due > 0)
            run->hydrates_due--;
        else {
            fprintf (stderr, "dispatchload: control answered %d %s\n",
                     run->in->status, run->in->error);
            return -1;
        }
    }
}

//  Queues ids [first, first + n) with one hydrate. Returns 0 or -1.
static int
s_hydrate (s_run_t *run, long first, long n)
{
    ts_msg_reset (run->out, TS_OP_HYDRATE);
    char id [TS_NAME_MAX + 1];
    for (long i = first; i < first + n; i++) {
        snprintf (id, sizeof id, "%s%06ld", run->opts->prefix, i);
        if (ts_strlist_append (run->out->ids, id))
            return -1;
    }
    if (s_send (run, run->control, true))
        return -1;
    run->hydrates_due++;
    return 0;
}

//  Takes every message waiting on worker w: acknowledges its jobs (one
//  ready for the slots, then a done per job) and drops heartbeats.
//  Returns 0 or -1 (a message the broker should not send).
static int
s_serve_worker (s_run_t *run, long w)
{
    void *sock = run->workers [w];
    //  The dones of this wake, encoded, sent after their ready.
    char *dones [1024];
    size_t sizes [1024];
    uint32_t freed = 0;
    int rc = 0;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (freed < 1024 && zmq_msg_recv (&frame, sock, ZMQ_DONTWAIT) >= 0) {
        char err [TS_ERRLEN];
        if (ts_msg_decode_in (run->in, TS_DIALOGUE_BROKER,
                              zmq_msg_data (&frame), zmq_msg_size (&frame),
                              S_MAX_MESSAGE, err)) {
            fprintf (stderr, "dispatchload: from the broker: %s\n", err);
            rc = -1;
            break;
        }
        if (run->in->op != TS_OP_JOB)
            continue;               //  a heartbeat
        ts_msg_reset (run->out, TS_OP_DONE);
        run->out->job = run->in->job;
        run->out->has_written = true;
        for (size_t i = 0; i < run->in->ids->n; i++)
            if (ts_strlist_append (run->out->written, run->in->ids->items [i]))
                rc = -1;
        if (rc || ts_msg_encode (run->out, &dones [freed], &sizes [freed])) {
            rc = -1;
            break;
        }
        freed++;
    }
    zmq_msg_close (&frame);
    if (freed && s_ready (run, w, freed))
        rc = -1;
    for (uint32_t i = 0; i < freed; i++) {
        if (rc == 0 && zmq_send (sock, dones [i], sizes [i], 0) == -1)
            rc = -1;
        free (dones [i]);
    }
    run->done_sent += freed;
    return rc;
}

static int
s_heartbeats (s_run_t *run)
{
    int64_t now = s_now_ms ();
    if (now < run->next_heartbeat_ms)
        return 0;
    run->next_heartbeat_ms = now + S_HEARTBEAT_MS;
    ts_msg_reset (run->out, TS_OP_HEARTBEAT);
    for (long w = 0; w < run->opts->workers; w++)
        if (s_send (run, run->workers [w], false))
            return -1;
    return 0;
}

//  The broker's allocation counters (bench/alloccount.c): by its main
//  thread, by the others. Returns 0 or -1.
static int
s_allocs (const char *path, uint64_t counts [2])
{
    FILE *file = fopen (path, "rb");
    size_t got = file? fread (counts, sizeof (uint64_t), 2, file): 0;
    if (file)
        fclose (file);
    if (got != 2)
        fprintf (stderr, "dispatchload: --allocs %s: cannot read the "
                 "counters\n", path);
    return got == 2? 0: -1;
}

//  Connects the workers and the control socket, introduces the workers
//  (with no credit if the run counts allocations: they give it once the
//  ids are queued) and waits until the broker lists them all. Returns
//  the broker's done total then, or -1.
static long
s_start (s_run_t *run)
{
    const s_opts_t *o = run->opts;
    int linger = 0;
    run->control = zmq_socket (run->ctx, ZMQ_DEALER);
    if (!run->control
    ||  zmq_setsockopt (run->control, ZMQ_LINGER, &linger, sizeof linger)
    ||  zmq_connect (run->control, o->control)) {
        fprintf (stderr, "dispatchload: --control %s: %s\n", o->control,
                 zmq_strerror (zmq_errno ()));
        return -1;
    }
    for (long w = 0; w < o->workers; w++) {
        run->workers [w] = zmq_socket (run->ctx, ZMQ_DEALER);
        if (!run->workers [w]
        ||  zmq_setsockopt (run->workers [w], ZMQ_LINGER, &linger,
                            sizeof linger)
        ||  zmq_connect (run->workers [w], o->broker)
        ||  s_ready (run, w, o->allocs? 0: (uint32_t) o->credit)) {
            fprintf (stderr, "dispatchload: --broker %s: %s\n", o->broker,
                     zmq_strerror (zmq_errno ()));
            return -1;
        }
    }
    run->next_heartbeat_ms = s_now_ms () + S_HEARTBEAT_MS;
    int64_t deadline = s_now_ms () + 10000;
    while (s_now_ms () < deadline) {
        if (s_stats (run, 5000)) {
            fprintf (stderr, "dispatchload: no stats from the broker at "
                     "%s\n", o->control);
            return -1;
        }
        if ((long) run->in->stats.workers_n >= o->workers)
            return (long) run->in->stats.done;
        if (s_heartbeats (run))
            return -1;
        zmq_poll (NULL, 0, 20);
    }
    fprintf (stderr, "dispatchload: the broker lists %zu of %ld workers "
             "after 10 s\n", run->in->stats.workers_n, o->workers);
    return -1;
}

//  Serves the workers until the broker has done every job or the time is
//  out. Returns 0 or -1.
static int
s_run (s_run_t *run, long base_done, int64_t deadline)
{
    const s_opts_t *o = run->opts;
    long n = o->workers;
    zmq_pollitem_t *items = calloc ((size_t) n + 1, sizeof *items);
    if (!items)
        return -1;
    for (long w = 0; w < n; w++)
        items [w] = (zmq_pollitem_t) { run->workers [w], 0, ZMQ_POLLIN, 0 };
    items [n] = (zmq_pollitem_t) { run->control, 0, ZMQ_POLLIN, 0 };
    int rc = -1;
    int64_t next_stats = 0;
    while (s_now_ms () < deadline) {
        bool all_sent = run->done_sent >= o->ids;
        long wait = all_sent? S_STATS_MS: S_HEARTBEAT_MS / 4;
        if (zmq_poll (items, (int) n + 1, wait) < 0)
            break;
        for (long w = 0; w < n; w++)
            if ((items [w].revents & ZMQ_POLLIN) && s_serve_worker (run, w))
                goto done;
        while (items [n].revents & ZMQ_POLLIN) {
            int got = s_control_reply (run, 0);
            if (got == 0)
                break;
            if (got < 0 || run->in->status != 202) {
                fprintf (stderr, "dispatchload: hydrate answered %d %s\n",
                         run->in->status, run->in->error);
                goto done;
            }
            run->hydrates_due--;
        }
        if (s_heartbeats (run))
            goto done;
        if (all_sent && s_now_ms () >= next_stats) {
            if (s_stats (run, 5000))
                goto done;
            run->done_counted = (long) run->in->stats.done - base_done;
            if (run->done_counted >= o->ids) {
                rc = 0;
                goto done;
            }
            next_stats = s_now_ms () + S_STATS_MS;
        }
    }
    fprintf (stderr, "dispatchload: %ld of %ld jobs acked by the loader "
             "within --timeout-s %ld\n", run->done_sent, o->ids,
             o->timeout_s);
done:
    free (items);
    return rc;
}

int
main (int argc, char **argv)
{
    s_opts_t o;
    if (s_parse_opts (argc, argv, &o))
        return 2;
    s_run_t run = { .opts = &o };
    run.ctx = zmq_ctx_new ();
    run.workers = calloc ((size_t) o.workers, sizeof (void *));
    run.in = ts_msg_new (TS_OP_REPLY);
    run.out = ts_msg_new (TS_OP_READY);
    if (!run.ctx || !run.workers || !run.in || !run.out)
        return 2;
    zmq_ctx_set (run.ctx, ZMQ_MAX_SOCKETS, S_MAX_WORKERS + 16);
    int status = 2;
    long base_done = s_start (&run);
    if (base_done >= 0) {
        int64_t start = s_now_ms ();
        status = 1;
        int rc = 0;
        for (long first = 0; rc == 0 && first < o.ids;
             first += S_HYDRATE_IDS)
            rc = s_hydrate (&run, first, o.ids - first < S_HYDRATE_IDS
                                         ? o.ids - first: S_HYDRATE_IDS);
        //  Counting allocations: every hydrate answered, then the credit.
        int64_t deadline = start + o.timeout_s * 1000;
        uint64_t before [2] = { 0, 0 }, after [2] = { 0, 0 };
        int64_t dispatch = start;
        while (rc == 0 && o.allocs && run.hydrates_due > 0) {
            int got = s_control_reply (&run, 1000);
            if (got < 0 || (got == 1 && run.in->status != 202)
            ||  s_now_ms () > deadline) {
                fprintf (stderr, "dispatchload: hydrate answered %d %s\n",
                         run.in->status, run.in->error);
                rc = -1;
            }
            if (got == 1)
                run.hydrates_due--;
            if (rc == 0 && s_heartbeats (&run))
                rc = -1;
        }
        if (rc == 0 && o.allocs) {
            rc = s_allocs (o.allocs, before);
            dispatch = s_now_ms ();
            for (long w = 0; rc == 0 && w < o.workers; w++)
                rc = s_ready (&run, w, (uint32_t) o.credit);
        }
        if (rc == 0 && s_run (&run, base_done, deadline) == 0)
            status = 0;
        int64_t end = s_now_ms ();
        if (status == 0 && o.allocs && s_allocs (o.allocs, after))
            status = 1;
        double seconds = (double) (end - start) / 1000;
        long done = run.done_counted < o.ids? run.done_counted: o.ids;
        printf ("dispatchload workers %ld credit %ld jobs %ld errors %ld "
                "seconds %.3f jobs_s %.1f", o.workers, o.credit, done,
                o.ids - done, seconds,
                seconds > 0? (double) done / seconds: 0.0);
        if (o.allocs) {
            double phase = (double) (end - dispatch) / 1000;
            printf (" dispatch_s %.3f dispatch_jobs_s %.1f allocs_main %.3f "
                    "allocs_io %.3f", phase,
                    phase > 0? (double) done / phase: 0.0,
                    done? (double) (after [0] - before [0]) / done: 0.0,
                    done? (double) (after [1] - before [1]) / done: 0.0);
        }
        printf ("\n");
    }
    //  Stop as a worker does (docs/protocol.md 5.19): no more jobs, none
    //  held; the broker then takes the goodbye for a stop.
    ts_msg_reset (run.out, TS_OP_RELEASE);
    for (long w = 0; w < o.workers; w++)
        if (run.workers [w]) {
            int linger = 1000;
            zmq_setsockopt (run.workers [w], ZMQ_LINGER, &linger,
                            sizeof linger);
            s_send (&run, run.workers [w], false);
            zmq_close (run.workers [w]);
        }
    if (run.control)
        zmq_close (run.control);
    ts_msg_destroy (&run.in);
    ts_msg_destroy (&run.out);
    free (run.workers);
    zmq_ctx_term (run.ctx);
    return status;
}
