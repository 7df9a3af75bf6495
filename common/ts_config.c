/*  ts_config - the one YAML configuration file of every tscache process.

    Every process calls ts_config_load once at start and exits with the
    error line if it fails, so a bad file never half-starts a pipeline.

    ts_config_keys.c holds the only list of keys: name, type, default,
    bounds and allowed values. Each config holds one value slot per table
    row.

    Loading (this file): every default, then the YAML file
    (ts_config_yaml.c), then TSCACHE_* environment variables for the keys
    in the table, then the rules between keys. Only table keys are looked
    up, so unrelated TSCACHE_* variables (TSCACHE_API_KEY) are never
    touched; a TSCACHE_* variable close to a key's name is reported as a
    warning (ts_config_warnings).

    Secrets never pass through the table: ts_config_secret
    (ts_config_secret.c) reads them from the environment variable or file
    the config names, and never copies them into an error message.

    This module does not watch the file or reload: a process restarts to
    pick up changes. */

#include "ts_config_keys.h"
#include "ts_ratelimit.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_FILE_MAX      (16 * 1024 * 1024)  //  largest config file read

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
    "TSCACHE_TEST_SEED", "TSCACHE_ZMQLOAD", "TSCACHE_ZMQECHO",
    "TSCACHE_TEST_SCHEDULE_SPEEDUP", NULL };

//  True if the variable called name (length len) is one tscache reads.
static bool
s_env_known (const ts_config_t *self, const char *name, size_t len)
{
    for (const char *const *other = s_env_other; *other; other++)
        if (strlen (*other) == len && memcmp (*other, name, len) == 0)
            return true;
    //  Keys ending in _env name a variable (gateway.api_key_env).
    for (size_t i = 0; i < ts_config_nkeys; i++) {
        const char *key = ts_config_keys [i].name;
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
    if (a_len > b_len + limit || b_len > a_len + limit
    ||  b_len >= TS_CONFIG_KEY_MAX)
        return limit + 1;
    size_t row [TS_CONFIG_KEY_MAX + 1];
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
        char var [TS_CONFIG_KEY_MAX];
        for (size_t i = 0; i < ts_config_nkeys && !is_key; i++) {
            s_env_name (ts_config_keys [i].name, var, sizeof var);
            size_t distance = s_distance (name, len, var, strlen (var),
                                          closest_distance - 1);
            is_key = distance == 0;
            if (distance < closest_distance) {
                closest_distance = distance;
                closest = ts_config_keys [i].name;
            }
        }
        if (is_key || s_env_known (self, name, len))
            continue;
        //  A very long variable name may cut the warning short: it still
        //  names the variable first.
        char warning [TS_ERRLEN];
        int n;
        if (closest) {
            s_env_name (closest, var, sizeof var);
            n = snprintf (warning, sizeof warning, "env %.*s: not a config "
                          "key, ignored (did you mean %s?)", (int) len, name,
                          var);
        }
        else
            n = snprintf (warning, sizeof warning, "env %.*s: not a config "
                          "key, ignored (a key's variable is TSCACHE_ + the "
                          "key in upper case, dots as underscores)",
                          (int) len, name);
        if (n < 0)
            continue;
        if (ts_strlist_append (self->warnings, warning))
            return TS_ENOMEM;
    }
    return 0;
}

static int
s_apply_env (ts_config_t *self, char *err)
{
    for (size_t i = 0; i < ts_config_nkeys; i++) {
        char var [TS_CONFIG_KEY_MAX];
        s_env_name (ts_config_keys [i].name, var, sizeof var);
        const char *text = getenv (var);
        if (!text)
            continue;
        char reason [TS_ERRLEN];
        if (ts_config_set_text (self, (int) i, text, reason, sizeof reason)) {
            ts_errf (err, "env %s: %s", var, reason);
            return TS_ECONFIG;
        }
        self->values [i].line = TS_CONFIG_LINE_ENV;
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

//  Timestream and InfluxDB serve the history role only: a registry or
//  forecast put on one (store.<role>.backend) is refused where it is
//  set; without endpoint discovery Timestream needs an endpoint, and an
//  InfluxDB bucket (v2) needs its org.
static int
s_check_roles (const ts_config_t *self, char *err)
{
    const char *keys [] = { "store.registry.backend",
                            "store.forecast.backend" };
    const char *history_only [] = { "timestream", "influxdb" };
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 2; b++)
            if (strcmp (ts_config_str (self, keys [i]),
                        history_only [b]) == 0) {
                char reason [96];
                snprintf (reason, sizeof reason, "%s serves the history "
                          "role only (store.history.backend)",
                          history_only [b]);
                s_blame (self, keys [i], reason, err);
                return TS_ECONFIG;
            }
    if (strcmp (ts_config_str (self, "store.history.backend"),
                "influxdb") == 0
    &&  *ts_config_str (self, "store.influxdb.bucket")
    &&  !*ts_config_str (self, "store.influxdb.org")) {
        s_blame (self, "store.influxdb.bucket", "a bucket (the v2 API) needs "
                 "store.influxdb.org", err);
        return TS_ECONFIG;
    }
    if (strcmp (ts_config_str (self, "store.history.backend"),
                "timestream") == 0
    &&  strcmp (ts_config_str (self, "store.timestream.discovery"),
                "off") == 0
    &&  !*ts_config_str (self, "store.timestream.endpoint")) {
        s_blame (self, "store.timestream.discovery", "off needs "
                 "store.timestream.endpoint", err);
        return TS_ECONFIG;
    }
    return 0;
}

//  A burst needs a rate: an unlimited source has no bucket to size.
static int
s_check_rate_limit (const ts_config_t *self, char *err)
{
    double per_s = 0;
    if (ts_config_int (self, "upstream.rate_limit.burst") == 0
    ||  ts_ratelimit_parse (ts_config_str (self, "upstream.rate_limit.rate"),
                            &per_s, NULL) != 0
    ||  per_s > 0)
        return 0;
    s_blame (self, "upstream.rate_limit.burst", "a burst needs "
             "upstream.rate_limit.rate (the source has no limit)", err);
    return TS_ECONFIG;
}

//  Rules between the request keys of a source (a view): a body goes
//  with POST; OAuth2 needs a client id and a client secret, each from an
//  env variable or a file, and sends Authorization itself.
static int
s_check_request (const ts_config_t *self, char *err)
{
    if (*ts_config_str (self, "upstream.body")
    &&  strcmp (ts_config_str (self, "upstream.method"), "POST") != 0) {
        s_blame (self, "upstream.body", "a body needs upstream.method: POST",
                 err);
        return TS_ECONFIG;
    }
    bool paged = strcmp (ts_config_str (self, "upstream.pagination.mode"),
                         "none") != 0;
    if (paged && (strcmp (ts_config_str (self, "upstream.method"), "POST") == 0
              ||  *ts_config_str (self, "upstream.oauth2.token_url"))) {
        //  The pages after the first are plain GETs of the next link
        //  (workers/ts_worker_pages.c): neither a body nor a bearer token
        //  would go with them.
        s_blame (self, "upstream.pagination.mode", "pagination works with "
                 "GET requests without upstream.oauth2 only (not yet with "
                 "POST or a bearer token)", err);
        return TS_ECONFIG;
    }
    if (!*ts_config_str (self, "upstream.oauth2.token_url"))
        return 0;
    const ts_strlist_t *headers = ts_config_list (self, "upstream.headers");
    for (size_t i = 0; i < headers->n; i++)
        if (strncasecmp (headers->items [i], "Authorization:", 14) == 0) {
            s_blame (self, "upstream.headers", "Authorization is sent by "
                     "upstream.oauth2 (the bearer token): remove it or "
                     "upstream.oauth2.token_url", err);
            return TS_ECONFIG;
        }
    const char *what [] = { "client_id", "client_secret" };
    for (int i = 0; i < 2; i++) {
        char env [64], file [64];
        snprintf (env, sizeof env, "upstream.oauth2.%s_env", what [i]);
        snprintf (file, sizeof file, "upstream.oauth2.%s_file", what [i]);
        if (!*ts_config_str (self, env) && !*ts_config_str (self, file)) {
            char reason [160];
            snprintf (reason, sizeof reason, "needs the %s: set %s or %s",
                      what [i], env, file);
            s_blame (self, "upstream.oauth2.token_url", reason, err);
            return TS_ECONFIG;
        }
    }
    return 0;
}

//  {api_key} in upstream.url, upstream.headers or upstream.body of a
//  source (a view) needs a place to read the key from.
static int
s_check_api_key (const ts_config_t *self, char *err)
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
    if (!key && strstr (ts_config_str (self, "upstream.body"), "{api_key}"))
        key = "upstream.body";
    if (!key)
        return 0;
    s_blame (self, key, "{api_key} needs the upstream API key: set "
             "upstream.api_key_env or upstream.api_key_file", err);
    return TS_ECONFIG;
}

//  Rules between keys, checked once every key is set: the roles a
//  backend serves (s_check_roles); each source's {api_key}, rate limit
//  and request keys (s_check_request). With sources:, upstream: holds
//  what the sources share, so only the
//  sources themselves are checked.
static int
s_check_keys (ts_config_t *self, char *err)
{
    if (s_check_roles (self, err) || ts_config_sources_finish (self, err))
        return TS_ECONFIG;
    for (size_t i = 0; i < self->nsources; i++)
        if (s_check_api_key (self->sources [i], err)
        ||  s_check_rate_limit (self->sources [i], err)
        ||  s_check_request (self->sources [i], err))
            return TS_ECONFIG;
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
    self->values = calloc (ts_config_nkeys, sizeof *self->values);
    self->warnings = ts_strlist_new ();
    if (!self->source || !self->values || !self->warnings) {
        ts_config_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < ts_config_nkeys; i++) {
        char reason [TS_ERRLEN];
        if (ts_config_set_text (self, (int) i, ts_config_keys [i].def, reason,
                        sizeof reason)) {
            //  A default the checks reject is a bug in ts_config_keys.
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
    if (text && ts_config_yaml_load (self, text, len, source, err)) {
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
int
ts_config_read_file (const char *path, size_t max, char **data, size_t *size)
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
    int rc = ts_config_read_file (path, S_FILE_MAX, &text, &len);
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
            for (size_t i = 0; i < ts_config_nkeys; i++)
                ts_config_value_reset (&self->values [i]);
        free (self->values);
        for (size_t i = 0; i < self->nsources; i++)
            ts_config_destroy (&self->sources [i]);
        free (self->sources);
        free (self->set);
        free (self->name);
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
    return self->parent? self->parent->warnings: self->warnings;
}

void
ts_config_where (const ts_config_t *self, const char *key, char *buf,
                 size_t size)
{
    assert (self);
    int index = ts_config_key_find (key);
    assert (index >= 0);        //  unknown key
    if (self->parent && !self->set [index]) {
        ts_config_where (self->parent, key, buf, size);
        return;
    }
    int line = self->values [index].line;
    char shown [TS_CONFIG_KEY_MAX + TS_NAME_MAX + 16];
    ts_config_key_shown (self, key, shown, sizeof shown);
    if (line == TS_CONFIG_LINE_ENV) {
        char var [TS_CONFIG_KEY_MAX];
        s_env_name (key, var, sizeof var);
        snprintf (buf, size, "env %s: %s", var, shown);
        return;
    }
    key = shown;
    if (line > 0)
        snprintf (buf, size, "%s:%d: %s", self->source, line, key);
    else
        snprintf (buf, size, "%s: %s (default)", self->source, key);
}


//  ---------------------------------------------------------------------
//  Getters

static const ts_config_value_t *
s_get (const ts_config_t *self, const char *key, ts_config_type_t type)
{
    assert (self);
    assert (key);
    int index = ts_config_key_find (key);
    assert (index >= 0);        //  unknown key
    assert (ts_config_keys [index].type == type
         || (ts_config_type_is_string (type)
         &&  ts_config_type_is_string (ts_config_keys [index].type)));
    return ts_config_slot (self, index);
}

const char *
ts_config_str (const ts_config_t *self, const char *key)
{
    return s_get (self, key, TS_CONFIG_STR)->str;
}

int64_t
ts_config_int (const ts_config_t *self, const char *key)
{
    return s_get (self, key, TS_CONFIG_INT)->num;
}

bool
ts_config_bool (const ts_config_t *self, const char *key)
{
    return s_get (self, key, TS_CONFIG_BOOL)->flag;
}

const ts_strlist_t *
ts_config_list (const ts_config_t *self, const char *key)
{
    return s_get (self, key, TS_CONFIG_LIST)->list;
}

void
ts_config_map (const ts_config_t *self, const char *key,
               const ts_strlist_t **names, const ts_strlist_t **values)
{
    const ts_config_value_t *value = s_get (self, key, TS_CONFIG_MAP);
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
    int index = ts_config_key_find (key);
    if (index < 0) {
        ts_errf (err, "%s: unknown key", key);
        return TS_ECONFIG;
    }
    char reason [TS_ERRLEN];
    if (ts_config_set_text (self, index, value? value: "", reason,
                            sizeof reason)) {
        ts_errf (err, "%s: %s", key, reason);
        return TS_ECONFIG;
    }
    self->values [index].line = TS_CONFIG_LINE_ENV;
    return 0;
}

