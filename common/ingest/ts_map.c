/*  ts_map - the map spec, from config or built by hand, checked and
    compiled into a mapping (see ts_map.h for the layouts).

    A spec names strings its caller owns; ts_map_new copies them and
    precomputes what every document's parse needs: the path cut into
    components, and the fields to read (slots: the time field first, then
    each distinct measure field; two measures may read one field, and the
    time field may also be a measure's). The parse itself is in
    ts_map_parse.c, reading one value in ts_map_read.c.

    Errors name the spec's origin, so for the worker's config they name
    the key ("upstream.format.measures: ..."); ts_map_spec_from_config
    names the file and line too. */

#include "ts_map_internal.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_setup_path (ts_map_t *self)
{
    size_t n = 0;
    for (const char *p = self->path; *p; ) {
        const char *dot = strchr (p, '.');
        p = dot? dot + 1: p + strlen (p);
        n++;
    }
    self->comp_off = calloc (n + 1, sizeof (size_t));
    self->comp_len = calloc (n + 1, sizeof (size_t));
    if (!self->comp_off || !self->comp_len)
        return TS_ENOMEM;
    //  Same walk as a lookup would do: "a.b" is a then b, a trailing dot
    //  ends the path, an empty component matches no key.
    const char *p = self->path;
    while (*p) {
        const char *dot = strchr (p, '.');
        size_t len = dot? (size_t) (dot - p): strlen (p);
        self->comp_off [self->ncomps] = (size_t) (p - self->path);
        self->comp_len [self->ncomps] = len;
        self->ncomps++;
        p += len;
        if (*p == '.')
            p++;
    }
    return 0;
}

static int
s_setup_slots (ts_map_t *self)
{
    size_t nm = self->measures->n;
    self->slots = calloc (nm + 1, sizeof (ts_map_field_t));
    self->measure_slot = calloc (nm, sizeof (size_t));
    if (!self->slots || !self->measure_slot)
        return TS_ENOMEM;
    self->slots [0].name = self->time_field;
    self->slots [0].len = strlen (self->time_field);
    self->slots [0].is_time = true;
    self->slots [0].measure = SIZE_MAX;
    self->nslots = 1;
    for (size_t m = 0; m < nm; m++) {
        const char *field = self->fields->items [m];
        size_t slot = 0;
        while (slot < self->nslots && strcmp (self->slots [slot].name, field))
            slot++;
        if (slot == self->nslots) {
            self->slots [slot].name = field;
            self->slots [slot].len = strlen (field);
            self->slots [slot].measure = SIZE_MAX;
            self->nslots++;
        }
        if (self->slots [slot].measure == SIZE_MAX)
            self->slots [slot].measure = m;
        self->measure_slot [m] = slot;
    }
    return 0;
}

//  A positional field: a decimal row index. Returns true and sets *index.
static bool
s_index_of (const char *field, size_t *index)
{
    size_t n = 0, len = strlen (field);
    if (len == 0 || len > 6)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit ((unsigned char) field [i]))
            return false;
        n = n * 10 + (size_t) (field [i] - '0');
    }
    *index = n;
    return true;
}

//  Positional: each slot's row index (the time slot's is time_index).
static int
s_setup_indexes (ts_map_t *self, size_t time_index)
{
    self->slot_index = calloc (self->nslots, sizeof (size_t));
    if (!self->slot_index)
        return TS_ENOMEM;
    self->slot_index [0] = time_index;
    for (size_t slot = 1; slot < self->nslots; slot++)
        s_index_of (self->slots [slot].name, &self->slot_index [slot]);
    return 0;
}


//  Blames key of cfg (file:line: key) for reason.
static int
s_blame (const ts_config_t *cfg, const char *key, char *err,
         const char *fmt, ...)
{
    char where [TS_ERRLEN], reason [TS_ERRLEN];
    va_list args;
    va_start (args, fmt);
    vsnprintf (reason, sizeof reason, fmt, args);
    va_end (args);
    ts_config_where (cfg, key, where, sizeof where);
    ts_errf (err, "%s: %s", where, reason);
    return TS_ECONFIG;
}

//  The keys of document shapes (zones, positional rows, null values,
//  time bounds), and the rules between them.
static int
s_spec_shapes_from_config (ts_map_spec_t *spec, const ts_config_t *cfg,
                           char *err)
{
    static const char *const default_measure [] = { "value" };
    static const char *const default_index [] = { "1" };
    spec->time_index = (size_t) ts_config_int (cfg,
                                               "upstream.format.time_index");
    char where [TS_ERRLEN];
    ts_config_where (cfg, "upstream.format.measures", where, sizeof where);
    if (spec->layout == TS_MAP_POSITIONAL && strstr (where, "(default)")) {
        spec->measures = default_measure;
        spec->fields = default_index;
        spec->n_measures = 1;
    }
    for (size_t i = 0; spec->layout == TS_MAP_POSITIONAL
                    && i < spec->n_measures; i++) {
        size_t index;
        if (!s_index_of (spec->fields [i], &index))
            return s_blame (cfg, "upstream.format.measures", err,
                            "layout positional reads measure '%s' from a "
                            "row index (0, 1, ...), not '%.64s'",
                            spec->measures [i], spec->fields [i]);
        if (index == spec->time_index)
            return s_blame (cfg, "upstream.format.measures", err,
                            "measure '%s' reads index %zu, which is "
                            "upstream.format.time_index", spec->measures [i],
                            index);
    }
    spec->zone = ts_config_str (cfg, "upstream.format.zone");
    spec->offset_field = ts_config_str (cfg, "upstream.format.offset_field");
    spec->zone_field = ts_config_str (cfg, "upstream.format.zone_field");
    if (*spec->offset_field && *spec->zone_field)
        return s_blame (cfg, "upstream.format.zone_field", err,
                        "set upstream.format.offset_field or zone_field, "
                        "not both");
    const char *field = *spec->offset_field? "upstream.format.offset_field"
                      : *spec->zone_field? "upstream.format.zone_field": NULL;
    char detail [TS_ERRLEN];
    if (field && *spec->zone && strcmp (spec->zone, "UTC") != 0)
        return s_blame (cfg, "upstream.format.zone", err, "the document "
                        "names the zone (%s): leave zone at UTC", field);
    if (!ts_tz_get (spec->zone, strlen (spec->zone), detail))
        return s_blame (cfg, "upstream.format.zone", err, "%s", detail);
    const ts_strlist_t *nulls = ts_config_list (cfg,
                                                "upstream.format.null_values");
    spec->null_values = (const char *const *) nulls->items;
    spec->n_null_values = nulls->n;
    spec->time_min = ts_config_str (cfg, "upstream.format.time_min");
    spec->time_max = ts_config_str (cfg, "upstream.format.time_max");
    ts_time_bound_t min, max;
    if (ts_time_bound_parse (spec->time_min, -1, &min, detail, sizeof detail))
        return s_blame (cfg, "upstream.format.time_min", err, "%s", detail);
    if (ts_time_bound_parse (spec->time_max, 1, &max, detail, sizeof detail))
        return s_blame (cfg, "upstream.format.time_max", err, "%s", detail);
    if (min.set && max.set && !min.relative && !max.relative
    &&  min.ms >= max.ms)
        return s_blame (cfg, "upstream.format.time_max", err,
                        "must be after upstream.format.time_min");
    spec->drop_out_of_bounds = strcmp (ts_config_str (cfg,
                               "upstream.format.out_of_bounds"),
                               "drop_point") == 0;
    return 0;
}

int
ts_map_spec_from_config (ts_map_spec_t *spec, const ts_config_t *cfg,
                         char *err)
{
    assert (spec);
    assert (cfg);
    *spec = (ts_map_spec_t) { .origin = "upstream.format" };
    const char *layout = ts_config_str (cfg, "upstream.format.layout");
    if (strcmp (layout, "rows") == 0)
        spec->layout = TS_MAP_ROWS;
    else
    if (strcmp (layout, "columns") == 0)
        spec->layout = TS_MAP_COLUMNS;
    else
    if (strcmp (layout, "positional") == 0)
        spec->layout = TS_MAP_POSITIONAL;
    else {
        ts_errf (err, "upstream.format.layout: unknown layout '%s'", layout);
        return TS_ECONFIG;
    }
    const char *unit = ts_config_str (cfg, "upstream.format.time_unit");
    if (strcmp (unit, "ms") == 0)
        spec->time_unit = TS_MAP_TIME_MS;
    else
    if (strcmp (unit, "s") == 0)
        spec->time_unit = TS_MAP_TIME_S;
    else
    if (strcmp (unit, "iso8601") == 0)
        spec->time_unit = TS_MAP_TIME_ISO8601;
    else {
        ts_errf (err, "upstream.format.time_unit: unknown unit '%s'", unit);
        return TS_ECONFIG;
    }
    spec->path = ts_config_str (cfg, "upstream.format.path");
    spec->time_field = ts_config_str (cfg, "upstream.format.time_field");
    const ts_strlist_t *names = NULL;
    const ts_strlist_t *fields = NULL;
    ts_config_map (cfg, "upstream.format.measures", &names, &fields);
    if (names && fields && names->n == fields->n) {
        spec->measures = (const char *const *) names->items;
        spec->fields = (const char *const *) fields->items;
        spec->n_measures = names->n;
    }
    return s_spec_shapes_from_config (spec, cfg, err);
}

//  Checks what the spec's enums and strings hold; err names its origin.
static int
s_check (const ts_map_spec_t *spec, const char *origin, char *err)
{
    if (spec->layout != TS_MAP_ROWS && spec->layout != TS_MAP_COLUMNS
    &&  spec->layout != TS_MAP_POSITIONAL) {
        ts_errf (err, "%s.layout: unknown layout %d", origin,
                 (int) spec->layout);
        return TS_EINVAL;
    }
    if (spec->time_unit != TS_MAP_TIME_MS && spec->time_unit != TS_MAP_TIME_S
    &&  spec->time_unit != TS_MAP_TIME_ISO8601) {
        ts_errf (err, "%s.time_unit: unknown unit %d", origin,
                 (int) spec->time_unit);
        return TS_EINVAL;
    }
    bool positional = spec->layout == TS_MAP_POSITIONAL;
    if (!positional && (!spec->time_field || !*spec->time_field)) {
        ts_errf (err, "%s.time_field: must not be empty", origin);
        return TS_EINVAL;
    }
    if (spec->n_measures == 0 || !spec->measures || !spec->fields) {
        ts_errf (err, "%s.measures: needs at least one measure", origin);
        return TS_EINVAL;
    }
    for (size_t i = 0; i < spec->n_measures; i++) {
        const char *name = spec->measures [i];
        const char *field = spec->fields [i];
        if (!name || !ts_name_valid (name)) {
            char detail [TS_ERRLEN];
            ts_name_errf (detail, "measure", name? name: "",
                          name? strlen (name): 0);
            ts_errf (err, "%s.measures: %s", origin, detail);
            return TS_EINVAL;
        }
        if (!field || !*field) {
            ts_errf (err, "%s.measures: measure '%s' has an empty field",
                     origin, name);
            return TS_EINVAL;
        }
        size_t index;
        if (positional && (!s_index_of (field, &index)
                       ||  index == spec->time_index)) {
            ts_errf (err, "%s.measures: measure '%s' needs a row index "
                     "other than the time's, not '%.64s'", origin, name,
                     field);
            return TS_EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp (spec->measures [j], name) == 0) {
                ts_errf (err, "%s.measures: measure '%s' is named twice",
                         origin, name);
                return TS_EINVAL;
            }
    }
    if (spec->offset_field && *spec->offset_field
    &&  spec->zone_field && *spec->zone_field) {
        ts_errf (err, "%s.zone_field: set offset_field or zone_field, not "
                 "both", origin);
        return TS_EINVAL;
    }
    return 0;
}

//  Compiles what the spec says of zones, null values and time bounds.
static int
s_setup_shapes (ts_map_t *self, const ts_map_spec_t *spec,
                const char *origin, char *err)
{
    const char *zone = spec->zone? spec->zone: "";
    char detail [TS_ERRLEN];
    if (!(self->zone = ts_tz_get (zone, strlen (zone), detail))) {
        ts_errf (err, "%s.zone: %s", origin, detail);
        return TS_EINVAL;
    }
    if (ts_time_bound_parse (spec->time_min? spec->time_min: "", -1,
                             &self->time_min, detail, sizeof detail)) {
        ts_errf (err, "%s.time_min: %s", origin, detail);
        return TS_EINVAL;
    }
    if (ts_time_bound_parse (spec->time_max? spec->time_max: "", 1,
                             &self->time_max, detail, sizeof detail)) {
        ts_errf (err, "%s.time_max: %s", origin, detail);
        return TS_EINVAL;
    }
    self->drop = spec->drop_out_of_bounds;
    self->origin = strdup (origin);
    self->null_values = ts_strlist_new ();
    if (spec->offset_field && *spec->offset_field)
        self->offset_field = strdup (spec->offset_field);
    if (spec->zone_field && *spec->zone_field)
        self->zone_field = strdup (spec->zone_field);
    bool ok = self->origin && self->null_values
           && (!spec->offset_field || !*spec->offset_field
               || self->offset_field)
           && (!spec->zone_field || !*spec->zone_field || self->zone_field);
    for (size_t i = 0; ok && i < spec->n_null_values; i++)
        ok = ts_strlist_append (self->null_values,
                                spec->null_values [i]) == 0;
    if (!ok) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    return 0;
}

ts_map_t *
ts_map_new (const ts_map_spec_t *spec, char *err)
{
    assert (spec);
    const char *origin = spec->origin? spec->origin: "map";
    if (s_check (spec, origin, err))
        return NULL;
    ts_map_t *self = calloc (1, sizeof (ts_map_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->layout = spec->layout;
    self->unit = spec->time_unit;
    self->path = strdup (spec->path? spec->path: "");
    self->time_field = strdup (spec->time_field? spec->time_field: "");
    self->measures = ts_strlist_new ();
    self->fields = ts_strlist_new ();
    self->measure_len = calloc (spec->n_measures, sizeof (size_t));
    bool ok = self->path && self->time_field && self->measures
           && self->fields && self->measure_len;
    for (size_t i = 0; ok && i < spec->n_measures; i++) {
        ok = ts_strlist_append (self->measures, spec->measures [i]) == 0
          && ts_strlist_append (self->fields, spec->fields [i]) == 0;
        self->measure_len [i] = strlen (spec->measures [i]);
    }
    if (!ok || s_setup_path (self) || s_setup_slots (self)
    ||  (spec->layout == TS_MAP_POSITIONAL
         && s_setup_indexes (self, spec->time_index))) {
        ts_errf (err, "out of memory");
        ts_map_destroy (&self);
        return NULL;
    }
    if (s_setup_shapes (self, spec, origin, err))
        ts_map_destroy (&self);
    return self;
}

void
ts_map_destroy (ts_map_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_map_t *self = *self_p;
        free (self->path);
        free (self->time_field);
        ts_strlist_destroy (&self->measures);
        ts_strlist_destroy (&self->fields);
        free (self->measure_len);
        free (self->comp_off);
        free (self->comp_len);
        free (self->slots);
        free (self->measure_slot);
        free (self->slot_index);
        free (self->origin);
        free (self->offset_field);
        free (self->zone_field);
        ts_strlist_destroy (&self->null_values);
        free (self);
        *self_p = NULL;
    }
}
