/*  ts_common - error names, name validation, time parsing and formatting,
    string lists. See ts_common.h. */

#include "ts_common.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *
ts_strerror (int code)
{
    switch (code) {
        case TS_OK:        return "ok";
        case TS_EINVAL:    return "invalid argument";
        case TS_EPROTO:    return "malformed message";
        case TS_ENOTFOUND: return "not found";
        case TS_ETOOBIG:   return "too big";
        case TS_EBACKEND:  return "storage backend failed";
        case TS_ENOMEM:    return "out of memory";
        case TS_ECONFIG:   return "bad configuration";
        case TS_EUPSTREAM: return "upstream failed";
        case TS_ETIMEOUT:  return "timed out";
        case TS_EAUTH:     return "unauthorized";
        case TS_EDIALOGUE: return "not an operation of this dialogue";
    }
    if (code > 0)
        return strerror (code);
    return "unknown error";
}

void
ts_errf (char *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, TS_ERRLEN, fmt, args);
    va_end (args);
}

static bool
s_name_char (unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':'
        || c == '-';
}

//  The one name rule; existing allows what names stored before the
//  rule's later clauses may be: a leading '-', "." and "..".
static bool
s_name_check (const char *s, size_t len, bool existing)
{
    if (!s || len == 0 || len > TS_NAME_MAX)
        return false;
    if (!existing && (s [0] == '-'
                  || (s [0] == '.' && (len == 1
                                   || (len == 2 && s [1] == '.')))))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!s_name_char ((unsigned char) s [i]))
            return false;
    return true;
}

bool
ts_name_valid_n (const char *s, size_t len)
{
    return s_name_check (s, len, false);
}

bool
ts_name_valid (const char *s)
{
    return s && s_name_check (s, strnlen (s, TS_NAME_MAX + 1), false);
}

bool
ts_name_existing_n (const char *s, size_t len)
{
    return s_name_check (s, len, true);
}

bool
ts_name_existing (const char *s)
{
    return s && s_name_check (s, strnlen (s, TS_NAME_MAX + 1), true);
}

bool
ts_rid_valid_n (const char *s, size_t len)
{
    if (!s || len == 0 || len > TS_RID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char) s [i]) && !strchr ("._:-", s [i]))
            return false;
    return true;
}

char *
ts_rid_new (char *buf)
{
    //  A splitmix64 sequence per thread, seeded once from getrandom: one
    //  syscall per thread instead of one per request (rids trace
    //  requests; they are not secrets). Distinct seeds keep threads and
    //  processes apart.
    static atomic_uint_fast64_t counter;
    static _Thread_local uint64_t state;
    if (!state) {
        uint64_t seed = 0;
        if (getrandom (&seed, sizeof seed, GRND_NONBLOCK)
            != (ssize_t) sizeof seed)
            //  No entropy yet (early boot): still unique within the
            //  process and unlikely to meet another's.
            seed = ((uint64_t) ts_now_ms () << 20)
                 ^ ((uint64_t) getpid () << 40);
        state = (seed ^ atomic_fetch_add (&counter, 1)) | 1;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    static const char hex [] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, z >>= 4)
        buf [i] = hex [z & 15];
    buf [16] = 0;
    return buf;
}

void
ts_name_errf (char *err, const char *what, const char *s, size_t len)
{
    char shown [65];
    size_t n = 0;
    for (; s && n < len && n < sizeof shown - 1; n++) {
        unsigned char c = (unsigned char) s [n];
        shown [n] = c >= 0x20 && c < 0x7f? (char) c: '?';
    }
    shown [n] = 0;
    ts_errf (err, "invalid %s '%s': use " TS_NAME_RULE, what, shown);
}

int64_t
ts_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ts_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Reads exactly n digits at *p into *out; advances *p.
static bool
s_digits (const char **p, const char *end, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !isdigit ((unsigned char) **p))
            return false;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return true;
}

static int
s_days_in_month (int year, int month)
{
    static const int days [] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days [month - 1];
}

int64_t
ts_days_from_civil (int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0? y: y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2? -3: 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

//  Shared ISO 8601 parser. strict: RFC 3339 (seconds and zone required,
//  'T' or 't' separator).
static int
s_parse_iso (const char *s, size_t len, bool strict, int64_t *ms)
{
    const char *p = s, *end = s + len;
    int year, month, day, hour, minute, second = 0;
    if (!s_digits (&p, end, 4, &year) || p >= end || *p++ != '-'
    ||  !s_digits (&p, end, 2, &month) || p >= end || *p++ != '-'
    ||  !s_digits (&p, end, 2, &day) || p >= end)
        return TS_EINVAL;
    char sep = *p++;
    if (!(sep == 'T' || sep == 't' || (!strict && sep == ' ')))
        return TS_EINVAL;
    if (!s_digits (&p, end, 2, &hour) || p >= end || *p++ != ':'
    ||  !s_digits (&p, end, 2, &minute))
        return TS_EINVAL;
    int64_t frac_ms = 0;
    if (p < end && *p == ':') {
        p++;
        if (!s_digits (&p, end, 2, &second))
            return TS_EINVAL;
        if (p < end && (*p == '.' || *p == ',')) {
            p++;
            int ndigits = 0, scale = 100;
            while (p < end && isdigit ((unsigned char) *p)) {
                if (ndigits < 3)
                    frac_ms += (*p - '0') * scale;
                scale /= 10;
                ndigits++;
                p++;
            }
            if (ndigits == 0)
                return TS_EINVAL;
        }
    }
    else
    if (strict)
        return TS_EINVAL;
    int64_t offset_min = 0;
    if (p < end && (*p == 'Z' || *p == 'z'))
        p++;
    else
    if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p++ == '-'? -1: 1;
        int oh, om;
        if (!s_digits (&p, end, 2, &oh))
            return TS_EINVAL;
        if (p < end && *p == ':')
            p++;
        if (!s_digits (&p, end, 2, &om) || oh > 23 || om > 59)
            return TS_EINVAL;
        offset_min = sign * (oh * 60 + om);
    }
    else
    if (strict)
        return TS_EINVAL;
    if (p != end)
        return TS_EINVAL;
    if (month < 1 || month > 12 || day < 1
    ||  day > s_days_in_month (year, month)
    ||  hour > 23 || minute > 59 || second > 60)
        return TS_EINVAL;
    if (second == 60)       //  leap second: fold into the next
        second = 59, frac_ms = 999;
    int64_t days = ts_days_from_civil (year, month, day);
    int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second
                 - offset_min * 60;
    *ms = secs * 1000 + frac_ms;
    return 0;
}

int
ts_time_parse (const char *s, int64_t *ms)
{
    if (!s || !*s)
        return TS_EINVAL;
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p && strspn (p, "0123456789") == strlen (p)) {
        errno = 0;
        char *end;
        long long v = strtoll (s, &end, 10);
        if (errno || *end)
            return TS_EINVAL;
        *ms = v;
        return 0;
    }
    return s_parse_iso (s, strlen (s), true, ms);
}

int
ts_time_parse_iso (const char *s, size_t len, int64_t *ms)
{
    if (!s || len == 0)
        return TS_EINVAL;
    return s_parse_iso (s, len, false, ms);
}

char *
ts_time_format (int64_t ms, char *buf, size_t size)
{
    int64_t secs = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    time_t t = (time_t) secs;
    struct tm tm;
    if (!gmtime_r (&t, &tm)) {
        snprintf (buf, size, "%lld", (long long) ms);
        return buf;
    }
    snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
              tm.tm_hour, tm.tm_min, tm.tm_sec, (int) frac);
    return buf;
}

int
ts_strlcpy (char *dst, const char *src, size_t size)
{
    if (size == 0)
        return TS_ETOOBIG;
    size_t len = strlen (src);
    if (len >= size) {
        memcpy (dst, src, size - 1);
        dst [size - 1] = 0;
        return TS_ETOOBIG;
    }
    memcpy (dst, src, len + 1);
    return 0;
}

bool
ts_percent_encode (char *out, size_t size, size_t *used, const char *text)
{
    static const char digits [] = "0123456789ABCDEF";
    bool fits = true;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
                  || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
                  || *p == '_' || *p == '~';
        size_t need = plain? 1: 3;
        if (*used + need >= size) {
            fits = false;
            break;
        }
        if (plain)
            out [(*used)++] = (char) *p;
        else {
            out [(*used)++] = '%';
            out [(*used)++] = digits [*p >> 4];
            out [(*used)++] = digits [*p & 15];
        }
    }
    if (*used < size)
        out [*used] = 0;
    return fits;
}

int
ts_mkdirs (const char *path, unsigned mode)
{
    char buf [PATH_MAX];
    if (ts_strlcpy (buf, path, sizeof buf) != 0)
        return ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir (buf, mode) != 0 && errno != EEXIST)
                return errno;
            *p = '/';
        }
    if (mkdir (buf, mode) != 0 && errno != EEXIST)
        return errno;
    struct stat st;
    if (stat (buf, &st) != 0)
        return errno;
    return S_ISDIR (st.st_mode)? 0: ENOTDIR;
}

bool
ts_secure_equal (const void *a, size_t alen, const void *b, size_t blen)
{
    //  Walk the longer length so time depends on lengths only.
    const volatile unsigned char *x = a, *y = b;
    size_t n = alen > blen? alen: blen;
    unsigned char diff = alen != blen;
    for (size_t i = 0; i < n; i++) {
        unsigned char cx = i < alen? x [i]: 0;
        unsigned char cy = i < blen? y [i]: 0;
        diff |= cx ^ cy;
    }
    return diff == 0;
}

//  ---------------------------------------------------------------------

ts_strlist_t *
ts_strlist_new (void)
{
    return calloc (1, sizeof (ts_strlist_t));
}

//  Frees the buffers from the keep-th on.
static void
s_strlist_trim (ts_strlist_t *self, size_t keep)
{
    while (self->kept > keep)
        free (self->items [--self->kept]);
}

void
ts_strlist_destroy (ts_strlist_t **self_p)
{
    if (self_p && *self_p) {
        ts_strlist_t *self = *self_p;
        s_strlist_trim (self, 0);
        free (self->items);
        free (self->room);
        free (self);
        *self_p = NULL;
    }
}

//  A buffer's size for size bytes: rounded up, so that ids of one
//  length after another fit one buffer.
static size_t
s_strlist_round (size_t size)
{
    return (size + 31) & ~(size_t) 31;
}

//  Makes the buffer of slot i hold at least size bytes (what it held is
//  lost). Returns 0 or TS_ENOMEM.
static int
s_strlist_room (ts_strlist_t *self, size_t i, size_t size)
{
    if (i < self->kept && self->room [i] >= size)
        return 0;
    size_t room = s_strlist_round (size);
    char *buf = malloc (room);      //  what it held is not kept
    if (!buf)
        return TS_ENOMEM;
    if (i < self->kept)
        free (self->items [i]);
    self->items [i] = buf;
    self->room [i] = room;
    if (i == self->kept)
        self->kept++;
    return 0;
}

int
ts_strlist_append_n (ts_strlist_t *self, const char *s, size_t len)
{
    if (self->n == self->cap) {
        size_t cap = self->cap? self->cap * 2: 8;
        char **items = realloc (self->items, cap * sizeof (char *));
        if (!items)
            return TS_ENOMEM;
        self->items = items;
        size_t *room = realloc (self->room, cap * sizeof (size_t));
        if (!room)
            return TS_ENOMEM;
        self->room = room;
        self->cap = cap;
    }
    if (s_strlist_room (self, self->n, len + 1))
        return TS_ENOMEM;
    memcpy (self->items [self->n], s, len);
    self->items [self->n][len] = 0;
    self->n++;
    return 0;
}

int
ts_strlist_append (ts_strlist_t *self, const char *s)
{
    return ts_strlist_append_n (self, s, strlen (s));
}

int
ts_strlist_set (ts_strlist_t *self, size_t i, const char *s)
{
    assert (i < self->n);
    size_t len = strlen (s);
    //  s may be another item of this list: copied before the buffer may
    //  move.
    if (len + 1 > self->room [i]) {
        size_t room = s_strlist_round (len + 1);
        char *buf = malloc (room);
        if (!buf)
            return TS_ENOMEM;
        memcpy (buf, s, len + 1);
        free (self->items [i]);
        self->items [i] = buf;
        self->room [i] = room;
        return 0;
    }
    memmove (self->items [i], s, len + 1);
    return 0;
}

void
ts_strlist_pop (ts_strlist_t *self)
{
    if (self->n > 0)
        self->n--;
}

void
ts_strlist_clear (ts_strlist_t *self)
{
    self->n = 0;
    s_strlist_trim (self, TS_STRLIST_KEEP);
}

bool
ts_strlist_contains (const ts_strlist_t *self, const char *s)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->items [i], s) == 0)
            return true;
    return false;
}


//  ---------------------------------------------------------------------

int
ts_strset_reset (ts_strset_t *self, size_t n)
{
    size_t size = 64;
    while (size < 2 * n)
        size *= 2;
    if (size > self->cap) {
        uint32_t *slots = realloc (self->slots, size * sizeof *slots);
        if (!slots)
            return TS_ENOMEM;
        self->slots = slots;
        self->cap = size;
    }
    self->size = size;
    memset (self->slots, 0, size * sizeof *self->slots);
    return 0;
}

size_t
ts_strset_add (ts_strset_t *self, const char *const *strs, size_t i)
{
    assert (self->slots && i < UINT32_MAX);
    uint64_t h = UINT64_C (1469598103934665603);
    for (const char *p = strs [i]; *p; p++)
        h = (h ^ (unsigned char) *p) * UINT64_C (1099511628211);
    size_t mask = self->size - 1;
    for (size_t at = (size_t) h & mask; ; at = (at + 1) & mask) {
        uint32_t slot = self->slots [at];
        if (slot == 0) {
            self->slots [at] = (uint32_t) i + 1;
            return i;
        }
        if (strcmp (strs [slot - 1], strs [i]) == 0)
            return slot - 1;
    }
}

void
ts_strset_free (ts_strset_t *self)
{
    free (self->slots);
    self->slots = NULL;
    self->size = self->cap = 0;
}
