/*  ts_config - the one YAML configuration file of every tscache process.

    One table of keys (name, type, default, bounds, allowed values) as in
    Redis' config.c; every key is documented in config/tscache.example.yaml.
    Keys are dotted paths into the YAML mapping ("gateway.http_port").
    Unknown keys, wrong types and out-of-range values are errors naming
    file, line and key:  "tscache.yaml:12: gateway.http_port: must be an
    integer from 1 to 65535".

    Environment overrides: after the file is read, every key can be set by
    an environment variable named TSCACHE_ + the key in upper case with
    '.' replaced by '_' (gateway.http_port -> TSCACHE_GATEWAY_HTTP_PORT).
    List keys take a comma-separated value; map keys "name=field,..."
    pairs. Errors then name the variable: "env TSCACHE_GATEWAY_HTTP_PORT:
    must be an integer ...".

    Secrets (API keys) are never config text: the config names an
    environment variable or a file that holds them (ts_config_secret).
    Where the upstream key goes is written with the placeholder {api_key}
    (in upstream.url or upstream.headers); {api_key} without
    upstream.api_key_env or upstream.api_key_file is an error naming
    where it was written, and a header whose name says it carries a
    credential (Authorization, x-api-key, ...: ts_redact_is_credential)
    must take its value from {api_key}. */

#ifndef TS_CONFIG_H_INCLUDED
#define TS_CONFIG_H_INCLUDED

#include "ts_common.h"

typedef struct _ts_config_t ts_config_t;

//  Loads path (YAML), applies defaults for missing keys, then environment
//  overrides, then validates. path NULL means defaults and environment
//  only. Returns a config, or NULL with the reason in err (TS_ERRLEN):
//  "FILE:LINE: KEY: reason", "FILE: reason" for unreadable files or
//  YAML syntax errors (with line), "env VAR: reason" for overrides.
ts_config_t *ts_config_load (const char *path, char *err);

//  Same as ts_config_load but reads YAML from text; name is used in error
//  messages in place of a file name. For tests and tools.
ts_config_t *ts_config_load_text (const char *text, const char *name,
                                  char *err);

//  Frees the config; sets *self_p to NULL. Safe on NULL.
void ts_config_destroy (ts_config_t **self_p);

//  Returns the path the config was loaded from ("(defaults)" if none).
//  (Not an upstream source: see ts_config_source_at below.)
const char *ts_config_source (const ts_config_t *self);

//  What loading noticed and ignored, one line each, for the caller to
//  log: TSCACHE_* environment variables that are not a key's override
//  ("env TSCACHE_GATEWAY_HTTPPORT: not a config key, ignored (did you
//  mean TSCACHE_GATEWAY_HTTP_PORT?)"). Borrowed; empty if nothing.
const ts_strlist_t *ts_config_warnings (const ts_config_t *self);

//  Writes where key got its value, to start an error message about it:
//  "FILE:LINE: KEY", "env TSCACHE_VAR: KEY" or "FILE: KEY (default)".
void ts_config_where (const ts_config_t *self, const char *key, char *buf,
                      size_t size);

//  Typed getters. key must be a known key of the matching type: asking
//  for an unknown key or the wrong type is a programming error (assert).
//  Returned pointers are borrowed and live as long as the config.
const char         *ts_config_str  (const ts_config_t *self, const char *key);
int64_t             ts_config_int  (const ts_config_t *self, const char *key);
bool                ts_config_bool (const ts_config_t *self, const char *key);
const ts_strlist_t *ts_config_list (const ts_config_t *self, const char *key);

//  Map keys (e.g. upstream.format.measures) as two parallel lists:
//  names [i] maps to values [i]. Order is the file's order.
void ts_config_map (const ts_config_t *self, const char *key,
                    const ts_strlist_t **names, const ts_strlist_t **values);

//  Sets key from text, exactly as an environment override would, and
//  re-validates that key. Returns 0, or TS_ECONFIG with reason in err.
int ts_config_set (ts_config_t *self, const char *key, const char *value,
                   char *err);

//  Reads a secret: from the environment variable env_name if it is set and
//  not empty, else from file_path (whole file, surrounding white space
//  trimmed). env_name and file_path may be NULL or "". On success returns
//  0 and sets *secret to a heap string the caller frees (and should wipe).
//  Returns TS_ENOTFOUND if neither source holds a secret, TS_EINVAL if the
//  file cannot be read (reason in err; the secret itself is never put in
//  err).
int ts_config_secret (const char *env_name, const char *file_path,
                      char **secret, char *err);

//  Checks that the key configured by SECTION.api_key_env and
//  SECTION.api_key_file (section "gateway" or "upstream") can be read, as
//  the process that uses it will read it at start; the key is wiped at
//  once. If neither is set, that is fine unless required. Returns 0, or
//  TS_ECONFIG with "WHERE: reason" in err (ts_config_where; never the
//  key itself).
int ts_config_secret_check (const ts_config_t *self, const char *section,
                            bool required, char *err);

//  Writes every key with its current value as YAML-ish "key: value" lines
//  to stdout, then each source's upstream.* keys as
//  "sources[NAME].KEY: value". Secrets are not config keys, and credential headers must
//  take their value from {api_key}, so nothing secret is printed; a URL
//  is printed in its display form (ts_redact_url), so a key written into
//  it as literal text shows as ***.
void ts_config_print (const ts_config_t *self);

//  The keys, in table order: how many there are, and the name of the
//  i-th (static text). For walking every key (a reload's comparison).
size_t      ts_config_key_count (void);
const char *ts_config_key_name (size_t i);

//  Writes key's value as ts_config_print shows it (YAML; a URL in its
//  display form) into buf (size bytes, > 4; "..." at the end if cut).
//  For "reload: KEY: old -> new" lines.
void ts_config_show (const ts_config_t *self, const char *key, char *buf,
                     size_t size);

//  True if key has the same value in a and b (compared as stored, not as
//  shown).
bool ts_config_same (const ts_config_t *a, const ts_config_t *b,
                     const char *key);

//  Copies key's value (and where it was set) from from into self, for a
//  reload: what self returned for key before is freed, so the caller
//  must hold no pointer into it. Returns 0 or TS_ENOMEM (self unchanged).
int ts_config_adopt (ts_config_t *self, const ts_config_t *from,
                     const char *key);

//  --- sources -----------------------------------------------------------
//
//  A source is one upstream: the upstream.* keys. The file lists them
//  under sources: (a sequence of mappings, each a name and any upstream.*
//  key without the "upstream." prefix, nested the same way:
//  "format: {layout: columns}"), or writes upstream: alone, which is one
//  source named "default". With sources:, upstream: holds what every
//  source shares: a source reads a key from its own entry, else from
//  upstream: (and TSCACHE_UPSTREAM_* overrides), else the default.
//  Errors in an entry name the key as "FILE:LINE: sources[NAME].KEY".
//
//  Each source is handed to code as a view, a const ts_config_t * whose
//  upstream.* keys hold the source's values and every other key the
//  config's: ts_config_str (view, "upstream.url") is that source's URL.
//  Views belong to the config and live as long as it does. The whole
//  config's own upstream.* keys are the shared values, not any source's:
//  code that fetches reads them from a view.

//  How many sources the config has (>= 1). self may be a view.
size_t ts_config_source_count (const ts_config_t *self);

//  The view of source index (< ts_config_source_count), in the file's
//  order; index 0 is "the first source", the one an id registered
//  without a source belongs to. self may be a view.
const ts_config_t *ts_config_source_at (const ts_config_t *self,
                                        size_t index);

//  The name of the source self is a view of ("default" for upstream:);
//  NULL for the whole config.
const char *ts_config_source_name (const ts_config_t *self);

//  Index of the source called name, or -1 if there is none; NULL or ""
//  is the first source (0).
int ts_config_source_find (const ts_config_t *self, const char *name);

//  Writes the sources' names, "weather, prices", into buf (size bytes),
//  for an error that lists the known ones.
void ts_config_source_names (const ts_config_t *self, char *buf,
                             size_t size);

//  The schedule expression of source (a view): its upstream.schedule,
//  or broker.schedule when that is ""; "off" or "" means none. *key (if
//  not NULL) gets the key it came from, for errors. Borrowed.
const char *ts_config_source_schedule (const ts_config_t *source,
                                       const char **key);

//  How much later than its expression source's schedule fires, in ms:
//  upstream.schedule_offset_s (-1: broker.schedule_offset_s) plus the
//  source's spread over upstream.schedule_jitter_s (-1: the broker's;
//  ts_cron_spread_ms of its name). The broker fires by it, and the
//  gateway's stale rule (ts_fresh) follows it.
int64_t ts_config_source_shift_ms (const ts_config_t *source);

//  True if a and b have the same sources: names in the same order, and
//  each entry setting the same keys to the same values. (What upstream:
//  shares is compared key by key, as ts_config_same.) A reload that
//  changes sources needs a restart.
bool ts_config_sources_same (const ts_config_t *a, const ts_config_t *b);

#endif
