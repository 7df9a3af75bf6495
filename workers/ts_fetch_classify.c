/*  ts_fetch_classify - what a completed request means for its job: the
    retry policy of ts_fetch (ts_fetch_classify, ts_fetch_verdict_fail,
    ts_fetch_verdict_merge, ts_fetch_retry_after_parse). Pure: it only
    reads results, so the policy is tested without a network. Part of
    ts_fetch (the contract and the table of what is retried are in
    ts_fetch.h); split from ts_fetch.c, which keeps the transfers. */

#include "ts_fetch.h"
#include "ts_redact.h"

#include <curl/curl.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SNIPPET_MAX     64              //  body bytes quoted in a detail
//  ---------------------------------------------------------------------
//  Failure classification

//  libcurl errors that another attempt cannot fix: the URL, the build or
//  the TLS setup is wrong, and only the operator can change that.
static bool
s_curl_code_final (int code)
{
    switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_TOO_MANY_REDIRECTS:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_UNKNOWN_OPTION:
        case CURLE_LOGIN_DENIED:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
            return true;
        default:
            return false;
    }
}

//  Appends ": " and the start of body to detail (size bytes), printable
//  ASCII only, so an upstream's error text reaches the DLQ. An upstream
//  may echo the API key it was sent: secret is scrubbed from a window
//  large enough to hold it whole before the quote is cut to length, so
//  not even its first characters show.
static void
s_append_snippet (char *detail, size_t size, const char *body, size_t len,
                  const char *secret)
{
    size_t used = strlen (detail);
    if (!body || len == 0 || used + 3 >= size)
        return;
    char window [SNIPPET_MAX + 3 * TS_ERRLEN];
    size_t want = SNIPPET_MAX + (secret? 3 * strlen (secret): 0);
    if (want > sizeof window - 1)
        want = sizeof window - 1;
    size_t n = 0;
    for (size_t i = 0; i < len && n < want; i++) {
        unsigned char c = (unsigned char) body [i];
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        window [n++] = (c >= 0x20 && c < 0x7f)? (char) c: '?';
    }
    window [n] = 0;
    size_t taken = n;
    ts_redact_text (window, sizeof window, secret);
    n = strlen (window);
    bool more = len > taken || n > SNIPPET_MAX;
    if (n > SNIPPET_MAX)
        n = SNIPPET_MAX;
    while (n > 0 && window [n - 1] == ' ')
        n--;
    if (n > 0) {
        if (more) {
            memcpy (window + n, "...", 3);
            n += 3;
        }
        window [n] = 0;
        snprintf (detail + used, size - used, ": %s", window);
    }
    explicit_bzero (window, sizeof window);
}

//  Failure kinds of the HTTP statuses 3xx, 4xx, 5xx (429 apart).
static const char *const s_http_kinds [] = { "http_3xx", "http_4xx",
                                             "http_5xx" };

const char *const ts_fetch_kinds [] = {
    "timeout", "connect", "transport", "too_big", "memory", "http_3xx",
    "http_4xx", "http_429", "http_5xx", "http_other", "url", "document",
    "store", "worker", "auth", NULL
};

size_t
ts_fetch_kind_index (const char *kind)
{
    size_t worker = 0;
    for (size_t i = 0; ts_fetch_kinds [i]; i++) {
        if (kind && strcmp (ts_fetch_kinds [i], kind) == 0)
            return i;
        if (strcmp (ts_fetch_kinds [i], "worker") == 0)
            worker = i;
    }
    return worker;
}

bool
ts_fetch_classify (const ts_fetch_opts_t *opts, const ts_fetch_result_t *res,
                   const char *id, ts_fetch_verdict_t *verdict)
{
    assert (opts);
    assert (res);
    assert (id);
    assert (verdict);
    memset (verdict, 0, sizeof *verdict);
    int code = res->curl_code;
    if (res->rc == 0 && code == CURLE_OK
    &&  res->status >= 200 && res->status <= 299)
        return false;

    verdict->failed = true;
    verdict->failures = 1;
    verdict->retry = true;
    char *detail = verdict->detail;
    const char *error = res->error && *res->error? res->error
                                                 : curl_easy_strerror (code);
    verdict->kind = "transport";
    if (res->rc == TS_ETOOBIG || code == CURLE_FILESIZE_EXCEEDED) {
        verdict->kind = "too_big";
        verdict->retry = false;
        ts_errf (detail, "id=%s: response over upstream.max_body_bytes "
                 "(%zu bytes; not retried)", id, opts->max_body_bytes);
    }
    else
    if (res->rc == TS_ENOMEM || code == CURLE_OUT_OF_MEMORY
    ||  code == CURLE_WRITE_ERROR) {
        verdict->kind = "memory";
        ts_errf (detail, "id=%s: worker out of memory for the response", id);
    }
    else
    if (code == CURLE_OPERATION_TIMEDOUT || res->rc == TS_ETIMEOUT) {
        verdict->kind = res->connected? "timeout": "connect";
        if (res->connected)
            ts_errf (detail, "id=%s: timed out after %ld ms "
                     "(upstream.timeout_ms)", id, opts->timeout_ms);
        else {
            long limit = opts->connect_timeout_ms < opts->timeout_ms
                       ? opts->connect_timeout_ms: opts->timeout_ms;
            ts_errf (detail, "id=%s: no connection within %ld ms "
                     "(upstream.connect_timeout_ms)", id, limit);
        }
    }
    else
    if (code != CURLE_OK || res->rc != 0) {
        verdict->retry = !s_curl_code_final (code);
        ts_errf (detail, "id=%s: upstream: %s%s", id, error,
                 verdict->retry? "": " (not retried)");
    }
    else {
        long status = res->status;
        verdict->http_status = status;
        verdict->kind = status == 429? "http_429"
                      : status >= 300 && status <= 599? s_http_kinds [status / 100 - 3]
                      : "http_other";
        if (status == 408 || status == 429 || (status >= 500 && status <= 599)) {
            int64_t after = res->retry_after_ms;
            verdict->retry_after_ms = after <= 0? 0
                : after > TS_FETCH_RETRY_AFTER_MAX_MS
                ? TS_FETCH_RETRY_AFTER_MAX_MS: (uint64_t) after;
            if (verdict->retry_after_ms)
                ts_errf (detail, "id=%s: upstream HTTP %ld, Retry-After "
                         "%" PRIu64 " ms", id, status,
                         verdict->retry_after_ms);
            else
                ts_errf (detail, "id=%s: upstream HTTP %ld", id, status);
        }
        else
        if (status >= 300 && status <= 399) {
            verdict->retry = false;
            ts_errf (detail, "id=%s: upstream HTTP %ld (redirects are not "
                     "followed, see upstream.url; not retried)", id, status);
        }
        else
        if (status >= 400 && status <= 499) {
            verdict->retry = false;
            ts_errf (detail, "id=%s: upstream HTTP %ld (not retried)", id,
                     status);
        }
        else
            ts_errf (detail, "id=%s: upstream HTTP %ld (unexpected status)",
                     id, status);
        s_append_snippet (detail, TS_ERRLEN, res->body, res->size,
                          opts->secret);
    }
    ts_redact_text (detail, TS_ERRLEN, opts->secret);
    return true;
}

void
ts_fetch_verdict_fail (ts_fetch_verdict_t *verdict, const char *id,
                       bool retry, const char *what, const char *why)
{
    assert (verdict);
    assert (id);
    assert (what);
    memset (verdict, 0, sizeof *verdict);
    verdict->kind = "worker";
    verdict->failed = true;
    verdict->failures = 1;
    verdict->retry = retry;
    //  A why that says so already (ts_oauth2's) is not told twice.
    static const char final [] = " (not retried)";
    size_t len = why? strlen (why): 0;
    bool said = len >= sizeof final - 1
             && strcmp (why + len - (sizeof final - 1), final) == 0;
    ts_errf (verdict->detail, "id=%s: %s%s%s%s", id, what,
             why && *why? ": ": "", why? why: "",
             retry || said? "": final);
}

void
ts_fetch_verdict_merge (ts_fetch_verdict_t *job, const ts_fetch_verdict_t *one)
{
    assert (job);
    assert (one);
    if (!one->failed)
        return;
    size_t failures = job->failures + (one->failures? one->failures: 1);
    if (!job->failed) {
        *job = *one;
        job->failures = failures;
        return;
    }
    //  The first failure that stops retries explains the job best.
    if (job->retry && !one->retry) {
        ts_strlcpy (job->detail, one->detail, sizeof job->detail);
        job->kind = one->kind;
    }
    job->retry = job->retry && one->retry;
    //  The upstream pushing back (429) is what the broker acts on for
    //  the whole source: a job still retried says so whatever failure
    //  its detail names.
    if (job->retry && one->kind && strcmp (one->kind, "http_429") == 0)
        job->kind = one->kind;
    if (one->retry_after_ms > job->retry_after_ms)
        job->retry_after_ms = one->retry_after_ms;
    job->failures = failures;
}

int64_t
ts_fetch_retry_after_parse (const char *value, int64_t now_ms)
{
    if (!value)
        return 0;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen (value);
    while (len > 0 && strchr (" \t\r\n", value [len - 1]))
        len--;
    if (len == 0 || len > 64)
        return 0;
    char text [65];
    memcpy (text, value, len);
    text [len] = 0;

    int64_t ms;
    if (isdigit ((unsigned char) text [0])) {
        //  delay-seconds: 1*DIGIT, nothing else
        for (size_t i = 0; i < len; i++)
            if (!isdigit ((unsigned char) text [i]))
                return 0;
        errno = 0;
        long long secs = strtoll (text, NULL, 10);
        if (errno == ERANGE || secs > TS_FETCH_RETRY_AFTER_MAX_MS / 1000)
            return TS_FETCH_RETRY_AFTER_MAX_MS;
        ms = (int64_t) secs * 1000;
    }
    else {
        time_t date = curl_getdate (text, NULL);
        if (date == (time_t) -1)
            return 0;
        if ((int64_t) date > (now_ms + TS_FETCH_RETRY_AFTER_MAX_MS) / 1000 + 1)
            return TS_FETCH_RETRY_AFTER_MAX_MS;
        ms = (int64_t) date * 1000 - now_ms;
    }
    if (ms <= 0)
        return 0;
    return ms > TS_FETCH_RETRY_AFTER_MAX_MS? TS_FETCH_RETRY_AFTER_MAX_MS: ms;
}

