/*  tscache-broker - schedules fetch jobs and hands them to workers.

    Loads the config, builds the broker (ts_broker) and runs its loop until
    SIGINT or SIGTERM. See docs/architecture.md. */

#include "ts_daemon.h"
#include "ts_log.h"
#include "ts_broker.h"

int
main (int argc, char *argv [])
{
    int code;
    ts_config_t *cfg = ts_daemon_init (argc, argv, "tscache-broker",
        "Schedules fetch jobs (broker.schedule, UTC cron) for every registered id,\n"
        "takes hydrate requests on broker.control_bind and hands jobs to workers\n"
        "connected to broker.worker_bind, tracking each until it is reported.", &code);
    if (!cfg)
        return code;
    char err [TS_ERRLEN] = "";
    ts_broker_t *broker = ts_broker_new (cfg, err);
    if (!broker) {
        ts_error ("cannot start: %s", err);
        ts_config_destroy (&cfg);
        return 1;
    }
    int rc = ts_broker_run (broker);
    ts_broker_destroy (&broker);
    ts_config_destroy (&cfg);
    ts_info ("stopped");
    return rc == 0? 0: 1;
}
