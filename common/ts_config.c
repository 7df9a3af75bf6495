/*  ts_config - the one YAML configuration file of every tscache process.

    Every process calls ts_config_load once at start and exits with the
    error line if it fails, so a bad file never half-starts a pipeline.

    s_keys below is the only list of keys: name, type, default, bounds and
    allowed values. Defaults are written as override text and go through
    the same parser and checks as environment values, so a default can not
    drift from what the loader accepts. Each config holds one value slot
    per table row.

    Loading: libyaml's document API builds the node tree (keeping marks, so
    every error names a line), nested mappings are walked into dotted keys
    ("store: lmdb: path:" is store.lmdb.path), each leaf is converted to
    the key's type and checked, then TSCACHE_* environment variables for
    the keys in the table are applied. Only table keys are looked up, so
    unrelated TSCACHE_* variables (TSCACHE_API_KEY) are never touched.

    Secrets never pass through the table: ts_config_secret reads them from
    the environment variable or file the config names, and never copies
    them into an error message.

    This module does not watch the file or reload: a process restarts to
    pick up changes. */

#include "ts_config.h"
#include "ts_cron.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define S_INT_OPEN      2147483647LL    //  upper bound of "n.." keys
#define S_FILE_MAX      (16 * 1024 * 1024)  //  largest config file read
#define S_SECRET_MAX    (64 * 1024)     //  largest secret file read
#define S_KEY_MAX       256             //  longest dotted key we build

typedef enum {
    S_STR,          //  any string; YAML null means ""
    S_INT,          //  integer within [min, max]
    S_BOOL,         //  true/false (also yes/no, on/off)
    S_ENUM,         //  one of allowed
    S_LIST,         //  list of strings
    S_MAP,          //  ordered mapping name -> string
    S_CRON,         //  cron expression, "" or "off" to disable
    S_ENDPOINT      //  ZeroMQ endpoint
} s_type_t;

//  Extra check for one key: returns 0, or -1 with reason filled and, for
//  a list or map, *bad set to the index of the offending entry.
typedef struct _s_value_t s_value_t;
typedef int (s_check_fn) (const s_value_t *value, char *reason, size_t size,
                          size_t *bad);

typedef struct {
    const char *name;           //  dotted key
    s_type_t type;              //  value type
    const char *def;            //  default, in override syntax
    int64_t min;                //  S_INT lower bound
    int64_t max;                //  S_INT upper bound
    const char *const *allowed; //  S_ENUM values, NULL-terminated
    s_check_fn *check;          //  key-specific check, or NULL
} s_key_t;

struct _s_value_t {
    char *str;                  //  S_STR, S_ENUM, S_CRON, S_ENDPOINT
    int64_t num;                //  S_INT
    bool flag;                  //  S_BOOL
    ts_strlist_t *list;         //  S_LIST items, S_MAP names
    ts_strlist_t *values;       //  S_MAP values, parallel to list
};

struct _ts_config_t {
    char *source;               //  file or name loaded from
    s_value_t *values;          //  one per s_keys row
};

static s_check_fn s_check_url, s_check_headers, s_check_measures;

static const char *const s_log_levels [] = {
    "error", "warn", "info", "debug", NULL };
static const char *const s_backends [] = { "lmdb", NULL };
static const char *const s_queue_backends [] = { "lmdb", NULL };
static const char *const s_time_units [] = { "ms", "s", "iso8601", NULL };
static const char *const s_layouts [] = { "rows", "columns", NULL };

static const s_key_t s_keys [] = {
    { "log.level", S_ENUM, "info", 0, 0, s_log_levels, NULL },

    { "store.backend", S_ENUM, "lmdb", 0, 0, s_backends, NULL },
    { "store.forecast_ttl_s", S_INT, "604800", 1, S_INT_OPEN, NULL, NULL },
    { "store.lmdb.path", S_STR, "./var/data", 0, 0, NULL, NULL },
    { "store.lmdb.map_size_mb", S_INT, "4096", 1, 1048576, NULL, NULL },

    { "broker.schedule", S_CRON, "*/5 * * * *", 0, 0, NULL, NULL },
    { "broker.ids_per_job", S_INT, "1", 1, 1000, NULL, NULL },
    { "broker.worker_bind", S_ENDPOINT, "tcp://127.0.0.1:5557",
      0, 0, NULL, NULL },
    { "broker.control_bind", S_ENDPOINT, "tcp://127.0.0.1:5556",
      0, 0, NULL, NULL },
    { "broker.visibility_timeout_s", S_INT, "120", 1, 43200, NULL, NULL },
    { "broker.max_receives", S_INT, "3", 1, 1000, NULL, NULL },
    { "broker.retry_base_ms", S_INT, "1000", 1, 3600000, NULL, NULL },
    { "broker.retry_max_ms", S_INT, "300000", 1, 86400000, NULL, NULL },
    { "broker.dlq_retention_s", S_INT, "1209600", 60, 31536000, NULL, NULL },
    { "broker.queue_backend", S_ENUM, "lmdb", 0, 0, s_queue_backends, NULL },
    { "broker.queue_path", S_STR, "./var/queue", 0, 0, NULL, NULL },
    { "broker.queue_map_size_mb", S_INT, "1024", 1, 1048576, NULL, NULL },

    { "worker.broker_endpoint", S_ENDPOINT, "tcp://127.0.0.1:5557",
      0, 0, NULL, NULL },
    { "worker.concurrency", S_INT, "16", 1, 1024, NULL, NULL },

    { "gateway.zmq_bind", S_ENDPOINT, "tcp://127.0.0.1:5555",
      0, 0, NULL, NULL },
    { "gateway.http_bind", S_STR, "127.0.0.1", 0, 0, NULL, NULL },
    { "gateway.http_port", S_INT, "8080", 0, 65535, NULL, NULL },
    { "gateway.http_threads", S_INT, "2", 1, 64, NULL, NULL },
    { "gateway.broker_endpoint", S_ENDPOINT, "tcp://127.0.0.1:5556",
      0, 0, NULL, NULL },
    { "gateway.broker_timeout_ms", S_INT, "3000", 10, 600000, NULL, NULL },
    { "gateway.api_key_env", S_STR, "TSCACHE_API_KEY", 0, 0, NULL, NULL },
    { "gateway.api_key_file", S_STR, "", 0, 0, NULL, NULL },
    { "gateway.max_points", S_INT, "1000000", 1, 10000000, NULL, NULL },
    { "gateway.cache_mb", S_INT, "32", 0, 65536, NULL, NULL },

    { "cli.endpoint", S_ENDPOINT, "tcp://127.0.0.1:5555", 0, 0, NULL, NULL },

    { "upstream.url", S_STR,
      "http://127.0.0.1:8090/rows/{id}?from={from}&to={to}",
      0, 0, NULL, s_check_url },
    { "upstream.headers", S_LIST, "", 0, 0, NULL, s_check_headers },
    { "upstream.api_key_env", S_STR, "", 0, 0, NULL, NULL },
    { "upstream.api_key_file", S_STR, "", 0, 0, NULL, NULL },
    { "upstream.api_key_header", S_STR, "x-api-key", 0, 0, NULL, NULL },
    { "upstream.past_s", S_INT, "86400", 0, S_INT_OPEN, NULL, NULL },
    { "upstream.future_s", S_INT, "86400", 0, S_INT_OPEN, NULL, NULL },
    { "upstream.time_param", S_ENUM, "ms", 0, 0, s_time_units, NULL },
    { "upstream.connect_timeout_ms", S_INT, "5000", 1, S_INT_OPEN,
      NULL, NULL },
    { "upstream.timeout_ms", S_INT, "30000", 1, S_INT_OPEN, NULL, NULL },
    { "upstream.max_body_bytes", S_INT, "16777216", 1, S_INT_OPEN,
      NULL, NULL },
    { "upstream.format.layout", S_ENUM, "rows", 0, 0, s_layouts, NULL },
    { "upstream.format.path", S_STR, "", 0, 0, NULL, NULL },
    { "upstream.format.time_field", S_STR, "time", 0, 0, NULL, NULL },
    { "upstream.format.time_unit", S_ENUM, "ms", 0, 0, s_time_units, NULL },
    { "upstream.format.measures", S_MAP, "value=value", 0, 0, NULL,
      s_check_measures },
};

#define S_NKEYS (sizeof s_keys / sizeof s_keys [0])

//  State of one file load.
typedef struct {
    ts_config_t *cfg;           //  config being filled
    yaml_document_t *doc;       //  parsed document
    const char *source;         //  name for error messages
    bool seen [S_NKEYS];        //  key already set by the file
    char *err;                  //  caller's error buffer
} s_loader_t;


//  ---------------------------------------------------------------------
//  Table lookup

static int
s_find (const char *key)
{
    for (size_t i = 0; i < S_NKEYS; i++)
        if (strcmp (s_keys [i].name, key) == 0)
            return (int) i;
    return -1;
}

//  True if some key lives below prefix ("upstream" or "upstream.format").
static bool
s_is_section (const char *prefix)
{
    size_t len = strlen (prefix);
    for (size_t i = 0; i < S_NKEYS; i++)
        if (strncmp (s_keys [i].name, prefix, len) == 0
        &&  s_keys [i].name [len] == '.')
            return true;
    return false;
}

static bool
s_is_string_type (s_type_t type)
{
    return type == S_STR || type == S_ENUM || type == S_CRON
        || type == S_ENDPOINT;
}


//  ---------------------------------------------------------------------
//  Values

static void
s_value_reset (s_value_t *value)
{
    free (value->str);
    ts_strlist_destroy (&value->list);
    ts_strlist_destroy (&value->values);
    memset (value, 0, sizeof *value);
}

//  Writes what a key must look like into reason.
static void
s_type_reason (const s_key_t *key, char *reason, size_t size)
{
    switch (key->type) {
        case S_INT:
            snprintf (reason, size, "must be an integer from %" PRId64
                      " to %" PRId64, key->min, key->max);
            break;
        case S_BOOL:
            snprintf (reason, size, "must be true or false");
            break;
        case S_ENUM: {
            int len = snprintf (reason, size, "must be one of: ");
            for (int i = 0; key->allowed [i] && len >= 0
                            && (size_t) len < size; i++)
                len += snprintf (reason + len, size - (size_t) len, "%s%s",
                                 i? ", ": "", key->allowed [i]);
            break;
        }
        case S_LIST:
            snprintf (reason, size, "must be a list of strings");
            break;
        case S_MAP:
            snprintf (reason, size, "must be a mapping of name: field");
            break;
        case S_CRON:
            snprintf (reason, size, "must be a cron expression, \"\" or "
                      "\"off\"");
            break;
        case S_ENDPOINT:
            snprintf (reason, size, "must be a ZeroMQ endpoint "
                      "(tcp://, ipc:// or inproc://)");
            break;
        default:
            snprintf (reason, size, "must be a string");
            break;
    }
}

//  Parses a whole decimal integer, white space around allowed.
static bool
s_parse_int (const char *text, int64_t *out)
{
    while (isspace ((unsigned char) *text))
        text++;
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit ((unsigned char) *p))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll (text, &end, 10);
    if (errno == ERANGE)
        return false;
    while (isspace ((unsigned char) *end))
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

static bool
s_parse_bool (const char *text, bool *out)
{
    static const char *const yes [] = { "true", "yes", "on", "1", NULL };
    static const char *const no [] = { "false", "no", "off", "0", NULL };
    for (int i = 0; yes [i]; i++) {
        if (strcasecmp (text, yes [i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp (text, no [i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

//  Adds name -> field to a map value; rejects a repeated name.
static int
s_map_add (s_value_t *value, const char *name, size_t name_len,
           const char *field, size_t field_len, char *reason, size_t size)
{
    for (size_t i = 0; i < value->list->n; i++)
        if (strlen (value->list->items [i]) == name_len
        &&  memcmp (value->list->items [i], name, name_len) == 0) {
            snprintf (reason, size, "duplicate name \"%.*s\"",
                      (int) (name_len > 64? 64: name_len), name);
            return -1;
        }
    if (ts_strlist_append_n (value->list, name, name_len)
    ||  ts_strlist_append_n (value->values, field, field_len)) {
        snprintf (reason, size, "out of memory");
        return -1;
    }
    return 0;
}

//  Prepares an empty value of the key's type (lists allocated).
static int
s_value_init (const s_key_t *key, s_value_t *value, char *reason,
              size_t size)
{
    memset (value, 0, sizeof *value);
    if (key->type == S_LIST || key->type == S_MAP) {
        value->list = ts_strlist_new ();
        value->values = key->type == S_MAP? ts_strlist_new (): NULL;
        if (!value->list || (key->type == S_MAP && !value->values)) {
            s_value_reset (value);
            snprintf (reason, size, "out of memory");
            return -1;
        }
    }
    return 0;
}

//  Trims white space from both ends of [*s, *s + *len).
static void
s_trim (const char **s, size_t *len)
{
    while (*len && isspace ((unsigned char) **s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && isspace ((unsigned char) (*s) [*len - 1]))
        (*len)--;
}

//  Converts override text (environment, ts_config_set, defaults) into a
//  value of the key's type. Returns 0, or -1 with reason filled.
static int
s_value_from_text (const s_key_t *key, const char *text, s_value_t *value,
                   char *reason, size_t size)
{
    if (s_value_init (key, value, reason, size))
        return -1;
    if (s_is_string_type (key->type)) {
        value->str = strdup (text);
        if (!value->str) {
            snprintf (reason, size, "out of memory");
            return -1;
        }
        return 0;
    }
    if (key->type == S_INT) {
        if (!s_parse_int (text, &value->num)) {
            s_type_reason (key, reason, size);
            return -1;
        }
        return 0;
    }
    if (key->type == S_BOOL) {
        if (!s_parse_bool (text, &value->flag)) {
            s_type_reason (key, reason, size);
            return -1;
        }
        return 0;
    }
    //  List or map: comma-separated entries, empty entries skipped.
    const char *p = text;
    int entry = 0;
    while (true) {
        const char *comma = strchr (p, ',');
        size_t len = comma? (size_t) (comma - p): strlen (p);
        const char *item = p;
        s_trim (&item, &len);
        if (len) {
            entry++;
            if (key->type == S_LIST) {
                if (ts_strlist_append_n (value->list, item, len)) {
                    snprintf (reason, size, "out of memory");
                    goto fail;
                }
            }
            else {
                const char *eq = memchr (item, '=', len);
                const char *name = item;
                size_t name_len = eq? (size_t) (eq - item): 0;
                const char *field = eq? eq + 1: NULL;
                size_t field_len = eq? len - name_len - 1: 0;
                if (eq) {
                    s_trim (&name, &name_len);
                    s_trim (&field, &field_len);
                }
                if (!eq || !name_len || !field_len) {
                    snprintf (reason, size, "entry %d must look like "
                              "name=field", entry);
                    goto fail;
                }
                if (s_map_add (value, name, name_len, field, field_len,
                               reason, size))
                    goto fail;
            }
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
fail:
    s_value_reset (value);
    return -1;
}

//  Checks a converted value against the key's rules. For a list or map
//  *bad may be set to the index of the entry at fault.
static int
s_value_check (const s_key_t *key, const s_value_t *value, char *reason,
               size_t size, size_t *bad)
{
    if (key->type == S_INT && (value->num < key->min
                           ||  value->num > key->max)) {
        s_type_reason (key, reason, size);
        return -1;
    }
    if (key->type == S_ENUM) {
        bool found = false;
        for (int i = 0; key->allowed [i]; i++)
            if (strcmp (value->str, key->allowed [i]) == 0)
                found = true;
        if (!found) {
            s_type_reason (key, reason, size);
            return -1;
        }
    }
    if (key->type == S_CRON && *value->str
    &&  strcmp (value->str, "off") != 0) {
        ts_cron_t cron;
        char cron_err [TS_ERRLEN];
        if (ts_cron_parse (&cron, value->str, cron_err)) {
            snprintf (reason, size, "%s", cron_err);
            return -1;
        }
    }
    if (key->type == S_ENDPOINT) {
        static const char *const schemes [] = {
            "tcp://", "ipc://", "inproc://", NULL };
        bool ok = false;
        for (int i = 0; schemes [i]; i++) {
            size_t len = strlen (schemes [i]);
            if (strncmp (value->str, schemes [i], len) == 0
            &&  value->str [len])
                ok = true;
        }
        if (!ok) {
            s_type_reason (key, reason, size);
            return -1;
        }
    }
    if (key->check)
        return key->check (value, reason, size, bad);
    return 0;
}

static int
s_check_url (const s_value_t *value, char *reason, size_t size, size_t *bad)
{
    if (!strstr (value->str, "{id}")) {
        snprintf (reason, size, "must contain {id}");
        return -1;
    }
    return 0;
}

//  "Name: value": an HTTP token, a colon, no line breaks. The entry
//  itself is never echoed: headers may carry credentials.
static int
s_check_headers (const s_value_t *value, char *reason, size_t size,
                 size_t *bad)
{
    for (size_t i = 0; i < value->list->n; i++) {
        const char *h = value->list->items [i];
        size_t name_len = strspn (h, "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789!#$%&'*+-.^_`|~");
        bool ok = name_len > 0 && h [name_len] == ':';
        for (const char *p = h; ok && *p; p++)
            if (*p == '\r' || *p == '\n')
                ok = false;
        if (!ok) {
            *bad = i;
            snprintf (reason, size, "entry %zu must look like "
                      "\"Name: value\"", i + 1);
            return -1;
        }
    }
    return 0;
}

static int
s_check_measures (const s_value_t *value, char *reason, size_t size,
                  size_t *bad)
{
    if (value->list->n == 0) {
        snprintf (reason, size, "must name at least one measure");
        return -1;
    }
    for (size_t i = 0; i < value->list->n; i++) {
        *bad = i;
        if (!ts_name_valid (value->list->items [i])) {
            snprintf (reason, size, "measure name \"%.64s\" must be 1 to %d "
                      "characters of A-Z a-z 0-9 . _ : -",
                      value->list->items [i], TS_NAME_MAX);
            return -1;
        }
        if (!*value->values->items [i]) {
            snprintf (reason, size, "measure \"%.64s\" needs a field name",
                      value->list->items [i]);
            return -1;
        }
    }
    return 0;
}

//  Converts and checks text, then stores it in slot index.
static int
s_set_text (ts_config_t *self, int index, const char *text, char *reason,
            size_t size)
{
    const s_key_t *key = &s_keys [index];
    s_value_t value;
    size_t bad = SIZE_MAX;
    if (s_value_from_text (key, text, &value, reason, size))
        return -1;
    if (s_value_check (key, &value, reason, size, &bad)) {
        s_value_reset (&value);
        return -1;
    }
    s_value_reset (&self->values [index]);
    self->values [index] = value;
    return 0;
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
s_value_from_node (s_loader_t *self, const s_key_t *key, yaml_node_t *node,
                   s_value_t *value, int *line, char *reason, size_t size)
{
    if (s_value_init (key, value, reason, size))
        return -1;
    const char *text = node->type == YAML_SCALAR_NODE
                     ? (const char *) node->data.scalar.value: NULL;
    bool null = s_node_is_null (node);

    if (s_is_string_type (key->type)) {
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
    if (key->type == S_INT) {
        if (!text || null || !s_parse_int (text, &value->num))
            goto wrong_type;
        return 0;
    }
    if (key->type == S_BOOL) {
        if (!text || null || !s_parse_bool (text, &value->flag))
            goto wrong_type;
        return 0;
    }
    if (null)
        return 0;               //  empty list or map
    if (key->type == S_LIST) {
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
    //  S_MAP
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
        if (s_map_add (value, (const char *) name->data.scalar.value,
                       name->data.scalar.length,
                       (const char *) field->data.scalar.value,
                       field->data.scalar.length, reason, size))
            goto fail;
    }
    return 0;

wrong_type:
    s_type_reason (key, reason, size);
    goto fail;
no_memory:
    snprintf (reason, size, "out of memory");
fail:
    s_value_reset (value);
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
    const s_key_t *key = &s_keys [index];
    char reason [TS_ERRLEN];
    int line = s_line (key_node);
    if (self->seen [index]) {
        ts_errf (self->err, "%s:%d: %s: duplicate key", self->source, line,
                 key->name);
        return TS_ECONFIG;
    }
    self->seen [index] = true;
    s_value_t value;
    if (s_value_from_node (self, key, node, &value, &line, reason,
                           sizeof reason))
        goto fail;
    line = s_line (key_node);
    size_t bad = SIZE_MAX;
    if (s_value_check (key, &value, reason, sizeof reason, &bad)) {
        s_value_reset (&value);
        yaml_node_t *entry = s_entry (self, node, bad);
        if (entry)
            line = s_line (entry);
        goto fail;
    }
    s_value_reset (&self->cfg->values [index]);
    self->cfg->values [index] = value;
    return 0;
fail:
    ts_errf (self->err, "%s:%d: %s: %s", self->source, line, key->name,
             reason);
    return TS_ECONFIG;
}

//  Walks a mapping whose keys are below prefix ("" at the top level).
static int
s_load_mapping (s_loader_t *self, yaml_node_t *map, const char *prefix)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *key_node = yaml_document_get_node (self->doc, pair->key);
        yaml_node_t *node = yaml_document_get_node (self->doc, pair->value);
        if (!key_node || !node)
            continue;
        if (key_node->type != YAML_SCALAR_NODE) {
            ts_errf (self->err, "%s:%d: %s%skeys must be plain names",
                     self->source, s_line (key_node), prefix,
                     *prefix? ": ": "");
            return TS_ECONFIG;
        }
        const char *name = (const char *) key_node->data.scalar.value;
        char full [S_KEY_MAX];
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
                         s_line (key_node), full);
                return TS_ECONFIG;
            }
        }
        int index = s_find (full);
        if (index >= 0) {
            int rc = s_load_leaf (self, index, key_node, node);
            if (rc)
                return rc;
        }
        else
        if (*name && s_is_section (full)) {
            if (node->type == YAML_MAPPING_NODE) {
                int rc = s_load_mapping (self, node, full);
                if (rc)
                    return rc;
            }
            else
            if (!s_node_is_null (node)) {
                ts_errf (self->err, "%s:%d: %s: must be a mapping (a section "
                         "of keys)", self->source, s_line (key_node), full);
                return TS_ECONFIG;
            }
        }
        else {
            ts_errf (self->err, "%s:%d: %s: unknown key", self->source,
                     s_line (key_node), full);
            return TS_ECONFIG;
        }
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
static int
s_load_yaml (ts_config_t *cfg, const char *text, size_t len,
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
            .cfg = cfg, .doc = &doc, .source = source, .err = err };
        rc = s_load_mapping (&loader, root, "");
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


//  ---------------------------------------------------------------------
//  Load

//  Environment variable name for key: TSCACHE_ + upper case, '.' -> '_'.
static void
s_env_name (const char *key, char *buf, size_t size)
{
    int len = snprintf (buf, size, "TSCACHE_%s", key);
    for (char *p = buf + 8; len > 0 && *p; p++)
        *p = *p == '.'? '_': (char) toupper ((unsigned char) *p);
}

static int
s_apply_env (ts_config_t *self, char *err)
{
    for (size_t i = 0; i < S_NKEYS; i++) {
        char var [S_KEY_MAX];
        s_env_name (s_keys [i].name, var, sizeof var);
        const char *text = getenv (var);
        if (!text)
            continue;
        char reason [TS_ERRLEN];
        if (s_set_text (self, (int) i, text, reason, sizeof reason)) {
            ts_errf (err, "env %s: %s", var, reason);
            return TS_ECONFIG;
        }
    }
    return 0;
}

//  Returns a config holding every default, or NULL (out of memory).
static ts_config_t *
s_config_new (const char *source)
{
    ts_config_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->source = strdup (source);
    self->values = calloc (S_NKEYS, sizeof *self->values);
    if (!self->source || !self->values) {
        ts_config_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < S_NKEYS; i++) {
        char reason [TS_ERRLEN];
        if (s_set_text (self, (int) i, s_keys [i].def, reason,
                        sizeof reason)) {
            //  A default the checks reject is a bug in s_keys.
            assert (strcmp (reason, "out of memory") == 0);
            ts_config_destroy (&self);
            return NULL;
        }
    }
    return self;
}

static ts_config_t *
s_load (const char *text, size_t len, const char *source, char *err)
{
    ts_config_t *self = s_config_new (source);
    if (!self) {
        ts_errf (err, "%s: out of memory", source);
        return NULL;
    }
    if (text && s_load_yaml (self, text, len, source, err)) {
        ts_config_destroy (&self);
        return NULL;
    }
    if (s_apply_env (self, err)) {
        ts_config_destroy (&self);
        return NULL;
    }
    return self;
}

//  Reads a whole file, at most max bytes, into a NUL-terminated buffer.
//  Returns 0, an errno value, or TS_ETOOBIG.
static int
s_read_file (const char *path, size_t max, char **data, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return errno;
    size_t cap = 4096, len = 0;
    char *buf = malloc (cap);
    int rc = buf? 0: ENOMEM;
    while (rc == 0) {
        if (len + 1 >= cap) {
            if (cap > max) {
                rc = TS_ETOOBIG;
                break;
            }
            char *bigger = realloc (buf, cap * 2);
            if (!bigger) {
                rc = ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread (buf + len, 1, cap - len - 1, file);
        len += got;
        if (got == 0) {
            if (ferror (file))
                rc = errno? errno: EIO;
            break;
        }
    }
    fclose (file);
    if (rc == 0 && len > max)
        rc = TS_ETOOBIG;
    if (rc) {
        if (buf)
            explicit_bzero (buf, cap);
        free (buf);
        return rc;
    }
    buf [len] = '\0';
    *data = buf;
    *size = len;
    return 0;
}

ts_config_t *
ts_config_load (const char *path, char *err)
{
    if (!path)
        return s_load (NULL, 0, "(defaults)", err);
    char *text = NULL;
    size_t len = 0;
    int rc = s_read_file (path, S_FILE_MAX, &text, &len);
    if (rc == TS_ETOOBIG) {
        ts_errf (err, "%s: cannot read: larger than %d bytes", path,
                 S_FILE_MAX);
        return NULL;
    }
    if (rc) {
        ts_errf (err, "%s: cannot read: %s", path, strerror (rc));
        return NULL;
    }
    ts_config_t *self = s_load (text, len, path, err);
    free (text);
    return self;
}

ts_config_t *
ts_config_load_text (const char *text, const char *name, char *err)
{
    return s_load (text, text? strlen (text): 0, name? name: "(text)", err);
}

void
ts_config_destroy (ts_config_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_config_t *self = *self_p;
        if (self->values)
            for (size_t i = 0; i < S_NKEYS; i++)
                s_value_reset (&self->values [i]);
        free (self->values);
        free (self->source);
        free (self);
        *self_p = NULL;
    }
}

const char *
ts_config_source (const ts_config_t *self)
{
    assert (self);
    return self->source;
}


//  ---------------------------------------------------------------------
//  Getters

static const s_value_t *
s_get (const ts_config_t *self, const char *key, s_type_t type)
{
    assert (self);
    assert (key);
    int index = s_find (key);
    assert (index >= 0);        //  unknown key
    assert (s_keys [index].type == type
         || (s_is_string_type (type)
         &&  s_is_string_type (s_keys [index].type)));
    return &self->values [index];
}

const char *
ts_config_str (const ts_config_t *self, const char *key)
{
    return s_get (self, key, S_STR)->str;
}

int64_t
ts_config_int (const ts_config_t *self, const char *key)
{
    return s_get (self, key, S_INT)->num;
}

bool
ts_config_bool (const ts_config_t *self, const char *key)
{
    return s_get (self, key, S_BOOL)->flag;
}

const ts_strlist_t *
ts_config_list (const ts_config_t *self, const char *key)
{
    return s_get (self, key, S_LIST)->list;
}

void
ts_config_map (const ts_config_t *self, const char *key,
               const ts_strlist_t **names, const ts_strlist_t **values)
{
    const s_value_t *value = s_get (self, key, S_MAP);
    if (names)
        *names = value->list;
    if (values)
        *values = value->values;
}

int
ts_config_set (ts_config_t *self, const char *key, const char *value,
               char *err)
{
    assert (self);
    assert (key);
    int index = s_find (key);
    if (index < 0) {
        ts_errf (err, "%s: unknown key", key);
        return TS_ECONFIG;
    }
    char reason [TS_ERRLEN];
    if (s_set_text (self, index, value? value: "", reason, sizeof reason)) {
        ts_errf (err, "%s: %s", key, reason);
        return TS_ECONFIG;
    }
    return 0;
}


//  ---------------------------------------------------------------------
//  Secrets

int
ts_config_secret (const char *env_name, const char *file_path,
                  char **secret, char *err)
{
    assert (secret);
    *secret = NULL;
    if (env_name && *env_name) {
        const char *text = getenv (env_name);
        if (text && *text) {
            *secret = strdup (text);
            if (!*secret) {
                ts_errf (err, "env %s: out of memory", env_name);
                return TS_ENOMEM;
            }
            return 0;
        }
    }
    if (!file_path || !*file_path)
        return TS_ENOTFOUND;

    char *data = NULL;
    size_t len = 0;
    int rc = s_read_file (file_path, S_SECRET_MAX, &data, &len);
    if (rc == TS_ETOOBIG) {
        ts_errf (err, "%s: cannot read: larger than %d bytes", file_path,
                 S_SECRET_MAX);
        return TS_EINVAL;
    }
    if (rc) {
        ts_errf (err, "%s: cannot read: %s", file_path, strerror (rc));
        return TS_EINVAL;
    }
    const char *start = data;
    size_t trimmed = len;
    s_trim (&start, &trimmed);
    if (trimmed == 0 || memchr (start, '\0', trimmed)) {
        explicit_bzero (data, len);
        free (data);
        if (trimmed == 0)
            return TS_ENOTFOUND;
        ts_errf (err, "%s: holds a NUL byte", file_path);
        return TS_EINVAL;
    }
    memmove (data, start, trimmed);
    explicit_bzero (data + trimmed, len - trimmed);
    data [trimmed] = '\0';
    *secret = data;
    return 0;
}


//  ---------------------------------------------------------------------
//  Print

//  Writes s as a YAML scalar, double-quoted when plain text would be read
//  differently; special lists more characters that force quotes (flow
//  context: inside [..] and {..}).
static void
s_print_scalar (const char *s, const char *special)
{
    bool quote = !*s || strchr ("-?:,[]{}#&*!|>'\"%@` ", *s)
              || s [strlen (s) - 1] == ' ' || strstr (s, ": ")
              || strstr (s, " #") || strpbrk (s, special)
              || strcasecmp (s, "null") == 0 || strcmp (s, "~") == 0;
    for (const char *p = s; !quote && *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '"'
        ||  *p == '\\')
            quote = true;
    if (!quote) {
        fputs (s, stdout);
        return;
    }
    putchar ('"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf ("\\%c", *p);
        else
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            printf ("\\x%02x", (unsigned char) *p);
        else
            putchar (*p);
    }
    putchar ('"');
}

void
ts_config_print (const ts_config_t *self)
{
    assert (self);
    for (size_t i = 0; i < S_NKEYS; i++) {
        const s_key_t *key = &s_keys [i];
        const s_value_t *value = &self->values [i];
        printf ("%s: ", key->name);
        switch (key->type) {
            case S_INT:
                printf ("%" PRId64, value->num);
                break;
            case S_BOOL:
                fputs (value->flag? "true": "false", stdout);
                break;
            case S_LIST:
                putchar ('[');
                for (size_t j = 0; j < value->list->n; j++) {
                    fputs (j? ", ": "", stdout);
                    s_print_scalar (value->list->items [j], ",[]{}");
                }
                putchar (']');
                break;
            case S_MAP:
                putchar ('{');
                for (size_t j = 0; j < value->list->n; j++) {
                    fputs (j? ", ": "", stdout);
                    s_print_scalar (value->list->items [j], ",[]{}:");
                    fputs (": ", stdout);
                    s_print_scalar (value->values->items [j], ",[]{}:");
                }
                putchar ('}');
                break;
            default:
                s_print_scalar (value->str, "");
                break;
        }
        putchar ('\n');
    }
    fflush (stdout);
}
