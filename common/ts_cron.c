/*  ts_cron - schedule expressions, in UTC (the forms are in ts_cron.h).

    The config checks parse every schedule key with ts_cron_parse; the
    broker's scheduler keeps one parsed expression per source and asks
    ts_cron_next_shifted for its next fire time after each run.

    A parsed cron is a set of bit masks, one per field, plus the few
    EventBridge day rules (L, W, #) that a mask can not say, so matching
    a minute is a handful of bit tests. The five-field form and cron()
    share one item parser; cron() adds n/s steps, ?, the special day
    tokens and a Year field, and numbers its days of the week from 1 =
    Sunday (stored in the same 0 = Sunday mask). A rate is just a period.

    Day matching for the five-field form follows Vixie cron: a field
    counts as unrestricted when its text starts with '*' (so "* / 2" in
    day of month is still "star" for this rule, as in Vixie cron). If both
    day fields are restricted a day matches when either matches; otherwise
    both must match. In cron() one day field is always ?, which counts as
    unrestricted, so the same rule gives EventBridge's meaning.

    ts_cron_next walks forward from the next minute boundary, skipping
    whole years, months, days and hours that cannot match, so even a
    yearly expression takes a few hundred steps. No clock and no local
    time: all arithmetic is in UTC with timegm/gmtime_r. */

#include "ts_cron.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_MINUTE_MS     60000LL
#define S_DAY_MS        86400000LL
#define S_SEARCH_DAYS   (5 * 366)       //  how far ts_cron_next looks
#define S_YEAR_LO       1970            //  cron() Year field
#define S_YEAR_HI       2199
#define S_RATE_MAX_MS   (365 * S_DAY_MS)
#define S_SHOWN         60              //  bytes of an expression in errors

typedef struct {
    const char *name;           //  for error messages
    int lo;                     //  smallest value allowed
    int hi;                     //  largest value allowed
    const char *const *names;   //  three-letter names for lo.., or NULL
    int bit_base;               //  value v is bit v - bit_base
    const char *hint;           //  appended to "out of lo-hi", or ""
} s_field_t;

static const char *const s_month_names [] = {
    "jan", "feb", "mar", "apr", "may", "jun",
    "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const s_wday_names [] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const s_field_t s_fields [5] = {
    { "minute",       0, 59, NULL, 0, "" },
    { "hour",         0, 23, NULL, 0, "" },
    { "day-of-month", 1, 31, NULL, 0, "" },
    { "month",        1, 12, s_month_names, 0, "" },
    { "day-of-week",  0,  7, s_wday_names, 0, "" }
};

//  EventBridge's names, in its order; days of the week 1-7 from Sunday.
static const s_field_t s_eb_fields [6] = {
    { "minutes",      0, 59, NULL, 0, "" },
    { "hours",        0, 23, NULL, 0, "" },
    { "day-of-month", 1, 31, NULL, 0, "" },
    { "month",        1, 12, s_month_names, 0, "" },
    { "day-of-week",  1,  7, s_wday_names, 1, " (1 = SUN ... 7 = SAT)" },
    { "year",         S_YEAR_LO, S_YEAR_HI, NULL, S_YEAR_LO, "" }
};

//  The @ shorthands, as five fields.
static const struct {
    const char *name;
    const char *fields;
} s_macros [] = {
    { "@hourly",   "0 * * * *" },
    { "@daily",    "0 0 * * *" },
    { "@midnight", "0 0 * * *" },
    { "@weekly",   "0 0 * * 0" },
    { "@monthly",  "0 0 1 * *" },
    { "@yearly",   "0 0 1 1 *" },
    { "@annually", "0 0 1 1 *" },
    { NULL, NULL }
};

//  Where an error is: the field being parsed, the text of a cron() for
//  the message's start, and the caller's buffer.
typedef struct {
    const s_field_t *field;     //  field being parsed
    int index;                  //  its position, from 0
    bool eventbridge;           //  cron(): n/s steps allowed
    const char *prefix;         //  "cron(...): " or ""
    char *err;                  //  caller's buffer, may be NULL
} s_ctx_t;

//  Fills err with the prefix, "field N (name): " and the message.
static int
s_fail (const s_ctx_t *ctx, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_fail (const s_ctx_t *ctx, const char *fmt, ...)
{
    char detail [TS_ERRLEN];
    va_list args;
    va_start (args, fmt);
    vsnprintf (detail, sizeof detail, fmt, args);
    va_end (args);
    ts_errf (ctx->err, "%sfield %d (%s): %s", ctx->prefix, ctx->index + 1,
             ctx->field->name, detail);
    return TS_EINVAL;
}

static int
s_shown (size_t len)
{
    return (int) (len > 32? 32: len);
}

static void
s_bit_set (uint64_t *bits, int bit)
{
    bits [bit / 64] |= 1ULL << (bit % 64);
}

static bool
s_bit_test (const uint64_t *bits, int bit)
{
    return (bits [bit / 64] >> (bit % 64)) & 1;
}

//  Parses one value (number or name) of text [s, end). Returns 0 and sets
//  *value, or TS_EINVAL with err filled.
static int
s_parse_value (const s_ctx_t *ctx, const char *s, const char *end,
               int *value)
{
    const s_field_t *field = ctx->field;
    size_t len = (size_t) (end - s);
    if (len == 0)
        return s_fail (ctx, "missing value");
    if (isdigit ((unsigned char) *s)) {
        long v = 0;
        for (const char *p = s; p < end; p++) {
            if (!isdigit ((unsigned char) *p))
                return s_fail (ctx, "bad value \"%.*s\"", s_shown (len), s);
            v = v * 10 + (*p - '0');
            if (v > 100000)
                break;          //  out of range anyway; avoid overflow
        }
        if (v < field->lo || v > field->hi)
            return s_fail (ctx, "%.*s out of %d-%d%s", s_shown (len), s,
                           field->lo, field->hi, field->hint);
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
    return s_fail (ctx, "bad value \"%.*s\"", s_shown (len), s);
}

//  Parses the step after a slash, [s, end), into *step.
static int
s_parse_step (const s_ctx_t *ctx, const char *s, const char *end, int *step)
{
    const s_field_t *field = ctx->field;
    size_t len = (size_t) (end - s);
    long v = 0;
    if (len == 0)
        return s_fail (ctx, "missing step");
    for (const char *p = s; p < end; p++) {
        if (!isdigit ((unsigned char) *p))
            return s_fail (ctx, "bad step \"%.*s\"", s_shown (len), s);
        v = v * 10 + (*p - '0');
        if (v > 100000)
            break;
    }
    if (v < 1 || v > field->hi)
        return s_fail (ctx, "step %.*s out of 1-%d", s_shown (len), s,
                       field->hi);
    *step = (int) v;
    return 0;
}

//  Parses one list item [s, end) and sets its values' bits.
static int
s_parse_item (const s_ctx_t *ctx, const char *s, const char *end,
              uint64_t *bits)
{
    const s_field_t *field = ctx->field;
    const char *slash = memchr (s, '/', (size_t) (end - s));
    const char *range_end = slash? slash: end;
    int lo, hi, step = 1;

    if (range_end - s == 1 && *s == '*') {
        lo = field->lo;
        hi = field->hi;
    }
    else {
        const char *dash = memchr (s, '-', (size_t) (range_end - s));
        if (s_parse_value (ctx, s, dash? dash: range_end, &lo))
            return TS_EINVAL;
        if (dash) {
            if (s_parse_value (ctx, dash + 1, range_end, &hi))
                return TS_EINVAL;
            if (hi < lo)
                return s_fail (ctx, "range %.*s is backwards",
                               (int) (range_end - s), s);
        }
        else
        if (slash && ctx->eventbridge)
            hi = field->hi;     //  n/s: from n to the top
        else
        if (slash)
            return s_fail (ctx, "a step needs * or a range, as in */%.8s "
                           "or a-b/%.8s", slash + 1, slash + 1);
        else
            hi = lo;
    }
    if (slash && s_parse_step (ctx, slash + 1, end, &step))
        return TS_EINVAL;
    for (int v = lo; v <= hi; v += step)
        s_bit_set (bits, v - field->bit_base);
    return 0;
}

//  Parses one field [s, end), a comma list, into bits (cleared first).
static int
s_parse_field (const s_ctx_t *ctx, const char *s, const char *end,
               uint64_t *bits)
{
    memset (bits, 0, 4 * sizeof (uint64_t));
    while (true) {
        const char *comma = memchr (s, ',', (size_t) (end - s));
        const char *item_end = comma? comma: end;
        if (item_end == s)
            return s_fail (ctx, "empty list item");
        if (s_parse_item (ctx, s, item_end, bits))
            return TS_EINVAL;
        if (!comma)
            break;
        s = comma + 1;
    }
    return 0;
}

//  Splits text [p, end) at white space into at most max fields; returns
//  how many there are (may be more than max).
static int
s_split (const char *p, const char *end, const char **start,
         const char **stop, int max)
{
    int n = 0;
    while (true) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end)
            break;
        const char *field_start = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if (n < max) {
            start [n] = field_start;
            stop [n] = p;
        }
        n++;
    }
    return n;
}

static bool
s_is (const char *s, const char *end, const char *word)
{
    size_t len = strlen (word);
    return (size_t) (end - s) == len && strncasecmp (s, word, len) == 0;
}

static int
s_parse_fields (ts_cron_t *self, const char *expr, char *err)
{
    const char *start [5], *stop [5];
    const char *end = expr + strlen (expr);
    int nfields = s_split (expr, end, start, stop, 5);
    if (nfields != 5) {
        ts_errf (err, "expected 5 fields (minute hour day-of-month month "
                 "day-of-week), got %d%s", nfields, nfields == 6?
                 "; an EventBridge expression is written cron(...)": "");
        return TS_EINVAL;
    }
    uint64_t bits [5][4];
    for (int i = 0; i < 5; i++) {
        s_ctx_t ctx = { &s_fields [i], i, false, "", err };
        if (s_parse_field (&ctx, start [i], stop [i], bits [i]))
            return TS_EINVAL;
    }
    self->kind = TS_CRON_FIELDS;
    self->minutes = bits [0][0];
    self->hours = (uint32_t) bits [1][0];
    self->mdays = (uint32_t) bits [2][0];
    self->months = (uint16_t) bits [3][0];
    if (bits [4][0] & (1ULL << 7))
        bits [4][0] |= 1;       //  7 is Sunday too
    self->wdays = (uint8_t) (bits [4][0] & 0x7F);
    self->mday_star = *start [2] == '*';
    self->wday_star = *start [4] == '*';
    memset (self->years, 0xFF, sizeof self->years);
    return 0;
}

//  The special day tokens of cron(), each the whole field. Returns 1 if
//  [s, end) was one (self set), 0 if not, TS_EINVAL on a bad one.
static int
s_parse_eb_mday (const s_ctx_t *ctx, const char *s, const char *end,
                 ts_cron_t *self)
{
    size_t len = (size_t) (end - s);
    if (s_is (s, end, "L")) {
        self->mday_last = true;
        return 1;
    }
    if (s_is (s, end, "LW")) {
        self->mday_weekday = -1;
        return 1;
    }
    if (len >= 2 && toupper ((unsigned char) end [-1]) == 'W'
    &&  !memchr (s, ',', len) && !memchr (s, '-', len)
    &&  !memchr (s, '/', len)) {
        int day;
        if (s_parse_value (ctx, s, end - 1, &day))
            return TS_EINVAL;
        self->mday_weekday = (int8_t) day;
        return 1;
    }
    for (const char *p = s; p < end; p++)
        if (toupper ((unsigned char) *p) == 'L'
        ||  toupper ((unsigned char) *p) == 'W')
            return s_fail (ctx, "\"%.*s\": L and W stand alone as the "
                           "whole field (L, LW or nW); L-n and L or W in a "
                           "list or range are not supported",
                           s_shown (len), s);
    return 0;
}

static int
s_parse_eb_wday (const s_ctx_t *ctx, const char *s, const char *end,
                 ts_cron_t *self)
{
    size_t len = (size_t) (end - s);
    const char *hash = memchr (s, '#', len);
    int day;
    if (s_is (s, end, "L")) {
        self->wdays = 1 << 6;   //  Saturday, the last day of the week
        return 1;
    }
    if (hash) {
        if (memchr (s, ',', len) || memchr (s, '-', len)
        ||  memchr (s, '/', len))
            return s_fail (ctx, "\"%.*s\": # takes one day, as the whole "
                           "field (d#k, e.g. 3#2)", s_shown (len), s);
        if (s_parse_value (ctx, s, hash, &day))
            return TS_EINVAL;
        const char *k = hash + 1;
        if (end - k != 1 || *k < '1' || *k > '5')
            return s_fail (ctx, "\"%.*s\": the week after # must be 1-5",
                           s_shown (len), s);
        self->wdays = (uint8_t) (1 << (day - 1));
        self->wday_nth = (int8_t) (*k - '0');
        return 1;
    }
    if (len >= 2 && toupper ((unsigned char) end [-1]) == 'L'
    &&  !memchr (s, ',', len) && !memchr (s, '-', len)
    &&  !memchr (s, '/', len)) {
        if (s_parse_value (ctx, s, end - 1, &day))
            return TS_EINVAL;
        self->wdays = (uint8_t) (1 << (day - 1));
        self->wday_last = true;
        return 1;
    }
    for (const char *p = s; p < end; p++)
        if (toupper ((unsigned char) *p) == 'L')
            return s_fail (ctx, "\"%.*s\": L stands alone as the whole "
                           "field (L or dL)", s_shown (len), s);
    return 0;
}

static int
s_parse_eventbridge (ts_cron_t *self, const char *expr, const char *open,
                     const char *close, char *err)
{
    char prefix [S_SHOWN + 16];
    size_t expr_len = (size_t) (close - expr) + 1;
    snprintf (prefix, sizeof prefix, "%.*s%s: ",
              (int) (expr_len > S_SHOWN? S_SHOWN: expr_len), expr,
              expr_len > S_SHOWN? "...": "");
    const char *start [6], *stop [6];
    int nfields = s_split (open + 1, close, start, stop, 6);
    if (nfields != 6) {
        ts_errf (err, "%sexpected 6 fields (minutes hours day-of-month "
                 "month day-of-week year), got %d", prefix, nfields);
        return TS_EINVAL;
    }
    uint64_t bits [6][4];
    bool any [6] = { false };
    for (int i = 0; i < 6; i++) {
        s_ctx_t ctx = { &s_eb_fields [i], i, true, prefix, err };
        const char *s = start [i], *end = stop [i];
        bool day_field = i == 2 || i == 4;
        if (memchr (s, '?', (size_t) (end - s))) {
            if (!s_is (s, end, "?"))
                return s_fail (&ctx, "? stands alone as the whole field");
            if (!day_field)
                return s_fail (&ctx, "? is only for day-of-month or "
                               "day-of-week");
            any [i] = true;
        }
        int special = 0;
        if (i == 2 && !any [i])
            special = s_parse_eb_mday (&ctx, s, end, self);
        else
        if (i == 4 && !any [i])
            special = s_parse_eb_wday (&ctx, s, end, self);
        if (special < 0)
            return TS_EINVAL;
        memset (bits [i], 0, sizeof bits [i]);
        static const char star [] = "*";
        if (any [i])
            s_parse_field (&ctx, star, star + 1, bits [i]);
        else
        if (!special && s_parse_field (&ctx, s, end, bits [i]))
            return TS_EINVAL;
    }
    if (any [2] == any [4]) {
        ts_errf (err, "%sone of day-of-month (field 3) and day-of-week "
                 "(field 5) must be ?, the other a value or *%s", prefix,
                 any [2]? ", not both ?": "");
        return TS_EINVAL;
    }
    self->kind = TS_CRON_EVENTBRIDGE;
    self->minutes = bits [0][0];
    self->hours = (uint32_t) bits [1][0];
    self->mdays = (uint32_t) bits [2][0];
    self->months = (uint16_t) bits [3][0];
    if (!self->wdays)           //  not set by L, dL or d#k
        self->wdays = (uint8_t) (bits [4][0] & 0x7F);
    self->mday_star = any [2] || *start [2] == '*';
    self->wday_star = any [4] || *start [4] == '*';
    memcpy (self->years, bits [5], sizeof self->years);
    return 0;
}

static int
s_parse_rate (ts_cron_t *self, const char *expr, const char *open,
              const char *close, char *err)
{
    int shown = (int) (close - expr + 1 > S_SHOWN? S_SHOWN
                       : close - expr + 1);
    const char *start [3], *stop [3];
    int n = s_split (open + 1, close, start, stop, 3);
    if (n != 2) {
        ts_errf (err, "%.*s: expected rate(value unit), e.g. rate(5 "
                 "minutes) or rate(1 hour)", shown, expr);
        return TS_EINVAL;
    }
    int64_t value = 0;
    for (const char *p = start [0]; p < stop [0]; p++) {
        if (!isdigit ((unsigned char) *p) || value > 1000000000) {
            ts_errf (err, "%.*s: the value must be a whole number above "
                     "0", shown, expr);
            return TS_EINVAL;
        }
        value = value * 10 + (*p - '0');
    }
    if (value < 1) {
        ts_errf (err, "%.*s: the value must be a whole number above 0",
                 shown, expr);
        return TS_EINVAL;
    }
    static const struct {
        const char *one;
        const char *many;
        int64_t ms;
    } units [] = {
        { "minute", "minutes", S_MINUTE_MS },
        { "hour", "hours", 60 * S_MINUTE_MS },
        { "day", "days", S_DAY_MS },
    };
    for (size_t i = 0; i < sizeof units / sizeof units [0]; i++) {
        bool one = s_is (start [1], stop [1], units [i].one);
        bool many = s_is (start [1], stop [1], units [i].many);
        if (!one && !many)
            continue;
        if (one && value != 1) {
            ts_errf (err, "%.*s: a value above 1 takes the plural unit "
                     "\"%s\"", shown, expr, units [i].many);
            return TS_EINVAL;
        }
        if (many && value == 1) {
            ts_errf (err, "%.*s: the value 1 takes the singular unit "
                     "\"%s\"", shown, expr, units [i].one);
            return TS_EINVAL;
        }
        if (value > S_RATE_MAX_MS / units [i].ms) {
            ts_errf (err, "%.*s: the period is at most 365 days", shown,
                     expr);
            return TS_EINVAL;
        }
        self->kind = TS_CRON_RATE;
        self->period_ms = value * units [i].ms;
        return 0;
    }
    ts_errf (err, "%.*s: unit \"%.*s\" is not minute(s), hour(s) or "
             "day(s)", shown, expr, s_shown ((size_t) (stop [1] - start [1])),
             start [1]);
    return TS_EINVAL;
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
    while (*expr == ' ' || *expr == '\t')
        expr++;
    if (*expr == '@') {
        const char *end = expr + strlen (expr);
        while (end > expr && (end [-1] == ' ' || end [-1] == '\t'))
            end--;
        for (int i = 0; s_macros [i].name; i++)
            if (s_is (expr, end, s_macros [i].name))
                return s_parse_fields (self, s_macros [i].fields, err);
        ts_errf (err, "\"%.*s\": not one of @hourly, @daily, @midnight, "
                 "@weekly, @monthly, @yearly, @annually",
                 s_shown ((size_t) (end - expr)), expr);
        return TS_EINVAL;
    }
    bool is_cron = strncasecmp (expr, "cron", 4) == 0;
    bool is_rate = strncasecmp (expr, "rate", 4) == 0;
    if (!is_cron && !is_rate)
        return s_parse_fields (self, expr, err);
    const char *open = expr + 4;
    const char *close = strchr (open, ')');
    const char *rest = close? close + 1: open;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*open != '(' || !close || *rest) {
        ts_errf (err, "\"%.*s\": expected %s(...) and nothing after it",
                 s_shown (strlen (expr)), expr, is_cron? "cron": "rate");
        return TS_EINVAL;
    }
    return is_cron? s_parse_eventbridge (self, expr, open, close, err)
                  : s_parse_rate (self, expr, open, close, err);
}

//  ---------------------------------------------------------------------
//  Fire times

static int
s_days_in_month (int year, int mon)     //  mon 0-11
{
    static const int days [12] = { 31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return mon == 1 && leap? 29: days [mon];
}

//  The day of the month the W rule picks in tm's month, or 0.
static int
s_weekday_day (const ts_cron_t *self, const struct tm *tm, int dim)
{
    int day = self->mday_weekday < 0? dim: self->mday_weekday;
    if (day > dim)
        return 0;
    int wday = ((tm->tm_wday + day - tm->tm_mday) % 7 + 7) % 7;
    if (wday == 6)              //  Saturday: the Friday before, or the
        return day == 1? 3: day - 1;            //  Monday if that leaves
    if (wday == 0)              //  Sunday: the Monday after, or the
        return day == dim? day - 2: day + 1;    //  Friday (month's end)
    return day;
}

static bool
s_day_matches (const ts_cron_t *self, const struct tm *tm)
{
    int dim = s_days_in_month (tm->tm_year + 1900, tm->tm_mon);
    bool mday_ok;
    if (self->mday_last)
        mday_ok = tm->tm_mday == dim;
    else
    if (self->mday_weekday)
        mday_ok = tm->tm_mday == s_weekday_day (self, tm, dim);
    else
        mday_ok = (self->mdays >> tm->tm_mday) & 1;
    bool wday_ok = (self->wdays >> tm->tm_wday) & 1;
    if (self->wday_nth)
        wday_ok = wday_ok && (tm->tm_mday - 1) / 7 + 1 == self->wday_nth;
    if (self->wday_last)
        wday_ok = wday_ok && tm->tm_mday + 7 > dim;
    if (self->mday_star || self->wday_star)
        return mday_ok && wday_ok;
    return mday_ok || wday_ok;
}

//  The first year >= year the Year field allows, or -1.
static int
s_next_year (const ts_cron_t *self, int year)
{
    for (int y = year < S_YEAR_LO? S_YEAR_LO: year; y <= S_YEAR_HI; y++)
        if (s_bit_test (self->years, y - S_YEAR_LO))
            return y;
    return -1;
}

static int64_t
s_next_rate (const ts_cron_t *self, int64_t after_ms)
{
    int64_t n = after_ms / self->period_ms;
    if (after_ms % self->period_ms < 0)
        n--;                    //  floor for times before 1970
    return (n + 1) * self->period_ms;
}

int64_t
ts_cron_next (const ts_cron_t *self, int64_t after_ms)
{
    assert (self);
    //  Keep far away from time_t and struct tm limits.
    const int64_t limit_ms = 253402300799000LL;     //  9999-12-31T23:59:59Z
    if (after_ms < -limit_ms || after_ms >= limit_ms)
        return -1;
    if (self->kind == TS_CRON_RATE)
        return self->period_ms > 0? s_next_rate (self, after_ms): -1;
    if (!self->minutes || !self->hours || !self->months || !self->wdays
    ||  (!self->mdays && !self->mday_last && !self->mday_weekday))
        return -1;
    bool by_year = self->kind == TS_CRON_EVENTBRIDGE;

    int64_t minute = after_ms / S_MINUTE_MS;
    if (after_ms % S_MINUTE_MS < 0)
        minute--;               //  floor for times before 1970
    time_t t = (time_t) ((minute + 1) * 60);
    time_t stop = t + (time_t) S_SEARCH_DAYS * 86400;

    while (t <= stop) {
        struct tm tm;
        if (!gmtime_r (&t, &tm))
            return -1;
        int year = tm.tm_year + 1900;
        int next_year = by_year? s_next_year (self, year): year;
        if (next_year < 0)
            return -1;
        if (next_year != year) {
            memset (&tm, 0, sizeof tm);     //  January 1st of that year
            tm.tm_year = next_year - 1900;
            tm.tm_mday = 1;
            tm.tm_isdst = 0;
            t = timegm (&tm);
            stop = t + (time_t) S_SEARCH_DAYS * 86400;
            continue;
        }
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

int64_t
ts_cron_next_shifted (const ts_cron_t *self, int64_t after_ms,
                      int64_t shift_ms)
{
    assert (self);
    if (shift_ms < 0)
        shift_ms = 0;
    int64_t next = ts_cron_next (self, after_ms - shift_ms);
    return next < 0? -1: next + shift_ms;
}

int64_t
ts_cron_spread_ms (const char *name, int64_t jitter_s)
{
    if (!name || jitter_s <= 0)
        return 0;
    uint64_t hash = 14695981039346656037ULL;        //  FNV-1a, 64 bits
    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        hash ^= *p;
        hash *= 1099511628211ULL;
    }
    return (int64_t) (hash % (uint64_t) (jitter_s * 1000));
}
