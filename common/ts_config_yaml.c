/*  ts_config_yaml - reads a YAML config file into ts_config's slots.

    libyaml's document API builds the node tree (keeping marks, so every
    error names a line), nested mappings are walked into dotted keys
    ("store: lmdb: path:" is store.lmdb.path), and each leaf is converted
    to the key's type and checked (ts_config_keys.c). Unknown keys,
    duplicate keys, a second YAML document and syntax errors are errors
    naming file and line. Part of the ts_config module: see
    ts_config_keys.h. */

#include "ts_config_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

//  State of one file load.
typedef struct {
    ts_config_t *cfg;           //  config being filled
    yaml_document_t *doc;       //  parsed document
    const char *source;         //  name for error messages
    bool *seen;                 //  per key: already set by the file
    char *err;                  //  caller's error buffer
} s_loader_t;

//  The key as errors name it: in a sources: entry (cfg a view),
//  "sources[NAME].format.layout" for upstream.format.layout.
#define S_SHOWN_MAX (TS_CONFIG_KEY_MAX + TS_NAME_MAX + 16)
static const char *
s_shown (s_loader_t *self, const char *key, char *buf)
{
    ts_config_key_shown (self->cfg, key, buf, S_SHOWN_MAX);
    return buf;
}

//  ---------------------------------------------------------------------
//  YAML

//  True for a plain scalar YAML reads as null.
static bool
s_node_is_null (const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE
    ||  node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *) node->data.scalar.value;
    return !*s || strcmp (s, "~") == 0 || strcmp (s, "null") == 0
        || strcmp (s, "Null") == 0 || strcmp (s, "NULL") == 0;
}

static int
s_line (const yaml_node_t *node)
{
    return (int) node->start_mark.line + 1;
}

//  Converts a YAML node into a value of the key's type. On error fills
//  reason and sets *line to the line to blame.
static int
s_value_from_node (s_loader_t *self, const ts_config_key_t *key,
                   yaml_node_t *node, ts_config_value_t *value, int *line,
                   char *reason, size_t size)
{
    if (ts_config_value_init (key, value, reason, size))
        return -1;
    const char *text = node->type == YAML_SCALAR_NODE
                     ? (const char *) node->data.scalar.value: NULL;
    bool null = s_node_is_null (node);

    if (ts_config_type_is_string (key->type)) {
        if (!text)
            goto wrong_type;
        value->str = strdup (null? "": text);
        if (!value->str)
            goto no_memory;
        if (strlen (text) != node->data.scalar.length) {
            snprintf (reason, size, "must not contain NUL characters");
            goto fail;
        }
        return 0;
    }
    if (key->type == TS_CONFIG_INT) {
        if (!text || null || !ts_config_parse_int (text, &value->num))
            goto wrong_type;
        return 0;
    }
    if (key->type == TS_CONFIG_BOOL) {
        if (!text || null || !ts_config_parse_bool (text, &value->flag))
            goto wrong_type;
        return 0;
    }
    if (null)
        return 0;               //  empty list or map
    if (key->type == TS_CONFIG_LIST) {
        if (node->type != YAML_SEQUENCE_NODE)
            goto wrong_type;
        for (yaml_node_item_t *item = node->data.sequence.items.start;
             item < node->data.sequence.items.top; item++) {
            yaml_node_t *child = yaml_document_get_node (self->doc, *item);
            if (!child || child->type != YAML_SCALAR_NODE
            ||  s_node_is_null (child)) {
                if (child)
                    *line = s_line (child);
                goto wrong_type;
            }
            if (ts_strlist_append (value->list,
                                   (const char *) child->data.scalar.value))
                goto no_memory;
        }
        return 0;
    }
    //  TS_CONFIG_MAP
    if (node->type != YAML_MAPPING_NODE)
        goto wrong_type;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *name = yaml_document_get_node (self->doc, pair->key);
        yaml_node_t *field = yaml_document_get_node (self->doc, pair->value);
        if (!name || !field)
            goto wrong_type;
        *line = s_line (name);
        if (name->type != YAML_SCALAR_NODE || field->type != YAML_SCALAR_NODE
        ||  s_node_is_null (field))
            goto wrong_type;
        if (ts_config_map_add (value, (const char *) name->data.scalar.value,
                       name->data.scalar.length,
                       (const char *) field->data.scalar.value,
                       field->data.scalar.length, reason, size))
            goto fail;
    }
    return 0;

wrong_type:
    ts_config_type_reason (key, reason, size);
    goto fail;
no_memory:
    snprintf (reason, size, "out of memory");
fail:
    ts_config_value_reset (value);
    return -1;
}

//  Returns the node of entry index of a sequence (the item) or mapping
//  (the name), or NULL.
static yaml_node_t *
s_entry (s_loader_t *self, yaml_node_t *node, size_t index)
{
    if (node->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *items = node->data.sequence.items.start;
        if (index < (size_t) (node->data.sequence.items.top - items))
            return yaml_document_get_node (self->doc, items [index]);
    }
    if (node->type == YAML_MAPPING_NODE) {
        yaml_node_pair_t *pairs = node->data.mapping.pairs.start;
        if (index < (size_t) (node->data.mapping.pairs.top - pairs))
            return yaml_document_get_node (self->doc, pairs [index].key);
    }
    return NULL;
}

//  Sets key index from a YAML node found under key_node.
static int
s_load_leaf (s_loader_t *self, int index, yaml_node_t *key_node,
             yaml_node_t *node)
{
    const ts_config_key_t *key = &ts_config_keys [index];
    char reason [TS_ERRLEN], shown [S_SHOWN_MAX];
    int line = s_line (key_node);
    if (self->seen [index]) {
        ts_errf (self->err, "%s:%d: %s: duplicate key", self->source, line,
                 s_shown (self, key->name, shown));
        return TS_ECONFIG;
    }
    self->seen [index] = true;
    ts_config_value_t value;
    if (s_value_from_node (self, key, node, &value, &line, reason,
                           sizeof reason))
        goto fail;
    line = s_line (key_node);
    size_t bad = SIZE_MAX;
    if (ts_config_value_check (key, &value, reason, sizeof reason, &bad)) {
        ts_config_value_reset (&value);
        yaml_node_t *entry = s_entry (self, node, bad);
        if (entry)
            line = s_line (entry);
        goto fail;
    }
    ts_config_value_reset (&self->cfg->values [index]);
    self->cfg->values [index] = value;
    self->cfg->values [index].line = line;
    if (self->cfg->set)
        self->cfg->set [index] = true;
    return 0;
fail:
    ts_errf (self->err, "%s:%d: %s: %s", self->source, line,
             s_shown (self, key->name, shown), reason);
    return TS_ECONFIG;
}

static int s_load_sources (s_loader_t *self, yaml_node_t *key_node,
                           yaml_node_t *node);

//  Walks a mapping whose keys are below prefix ("" at the top level).
static int
s_load_mapping (s_loader_t *self, yaml_node_t *map, const char *prefix)
{
    char shown [S_SHOWN_MAX];
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *key_node = yaml_document_get_node (self->doc, pair->key);
        yaml_node_t *node = yaml_document_get_node (self->doc, pair->value);
        if (!key_node || !node)
            continue;
        if (key_node->type != YAML_SCALAR_NODE) {
            ts_errf (self->err, "%s:%d: %s%skeys must be plain names",
                     self->source, s_line (key_node),
                     s_shown (self, prefix, shown), *prefix? ": ": "");
            return TS_ECONFIG;
        }
        const char *name = (const char *) key_node->data.scalar.value;
        char full [TS_CONFIG_KEY_MAX];
        snprintf (full, sizeof full, "%s%s%s", prefix, *prefix? ".": "",
                  name);

        //  The same name twice in one mapping (a section or a key).
        for (yaml_node_pair_t *prev = map->data.mapping.pairs.start;
             prev < pair; prev++) {
            yaml_node_t *prev_key = yaml_document_get_node (self->doc,
                                                            prev->key);
            if (prev_key && prev_key->type == YAML_SCALAR_NODE
            &&  strcmp ((const char *) prev_key->data.scalar.value,
                        name) == 0) {
                ts_errf (self->err, "%s:%d: %s: duplicate key", self->source,
                         s_line (key_node), s_shown (self, full, shown));
                return TS_ECONFIG;
            }
        }
        //  A sources: entry's name is the source's, not a key.
        if (self->cfg->parent && strcmp (full, "upstream.name") == 0)
            continue;
        if (!self->cfg->parent && strcmp (full, "sources") == 0) {
            int rc = s_load_sources (self, key_node, node);
            if (rc)
                return rc;
            continue;
        }
        int index = ts_config_key_find (full);
        if (index >= 0) {
            int rc = s_load_leaf (self, index, key_node, node);
            if (rc)
                return rc;
        }
        else
        if (*name && ts_config_key_is_section (full)) {
            if (node->type == YAML_MAPPING_NODE) {
                int rc = s_load_mapping (self, node, full);
                if (rc)
                    return rc;
            }
            else
            if (!s_node_is_null (node)) {
                ts_errf (self->err, "%s:%d: %s: must be a mapping (a section "
                         "of keys)", self->source, s_line (key_node),
                         s_shown (self, full, shown));
                return TS_ECONFIG;
            }
        }
        else {
            ts_errf (self->err, "%s:%d: %s: unknown key", self->source,
                     s_line (key_node), s_shown (self, full, shown));
            return TS_ECONFIG;
        }
    }
    return 0;
}

//  Reads one entry of sources: (the index-th) into a new view: its name
//  first, then its keys as if written under upstream:.
static int
s_load_source (s_loader_t *self, yaml_node_t *entry, size_t index)
{
    const char *source = self->source;
    if (entry->type != YAML_MAPPING_NODE) {
        ts_errf (self->err, "%s:%d: sources[%zu]: must be a mapping (name: "
                 "and upstream keys)", source, s_line (entry), index);
        return TS_ECONFIG;
    }
    yaml_node_t *name = NULL;
    for (yaml_node_pair_t *pair = entry->data.mapping.pairs.start;
         pair < entry->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node (self->doc, pair->key);
        if (key && key->type == YAML_SCALAR_NODE
        &&  strcmp ((const char *) key->data.scalar.value, "name") == 0)
            name = yaml_document_get_node (self->doc, pair->value);
    }
    if (!name) {
        ts_errf (self->err, "%s:%d: sources[%zu]: needs a name", source,
                 s_line (entry), index);
        return TS_ECONFIG;
    }
    const char *text = name->type == YAML_SCALAR_NODE
                     ? (const char *) name->data.scalar.value: "";
    if (name->type != YAML_SCALAR_NODE || !ts_name_valid (text)
    ||  strlen (text) != name->data.scalar.length) {
        ts_errf (self->err, "%s:%d: sources[%zu].name: must be "
                 TS_NAME_RULE, source, s_line (name), index);
        return TS_ECONFIG;
    }
    if (ts_config_source_find (self->cfg, text) >= 0) {
        ts_errf (self->err, "%s:%d: sources[%s].name: a source of that "
                 "name is listed before", source, s_line (name), text);
        return TS_ECONFIG;
    }
    s_loader_t entry_loader = *self;
    entry_loader.cfg = ts_config_view_new (self->cfg, text);
    entry_loader.seen = calloc (ts_config_nkeys, sizeof (bool));
    int rc = 0;
    if (!entry_loader.cfg || !entry_loader.seen) {
        ts_errf (self->err, "%s: out of memory", source);
        rc = TS_ECONFIG;
    }
    else
        rc = s_load_mapping (&entry_loader, entry, "upstream");
    free (entry_loader.seen);
    return rc;
}

//  sources: a sequence of entries, each a source (a view of the config).
static int
s_load_sources (s_loader_t *self, yaml_node_t *key_node, yaml_node_t *node)
{
    if (s_node_is_null (node))
        return 0;
    if (node->type != YAML_SEQUENCE_NODE
    ||  node->data.sequence.items.top == node->data.sequence.items.start) {
        ts_errf (self->err, "%s:%d: sources: must be a list of sources, "
                 "each a mapping with a name", self->source,
                 s_line (key_node));
        return TS_ECONFIG;
    }
    size_t index = 0;
    for (yaml_node_item_t *item = node->data.sequence.items.start;
         item < node->data.sequence.items.top; item++, index++) {
        yaml_node_t *entry = yaml_document_get_node (self->doc, *item);
        int rc = entry? s_load_source (self, entry, index): 0;
        if (rc)
            return rc;
    }
    return 0;
}

static void
s_syntax_error (yaml_parser_t *parser, const char *source, char *err)
{
    if (parser->error == YAML_MEMORY_ERROR)
        ts_errf (err, "%s: out of memory", source);
    else
        ts_errf (err, "%s:%d: syntax error: %s", source,
                 (int) parser->problem_mark.line + 1,
                 parser->problem? parser->problem: "unknown problem");
}

//  Parses YAML text into cfg. Returns 0 or TS_ECONFIG.
int
ts_config_yaml_load (ts_config_t *cfg, const char *text, size_t len,
                     const char *source, char *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize (&parser)) {
        ts_errf (err, "%s: out of memory", source);
        return TS_ECONFIG;
    }
    yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
    if (!yaml_parser_load (&parser, &doc)) {
        s_syntax_error (&parser, source, err);
        yaml_parser_delete (&parser);
        return TS_ECONFIG;
    }
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node (&doc);
    if (root && root->type == YAML_MAPPING_NODE) {
        s_loader_t loader = {
            .cfg = cfg, .doc = &doc, .source = source, .err = err,
            .seen = calloc (ts_config_nkeys, sizeof (bool)) };
        if (loader.seen)
            rc = s_load_mapping (&loader, root, "");
        else {
            ts_errf (err, "%s: out of memory", source);
            rc = TS_ECONFIG;
        }
        free (loader.seen);
    }
    else
    if (root && !s_node_is_null (root)) {
        ts_errf (err, "%s:%d: top level must be a mapping of keys", source,
                 s_line (root));
        rc = TS_ECONFIG;
    }
    yaml_document_delete (&doc);

    if (rc == 0) {
        //  Anything after the first document is a mistake.
        if (!yaml_parser_load (&parser, &doc)) {
            s_syntax_error (&parser, source, err);
            rc = TS_ECONFIG;
        }
        else {
            root = yaml_document_get_root_node (&doc);
            if (root) {
                ts_errf (err, "%s:%d: only one YAML document is allowed",
                         source, s_line (root));
                rc = TS_ECONFIG;
            }
            yaml_document_delete (&doc);
        }
    }
    yaml_parser_delete (&parser);
    return rc;
}

