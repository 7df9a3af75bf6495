/*  ts_duration - durations and time bounds from config text. See
    ts_duration.h. */

#include "ts_duration.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

int
ts_duration_parse (const char *text, int64_t *ms, char *err)
{
    assert (ms);
    static const struct {
        const char *name;
        int64_t     ms;
    } units [] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
        { "d", 86400000 }, { "w", 7 * INT64_C (86400000) },
        { "y", 365 * INT64_C (86400000) } };
    *ms = 0;
    if (!text || !*text) {
        ts_errf (err, "empty: write a number and a unit, e.g. 30d");
        return TS_EINVAL;
    }
    const char *p = text;
    int64_t number = 0;
    while (*p >= '0' && *p <= '9') {
        if (number > TS_DURATION_MAX_MS) {
            ts_errf (err, "'%s': longer than 100 years", text);
            return TS_EINVAL;
        }
        number = number * 10 + (*p++ - '0');
    }
    if (p == text) {
        ts_errf (err, "'%s': must start with a whole number, e.g. 30d",
                 text);
        return TS_EINVAL;
    }
    if (!*p && number == 0)
        return 0;                   //  "0": none
    for (size_t i = 0; i < sizeof units / sizeof units [0]; i++)
        if (strcmp (p, units [i].name) == 0) {
            if (number > TS_DURATION_MAX_MS / units [i].ms) {
                ts_errf (err, "'%s': longer than 100 years", text);
                return TS_EINVAL;
            }
            *ms = number * units [i].ms;
            return 0;
        }
    ts_errf (err, "'%s': %s '%s' (ms, s, m, h, d, w or y)", text,
             *p? "unknown unit": "missing unit after", *p? p: text);
    return TS_EINVAL;
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
    char duration [32] = "";
    if (p && plen > 0 && plen < sizeof duration) {
        memcpy (duration, p, plen);
        duration [plen] = 0;
    }
    if (p && (plen == 0? now: *duration
                             && ts_duration_parse (duration, &ms, NULL) == 0)) {
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
