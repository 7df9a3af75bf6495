/*  ts_worker - loop and broker dialogue of tscache-worker. See ts_worker.h,
    docs/protocol.md for the messages and docs/architecture.md for the
    job flow.

    One module in several files (ts_worker_internal.h): this one builds
    the worker, has the sources' keys and headers read again on reload
    (ts_worker_keys.c) and runs
    the loop and the drain; ts_worker_broker.c speaks to the broker (the
    socket, ready, release, heartbeats, the reports remembered and
    resent); ts_worker_jobs.c runs the jobs (slots, fetches, the ingest's
    batch, failures, reports); ts_worker_request.c builds each id's
    request (URL, POST body, headers, the OAuth2 token). What follows describes the worker whole.

    Each job in flight holds one slot (ts_worker_slot_t). A fetch is
    tagged with its slot and the index of its id in the job, so a
    completion finds its job without a lookup. ZMQ_FD is edge-triggered:
    the socket is drained (while ZMQ_EVENTS says POLLIN) right before
    every wait, after anything that may have sent on it.

    Completed transfers are processed one at a time, and after each the
    socket is drained and the requests of new jobs are sent at once
    (ts_fetch_start): the broker answers a job's done and ready with the
    next job while the worker maps and stores the rest of a wave of
    completions, so fetching overlaps that work instead of waiting for
    the whole wave (docs/benchmarks.md).

    Failures are classified by ts_fetch_classify (retry or not, the
    upstream's Retry-After) and folded per job; "failed" carries the
    verdict so the broker can back off, retry or dead-letter. Both "done"
    and "failed" list the ids the job stored ("written"), from which the
    broker publishes change notices to gateways; a "done" resent after a
    reconnect lists none, which means every id of the job.

    Each source's upstream API key is read at start (again on reload)
    and lives in its context (wiped on destroy) and in its headers; ts_url
    puts it where {api_key} is written; every request of the source goes
    with its headers and none of another's (ts_worker_keys.c). No key
    ever leaves in text: URLs and headers are logged only in their
    display form (ts_redact_url, ts_redact_header, every source's key
    scrubbed), and every failure detail - on its way to the log and to
    the broker, which keeps it in the DLQ - passes s_slot_fail
    (ts_worker_jobs.c), which scrubs every source's key from it whoever
    wrote it (libcurl, the upstream's body, the map, the store).

    A fetched document goes through the ingest path (ts_ingest: map by
    the spec built from upstream.format.*, split at now, write; a job
    with a window of its own, a backfill chunk, writes history only and
    leaves the id's forecast as it is: docs/protocol.md 5.8), in
    batches (group commit): the completions in hand when the worker wakes
    are mapped and split one by one into the batch, then stored with one
    store transaction - one sync to disk, which is what bounds a store's
    writes per second - and only then reported. If the batch fails, its
    documents are written one at a time, so one that cannot be stored
    fails only its own job. At most BATCH_MAX documents wait in a batch,
    so a long wave of completions is still reported in steps.

    A document the mapping cannot read fails its id; whether the job is
    retried depends on why (ts_ingest_report): a body that is not JSON
    may have been cut or garbled on the way and is retried, but valid
    JSON of the wrong shape (a missing path, a bad or implausible time)
    reads the same on every fetch, so that failure is final and the job
    goes to the DLQ after one receive, with the mapping's detail as its
    error. Points a mapping dropped (upstream.format.out_of_bounds:
    drop_point) are logged as a warning with the first of them.

    Writes are idempotent, so a job run twice (a retry, a lease that
    expired while the first run was still going) leaves what one run
    leaves: history is an upsert keyed by (id, measure, time) and the
    forecast of an id is replaced as a whole. Both writes of an id are one
    store transaction (ts_store_write): a fetched document lands whole or
    not at all, so a run that dies part way leaves each id either as the
    previous run left it or fully updated, and the job, not reported
    done, runs again.

    Reports sent while the broker is down are lost with the socket when
    the worker reconnects, and a report sent just before the broker dies
    is lost with it. So the worker remembers each "done" until a
    heartbeat of the same broker process (its boot id) arrives well after
    it (REPORT_CONFIRM_MS), and sends the remembered ones again after a
    reconnect, or as soon as a heartbeat shows another broker process (one
    restarted quickly enough that the worker never noticed silence: libzmq
    reconnected underneath, and that broker's heartbeats must not confirm
    reports its predecessor never read). A restarted broker then acks
    those jobs at once instead of fetching them again when their shortened
    leases run out. A duplicate "done" is harmless (acks are by
    job id; unknown ids are ignored). "failed" is not resent: a lost one
    only means the lease runs out and the job is retried, as it would be.
    The broker ignores reports from a peer that has not sent "ready", so
    every connection starts with one, with credit 0 if every slot is
    busy: it introduces the worker before the resent reports.

    SIGTERM (or SIGINT) drains: the worker tells the broker it takes no
    more jobs ("release" of no job: credit 0), hands back at once any job
    that still arrives, lets the jobs in flight finish for up to
    worker.drain_timeout_ms, then hands back the unfinished ones
    ("release" listing them: queued again at once, not after the
    visibility timeout) and returns. Meanwhile a slot freed is given back
    with ready credit 0 (the report still needs a broker that knows us).
    A second signal ends the drain at once; the jobs still leased then
    come back when their leases run out, as after a crash. */

#include "ts_worker_internal.h"
#include "ts_daemon.h"
#include "ts_log.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#define BROKER_DEAD_MS  5000        //  silence before reconnecting
#define EXPIRE_MS       60000       //  forecast expiry sweep period
#define BATCH_MAX       12          //  documents per store transaction

//  ---------------------------------------------------------------------
//  Loop

static void
s_timers (ts_worker_t *self)
{
    int64_t now = ts_mono_ms ();
    if (now - self->last_heard_ms > BROKER_DEAD_MS) {
        ts_warn ("broker %s silent for %d s: reconnecting", self->endpoint,
                 BROKER_DEAD_MS / 1000);
        char err [TS_ERRLEN];
        if (ts_worker_broker_connect (self, err) != 0)
            ts_error ("%s", err);
        else
            ts_worker_broker_resend (self);
        self->next_beat_ms = now;
    }
    if (now >= self->next_beat_ms && self->dealer) {
        ts_msg_reset (self->out, TS_OP_HEARTBEAT);
        ts_worker_broker_send (self, self->out);
        self->next_beat_ms = now + HEARTBEAT_MS;
        ts_worker_metrics_publish (self->metrics, self->store);
    }
    //  A forecast backend that deletes expired points itself (DynamoDB's
    //  TTL) is not swept: its sweep reads the whole table.
    if (now >= self->next_expire_ms
    &&  (ts_store_caps (self->store) & TS_STORE_CAP_TTL))
        self->next_expire_ms = now + EXPIRE_MS;
    if (now >= self->next_tally_ms)
        self->next_tally_ms = ts_tally_tick (&self->tally, now);
    ts_daemon_tick ();
    if (now >= self->next_expire_ms) {
        size_t removed = 0;
        char err [TS_ERRLEN];
        if (ts_store_expire (self->store, ts_now_ms (), &removed, err) != 0)
            ts_warn ("forecast expiry failed: %s", err);
        else
        if (removed)
            ts_info ("expired %zu forecast points", removed);
        self->next_expire_ms = now + EXPIRE_MS;
    }
}

static int
s_timeout (ts_worker_t *self)
{
    int64_t now = ts_mono_ms ();
    int64_t next = self->next_beat_ms;
    if (self->last_heard_ms + BROKER_DEAD_MS + 1 < next)
        next = self->last_heard_ms + BROKER_DEAD_MS + 1;
    if (self->next_expire_ms < next)
        next = self->next_expire_ms;
    if (self->next_tally_ms < next)
        next = self->next_tally_ms;
    if (self->draining && self->drain_until_ms < next)
        next = self->drain_until_ms;
    int64_t wait = next - now;
    return wait < 0? 0: wait > HEARTBEAT_MS? HEARTBEAT_MS: (int) wait;
}

//  Processes the completed transfers one at a time into the batch,
//  which is stored when full and when no completion is left. After each,
//  the broker's socket is read - a finished job has just sent done and
//  ready, so the next jobs may be waiting - and the requests of new jobs
//  go out at once: the next fetches overlap the rest of a wave of
//  completions instead of waiting for all of it. Timers run in between,
//  so a long stream of completions does not hold back heartbeats.
//  Returns 0, or -1 if libcurl failed.
static int
s_completions (ts_worker_t *self)
{
    ts_fetch_result_t res;
    int rc = 0;
    while (rc == 0 && ts_fetch_next (self->fetch, &res)) {
        ts_worker_job_fetched (self, &res);
        if (self->dealer)
            ts_worker_broker_read (self);
        char err [TS_ERRLEN];
        if (ts_fetch_start (self->fetch, err) != 0) {
            ts_error ("%s", err);
            rc = -1;
        }
        s_timers (self);
    }
    ts_worker_job_flush (self);
    return rc;
}

//  One turn of the loop: read the broker, wait for sockets or a timer,
//  process completions, run timers. Returns 0, or -1 if libcurl failed.
static int
s_turn (ts_worker_t *self)
{
    if (self->dealer)
        ts_worker_broker_read (self);
    char err [TS_ERRLEN];
    int fd = self->dealer? zsock_fd (self->dealer): -1;
    if (ts_fetch_wait (self->fetch, fd, s_timeout (self), err) != 0) {
        ts_error ("%s", err);
        return -1;
    }
    if (s_completions (self) != 0)
        return -1;
    s_timers (self);
    return 0;
}

//  The first signal: takes no more jobs, lets those in flight finish
//  until worker.drain_timeout_ms, hands back the rest. A second signal
//  cuts it short. Returns 0, or -1 if libcurl failed.
static int
s_stop (ts_worker_t *self)
{
    zsys_interrupted = 0;           //  so that a second signal shows
    self->draining = true;
    self->drain_until_ms = ts_mono_ms () + self->drain_ms;
    ts_info ("worker draining: %zu jobs in flight, handed back after %"
             PRId64 " ms if not done", self->busy, self->drain_ms);
    if (self->dealer)
        ts_worker_broker_release (self, NULL, 0);
    int rc = 0;
    while (rc == 0 && self->busy > 0 && !zsys_interrupted
       &&  ts_mono_ms () < self->drain_until_ms)
        rc = s_turn (self);
    if (zsys_interrupted) {
        ts_info ("worker interrupted again: %zu jobs in flight abandoned "
                 "(back when their leases run out)", self->busy);
        return rc;
    }
    uint64_t *jobs = calloc (self->busy + 1, sizeof (uint64_t));
    size_t n = 0;
    for (size_t i = 0; jobs && i < self->concurrency; i++)
        if (self->slots [i].used)
            jobs [n++] = self->slots [i].job;
    if (self->dealer && jobs) {
        ts_worker_broker_release (self, jobs, n);
        //  The release and the last reports must leave before we exit.
        zsock_set_linger (self->dealer, 1000);
    }
    else
    if (self->busy > 0)
        ts_warn ("cannot hand back %zu jobs: they come back when their "
                 "leases run out", self->busy);
    ts_info ("worker drained: %zu jobs handed back", jobs? n: 0);
    free (jobs);
    return rc;
}

int
ts_worker_run (ts_worker_t *self)
{
    assert (self);
    ts_info ("worker up: broker %s, %zu slots, %zu source%s",
             self->endpoint, self->concurrency, self->nsources,
             self->nsources == 1? "": "s");
    for (size_t i = 0; i < self->nsources; i++) {
        char shown [URL_MAX];
        ts_info ("source %s: %s, %s", self->sources [i].name,
                 ts_worker_keys_url (self, &self->sources [i],
                                     self->sources [i].url_tmpl, shown,
                                     sizeof shown),
                 ts_config_str (self->sources [i].cfg,
                                "upstream.format.layout"));
    }
    int rc = 0;
    while (rc == 0 && !zsys_interrupted)
        rc = s_turn (self);
    if (rc == 0)
        rc = s_stop (self);
    return rc;
}

//  ---------------------------------------------------------------------
//  Construction

int
ts_worker_apply (ts_worker_t *self, const ts_strlist_t *applied)
{
    assert (self);
    (void) applied;
    //  The keys and the OAuth2 clients are read again whatever changed:
    //  their files may have.
    ts_worker_request_reload (self);
    return ts_worker_keys_reload (self);
}

ts_worker_t *
ts_worker_new (const ts_config_t *cfg, char *err)
{
    assert (cfg);
    ts_worker_t *self = calloc (1, sizeof (ts_worker_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->cfg = cfg;
    self->endpoint = ts_config_str (cfg, "worker.broker_endpoint");
    self->concurrency = (size_t) ts_config_int (cfg, "worker.concurrency");
    self->drain_ms = ts_config_int (cfg, "worker.drain_timeout_ms");
    //  The fetcher's limits: the first source's, which every source
    //  shares (ts_worker_source.c); headers and keys are each source's
    //  (ts_worker_keys.c).
    cfg = ts_config_source_at (cfg, 0);
    ts_curve_t *security = ts_curve_new (cfg, "tscache-worker", err);
    int rc = security? ts_curve_client (security, "security.worker_cert",
                                        "security.broker_cert", &self->curve,
                                        err)
                     : TS_ENOMEM;
    ts_curve_destroy (&security);
    if (rc)
        goto fail;
    ts_fetch_opts_t opts = {
        .max_active = self->concurrency,
        .connect_timeout_ms = (long) ts_config_int (cfg,
                                                    "upstream.connect_timeout_ms"),
        .timeout_ms = (long) ts_config_int (cfg, "upstream.timeout_ms"),
        .max_body_bytes = (size_t) ts_config_int (cfg, "upstream.max_body_bytes")
    };
    self->fetch = ts_fetch_new (&opts, err);
    self->fetch_opts = opts;
    if (!self->fetch)
        goto fail;
    if (!(self->store = ts_store_new (cfg, err))
    ||  !(self->metrics = ts_worker_metrics_new (cfg, err)))
        goto fail;
    self->batch_max = self->concurrency < BATCH_MAX? self->concurrency
                                                   : BATCH_MAX;
    if (ts_worker_sources_new (self, cfg, err) != 0)
        goto fail;
    self->slots = calloc (self->concurrency, sizeof (ts_worker_slot_t));
    self->reports = calloc (REPORTS_MAX, sizeof (ts_worker_report_t));
    self->msg = ts_msg_new (TS_OP_REPLY);
    self->out = ts_msg_new (TS_OP_REPLY);
    self->batch = calloc (self->batch_max, sizeof (ts_worker_pending_t));
    bool ok = self->slots && self->reports && self->msg && self->out
           && self->batch;
    for (size_t i = 0; ok && i < self->concurrency; i++)
        ok = (self->slots [i].ids = ts_strlist_new ()) != NULL
          && (self->slots [i].written = ts_strlist_new ()) != NULL;
    if (!ok) {
        ts_errf (err, "out of memory");
        goto fail;
    }
    if (ts_worker_broker_connect (self, err) != 0)
        goto fail;
    int64_t now = ts_mono_ms ();
    self->next_beat_ms = now + HEARTBEAT_MS;
    self->next_expire_ms = now + EXPIRE_MS;
    ts_tally_start (&self->tally, now);
    self->next_tally_ms = now + TS_TALLY_PERIOD_MS;
    return self;
fail:
    ts_worker_destroy (&self);
    return NULL;
}

void
ts_worker_destroy (ts_worker_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_worker_t *self = *self_p;
        ts_curve_watch_destroy (&self->watch);
        zsock_destroy (&self->dealer);
        ts_curve_id_destroy (&self->curve);
        ts_fetch_destroy (&self->fetch);
        for (size_t i = 0; self->slots && i < self->concurrency; i++)
        {
            ts_worker_pages_clear (&self->slots [i]);
            ts_strlist_destroy (&self->slots [i].ids);
            ts_strlist_destroy (&self->slots [i].written);
        }
        free (self->slots);
        free (self->reports);
        ts_worker_sources_destroy (self);
        ts_worker_metrics_destroy (&self->metrics);
        if (self->store)
            ts_worker_status_flush (self);
        ts_store_destroy (&self->store);
        ts_msg_destroy (&self->msg);
        ts_msg_destroy (&self->out);
        free (self->batch);
        free (self->marks);
        free (self);
        *self_p = NULL;
    }
}
