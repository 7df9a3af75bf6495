/*  ts_log - one-line logging to stderr. See ts_log.h. */

#include "ts_log.h"
#include "ts_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *s_name = "tscache";
static int s_level = TS_LOG_INFO;

void
ts_log_set_name (const char *name)
{
    s_name = name;
}

void
ts_log_set_level (int level)
{
    s_level = level;
}

int
ts_log_level_parse (const char *s)
{
    static const char *names [] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (strcasecmp (s, names [i]) == 0)
            return i;
    return -1;
}

bool
ts_log_enabled (int level)
{
    return level <= s_level;
}

void
ts_log (int level, const char *fmt, ...)
{
    if (level > s_level)
        return;
    static const char *labels [] = { "ERROR", "WARN", "INFO", "DEBUG" };
    char line [2048], stamp [40];
    int len = snprintf (line, sizeof line, "%s %s[%d] %s ",
                        ts_time_format (ts_now_ms (), stamp, sizeof stamp),
                        s_name, (int) getpid (),
                        labels [level < 0? 0: level > 3? 3: level]);
    va_list args;
    va_start (args, fmt);
    int body = vsnprintf (line + len, sizeof line - len - 1, fmt, args);
    va_end (args);
    if (body < 0)
        body = 0;
    len += body;
    if (len > (int) sizeof line - 2)
        len = sizeof line - 2;
    //  One line per call: control characters from data become '?'.
    for (int i = 0; i < len; i++)
        if ((unsigned char) line [i] < 0x20)
            line [i] = '?';
    line [len++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, len);
    (void) rc;
}

bool
ts_log_limit_pass (ts_log_limit_t *limit, int64_t now_ms, uint64_t *dropped)
{
    if (limit->window_ms == 0 || now_ms - limit->window_ms >= limit->period_ms
    ||  now_ms < limit->window_ms) {
        limit->window_ms = now_ms? now_ms: 1;
        limit->lines = 0;
    }
    if (limit->lines >= limit->burst) {
        limit->dropped++;
        return false;
    }
    limit->lines++;
    *dropped = limit->dropped;
    limit->dropped = 0;
    return true;
}

void
ts_log_limited (ts_log_limit_t *limit, int level, const char *fmt, ...)
{
    uint64_t dropped;
    if (level > s_level || !ts_log_limit_pass (limit, ts_mono_ms (), &dropped))
        return;
    char text [1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    if (dropped)
        ts_log (level, "%s (%llu similar lines suppressed)", text,
                (unsigned long long) dropped);
    else
        ts_log (level, "%s", text);
}
