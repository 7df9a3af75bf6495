/*  ts_cli_source_test - `tscache source test NAME ID`: the fetch
    (ts_cli_source_test.h). The worker's modules do the work; this file
    is the one-shot loop around them: a fetcher with one transfer at a
    time, each request waited for before the next. */

#include "ts_cli_source_test.h"
#include "ts_fetch.h"
#include "ts_map.h"
#include "ts_oauth2.h"
#include "ts_pages.h"
#include "ts_redact.h"
#include "ts_url.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_URL_MAX       8192        //  a request URL (the worker's)
#define S_BODY_MAX      16384       //  a request body (the worker's)
#define S_WAIT_SLICE_MS 100         //  one ts_fetch_wait
#define S_SLACK_MS      2000        //  past the fetcher's own timeouts

enum { S_EXIT_OK = 0, S_EXIT_FAILED = 1, S_EXIT_CONFIG = 2 };

//  One run: the source's settings and what is held while fetching.
typedef struct {
    const ts_config_t *cfg;         //  the source's view
    const char        *name;        //  "tscache: source test"
    char              *key;         //  the API key, or NULL (wiped)
    ts_fetch_opts_t    opts;        //  the fetcher's (classify reads it)
    ts_strlist_t      *headers;     //  upstream.headers, key put in
    ts_fetch_t        *fetch;
    ts_map_t          *map;
    ts_pages_spec_t    pages_spec;
    ts_pages_t        *pages;       //  if the source pages
    ts_oauth2_t       *oauth2;      //  if it has a token endpoint
    int64_t            wait_ms;     //  the longest one request may take
    ts_cli_test_t      test;        //  what is printed
} s_run_t;

//  Scrubs every secret the run holds from text (size bytes).
static void
s_scrub (const s_run_t *self, char *text, size_t size)
{
    ts_redact_text (text, size, self->key);
    ts_oauth2_redact (self->oauth2, text, size);
}

//  Fills call with method and url as shown.
static void
s_call_start (const s_run_t *self, ts_cli_test_call_t *call,
              const char *method, const char *url)
{
    ts_strlcpy (call->method, method, sizeof call->method);
    ts_redact_url (url, self->key, call->url, sizeof call->url);
    ts_oauth2_redact (self->oauth2, call->url, sizeof call->url);
}

//  Records res into call.
static void
s_call_done (ts_cli_test_call_t *call, const ts_fetch_result_t *res)
{
    call->answered = res->rc == 0;
    call->status = res->status;
    call->bytes = res->size;
    call->ms = res->elapsed_ms;
}

//  Waits for the one request in flight: 0 and *res, or TS_ETIMEOUT /
//  TS_EUPSTREAM with test.error set.
static int
s_wait (s_run_t *self, ts_fetch_result_t *res)
{
    int64_t deadline = ts_mono_ms () + self->wait_ms;
    char err [TS_ERRLEN] = "";
    while (!ts_fetch_next (self->fetch, res)) {
        if (ts_mono_ms () > deadline) {
            snprintf (self->test.error, sizeof self->test.error,
                      "id=%s: no answer within %" PRId64 " ms",
                      self->test.id, self->wait_ms);
            return TS_ETIMEOUT;
        }
        if (ts_fetch_wait (self->fetch, -1, S_WAIT_SLICE_MS, err) != 0) {
            s_scrub (self, err, sizeof err);
            snprintf (self->test.error, sizeof self->test.error,
                      "id=%s: %s", self->test.id, err);
            return TS_EUPSTREAM;
        }
    }
    return 0;
}

//  Sets test.error as the worker's verdict for label says.
static void
s_fail (s_run_t *self, const char *label, bool retry, const char *what,
        const char *why)
{
    ts_fetch_verdict_t verdict;
    ts_fetch_verdict_fail (&verdict, label, retry, what, why);
    ts_strlcpy (self->test.error, verdict.detail, sizeof self->test.error);
    s_scrub (self, self->test.error, sizeof self->test.error);
}

//  ---------------------------------------------------------------------
//  Setup: the worker's reading of the source's config

//  The API key, headers, fetcher, mapping, pagination and OAuth2 client
//  of the source. Returns 0, or TS_ECONFIG with err.
static int
s_setup (s_run_t *self, char *err)
{
    const ts_config_t *cfg = self->cfg;
    const char *env = ts_config_str (cfg, "upstream.api_key_env");
    const char *file = ts_config_str (cfg, "upstream.api_key_file");
    char detail [TS_ERRLEN] = "";
    if (*env || *file) {
        int rc = ts_config_secret (env, file, &self->key, detail);
        if (rc == TS_ENOTFOUND) {
            ts_errf (err, "upstream API key missing: environment variable "
                     "'%s' unset or empty and upstream.api_key_file '%s' "
                     "gives none", env, file);
            return TS_ECONFIG;
        }
        if (rc != 0) {
            ts_errf (err, "upstream.api_key_file: %s", detail);
            return TS_ECONFIG;
        }
    }
    if (ts_url_headers (ts_config_list (cfg, "upstream.headers"),
                        ts_config_str (cfg, "upstream.url"), self->key,
                        ts_config_str (cfg, "upstream.api_key_header"),
                        &self->headers, err) != 0)
        return TS_ECONFIG;
    self->opts = (ts_fetch_opts_t) {
        .max_active = 1,
        .connect_timeout_ms = (long) ts_config_int (
            cfg, "upstream.connect_timeout_ms"),
        .timeout_ms = (long) ts_config_int (cfg, "upstream.timeout_ms"),
        .max_body_bytes = (size_t) ts_config_int (cfg,
                                                  "upstream.max_body_bytes"),
        .headers = self->headers,
        .secret = self->key };
    self->wait_ms = self->opts.connect_timeout_ms + self->opts.timeout_ms
                  + S_SLACK_MS;
    if (!(self->fetch = ts_fetch_new (&self->opts, err)))
        return TS_ECONFIG;
    ts_map_spec_t spec;
    if (ts_map_spec_from_config (&spec, cfg, err) != 0
    ||  !(self->map = ts_map_new (&spec, err))
    ||  ts_pages_spec_from_config (&self->pages_spec, cfg, err) != 0)
        return TS_ECONFIG;
    if (*ts_config_str (cfg, "upstream.oauth2.token_url")
    &&  !(self->oauth2 = ts_oauth2_new (cfg, err)))
        return TS_ECONFIG;
    ts_cli_test_t *test = &self->test;
    test->headers = ts_strlist_new ();
    test->warnings = ts_strlist_new ();
    test->all = ts_points_new ();
    test->history = ts_points_new ();
    test->forecast = ts_points_new ();
    if (!test->headers || !test->warnings || !test->all || !test->history
    ||  !test->forecast) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    return 0;
}

static void
s_teardown (s_run_t *self)
{
    ts_pages_destroy (&self->pages);
    ts_oauth2_destroy (&self->oauth2);
    ts_map_destroy (&self->map);
    ts_fetch_destroy (&self->fetch);
    ts_url_headers_destroy (&self->headers);
    if (self->key) {
        explicit_bzero (self->key, strlen (self->key));
        free (self->key);
    }
    ts_cli_test_t *test = &self->test;
    ts_strlist_destroy (&test->headers);
    ts_strlist_destroy (&test->warnings);
    ts_points_destroy (&test->all);
    ts_points_destroy (&test->history);
    ts_points_destroy (&test->forecast);
    free (test->pages);
    free (test->body);
}

//  ---------------------------------------------------------------------
//  The fetch

//  Asks for the OAuth2 token. Returns 0, or -1 with test.error set.
static int
s_token (s_run_t *self)
{
    ts_fetch_request_t req;
    ts_fetch_result_t res;
    self->test.has_token = true;
    if (ts_oauth2_request (self->oauth2, &req) != 0
    ||  ts_fetch_add_request (self->fetch, &req, 0) != 0) {
        s_fail (self, self->test.id, true, "out of memory", NULL);
        return -1;
    }
    s_call_start (self, &self->test.token, "POST", req.url);
    if (s_wait (self, &res) != 0)
        return -1;
    s_call_done (&self->test.token, &res);
    bool retry = true;
    char err [TS_ERRLEN] = "";
    if (ts_oauth2_done (self->oauth2, &res, ts_mono_ms (), &retry, err)) {
        s_fail (self, self->test.id, retry, "OAuth2 token", err);
        return -1;
    }
    return 0;
}

//  Adds a shown header line to the test.
static int
s_show_header (s_run_t *self, const char *line)
{
    char shown [TS_CLI_TEST_SHOWN_MAX];
    ts_redact_header (line, self->key, shown, sizeof shown);
    ts_oauth2_redact (self->oauth2, shown, sizeof shown);
    return ts_strlist_append (self->test.headers, shown);
}

//  The request's own headers, as the worker sends them: the Content-Type
//  of a POST body (unless upstream.headers has one), the bearer token.
//  Returns 0 or TS_ENOMEM.
static int
s_request_headers (s_run_t *self, bool post, const char *token,
                   ts_strlist_t *more)
{
    bool typed = false;
    const ts_strlist_t *conf = ts_config_list (self->cfg, "upstream.headers");
    for (size_t i = 0; i < conf->n; i++)
        typed |= strncasecmp (conf->items [i], "Content-Type:", 13) == 0;
    bool form = strcmp (ts_config_str (self->cfg, "upstream.body_type"),
                        "form") == 0;
    int rc = 0;
    if (post && !typed)
        rc = ts_strlist_append (more, form
            ? "Content-Type: application/x-www-form-urlencoded"
            : "Content-Type: application/json");
    if (rc == 0 && token) {
        size_t size = strlen (token) + 32;
        char *line = malloc (size);
        if (!line)
            return TS_ENOMEM;
        snprintf (line, size, "Authorization: Bearer %s", token);
        rc = ts_strlist_append (more, line);
        explicit_bzero (line, size);
        free (line);
    }
    for (size_t i = 0; rc == 0 && i < self->headers->n; i++)
        rc = s_show_header (self, self->headers->items [i]);
    for (size_t i = 0; rc == 0 && i < more->n; i++)
        rc = s_show_header (self, more->items [i]);
    return rc;
}

//  Builds and sends the first request. Returns 0, 1 (test.error set) or
//  TS_ECONFIG (err set: a template that does not build).
static int
s_first (s_run_t *self, const ts_url_args_t *args, char *err)
{
    const ts_config_t *cfg = self->cfg;
    bool post = strcmp (ts_config_str (cfg, "upstream.method"), "POST") == 0;
    bool form = strcmp (ts_config_str (cfg, "upstream.body_type"),
                        "form") == 0;
    char url [S_URL_MAX], body [S_BODY_MAX] = "";
    if (ts_url_build (ts_config_str (cfg, "upstream.url"), args, url,
                      sizeof url, err) != 0)
        return TS_ECONFIG;
    if (post && ts_url_expand (ts_config_str (cfg, "upstream.body"), args,
                               form? TS_URL_ESC_FORM: TS_URL_ESC_JSON,
                               "upstream.body", body, sizeof body, err)) {
        explicit_bzero (url, sizeof url);
        return TS_ECONFIG;
    }
    const char *first = url;
    int rc = 0;
    if (self->pages_spec.mode != TS_PAGES_NONE) {
        rc = ts_pages_new (&self->pages, &self->pages_spec, url, err);
        if (rc == 0)
            first = ts_pages_url (self->pages);
        else
            rc = TS_ECONFIG;
    }
    const char *token = self->oauth2? ts_oauth2_token (self->oauth2,
                                                       ts_mono_ms ()): NULL;
    ts_strlist_t *more = rc == 0? ts_strlist_new (): NULL;
    if (rc == 0 && (!more || s_request_headers (self, post, token, more)))
        rc = TS_ENOMEM;
    if (rc == 0 && post) {
        char shown [TS_CLI_TEST_SHOWN_MAX];
        ts_strlcpy (shown, body, sizeof shown);
        s_scrub (self, shown, sizeof shown);
        if (!(self->test.body = strdup (shown)))
            rc = TS_ENOMEM;
    }
    ts_fetch_request_t req = { .method = post? "POST": "GET", .url = first,
                               .body = body, .headers = more };
    if (rc == 0 && ts_fetch_add_request (self->fetch, &req, 0) != 0)
        rc = TS_ENOMEM;
    if (rc == 0)
        s_call_start (self, &self->test.pages [0], req.method, first);
    explicit_bzero (url, sizeof url);
    explicit_bzero (body, sizeof body);
    ts_url_headers_destroy (&more);
    if (rc == TS_ENOMEM) {
        s_fail (self, self->test.id, true, "out of memory", NULL);
        return 1;
    }
    return rc;
}

//  Maps the page just fetched into the test's points and report.
//  Returns 0, or 1 with test.error set.
static int
s_map (s_run_t *self, const ts_fetch_result_t *res, const char *label)
{
    ts_cli_test_t *test = &self->test;
    ts_map_report_t report;
    char err [TS_ERRLEN] = "";
    int rc = ts_map_parse_report (self->map, res->body, res->size,
                                  test->now_ms, test->all, &report, err);
    if (rc != 0) {
        s_scrub (self, err, sizeof err);
        s_fail (self, label, rc == TS_ENOMEM || !report.shape,
                rc == TS_ENOMEM? "out of memory": "invalid document", err);
        return 1;
    }
    test->nulls += report.nulls;
    test->null_markers += report.null_markers;
    test->dropped += report.dropped;
    test->dropped_times += report.dropped_times;
    test->warnings_n += report.warnings;
    for (size_t i = 0; i < report.kept; i++) {
        char line [TS_ERRLEN + 32];
        if (self->pages)
            snprintf (line, sizeof line, "page %zu: %s", test->npages,
                      report.warning [i]);
        else
            ts_strlcpy (line, report.warning [i], sizeof line);
        s_scrub (self, line, sizeof line);
        if (ts_strlist_append (test->warnings, line)) {
            s_fail (self, label, true, "out of memory", NULL);
            return 1;
        }
    }
    return 0;
}

//  Fetches every page. Returns 0, or 1 with test.error set.
static int
s_pages (s_run_t *self)
{
    ts_cli_test_t *test = &self->test;
    for (;;) {
        ts_fetch_result_t res;
        if (s_wait (self, &res) != 0)
            return 1;
        ts_cli_test_call_t *call = &test->pages [test->npages - 1];
        s_call_done (call, &res);
        char label [TS_ERRLEN];
        if (self->pages)
            snprintf (label, sizeof label, "%s: page %zu", test->id,
                      test->npages);
        else
            ts_strlcpy (label, test->id, sizeof label);
        ts_fetch_verdict_t verdict;
        if (ts_fetch_classify (&self->opts, &res, label, &verdict)) {
            ts_strlcpy (test->error, verdict.detail, sizeof test->error);
            s_scrub (self, test->error, sizeof test->error);
            return 1;
        }
        if (s_map (self, &res, label) != 0)
            return 1;
        if (!self->pages)
            return 0;
        bool more = false;
        char err [TS_ERRLEN] = "";
        int rc = ts_pages_next (self->pages, res.body, res.size, res.link,
                                &more, err);
        if (rc != 0) {
            s_fail (self, label, rc == TS_ENOMEM, "pagination", err);
            return 1;
        }
        if (!more) {
            test->truncated = ts_pages_truncated (self->pages);
            return 0;
        }
        ts_cli_test_call_t *pages = realloc (test->pages, (test->npages + 1)
                                             * sizeof *pages);
        if (!pages
        ||  ts_fetch_add (self->fetch, ts_pages_url (self->pages), 0)) {
            if (pages)
                test->pages = pages;
            s_fail (self, label, true, "out of memory", NULL);
            return 1;
        }
        test->pages = pages;
        call = &pages [test->npages++];
        memset (call, 0, sizeof *call);
        s_call_start (self, call, "GET", ts_pages_url (self->pages));
    }
}

//  The window, the token, the first request, the pages. Returns an exit
//  code.
static int
s_fetch (s_run_t *self, const ts_cli_test_args_t *args, FILE *err_out)
{
    const ts_config_t *cfg = self->cfg;
    ts_cli_test_t *test = &self->test;
    ts_url_args_t url_args = { .id = args->id, .api_key = self->key };
    char err [TS_ERRLEN] = "";
    const char *unit = ts_config_str (cfg, "upstream.time_param");
    if (ts_url_time_parse (unit, &url_args.unit) != 0) {
        fprintf (err_out, "%s: upstream.time_param: unknown unit '%s'\n",
                 self->name, unit);
        return S_EXIT_CONFIG;
    }
    test->now_ms = ts_now_ms ();
    test->from_ms = args->has_from? args->from_ms: test->now_ms
                  - ts_config_int (cfg, "upstream.past_s") * 1000;
    test->to_ms = args->has_to? args->to_ms: test->now_ms
                + ts_config_int (cfg, "upstream.future_s") * 1000;
    url_args.from_ms = test->from_ms;
    url_args.to_ms = test->to_ms;
    if (self->oauth2 && s_token (self) != 0)
        return S_EXIT_FAILED;
    if (!(test->pages = calloc (1, sizeof *test->pages))) {
        s_fail (self, test->id, true, "out of memory", NULL);
        return S_EXIT_FAILED;
    }
    test->npages = 1;
    int rc = s_first (self, &url_args, err);
    if (rc == TS_ECONFIG) {
        s_scrub (self, err, sizeof err);
        fprintf (err_out, "%s: %s\n", self->name, err);
        return S_EXIT_CONFIG;
    }
    if (rc != 0 || s_pages (self) != 0)
        return S_EXIT_FAILED;
    if (ts_points_split (test->all, test->now_ms, test->history,
                         test->forecast) != 0) {
        s_fail (self, test->id, true, "cannot split the document", NULL);
        return S_EXIT_FAILED;
    }
    return S_EXIT_OK;
}

int
ts_cli_source_test (const ts_config_t *cfg, const ts_cli_test_args_t *args,
                    FILE *out, FILE *err_out)
{
    s_run_t run = { .name = "tscache: source test" };
    int index = ts_config_source_find (cfg, args->source);
    if (index < 0) {
        char names [TS_ERRLEN];
        ts_config_source_names (cfg, names, sizeof names);
        fprintf (err_out, "%s: unknown source '%s': the config has %s\n",
                 run.name, args->source, names);
        return S_EXIT_CONFIG;
    }
    run.cfg = ts_config_source_at (cfg, (size_t) index);
    run.test.source = ts_config_source_name (run.cfg);
    run.test.id = args->id;
    char err [TS_ERRLEN] = "";
    int rc = S_EXIT_OK;
    if (s_setup (&run, err) != 0) {
        s_scrub (&run, err, sizeof err);
        fprintf (err_out, "%s: source %s: %s\n", run.name, run.test.source,
                 err);
        rc = S_EXIT_CONFIG;
    }
    else {
        rc = s_fetch (&run, args, err_out);
        if (rc != S_EXIT_CONFIG
        &&  (args->json? ts_cli_source_test_json (&run.test, out)
                       : ts_cli_source_test_print (&run.test, out))) {
            fprintf (err_out, "%s: cannot write the report\n", run.name);
            rc = S_EXIT_FAILED;
        }
        if (rc == S_EXIT_FAILED && !args->json && *run.test.error)
            fprintf (err_out, "%s: %s\n", run.name, run.test.error);
    }
    s_teardown (&run);
    return rc;
}

const char *
ts_cli_source_test_libraries (void)
{
    static char text [160];
    if (!*text)
        snprintf (text, sizeof text, "%s, %s, jansson %s",
                  ts_fetch_libraries (), ts_map_libraries (),
                  jansson_version_str ());
    return text;
}
