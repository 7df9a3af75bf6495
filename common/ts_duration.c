/*  ts_duration - durations and time bounds from config text. See
    ts_duration.h. */

#include "ts_duration.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

//  Largest duration: 9e15 ms, about 285 000 years, so that now +/- it
//  and s -> ms conversions stay clear of int64 overflow.
#define S_DURATION_MAX_MS 9000000000000000LL

int
ts_duration_parse (const char *text, size_t len, int64_t *ms)
{
    if (len < 2 || !isdigit ((unsigned char) text [0]))
        return TS_EINVAL;
    int64_t n = 0;
    size_t i = 0;
    for (; i < len && isdigit ((unsigned char) text [i]); i++) {
        n = n * 10 + (text [i] - '0');
        if (n > S_DURATION_MAX_MS / 1000)
            return TS_EINVAL;
    }
    if (i + 1 != len)
        return TS_EINVAL;
    int64_t unit;
    switch (text [i]) {
        case 's': unit = 1000; break;
        case 'm': unit = 60 * 1000LL; break;
        case 'h': unit = 3600 * 1000LL; break;
        case 'd': unit = 86400 * 1000LL; break;
        case 'w': unit = 7 * 86400 * 1000LL; break;
        case 'y': unit = 365 * 86400 * 1000LL; break;
        default:  return TS_EINVAL;
    }
    if (n > S_DURATION_MAX_MS / unit)
        return TS_EINVAL;
    *ms = n * unit;
    return 0;
}

int
ts_time_bound_parse (const char *text, int sign, ts_time_bound_t *bound,
                     char *reason, size_t size)
{
    assert (text);
    assert (bound);
    memset (bound, 0, sizeof *bound);
    size_t len = strlen (text);
    if (len == 0 || strcmp (text, "off") == 0)
        return 0;
    const char *p = text;
    size_t plen = len;
    int dir = sign < 0? -1: 1;
    bool now = strncmp (text, "now", 3) == 0;
    if (now) {
        p += 3;
        plen -= 3;
        if (plen > 1 && (*p == '+' || *p == '-')) {
            dir = *p == '-'? -1: 1;
            p++;
            plen--;
        }
        else
        if (plen > 0)
            p = NULL;
    }
    int64_t ms = 0;
    if (p && (plen == 0? now: ts_duration_parse (p, plen, &ms) == 0)) {
        bound->set = true;
        bound->relative = true;
        bound->ms = dir * ms;
        if (plen == 0)
            snprintf (bound->text, sizeof bound->text, "now");
        else
            snprintf (bound->text, sizeof bound->text, "now%c%.*s",
                      dir < 0? '-': '+', (int) (plen > 40? 40: plen), p);
        return 0;
    }
    //  An instant: a date alone is its midnight, UTC.
    char iso [64];
    if (len == 10)
        snprintf (iso, sizeof iso, "%sT00:00", text);
    else
        snprintf (iso, sizeof iso, "%.63s", text);
    if (len < sizeof iso && ts_time_parse_iso (iso, strlen (iso), &ms) == 0) {
        bound->set = true;
        bound->ms = ms;
        snprintf (bound->text, sizeof bound->text, "%.40s", text);
        return 0;
    }
    snprintf (reason, size, "must be off, a duration from now (\"365d\", "
              "\"now+365d\", \"now-3650d\"; units s m h d w y) or a date "
              "(\"2000-01-01\", ISO 8601)");
    return TS_EINVAL;
}

int64_t
ts_time_bound_at (const ts_time_bound_t *bound, int64_t now_ms)
{
    assert (bound && bound->set);
    return bound->relative? now_ms + bound->ms: bound->ms;
}
