/*  ts_duration - lengths of time written for people ("30d", "12h",
    "90m", "45s", "500ms", "0" for none) and time bounds built on them
    ("now+365d", "2000-01-01"). Config keys that take a duration
    (upstream.backfill, upstream.backfill_window) or a bound on times
    (upstream.format.time_min and time_max) read them here. Pure: the
    caller passes now_ms. */

#ifndef TS_DURATION_H_INCLUDED
#define TS_DURATION_H_INCLUDED

#include "ts_common.h"

//  Longest duration accepted: 100 years, in ms.
#define TS_DURATION_MAX_MS  (INT64_C (100) * 366 * 86400 * 1000)

//  Parses text, a whole number followed by one unit (ms, s, m, h, d, w,
//  or y for 365 days; no space, no sign, no fraction) or "0", into *ms.
//  Returns 0, or TS_EINVAL with the reason in err (TS_ERRLEN bytes, may
//  be NULL), e.g. "'30x': unknown unit 'x' (ms, s, m, h, d, w or y)".
int ts_duration_parse (const char *text, int64_t *ms, char *err);

//  A bound on a time: none, an instant, or an offset from now.
typedef struct {
    bool    set;                //  false: no bound
    bool    relative;           //  ms is an offset from now
    int64_t ms;                 //  the offset, or the instant
    char    text [48];          //  as shown in errors: "now+365d",
                                //  "2000-01-01"
} ts_time_bound_t;

//  Parses a time bound: "" or "off" (none); "now", "now+365d",
//  "now-3650d"; a bare duration "365d", on the side of now that sign
//  says (-1: before now, for a lower bound; +1: after, for an upper
//  one); or an instant: a date "2000-01-01" or a date-time in ISO 8601
//  (no zone meaning UTC). Returns 0, or TS_EINVAL with the reason in
//  reason (size bytes).
int ts_time_bound_parse (const char *text, int sign, ts_time_bound_t *bound,
                         char *reason, size_t size);

//  The instant of a set bound at now_ms.
int64_t ts_time_bound_at (const ts_time_bound_t *bound, int64_t now_ms);

#endif
