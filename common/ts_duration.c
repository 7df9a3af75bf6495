/*  ts_duration - durations written for people. See ts_duration.h. */

#include "ts_duration.h"

#include <assert.h>
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
        { "d", 86400000 }, { "w", 7 * INT64_C (86400000) } };
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
    ts_errf (err, "'%s': %s '%s' (ms, s, m, h, d or w)", text,
             *p? "unknown unit": "missing unit after", *p? p: text);
    return TS_EINVAL;
}
