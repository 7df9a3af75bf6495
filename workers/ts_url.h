/*  ts_url - builds the upstream URL of one id from upstream.url.

    The template holds {id}, and may hold {from} and {to}: the time window
    asked of the upstream, written as epoch milliseconds, epoch seconds or
    ISO 8601 (upstream.time_param). Every substituted value is
    percent-encoded (all but A-Z a-z 0-9 - . _ ~), so an id or a date can
    never change the URL's structure. Pure: no clock, no I/O. Used by
    workers. */

#ifndef TS_URL_H_INCLUDED
#define TS_URL_H_INCLUDED

#include "ts_common.h"

typedef enum {
    TS_URL_TIME_MS = 0,         //  epoch milliseconds: 1732406400000
    TS_URL_TIME_S,              //  epoch seconds: 1732406400
    TS_URL_TIME_ISO             //  2024-11-24T00:00:00.000Z
} ts_url_time_t;

//  Parses "ms", "s" or "iso8601". Returns 0 and sets *unit, or TS_EINVAL.
int ts_url_time_parse (const char *s, ts_url_time_t *unit);

//  Writes tmpl with {id}, {from} and {to} replaced into out (size bytes,
//  always NUL-terminated). Other text, including unknown {names}, is
//  copied as is. Returns 0, or TS_ETOOBIG (detail in err) if the URL
//  does not fit.
int ts_url_build (const char *tmpl, const char *id, int64_t from_ms,
                  int64_t to_ms, ts_url_time_t unit, char *out,
                  size_t size, char *err);

#endif
