/*  tscache-worker - fetches the upstream series of the broker's jobs and
    writes them to the store.

    Loads the config, builds the worker (ts_worker) and runs its loop until
    SIGINT or SIGTERM; SIGHUP reloads the config (log.*, the upstream
    headers and key take effect). See docs/architecture.md.

    With --store-init it creates what the configured store backends need
    (DynamoDB tables, a Timestream database and table) and exits: `store
    init`, in the binary that links the store's network libraries (the
    CLI links none; `tscache store init` runs this). */

#include <stdio.h>
#include <string.h>

#include "ts_curve.h"
#include "ts_daemon.h"
#include "ts_log.h"
#include "ts_worker.h"
#include "ts_fetch.h"
#include "ts_map.h"
#include "ts_oauth2.h"
#include "ts_pages.h"
#include "ts_store.h"
#include "ts_version.h"

//  The OAuth2 client id and secret of a source, if a token endpoint is
//  configured, can be read (read and wiped at once). Returns 0 or
//  TS_ECONFIG.
static int
s_check_oauth2 (const ts_config_t *cfg, char *err)
{
    if (!*ts_config_str (cfg, "upstream.oauth2.token_url"))
        return 0;
    ts_oauth2_t *auth = ts_oauth2_new (cfg, err);
    bool ok = auth != NULL;
    ts_oauth2_destroy (&auth);
    return ok? 0: TS_ECONFIG;
}

//  Each source's upstream key, if one is configured, must be readable
//  now rather than at the first fetch, and its OAuth2 client secret; so must the CURVE keys
//  (the worker's pair, the broker's public key); each source's
//  upstream.pagination.* must agree with itself, and its upstream.format
//  must make a mapping (its zone in the tz database, keys that go
//  together).
static int
s_check (const ts_config_t *cfg, char *err)
{
    static const char *const pairs [] = { "security.worker_cert", NULL };
    static const char *const publics [] = { "security.broker_cert", NULL };
    for (size_t i = 0; i < ts_config_source_count (cfg); i++) {
        const ts_config_t *source = ts_config_source_at (cfg, i);
        ts_pages_spec_t pages;
        if (ts_pages_spec_from_config (&pages, source, err))
            return TS_ECONFIG;
        ts_map_spec_t spec;
        ts_map_t *map = NULL;
        if (ts_map_spec_from_config (&spec, source, err) != 0
        ||  !(map = ts_map_new (&spec, err)))
            return TS_ECONFIG;
        ts_map_destroy (&map);
        if (s_check_oauth2 (source, err)
        ||  ts_config_secret_check (source, "upstream", false, err))
            return TS_ECONFIG;
    }
    return ts_curve_check (cfg, pairs, publics, NULL, err)? TS_ECONFIG: 0;
}

//  The keys the worker reads, and those it changes while running.
static const char *const s_used [] = { "log.", "worker.", "upstream.",
                                       "store.", "security.", NULL };
//  (The schedule keys and upstream.rate_limit.* are the broker's: listed
//  so that a change of them is not reported here as needing a restart.)
static const char *const s_live [] = { "upstream.headers",
    "upstream.api_key_env", "upstream.api_key_file",
    "upstream.api_key_header", "upstream.schedule",
    "upstream.schedule_offset_s", "upstream.schedule_jitter_s",
    "upstream.rate_limit.rate", "upstream.rate_limit.burst",
    "upstream.rate_limit.max_pause_s", "upstream.oauth2.client_id_env",
    "upstream.oauth2.client_id_file", "upstream.oauth2.client_secret_env",
    "upstream.oauth2.client_secret_file", NULL };

//  SIGHUP: what the reload changed, applied to the worker.
static void
s_apply (void *arg, const ts_strlist_t *applied)
{
    ts_worker_apply (arg, applied);
}

//  --store-init: ts_store_init, printing what was created or found.
static int
s_store_init (const ts_config_t *cfg)
{
    char err [TS_ERRLEN] = "";
    ts_strlist_t *report = ts_strlist_new ();
    int rc = report? ts_store_init (cfg, report, err): TS_ENOMEM;
    for (size_t i = 0; report && i < report->n; i++)
        printf ("%s\n", report->items [i]);
    if (rc)
        fprintf (stderr, "tscache-worker: store init: %s\n",
                 *err? err: "out of memory");
    ts_strlist_destroy (&report);
    return rc? 1: 0;
}

int
main (int argc, char *argv [])
{
    //  --store-init is this binary's own option: taken out before the
    //  daemons' shared command line is parsed.
    bool store_init = false;
    int n = 0;
    for (int i = 0; i < argc; i++)
        if (i > 0 && strcmp (argv [i], "--store-init") == 0)
            store_init = true;
        else
            argv [n++] = argv [i];
    argc = n;
    int code;
    ts_version_use (ts_store_libraries ());
    ts_version_use (ts_fetch_libraries ());
    ts_version_use (ts_map_libraries ());
    ts_config_t *cfg = ts_daemon_init (argc, argv, "tscache-worker",
        "Takes fetch jobs from the broker (worker.broker_endpoint), fetches each id\n"
        "from the upstream API (upstream.*), writes past points to history and\n"
        "replaces the forecast with future points. Run as many as you like.\n"
        "With sources: (several upstreams) a job is fetched with its source's\n"
        "URL, time window, format, headers and API key (a source's key goes\n"
        "only to its own upstream); the transfer limits (upstream.*timeout_ms,\n"
        "upstream.max_body_bytes) are shared: a source that sets them\n"
        "differently is refused at start.\n"
        "The upstream API key comes from the variable named by\n"
        "upstream.api_key_env or the file upstream.api_key_file, and goes where\n"
        "{api_key} is written in upstream.url or upstream.headers, else in the\n"
        "header upstream.api_key_header. With upstream.oauth2.token_url set,\n"
        "each request carries an OAuth2 bearer token the worker gets with the\n"
        "client id and secret of upstream.oauth2.client_*_env/_file (renewed\n"
        "before expiry and on a 401). upstream.method POST sends the\n"
        "upstream.body template. Keys, secrets and tokens are never logged:\n"
        "URLs and headers are shown with them as ***, bodies not at all\n"
        "(docs/upstream-auth.md). SIGHUP reloads the config file:\n"
        "log.level, log.format, each source's upstream.headers and key and the\n"
        "OAuth2 client id and secret (read again from their variables or\n"
        "files) change at once; other changes need a restart.\n"
        "\n"
        "An upstream that answers in pages (upstream.pagination.mode: next\n"
        "URL or cursor from the body, Link header, page or offset counting)\n"
        "is fetched page after page; an id is stored only once all of its\n"
        "pages are in, in one write, and a failing page fails the id whole.\n"
        "\n"
        "  --store-init    create what the store backends need (DynamoDB\n"
        "                  tables, docs/dynamodb.md; a Timestream database\n"
        "                  and table, docs/timestream.md), print what was\n"
        "                  created or found, and exit: 0 done, 1 failed\n"
        "                  (`tscache store init` runs it); needs no\n"
        "                  upstream key",
        store_init? NULL: s_check, &code);
    if (!cfg)
        return code;
    if (store_init) {
        int rc = s_store_init (cfg);
        ts_config_destroy (&cfg);
        return rc;
    }
    char err [TS_ERRLEN] = "";
    ts_worker_t *worker = ts_worker_new (cfg, err);
    if (!worker) {
        ts_error ("cannot start: %s", err);
        ts_config_destroy (&cfg);
        return 1;
    }
    ts_daemon_on_reload (cfg, s_used, s_live, s_apply, worker);
    int rc = ts_worker_run (worker);
    ts_daemon_on_reload (NULL, NULL, NULL, NULL, NULL);
    ts_worker_destroy (&worker);
    ts_config_destroy (&cfg);
    ts_info ("stopped");
    return rc == 0? 0: 1;
}
