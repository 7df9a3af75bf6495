/*  ts_broker_rate - one rate limit per upstream source, shared by every
    worker on every host. Part of ts_broker (ts_broker_internal.h).

    The broker is the one place that sees every job go out, whichever
    worker on whichever host fetches it, so the limit is kept here: each
    source has a token bucket (ts_ratelimit, configured by its
    upstream.rate_limit.* keys) and a job costs one token per id, each id
    being one first request to the upstream (the extra pages of a
    paginated answer are not counted). A dispatch leases with
    ts_queue_lease_filtered: a job whose source has no tokens left stays
    queued in its place, and jobs of other sources are leased past it (no
    head-of-line blocking across sources). Within a source, jobs go out
    in queue order: once one is held back, every later job of that source
    is too for the rest of the dispatch, so a small job never overtakes a
    large one for good. When every source is held back the walk stops.

    Pushback: a worker's failed report of kind http_429, or with a
    retry_after_ms, slows the job's whole source (ts_ratelimit_pushback:
    a pause until the Retry-After, capped by upstream.rate_limit.max_pause_s,
    or for a bare 429 a pause of 1 s doubling, with the rate halved per
    level and recovering), logged at INFO when a pause starts or grows.

    The buckets use the monotonic clock. Tokens taken for a job that is
    then not sent (the worker's pipe was full) are not given back: the
    limit errs on the slow side. A job of a source that is not configured
    (one removed from the config while its jobs waited) is not metered;
    the worker fails it.

    Every source of the config (ts_config_source_at: "default" for the
    upstream: shorthand) has its limit, from the upstream.rate_limit.*
    keys of its view; a job's source "" is the first source. */

#include "ts_broker_internal.h"
#include "ts_ratelimit.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>


//  One source's limit and its figures.
typedef struct {
    char     name [TS_NAME_MAX + 1];    //  the source's name
    ts_ratelimit_t *limit;          //  its bucket and pushback state
    bool     held;                  //  a job was held back in this pass
    double   held_cost;             //  the cost of the first one
    bool     was_held;              //  held back in the last pass
    uint64_t throttled_ms;          //  time held back, in all
    uint64_t pushbacks;             //  pushback reports, in all
    uint64_t dispatched;            //  ids let through, in all
} s_source_t;

struct _ts_broker_rate_t {
    s_source_t *sources;            //  one per source of the config
    size_t   n;                     //  sources in use
    size_t   cap;                   //  sources allocated
    size_t   held_n;                //  sources held back in this pass
    int64_t  now_ms;                //  monotonic time of this pass
    int64_t  pass_ms;               //  of the last pass, for throttled time
    int64_t  next_ms;               //  monotonic time a held source may
                                    //  go on; -1 if none waits
};

//  A full bucket for source name, from the upstream.rate_limit.* keys of
//  cfg (the source's own view of the config). NULL with err.
static ts_ratelimit_t *
s_limit_new (const char *name, const ts_config_t *cfg, int64_t now_ms,
             char *err)
{
    double rate = 0;
    char detail [TS_ERRLEN];
    if (ts_ratelimit_parse (ts_config_str (cfg, "upstream.rate_limit.rate"),
                            &rate, detail)) {
        ts_errf (err, "upstream.rate_limit.rate: %s", detail);
        return NULL;
    }
    int64_t burst = ts_config_int (cfg, "upstream.rate_limit.burst");
    int64_t pause_s = ts_config_int (cfg, "upstream.rate_limit.max_pause_s");
    ts_ratelimit_t *limit = ts_ratelimit_new (
        rate, burst > 0? (double) burst: ts_ratelimit_default_burst (rate),
        pause_s * 1000, now_ms);
    if (!limit)
        ts_errf (err, "out of memory");
    else
    if (rate > 0)
        ts_info ("source %s: at most %g requests/s, burst %g, pauses of "
                 "at most %" PRId64 " s", name, rate,
                 ts_ratelimit_burst (limit), pause_s);
    return limit;
}

//  Adds a source named name, metered by the keys of cfg.
static int
s_add (ts_broker_rate_t *self, const char *name, const ts_config_t *cfg,
       int64_t now_ms, char *err)
{
    assert (self->n < self->cap);
    s_source_t *src = &self->sources [self->n];
    memset (src, 0, sizeof *src);
    ts_strlcpy (src->name, name, sizeof src->name);
    if (!(src->limit = s_limit_new (name, cfg, now_ms, err)))
        return TS_ECONFIG;
    self->n++;
    return 0;
}

static void
s_free_sources (ts_broker_rate_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        ts_ratelimit_destroy (&self->sources [i].limit);
    free (self->sources);
    self->sources = NULL;
    self->n = self->cap = 0;
}

int
ts_broker_rate_open (ts_broker_t *self, char *err)
{
    self->rate = calloc (1, sizeof (ts_broker_rate_t));
    if (!self->rate) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    self->rate->next_ms = -1;
    self->rate->pass_ms = ts_mono_ms ();
    size_t n = ts_config_source_count (self->cfg);
    self->rate->sources = calloc (n, sizeof (s_source_t));
    if (!self->rate->sources) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    self->rate->cap = n;
    for (size_t i = 0; i < n; i++) {
        const ts_config_t *view = ts_config_source_at (self->cfg, i);
        int rc = s_add (self->rate, ts_config_source_name (view), view,
                        ts_mono_ms (), err);
        if (rc)
            return rc;
    }
    return 0;
}

void
ts_broker_rate_close (ts_broker_t *self)
{
    if (self->rate) {
        s_free_sources (self->rate);
        free (self->rate);
        self->rate = NULL;
    }
}

int
ts_broker_rate_apply (ts_broker_t *self)
{
    //  The figures stay; the buckets start again, full.
    ts_broker_rate_t *rate = self->rate;
    char err [TS_ERRLEN];
    int rc = 0;
    for (size_t i = 0; i < rate->n; i++) {
        s_source_t *src = &rate->sources [i];
        int at = ts_config_source_find (self->cfg, src->name);
        if (at < 0)
            continue;               //  sources change only on a restart
        ts_ratelimit_t *limit = s_limit_new (
            src->name, ts_config_source_at (self->cfg, (size_t) at),
            ts_mono_ms (), err);
        if (!limit) {
            ts_error ("reload: source %s: %s; keeping its old limit",
                      src->name, err);
            rc = TS_ECONFIG;
            continue;
        }
        ts_ratelimit_destroy (&src->limit);
        src->limit = limit;
    }
    return rc;
}

//  The source of a job; NULL if it is not configured.
static s_source_t *
s_source_of (ts_broker_rate_t *self, const char *name)
{
    if (!name || !*name)
        return self->n? &self->sources [0]: NULL;
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->sources [i].name, name) == 0)
            return &self->sources [i];
    return NULL;
}

void
ts_broker_rate_begin (ts_broker_t *self)
{
    ts_broker_rate_t *rate = self->rate;
    int64_t now = ts_mono_ms ();
    int64_t since = now > rate->pass_ms? now - rate->pass_ms: 0;
    for (size_t i = 0; i < rate->n; i++) {
        s_source_t *src = &rate->sources [i];
        if (src->was_held)
            src->throttled_ms += (uint64_t) since;
        src->was_held = src->held = false;
    }
    rate->pass_ms = rate->now_ms = now;
    rate->held_n = 0;
    rate->next_ms = -1;
}

ts_queue_accept_t
ts_broker_rate_accept (const ts_job_t *job, void *arg)
{
    ts_broker_rate_t *rate = arg;
    s_source_t *src = s_source_of (rate, job->source);
    if (!src)
        return TS_QUEUE_TAKE;
    if (!src->held) {
        double cost = (double) job->ids->n;
        if (ts_ratelimit_take (src->limit, cost, rate->now_ms)) {
            src->dispatched += job->ids->n;
            return TS_QUEUE_TAKE;
        }
        src->held = src->was_held = true;
        src->held_cost = cost;
        rate->held_n++;
        int64_t wait = ts_ratelimit_wait_ms (src->limit, cost, rate->now_ms);
        int64_t at = rate->now_ms + (wait > 0? wait: 1);
        if (rate->next_ms < 0 || at < rate->next_ms)
            rate->next_ms = at;
    }
    return rate->held_n == rate->n? TS_QUEUE_STOP: TS_QUEUE_SKIP;
}

int64_t
ts_broker_rate_next_ms (const ts_broker_t *self)
{
    return self->rate->next_ms;
}

void
ts_broker_rate_pushback (ts_broker_t *self, const char *source,
                         const ts_msg_t *msg)
{
    bool is_429 = strcmp (msg->kind, "http_429") == 0;
    if (!is_429 && msg->retry_after_ms == 0)
        return;
    s_source_t *src = s_source_of (self->rate, source);
    if (!src)
        return;
    src->pushbacks++;
    int64_t retry_after = msg->retry_after_ms > INT64_MAX / 2
                        ? INT64_MAX / 2: (int64_t) msg->retry_after_ms;
    int64_t now = ts_mono_ms ();
    bool was_paused = ts_ratelimit_paused (src->limit, now);
    int64_t pause = ts_ratelimit_pushback (src->limit, is_429, retry_after,
                                           now);
    if (pause <= 0)
        return;
    char why [64];
    if (retry_after > 0)
        ts_errf (why, "%sRetry-After %" PRId64 " ms", is_429? "HTTP 429, ": "",
                 retry_after);
    else
        ts_errf (why, "HTTP 429 without Retry-After");
    double in_force = ts_ratelimit_rate (src->limit, now + pause);
    char slower [64] = "";
    if (!retry_after && in_force > 0)
        ts_errf (slower, ", then %g requests/s", in_force);
    //  The jobs in flight answer alike: one line when a pause starts,
    //  the ones that only lengthen it at DEBUG.
    ts_log_kv (was_paused? TS_LOG_DEBUG: TS_LOG_INFO, TS_LOG_FIELDS (
               TS_LF_STR ("source", src->name),
               TS_LF_INT ("pause_ms", pause)),
               "source %s %s for %" PRId64 " ms by upstream pushback "
               "(%s)%s", src->name, was_paused? "pause lengthened":
               "paused", pause, why, slower);
}

void
ts_broker_rate_metrics (ts_broker_t *self, ts_prom_t *prom)
{
    ts_broker_rate_t *rate = self->rate;
    int64_t now = ts_mono_ms ();
    ts_prom_family (prom, "tscache_source_paused", "gauge",
                    "1 while the source is paused by upstream pushback "
                    "(429 or Retry-After)");
    for (size_t i = 0; i < rate->n; i++) {
        const char *labels [] = { "source", rate->sources [i].name };
        ts_prom_sample (prom, "tscache_source_paused", labels, 1,
                        ts_ratelimit_paused (rate->sources [i].limit, now));
    }
    ts_prom_family (prom, "tscache_source_throttled_seconds_total",
                    "counter", "time the source had jobs ready that its "
                    "rate limit or a pause held back");
    for (size_t i = 0; i < rate->n; i++) {
        const char *labels [] = { "source", rate->sources [i].name };
        ts_prom_sample (prom, "tscache_source_throttled_seconds_total",
                        labels, 1, rate->sources [i].throttled_ms / 1000.0);
    }
    ts_prom_family (prom, "tscache_source_pushbacks_total", "counter",
                    "failed reports of the source's jobs with HTTP 429 or a "
                    "Retry-After");
    for (size_t i = 0; i < rate->n; i++) {
        const char *labels [] = { "source", rate->sources [i].name };
        ts_prom_sample (prom, "tscache_source_pushbacks_total", labels, 1,
                        (double) rate->sources [i].pushbacks);
    }
    ts_prom_family (prom, "tscache_source_requests_dispatched_total",
                    "counter", "ids of the source's jobs handed to workers "
                    "(first requests to the upstream)");
    for (size_t i = 0; i < rate->n; i++) {
        const char *labels [] = { "source", rate->sources [i].name };
        ts_prom_sample (prom, "tscache_source_requests_dispatched_total",
                        labels, 1, (double) rate->sources [i].dispatched);
    }
    ts_prom_family (prom, "tscache_source_rate_limit", "gauge",
                    "requests per second the source may get now (its "
                    "upstream.rate_limit.rate, slowed after a 429); "
                    "absent if unlimited");
    for (size_t i = 0; i < rate->n; i++) {
        double in_force = ts_ratelimit_rate (rate->sources [i].limit, now);
        const char *labels [] = { "source", rate->sources [i].name };
        if (in_force > 0)
            ts_prom_sample (prom, "tscache_source_rate_limit", labels, 1,
                            in_force);
    }
}
