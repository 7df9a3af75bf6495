/*  tscache-broker - schedules fetch jobs and hands them to workers.

    Loads the config, builds the broker (ts_broker) and runs its loop until
    SIGINT or SIGTERM; SIGHUP reloads the config (log.*, the schedule
    keys take effect). See docs/architecture.md. */

#include "ts_curve.h"
#include "ts_daemon.h"
#include "ts_log.h"
#include "ts_broker.h"
#include "ts_store.h"
#include "ts_version.h"

//  CURVE: the broker's key pair and its allow-lists.
static int
s_check (const ts_config_t *cfg, char *err)
{
    static const char *const pairs [] = { "security.broker_cert", NULL };
    static const char *const dirs [] = { "security.workers_dir",
                                         "security.broker_clients_dir", NULL };
    return ts_curve_check (cfg, pairs, NULL, dirs, err);
}

//  The keys the broker reads, and those it changes while running.
static const char *const s_used [] = { "log.", "broker.", "store.",
                                       "security.", "upstream.schedule",
                                       "upstream.rate_limit.", NULL };
static const char *const s_live [] = { "broker.schedule",
    "broker.schedule_offset_s", "broker.schedule_jitter_s",
    "upstream.schedule", "upstream.schedule_offset_s",
    "upstream.schedule_jitter_s", "upstream.rate_limit.rate",
    "upstream.rate_limit.burst", "upstream.rate_limit.max_pause_s", NULL };

//  SIGHUP: what the reload changed, applied to the broker.
static void
s_apply (void *arg, const ts_strlist_t *applied)
{
    ts_broker_apply (arg, applied);
}

int
main (int argc, char *argv [])
{
    int code;
    ts_version_use (ts_store_libraries ());
    ts_config_t *cfg = ts_daemon_init (argc, argv, "tscache-broker",
        "Schedules fetch jobs for every registered id: each source on its\n"
        "upstream.schedule, or broker.schedule (UTC; cron, cron(...) and rate(...)\n"
        "as in EventBridge, @hourly, @daily ...), shifted by\n"
        "upstream.schedule_offset_s and a per-source spread of\n"
        "upstream.schedule_jitter_s (defaults: broker.schedule_offset_s, _jitter_s);\n"
        "takes hydrate, stats and DLQ requests on broker.control_bind and hands\n"
        "jobs to workers connected to broker.worker_bind. Jobs are kept in a\n"
        "durable queue (broker.queue_path) until a worker reports them.\n"
        "With security.mode curve (the default) every socket is a CURVE server\n"
        "with the key pair security.broker_cert; workers must be listed in\n"
        "security.workers_dir, gateways and CLIs in security.broker_clients_dir.\n"
        "Jobs of each upstream source go out no faster than its\n"
        "upstream.rate_limit.rate (and burst), counted over every worker; a\n"
        "worker's report of HTTP 429 or Retry-After pauses the whole source.\n"
        "SIGHUP reloads the config file: log.level, log.format, the\n"
        "schedule keys and upstream.rate_limit.* change at once; other\n"
        "changes need a restart.\n"
        "TSCACHE_TEST_SCHEDULE_SPEEDUP=N (2-3600), for tests only, runs the\n"
        "scheduler's clock N times as fast.",
        s_check, &code);
    if (!cfg)
        return code;
    char err [TS_ERRLEN] = "";
    ts_broker_t *broker = ts_broker_new (cfg, err);
    if (!broker) {
        ts_error ("cannot start: %s", err);
        ts_config_destroy (&cfg);
        return 1;
    }
    ts_daemon_on_reload (cfg, s_used, s_live, s_apply, broker);
    int rc = ts_broker_run (broker);
    ts_daemon_on_reload (NULL, NULL, NULL, NULL, NULL);
    ts_broker_destroy (&broker);
    ts_config_destroy (&cfg);
    ts_info ("stopped");
    return rc == 0? 0: 1;
}
