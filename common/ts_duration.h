/*  ts_duration - a length of time written for people: "30d", "12h",
    "90m", "45s", "500ms", or "0" for none. Used by config keys that take
    a duration (upstream.backfill, upstream.backfill_window). Pure: no
    clock, no I/O. */

#ifndef TS_DURATION_H_INCLUDED
#define TS_DURATION_H_INCLUDED

#include "ts_common.h"

//  Longest duration accepted: 100 years, in ms.
#define TS_DURATION_MAX_MS  (INT64_C (100) * 366 * 86400 * 1000)

//  Parses text, a whole number followed by one unit (ms, s, m, h, d or
//  w; no space, no sign, no fraction) or "0", into *ms. Returns 0, or
//  TS_EINVAL with the reason in err (TS_ERRLEN bytes, may be NULL),
//  e.g. "'30x': unknown unit 'x' (ms, s, m, h, d or w)".
int ts_duration_parse (const char *text, int64_t *ms, char *err);

#endif
