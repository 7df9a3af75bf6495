/*  ts_daemon - the command line every tscache daemon shares.
    See ts_daemon.h. */

#include "ts_daemon.h"
#include "ts_log.h"
#include "ts_version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage (FILE *out, const char *name, const char *about)
{
    fprintf (out, "Usage: %s [-c FILE] [--check-config] [--print-config] "
             "[-v] [--help] [--version]\n\n", name);
    if (about)
        fprintf (out, "%s\n\n", about);
    fprintf (out,
        "  -c FILE         config file (default: $TSCACHE_CONFIG, else\n"
        "                  built-in defaults and TSCACHE_* variables);\n"
        "                  every key is in tscache.example.yaml (config/\n"
        "                  of the source; share/doc/tscache/examples of an\n"
        "                  install)\n"
        "  --check-config  load and validate the config, check what this\n"
        "                  daemon needs at start (its secrets), then exit\n"
        "  --print-config  print every key's effective value (the file,\n"
        "                  then TSCACHE_* overrides), then exit\n"
        "  -v              log at debug level, whatever log.level says\n"
        "  --help, -h      show this help\n"
        "  --version       show the version of tscache and its libraries\n");
}

//  The rest of --help (not repeated after a usage error): what a man
//  page has besides options.
static void
s_help_more (FILE *out)
{
    fprintf (out,
        "\n"
        "Exit status:\n"
        "  0  stopped by SIGINT or SIGTERM; or after --help, --version,\n"
        "     --print-config or a good --check-config\n"
        "  1  could not start, or failed while running (the reason is logged)\n"
        "  2  usage error or bad config (the reason is on stderr)\n"
        "\n"
        "Environment:\n"
        "  TSCACHE_CONFIG  the config file when -c is not given\n"
        "  TSCACHE_KEY     overrides a config key: TSCACHE_ + the key upper\n"
        "                  case with '.' as '_' (TSCACHE_GATEWAY_HTTP_PORT=9090\n"
        "                  sets gateway.http_port); lists comma-separated\n"
        "  AWS_*           credentials and region of the DynamoDB and\n"
        "                  Timestream backends, never logged: the usual AWS\n"
        "                  chain of AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
        "                  AWS_SESSION_TOKEN, then AWS_PROFILE and ~/.aws\n"
        "                  files, then AWS_CONTAINER_CREDENTIALS_RELATIVE_URI\n"
        "                  or _FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN\n"
        "                  or _TOKEN_FILE, then EC2 instance metadata; region\n"
        "                  from AWS_REGION or AWS_DEFAULT_REGION unless set\n"
        "                  in the config\n"
        "\n"
        "Files:\n"
        "  /etc/tscache/tscache.yaml  the config of a host install (make\n"
        "                             install); its systemd units set\n"
        "                             TSCACHE_CONFIG to it\n"
        "  /etc/tscache/env           secrets of a host install (mode 0600),\n"
        "                             read by the systemd units\n"
        "  /var/lib/tscache           data of a host install (store.lmdb.path,\n"
        "                             broker.queue_path)\n");
}

ts_config_t *
ts_daemon_init (int argc, char *argv [], const char *name,
                const char *about, ts_daemon_check_fn *check, int *exit_code)
{
    ts_log_set_name (name);
    const char *path = NULL;
    bool check_only = false;
    bool print = false;
    bool verbose = false;
    *exit_code = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "-c") == 0 && i + 1 < argc)
            path = argv [++i];
        else
        if (strcmp (argv [i], "--check-config") == 0)
            check_only = true;
        else
        if (strcmp (argv [i], "--print-config") == 0)
            print = true;
        else
        if (strcmp (argv [i], "-v") == 0)
            verbose = true;
        else
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            s_usage (stdout, name, about);
            s_help_more (stdout);
            *exit_code = 0;
            return NULL;
        }
        else
        if (strcmp (argv [i], "--version") == 0) {
            ts_version_print (stdout, name);
            *exit_code = 0;
            return NULL;
        }
        else {
            if (strcmp (argv [i], "-c") == 0)
                fprintf (stderr, "%s: -c needs a FILE\n", name);
            else
                fprintf (stderr, "%s: unknown argument '%s'\n", name, argv [i]);
            s_usage (stderr, name, about);
            return NULL;
        }
    }
    const char *env = getenv ("TSCACHE_CONFIG");
    if (!path && env && *env)
        path = env;

    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load (path, err);
    if (!cfg) {
        fprintf (stderr, "%s: %s\n", name, err);
        return NULL;
    }
    if (print) {
        ts_config_print (cfg);
        ts_config_destroy (&cfg);
        *exit_code = 0;
        return NULL;
    }
    if (check && check (cfg, err)) {
        fprintf (stderr, "%s: %s\n", name, err);
        ts_config_destroy (&cfg);
        return NULL;
    }
    const ts_strlist_t *warnings = ts_config_warnings (cfg);
    if (check_only) {
        for (size_t i = 0; i < warnings->n; i++)
            fprintf (stderr, "%s: warning: %s\n", name, warnings->items [i]);
        printf ("%s: ok\n", ts_config_source (cfg));
        ts_config_destroy (&cfg);
        *exit_code = 0;
        return NULL;
    }
    int level = ts_log_level_parse (ts_config_str (cfg, "log.level"));
    ts_log_set_level (verbose? TS_LOG_DEBUG: level >= 0? level: TS_LOG_INFO);
    for (size_t i = 0; i < warnings->n; i++)
        ts_warn ("%s", warnings->items [i]);
    *exit_code = 0;
    return cfg;
}
