/*  ts_url - upstream URL and header templates. See ts_url.h. */

#include "ts_url.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void
s_format_time (int64_t ms, ts_url_time_t unit, char *buf, size_t size)
{
    if (unit == TS_URL_TIME_S) {
        //  Floor, also for times before 1970.
        int64_t s = ms / 1000 - (ms % 1000 < 0? 1: 0);
        snprintf (buf, size, "%" PRId64, s);
    }
    else
    if (unit == TS_URL_TIME_ISO)
        ts_time_format (ms, buf, size);
    else
        snprintf (buf, size, "%" PRId64, ms);
}

int
ts_url_build (const char *tmpl, const ts_url_args_t *args, char *out,
              size_t size, char *err)
{
    assert (tmpl);
    assert (args && args->id);
    assert (out && size > 0);
    const size_t key_len = strlen (TS_URL_API_KEY);
    size_t used = 0;
    bool fits = true;
    const char *p = tmpl;
    while (*p && fits) {
        char value [48];
        const char *text = NULL;
        size_t skip = 0;
        if (strncmp (p, "{id}", 4) == 0) {
            text = args->id;
            skip = 4;
        }
        else
        if (strncmp (p, "{from}", 6) == 0) {
            s_format_time (args->from_ms, args->unit, value, sizeof value);
            text = value;
            skip = 6;
        }
        else
        if (strncmp (p, "{to}", 4) == 0) {
            s_format_time (args->to_ms, args->unit, value, sizeof value);
            text = value;
            skip = 4;
        }
        else
        if (strncmp (p, TS_URL_API_KEY, key_len) == 0) {
            if (!args->api_key) {
                out [0] = 0;
                ts_errf (err, "URL for id %s: upstream.url holds %s but no "
                         "key is configured (upstream.api_key_env, "
                         "upstream.api_key_file)", args->id, TS_URL_API_KEY);
                return TS_EINVAL;
            }
            text = args->api_key;
            skip = key_len;
        }
        if (text) {
            fits = ts_percent_encode (out, size, &used, text);
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
        ts_errf (err, "URL for id %s longer than %zu bytes", args->id,
                 size - 1);
        return TS_ETOOBIG;
    }
    return 0;
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
