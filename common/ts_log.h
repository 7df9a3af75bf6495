/*  ts_log - one-line logging to stderr for every tscache process.

    Lines look like
        2026-11-24T21:30:00.123Z tscache-worker[1234] INFO fetched id=a points=576
    so that journald, docker logs and a terminal all read them. Secrets must
    never be passed to these functions. Thread-safe: each line is written
    with one write(2). Lines a peer can trigger at will (its invalid
    messages) go through a rate limit, ts_log_limited. */

#ifndef TS_LOG_H_INCLUDED
#define TS_LOG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

enum {
    TS_LOG_ERROR = 0,
    TS_LOG_WARN  = 1,
    TS_LOG_INFO  = 2,
    TS_LOG_DEBUG = 3
};

//  Sets the process name shown in each line (borrowed; keep it alive).
void ts_log_set_name (const char *name);

//  Sets the most verbose level written. Default TS_LOG_INFO.
void ts_log_set_level (int level);

//  Parses "error", "warn", "info" or "debug". Returns the level or -1.
int ts_log_level_parse (const char *s);

//  True if lines of level are written: lets a caller skip building what
//  only a debug line would show.
bool ts_log_enabled (int level);

//  Writes one line at the given level if enabled.
void ts_log (int level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define ts_error(...) ts_log (TS_LOG_ERROR, __VA_ARGS__)
#define ts_warn(...)  ts_log (TS_LOG_WARN,  __VA_ARGS__)
#define ts_info(...)  ts_log (TS_LOG_INFO,  __VA_ARGS__)
#define ts_debug(...) ts_log (TS_LOG_DEBUG, __VA_ARGS__)

//  A rate limit for one kind of log line, so that a misbehaving peer
//  cannot flood the log: at most burst lines per period_ms; the lines
//  over the limit are counted, and the count is written with the next
//  line let through. One per kind of line, used by one thread; declare
//  it with TS_LOG_LIMIT (period_ms, burst).
typedef struct {
    int64_t  period_ms;             //  length of a window
    unsigned burst;                 //  lines written per window at most
    int64_t  window_ms;             //  monotonic start of this window
    unsigned lines;                 //  lines written in this window
    uint64_t dropped;               //  lines suppressed, not reported yet
} ts_log_limit_t;

#define TS_LOG_LIMIT(period_ms, burst)  { (period_ms), (burst), 0, 0, 0 }

//  Decides whether a line under limit may be written at now_ms (a
//  monotonic clock). Returns true and sets *dropped to the number of
//  lines suppressed since the last one let through (then forgets them),
//  or returns false and counts this line as suppressed.
bool ts_log_limit_pass (ts_log_limit_t *limit, int64_t now_ms,
                        uint64_t *dropped);

//  Writes one line like ts_log if the level is enabled and limit lets it
//  through now (ts_mono_ms); a line after suppressed ones ends with
//  " (N similar lines suppressed)".
void ts_log_limited (ts_log_limit_t *limit, int level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
