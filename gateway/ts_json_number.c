/*  ts_json_number - numbers as the gateway's JSON (and CSV) answers write
    them: integers two digits at a time, and doubles as the shortest of
    "%.15g" and "%.17g" that reads back, by a decimal fast path for the
    values series mostly hold and printf for the rest. See
    ts_json_number.h; part of ts_json. */

#include "ts_json.h"
#include "ts_json_number.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Two digits at a time (a 13-digit epoch ms in 7 steps, not 13): times
//  and values are most of what an answer holds.
size_t
ts_json_number_uint (uint64_t value, char *buf)
{
    static const char pairs [201] =
        "00010203040506070809101112131415161718192021222324252627282930"
        "31323334353637383940414243444546474849505152535455565758596061"
        "62636465666768697071727374757677787980818283848586878889909192"
        "93949596979899";
    //  Digits: about log10 from the bit length (1233 / 4096 ~ log10 2),
    //  then one comparison.
    static const uint64_t pow10 [20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
        10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
        100000000000ULL, 1000000000000ULL, 10000000000000ULL,
        100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL,
        10000000000000000000ULL };
    size_t bits = value? 64 - (size_t) __builtin_clzll (value): 1;
    size_t len = (bits * 1233) >> 12;
    if (len < 19 && value >= pow10 [len])
        len++;
    else
    if (len == 19 && value >= pow10 [19])
        len = 20;
    if (len == 0)
        len = 1;
    char *at = buf + len;
    while (value >= 100) {
        unsigned pair = (unsigned) (value % 100) * 2;
        value /= 100;
        *--at = pairs [pair + 1];
        *--at = pairs [pair];
    }
    if (value >= 10) {
        *--at = pairs [value * 2 + 1];
        *--at = pairs [value * 2];
    }
    else
        *--at = (char) ('0' + value);
    return len;
}

size_t
ts_json_number_int (int64_t value, char *buf)
{
    if (value >= 0)
        return ts_json_number_uint ((uint64_t) value, buf);
    buf [0] = '-';
    return 1 + ts_json_number_uint (0 - (uint64_t) value, buf + 1);
}

static const uint64_t s_pow10 [] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
    10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL
};
#define S_POW10_MAX  15

//  Whether magnitude (> 0) is exactly digits / 10^k with digits =
//  round (magnitude x 10^k) < 10^15 (then *digits is set): 1 if so, 0 if
//  not, -1 if digits would reach 10^15 (no larger k can do). Both digits
//  and 10^k are exact doubles, so their IEEE quotient is the correctly
//  rounded value of the decimal digits e-k, which is what strtod returns
//  for that text. If k decimals do, so do k + 1 (digits x 10).
static int
s_exact (double magnitude, int k, double *digits)
{
    double scaled = magnitude * (double) s_pow10 [k];
    if (scaled >= 1e15)
        return -1;
    double rounded = nearbyint (scaled);
    if (rounded >= 1e15)
        return -1;
    //  If rounded / 10^k is magnitude, scaled is within 2^-52 of rounded
    //  (relative: two roundings); farther, skip the slow division.
    if (fabs (scaled - rounded) > rounded * 0x1p-51
    ||  rounded / (double) s_pow10 [k] != magnitude)
        return 0;
    *digits = rounded;
    return 1;
}

//  The fewest decimals k that hold value exactly (s_exact), written as
//  digits with a point. With at most 15 significant digits and no
//  shorter decimal reading back, it is the text "%.15g" prints (the
//  range is where %g uses fixed notation). Starting at *hint, a series'
//  values are found in one or two tries instead of one for each k up
//  from 0.
size_t
ts_json_number_decimal (double value, char *buf, int *hint)
{
    double magnitude = fabs (value);
    if (!(magnitude >= 1e-4 && magnitude < 1e15))
        return 0;               //  also 0, -0, NaN and infinities
    int k = *hint >= 0 && *hint <= S_POW10_MAX? *hint: 0;
    double exact = 0;
    int rc = s_exact (magnitude, k, &exact);
    if (rc == 0)                //  fewer cannot do (monotone): up
        while (k < S_POW10_MAX && (rc = s_exact (magnitude, ++k, &exact))
                                  == 0)
            ;
    else
    if (rc < 0)                 //  more cannot do: the first from 0
        for (k = 0; (rc = s_exact (magnitude, k, &exact)) == 0; k++)
            ;
    if (rc != 1)
        return 0;
    //  Fewer decimals do exactly when the digits end in 0: digits / 10
    //  over 10^(k-1) is the same decimal, so the same double; and two
    //  different decimals of at most 15 significant digits are never
    //  the same double (DBL_DIG).
    uint64_t digits = (uint64_t) exact;
    while (k > 0 && digits % 10 == 0) {
        digits /= 10;
        k--;
    }
    *hint = k;
    uint64_t whole = digits / s_pow10 [k];
    uint64_t fraction = digits % s_pow10 [k];
    size_t len = 0;
    if (value < 0)
        buf [len++] = '-';
    len += ts_json_number_uint (whole, buf + len);
    if (k > 0) {
        buf [len++] = '.';
        for (int i = k - 1; i >= 0; i--) {
            buf [len + (size_t) i] = (char) ('0' + fraction % 10);
            fraction /= 10;
        }
        len += (size_t) k;
    }
    buf [len] = 0;
    return len;
}

void
ts_json_number_printf (double value, char *buf, size_t size)
{
    snprintf (buf, size, "%.15g", value);
    if (strtod (buf, NULL) != value)
        snprintf (buf, size, "%.17g", value);
}

bool
ts_json_format_double (double value, char *buf, size_t size)
{
    if (!isfinite (value)) {
        snprintf (buf, size, "null");
        return false;
    }
    char fast [24];
    int hint = 0;
    size_t len = ts_json_number_decimal (value, fast, &hint);
    if (len && len < size) {
        memcpy (buf, fast, len + 1);
        return true;
    }
    ts_json_number_printf (value, buf, size);
    return true;
}

