/*  ts_config_value - the rules that turn text into a checked value.

    A value of any key's type (ts_config_keys.h) is made here: from
    override text (environment, ts_config_set, the table's defaults) or
    filled by the YAML reader, then checked against the key's type,
    bounds, allowed values and its own check function. Part of the
    ts_config module: see ts_config_keys.h. */

#include "ts_config_keys.h"
#include "ts_cron.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
ts_config_value_reset (ts_config_value_t *value)
{
    free (value->str);
    ts_strlist_destroy (&value->list);
    ts_strlist_destroy (&value->values);
    memset (value, 0, sizeof *value);
}

//  Writes what a key must look like into reason.
void
ts_config_type_reason (const ts_config_key_t *key, char *reason, size_t size)
{
    switch (key->type) {
        case TS_CONFIG_INT:
            snprintf (reason, size, "must be an integer from %" PRId64
                      " to %" PRId64, key->min, key->max);
            break;
        case TS_CONFIG_BOOL:
            snprintf (reason, size, "must be true or false");
            break;
        case TS_CONFIG_ENUM: {
            int len = snprintf (reason, size, "must be one of: ");
            for (int i = 0; key->allowed [i] && len >= 0
                            && (size_t) len < size; i++)
                len += snprintf (reason + len, size - (size_t) len, "%s%s",
                                 i? ", ": "", *key->allowed [i]?
                                 key->allowed [i]: "\"\"");
            break;
        }
        case TS_CONFIG_LIST:
            snprintf (reason, size, "must be a list of strings");
            break;
        case TS_CONFIG_MAP:
            snprintf (reason, size, "must be a mapping of name: field");
            break;
        case TS_CONFIG_CRON:
            snprintf (reason, size, "must be a cron expression, \"\" or "
                      "\"off\"");
            break;
        case TS_CONFIG_ENDPOINT:
            snprintf (reason, size, "must be a ZeroMQ endpoint "
                      "(tcp://, ipc:// or inproc://)");
            break;
        default:
            snprintf (reason, size, "must be a string");
            break;
    }
}

//  Parses a whole decimal integer, white space around allowed.
bool
ts_config_parse_int (const char *text, int64_t *out)
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

bool
ts_config_parse_bool (const char *text, bool *out)
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
int
ts_config_map_add (ts_config_value_t *value, const char *name,
                   size_t name_len, const char *field, size_t field_len,
                   char *reason, size_t size)
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
int
ts_config_value_init (const ts_config_key_t *key, ts_config_value_t *value,
                      char *reason, size_t size)
{
    memset (value, 0, sizeof *value);
    if (key->type == TS_CONFIG_LIST || key->type == TS_CONFIG_MAP) {
        value->list = ts_strlist_new ();
        value->values = key->type == TS_CONFIG_MAP? ts_strlist_new (): NULL;
        if (!value->list || (key->type == TS_CONFIG_MAP && !value->values)) {
            ts_config_value_reset (value);
            snprintf (reason, size, "out of memory");
            return -1;
        }
    }
    return 0;
}

//  Trims white space from both ends of [*s, *s + *len).
void
ts_config_trim (const char **s, size_t *len)
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
s_value_from_text (const ts_config_key_t *key, const char *text,
                   ts_config_value_t *value, char *reason, size_t size)
{
    if (ts_config_value_init (key, value, reason, size))
        return -1;
    if (ts_config_type_is_string (key->type)) {
        value->str = strdup (text);
        if (!value->str) {
            snprintf (reason, size, "out of memory");
            return -1;
        }
        return 0;
    }
    if (key->type == TS_CONFIG_INT) {
        if (!ts_config_parse_int (text, &value->num)) {
            ts_config_type_reason (key, reason, size);
            return -1;
        }
        return 0;
    }
    if (key->type == TS_CONFIG_BOOL) {
        if (!ts_config_parse_bool (text, &value->flag)) {
            ts_config_type_reason (key, reason, size);
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
        ts_config_trim (&item, &len);
        if (len) {
            entry++;
            if (key->type == TS_CONFIG_LIST) {
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
                    ts_config_trim (&name, &name_len);
                    ts_config_trim (&field, &field_len);
                }
                if (!eq || !name_len || !field_len) {
                    snprintf (reason, size, "entry %d must look like "
                              "name=field", entry);
                    goto fail;
                }
                if (ts_config_map_add (value, name, name_len, field, field_len,
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
    ts_config_value_reset (value);
    return -1;
}

//  A ZeroMQ endpoint: tcp://, ipc:// or inproc:// and an address.
bool
ts_config_endpoint_ok (const char *text)
{
    static const char *const schemes [] = {
        "tcp://", "ipc://", "inproc://", NULL };
    for (int i = 0; schemes [i]; i++) {
        size_t len = strlen (schemes [i]);
        if (strncmp (text, schemes [i], len) == 0 && text [len])
            return true;
    }
    return false;
}

//  Checks a converted value against the key's rules. For a list or map
//  *bad may be set to the index of the entry at fault.
int
ts_config_value_check (const ts_config_key_t *key,
                       const ts_config_value_t *value, char *reason,
                       size_t size, size_t *bad)
{
    if (key->type == TS_CONFIG_INT && (value->num < key->min
                           ||  value->num > key->max)) {
        ts_config_type_reason (key, reason, size);
        return -1;
    }
    if (key->type == TS_CONFIG_ENUM) {
        bool found = false;
        for (int i = 0; key->allowed [i]; i++)
            if (strcmp (value->str, key->allowed [i]) == 0)
                found = true;
        if (!found) {
            ts_config_type_reason (key, reason, size);
            return -1;
        }
    }
    if (key->type == TS_CONFIG_CRON && *value->str
    &&  strcmp (value->str, "off") != 0) {
        ts_cron_t cron;
        char cron_err [TS_ERRLEN];
        if (ts_cron_parse (&cron, value->str, cron_err)) {
            snprintf (reason, size, "%s", cron_err);
            return -1;
        }
    }
    if (key->type == TS_CONFIG_ENDPOINT) {
        if (!ts_config_endpoint_ok (value->str)) {
            ts_config_type_reason (key, reason, size);
            return -1;
        }
    }
    if (key->check)
        return key->check (value, reason, size, bad);
    return 0;
}

//  Converts and checks text, then stores it in slot index.
int
ts_config_set_text (ts_config_t *self, int index, const char *text,
                    char *reason, size_t size)
{
    const ts_config_key_t *key = &ts_config_keys [index];
    ts_config_value_t value;
    size_t bad = SIZE_MAX;
    if (s_value_from_text (key, text, &value, reason, size))
        return -1;
    if (ts_config_value_check (key, &value, reason, size, &bad)) {
        ts_config_value_reset (&value);
        return -1;
    }
    ts_config_value_reset (&self->values [index]);
    self->values [index] = value;
    return 0;
}

