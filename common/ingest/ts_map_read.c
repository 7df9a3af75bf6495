/*  ts_map_read - reads one value of a document: a time or a measure's
    number, and records the fault of the document where one is wrong.

    Numbers are read from their text: integer epoch times exactly (up to
    18 digits eight at a time, SWAR), and everything else exactly as
    strtod reads it (decimals of up to 19 digits worth at most 2^53 by
    Clinger's exact fast path, the rest by strtod). A string holding a
    number is read as that number.

    Every fault names where it happened, in the document's own terms
    ("hourly.time[3]: ..."), because that text ends up in a worker log next
    to a failed job and is all an operator has to fix a format spec. Of
    several faults, the one kept is the one a row-by-row reading meets
    first (ts_map_fail). Part of the ts_map module: see
    ts_map_internal.h. */

#include "ts_map_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Largest |ms| we accept, about 292 million years: keeps s -> ms
//  conversion and llround clear of int64 overflow.
#define S_TIME_LIMIT_MS 9.0e18

//  Longest numeric string we try to read as a number.
#define S_NUMTEXT_MAX 64

//  Longest JSON number token we read (17 significant digits and an
//  exponent need about 25).
#define S_NUMTOKEN_MAX 128

//  Quoted strings in error details are cut to this many bytes.
#define S_QUOTE_MAX 40

void
ts_map_fail (ts_map_state_t *self, size_t index, size_t order,
             const char *fmt, ...)
{
    if (self->failed
    && (index > self->err_index
    ||  (index == self->err_index && order >= self->err_order)))
        return;
    self->failed = true;
    self->err_index = index;
    self->err_order = order;
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->err, sizeof (self->err), fmt, args);
    va_end (args);
}

//  Stops the parse: out of memory, or input we refuse to walk.
int
ts_map_fatal (ts_map_state_t *self, int rc, const char *detail)
{
    self->fatal = rc;
    snprintf (self->err, sizeof (self->err), "%s", detail);
    return 0;
}

static bool
s_is_integer (const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text [i] == '.' || text [i] == 'e' || text [i] == 'E')
            return false;
    return true;
}

const char *
ts_map_kind_name (ts_map_kind_t kind, const char *text, size_t len)
{
    switch (kind) {
        case TS_MAP_KIND_NULL:   return "null";
        case TS_MAP_KIND_TRUE:   return "true";
        case TS_MAP_KIND_FALSE:  return "false";
        case TS_MAP_KIND_NUMBER:
            return s_is_integer (text, len)? "integer": "real";
        case TS_MAP_KIND_STRING: return "string";
        case TS_MAP_KIND_OBJECT: return "object";
        case TS_MAP_KIND_ARRAY:  return "array";
    }
    return "unknown";
}

//  Bytes of text to quote in a detail: up to S_QUOTE_MAX, never past a NUL.
static int
s_quote_len (const char *text, size_t len)
{
    const char *nul = memchr (text, 0, len);
    if (nul)
        len = (size_t) (nul - text);
    return (int) (len < S_QUOTE_MAX? len: S_QUOTE_MAX);
}

//  Names a field of row or column index: "hourly.time[3]" for columns,
//  "document[3].time" for rows.
void
ts_map_loc (const ts_map_state_t *self, size_t slot, size_t index, char *loc)
{
    const char *name = self->map->slots [slot].name;
    if (self->map->layout == TS_MAP_ROWS)
        snprintf (loc, TS_ERRLEN, "%s[%zu].%s", self->where, index, name);
    else
    if (self->map->layout == TS_MAP_POSITIONAL)
        snprintf (loc, TS_ERRLEN, "%s[%zu][%zu]", self->where, index,
                  self->map->slot_index [slot]);
    else
        snprintf (loc, TS_ERRLEN, "%s.%s[%zu]", self->where, name, index);
}

//  Reads a decimal number from text (len bytes): optional white space
//  around, sign, digits, fraction, exponent. No hex, no inf/nan.
//  Returns 0 and sets *value, or TS_EINVAL.
static int
s_number_from_text (const char *text, size_t len, double *value)
{
    while (len > 0 && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len > 0 && (text [len - 1] == ' ' || text [len - 1] == '\t'))
        len--;
    if (len == 0 || len >= S_NUMTEXT_MAX)
        return TS_EINVAL;
    char buf [S_NUMTEXT_MAX];
    bool digit = false;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (c >= '0' && c <= '9')
            digit = true;
        else
        if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
            return TS_EINVAL;
        buf [i] = c;
    }
    buf [len] = 0;
    if (!digit)
        return TS_EINVAL;
    char *end = NULL;
    errno = 0;
    double d = strtod (buf, &end);
    if (end != buf + len || errno == ERANGE || !isfinite (d))
        return TS_EINVAL;
    *value = d;
    return 0;
}

//  Exact powers of ten as doubles, 10^0 to 10^22.
static const double s_pow10 [] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
    1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

//  Eight ASCII digits, the first in the lowest byte, as their value in
//  *value; false if any byte is not a digit. SWAR: each byte must have
//  the high nibble 3 and keep it when 6 is added (0x3a..0x3f carry), and
//  then three multiplications pair the digits up, 1+1, 2+2, 4+4.
static inline bool
s_eight_digits (uint64_t chunk, uint64_t *value)
{
    const uint64_t high = 0xF0F0F0F0F0F0F0F0ULL;
    if (((chunk & high) | (((chunk + 0x0606060606060606ULL) & high) >> 4))
        != 0x3333333333333333ULL)
        return false;
    chunk = ((chunk & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
    chunk = ((chunk & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
    *value = ((chunk & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
    return true;
}

//  Eight bytes at text, the first in the lowest byte whatever the order
//  of the machine.
static inline uint64_t
s_load8 (const char *text)
{
    uint64_t chunk;
    memcpy (&chunk, text, sizeof chunk);
#if defined (__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    chunk = __builtin_bswap64 (chunk);
#endif
    return chunk;
}

//  Exact powers of ten as integers, 10^0 to 10^8.
static const uint64_t s_pow10_int [] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000
};

//  Reads the n digits at text (1 to 19: no overflow) as an unsigned
//  integer, eight at a time; false if any byte is not a digit. Reads
//  nothing outside text [0, n).
static bool
s_digits (const char *text, size_t n, uint64_t *value)
{
    uint64_t v = 0, eight;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if (!s_eight_digits (s_load8 (text + i), &eight))
            return false;
        v = v * 100000000 + eight;
    }
    size_t rest = n - i;
    if (rest > 0 && n >= 8) {
        //  The last eight bytes, with the 8 - rest of them read above
        //  set to '0' (they are the low bytes).
        uint64_t keep = ~0ULL << (8 * (8 - rest));
        uint64_t chunk = (s_load8 (text + n - 8) & keep)
                       | (0x3030303030303030ULL & ~keep);
        if (!s_eight_digits (chunk, &eight))
            return false;
        v = v * s_pow10_int [rest] + eight;
    }
    else
        for (; i < n; i++) {
            unsigned digit = (unsigned char) text [i] - '0';
            if (digit > 9)
                return false;
            v = v * 10 + digit;
        }
    *value = v;
    return true;
}

//  The fast path of s_number_from_token for the numbers series hold: a
//  JSON number without exponent, -?digits(.digits)?, of at most 19
//  digits whose value as an integer is at most 2^53, with at most 22
//  decimals. That integer and 10^decimals are then exact doubles, so
//  their IEEE quotient is the correctly rounded value of the decimal,
//  which is what strtod returns (Clinger's fast path), at a fraction of
//  strtod's cost. Returns false where it does not apply; the caller then
//  uses strtod.
static bool
s_fast_decimal (const char *text, size_t len, double *value)
{
    const char *p = text, *end = text + len;
    bool negative = p < end && *p == '-';
    p += negative;
    const char *first = p;
    uint64_t w = 0;                     //  wraps past 19 digits: refused
    unsigned digit;
    while (p < end && (digit = (unsigned char) *p - '0') <= 9) {
        w = w * 10 + digit;
        p++;
    }
    size_t ndigits = (size_t) (p - first), decimals = 0;
    if (p < end && *p == '.') {
        const char *fraction = ++p;
        while (p < end && (digit = (unsigned char) *p - '0') <= 9) {
            w = w * 10 + digit;
            p++;
        }
        decimals = (size_t) (p - fraction);
        ndigits += decimals;
    }
    if (p != end || ndigits == 0 || ndigits > 19 || decimals > 22
    ||  w > (1ULL << 53))
        return false;                   //  an exponent, or too long
    double d = (double) w / s_pow10 [decimals];
    *value = negative? -d: d;
    return true;
}

//  Reads a JSON number token (valid JSON syntax, len bytes) as strtod
//  would. Returns 0, TS_ETOOBIG if the token is over S_NUMTOKEN_MAX
//  bytes, or TS_EINVAL if its magnitude is beyond a double.
static int
s_number_from_token (const char *text, size_t len, double *value)
{
    if (s_fast_decimal (text, len, value))
        return 0;
    if (len > S_NUMTOKEN_MAX)
        return TS_ETOOBIG;
    char buf [S_NUMTOKEN_MAX + 1];
    memcpy (buf, text, len);
    buf [len] = 0;
    double d = strtod (buf, NULL);
    if (!isfinite (d))
        return TS_EINVAL;
    *value = d;
    return 0;
}

//  Reads a time value of the given slot and row or column index, before
//  the bounds. On a fault records it and returns -1.
static int
s_read_time (ts_map_state_t *self, size_t slot, size_t index,
             ts_map_kind_t kind, const char *text, size_t len, int64_t *ms)
{
    const ts_map_t *map = self->map;
    char loc [TS_ERRLEN];
    if (kind == TS_MAP_KIND_NULL) {
        ts_map_loc (self, slot, index, loc);
        ts_map_fail (self, index + 1, 1, "%s: time is null", loc);
        return -1;
    }
    if (map->unit == TS_MAP_TIME_ISO8601) {
        int rc = kind == TS_MAP_KIND_STRING
               ? ts_map_zone_time (self, text, len, ms): TS_EINVAL;
        if (rc == 0)
            return 0;
        ts_map_loc (self, slot, index, loc);
        if (rc == TS_ENOTFOUND)
            ts_map_fail (self, index + 1, 1, "%s: time '%.*s' has no zone "
                         "and the document no '%s' (%s.%s)", loc,
                         s_quote_len (text, len), text, self->no_zone,
                         map->origin, map->offset_field? "offset_field"
                                                       : "zone_field");
        else
        if (kind == TS_MAP_KIND_STRING)
            ts_map_fail (self, index + 1, 1, "%s: bad ISO 8601 time '%.*s'",
                         loc, s_quote_len (text, len), text);
        else
            ts_map_fail (self, index + 1, 1, "%s: expected an ISO 8601 string, got %s",
                         loc, ts_map_kind_name (kind, text, len));
        return -1;
    }
    //  Epoch numbers: take integers exactly, reals and strings via double
    bool negative = len > 0 && text [0] == '-';
    uint64_t digits = 0;
    bool fast = kind == TS_MAP_KIND_NUMBER && len - negative >= 1
             && len - negative <= 18
             && s_digits (text + negative, len - negative, &digits);
    if (fast || (kind == TS_MAP_KIND_NUMBER && s_is_integer (text, len))) {
        char buf [S_NUMTOKEN_MAX + 1];
        long long n = 0;
        bool ok = len <= S_NUMTOKEN_MAX;
        if (fast)
            n = negative? -(long long) digits: (long long) digits;
        else
        if (ok && len - negative <= 18) {
            //  Up to 18 digits cannot overflow: no need for strtoll.
            for (size_t i = negative; i < len; i++)
                n = n * 10 + (text [i] - '0');
            if (negative)
                n = -n;
        }
        else
        if (ok) {
            memcpy (buf, text, len);
            buf [len] = 0;
            errno = 0;
            n = strtoll (buf, NULL, 10);
            ok = errno == 0;
        }
        double limit = map->unit == TS_MAP_TIME_S? S_TIME_LIMIT_MS / 1000
                                                 : S_TIME_LIMIT_MS;
        if (ok && (double) n <= limit && (double) n >= -limit) {
            *ms = map->unit == TS_MAP_TIME_S? (int64_t) n * 1000: (int64_t) n;
            return 0;
        }
        ts_map_loc (self, slot, index, loc);
        ts_map_fail (self, index + 1, 1, "%s: time %.*s out of range",
                     loc, s_quote_len (text, len), text);
        return -1;
    }
    double d = 0;
    int rc = TS_EINVAL;
    if (kind == TS_MAP_KIND_NUMBER)
        rc = s_number_from_token (text, len, &d);
    else
    if (kind == TS_MAP_KIND_STRING)
        rc = s_number_from_text (text, len, &d);
    if (rc == 0 && map->unit == TS_MAP_TIME_S)
        d *= 1000;
    if (rc == 0 && fabs (d) <= S_TIME_LIMIT_MS) {
        *ms = (int64_t) llround (d);
        return 0;
    }
    ts_map_loc (self, slot, index, loc);
    if (kind == TS_MAP_KIND_STRING)
        ts_map_fail (self, index + 1, 1, "%s: expected an epoch number, got string '%.*s'",
                     loc, s_quote_len (text, len), text);
    else
    if (kind != TS_MAP_KIND_NUMBER)
        ts_map_fail (self, index + 1, 1, "%s: expected an epoch number, got %s",
                     loc, ts_map_kind_name (kind, text, len));
    else
    if (rc == TS_ETOOBIG)
        ts_map_fail (self, index + 1, 1, "%s: number too long", loc);
    else
        ts_map_fail (self, index + 1, 1, "%s: time out of range", loc);
    return -1;
}

//  Reads a time value of the given slot and row or column index, then
//  checks it against the bounds: 0 within, 1 dropped, -1 a fault.
int
ts_map_read_time (ts_map_state_t *self, size_t slot, size_t index,
                  ts_map_kind_t kind, const char *text, size_t len,
                  int64_t *ms)
{
    if (s_read_time (self, slot, index, kind, text, len, ms) != 0)
        return -1;
    if (*ms >= self->time_lo_ms && *ms <= self->time_hi_ms)
        return 0;                       //  within (ts_map_zone_bounds' test)
    return ts_map_zone_bounds (self, slot, index, kind, text, len, *ms);
}

//  Whether a string is one of the spec's null values.
static bool
s_null_marker (const ts_map_t *map, const char *text, size_t len)
{
    for (size_t i = 0; i < map->null_values->n; i++) {
        const char *marker = map->null_values->items [i];
        if (strlen (marker) == len && memcmp (marker, text, len) == 0)
            return true;
    }
    return false;
}

//  Reads a measure value of the given slot and row or column index; null
//  sets *null. On a fault records it and returns -1.
int
ts_map_read_value (ts_map_state_t *self, size_t slot, size_t index,
                   ts_map_kind_t kind, const char *text, size_t len,
                   double *value, bool *null)
{
    *null = kind == TS_MAP_KIND_NULL
         || (kind == TS_MAP_KIND_STRING
             && s_null_marker (self->map, text, len));
    if (*null) {
        if (kind == TS_MAP_KIND_NULL)
            self->report->nulls++;
        else {
            char loc [TS_ERRLEN];
            ts_map_loc (self, slot, index, loc);
            self->report->null_markers++;
            ts_map_warn (self, "%s: '%.*s' is a null value (%s.null_values):"
                         " no point", loc, s_quote_len (text, len), text,
                         self->map->origin);
        }
        return 0;
    }
    int rc = TS_EINVAL;
    if (kind == TS_MAP_KIND_NUMBER)
        rc = s_number_from_token (text, len, value);
    else
    if (kind == TS_MAP_KIND_STRING)
        rc = s_number_from_text (text, len, value);
    if (rc == 0)
        return 0;
    char loc [TS_ERRLEN];
    ts_map_loc (self, slot, index, loc);
    size_t order = 2 + self->map->slots [slot].measure;
    if (kind == TS_MAP_KIND_STRING)
        ts_map_fail (self, index + 1, order, "%s: expected a number, got string '%.*s'",
                     loc, s_quote_len (text, len), text);
    else
    if (kind != TS_MAP_KIND_NUMBER)
        ts_map_fail (self, index + 1, order, "%s: expected a number, got %s",
                     loc, ts_map_kind_name (kind, text, len));
    else
    if (rc == TS_ETOOBIG)
        ts_map_fail (self, index + 1, order, "%s: number too long", loc);
    else
        ts_map_fail (self, index + 1, order, "%s: number %.*s out of range",
                     loc, s_quote_len (text, len), text);
    return -1;
}

