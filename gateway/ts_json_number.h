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

//  The fast path for a double: value with the fewest decimals that hold
//  it exactly, for 1e-4 <= |value| < 1e15 and at most 15 significant
//  digits (then the same text as "%.15g"), NUL-terminated at buf (room
//  for 24). *hint: the decimals to try first (a series' values mostly
//  share theirs; start at 0), set to those found. Returns the length,
//  or 0 where the fast path does not apply (buf and *hint untouched).
size_t ts_json_number_decimal (double value, char *buf, int *hint);

//  The slow path: "%.15g", or "%.17g" if that does not read back, at
//  buf (size bytes, 25 enough). value must be finite.
void ts_json_number_printf (double value, char *buf, size_t size);

#endif
