/*  ts_json_number - the number formatting of ts_json (and ts_csv): the
    text a JSON answer holds for an integer or a double. Doubles print as
    "%.15g" would if that reads back (strtod gives the same double), else
    as "%.17g": the shortest of the two that is exact. Pure functions;
    ts_json_format_double (ts_json.h) is the one entry point most callers
    need. */

#ifndef TS_JSON_NUMBER_H_INCLUDED
#define TS_JSON_NUMBER_H_INCLUDED

#include "ts_common.h"

//  Writes the decimal digits of value at buf (room for 20), no NUL;
//  returns the number of bytes written.
size_t ts_json_number_uint (uint64_t value, char *buf);

//  The same with a '-' for negative values (room for 21).
size_t ts_json_number_int (int64_t value, char *buf);

//  The leading digits of the last time ts_json_number_time wrote (all
//  but its last eight: in epoch ms they change once a day). Zero it to
//  start.
typedef struct {
    uint64_t high;              //  the time / 10^8
    size_t   len;               //  bytes in text; 0 before the first
    char     text [16];
} ts_json_number_prefix_t;

//  ts_json_number_int for the times of a series, which share their
//  leading digits: those are copied from *prefix when they are the same
//  as the last time's (room for 21 at buf).
size_t ts_json_number_time (int64_t value, char *buf,
                            ts_json_number_prefix_t *prefix);

//  The fast path for a double: value with the fewest decimals that hold
//  it exactly, for 1e-4 <= |value| < 1e15 and at most 15 significant
//  digits (then the same text as "%.15g"), NUL-terminated at buf (room
//  for 24). *hint: the decimals to try first (a series' values mostly
//  share theirs; start at 0), set to those that held it (perhaps more
//  than printed: trailing zeros are dropped). Returns the length,
//  or 0 where the fast path does not apply (buf and *hint untouched).
size_t ts_json_number_decimal (double value, char *buf, int *hint);

//  The slow path: "%.15g", or "%.17g" if that does not read back, at
//  buf (size bytes, 25 enough). value must be finite.
void ts_json_number_printf (double value, char *buf, size_t size);

#endif
