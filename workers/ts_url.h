/*  ts_url - builds the request of one id from upstream.url and
    upstream.headers.

    The URL template holds {id}, and may hold {from} and {to}: the time
    window asked of the upstream, written as epoch milliseconds, epoch
    seconds or ISO 8601 (upstream.time_param), and {api_key}: the
    upstream API key read from upstream.api_key_env or
    upstream.api_key_file. Every substituted value is percent-encoded (all
    but A-Z a-z 0-9 - . _ ~), so an id, a date or a key can never change
    the URL's structure.

    Header templates ("Name: value") may hold {api_key} too, written as
    it is. The key goes where {api_key} is written; if it is written
    nowhere, it is sent in the header upstream.api_key_header, as before
    the placeholder existed.

    A built URL or header holds the key: it is never shown as it is, only
    through its display form (ts_redact_url, ts_redact_header). Pure: no
    clock, no I/O. Used by workers. */

#ifndef TS_URL_H_INCLUDED
#define TS_URL_H_INCLUDED

#include "ts_common.h"

typedef enum {
    TS_URL_TIME_MS = 0,         //  epoch milliseconds: 1732406400000
    TS_URL_TIME_S,              //  epoch seconds: 1732406400
    TS_URL_TIME_ISO             //  2024-11-24T00:00:00.000Z
} ts_url_time_t;

//  What fills the placeholders of a URL template.
typedef struct {
    const char    *id;          //  {id}, required
    int64_t        from_ms;     //  {from}
    int64_t        to_ms;       //  {to}
    ts_url_time_t  unit;        //  how {from} and {to} are written
    const char    *api_key;     //  {api_key}; NULL if no key is configured
} ts_url_args_t;

//  The placeholder of the API key, in URL and header templates.
#define TS_URL_API_KEY "{api_key}"

//  Parses "ms", "s" or "iso8601". Returns 0 and sets *unit, or TS_EINVAL.
int ts_url_time_parse (const char *s, ts_url_time_t *unit);

//  Writes tmpl with {id}, {from}, {to} and {api_key} replaced into out
//  (size bytes, always NUL-terminated; the caller wipes it after use if
//  a key went in). Other text, including unknown {names}, is copied as
//  is. Returns 0; TS_ETOOBIG if the URL does not fit; TS_EINVAL if tmpl
//  holds {api_key} and args->api_key is NULL. err (may be NULL) then
//  names the id, never the URL.
int ts_url_build (const char *tmpl, const ts_url_args_t *args, char *out,
                  size_t size, char *err);

//  True if tmpl (a URL or a header line) holds {api_key}.
bool ts_url_uses_key (const char *tmpl);

//  Builds the request headers: each of conf (upstream.headers, may be
//  NULL) with {api_key} replaced by api_key as it is, then "key_header:
//  api_key" if api_key is set and neither url_tmpl nor any of conf holds
//  {api_key}. api_key may be NULL (no key configured). On success
//  returns 0 and sets *headers to a new list the caller frees with
//  ts_url_headers_destroy. Returns TS_EINVAL if a template holds {api_key} but api_key
//  is NULL, or if api_key holds a control character (it would break the
//  header); TS_ENOMEM. err never holds the key.
int ts_url_headers (const ts_strlist_t *conf, const char *url_tmpl,
                    const char *api_key, const char *key_header,
                    ts_strlist_t **headers, char *err);

//  Wipes every header (they may hold the key), frees the list and sets
//  *headers_p to NULL. Safe on NULL.
void ts_url_headers_destroy (ts_strlist_t **headers_p);

#endif
