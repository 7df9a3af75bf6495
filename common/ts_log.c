/*  ts_log - one-line logging to stderr in text, logfmt or JSON. See
    ts_log.h.

    A line is built by ts_log_format_line into a buffer on the caller's
    stack through a small bounded writer (s_out_t) that never writes
    half of anything: a piece that does not fit is not written and the
    writer is marked full, and a few bytes are kept back for what closes
    the line ("}\n"), so even a cut line is one valid JSON object. */

#include "ts_log.h"
#include "ts_common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define S_MSG_MAX   2048            //  longest message before escaping
#define S_TAIL      3               //  kept back for "}\n" and the NUL

static const char *s_name = "tscache";
static atomic_int s_level = TS_LOG_INFO;
static atomic_int s_format = TS_LOG_TEXT;

static const char *const s_levels [] = { "error", "warn", "info", "debug" };
static const char *const s_labels [] = { "ERROR", "WARN", "INFO", "DEBUG" };
static const char *const s_formats [] = { "text", "logfmt", "json" };

void
ts_log_set_name (const char *name)
{
    s_name = name;
}

void
ts_log_set_level (int level)
{
    atomic_store (&s_level, level);
}

void
ts_log_set_format (int format)
{
    atomic_store (&s_format, format < TS_LOG_TEXT || format > TS_LOG_JSON
                             ? TS_LOG_TEXT: format);
}

static int
s_parse (const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcasecmp (s, names [i]) == 0)
            return i;
    return -1;
}

int
ts_log_level_parse (const char *s)
{
    return s_parse (s, s_levels, 4);
}

int
ts_log_format_parse (const char *s)
{
    return s_parse (s, s_formats, 3);
}

bool
ts_log_enabled (int level)
{
    return level <= atomic_load (&s_level);
}

//  ---------------------------------------------------------------------
//  The bounded writer

typedef struct {
    char   *buf;                    //  the line
    size_t  cap;                    //  bytes usable (the tail kept back)
    size_t  len;                    //  bytes written
    bool    full;                   //  a piece did not fit
} s_out_t;

//  Appends n bytes, all or (if they do not fit) none.
static bool
s_put (s_out_t *out, const char *s, size_t n)
{
    if (out->full || n > out->cap - out->len) {
        out->full = true;
        return false;
    }
    memcpy (out->buf + out->len, s, n);
    out->len += n;
    return true;
}

static bool
s_puts (s_out_t *out, const char *s)
{
    return s_put (out, s, strlen (s));
}

//  Length of the valid UTF-8 sequence at s (n bytes left), or 0 if the
//  bytes there are not one.
static size_t
s_utf8_len (const unsigned char *s, size_t n)
{
    unsigned char c = s [0];
    if (c < 0x80)
        return 1;
    //  Lead byte: the length, and the bounds of the second byte that
    //  rule out overlong forms, surrogates and code points past U+10FFFF.
    size_t len = c >= 0xc2 && c <= 0xdf? 2: c >= 0xe0 && c <= 0xef? 3
               : c >= 0xf0 && c <= 0xf4? 4: 0;
    unsigned char lo = c == 0xe0? 0xa0: c == 0xf0? 0x90: 0x80;
    unsigned char hi = c == 0xed? 0x9f: c == 0xf4? 0x8f: 0xbf;
    if (len == 0)
        return 0;
    if (n < len || s [1] < lo || s [1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s [i] < 0x80 || s [i] > 0xbf)
            return 0;
    return len;
}

//  Appends s as the inside of a JSON (or logfmt) quoted string, as much
//  of it as fits, whole characters and escapes only.
static void
s_put_escaped (s_out_t *out, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t n = strlen (s);
    while (n > 0 && !out->full) {
        char esc [8];
        size_t len = s_utf8_len (p, n);
        if (len == 0) {
            s_put (out, "\xef\xbf\xbd", 3);     //  U+FFFD
            len = 1;
        }
        else
        if (*p == '"' || *p == '\\') {
            esc [0] = '\\';
            esc [1] = (char) *p;
            s_put (out, esc, 2);
        }
        else
        if (*p == '\n')
            s_put (out, "\\n", 2);
        else
        if (*p == '\r')
            s_put (out, "\\r", 2);
        else
        if (*p == '\t')
            s_put (out, "\\t", 2);
        else
        if (*p < 0x20 || *p == 0x7f) {
            snprintf (esc, sizeof esc, "\\u%04x", *p);
            s_put (out, esc, 6);
        }
        else
            s_put (out, (const char *) p, len);
        p += len;
        n -= len;
    }
}

//  True if a logfmt value must be quoted: empty, or holding a space, a
//  quote, an '=', a control character or a byte that is not ASCII.
static bool
s_logfmt_needs_quotes (const char *s)
{
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p >= 0x7f)
            return true;
    return false;
}

//  Appends one field: ' key=value' (text, logfmt) or ',"key":value'
//  (JSON). A field that does not fit whole is left out.
static void
s_put_field (s_out_t *out, int format, const ts_log_field_t *field)
{
    if (field->type == TS_LOG_FIELD_STR && !field->str)
        return;
    size_t mark = out->len;
    char num [32];
    const char *value = num;
    if (field->type == TS_LOG_FIELD_INT)
        snprintf (num, sizeof num, "%lld", (long long) field->num);
    else
    if (field->type == TS_LOG_FIELD_UINT)
        snprintf (num, sizeof num, "%llu", (unsigned long long) field->unum);
    else
        value = field->str;
    bool quote = field->type == TS_LOG_FIELD_STR
              && (format == TS_LOG_JSON || s_logfmt_needs_quotes (value));
    s_puts (out, format == TS_LOG_JSON? ",\"": " ");
    s_puts (out, field->key);
    s_puts (out, format == TS_LOG_JSON? "\":": "=");
    if (quote) {
        s_put (out, "\"", 1);
        s_put_escaped (out, value);
        s_put (out, "\"", 1);
    }
    else
        s_puts (out, value);
    if (out->full)
        out->len = mark;            //  none of it; the writer stays full
}

size_t
ts_log_format_line (char *buf, size_t size, int format, int64_t now_ms,
                    const char *name, int pid, int level,
                    const ts_log_field_t *fields, size_t n, const char *msg)
{
    char stamp [40], head [64];
    int lv = level < 0? 0: level > 3? 3: level;
    s_out_t out = { buf, size - S_TAIL, 0, false };
    ts_time_format (now_ms, stamp, sizeof stamp);
    if (format == TS_LOG_JSON || format == TS_LOG_LOGFMT) {
        bool json = format == TS_LOG_JSON;
        s_puts (&out, json? "{\"ts\":\"": "ts=");
        s_puts (&out, stamp);
        s_puts (&out, json? "\",\"level\":\"": " level=");
        s_puts (&out, s_levels [lv]);
        s_puts (&out, json? "\",\"proc\":\"": " proc=");
        s_put_escaped (&out, name);
        snprintf (head, sizeof head, json? "\",\"pid\":%d,\"msg\":\""
                                         : " pid=%d msg=\"", pid);
        s_puts (&out, head);
        //  The message may be cut; its closing quote has room kept.
        out.cap--;
        s_put_escaped (&out, msg);
        out.cap++;
        out.full = false;
        s_put (&out, "\"", 1);
        for (size_t i = 0; i < n; i++)
            s_put_field (&out, format, &fields [i]);
        if (json)
            buf [out.len++] = '}';
    }
    else {
        snprintf (head, sizeof head, " %.40s[%d] %s ", name, pid,
                  s_labels [lv]);
        s_puts (&out, stamp);
        s_puts (&out, head);
        //  As it always was: the message cut where it must be, and
        //  control characters from data made '?'.
        size_t len = strlen (msg);
        s_put (&out, msg, len < out.cap - out.len? len: out.cap - out.len);
        for (size_t i = 0; i < n; i++)
            s_put_field (&out, format, &fields [i]);
        for (size_t i = 0; i < out.len; i++)
            if ((unsigned char) buf [i] < 0x20)
                buf [i] = '?';
    }
    buf [out.len++] = '\n';
    buf [out.len] = 0;
    return out.len;
}

//  Formats the message and writes the line, in one write(2).
static void
s_vlog (int level, const ts_log_field_t *fields, size_t n, const char *fmt,
        va_list args)
{
    char msg [S_MSG_MAX], line [TS_LOG_LINE_MAX];
    vsnprintf (msg, sizeof msg, fmt, args);
    size_t len = ts_log_format_line (line, sizeof line,
                                     atomic_load (&s_format), ts_now_ms (),
                                     s_name, (int) getpid (), level, fields,
                                     n, msg);
    ssize_t rc = write (STDERR_FILENO, line, len);
    (void) rc;
}

void
ts_log (int level, const char *fmt, ...)
{
    if (!ts_log_enabled (level))
        return;
    va_list args;
    va_start (args, fmt);
    s_vlog (level, NULL, 0, fmt, args);
    va_end (args);
}

void
ts_log_kv (int level, const ts_log_field_t *fields, size_t n,
           const char *fmt, ...)
{
    if (!ts_log_enabled (level))
        return;
    va_list args;
    va_start (args, fmt);
    s_vlog (level, fields, n, fmt, args);
    va_end (args);
}

//  ---------------------------------------------------------------------
//  Rate limit

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
    if (!ts_log_enabled (level)
    ||  !ts_log_limit_pass (limit, ts_mono_ms (), &dropped))
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
