/*  ts_url - upstream URL templates. See ts_url.h. */

#include "ts_url.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
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

//  Appends text percent-encoded at out [*used]. False if it did not fit.
static bool
s_append_encoded (char *out, size_t size, size_t *used, const char *text)
{
    static const char digits [] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
                  || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
                  || *p == '_' || *p == '~';
        size_t need = plain? 1: 3;
        if (*used + need >= size)
            return false;
        if (plain)
            out [(*used)++] = (char) *p;
        else {
            out [(*used)++] = '%';
            out [(*used)++] = digits [*p >> 4];
            out [(*used)++] = digits [*p & 15];
        }
    }
    return true;
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
ts_url_build (const char *tmpl, const char *id, int64_t from_ms,
              int64_t to_ms, ts_url_time_t unit, char *out, size_t size,
              char *err)
{
    assert (tmpl);
    assert (id);
    assert (out && size > 0);
    size_t used = 0;
    bool fits = true;
    const char *p = tmpl;
    while (*p && fits) {
        char value [48];
        const char *text = NULL;
        size_t skip = 0;
        if (strncmp (p, "{id}", 4) == 0) {
            text = id;
            skip = 4;
        }
        else
        if (strncmp (p, "{from}", 6) == 0) {
            s_format_time (from_ms, unit, value, sizeof value);
            text = value;
            skip = 6;
        }
        else
        if (strncmp (p, "{to}", 4) == 0) {
            s_format_time (to_ms, unit, value, sizeof value);
            text = value;
            skip = 4;
        }
        if (text) {
            fits = s_append_encoded (out, size, &used, text);
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
        ts_errf (err, "URL for id %s longer than %zu bytes", id, size - 1);
        return TS_ETOOBIG;
    }
    return 0;
}
