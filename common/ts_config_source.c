/*  ts_config_source - the sources of one config, each a view of it.

    A source is one upstream: its URL template, headers, key, window,
    timeouts and document format, the upstream.* keys. The file lists
    them under sources: (each entry a name and any upstream.* key without
    the prefix), or writes one upstream: section, which is the source
    "default". Code is handed a source as a const ts_config_t *, a view:
    its upstream.* keys hold that source's values, every other key (and
    every upstream.* key its entry does not write) the parent's. So a
    module that reads upstream.url from the config it is given works per
    source unchanged.

    A view owns a value slot per key but fills only those its entry
    wrote (set [i]); ts_config_slot picks the view's or the parent's.
    The parent owns its views; they live as long as it does. Part of the
    ts_config module: see ts_config_keys.h. */

#include "ts_config_keys.h"
#include "ts_cron.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_NAME  "default"   //  the source upstream: describes

const ts_config_value_t *
ts_config_slot (const ts_config_t *self, int index)
{
    assert (index >= 0 && (size_t) index < ts_config_nkeys);
    if (self->parent && !self->set [index])
        self = self->parent;
    return &self->values [index];
}

ts_config_t *
ts_config_view_new (ts_config_t *parent, const char *name)
{
    assert (parent && !parent->parent);
    ts_config_t **grown = realloc (parent->sources, (parent->nsources + 1)
                                   * sizeof *grown);
    if (!grown)
        return NULL;
    parent->sources = grown;
    ts_config_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->parent = parent;
    self->source = strdup (parent->source);
    self->name = strdup (name);
    self->values = calloc (ts_config_nkeys, sizeof *self->values);
    self->set = calloc (ts_config_nkeys, sizeof *self->set);
    if (!self->source || !self->name || !self->values || !self->set) {
        ts_config_destroy (&self);
        return NULL;
    }
    parent->sources [parent->nsources++] = self;
    return self;
}

int
ts_config_sources_finish (ts_config_t *self, char *err)
{
    if (self->nsources == 0 && !ts_config_view_new (self, S_DEFAULT_NAME)) {
        ts_errf (err, "%s: out of memory", self->source);
        return TS_ECONFIG;
    }
    return 0;
}

void
ts_config_key_shown (const ts_config_t *self, const char *key, char *buf,
                     size_t size)
{
    if (self->parent && strncmp (key, "upstream.", 9) == 0)
        snprintf (buf, size, "sources[%s].%s", self->name, key + 9);
    else
        snprintf (buf, size, "%s", key);
}

//  The config whose sources these are.
static const ts_config_t *
s_top (const ts_config_t *self)
{
    assert (self);
    return self->parent? self->parent: self;
}

size_t
ts_config_source_count (const ts_config_t *self)
{
    return s_top (self)->nsources;
}

const ts_config_t *
ts_config_source_at (const ts_config_t *self, size_t index)
{
    const ts_config_t *top = s_top (self);
    assert (index < top->nsources);
    return top->sources [index];
}

const char *
ts_config_source_name (const ts_config_t *self)
{
    assert (self);
    return self->name;
}

int
ts_config_source_find (const ts_config_t *self, const char *name)
{
    const ts_config_t *top = s_top (self);
    if (!name || !*name)
        return top->nsources? 0: -1;
    for (size_t i = 0; i < top->nsources; i++)
        if (strcmp (top->sources [i]->name, name) == 0)
            return (int) i;
    return -1;
}

void
ts_config_source_names (const ts_config_t *self, char *buf, size_t size)
{
    const ts_config_t *top = s_top (self);
    assert (buf && size);
    buf [0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < top->nsources && len < size; i++) {
        int n = snprintf (buf + len, size - len, "%s%s", i? ", ": "",
                          top->sources [i]->name);
        if (n < 0)
            break;
        len += (size_t) n;
    }
}

bool
ts_config_sources_same (const ts_config_t *a, const ts_config_t *b)
{
    a = s_top (a);
    b = s_top (b);
    if (a->nsources != b->nsources)
        return false;
    for (size_t i = 0; i < a->nsources; i++) {
        const ts_config_t *x = a->sources [i], *y = b->sources [i];
        if (strcmp (x->name, y->name) != 0)
            return false;
        for (size_t k = 0; k < ts_config_nkeys; k++) {
            if (x->set [k] != y->set [k])
                return false;
            if (x->set [k] && !ts_config_same (x, y, ts_config_keys [k].name))
                return false;
        }
    }
    return true;
}

const char *
ts_config_source_schedule (const ts_config_t *source, const char **key)
{
    const char *name = "upstream.schedule";
    const char *expr = ts_config_str (source, name);
    if (!*expr) {
        name = "broker.schedule";   //  a view reads it from the config
        expr = ts_config_str (source, name);
    }
    if (key)
        *key = name;
    return expr;
}

int64_t
ts_config_source_shift_ms (const ts_config_t *source)
{
    int64_t offset_s = ts_config_int (source, "upstream.schedule_offset_s");
    if (offset_s < 0)
        offset_s = ts_config_int (source, "broker.schedule_offset_s");
    int64_t jitter_s = ts_config_int (source, "upstream.schedule_jitter_s");
    if (jitter_s < 0)
        jitter_s = ts_config_int (source, "broker.schedule_jitter_s");
    return offset_s * 1000
         + ts_cron_spread_ms (ts_config_source_name (source), jitter_s);
}
