/*  tscache-worker - fetches the upstream series of the broker's jobs and
    writes them to the store.

    Loads the config, builds the worker (ts_worker) and runs its loop until
    SIGINT or SIGTERM. See docs/architecture.md. */

#include "ts_common.h"
#include "ts_config.h"
#include "ts_log.h"
#include "ts_worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_name = "tscache-worker";

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: %s [-c FILE] [--check-config] [--help] [-v]\n"
        "  -c FILE          config file (default: $TSCACHE_CONFIG, else\n"
        "                   built-in defaults and TSCACHE_* variables)\n"
        "  --check-config   load and validate the config, print FILE: ok\n"
        "  -v               log at debug level, whatever log.level says\n"
        "  --help           this text\n", s_name);
}

int
main (int argc, char *argv [])
{
    const char *path = NULL;
    bool check = false;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "-c") == 0 && i + 1 < argc)
            path = argv [++i];
        else
        if (strcmp (argv [i], "--check-config") == 0)
            check = true;
        else
        if (strcmp (argv [i], "-v") == 0)
            verbose = true;
        else
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            s_usage (stdout);
            return 0;
        }
        else {
            fprintf (stderr, "%s: bad argument '%s'\n", s_name, argv [i]);
            s_usage (stderr);
            return 2;
        }
    }
    if (!path) {
        const char *env = getenv ("TSCACHE_CONFIG");
        if (env && *env)
            path = env;
    }
    char err [TS_ERRLEN];
    ts_config_t *cfg = ts_config_load (path, err);
    if (!cfg) {
        fprintf (stderr, "%s: %s\n", s_name, err);
        return 2;
    }
    if (check) {
        printf ("%s: ok\n", ts_config_source (cfg));
        ts_config_destroy (&cfg);
        return 0;
    }
    ts_log_set_name (s_name);
    int level = ts_log_level_parse (ts_config_str (cfg, "log.level"));
    ts_log_set_level (verbose? TS_LOG_DEBUG: level < 0? TS_LOG_INFO: level);

    ts_worker_t *worker = ts_worker_new (cfg, err);
    if (!worker) {
        ts_error ("cannot start: %s", err);
        ts_config_destroy (&cfg);
        return 1;
    }
    int rc = ts_worker_run (worker);
    ts_worker_destroy (&worker);
    ts_config_destroy (&cfg);
    ts_info ("stopped");
    return rc == 0? 0: 1;
}
