/*  ts_worker_request - the request of each id of a job: the URL, the
    body of a POST (upstream.method, upstream.body, upstream.body_type)
    and the headers, built by ts_url from the templates with the
    source's API key, and the OAuth2 bearer token of the source put in
    (ts_oauth2), sent through the worker's fetcher with the source's
    headers (ts_worker_keys_add). Part of ts_worker (ts_worker_internal.h).

    Each source has its own request settings and token (in its context,
    ts_worker_source_t). With upstream.oauth2.token_url set, every data
    request of the source carries "Authorization: Bearer TOKEN". An id
    that needs a token while none is held (none yet, or due for refresh)
    waits on the source's list (held) while the token request - sent
    through the same fetcher, so the loop never blocks, tagged TAG_TOKEN
    (source index) - is on its way; one token request serves every id
    waiting. When it completes, every held id is sent
    with the new token; if no token came, each held id fails with the
    reason ("OAuth2 token: token endpoint HTTP 503"), retried or not as
    ts_oauth2 says (invalid_client is not retried).

    A 401 from the upstream to a request sent with a token means the
    token was revoked or expired early: the token is dropped (if no newer
    one came meanwhile) and the id is sent once more (TAG_RETRIED), after
    a new token; a second 401 fails it like any other 4xx.

    The window of {from} and {to} is the job's, if it names one (a
    backfill chunk), else now - upstream.past_s .. now + future_s.
    {last_fetched} is the id's last successful fetch minus
    upstream.refetch_recent_s, read from its fetch status in the store
    (ts_worker_status.c); the window's start (as {from}) when the id was
    never fetched, and for a job with a window of its own. */

#include "ts_worker_internal.h"
#include "ts_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  ---------------------------------------------------------------------
//  Setup

int
ts_worker_request_setup (ts_worker_source_t *self, const ts_config_t *cfg,
                         char *err)
{
    self->post = strcmp (ts_config_str (cfg, "upstream.method"), "POST") == 0;
    self->body_tmpl = ts_config_str (cfg, "upstream.body");
    bool form = strcmp (ts_config_str (cfg, "upstream.body_type"),
                        "form") == 0;
    self->body_esc = form? TS_URL_ESC_FORM: TS_URL_ESC_JSON;
    self->content_type = form
        ? "Content-Type: application/x-www-form-urlencoded"
        : "Content-Type: application/json";
    const ts_strlist_t *headers = ts_config_list (cfg, "upstream.headers");
    for (size_t i = 0; i < headers->n; i++)
        if (strncasecmp (headers->items [i], "Content-Type:", 13) == 0)
            self->content_type = NULL;
    if (!*ts_config_str (cfg, "upstream.oauth2.token_url"))
        return 0;
    self->oauth2 = ts_oauth2_new (cfg, err);
    return self->oauth2? 0: TS_ECONFIG;
}

//  SIGHUP for one source (see ts_worker_request_reload).
static void
s_reload (ts_worker_source_t *self)
{
    if (!self->oauth2)
        return;
    char err [TS_ERRLEN];
    ts_oauth2_t *fresh = ts_oauth2_new (self->cfg, err);
    if (!fresh) {
        ts_error ("reload: %s; keeping the running OAuth2 client", err);
        return;
    }
    if (ts_oauth2_same_client (fresh, self->oauth2)) {
        ts_oauth2_destroy (&fresh);
        return;
    }
    //  A token request of the old client still on its way is answered
    //  into the new one (ts_oauth2_done takes any answer): the ids held
    //  for it go on; the next token is asked with the new secret.
    ts_oauth2_destroy (&self->old_oauth2);
    self->old_oauth2 = self->oauth2;
    self->oauth2 = fresh;
    ts_info ("reload: source %s: OAuth2 client credentials: changed (a "
             "new token is asked for)", self->name);
}

void
ts_worker_request_reload (ts_worker_t *self)
{
    for (size_t i = 0; i < self->nsources; i++)
        s_reload (&self->sources [i]);
}

void
ts_worker_request_teardown (ts_worker_source_t *self)
{
    ts_oauth2_destroy (&self->oauth2);
    ts_oauth2_destroy (&self->old_oauth2);
    free (self->held);
    self->held = NULL;
    self->held_n = self->held_max = 0;
}

void
ts_worker_request_redact (const ts_worker_t *self, char *text, size_t size)
{
    for (size_t i = 0; i < self->nsources; i++) {
        ts_oauth2_redact (self->sources [i].oauth2, text, size);
        ts_oauth2_redact (self->sources [i].old_oauth2, text, size);
    }
}

//  ---------------------------------------------------------------------
//  The token

//  Fails every id held for src's token with why; retry as the token
//  endpoint's failure allows.
static void
s_held_fail (ts_worker_t *self, ts_worker_source_t *src, bool retry,
             const char *why)
{
    uint64_t *held = src->held;
    size_t n = src->held_n;
    src->held = NULL;
    src->held_n = src->held_max = 0;
    for (size_t k = 0; k < n; k++) {
        ts_worker_slot_t *slot = &self->slots [TAG_SLOT (held [k])];
        ts_worker_job_fail (self, slot,
                            slot->ids->items [TAG_INDEX (held [k])], "auth",
                            retry, "OAuth2 token", why);
        ts_worker_job_ended (self, slot);
    }
    free (held);
}

//  Holds the id of tag until src's token arrives, and asks for one if
//  no request is on its way. Returns 0, or TS_ENOMEM.
static int
s_hold (ts_worker_t *self, ts_worker_source_t *src, uint64_t tag)
{
    if (src->held_n == src->held_max) {
        size_t max = src->held_max? src->held_max * 2: 64;
        uint64_t *held = realloc (src->held, max * sizeof *held);
        if (!held)
            return TS_ENOMEM;
        src->held = held;
        src->held_max = max;
    }
    src->held [src->held_n++] = tag;
    if (ts_oauth2_fetching (src->oauth2))
        return 0;
    ts_fetch_request_t req;
    int rc = ts_oauth2_request (src->oauth2, &req);
    if (rc == 0)
        rc = ts_fetch_add_request (self->fetch, &req,
                                   TAG_TOKEN (src - self->sources));
    if (rc == 0) {
        ts_debug ("OAuth2: source %s: asking for a token (%zu ids wait)",
                  src->name, src->held_n);
        return 0;
    }
    //  No request went out: clear it, and fail what was held before.
    ts_fetch_result_t none = { .rc = TS_ENOMEM, .error = "out of memory" };
    bool retry;
    char err [TS_ERRLEN];
    ts_oauth2_done (src->oauth2, &none, ts_mono_ms (), &retry, err);
    src->held_n--;
    s_held_fail (self, src, true, err);
    return TS_ENOMEM;
}

//  The token request completed: the held ids are sent with the new
//  token, or failed.
static void
s_token_fetched (ts_worker_t *self, ts_worker_source_t *src,
                 const ts_fetch_result_t *res)
{
    bool retry;
    char err [TS_ERRLEN];
    if (ts_oauth2_done (src->oauth2, res, ts_mono_ms (), &retry, err)) {
        ts_warn ("OAuth2: source %s: no token: %s; %zu ids failed",
                 src->name, err, src->held_n);
        s_held_fail (self, src, retry, err);
        return;
    }
    ts_info ("OAuth2: source %s: token %zu obtained in %" PRId64 " ms",
             src->name, ts_oauth2_obtained (src->oauth2), res->elapsed_ms);
    uint64_t *held = src->held;
    size_t n = src->held_n;
    src->held = NULL;
    src->held_n = src->held_max = 0;
    for (size_t k = 0; k < n; k++)
        if (ts_worker_request_send (self, held [k]) != 0)
            ts_worker_job_ended (self,
                                 &self->slots [TAG_SLOT (held [k])]);
    free (held);
}

//  ---------------------------------------------------------------------
//  The request of an id

//  The headers of this request only: the bearer token, the Content-Type
//  of a body. *list is NULL if there are none. Returns 0 or TS_ENOMEM.
static int
s_headers (const ts_worker_source_t *self, const char *token,
           ts_strlist_t **list)
{
    *list = NULL;
    if (!token && !(self->post && self->content_type))
        return 0;
    ts_strlist_t *more = ts_strlist_new ();
    int rc = more? 0: TS_ENOMEM;
    if (rc == 0 && self->post && self->content_type)
        rc = ts_strlist_append (more, self->content_type);
    if (rc == 0 && token) {
        size_t size = strlen (token) + 32;
        char *line = malloc (size);
        if (line) {
            snprintf (line, size, "Authorization: Bearer %s", token);
            rc = ts_strlist_append (more, line);
            explicit_bzero (line, size);
            free (line);
        }
        else
            rc = TS_ENOMEM;
    }
    if (rc)
        ts_url_headers_destroy (&more);
    *list = more;
    return rc;
}

//  Logs, at debug level, the request as it is shown (no secret).
static void
s_log_request (ts_worker_t *self, ts_worker_slot_t *slot, const char *id,
               const char *url, bool token)
{
    const ts_worker_source_t *src = slot->src;
    if (!ts_log_enabled (TS_LOG_DEBUG))
        return;
    char shown [URL_MAX];
    ts_worker_keys_url (self, src, url, shown, sizeof shown);
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
               TS_LF_STR ("id", id), TS_LF_OPT ("rid", slot->rid)),
               "job %" PRIu64 " id=%s: %s %s%s%s", slot->job, id,
               src->post? "POST": "GET", shown,
               src->post? " (body)": "", token? " (bearer token)": "");
}

int
ts_worker_request_send (ts_worker_t *self, uint64_t tag)
{
    ts_worker_slot_t *slot = &self->slots [TAG_SLOT (tag)];
    size_t i = TAG_INDEX (tag);
    const char *id = slot->ids->items [i];
    ts_worker_source_t *src = (ts_worker_source_t *) slot->src;
    assert (src);
    const char *token = NULL;
    if (src->oauth2 && !(token = ts_oauth2_token (src->oauth2,
                                                  ts_mono_ms ()))) {
        if (s_hold (self, src, tag) == 0)
            return 0;
        ts_worker_job_fail (self, slot, id, "memory", true, "out of memory",
                            NULL);
        return -1;
    }
    int64_t now = ts_now_ms ();
    ts_url_args_t args = {
        .id = id, .from_ms = now - src->past_ms,
        .to_ms = now + src->future_ms, .unit = src->time_unit,
        .api_key = src->api_key };
    if (slot->has_window) {
        args.from_ms = slot->from_ms;
        args.to_ms = slot->to_ms;
    }
    else
        args.last_fetched_ms = ts_worker_status_last_fetched (self, src, id,
                                                             now);
    char url [URL_MAX], body [BODY_MAX] = "", err [TS_ERRLEN];
    if (ts_url_build (src->url_tmpl, &args, url, sizeof url, err) != 0) {
        ts_worker_job_fail (self, slot, id, "url", false, "cannot build "
                            "the upstream URL from upstream.url", err);
        return -1;
    }
    if (src->post
    &&  ts_url_expand (src->body_tmpl, &args, src->body_esc,
                       "upstream.body", body, sizeof body, err) != 0) {
        explicit_bzero (url, sizeof url);
        ts_worker_job_fail (self, slot, id, "url", false, "cannot build "
                            "the request body from upstream.body", err);
        return -1;
    }
    //  An upstream that pages: the first page's URL (GET, no token: the
    //  config allows pagination only so, ts_config.c s_check_request).
    const char *first = url;
    if (slot->paged
    &&  ts_worker_pages_start (self, slot, i, slot->ids->n, url, &first,
                               err) != 0) {
        explicit_bzero (url, sizeof url);
        ts_worker_job_fail (self, slot, id, "url", false, "cannot page "
                            "the upstream URL", err);
        return -1;
    }
    ts_strlist_t *headers;
    int rc = s_headers (src, token, &headers);
    //  Which token it carries, for a 401 (ts_worker_request_fetched).
    if (token)
        tag = (tag & ~TAG_GEN_MASK)
            | TAG_GEN (ts_oauth2_obtained (src->oauth2));
    ts_fetch_request_t req = { .method = src->post? "POST": "GET",
                               .url = first, .body = body,
                               .headers = headers };
    if (rc == 0)
        rc = ts_worker_keys_add (self, src, &req, tag);
    if (rc == 0)
        s_log_request (self, slot, id, first, token != NULL);
    explicit_bzero (url, sizeof url);
    explicit_bzero (body, sizeof body);
    ts_url_headers_destroy (&headers);
    if (rc != 0) {
        ts_worker_job_fail (self, slot, id, "memory", true, "out of memory",
                            NULL);
        return -1;
    }
    return 0;
}

bool
ts_worker_request_fetched (ts_worker_t *self, const ts_fetch_result_t *res)
{
    if (TAG_IS_TOKEN (res->tag)) {
        size_t index = TAG_TOKEN_SOURCE (res->tag);
        assert (index < self->nsources);
        s_token_fetched (self, &self->sources [index], res);
        return true;
    }
    ts_worker_slot_t *slot = &self->slots [TAG_SLOT (res->tag)];
    ts_worker_source_t *src = (ts_worker_source_t *) slot->src;
    if (!src || !src->oauth2 || res->rc != 0 || res->status != 401
    ||  (res->tag & TAG_RETRIED))
        return false;
    //  Sent with a token the upstream no longer takes: drop it (unless a
    //  newer one came since this request left) and send the id once more.
    const char *id = slot->ids->items [TAG_INDEX (res->tag)];
    ts_oauth2_reject (src->oauth2, TAG_GEN_OF (res->tag), TAG_GEN_BITS);
    ts_info ("job %" PRIu64 " id=%s: upstream HTTP 401 to the bearer "
             "token: sent again with a new token", slot->job, id);
    if (ts_worker_request_send (self, res->tag | TAG_RETRIED) != 0)
        ts_worker_job_ended (self, slot);
    return true;
}
