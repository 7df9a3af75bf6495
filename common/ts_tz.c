/*  ts_tz - time zones read from the tz database, evaluated without the C
    library's global TZ (see ts_tz.h for why).

    A zone is a list of transitions (UTC instant -> offset) from the TZif
    file, plus the POSIX TZ rule of its footer ("CET-1CEST,M3.5.0,
    M10.5.0/3") for instants after the last transition: "slim" TZif files
    (the tz default since 2020) list no transition the rule can compute.
    A fixed offset is a zone with no transitions and no rule.

    Files are read with plain open/read under a process-wide mutex that
    also guards the cache; a zone, once in the cache, is never changed, so
    readers need no lock. Names come from documents too
    (upstream.format.zone_field): ts_tz_check_name keeps them to tz
    database names, so no path outside the tz directory can be opened. */

#include "ts_tz.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_FILE_MAX      (1024 * 1024)   //  largest TZif file we read
#define S_CACHE_MAX     1024            //  zones kept at most (tzdata has ~600)
#define S_DAY           86400

//  One rule date of a POSIX TZ string: Jn, n or Mm.w.d, and the local
//  time of day (seconds, may be negative or past 24 h) it applies at.
typedef struct {
    char    kind;               //  'J', 'D' (zero-based day) or 'M'
    int     n, m, w, d;         //  day (J, D) or month, week, weekday
    int32_t time_s;             //  local time of day of the change
} s_rule_date_t;

//  The POSIX TZ rule: std offset, and if dst, when it starts and ends.
typedef struct {
    bool          set;          //  a rule is present
    int32_t       std_off;      //  offset from UTC, east positive
    bool          dst;          //  the zone has summer time
    int32_t       dst_off;      //  its offset
    s_rule_date_t start, end;   //  dst starts, ends (local times)
} s_rule_t;

struct _ts_tz_t {
    char     name [TS_TZ_NAME_MAX + 1];
    size_t   n;                 //  transitions
    int64_t *at;                //  n UTC instants, ascending
    int32_t *off;               //  offset from each transition on
    int32_t  first_off;         //  offset before the first transition
    s_rule_t rule;              //  after the last transition, if set
    ts_tz_t *next;              //  cache list
};

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static ts_tz_t *s_cache = NULL;
static size_t s_cached = 0;

//  ---------------------------------------------------------------------
//  Names and fixed offsets

//  Reads [+-]hh[[:]mm] at p (len bytes) into *off_s (east positive).
//  Returns true if that is all of it.
static bool
s_fixed_offset (const char *p, size_t len, int32_t *off_s)
{
    if (len < 3 || (p [0] != '+' && p [0] != '-'))
        return false;
    int sign = p [0] == '-'? -1: 1;
    if (!isdigit ((unsigned char) p [1]) || !isdigit ((unsigned char) p [2]))
        return false;
    int h = (p [1] - '0') * 10 + (p [2] - '0'), m = 0;
    size_t i = 3;
    if (i < len && p [i] == ':')
        i++;
    if (i < len) {
        if (i + 2 != len || !isdigit ((unsigned char) p [i])
        ||  !isdigit ((unsigned char) p [i + 1]))
            return false;
        m = (p [i] - '0') * 10 + (p [i + 1] - '0');
    }
    else
    if (p [len - 1] == ':')
        return false;
    if (h > 23 || m > 59)
        return false;
    *off_s = sign * (h * 3600 + m * 60);
    return true;
}

//  Whether name is UTC or a fixed offset; sets *off_s.
static bool
s_fixed_zone (const char *name, size_t len, int32_t *off_s)
{
    static const char *const utc [] = { "", "UTC", "Z", "GMT", "Etc/UTC",
                                        NULL };
    for (int i = 0; utc [i]; i++)
        if (strlen (utc [i]) == len && memcmp (utc [i], name, len) == 0) {
            *off_s = 0;
            return true;
        }
    if (len > 3 && (memcmp (name, "UTC", 3) == 0 || memcmp (name, "GMT", 3) == 0)
    &&  (name [3] == '+' || name [3] == '-'))
        return s_fixed_offset (name + 3, len - 3, off_s);
    return s_fixed_offset (name, len, off_s);
}

int
ts_tz_check_name (const char *name, size_t len, char *reason, size_t size)
{
    int32_t off;
    if (s_fixed_zone (name, len, &off))
        return 0;
    bool ok = len > 0 && len <= TS_TZ_NAME_MAX && name [0] != '/'
           && name [len - 1] != '/' && name [0] != '+' && name [0] != '-';
    for (size_t i = 0; ok && i < len; i++) {
        char c = name [i];
        bool start = i == 0 || name [i - 1] == '/';
        ok = isalnum ((unsigned char) c) || c == '_' || c == '-' || c == '+'
          || (c == '/' && !start);
        if (start && c == '.')
            ok = false;
    }
    if (!ok) {
        snprintf (reason, size, "'%.*s' is not a time zone: use UTC, a "
                  "fixed offset like +01:00, or a tz database name like "
                  "Europe/Berlin", (int) (len > 64? 64: len), name);
        return TS_EINVAL;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  POSIX TZ rules (the TZif footer)

//  A zone abbreviation: 3+ letters, or <...> quoted.
static const char *
s_rule_name (const char *p)
{
    if (*p == '<') {
        const char *end = strchr (p, '>');
        return end? end + 1: NULL;
    }
    const char *start = p;
    while (isalpha ((unsigned char) *p))
        p++;
    return p - start >= 3? p: NULL;
}

//  [+-]hh[:mm[:ss]] into seconds; hours up to 167 (RFC 8536 extension).
static const char *
s_rule_time (const char *p, int32_t *secs)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-'? -1: 1;
    if (!isdigit ((unsigned char) *p))
        return NULL;
    int32_t part [3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        int n = 0, digits = 0;
        while (isdigit ((unsigned char) *p) && digits < 3) {
            n = n * 10 + (*p++ - '0');
            digits++;
        }
        part [i] = n;
        if (*p != ':' || i == 2)
            break;
        p++;
    }
    if (part [0] > 167 || part [1] > 59 || part [2] > 59)
        return NULL;
    *secs = sign * (part [0] * 3600 + part [1] * 60 + part [2]);
    return p;
}

static const char *
s_rule_int (const char *p, int *n)
{
    if (!isdigit ((unsigned char) *p))
        return NULL;
    *n = 0;
    while (isdigit ((unsigned char) *p) && *n < 1000)
        *n = *n * 10 + (*p++ - '0');
    return p;
}

static const char *
s_rule_date (const char *p, s_rule_date_t *date)
{
    date->time_s = 7200;
    if (*p == 'J') {
        date->kind = 'J';
        p = s_rule_int (p + 1, &date->n);
        if (!p || date->n < 1 || date->n > 365)
            return NULL;
    }
    else
    if (*p == 'M') {
        date->kind = 'M';
        if (!(p = s_rule_int (p + 1, &date->m)) || *p++ != '.'
        ||  !(p = s_rule_int (p, &date->w)) || *p++ != '.'
        ||  !(p = s_rule_int (p, &date->d)))
            return NULL;
        if (date->m < 1 || date->m > 12 || date->w < 1 || date->w > 5
        ||  date->d > 6)
            return NULL;
    }
    else {
        date->kind = 'D';
        p = s_rule_int (p, &date->n);
        if (!p || date->n > 365)
            return NULL;
    }
    if (*p == '/')
        p = s_rule_time (p + 1, &date->time_s);
    return p;
}

//  Parses a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"). Returns 0 or
//  -1.
static int
s_rule_parse (const char *p, s_rule_t *rule)
{
    memset (rule, 0, sizeof *rule);
    int32_t off;
    if (!(p = s_rule_name (p)) || !(p = s_rule_time (p, &off)))
        return -1;
    rule->std_off = -off;               //  POSIX counts west positive
    rule->set = true;
    if (!*p)
        return 0;
    if (!(p = s_rule_name (p)))
        return -1;
    rule->dst = true;
    rule->dst_off = rule->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = s_rule_time (p, &off)))
            return -1;
        rule->dst_off = -off;
    }
    if (*p++ != ',' || !(p = s_rule_date (p, &rule->start))
    ||  *p++ != ',' || !(p = s_rule_date (p, &rule->end)) || *p)
        return -1;
    return 0;
}

static bool
s_leap (int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int64_t
ts_tz_year (int64_t t)
{
    int64_t days = t >= 0? t / S_DAY: -((-t + S_DAY - 1) / S_DAY);
    int64_t y = 1970 + (int64_t) ((double) days / 365.2425);
    while (ts_days_from_civil (y + 1, 1, 1) <= days)
        y++;
    while (ts_days_from_civil (y, 1, 1) > days)
        y--;
    return y;
}

//  The local seconds (counted as if UTC) at which date happens in year y.
static int64_t
s_rule_when (const s_rule_date_t *date, int64_t y)
{
    int64_t day;
    if (date->kind == 'J')          //  1..365, February 29 never counted
        day = ts_days_from_civil (y, 1, 1) + date->n - 1
            + (s_leap (y) && date->n >= 60);
    else
    if (date->kind == 'D')
        day = ts_days_from_civil (y, 1, 1) + date->n;
    else {
        int64_t first = ts_days_from_civil (y, date->m, 1);
        //  1970-01-01 was a Thursday (4)
        int64_t wday = ((first % 7) + 7 + 4) % 7;
        int64_t mday = (date->d - wday + 7) % 7 + (date->w - 1) * 7;
        int64_t next = date->m == 12? ts_days_from_civil (y + 1, 1, 1)
                                    : ts_days_from_civil (y, date->m + 1, 1);
        while (first + mday >= next)
            mday -= 7;
        day = first + mday;
    }
    return day * S_DAY + date->time_s;
}

static int32_t
s_rule_offset (const s_rule_t *rule, int64_t utc_s)
{
    if (!rule->dst)
        return rule->std_off;
    int64_t y = ts_tz_year (utc_s);
    //  Start is given in standard time, end in summer time.
    int64_t start = s_rule_when (&rule->start, y) - rule->std_off;
    int64_t end = s_rule_when (&rule->end, y) - rule->dst_off;
    bool in = start < end? utc_s >= start && utc_s < end
                         : !(utc_s >= end && utc_s < start);
    return in? rule->dst_off: rule->std_off;
}

//  ---------------------------------------------------------------------
//  TZif files

static uint32_t
s_be32 (const unsigned char *p)
{
    return (uint32_t) p [0] << 24 | (uint32_t) p [1] << 16
         | (uint32_t) p [2] << 8 | p [3];
}

static int64_t
s_be64 (const unsigned char *p)
{
    return (int64_t) ((uint64_t) s_be32 (p) << 32 | s_be32 (p + 4));
}

//  Parses a TZif image into self. Returns 0 or -1.
static int
s_tzif_parse (ts_tz_t *self, const unsigned char *data, size_t size)
{
    if (size < 44 || memcmp (data, "TZif", 4) != 0)
        return -1;
    int version = data [4];
    const unsigned char *p = data;
    size_t tsize = 4;
    for (int pass = 0; pass < 2; pass++) {
        if ((size_t) (p - data) + 44 > size || memcmp (p, "TZif", 4))
            return -1;
        uint32_t isutcnt = s_be32 (p + 20), isstdcnt = s_be32 (p + 24),
                 leapcnt = s_be32 (p + 28), timecnt = s_be32 (p + 32),
                 typecnt = s_be32 (p + 36), charcnt = s_be32 (p + 40);
        size_t body = (size_t) timecnt * tsize + timecnt + typecnt * 6u
                    + charcnt + leapcnt * (tsize + 4) + isstdcnt + isutcnt;
        if (typecnt == 0 || timecnt > 100000 || typecnt > 256
        ||  (size_t) (p - data) + 44 + body > size)
            return -1;
        if (pass == 0 && version >= '2') {
            p += 44 + body;             //  skip the 32-bit block
            tsize = 8;
            continue;
        }
        const unsigned char *times = p + 44;
        const unsigned char *idx = times + (size_t) timecnt * tsize;
        const unsigned char *types = idx + timecnt;
        self->at = calloc (timecnt + 1, sizeof (int64_t));
        self->off = calloc (timecnt + 1, sizeof (int32_t));
        if (!self->at || !self->off)
            return -1;
        for (uint32_t i = 0; i < timecnt; i++) {
            if (idx [i] >= typecnt)
                return -1;
            self->at [i] = tsize == 8? s_be64 (times + i * 8)
                                     : (int32_t) s_be32 (times + i * 4);
            self->off [i] = (int32_t) s_be32 (types + idx [i] * 6);
        }
        self->n = timecnt;
        self->first_off = (int32_t) s_be32 (types);
        const unsigned char *footer = p + 44 + body;
        if (tsize == 8 && footer < data + size && *footer == '\n') {
            const unsigned char *end = memchr (footer + 1, '\n',
                                               (size_t) (data + size - footer - 1));
            char tz [128];
            size_t len = end? (size_t) (end - footer - 1): 0;
            if (len > 0 && len < sizeof tz) {
                memcpy (tz, footer + 1, len);
                tz [len] = 0;
                if (s_rule_parse (tz, &self->rule) != 0)
                    memset (&self->rule, 0, sizeof self->rule);
            }
        }
        return 0;
    }
    return -1;
}

//  Reads the TZif file of name. Returns 0 or -1 with err filled.
static int
s_tzif_load (ts_tz_t *self, char *err)
{
    const char *dir = getenv ("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", dir, self->name);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ts_errf (err, "unknown time zone '%s' (no such file in %s)",
                 self->name, dir);
        return -1;
    }
    unsigned char *data = malloc (S_FILE_MAX);
    size_t size = 0;
    ssize_t got = 0;
    while (data && size < S_FILE_MAX
       &&  (got = read (fd, data + size, S_FILE_MAX - size)) > 0)
        size += (size_t) got;
    close (fd);
    int rc = data && got >= 0? s_tzif_parse (self, data, size): -1;
    free (data);
    if (rc != 0)
        ts_errf (err, "time zone '%s': %s is not a tz database file",
                 self->name, path);
    return rc;
}

//  ---------------------------------------------------------------------
//  Zones

static void
s_tz_free (ts_tz_t *self)
{
    if (self) {
        free (self->at);
        free (self->off);
        free (self);
    }
}

const ts_tz_t *
ts_tz_get (const char *name, size_t len, char *err)
{
    assert (name);
    char reason [TS_ERRLEN];
    if (ts_tz_check_name (name, len, reason, sizeof reason)) {
        ts_errf (err, "%s", reason);
        return NULL;
    }
    pthread_mutex_lock (&s_lock);
    ts_tz_t *self = s_cache;
    while (self && (strlen (self->name) != len
                ||  memcmp (self->name, name, len) != 0))
        self = self->next;
    if (self) {
        pthread_mutex_unlock (&s_lock);
        return self;
    }
    self = calloc (1, sizeof *self);
    int32_t fixed;
    bool ok = self != NULL;
    if (ok) {
        memcpy (self->name, name, len);
        if (s_fixed_zone (name, len, &fixed))
            self->first_off = fixed;
        else
            ok = s_tzif_load (self, err) == 0;
    }
    else
        ts_errf (err, "out of memory");
    if (ok && s_cached < S_CACHE_MAX) {
        self->next = s_cache;
        s_cache = self;
        s_cached++;
    }
    else
    if (ok) {
        ts_errf (err, "time zone '%s': more than %d zones in use", self->name,
                 S_CACHE_MAX);
        ok = false;
    }
    pthread_mutex_unlock (&s_lock);
    if (!ok) {
        s_tz_free (self);
        return NULL;
    }
    return self;
}

const char *
ts_tz_name (const ts_tz_t *self)
{
    assert (self);
    return self->name;
}

int32_t
ts_tz_offset (const ts_tz_t *self, int64_t utc_s)
{
    assert (self);
    if (self->n == 0 || utc_s < self->at [0])
        return self->n == 0 && self->rule.set
             ? s_rule_offset (&self->rule, utc_s): self->first_off;
    if (utc_s >= self->at [self->n - 1] && self->rule.set)
        return s_rule_offset (&self->rule, utc_s);
    size_t lo = 0, hi = self->n;        //  last at [i] <= utc_s
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->at [mid] <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    return self->off [lo];
}

int64_t
ts_tz_to_utc (const ts_tz_t *self, int64_t local_s)
{
    assert (self);
    //  The offsets in force a little before and after: a local time maps
    //  to UTC with one of them (two in a fold, none in a gap).
    int32_t before = ts_tz_offset (self, local_s - 2 * S_DAY);
    int32_t after = ts_tz_offset (self, local_s + 2 * S_DAY);
    int64_t first = local_s - before, second = local_s - after;
    bool first_ok = ts_tz_offset (self, first) == before;
    bool second_ok = ts_tz_offset (self, second) == after;
    if (first_ok && second_ok)
        return first < second? first: second;
    if (first_ok)
        return first;
    if (second_ok)
        return second;
    return first;                       //  a gap: the offset before it
}

void
ts_tz_cache_clear (void)
{
    pthread_mutex_lock (&s_lock);
    while (s_cache) {
        ts_tz_t *next = s_cache->next;
        s_tz_free (s_cache);
        s_cache = next;
    }
    s_cached = 0;
    pthread_mutex_unlock (&s_lock);
}
