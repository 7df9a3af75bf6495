/*  ts_config_secret - secrets named by the config, and printing it.

    The two places where a secret could leak from ts_config: reading an
    API key from the environment variable or file the config names
    (ts_config_secret, never copying it into an error message) and
    checking it can be read at start (ts_config_secret_check); and
    ts_config_print, which writes every key but nothing secret: secrets
    are not keys, credential headers take their value from {api_key}, and
    a URL is shown in its display form. Part of the ts_config module: see
    ts_config_keys.h. */

#include "ts_config_keys.h"
#include "ts_redact.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_SECRET_MAX    (64 * 1024)     //  largest secret file read

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
    int rc = ts_config_read_file (file_path, S_SECRET_MAX, &data, &len);
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
    ts_config_trim (&start, &trimmed);
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
    char env_key [TS_CONFIG_KEY_MAX], file_key [TS_CONFIG_KEY_MAX];
    char where [TS_ERRLEN];
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
    for (size_t i = 0; i < ts_config_nkeys; i++) {
        const ts_config_key_t *key = &ts_config_keys [i];
        const ts_config_value_t *value = &self->values [i];
        printf ("%s: ", key->name);
        switch (key->type) {
            case TS_CONFIG_INT:
                printf ("%" PRId64, value->num);
                break;
            case TS_CONFIG_BOOL:
                fputs (value->flag? "true": "false", stdout);
                break;
            case TS_CONFIG_LIST:
                putchar ('[');
                for (size_t j = 0; j < value->list->n; j++) {
                    fputs (j? ", ": "", stdout);
                    s_print_scalar (value->list->items [j], ",[]{}");
                }
                putchar (']');
                break;
            case TS_CONFIG_MAP:
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
