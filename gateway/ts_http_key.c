/*  ts_http_key - the API keys of the gateway's HTTP front end: read, or
    generated for the run when none is set and gateway.api_key_generate
    is on. See ts_http_key.h. */

#include "ts_http_key.h"
#include "ts_curve.h"
#include "ts_log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

//  No key is set and gateway.api_key_generate is on: makes one of
//  S_KEY_BYTES random bytes from getrandom(2), written in hex, and logs it
//  in one WARN line, the only place it is ever shown (the one secret the
//  gateway logs, on purpose: whoever reads the log of a fresh deployment
//  is its operator). A new key on every start. Returns 0 with the key in
//  *secret, or TS_EINVAL with the reason in err.
#define S_KEY_BYTES 32
#define S_LINE_MAX  4096        //  longest line of gateway.api_keys_file
#define S_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
                     "0123456789._-"     //  what a key's name is made of

//  Wipes and frees a secret; sets *secret_p to NULL.
static void
s_wipe (char **secret_p)
{
    if (*secret_p) {
        explicit_bzero (*secret_p, strlen (*secret_p));
        free (*secret_p);
        *secret_p = NULL;
    }
}

static int
s_generate (char **secret, const char *env_name, char *err)
{
    unsigned char raw [S_KEY_BYTES];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom (raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ts_errf (err, "gateway.api_key_generate: getrandom: %s",
                     strerror (errno));
            return TS_EINVAL;
        }
        got += (size_t) n;
    }
    char *key = malloc (2 * sizeof raw + 1);
    if (!key) {
        ts_errf (err, "gateway.api_key_generate: out of memory");
        return TS_EINVAL;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (key + 2 * i, 3, "%02x", raw [i]);
    explicit_bzero (raw, sizeof raw);
    ts_warn ("http: no API key set, generated one for this run (shown "
             "only here, a new one on each start; set your own in %s or "
             "gateway.api_key_file): %s",
             env_name [0]? env_name: "TSCACHE_API_KEY", key);
    *secret = key;
    return 0;
}

//  Checks the lines of an api_keys_file (text, from path) and writes
//  the keys' lines, comments and blank lines left out, to *out (heap).
//  Returns 0, or TS_EINVAL with "PATH:LINE: reason" in err (never a
//  key).
static int
s_named_keys (const char *path, const char *text, char **out, char *err)
{
    size_t size = strlen (text) + 2;     //  a last line gets its \n
    char *keys = calloc (1, size);
    if (!keys) {
        ts_errf (err, "out of memory");
        return TS_EINVAL;
    }
    size_t used = 0;
    int lineno = 0;
    for (const char *p = text; *p; ) {
        size_t len = strcspn (p, "\n");
        lineno++;
        const char *start = p;
        while (start < p + len && (*start == ' ' || *start == '\t'))
            start++;
        //  Fields of this line only (sscanf would read on past it).
        char line [S_LINE_MAX + 1];
        snprintf (line, sizeof line, "%.*s", (int) (p + len - start), start);
        char name [66], role [9], key [2];
        int fields = *start == '#' || start == p + len? 0
                   : sscanf (line, "%65s %8s %1s", name, role, key);
        explicit_bzero (line, sizeof line);
        explicit_bzero (key, sizeof key);
        ts_role_t parsed;
        bool long_line = p + len - start > S_LINE_MAX;
        if (fields && (fields != 3 || strlen (name) > 64 || long_line
                       || strspn (name, S_NAME_CHARS) != strlen (name)
                       || ts_role_parse (role, &parsed))) {
            ts_errf (err, "%s:%d: expected NAME ROLE KEY (NAME up to 64 "
                     "of A-Z a-z 0-9 . _ -, ROLE read or admin%s)", path,
                     lineno, long_line? ", a line up to 4096 bytes": "");
            explicit_bzero (keys, size);
            free (keys);
            return TS_EINVAL;
        }
        if (fields) {
            memcpy (keys + used, start, (size_t) (p + len - start));
            used += (size_t) (p + len - start);
            keys [used++] = '\n';
        }
        p += len + (p [len]? 1: 0);
    }
    *out = keys;
    return 0;
}

int
ts_http_key_read (const ts_config_t *cfg, char **keys, char *err)
{
    return ts_http_key_read_as (cfg, true, keys, err);
}

int
ts_http_key_read_as (const ts_config_t *cfg, bool generate, char **keys,
                     char *err)
{
    assert (keys);
    *keys = NULL;
    const char *env_name = ts_config_str (cfg, "gateway.api_key_env");
    const char *file = ts_config_str (cfg, "gateway.api_key_file");
    const char *named_file = ts_config_str (cfg, "gateway.api_keys_file");
    char detail [TS_ERRLEN] = "";
    char *legacy = NULL, *text = NULL, *named = NULL;
    int rc = ts_config_secret (env_name, file, &legacy, detail);
    if (rc && rc != TS_ENOTFOUND) {
        ts_errf (err, "gateway.api_key_file: %s", detail);
        return TS_EINVAL;
    }
    struct stat st;
    if (*named_file && stat (named_file, &st) == 0 && (st.st_mode & 077))
        ts_warn ("gateway.api_keys_file: %s is readable by others (mode "
                 "%03o): chmod 600 it", named_file,
                 (unsigned) (st.st_mode & 0777));
    if (*named_file) {
        int named_rc = ts_config_secret (NULL, named_file, &text, detail);
        if (named_rc == 0)
            named_rc = s_named_keys (named_file, text, &named, detail);
        if (text) {
            explicit_bzero (text, strlen (text));
            free (text);
        }
        if (named_rc && named_rc != TS_ENOTFOUND) {
            ts_errf (err, "gateway.api_keys_file: %s", detail);
            s_wipe (&legacy);
            return TS_EINVAL;
        }
    }
    if (!legacy && !named && generate
    &&  ts_config_bool (cfg, "gateway.api_key_generate"))
        return s_generate (keys, env_name, err);
    if (!legacy && !named) {
        ts_errf (err, "no API key: set %s, gateway.api_key_file or "
                 "gateway.api_keys_file",
                 env_name [0]? env_name: "TSCACHE_API_KEY");
        return TS_ENOTFOUND;
    }
    size_t size = (legacy? strlen (legacy): 0) + 2
                + (named? strlen (named): 0);
    *keys = malloc (size);
    if (*keys)
        snprintf (*keys, size, "%s\n%s", legacy? legacy: "",
                  named? named: "");
    s_wipe (&legacy);
    s_wipe (&named);
    if (!*keys) {
        ts_errf (err, "out of memory");
        return TS_EINVAL;
    }
    return 0;
}
