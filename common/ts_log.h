/*  ts_log - one-line logging to stderr for every tscache process.

    One line per event, in the format log.format chooses:

      text    (default)  2026-11-24T21:30:00.123Z tscache-worker[1234] INFO fetched id=a points=576
      logfmt  ts=2026-11-24T21:30:00.123Z level=info proc=tscache-worker pid=1234 msg="fetched" id=a points=576
      json    {"ts":"2026-11-24T21:30:00.123Z","level":"info","proc":"tscache-worker","pid":1234,"msg":"fetched","id":"a","points":576}

    so that journald, docker logs and a terminal read text, and a log
    shipper parses logfmt or JSON without a pattern. A line carries its
    message and, with ts_log_kv, structured fields (job, rid, id, status,
    ms ...): in text and logfmt they follow the message as key=value, in
    JSON they are members of the object. Text keeps the message as it
    always was (control characters become '?'); logfmt and JSON escape
    them (\n, \t, \u001b ...), replace bytes that are not UTF-8 with
    U+FFFD, and never cut an escape or a field in half: a line too long
    for the buffer (TS_LOG_LINE_MAX) loses the end of its message first,
    then whole fields, and stays one valid line.

    Secrets must never be passed to these functions. Thread-safe: each
    line is built on the stack and written with one write(2); level and
    format are atomics that a reload (SIGHUP) may change while other
    threads log. Nothing is allocated per line. Lines a peer can trigger
    at will (its invalid messages) go through a rate limit,
    ts_log_limited. */

#ifndef TS_LOG_H_INCLUDED
#define TS_LOG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TS_LOG_ERROR = 0,
    TS_LOG_WARN  = 1,
    TS_LOG_INFO  = 2,
    TS_LOG_DEBUG = 3
};

//  Line formats (log.format).
enum {
    TS_LOG_TEXT   = 0,
    TS_LOG_LOGFMT = 1,
    TS_LOG_JSON   = 2
};

#define TS_LOG_LINE_MAX 4096        //  longest line written, '\n' included

//  Sets the process name shown in each line (borrowed; keep it alive).
void ts_log_set_name (const char *name);

//  Sets the most verbose level written. Default TS_LOG_INFO.
void ts_log_set_level (int level);

//  Sets the line format (TS_LOG_TEXT, _LOGFMT, _JSON). Default text.
void ts_log_set_format (int format);

//  Parses "error", "warn", "info" or "debug". Returns the level or -1.
int ts_log_level_parse (const char *s);

//  Parses "text", "logfmt" or "json". Returns the format or -1.
int ts_log_format_parse (const char *s);

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

//  ---------------------------------------------------------------------
//  Structured fields

typedef enum {
    TS_LOG_FIELD_STR,               //  str; omitted from the line if NULL
    TS_LOG_FIELD_INT,               //  num
    TS_LOG_FIELD_UINT               //  unum
} ts_log_field_type_t;

//  One key=value of a line. Keys are short fixed names ([a-z_]); values
//  are borrowed for the call only.
typedef struct {
    const char          *key;
    ts_log_field_type_t  type;
    const char          *str;
    int64_t              num;
    uint64_t             unum;
} ts_log_field_t;

#define TS_LF_STR(k, v) \
    ((ts_log_field_t) { (k), TS_LOG_FIELD_STR, (v), 0, 0 })
//  A string field left out when the value is NULL or "" (a request id
//  that a job may not have).
#define TS_LF_OPT(k, v) \
    ((ts_log_field_t) { (k), TS_LOG_FIELD_STR, \
                        (v) && *(v)? (v): NULL, 0, 0 })
#define TS_LF_INT(k, v) \
    ((ts_log_field_t) { (k), TS_LOG_FIELD_INT, NULL, (int64_t) (v), 0 })
#define TS_LF_UINT(k, v) \
    ((ts_log_field_t) { (k), TS_LOG_FIELD_UINT, NULL, 0, (uint64_t) (v) })

//  A field array and its length, for ts_log_kv:
//      ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_UINT ("job", job),
//                 TS_LF_OPT ("rid", rid)), "job done");
#define TS_LOG_FIELDS(...) \
    (const ts_log_field_t []) { __VA_ARGS__ }, \
    sizeof ((const ts_log_field_t []) { __VA_ARGS__ }) \
        / sizeof (ts_log_field_t)

//  Writes one line at level, if enabled, with the message fmt and then
//  the n fields, in the current format.
void ts_log_kv (int level, const ts_log_field_t *fields, size_t n,
                const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Builds the line ts_log_kv would write - in format, at time now_ms,
//  for process name and pid - into buf (size bytes, at least 64), ending
//  with '\n' and NUL-terminated. Returns its length without the NUL.
//  Pure, for tests and for ts_log_kv.
size_t ts_log_format_line (char *buf, size_t size, int format,
                           int64_t now_ms, const char *name, int pid,
                           int level, const ts_log_field_t *fields,
                           size_t n, const char *msg);

//  ---------------------------------------------------------------------
//  Rate limit

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
