/*  ts_config_secret - secrets named by the config, and printing it.

    The two places where a secret could leak from ts_config: reading an
    API key from the environment variable or file the config names
    (ts_config_secret, never copying it into an error message) and
    checking it can be read at start (ts_config_secret_check); and
    ts_config_print and ts_config_show (the "old -> new" of a reload),
    which write keys but nothing secret: secrets are not keys, credential
    headers take their value from {api_key}, and a URL is shown in its
    display form. ts_config_same and ts_config_adopt, which a reload uses
    with ts_config_show, live here too. Part of the ts_config module: see
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

//  Writes s as a YAML scalar to out, double-quoted when plain text would
//  be read differently; special lists more characters that force quotes
//  (flow context: inside [..] and {..}).
static void
s_print_scalar (FILE *out, const char *s, const char *special)
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
        fputs (s, out);
        return;
    }
    putc ('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            fprintf (out, "\\x%02x", (unsigned char) *p);
        else
            putc (*p, out);
    }
    putc ('"', out);
}

//  Writes the value of key i of self as YAML to out.
static void
s_print_value (FILE *out, const ts_config_t *self, size_t i)
{
    const ts_config_key_t *key = &ts_config_keys [i];
    const ts_config_value_t *value = ts_config_slot (self, (int) i);
    switch (key->type) {
        case TS_CONFIG_INT:
            fprintf (out, "%" PRId64, value->num);
            break;
        case TS_CONFIG_BOOL:
            fputs (value->flag? "true": "false", out);
            break;
        case TS_CONFIG_LIST:
            putc ('[', out);
            for (size_t j = 0; j < value->list->n; j++) {
                fputs (j? ", ": "", out);
                s_print_scalar (out, value->list->items [j], ",[]{}");
            }
            putc (']', out);
            break;
        case TS_CONFIG_MAP:
            putc ('{', out);
            for (size_t j = 0; j < value->list->n; j++) {
                fputs (j? ", ": "", out);
                s_print_scalar (out, value->list->items [j], ",[]{}:");
                fputs (": ", out);
                s_print_scalar (out, value->values->items [j], ",[]{}:");
            }
            putc ('}', out);
            break;
        default:
            if (strstr (value->str, "://")) {
                //  A URL may hold a credential written before {api_key}
                //  existed: show its display form.
                char shown [4096];
                s_print_scalar (out, ts_redact_url (value->str, NULL, shown,
                                                    sizeof shown), "");
            }
            else
                s_print_scalar (out, value->str, "");
            break;
    }
}

void
ts_config_print (const ts_config_t *self)
{
    assert (self);
    for (size_t i = 0; i < ts_config_nkeys; i++) {
        printf ("%s: ", ts_config_keys [i].name);
        s_print_value (stdout, self, i);
        putchar ('\n');
    }
    //  The sources: entries, each with the keys it sets (the rest are
    //  upstream.*'s above), as YAML that loads back. The one source of
    //  the upstream: shorthand sets none and is not listed.
    bool listed = self->nsources > 1 || (self->nsources == 1
               && strcmp (self->sources [0]->name, "default") != 0);
    for (size_t s = 0; listed && s < self->nsources; s++) {
        const ts_config_t *source = self->sources [s];
        printf ("%s  - name: %s\n", s? "": "sources:\n", source->name);
        for (size_t i = 0; i < ts_config_nkeys; i++)
            if (source->set && source->set [i]) {
                printf ("    %s: ", ts_config_keys [i].name + 9);
                s_print_value (stdout, source, i);
                putchar ('\n');
            }
    }
    fflush (stdout);
}

void
ts_config_show (const ts_config_t *self, const char *key, char *buf,
                size_t size)
{
    assert (self && buf && size > 4);
    int index = ts_config_key_find (key);
    assert (index >= 0);
    buf [0] = 0;
    FILE *out = fmemopen (buf, size, "w");
    if (!out)
        return;
    s_print_value (out, self, (size_t) index);
    if (fclose (out) != 0 || strnlen (buf, size) >= size - 1)
        memcpy (buf + size - 4, "...", 4);
}

static bool
s_lists_equal (const ts_strlist_t *a, const ts_strlist_t *b)
{
    if (!a || !b)
        return a == b;
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp (a->items [i], b->items [i]) != 0)
            return false;
    return true;
}

bool
ts_config_same (const ts_config_t *a, const ts_config_t *b, const char *key)
{
    assert (a && b);
    int index = ts_config_key_find (key);
    assert (index >= 0);
    const ts_config_value_t *x = ts_config_slot (a, index);
    const ts_config_value_t *y = ts_config_slot (b, index);
    if ((x->str || y->str)
    &&  (!x->str || !y->str || strcmp (x->str, y->str) != 0))
        return false;
    return x->num == y->num && x->flag == y->flag
        && s_lists_equal (x->list, y->list)
        && s_lists_equal (x->values, y->values);
}

int
ts_config_adopt (ts_config_t *self, const ts_config_t *from, const char *key)
{
    assert (self && from);
    int index = ts_config_key_find (key);
    assert (index >= 0);
    const ts_config_key_t *row = &ts_config_keys [index];
    const ts_config_value_t *src = &from->values [index];
    ts_config_value_t copy;
    char reason [TS_ERRLEN];
    if (ts_config_value_init (row, &copy, reason, sizeof reason))
        return TS_ENOMEM;
    copy.num = src->num;
    copy.flag = src->flag;
    copy.line = src->line;
    bool ok = !src->str || (copy.str = strdup (src->str));
    for (size_t j = 0; ok && src->list && j < src->list->n; j++)
        ok = ts_strlist_append (copy.list, src->list->items [j]) == 0
          && (!src->values
              || ts_strlist_append (copy.values, src->values->items [j]) == 0);
    if (!ok) {
        ts_config_value_reset (&copy);
        return TS_ENOMEM;
    }
    ts_config_value_reset (&self->values [index]);
    self->values [index] = copy;
    return 0;
}
