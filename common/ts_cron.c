/*  ts_cron - five-field cron expressions, in UTC.

    The broker's scheduler parses broker.schedule once with ts_cron_parse
    and asks ts_cron_next for the next tick after each run. A parsed
    expression is a set of bit masks, one per field, so matching a minute
    is five bit tests.

    Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12
    or jan..dec), day of week (0-7 or sun..sat, 0 and 7 both Sunday). Each
    field is a comma list of items; an item is *, n, a-b, * / s or a-b/s
    (without the spaces). Names are case-insensitive and may be used in
    ranges ("mon-fri").

    Day matching follows Vixie cron: a field counts as unrestricted when
    its text starts with '*' (so "* / 2" in day of month is still "star"
    for this rule, as in Vixie cron). If both day fields are restricted a
    day matches when either matches; otherwise both must match.

    ts_cron_next walks forward from the next minute boundary, skipping
    whole months, days and hours that cannot match, so even a yearly
    expression takes a few hundred steps. No clock and no local time: all
    arithmetic is in UTC with timegm/gmtime_r. */

#include "ts_cron.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_MINUTE_MS     60000LL
#define S_SEARCH_DAYS   (5 * 366)       //  how far ts_cron_next looks

typedef struct {
    const char *name;           //  for error messages
    int lo;                     //  smallest value allowed
    int hi;                     //  largest value allowed
    const char *const *names;   //  three-letter names for lo.., or NULL
} s_field_t;

static const char *const s_month_names [] = {
    "jan", "feb", "mar", "apr", "may", "jun",
    "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const s_wday_names [] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const s_field_t s_fields [5] = {
    { "minute",       0, 59, NULL },
    { "hour",         0, 23, NULL },
    { "day-of-month", 1, 31, NULL },
    { "month",        1, 12, s_month_names },
    { "day-of-week",  0,  7, s_wday_names }
};


//  Parses one value (number or name) of text [s, end). Returns 0 and sets
//  *value, or TS_EINVAL with err filled.
static int
s_parse_value (const s_field_t *field, int index, const char *s,
               const char *end, int *value, char *err)
{
    size_t len = (size_t) (end - s);
    if (len == 0) {
        ts_errf (err, "field %d (%s): missing value", index + 1, field->name);
        return TS_EINVAL;
    }
    if (isdigit ((unsigned char) *s)) {
        long v = 0;
        for (const char *p = s; p < end; p++) {
            if (!isdigit ((unsigned char) *p)) {
                ts_errf (err, "field %d (%s): bad value \"%.*s\"",
                         index + 1, field->name, (int) (len > 32? 32: len), s);
                return TS_EINVAL;
            }
            v = v * 10 + (*p - '0');
            if (v > 1000)
                break;          //  out of range anyway; avoid overflow
        }
        if (v < field->lo || v > field->hi) {
            ts_errf (err, "field %d (%s): %.*s out of %d-%d", index + 1,
                     field->name, (int) (len > 32? 32: len), s,
                     field->lo, field->hi);
            return TS_EINVAL;
        }
        *value = (int) v;
        return 0;
    }
    if (field->names && len == 3) {
        for (int i = 0; field->names [i]; i++) {
            if (strncasecmp (s, field->names [i], 3) == 0) {
                *value = field->lo + i;
                return 0;
            }
        }
    }
    ts_errf (err, "field %d (%s): bad value \"%.*s\"", index + 1,
             field->name, (int) (len > 32? 32: len), s);
    return TS_EINVAL;
}


//  Parses one list item [s, end) and ORs its values into *bits.
static int
s_parse_item (const s_field_t *field, int index, const char *s,
              const char *end, uint64_t *bits, char *err)
{
    const char *slash = memchr (s, '/', (size_t) (end - s));
    const char *range_end = slash? slash: end;
    int lo, hi, step = 1;

    if (range_end - s == 1 && *s == '*') {
        lo = field->lo;
        hi = field->hi;
    }
    else {
        const char *dash = memchr (s, '-', (size_t) (range_end - s));
        if (s_parse_value (field, index, s, dash? dash: range_end, &lo, err))
            return TS_EINVAL;
        if (dash) {
            if (s_parse_value (field, index, dash + 1, range_end, &hi, err))
                return TS_EINVAL;
            if (hi < lo) {
                ts_errf (err, "field %d (%s): range %.*s is backwards",
                         index + 1, field->name, (int) (range_end - s), s);
                return TS_EINVAL;
            }
        }
        else {
            if (slash) {
                ts_errf (err, "field %d (%s): a step needs * or a range, "
                         "as in */%.8s or a-b/%.8s", index + 1, field->name,
                         slash + 1, slash + 1);
                return TS_EINVAL;
            }
            hi = lo;
        }
    }
    if (slash) {
        const char *p = slash + 1;
        long v = 0;
        if (p == end) {
            ts_errf (err, "field %d (%s): missing step", index + 1,
                     field->name);
            return TS_EINVAL;
        }
        for (; p < end; p++) {
            if (!isdigit ((unsigned char) *p)) {
                ts_errf (err, "field %d (%s): bad step \"%.*s\"", index + 1,
                         field->name, (int) (end - slash - 1 > 32? 32:
                                             end - slash - 1), slash + 1);
                return TS_EINVAL;
            }
            v = v * 10 + (*p - '0');
            if (v > 1000)
                break;
        }
        if (v < 1 || v > field->hi) {
            ts_errf (err, "field %d (%s): step %.*s out of 1-%d", index + 1,
                     field->name, (int) (end - slash - 1 > 32? 32:
                                         end - slash - 1), slash + 1,
                     field->hi);
            return TS_EINVAL;
        }
        step = (int) v;
    }
    for (int v = lo; v <= hi; v += step)
        *bits |= 1ULL << v;
    return 0;
}


//  Parses one field [s, end) into *bits.
static int
s_parse_field (int index, const char *s, const char *end, uint64_t *bits,
               char *err)
{
    const s_field_t *field = &s_fields [index];
    *bits = 0;
    while (true) {
        const char *comma = memchr (s, ',', (size_t) (end - s));
        const char *item_end = comma? comma: end;
        if (item_end == s) {
            ts_errf (err, "field %d (%s): empty list item", index + 1,
                     field->name);
            return TS_EINVAL;
        }
        if (s_parse_item (field, index, s, item_end, bits, err))
            return TS_EINVAL;
        if (!comma)
            break;
        s = comma + 1;
    }
    return 0;
}


int
ts_cron_parse (ts_cron_t *self, const char *expr, char *err)
{
    assert (self);
    memset (self, 0, sizeof *self);
    if (!expr) {
        ts_errf (err, "empty cron expression");
        return TS_EINVAL;
    }
    const char *start [6] = { NULL };
    const char *stop [6] = { NULL };
    int nfields = 0;
    const char *p = expr;
    while (true) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        const char *field_start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (nfields < 6) {
            start [nfields] = field_start;
            stop [nfields] = p;
        }
        nfields++;
    }
    if (nfields != 5) {
        ts_errf (err, "expected 5 fields (minute hour day-of-month month "
                 "day-of-week), got %d", nfields);
        return TS_EINVAL;
    }
    uint64_t bits [5];
    for (int i = 0; i < 5; i++)
        if (s_parse_field (i, start [i], stop [i], &bits [i], err))
            return TS_EINVAL;

    self->minutes = bits [0];
    self->hours = (uint32_t) bits [1];
    self->mdays = (uint32_t) bits [2];
    self->months = (uint16_t) bits [3];
    if (bits [4] & (1ULL << 7))
        bits [4] |= 1;          //  7 is Sunday too
    self->wdays = (uint8_t) (bits [4] & 0x7F);
    self->mday_star = *start [2] == '*';
    self->wday_star = *start [4] == '*';
    return 0;
}


static bool
s_day_matches (const ts_cron_t *self, const struct tm *tm)
{
    bool mday_ok = (self->mdays >> tm->tm_mday) & 1;
    bool wday_ok = (self->wdays >> tm->tm_wday) & 1;
    if (self->mday_star || self->wday_star)
        return mday_ok && wday_ok;
    return mday_ok || wday_ok;
}


int64_t
ts_cron_next (const ts_cron_t *self, int64_t after_ms)
{
    assert (self);
    //  Keep far away from time_t and struct tm limits.
    const int64_t limit_ms = 253402300799000LL;     //  9999-12-31T23:59:59Z
    if (after_ms < -limit_ms || after_ms >= limit_ms)
        return -1;
    if (!self->minutes || !self->hours || !self->mdays || !self->months
    ||  !self->wdays)
        return -1;

    int64_t minute = after_ms / S_MINUTE_MS;
    if (after_ms % S_MINUTE_MS < 0)
        minute--;               //  floor for times before 1970
    time_t t = (time_t) ((minute + 1) * 60);
    time_t stop = t + (time_t) S_SEARCH_DAYS * 86400;

    while (t <= stop) {
        struct tm tm;
        if (!gmtime_r (&t, &tm))
            return -1;
        if (!((self->months >> (tm.tm_mon + 1)) & 1)) {
            tm.tm_mon++;        //  first minute of next month
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        }
        else
        if (!s_day_matches (self, &tm)) {
            tm.tm_mday++;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        }
        else
        if (!((self->hours >> tm.tm_hour) & 1)) {
            tm.tm_hour++;
            tm.tm_min = tm.tm_sec = 0;
        }
        else
        if (!((self->minutes >> tm.tm_min) & 1)) {
            tm.tm_min++;
            tm.tm_sec = 0;
        }
        else
            return (int64_t) t * 1000;
        tm.tm_isdst = 0;
        t = timegm (&tm);
        if (t == (time_t) -1)
            return -1;
    }
    return -1;
}
