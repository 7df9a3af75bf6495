/*  ts_daemon - the command line every tscache daemon shares.
    See ts_daemon.h. */

#include "ts_daemon.h"
#include "ts_log.h"
#include "ts_version.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SHOW_MAX  512             //  longest value shown by a reload

static const char *s_path;          //  the config file, NULL if none
static bool s_verbose;              //  -v: debug, whatever log.level says
static atomic_bool s_reload;        //  SIGHUP seen, reload not done yet
static struct {
    ts_config_t *cfg;               //  the running config, NULL: none
    const char *const *used;        //  key prefixes the daemon reads
    const char *const *live;        //  keys it changes while running
    ts_daemon_apply_fn *apply;      //  main's, with its arg
    void *arg;
} s_on_reload;

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

//  Applies log.level (unless -v) and log.format of cfg.
static void
s_apply_log (const ts_config_t *cfg)
{
    int level = ts_log_level_parse (ts_config_str (cfg, "log.level"));
    ts_log_set_level (s_verbose? TS_LOG_DEBUG: level >= 0? level: TS_LOG_INFO);
    int format = ts_log_format_parse (ts_config_str (cfg, "log.format"));
    ts_log_set_format (format >= 0? format: TS_LOG_TEXT);
}

//  The thread that takes SIGHUP, and the flag that tells it to end.
static pthread_t   s_hup_thread;
static bool        s_hup_running;
static atomic_bool s_hup_stop;

//  The one thread that takes SIGHUP: it raises the flag, nothing more.
static void *
s_sighup_thread (void *arg)
{
    sigset_t *set = arg;
    int sig;
    while (sigwait (set, &sig) == 0 && !atomic_load (&s_hup_stop))
        atomic_store (&s_reload, true);
    return NULL;
}

//  At exit: ends the SIGHUP thread and joins it, so that nothing of it
//  is left (memcheck counts a thread still waiting as memory lost).
static void
s_sighup_stop (void)
{
    if (!s_hup_running)
        return;
    atomic_store (&s_hup_stop, true);
    pthread_kill (s_hup_thread, SIGHUP);
    pthread_join (s_hup_thread, NULL);
    s_hup_running = false;
}

//  Blocks SIGHUP in this thread, and so in every thread started after,
//  and starts the thread that waits for it.
static void
s_sighup_start (void)
{
    static sigset_t set;
    if (s_hup_running)
        return;                 //  started by an earlier init (tests)
    sigemptyset (&set);
    sigaddset (&set, SIGHUP);
    if (pthread_sigmask (SIG_BLOCK, &set, NULL) != 0
    ||  pthread_create (&s_hup_thread, NULL, s_sighup_thread, &set) != 0) {
        ts_warn ("SIGHUP: cannot wait for it: reload needs a restart");
        return;
    }
    s_hup_running = true;
    atexit (s_sighup_stop);
}

//  The rest of --help (not repeated after a usage error): what a man
//  page has besides options.
static void
s_help_more (FILE *out)
{
    fprintf (out,
        "\n"
        "Signals:\n"
        "  SIGTERM, SIGINT  stop: finish or hand back what is in flight, then\n"
        "                   exit (a second one cuts that short)\n"
        "  SIGHUP           reload the config file: what is safe to change\n"
        "                   at run time (log.level, log.format,\n"
        "                   broker.schedule, upstream.headers and the\n"
        "                   upstream key, the gateway's API keys) takes\n"
        "                   effect and is logged \"reload: KEY: OLD -> NEW\"\n"
        "                   (a key's value never: \"changed\"); any other\n"
        "                   change is logged as needing a restart; a config\n"
        "                   that does not load is logged and the running\n"
        "                   one kept\n"
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
    s_path = path;
    s_verbose = verbose;
    s_apply_log (cfg);
    for (size_t i = 0; i < warnings->n; i++)
        ts_warn ("%s", warnings->items [i]);
    s_sighup_start ();
    *exit_code = 0;
    return cfg;
}

bool
ts_daemon_reload_requested (void)
{
    return atomic_exchange (&s_reload, false);
}

void
ts_daemon_on_reload (ts_config_t *cfg, const char *const *used,
                     const char *const *live, ts_daemon_apply_fn *apply,
                     void *arg)
{
    s_on_reload.cfg = cfg;
    s_on_reload.used = used;
    s_on_reload.live = live;
    s_on_reload.apply = apply;
    s_on_reload.arg = arg;
}

void
ts_daemon_tick (void)
{
    if (!s_on_reload.cfg || !ts_daemon_reload_requested ())
        return;
    ts_strlist_t *applied = ts_strlist_new ();
    if (!applied)
        ts_error ("reload: out of memory; keeping the running config");
    else
    if (ts_daemon_reload (s_on_reload.cfg, s_on_reload.used,
                          s_on_reload.live, applied) == 0
    &&  s_on_reload.apply)
        s_on_reload.apply (s_on_reload.arg, applied);
    ts_strlist_destroy (&applied);
}

static bool
s_listed (const char *const *list, const char *key, bool prefix)
{
    for (size_t i = 0; list && list [i]; i++)
        if (prefix? strncmp (key, list [i], strlen (list [i])) == 0
                  : strcmp (key, list [i]) == 0)
            return true;
    return false;
}

int
ts_daemon_reload (ts_config_t *cfg, const char *const *used,
                  const char *const *live, ts_strlist_t *applied)
{
    static const char *const logs [] = { "log.level", "log.format", NULL };
    char err [TS_ERRLEN] = "";
    ts_config_t *next = ts_config_load (s_path, err);
    if (!next) {
        ts_error ("reload: %s; keeping the running config", err);
        return TS_ECONFIG;
    }
    int rc = 0;
    size_t changed = 0, restart = 0;
    for (size_t i = 0; rc == 0 && i < ts_config_key_count (); i++) {
        const char *key = ts_config_key_name (i);
        if (!s_listed (used, key, true) || ts_config_same (cfg, next, key))
            continue;
        char was [S_SHOW_MAX], now [S_SHOW_MAX];
        ts_config_show (cfg, key, was, sizeof was);
        ts_config_show (next, key, now, sizeof now);
        changed++;
        if (!s_listed (logs, key, false) && !s_listed (live, key, false)) {
            restart++;
            ts_warn ("reload: %s: %s \u2192 %s: needs a restart, not applied",
                     key, was, now);
            continue;
        }
        rc = ts_config_adopt (cfg, next, key);
        if (rc == 0 && !s_listed (logs, key, false))
            rc = ts_strlist_append (applied, key);
        if (rc == 0)
            ts_info ("reload: %s: %s \u2192 %s", key, was, now);
    }
    //  sources: is read at start into per-source state (the worker's
    //  contexts, the broker's schedules, the gateway's names): a change
    //  needs a restart, in every daemon.
    if (rc == 0 && !ts_config_sources_same (cfg, next)) {
        changed++;
        restart++;
        ts_warn ("reload: sources: changed: needs a restart, not applied");
    }
    ts_config_destroy (&next);
    if (rc) {
        ts_error ("reload: out of memory; part of the change applied");
        return TS_ENOMEM;
    }
    s_apply_log (cfg);
    ts_info ("reload: %s: %zu keys changed, %zu applied, %zu need a restart",
             ts_config_source (cfg), changed, changed - restart, restart);
    return 0;
}
