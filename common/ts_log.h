/*  ts_log - one-line logging to stderr for every tscache process.

    Lines look like
        2026-11-24T21:30:00.123Z tscache-worker[1234] INFO fetched id=a points=576
    so that journald, docker logs and a terminal all read them. Secrets must
    never be passed to these functions. Thread-safe: each line is written
    with one write(2). */

#ifndef TS_LOG_H_INCLUDED
#define TS_LOG_H_INCLUDED

#include <stdbool.h>

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

#endif
