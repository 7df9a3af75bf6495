/*  ts_tz - time zones without the C library's global TZ: a zone is read
    once from the system tz database (TZif files under $TZDIR or
    /usr/share/zoneinfo, RFC 8536: transitions, then the POSIX TZ rule of
    the file's footer for times after the last one) or made from a fixed
    offset, and then only read, so any thread may use it.

    Why not localtime_r/mktime: they take the zone from the process-wide
    TZ variable; switching it with setenv + tzset in a multi-threaded
    process races with every other thread's time calls (and glibc has no
    localtime_rz). So the upstream's zone is evaluated here, reentrantly.

    Used by the ingest mapping (ts_map) to read times that carry no zone:
    upstream.format.zone, or a zone named in the document
    (upstream.format.zone_field). Zones are cached for the process's
    life: ts_tz_get loads a name once, under a mutex, and hands out the
    same read-only zone from then on. */

#ifndef TS_TZ_H_INCLUDED
#define TS_TZ_H_INCLUDED

#include "ts_common.h"

typedef struct _ts_tz_t ts_tz_t;

//  Longest zone name accepted ("America/Argentina/ComodRivadavia" is 32).
#define TS_TZ_NAME_MAX 64

//  Checks the syntax of a zone name without reading any file: "UTC"
//  (also "Z", "GMT", ""), a fixed offset ("+01:00", "-0530", "+01",
//  "UTC+01:00"), or an IANA name of letters, digits, '_', '-', '+'
//  in '/'-separated parts (no '.': no way out of the tz directory), at most
//  TS_TZ_NAME_MAX bytes. Returns 0, or TS_EINVAL with the reason in
//  reason (size bytes).
int ts_tz_check_name (const char *name, size_t len, char *reason,
                      size_t size);

//  The zone called name (len bytes, as ts_tz_check_name accepts), loaded
//  on first use and cached: the pointer stays valid until
//  ts_tz_cache_clear. Thread-safe. Returns NULL with the reason in err
//  (TS_ERRLEN bytes): a bad name, or "unknown time zone 'X' (no such
//  file in /usr/share/zoneinfo)", or a file that is not TZif.
const ts_tz_t *ts_tz_get (const char *name, size_t len, char *err);

//  The zone's name as given to ts_tz_get (static for the zone's life).
const char *ts_tz_name (const ts_tz_t *self);

//  The zone's offset from UTC, in seconds (east positive), at the
//  instant utc_s (epoch seconds).
int32_t ts_tz_offset (const ts_tz_t *self, int64_t utc_s);

//  Converts a wall-clock time of the zone (local_s: the local date and
//  time counted as if it were UTC epoch seconds) to epoch seconds. A time
//  that occurs twice (clocks set back) is taken at its first occurrence
//  (the offset before the change); a time that does not occur (clocks set
//  forward) is read with the offset before the change, so 02:30 in a gap
//  from 02:00 to 03:00 becomes 03:30 after it - the rule of Python's
//  fold=0 and of java.time.
int64_t ts_tz_to_utc (const ts_tz_t *self, int64_t local_s);

//  The proleptic Gregorian year (UTC) of epoch second utc_s.
int64_t ts_tz_year (int64_t utc_s);

//  Frees every cached zone. Only when no thread holds a zone any more
//  (tests, exit).
void ts_tz_cache_clear (void);

#endif
