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
#include "ts_redact.h"

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
    int line;                   //  file line it was set at; 0 default,
                                //  S_LINE_ENV set by the environment
};

struct _ts_config_t {
    char *source;               //  file or name loaded from
    s_value_t *values;          //  one per s_keys row
    ts_strlist_t *warnings;     //  what was ignored, for the log
};

#define S_LINE_ENV  (-1)

static s_check_fn s_check_url, s_check_headers, s_check_header_name,
                  s_check_measures, s_check_path_prefix;

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
    { "gateway.http_max_connections", S_INT, "1024", 1, 1000000, NULL, NULL },
    { "gateway.http_idle_timeout_s", S_INT, "30", 1, 3600, NULL, NULL },
    { "gateway.http_request_timeout_s", S_INT, "10", 1, 3600, NULL, NULL },
    { "gateway.broker_endpoint", S_ENDPOINT, "tcp://127.0.0.1:5556",
      0, 0, NULL, NULL },
    { "gateway.broker_timeout_ms", S_INT, "3000", 10, 600000, NULL, NULL },
    { "gateway.api_key_env", S_STR, "TSCACHE_API_KEY", 0, 0, NULL, NULL },
    { "gateway.api_key_file", S_STR, "", 0, 0, NULL, NULL },
    { "gateway.max_points", S_INT, "1000000", 1, 10000000, NULL, NULL },
    { "gateway.cache_mb", S_INT, "32", 0, 65536, NULL, NULL },
    { "gateway.seed_path_prefix", S_STR, "", 0, 0, NULL,
      s_check_path_prefix },

    { "cli.endpoint", S_ENDPOINT, "tcp://127.0.0.1:5555", 0, 0, NULL, NULL },

    { "upstream.url", S_STR,
      "http://127.0.0.1:8090/rows/{id}?from={from}&to={to}",
      0, 0, NULL, s_check_url },
    { "upstream.headers", S_LIST, "", 0, 0, NULL, s_check_headers },
    { "upstream.api_key_env", S_STR, "", 0, 0, NULL, NULL },
    { "upstream.api_key_file", S_STR, "", 0, 0, NULL, NULL },
    { "upstream.api_key_header", S_STR, "x-api-key", 0, 0, NULL,
      s_check_header_name },
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

//  Length of the HTTP token (a header name) that s starts with.
static size_t
s_token_len (const char *s)
{
    return strspn (s, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789!#$%&'*+-.^_`|~");
}

//  "Name: value": an HTTP token, a colon, no line breaks. A header whose
//  name says it carries a credential (ts_redact_is_credential) takes its
//  secret from {api_key}: written into config text, it would be a secret
//  in the config. The entry itself is never echoed, only its name.
static int
s_check_headers (const s_value_t *value, char *reason, size_t size,
                 size_t *bad)
{
    for (size_t i = 0; i < value->list->n; i++) {
        const char *h = value->list->items [i];
        size_t name_len = s_token_len (h);
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
        if (ts_redact_is_credential (h, name_len)
        &&  !strstr (h + name_len, "{api_key}")) {
            *bad = i;
            snprintf (reason, size, "entry %zu: %.*s carries a credential, "
                      "which is never written in the config: write "
                      "{api_key} in its value and set upstream.api_key_env "
                      "or upstream.api_key_file", i + 1,
                      (int) (name_len < 64? name_len: 64), h);
            return -1;
        }
    }
    return 0;
}

static int
s_check_header_name (const s_value_t *value, char *reason, size_t size,
                     size_t *bad)
{
    if (!*value->str || value->str [s_token_len (value->str)]) {
        snprintf (reason, size, "must be a header name (letters, digits "
                  "and !#$%%&'*+-.^_`|~)");
        return -1;
    }
    return 0;
}

//  "" or "/seg[/seg...]": segments of RFC 3986 path characters without
//  '%' (so the prefix matches the decoded path as written), no empty or
//  dot segment, no trailing '/', and not a first segment the gateway's
//  own routes use.
#define S_PREFIX_MAX 256
static int
s_check_path_prefix (const s_value_t *value, char *reason, size_t size,
                     size_t *bad)
{
    static const char *const taken [] = {
        "v1", "healthz", "timeSeries-data", NULL };
    const char *p = value->str;
    if (!*p)
        return 0;
    size_t len = strlen (p);
    if (p [0] != '/' || len > S_PREFIX_MAX || p [len - 1] == '/') {
        snprintf (reason, size, "must be \"\" or start with '/', not end "
                  "with '/', and be at most %d characters (e.g. /prod)",
                  S_PREFIX_MAX);
        return -1;
    }
    const char *seg = p + 1;
    for (size_t index = 1; seg <= p + len; index++) {
        size_t seg_len = strcspn (seg, "/");
        size_t ok_len = strspn (seg, "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-._~!$&'()*+,;=:@");
        bool dots = seg [0] == '.' && (seg_len == 1
                                    || (seg_len == 2 && seg [1] == '.'));
        if (seg_len == 0 || ok_len < seg_len || dots) {
            snprintf (reason, size, "segment %zu must be 1 or more of "
                      "A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @, "
                      "not . or ..", index);
            return -1;
        }
        for (int i = 0; index == 1 && taken [i]; i++)
            if (strlen (taken [i]) == seg_len
            &&  memcmp (seg, taken [i], seg_len) == 0) {
                snprintf (reason, size, "/%s is a route of the gateway; "
                          "choose another prefix", taken [i]);
                return -1;
            }
        seg += seg_len + 1;
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
            snprintf (reason, size, "measure name \"%.64s\" must be "
                      TS_NAME_RULE, value->list->items [i]);
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
    self->cfg->values [index].line = line;
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

//  TSCACHE_* variables that are not config keys but are read by tscache
//  itself: the config file, the CLI's endpoint, and the build and test
//  scripts' own settings. The variables named by *.api_key_env keys are
//  known too (s_env_known).
static const char *const s_env_other [] = {
    "TSCACHE_CONFIG", "TSCACHE_ENDPOINT", "TSCACHE_BIN", "TSCACHE_TESTS",
    "TSCACHE_TEST_SEED", "TSCACHE_ZMQLOAD", "TSCACHE_ZMQECHO", NULL };

//  True if the variable called name (length len) is one tscache reads.
static bool
s_env_known (const ts_config_t *self, const char *name, size_t len)
{
    for (const char *const *other = s_env_other; *other; other++)
        if (strlen (*other) == len && memcmp (*other, name, len) == 0)
            return true;
    //  Keys ending in _env name a variable (gateway.api_key_env).
    for (size_t i = 0; i < S_NKEYS; i++) {
        const char *key = s_keys [i].name;
        size_t key_len = strlen (key);
        const char *var = self->values [i].str;
        if (key_len > 4 && strcmp (key + key_len - 4, "_env") == 0
        &&  var && strlen (var) == len && memcmp (var, name, len) == 0)
            return true;
    }
    return false;
}

//  Edit distance of a and b, capped: returns at most limit + 1.
static size_t
s_distance (const char *a, size_t a_len, const char *b, size_t b_len,
            size_t limit)
{
    if (a_len > b_len + limit || b_len > a_len + limit || b_len >= S_KEY_MAX)
        return limit + 1;
    size_t row [S_KEY_MAX + 1];
    for (size_t j = 0; j <= b_len; j++)
        row [j] = j;
    for (size_t i = 1; i <= a_len; i++) {
        size_t diagonal = row [0];
        row [0] = i;
        size_t best = row [0];
        for (size_t j = 1; j <= b_len; j++) {
            size_t above = row [j];
            size_t cost = diagonal + (a [i - 1] != b [j - 1]);
            if (above + 1 < cost)
                cost = above + 1;
            if (row [j - 1] + 1 < cost)
                cost = row [j - 1] + 1;
            row [j] = cost;
            diagonal = above;
            if (cost < best)
                best = cost;
        }
        if (best > limit)
            return limit + 1;
    }
    return row [b_len] > limit? limit + 1: row [b_len];
}

//  Notes every TSCACHE_* variable that is neither a key's override nor
//  read by tscache otherwise: most likely a misspelt key, which would
//  otherwise be ignored without a word.
static int
s_warn_unknown_env (ts_config_t *self)
{
    extern char **environ;
    for (char **env = environ; env && *env; env++) {
        const char *name = *env;
        const char *equals = strchr (name, '=');
        size_t len = equals? (size_t) (equals - name): strlen (name);
        if (len <= 8 || strncmp (name, "TSCACHE_", 8) != 0)
            continue;
        bool is_key = false;
        const char *closest = NULL;
        size_t closest_distance = 3;
        char var [S_KEY_MAX];
        for (size_t i = 0; i < S_NKEYS && !is_key; i++) {
            s_env_name (s_keys [i].name, var, sizeof var);
            size_t distance = s_distance (name, len, var, strlen (var),
                                          closest_distance - 1);
            is_key = distance == 0;
            if (distance < closest_distance) {
                closest_distance = distance;
                closest = s_keys [i].name;
            }
        }
        if (is_key || s_env_known (self, name, len))
            continue;
        char warning [TS_ERRLEN];
        if (closest) {
            s_env_name (closest, var, sizeof var);
            snprintf (warning, sizeof warning, "env %.*s: not a config key, "
                      "ignored (did you mean %s?)", (int) len, name, var);
        }
        else
            snprintf (warning, sizeof warning, "env %.*s: not a config key, "
                      "ignored (a key's variable is TSCACHE_ + the key in "
                      "upper case, dots as underscores)", (int) len, name);
        if (ts_strlist_append (self->warnings, warning))
            return TS_ENOMEM;
    }
    return 0;
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
        self->values [i].line = S_LINE_ENV;
    }
    if (s_warn_unknown_env (self)) {
        ts_errf (err, "out of memory");
        return TS_ECONFIG;
    }
    return 0;
}

//  Fills err with reason, naming where key was set (ts_config_where).
static void
s_blame (const ts_config_t *self, const char *key, const char *reason,
         char *err)
{
    char where [TS_ERRLEN];
    ts_config_where (self, key, where, sizeof where);
    ts_errf (err, "%s: %s", where, reason);
}

//  Rules between keys, checked once every key is set: {api_key} in
//  upstream.url or upstream.headers needs a place to read the key from.
static int
s_check_keys (const ts_config_t *self, char *err)
{
    const char *env = ts_config_str (self, "upstream.api_key_env");
    const char *file = ts_config_str (self, "upstream.api_key_file");
    if (*env || *file)
        return 0;
    const char *key = NULL;
    if (strstr (ts_config_str (self, "upstream.url"), "{api_key}"))
        key = "upstream.url";
    const ts_strlist_t *headers = ts_config_list (self, "upstream.headers");
    for (size_t i = 0; !key && i < headers->n; i++)
        if (strstr (headers->items [i], "{api_key}"))
            key = "upstream.headers";
    if (!key)
        return 0;
    s_blame (self, key, "{api_key} needs the upstream API key: set "
             "upstream.api_key_env or upstream.api_key_file", err);
    return TS_ECONFIG;
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
    self->warnings = ts_strlist_new ();
    if (!self->source || !self->values || !self->warnings) {
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
    if (s_apply_env (self, err) || s_check_keys (self, err)) {
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
        ts_strlist_destroy (&self->warnings);
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

const ts_strlist_t *
ts_config_warnings (const ts_config_t *self)
{
    assert (self);
    return self->warnings;
}

void
ts_config_where (const ts_config_t *self, const char *key, char *buf,
                 size_t size)
{
    assert (self);
    int index = s_find (key);
    assert (index >= 0);        //  unknown key
    int line = self->values [index].line;
    if (line == S_LINE_ENV) {
        char var [S_KEY_MAX];
        s_env_name (key, var, sizeof var);
        snprintf (buf, size, "env %s: %s", var, key);
    }
    else
    if (line > 0)
        snprintf (buf, size, "%s:%d: %s", self->source, line, key);
    else
        snprintf (buf, size, "%s: %s (default)", self->source, key);
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
    self->values [index].line = S_LINE_ENV;
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


int
ts_config_secret_check (const ts_config_t *self, const char *section,
                        bool required, char *err)
{
    char env_key [S_KEY_MAX], file_key [S_KEY_MAX], where [TS_ERRLEN];
    snprintf (env_key, sizeof env_key, "%s.api_key_env", section);
    snprintf (file_key, sizeof file_key, "%s.api_key_file", section);
    const char *env = ts_config_str (self, env_key);
    const char *file = ts_config_str (self, file_key);
    if (!required && !*env && !*file)
        return 0;
    char *secret = NULL;
    char detail [TS_ERRLEN] = "";
    int rc = ts_config_secret (env, file, &secret, detail);
    if (secret) {
        explicit_bzero (secret, strlen (secret));
        free (secret);
    }
    if (rc == TS_ENOTFOUND) {
        //  Blame the file when one is named (it is empty), else the
        //  variable.
        ts_config_where (self, *file? file_key: env_key, where,
                         sizeof where);
        if (*file)
            ts_errf (err, "%s: %s holds no API key", where, file);
        else
        if (*env)
            ts_errf (err, "%s: no API key: the variable %s is unset or "
                     "empty, and %s is not set", where, env, file_key);
        else
            ts_errf (err, "%s: no API key: set %s or %s", where, env_key,
                     file_key);
        return TS_ECONFIG;
    }
    if (rc) {
        ts_config_where (self, file_key, where, sizeof where);
        ts_errf (err, "%s: %s", where, detail);
        return TS_ECONFIG;
    }
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
                if (strstr (value->str, "://")) {
                    //  A URL may hold a credential written before
                    //  {api_key} existed: show its display form.
                    char shown [4096];
                    s_print_scalar (ts_redact_url (value->str, NULL, shown,
                                                   sizeof shown), "");
                }
                else
                    s_print_scalar (value->str, "");
                break;
        }
        putchar ('\n');
    }
    fflush (stdout);
}
