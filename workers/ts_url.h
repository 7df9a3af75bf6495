/*  ts_url - builds the request of one id from upstream.url,
    upstream.body and upstream.headers.

    The URL template holds {id}, and may hold {from} and {to}: the time
    window asked of the upstream, {last_fetched}: when the id was last
    fetched (the worker gives its last successful fetch minus
    upstream.refetch_recent_s; the window's start, as {from}, if it gives
    none), and {api_key}: the upstream
    API key read from upstream.api_key_env or upstream.api_key_file.

    A time placeholder may name its format after a colon, else it is
    written as upstream.time_param says:

      {from:ms}        epoch milliseconds       1732406400000
      {from:s}         epoch seconds (floor)    1732406400
      {from:rfc3339}   RFC 3339, UTC, seconds   2024-11-24T00:00:00Z
      {from:iso8601}   RFC 3339, UTC, millis    2024-11-24T00:00:00.000Z
      {from:%Y-%m-%d}  any strftime(3) pattern (it holds a '%'), always
                       in UTC and the C locale: 2024-11-24; not %s
                       (strftime takes it as local time: use {from:s})

    and the same for {to} and {last_fetched}. A format that is none of
    these is an error (TS_EINVAL), never text sent as it is.

    Every substituted value is escaped for where it goes, so an id, a
    date or a key can never change the request's structure: in a URL and
    in a form body (application/x-www-form-urlencoded) percent-encoded
    (all but A-Z a-z 0-9 - . _ ~), in a JSON body JSON-string-escaped
    (the template writes the quotes: {"from": "{from:rfc3339}"}).

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
    int64_t        last_fetched_ms;     //  {last_fetched}; 0: from_ms
} ts_url_args_t;

//  How substituted values are escaped (ts_url_expand).
typedef enum {
    TS_URL_ESC_URL = 0,         //  percent-encoded: a URL
    TS_URL_ESC_FORM,            //  percent-encoded: a form body
    TS_URL_ESC_JSON             //  JSON string escapes: a JSON body
} ts_url_escape_t;

//  The placeholder of the API key, in URL and header templates.
#define TS_URL_API_KEY "{api_key}"

//  Parses "ms", "s" or "iso8601". Returns 0 and sets *unit, or TS_EINVAL.
int ts_url_time_parse (const char *s, ts_url_time_t *unit);

//  Writes tmpl with {id}, {from}, {to}, {last_fetched} (each time with
//  its format, as above) and {api_key} replaced, escaped by esc, into
//  out (size bytes, always NUL-terminated; the caller wipes it after use
//  if a key went in). Other text, including unknown {names}, is copied
//  as is. what names the template in errors ("upstream.url"). Returns 0;
//  TS_ETOOBIG if the result does not fit (out is then wiped); TS_EINVAL
//  if tmpl holds {api_key} and args->api_key is NULL, or a time format
//  that is not known. err (may be NULL) then names what and the id,
//  never the text built.
int ts_url_expand (const char *tmpl, const ts_url_args_t *args,
                   ts_url_escape_t esc, const char *what, char *out,
                   size_t size, char *err);

//  ts_url_expand of the URL template upstream.url (percent-encoding).
int ts_url_build (const char *tmpl, const ts_url_args_t *args, char *out,
                  size_t size, char *err);

//  Writes t_ms in format fmt - "ms", "s", "rfc3339", "iso8601" or a
//  strftime pattern holding a '%' (UTC) - into buf (size bytes). Returns
//  0, or TS_EINVAL for an unknown format or a pattern whose result is
//  empty or does not fit.
int ts_url_time_format (int64_t t_ms, const char *fmt, char *buf,
                        size_t size);

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
