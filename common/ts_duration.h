/*  ts_duration - durations written in config ("3650d", "90m") and time
    bounds built on them ("now+365d", "2000-01-01"), for keys that say
    how far from now something may be (upstream.format.time_min and
    time_max). Pure: the caller passes now_ms. */

#ifndef TS_DURATION_H_INCLUDED
#define TS_DURATION_H_INCLUDED

#include "ts_common.h"

//  Parses a duration: a whole number and a unit, s, m (minutes), h, d,
//  w or y (365 days): "30s", "90m", "3650d". len bytes of text. Returns
//  0 and sets *ms, or TS_EINVAL (also past about 290 million years).
int ts_duration_parse (const char *text, size_t len, int64_t *ms);

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
