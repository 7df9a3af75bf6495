/*  ts_map - the map spec, from config or built by hand, checked and
    compiled into a mapping (see ts_map.h for the layouts).

    A spec names strings its caller owns; ts_map_new copies them and
    precomputes what every document's parse needs: the path cut into
    components, and the fields to read (slots: the time field first, then
    each distinct measure field; two measures may read one field, and the
    time field may also be a measure's). The parse itself is in
    ts_map_parse.c, reading one value in ts_map_read.c.

    Errors name the spec's origin, so for the worker's config they name
    the key ("upstream.format.measures: ..."). */

#include "ts_map_internal.h"

#include <assert.h>
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
    return 0;
}

//  Checks what the spec's enums and strings hold; err names its origin.
static int
s_check (const ts_map_spec_t *spec, const char *origin, char *err)
{
    if (spec->layout != TS_MAP_ROWS && spec->layout != TS_MAP_COLUMNS) {
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
    if (!spec->time_field || !*spec->time_field) {
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
        for (size_t j = 0; j < i; j++)
            if (strcmp (spec->measures [j], name) == 0) {
                ts_errf (err, "%s.measures: measure '%s' is named twice",
                         origin, name);
                return TS_EINVAL;
            }
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
    self->time_field = strdup (spec->time_field);
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
    if (!ok || s_setup_path (self) || s_setup_slots (self)) {
        ts_errf (err, "out of memory");
        ts_map_destroy (&self);
        return NULL;
    }
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
        free (self);
        *self_p = NULL;
    }
}
