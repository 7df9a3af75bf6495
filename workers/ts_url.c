/*  ts_url - upstream URL and header templates. See ts_url.h. */

#include "ts_url.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
ts_url_time_parse (const char *s, ts_url_time_t *unit)
{
    assert (s);
    assert (unit);
    if (strcmp (s, "ms") == 0)
        *unit = TS_URL_TIME_MS;
    else
    if (strcmp (s, "s") == 0)
        *unit = TS_URL_TIME_S;
    else
    if (strcmp (s, "iso8601") == 0)
        *unit = TS_URL_TIME_ISO;
    else
        return TS_EINVAL;
    return 0;
}

//  The formats of ts_url_time_t, by the name a placeholder gives them.
static const char *const s_unit_names [] = { "ms", "s", "iso8601" };

int
ts_url_time_format (int64_t t_ms, const char *fmt, char *buf, size_t size)
{
    assert (fmt);
    assert (buf && size > 0);
    buf [0] = 0;
    //  Floor, also for times before 1970.
    int64_t secs = t_ms / 1000 - (t_ms % 1000 < 0? 1: 0);
    if (strcmp (fmt, "ms") == 0)
        snprintf (buf, size, "%" PRId64, t_ms);
    else
    if (strcmp (fmt, "s") == 0)
        snprintf (buf, size, "%" PRId64, secs);
    else
    if (strcmp (fmt, "iso8601") == 0) {
        char iso [40];
        ts_strlcpy (buf, ts_time_format (t_ms, iso, sizeof iso), size);
    }
    else
    if (strstr (fmt, "%s"))
        //  strftime's %s reads the struct as local time: wrong but in
        //  UTC. The format "s" is the epoch.
        return TS_EINVAL;
    else
    if (strcmp (fmt, "rfc3339") == 0 || strchr (fmt, '%')) {
        time_t t = (time_t) secs;
        struct tm tm;
        if (!gmtime_r (&t, &tm))
            return TS_EINVAL;
        const char *pattern = strchr (fmt, '%')? fmt: "%Y-%m-%dT%H:%M:%SZ";
        if (strftime (buf, size, pattern, &tm) == 0) {
            buf [0] = 0;
            return TS_EINVAL;
        }
    }
    else
        return TS_EINVAL;
    return 0;
}

//  Appends text JSON-string-escaped at out [*used] (size bytes, kept
//  NUL-terminated). Returns false if it did not fit.
static bool
s_json_escape (char *out, size_t size, size_t *used, const char *text)
{
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        char esc [8];
        if (*p == '"' || *p == '\\')
            snprintf (esc, sizeof esc, "\\%c", *p);
        else
        if (*p < 0x20 || *p == 0x7f)
            snprintf (esc, sizeof esc, "\\u%04x", *p);
        else {
            esc [0] = (char) *p;
            esc [1] = 0;
        }
        size_t n = strlen (esc);
        if (*used + n + 1 > size) {
            out [*used] = 0;
            return false;
        }
        memcpy (out + *used, esc, n + 1);
        *used += n;
    }
    return true;
}

//  The time placeholder at p - {from}, {to}, {last_fetched}, each with an
//  optional ":format" - written into value. Returns its length in the
//  template, 0 if p is no time placeholder, or -1 (err filled) if its
//  format is unknown.
static int
s_time_placeholder (const char *p, const ts_url_args_t *args,
                    const char *what, char *value, size_t size, char *err)
{
    static const char *const names [] = { "{from", "{to", "{last_fetched" };
    int64_t times [3] = { args->from_ms, args->to_ms,
                          args->last_fetched_ms? args->last_fetched_ms
                                               : args->from_ms };
    for (int k = 0; k < 3; k++) {
        size_t len = strlen (names [k]);
        if (strncmp (p, names [k], len) || (p [len] != '}' && p [len] != ':'))
            continue;
        char fmt [64];
        const char *end = strchr (p + len, '}');
        if (p [len] == '}')
            ts_strlcpy (fmt, s_unit_names [args->unit], sizeof fmt);
        else
        if (!end || (size_t) (end - p - len - 1) >= sizeof fmt)
            end = NULL;
        else {
            memcpy (fmt, p + len + 1, (size_t) (end - p - len - 1));
            fmt [end - p - len - 1] = 0;
        }
        if (!end || ts_url_time_format (times [k], fmt, value, size) != 0) {
            ts_errf (err, "%s for id %s: %s...}: unknown time format "
                     "(ms, s, rfc3339, iso8601 or a strftime pattern)",
                     what, args->id, names [k]);
            return -1;
        }
        return (int) (end - p + 1);
    }
    return 0;
}

int
ts_url_expand (const char *tmpl, const ts_url_args_t *args,
               ts_url_escape_t esc, const char *what, char *out,
               size_t size, char *err)
{
    assert (tmpl);
    assert (args && args->id);
    assert (what);
    assert (out && size > 0);
    const size_t key_len = strlen (TS_URL_API_KEY);
    size_t used = 0;
    bool fits = true;
    const char *p = tmpl;
    while (*p && fits) {
        char value [128];
        const char *text = NULL;
        int skip = 0;
        if (strncmp (p, "{id}", 4) == 0) {
            text = args->id;
            skip = 4;
        }
        else
        if (strncmp (p, TS_URL_API_KEY, key_len) == 0) {
            if (!args->api_key) {
                explicit_bzero (out, size);
                ts_errf (err, "%s for id %s holds %s but no key is "
                         "configured (upstream.api_key_env, "
                         "upstream.api_key_file)", what, args->id,
                         TS_URL_API_KEY);
                return TS_EINVAL;
            }
            text = args->api_key;
            skip = (int) key_len;
        }
        else
        if (*p == '{') {
            skip = s_time_placeholder (p, args, what, value, sizeof value,
                                       err);
            if (skip < 0) {
                explicit_bzero (out, size);
                return TS_EINVAL;
            }
            text = skip? value: NULL;
        }
        if (text) {
            fits = esc == TS_URL_ESC_JSON
                 ? s_json_escape (out, size, &used, text)
                 : ts_percent_encode (out, size, &used, text);
            p += skip;
        }
        else
        if (used + 1 < size)
            out [used++] = *p++;
        else
            fits = false;
    }
    out [used] = 0;
    if (!fits) {
        //  What did fit may end in part of the key: leave nothing.
        explicit_bzero (out, size);
        ts_errf (err, "%s for id %s longer than %zu bytes", what, args->id,
                 size - 1);
        return TS_ETOOBIG;
    }
    return 0;
}

int
ts_url_build (const char *tmpl, const ts_url_args_t *args, char *out,
              size_t size, char *err)
{
    return ts_url_expand (tmpl, args, TS_URL_ESC_URL, "URL", out, size, err);
}

bool
ts_url_uses_key (const char *tmpl)
{
    assert (tmpl);
    return strstr (tmpl, TS_URL_API_KEY) != NULL;
}

//  Writes line with every {api_key} replaced by key into a new string.
static char *
s_fill_key (const char *line, const char *key)
{
    const size_t key_len = strlen (TS_URL_API_KEY);
    size_t n = 0;
    for (const char *p = strstr (line, TS_URL_API_KEY); p;
         p = strstr (p + key_len, TS_URL_API_KEY))
        n++;
    size_t size = strlen (line) + n * strlen (key) + 1;
    char *out = malloc (size);
    if (!out)
        return NULL;
    size_t used = 0;
    const char *p = line;
    const char *hit;
    while ((hit = strstr (p, TS_URL_API_KEY))) {
        memcpy (out + used, p, (size_t) (hit - p));
        used += (size_t) (hit - p);
        memcpy (out + used, key, strlen (key));
        used += strlen (key);
        p = hit + key_len;
    }
    memcpy (out + used, p, strlen (p) + 1);
    return out;
}

//  Appends a header that holds the key; wipes the scratch copy.
static int
s_append_secret (ts_strlist_t *headers, char *line)
{
    if (!line)
        return TS_ENOMEM;
    int rc = ts_strlist_append (headers, line);
    explicit_bzero (line, strlen (line));
    free (line);
    return rc;
}

int
ts_url_headers (const ts_strlist_t *conf, const char *url_tmpl,
                const char *api_key, const char *key_header,
                ts_strlist_t **headers, char *err)
{
    assert (url_tmpl);
    assert (key_header);
    assert (headers);
    *headers = NULL;
    bool placed = ts_url_uses_key (url_tmpl);
    for (size_t i = 0; conf && i < conf->n; i++)
        placed = placed || ts_url_uses_key (conf->items [i]);
    if (placed && !api_key) {
        ts_errf (err, "%s is used but no upstream API key is configured "
                 "(upstream.api_key_env, upstream.api_key_file)",
                 TS_URL_API_KEY);
        return TS_EINVAL;
    }
    for (const char *p = api_key; p && *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            ts_errf (err, "upstream API key holds control characters");
            return TS_EINVAL;
        }
    ts_strlist_t *list = ts_strlist_new ();
    int rc = list? 0: TS_ENOMEM;
    for (size_t i = 0; rc == 0 && conf && i < conf->n; i++) {
        if (ts_url_uses_key (conf->items [i]))
            rc = s_append_secret (list, s_fill_key (conf->items [i],
                                                    api_key));
        else
            rc = ts_strlist_append (list, conf->items [i]);
    }
    if (rc == 0 && api_key && !placed) {
        size_t size = strlen (key_header) + strlen (api_key) + 3;
        char *line = malloc (size);
        if (line)
            snprintf (line, size, "%s: %s", key_header, api_key);
        rc = s_append_secret (list, line);
    }
    if (rc != 0) {
        ts_url_headers_destroy (&list);
        ts_errf (err, "out of memory");
        return rc;
    }
    *headers = list;
    return 0;
}

void
ts_url_headers_destroy (ts_strlist_t **headers_p)
{
    assert (headers_p);
    ts_strlist_t *headers = *headers_p;
    for (size_t i = 0; headers && i < headers->n; i++)
        explicit_bzero (headers->items [i], strlen (headers->items [i]));
    ts_strlist_destroy (headers_p);
}
