/*  ts_map_zone - what a time means: the zone of times written without
    one, the plausibility bounds on every time, and the warnings of a
    parse (see ts_map.h).

    A document that names its own zone (upstream.format.offset_field or
    zone_field) may name it after its times - JSON keys come in any order
    - so before the parse the field is looked up with a small event parse
    of its own that stops as soon as the field is read. In Open-Meteo's
    answers "utc_offset_seconds" comes near the top, so the look-up
    reads a few dozen bytes; at worst it reads the document once more.
    The zone is then fixed for the whole document: a time without a zone
    is converted as it is read, so every fault still names its place.
    ISO times are ts_time_parse_iso's; in the shapes a series repeats,
    their date is read once for as long as it repeats (s_iso_time).

    Part of the ts_map module: see ts_map_internal.h. */

#include "ts_map_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

//  Largest |offset| a document may give, in seconds (UTC-18:00..+18:00,
//  as java.time allows; real zones stay within -12..+14).
#define S_OFFSET_MAX_S (18 * 3600)

//  ---------------------------------------------------------------------
//  Finding the document's zone field

typedef struct {
    const char *path;           //  dotted path looked for
    size_t      level;          //  components matched
    size_t      depth;          //  objects and arrays open
    bool        pending;        //  the next value is the next component
    bool        found;          //  the value was read
    ts_map_kind_t kind;         //  its kind
    char        text [TS_TZ_NAME_MAX + 1];  //  its text (cut)
    size_t      len;            //  its full length
} s_find_t;

//  Component level of path: offset and length.
static bool
s_component (const char *path, size_t level, const char **comp, size_t *len)
{
    const char *p = path;
    for (size_t i = 0; i < level; i++) {
        p = strchr (p, '.');
        if (!p)
            return false;
        p++;
    }
    *comp = p;
    const char *dot = strchr (p, '.');
    *len = dot? (size_t) (dot - p): strlen (p);
    return true;
}

static bool
s_last_component (const s_find_t *self)
{
    const char *comp;
    size_t len;
    return !s_component (self->path, self->level + 1, &comp, &len);
}

//  A value (or the start of an object or array) where the parse is:
//  the value of the matched key of the component being looked for is
//  either the next container to enter, or the field. Returns 0 to stop.
static int
s_find_value (s_find_t *self, ts_map_kind_t kind, const char *text,
              size_t len)
{
    if (!self->pending || self->depth != self->level + 1)
        return 1;
    self->pending = false;
    if (!s_last_component (self)) {
        if (kind != TS_MAP_KIND_OBJECT)
            return 0;                   //  not an object: not there
        self->level++;
        return 1;
    }
    self->found = true;
    self->kind = kind;
    self->len = len;
    snprintf (self->text, sizeof self->text, "%.*s",
              (int) (len < TS_TZ_NAME_MAX? len: TS_TZ_NAME_MAX),
              text? text: "");
    return 0;                           //  done: stop the parse
}

static int
s_find_key (void *ctx, const unsigned char *key, size_t len)
{
    s_find_t *self = ctx;
    const char *comp;
    size_t clen;
    if (self->depth == self->level + 1
    &&  s_component (self->path, self->level, &comp, &clen)
    &&  clen == len && memcmp (comp, key, len) == 0)
        self->pending = true;
    return 1;
}

static int
s_find_null (void *ctx)
{
    return s_find_value (ctx, TS_MAP_KIND_NULL, NULL, 0);
}

static int
s_find_bool (void *ctx, int value)
{
    return s_find_value (ctx, value? TS_MAP_KIND_TRUE: TS_MAP_KIND_FALSE,
                         NULL, 0);
}

static int
s_find_number (void *ctx, const char *text, size_t len)
{
    return s_find_value (ctx, TS_MAP_KIND_NUMBER, text, len);
}

static int
s_find_string (void *ctx, const unsigned char *text, size_t len)
{
    return s_find_value (ctx, TS_MAP_KIND_STRING, (const char *) text, len);
}

static int
s_find_open (s_find_t *self, ts_map_kind_t kind)
{
    if (self->depth == 0) {             //  the root must be an object
        self->depth = 1;
        return kind == TS_MAP_KIND_OBJECT;
    }
    if (!s_find_value (self, kind, NULL, 0))
        return 0;
    self->depth++;
    return 1;
}

static int
s_find_map (void *ctx)
{
    return s_find_open (ctx, TS_MAP_KIND_OBJECT);
}

static int
s_find_array (void *ctx)
{
    return s_find_open (ctx, TS_MAP_KIND_ARRAY);
}

static int
s_find_end (void *ctx)
{
    s_find_t *self = ctx;
    self->depth--;
    //  The object the component was looked for in closed: not there.
    return self->depth > self->level;
}

static const yajl_callbacks s_find_callbacks = {
    .yajl_null        = s_find_null,
    .yajl_boolean     = s_find_bool,
    .yajl_number      = s_find_number,
    .yajl_string      = s_find_string,
    .yajl_start_map   = s_find_map,
    .yajl_map_key     = s_find_key,
    .yajl_end_map     = s_find_end,
    .yajl_start_array = s_find_array,
    .yajl_end_array   = s_find_end
};

//  Looks path up in doc. Returns true if found (kind, text filled).
static bool
s_find (const char *doc, size_t len, const char *path, s_find_t *find)
{
    *find = (s_find_t) { .path = path };
    yajl_handle parser = yajl_alloc (&s_find_callbacks, NULL, find);
    if (!parser)
        return false;
    yajl_parse (parser, (const unsigned char *) doc, len);
    yajl_free (parser);
    return find->found;
}

int
ts_map_zone_find (ts_map_state_t *self, const char *doc, size_t len)
{
    const ts_map_t *map = self->map;
    self->tz = map->zone;
    self->offset_s = 0;
    self->no_zone = NULL;
    const char *path = map->offset_field? map->offset_field: map->zone_field;
    if (!path)
        return 0;
    s_find_t find;
    if (!s_find (doc, len, path, &find)) {
        self->no_zone = path;
        return 0;
    }
    const char *key = map->offset_field? "offset_field": "zone_field";
    self->tz = NULL;
    if (map->offset_field) {
        double seconds = 0;
        char *end = NULL;
        if (find.kind == TS_MAP_KIND_NUMBER || find.kind == TS_MAP_KIND_STRING)
            seconds = strtod (find.text, &end);
        if (!end || end == find.text || *end || !isfinite (seconds)
        ||  fabs (seconds) > S_OFFSET_MAX_S
        ||  seconds != floor (seconds)) {
            ts_map_fail (self, 0, 0, "%s: expected an offset in seconds "
                         "from UTC (%s.%s), got %s%s%.*s%s", path,
                         map->origin, key,
                         ts_map_kind_name (find.kind, find.text,
                                           strlen (find.text)),
                         find.kind == TS_MAP_KIND_STRING? " '": " ",
                         (int) strlen (find.text), find.text,
                         find.kind == TS_MAP_KIND_STRING? "'": "");
            return -1;
        }
        self->offset_s = (int32_t) seconds;
        return 0;
    }
    char detail [TS_ERRLEN];
    if (find.kind != TS_MAP_KIND_STRING) {
        ts_map_fail (self, 0, 0, "%s: expected a time zone name (%s.%s), "
                     "got %s", path, map->origin, key,
                     ts_map_kind_name (find.kind, find.text,
                                       strlen (find.text)));
        return -1;
    }
    if (find.len > TS_TZ_NAME_MAX
    ||  !(self->tz = ts_tz_get (find.text, strlen (find.text), detail))) {
        ts_map_fail (self, 0, 0, "%s: %s (%s.%s)", path,
                     find.len > TS_TZ_NAME_MAX? "time zone name too long"
                                              : detail, map->origin, key);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Reading a time

//  Whether an ISO 8601 date-time carries a zone: 'Z' at its end, or a
//  sign after the date (whose own '-' are within its first 10 bytes).
static bool
s_has_zone (const char *text, size_t len)
{
    if (len > 0 && (text [len - 1] == 'Z' || text [len - 1] == 'z'))
        return true;
    for (size_t i = 10; i < len; i++)
        if (text [i] == '+' || text [i] == '-')
            return true;
    return false;
}

//  Two ASCII digits at text as their value, or -1.
static int
s_two_digits (const char *text)
{
    unsigned tens = (unsigned char) text [0] - '0';
    unsigned ones = (unsigned char) text [1] - '0';
    return tens <= 9 && ones <= 9? (int) (tens * 10 + ones): -1;
}

//  ts_time_parse_iso, quicker for the shapes a series repeats:
//  YYYY-MM-DDTHH:MM, then :SS or not, then Z (or z) or not. Their date
//  is read by ts_time_parse_iso itself, as the midnight of a time of that
//  date, once for as long as it repeats; their time of day here, valid
//  as there (hour to 23, minute and second to 59; a leap second is left
//  to it). Every other text, and every fault, is ts_time_parse_iso's.
static int
s_iso_time (ts_map_state_t *self, const char *text, size_t len,
             int64_t *ms)
{
    bool seconds = len == 19 || len == 20;
    bool zulu = len == 17 || len == 20;
    if ((len != 16 && len != 17 && !seconds)
    ||  text [10] != 'T' || text [13] != ':' || (seconds && text [16] != ':')
    ||  (zulu && text [len - 1] != 'Z' && text [len - 1] != 'z'))
        return ts_time_parse_iso (text, len, ms);
    int hour = s_two_digits (text + 11);
    int minute = s_two_digits (text + 14);
    int second = seconds? s_two_digits (text + 17): 0;
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59
    ||  second < 0 || second > 59)
        return ts_time_parse_iso (text, len, ms);
    if (!self->iso_day_set
    ||  memcmp (self->iso_day, text, sizeof self->iso_day) != 0) {
        char midnight [17];
        memcpy (midnight, text, 10);
        memcpy (midnight + 10, "T00:00Z", 7);
        self->iso_day_set = ts_time_parse_iso (midnight, sizeof midnight,
                                               &self->iso_day_ms) == 0;
        if (!self->iso_day_set)
            return ts_time_parse_iso (text, len, ms);
        memcpy (self->iso_day, text, sizeof self->iso_day);
    }
    *ms = self->iso_day_ms + ((int64_t) hour * 3600 + minute * 60 + second)
                           * 1000;
    return 0;
}

int
ts_map_zone_time (ts_map_state_t *self, const char *text, size_t len,
                  int64_t *ms)
{
    char buf [48];
    if (len == 10) {                    //  a date alone: its midnight
        snprintf (buf, sizeof buf, "%.10sT00:00", text);
        text = buf;
        len = strlen (buf);
    }
    int64_t t;
    if (s_iso_time (self, text, len, &t) != 0)
        return TS_EINVAL;
    if (s_has_zone (text, len)) {
        *ms = t;
        return 0;
    }
    if (self->no_zone)
        return TS_ENOTFOUND;
    if (self->tz) {
        int64_t secs = t >= 0? t / 1000: -((-t + 999) / 1000);
        *ms = ts_tz_to_utc (self->tz, secs) * 1000 + (t - secs * 1000);
    }
    else
        *ms = t - (int64_t) self->offset_s * 1000;
    return 0;
}

//  ---------------------------------------------------------------------
//  Bounds

static bool
s_within (const ts_map_state_t *self, int64_t ms)
{
    return ms >= self->time_lo_ms && ms <= self->time_hi_ms;
}

int
ts_map_zone_bounds (ts_map_state_t *self, size_t slot, size_t index,
                    ts_map_kind_t kind, const char *text, size_t len,
                    int64_t ms)
{
    if (s_within (self, ms))
        return 0;
    const ts_map_t *map = self->map;
    bool low = ms < self->time_lo_ms;
    char loc [TS_ERRLEN], when [48], what [96];
    ts_map_loc (self, slot, index, loc);
    int64_t year = ts_tz_year (ms >= 0? ms / 1000
                                      : -((-ms + 999) / 1000));
    if (year >= 1 && year <= 9999)
        ts_time_format (ms, when, sizeof when);
    else
        snprintf (when, sizeof when, "year %lld", (long long) year);
    int quoted = (int) (len > 40? 40: len);
    if (map->unit == TS_MAP_TIME_ISO8601 || kind == TS_MAP_KIND_STRING)
        snprintf (what, sizeof what, "'%.*s'", quoted, text);
    else
        snprintf (what, sizeof what, "%.*s %s", quoted, text,
                  map->unit == TS_MAP_TIME_S? "s": "ms");
    //  A factor of 1000 that would have fit says the unit is wrong.
    const char *hint = "";
    if (map->unit == TS_MAP_TIME_S && s_within (self, ms / 1000))
        hint = ": is the time unit ms?";
    else
    if (map->unit == TS_MAP_TIME_MS && llabs (ms) < INT64_MAX / 1000
    &&  s_within (self, ms * 1000))
        hint = ": is the time unit s?";
    const ts_time_bound_t *bound = low? &map->time_min: &map->time_max;
    if (map->drop) {
        ts_map_warn (self, "%s: %s is %s, outside %s.%s (%s)%s: dropped",
                     loc, what, when, map->origin, low? "time_min": "time_max",
                     bound->text, hint);
        self->report->dropped_times++;
        return 1;
    }
    ts_map_fail (self, index + 1, 1, "%s: %s is %s, outside %s.%s (%s)%s",
                 loc, what, when, map->origin, low? "time_min": "time_max",
                 bound->text, hint);
    return -1;
}

//  ---------------------------------------------------------------------
//  Warnings

void
ts_map_warn (ts_map_state_t *self, const char *fmt, ...)
{
    ts_map_report_t *report = self->report;
    report->warnings++;
    if (report->kept == TS_MAP_WARNINGS_MAX)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (report->warning [report->kept++], TS_ERRLEN, fmt, args);
    va_end (args);
}
