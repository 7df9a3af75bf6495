/*  ts_prom_stats - the broker's stats as Prometheus families (see
    ts_prom_stats.h). Names follow Prometheus conventions: the tscache_
    prefix, _total on counters, base units (seconds). Workers are labelled
    by their routing id in hex, as stats names them: as many series as
    workers connect, and a worker that reconnects is a new series. */

#include "ts_prom_stats.h"
#include "ts_version.h"

#include <assert.h>
#include <stdio.h>

//  The staleness sweep's figures: gauges, since the histogram is of one
//  sweep (it goes down as well as up), not a count since start.
static void
s_staleness (ts_prom_t *prom, const ts_staleness_t *st)
{
    ts_prom_family (prom, "tscache_ids_registered", "gauge",
                    "Registered ids, as of the last staleness sweep.");
    ts_prom_sample (prom, "tscache_ids_registered", NULL, 0,
                    (double) st->registered);
    ts_prom_family (prom, "tscache_ids_never_fetched", "gauge",
                    "Registered ids no job has fetched, as of the last "
                    "staleness sweep.");
    ts_prom_sample (prom, "tscache_ids_never_fetched", NULL, 0,
                    (double) st->never);
    ts_prom_family (prom, "tscache_ids_by_staleness", "gauge",
                    "Registered ids last fetched at most max_age_seconds "
                    "before the last staleness sweep (cumulative; +Inf: "
                    "every id fetched once at least).");
    for (size_t i = 0; i <= st->n; i++) {
        char bound [32] = "+Inf";
        if (i < st->n)
            snprintf (bound, sizeof bound, "%g",
                      (double) st->le_ms [i] / 1000);
        const char *labels [] = { "max_age_seconds", bound };
        ts_prom_sample (prom, "tscache_ids_by_staleness", labels, 1,
                        (double) (i < st->n? st->counts [i]
                                           : st->registered - st->never));
    }
    ts_prom_family (prom, "tscache_id_staleness_max_seconds", "gauge",
                    "Time since the last fetch of the stalest fetched id, "
                    "at the last staleness sweep.");
    ts_prom_sample (prom, "tscache_id_staleness_max_seconds", NULL, 0,
                    (double) st->max_age_ms / 1000);
    ts_prom_family (prom, "tscache_staleness_sweep_timestamp_seconds",
                    "gauge", "When the last staleness sweep ended (Unix "
                    "time).");
    ts_prom_sample (prom, "tscache_staleness_sweep_timestamp_seconds", NULL,
                    0, (double) st->at_ms / 1000);
}

void
ts_prom_stats (ts_prom_t *prom, const ts_stats_t *stats)
{
    assert (prom);
    ts_prom_family (prom, "tscache_broker_up", "gauge",
                    "1 if the broker answered this scrape's stats request.");
    ts_prom_sample (prom, "tscache_broker_up", NULL, 0, stats? 1: 0);
    if (!stats)
        return;
    ts_prom_family (prom, "tscache_jobs", "gauge",
                    "Jobs in the broker's queue by state (dead: the "
                    "dead-letter queue).");
    const char *states [] = { "queued", "delayed", "leased", "dead" };
    uint64_t counts [] = { stats->queued, stats->delayed, stats->leased,
                           stats->dlq };
    for (size_t i = 0; i < 4; i++) {
        const char *labels [] = { "state", states [i] };
        ts_prom_sample (prom, "tscache_jobs", labels, 1, (double) counts [i]);
    }
    ts_prom_family (prom, "tscache_oldest_job_age_seconds", "gauge",
                    "Age of the oldest queued, delayed or leased job; 0 if "
                    "none.");
    ts_prom_sample (prom, "tscache_oldest_job_age_seconds", NULL, 0,
                    (double) stats->oldest_age_ms / 1000);
    struct { const char *name, *help; uint64_t value; } totals [] = {
        { "tscache_jobs_done_total",
          "Jobs workers reported done, since the queue was created.",
          stats->done },
        { "tscache_job_failures_total",
          "Job failures: failed reports, expired leases, jobs of lost "
          "workers.", stats->failed },
        { "tscache_jobs_retried_total",
          "Failed jobs put back to be retried.", stats->retried },
        { "tscache_jobs_dead_lettered_total",
          "Jobs moved to the dead-letter queue.", stats->dead_lettered },
    };
    for (size_t i = 0; i < sizeof totals / sizeof totals [0]; i++) {
        ts_prom_family (prom, totals [i].name, "counter", totals [i].help);
        ts_prom_sample (prom, totals [i].name, NULL, 0,
                        (double) totals [i].value);
    }
    ts_prom_family (prom, "tscache_workers", "gauge",
                    "Workers connected to the broker.");
    ts_prom_sample (prom, "tscache_workers", NULL, 0,
                    (double) stats->workers_n);
    ts_prom_family (prom, "tscache_worker_credit", "gauge",
                    "Jobs a worker asked for and was not sent yet.");
    for (size_t i = 0; i < stats->workers_n; i++) {
        const char *labels [] = { "worker", stats->workers [i].name };
        ts_prom_sample (prom, "tscache_worker_credit", labels, 1,
                        stats->workers [i].credit);
    }
    ts_prom_family (prom, "tscache_worker_leased_jobs", "gauge",
                    "Jobs a worker holds now.");
    for (size_t i = 0; i < stats->workers_n; i++) {
        const char *labels [] = { "worker", stats->workers [i].name };
        ts_prom_sample (prom, "tscache_worker_leased_jobs", labels, 1,
                        stats->workers [i].leased);
    }
    if (stats->has_staleness)
        s_staleness (prom, &stats->staleness);
}

void
ts_prom_build_info (ts_prom_t *prom, const char *process)
{
    ts_prom_family (prom, "tscache_build_info", "gauge",
                    "Always 1: the process and its tscache version.");
    const char *labels [] = { "process", process, "version", ts_version () };
    ts_prom_sample (prom, "tscache_build_info", labels, 2, 1);
}
