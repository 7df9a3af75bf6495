/*  ts_worker_keys - each source's API key and request headers: read at
    start (upstream.api_key_env or api_key_file; upstream.headers and
    api_key_header, by ts_url_headers), read again on reload, sent with
    every data request of the source, and scrubbed from every text the
    worker shows. Part of ts_worker (ts_worker_internal.h).

    The fetcher holds no headers and no key of its own: every source
    has its own, so each data request (the first page of an id and every
    later page) is added "bare" with the source's headers followed by the
    request's own (Content-Type, bearer token), and its URL is built with
    the source's key where {api_key} is written. A source's key is never
    sent to another source's upstream.

    Any failure detail may quote a URL or header of any transfer (libcurl
    errors do), so details and logged URLs are scrubbed of every key the
    worker holds, every source's, the one in use and the one before the
    last reload (transfers that started with it may still complete). Keys
    are wiped when freed. */

#include "ts_worker_internal.h"
#include "ts_log.h"
#include "ts_redact.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

//  Wipes and frees a key; sets *key_p to NULL.
static void
s_key_free (char **key_p)
{
    if (*key_p) {
        explicit_bzero (*key_p, strlen (*key_p));
        free (*key_p);
        *key_p = NULL;
    }
}

//  Reads the source's API key into *key (NULL if none), if
//  upstream.api_key_env or upstream.api_key_file names one. The key never
//  appears in err.
static int
s_read_key (const ts_config_t *cfg, char **key, char *err)
{
    const char *env = ts_config_str (cfg, "upstream.api_key_env");
    const char *file = ts_config_str (cfg, "upstream.api_key_file");
    *key = NULL;
    if (!*env && !*file)
        return 0;
    char detail [TS_ERRLEN];
    int rc = ts_config_secret (env, file, key, detail);
    if (rc == TS_ENOTFOUND)
        ts_errf (err, "upstream API key missing: environment variable "
                 "'%s' unset or empty and upstream.api_key_file '%s' "
                 "gives none", env, file);
    else
    if (rc != 0)
        ts_errf (err, "upstream.api_key_file: %s", detail);
    return rc;
}

//  Logs, at debug level, the source's request headers as they are shown.
static void
s_log_headers (const ts_worker_source_t *src, const ts_strlist_t *headers,
               const char *key)
{
    if (!ts_log_enabled (TS_LOG_DEBUG))
        return;
    for (size_t i = 0; i < headers->n; i++) {
        char shown [TS_ERRLEN];
        ts_debug ("source %s: upstream header %s", src->name,
                  ts_redact_header (headers->items [i], key, shown,
                                    sizeof shown));
    }
}

//  Reads the key and builds the headers of src's view: *key (NULL: none)
//  and *headers, which the caller frees. Returns 0 or a TS_E* code with
//  err filled (never the key).
static int
s_read (const ts_worker_source_t *src, char **key, ts_strlist_t **headers,
        char *err)
{
    *headers = NULL;
    const ts_config_t *cfg = src->cfg;
    int rc = s_read_key (cfg, key, err);
    if (rc == 0)
        rc = ts_url_headers (ts_config_list (cfg, "upstream.headers"),
                             ts_config_str (cfg, "upstream.url"), *key,
                             ts_config_str (cfg, "upstream.api_key_header"),
                             headers, err);
    if (rc == 0)
        s_log_headers (src, *headers, *key);
    else
        s_key_free (key);
    return rc;
}

int
ts_worker_keys_setup (ts_worker_source_t *src, char *err)
{
    char detail [TS_ERRLEN];
    if (s_read (src, &src->api_key, &src->headers, detail) != 0) {
        ts_errf (err, "source %s: %s", src->name, detail);
        return TS_ECONFIG;
    }
    return 0;
}

void
ts_worker_keys_teardown (ts_worker_source_t *src)
{
    s_key_free (&src->api_key);
    s_key_free (&src->old_key);
    ts_url_headers_destroy (&src->headers);
}

int
ts_worker_keys_reload (ts_worker_t *self)
{
    int result = 0;
    for (size_t i = 0; i < self->nsources; i++) {
        ts_worker_source_t *src = &self->sources [i];
        char *key = NULL;
        ts_strlist_t *headers = NULL;
        char err [TS_ERRLEN];
        int rc = s_read (src, &key, &headers, err);
        if (rc) {
            ts_error ("reload: upstream: %s; keeping the running headers "
                      "and key (source %s)", err, src->name);
            result = rc;
            continue;
        }
        bool same = (!key && !src->api_key)
                 || (key && src->api_key && strcmp (key, src->api_key) == 0);
        //  Requests hold copies of the headers they were added with, so
        //  the old list goes at once; the old key stays, to scrub what
        //  transfers still running may quote, until the next reload.
        ts_url_headers_destroy (&src->headers);
        src->headers = headers;
        if (same)
            s_key_free (&key);
        else {
            s_key_free (&src->old_key);
            src->old_key = src->api_key;
            src->api_key = key;
            ts_info ("reload: upstream API key: changed (source %s)",
                     src->name);
        }
    }
    return result;
}

int
ts_worker_keys_add (ts_worker_t *self, const ts_worker_source_t *src,
                    const ts_fetch_request_t *req, uint64_t tag)
{
    assert (src && req);
    ts_strlist_t *headers = ts_strlist_new ();
    int rc = headers? 0: TS_ENOMEM;
    for (size_t i = 0; rc == 0 && src->headers && i < src->headers->n; i++)
        rc = ts_strlist_append (headers, src->headers->items [i]);
    for (size_t i = 0; rc == 0 && req->headers && i < req->headers->n; i++)
        rc = ts_strlist_append (headers, req->headers->items [i]);
    if (rc == 0) {
        ts_fetch_request_t sent = *req;
        sent.headers = headers;
        sent.bare = true;
        rc = ts_fetch_add_request (self->fetch, &sent, tag);
    }
    ts_url_headers_destroy (&headers);
    return rc;
}

void
ts_worker_keys_redact (const ts_worker_t *self, char *text, size_t size)
{
    for (size_t i = 0; i < self->nsources; i++) {
        ts_redact_text (text, size, self->sources [i].api_key);
        ts_redact_text (text, size, self->sources [i].old_key);
    }
    ts_worker_request_redact (self, text, size);
}

const char *
ts_worker_keys_url (const ts_worker_t *self, const ts_worker_source_t *src,
                    const char *url, char *out, size_t size)
{
    ts_redact_url (url, src? src->api_key: NULL, out, size);
    ts_worker_keys_redact (self, out, size);
    return out;
}

bool
ts_worker_keys_classify (const ts_worker_t *self,
                         const ts_worker_source_t *src,
                         const ts_fetch_result_t *res, const char *id,
                         ts_fetch_verdict_t *verdict)
{
    ts_fetch_opts_t opts = self->fetch_opts;
    opts.secret = src? src->api_key: NULL;
    return ts_fetch_classify (&opts, res, id, verdict);
}
