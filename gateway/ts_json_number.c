/*  ts_json_number - numbers as the gateway's JSON (and CSV) answers write
    them: integers eight digits at a time, and doubles as the shortest of
    "%.15g" and "%.17g" that reads back, by a decimal fast path for the
    values series mostly hold and printf for the rest. See
    ts_json_number.h; part of ts_json. */

#include "ts_json.h"
#include "ts_json_number.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_pairs [201] =
    "00010203040506070809101112131415161718192021222324252627282930"
    "31323334353637383940414243444546474849505152535455565758596061"
    "62636465666768697071727374757677787980818283848586878889909192"
    "93949596979899";

//  Eight digits, leading zeros kept (value < 10^8): two halves of four
//  that do not wait for each other, two digits at a time, all in 32-bit
//  arithmetic.
static inline void
s_digits8 (uint32_t value, char *buf)
{
    uint32_t high = value / 10000;
    uint32_t low = value % 10000;
    memcpy (buf,     s_pairs + 2 * (high / 100), 2);
    memcpy (buf + 2, s_pairs + 2 * (high % 100), 2);
    memcpy (buf + 4, s_pairs + 2 * (low / 100), 2);
    memcpy (buf + 6, s_pairs + 2 * (low % 100), 2);
}

//  value < 10^8, without leading zeros.
static inline size_t
s_uint32 (uint32_t value, char *buf)
{
    size_t len = value < 10000
               ? (value < 100? (value < 10? 1: 2): (value < 1000? 3: 4))
               : (value < 1000000? (value < 100000? 5: 6)
                                 : (value < 10000000? 7: 8));
    char *at = buf + len;
    while (value >= 100) {
        at -= 2;
        memcpy (at, s_pairs + 2 * (value % 100), 2);
        value /= 100;
    }
    if (value >= 10)
        memcpy (at - 2, s_pairs + 2 * value, 2);
    else
        at [-1] = (char) ('0' + value);
    return len;
}

//  Eight digits at a time from the right (a 13-digit epoch ms is five
//  digits, then eight in two independent halves): times and values are
//  most of what an answer holds.
size_t
ts_json_number_uint (uint64_t value, char *buf)
{
    if (value < 100000000)
        return s_uint32 ((uint32_t) value, buf);
    uint64_t high = value / 100000000;
    size_t len = ts_json_number_uint (high, buf);
    s_digits8 ((uint32_t) (value - high * 100000000), buf + len);
    return len + 8;
}

size_t
ts_json_number_int (int64_t value, char *buf)
{
    if (value >= 0)
        return ts_json_number_uint ((uint64_t) value, buf);
    buf [0] = '-';
    return 1 + ts_json_number_uint (0 - (uint64_t) value, buf + 1);
}

size_t
ts_json_number_time (int64_t value, char *buf,
                     ts_json_number_prefix_t *prefix)
{
    if (value < 100000000)
        return ts_json_number_int (value, buf);
    uint64_t high = (uint64_t) value / 100000000;
    if (prefix->len == 0 || prefix->high != high) {
        prefix->len = ts_json_number_uint (high, prefix->text);
        prefix->high = high;
    }
    memcpy (buf, prefix->text, prefix->len);
    s_digits8 ((uint32_t) ((uint64_t) value - high * 100000000),
               buf + prefix->len);
    return prefix->len + 8;
}

static const uint64_t s_pow10 [] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
    10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL
};
#define S_POW10_MAX  15

//  value / 10^k, k <= 15, by a constant divisor in each case: the
//  compiler makes each a multiplication, where a divisor it cannot see
//  is a division instruction (tens of cycles).
static inline uint64_t
s_div_pow10 (uint64_t value, int k)
{
    switch (k) {
        case 0:  return value;
        case 1:  return value / 10ULL;
        case 2:  return value / 100ULL;
        case 3:  return value / 1000ULL;
        case 4:  return value / 10000ULL;
        case 5:  return value / 100000ULL;
        case 6:  return value / 1000000ULL;
        case 7:  return value / 10000000ULL;
        case 8:  return value / 100000000ULL;
        case 9:  return value / 1000000000ULL;
        case 10: return value / 10000000000ULL;
        case 11: return value / 100000000000ULL;
        case 12: return value / 1000000000000ULL;
        case 13: return value / 10000000000000ULL;
        case 14: return value / 100000000000000ULL;
        default: return value / 1000000000000000ULL;
    }
}

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
    //  Round to nearest, ties to even, as nearbyint does in the default
    //  mode, without a libm call (which it is where SSE4.1 is not
    //  assumed): below 2^52 the sum has no fraction bits left.
    double rounded = (scaled + 0x1p52) - 0x1p52;
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
    //  The next value starts at k, not at the fewest found below: a k
    //  that holds a value exactly costs a division by 10 per trailing
    //  zero, a k too small a whole s_exact.
    *hint = k;
    //  Fewer decimals do exactly when the digits end in 0: digits / 10
    //  over 10^(k-1) is the same decimal, so the same double; and two
    //  different decimals of at most 15 significant digits are never
    //  the same double (DBL_DIG).
    uint64_t digits = (uint64_t) exact;
    while (k > 0 && digits % 10 == 0) {
        digits /= 10;
        k--;
    }
    //  The whole part, the point, then the decimals written in place
    //  from the right (no digits written to be read again: a load of
    //  bytes stored a moment before in smaller pieces waits for them).
    uint64_t whole = s_div_pow10 (digits, k);
    uint64_t fraction = digits - whole * s_pow10 [k];
    size_t len = 0;
    if (value < 0)
        buf [len++] = '-';
    len += ts_json_number_uint (whole, buf + len);
    if (k > 0) {
        buf [len++] = '.';
        char *at = buf + len + k;
        int left = k;
        for (; left >= 2; left -= 2) {
            at -= 2;
            memcpy (at, s_pairs + 2 * (fraction % 100), 2);
            fraction /= 100;
        }
        if (left)
            at [-1] = (char) ('0' + fraction);
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

