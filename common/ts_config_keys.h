/*  ts_config_keys - what the parts of ts_config share; not for callers.

    ts_config is one module (ts_config.h is its whole contract) written as
    these files, one job each:

      ts_config_keys.c    the key table (name, type, default, bounds,
                          allowed values, key-specific checks)
      ts_config_value.c   the rules that turn text into a checked value
                          of a key's type
      ts_config_yaml.c    reading the YAML file into the value slots
      ts_config.c         loading: defaults, file, environment overrides,
                          rules between keys; the getters and ts_config_set
      ts_config_secret.c  secrets (read from env or file, checked) and
                          ts_config_print, the two places a secret could
                          leak
      ts_config_source.c  sources: the views of one config, one per
                          entry of sources: (or "default" for upstream:)

    This header holds the types and functions those files share. Only
    ts_config*.c include it. */

#ifndef TS_CONFIG_KEYS_H_INCLUDED
#define TS_CONFIG_KEYS_H_INCLUDED

#include "ts_config.h"

#define TS_CONFIG_KEY_MAX   256     //  longest dotted key we build

typedef enum {
    TS_CONFIG_STR,          //  any string; YAML null means ""
    TS_CONFIG_INT,          //  integer within [min, max]
    TS_CONFIG_BOOL,         //  true/false (also yes/no, on/off)
    TS_CONFIG_ENUM,         //  one of allowed
    TS_CONFIG_LIST,         //  list of strings
    TS_CONFIG_MAP,          //  ordered mapping name -> string
    TS_CONFIG_CRON,         //  cron expression, "" or "off" to disable
    TS_CONFIG_ENDPOINT      //  ZeroMQ endpoint
} ts_config_type_t;

//  Extra check for one key: returns 0, or -1 with reason filled and, for
//  a list or map, *bad set to the index of the offending entry.
typedef struct _ts_config_value_t ts_config_value_t;
typedef int (ts_config_check_fn) (const ts_config_value_t *value,
                                  char *reason, size_t size, size_t *bad);

typedef struct {
    const char *name;           //  dotted key
    ts_config_type_t type;      //  value type
    const char *def;            //  default, in override syntax
    int64_t min;                //  TS_CONFIG_INT lower bound
    int64_t max;                //  TS_CONFIG_INT upper bound
    const char *const *allowed; //  TS_CONFIG_ENUM values, NULL-terminated
    ts_config_check_fn *check;  //  key-specific check, or NULL
} ts_config_key_t;

struct _ts_config_value_t {
    char *str;                  //  string types (STR, ENUM, CRON,
                                //  ENDPOINT)
    int64_t num;                //  TS_CONFIG_INT
    bool flag;                  //  TS_CONFIG_BOOL
    ts_strlist_t *list;         //  TS_CONFIG_LIST items, TS_CONFIG_MAP names
    ts_strlist_t *values;       //  TS_CONFIG_MAP values, parallel to list
    int line;                   //  file line it was set at; 0 default,
                                //  TS_CONFIG_LINE_ENV set by the environment
};

struct _ts_config_t {
    char *source;               //  file or name loaded from
    ts_config_value_t *values;  //  one per ts_config_keys row
    ts_strlist_t *warnings;     //  what was ignored, for the log
    //  Sources (ts_config_source.c). A loaded config holds nsources >= 1
    //  views; a view has parent set, its source's name, and set [i] true
    //  for each slot its sources: entry wrote (only upstream.* keys):
    //  every other slot reads the parent's (ts_config_slot).
    ts_config_t **sources;      //  the views, in the file's order
    size_t nsources;
    ts_config_t *parent;        //  view: the config it is a view of
    char *name;                 //  view: the source's name
    bool *set;                  //  view: one per ts_config_keys row
};

#define TS_CONFIG_LINE_ENV  (-1)

//  The key table: one row per key, ts_config_nkeys rows. A config holds
//  one value slot per row, in the same order.
extern const ts_config_key_t ts_config_keys [];
extern const size_t ts_config_nkeys;

//  The slot that holds the value of key index for self: its own, or for
//  a view a slot its entry did not set, the parent's.
const ts_config_value_t *ts_config_slot (const ts_config_t *self,
                                         int index);

//  A new view of parent for the source called name (added to parent's
//  sources). Returns it (owned by parent), or NULL: out of memory.
ts_config_t *ts_config_view_new (ts_config_t *parent, const char *name);

//  Once the file and environment are read: adds the "default" view if
//  the file had no sources:. Returns 0, or TS_ECONFIG (out of memory,
//  in err).
int ts_config_sources_finish (ts_config_t *self, char *err);

//  Writes how errors name key (a dotted upstream.* key) of view self:
//  "sources[NAME].format.layout"; for a config that is not a view, key.
void ts_config_key_shown (const ts_config_t *self, const char *key,
                          char *buf, size_t size);

//  Index of key in ts_config_keys, or -1 if it is not a key.
int ts_config_key_find (const char *key);

//  True if some key lives below prefix ("upstream" or "upstream.format").
bool ts_config_key_is_section (const char *prefix);

//  True for the types whose value is str.
bool ts_config_type_is_string (ts_config_type_t type);

//  Writes what a value of key must look like into reason.
void ts_config_type_reason (const ts_config_key_t *key, char *reason,
                            size_t size);

//  True for a ZeroMQ endpoint: tcp://, ipc:// or inproc:// and an address.
bool ts_config_endpoint_ok (const char *text);

//  Parse a whole decimal integer (white space around allowed) and a
//  boolean (true/false, yes/no, on/off, 1/0). Return false if text is
//  neither.
bool ts_config_parse_int (const char *text, int64_t *out);
bool ts_config_parse_bool (const char *text, bool *out);

//  Prepares an empty value of the key's type (lists allocated); frees
//  what a value holds and zeroes it. Return 0, or -1 with reason filled.
int ts_config_value_init (const ts_config_key_t *key,
                          ts_config_value_t *value, char *reason,
                          size_t size);
void ts_config_value_reset (ts_config_value_t *value);

//  Adds name -> field to a map value; rejects a repeated name. Returns 0,
//  or -1 with reason filled.
int ts_config_map_add (ts_config_value_t *value, const char *name,
                       size_t name_len, const char *field, size_t field_len,
                       char *reason, size_t size);

//  Checks a converted value against the key's rules. Returns 0, or -1
//  with reason filled; for a list or map *bad may be set to the index of
//  the entry at fault.
int ts_config_value_check (const ts_config_key_t *key,
                           const ts_config_value_t *value, char *reason,
                           size_t size, size_t *bad);

//  Converts override text (environment, ts_config_set, defaults) into a
//  value of key index, checks it, then stores it in that slot of self.
//  Returns 0, or -1 with reason filled (the slot unchanged).
int ts_config_set_text (ts_config_t *self, int index, const char *text,
                        char *reason, size_t size);

//  Trims white space from both ends of [*s, *s + *len).
void ts_config_trim (const char **s, size_t *len);

//  Reads a whole file, at most max bytes, into a NUL-terminated buffer
//  the caller frees. Returns 0, an errno value, or TS_ETOOBIG.
int ts_config_read_file (const char *path, size_t max, char **data,
                         size_t *size);

//  Parses YAML text (len bytes) into the slots of cfg; source names it in
//  errors. Returns 0, or TS_ECONFIG with "FILE:LINE: KEY: reason" in err.
int ts_config_yaml_load (ts_config_t *cfg, const char *text, size_t len,
                         const char *source, char *err);

#endif
