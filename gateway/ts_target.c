/*  ts_target - splits an HTTP request target into decoded path segments and
    query parameters. See ts_target.h.

    The routes get the raw target as the client sent it (ts_h1 keeps it)
    and parse it here, so the exact same code runs in the unit tests and
    in the server. */

#include "ts_target.h"

#include <assert.h>

#include <stdlib.h>
#include <string.h>

struct _ts_target_t {
    ts_strlist_t *segments;     //  decoded path segments
    ts_strlist_t *names;        //  decoded query names
    ts_strlist_t *values;       //  decoded query values, parallel to names
    bool          trailing;     //  the path ended in a '/' that was dropped
};

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
ts_target_decode (const char *s, size_t len, bool form, char **out)
{
    char *buf = malloc (len + 1);
    if (!buf)
        return TS_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s [i];
        if (c == '%') {
            int hi = i + 2 < len? s_hex (s [i + 1]): -1;
            int lo = i + 2 < len? s_hex (s [i + 2]): -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free (buf);
                return TS_EINVAL;
            }
            buf [n++] = (char) (hi * 16 + lo);
            i += 2;
        }
        else
        if (c == '+' && form)
            buf [n++] = ' ';
        else
        if (c == 0) {
            free (buf);
            return TS_EINVAL;
        }
        else
            buf [n++] = c;
    }
    buf [n] = 0;
    *out = buf;
    return 0;
}

//  Decodes [s, s + len) and appends it to list. Returns 0 or a TS_E* code.
static int
s_append_decoded (ts_strlist_t *list, const char *s, size_t len, bool form)
{
    char *text;
    int rc = ts_target_decode (s, len, form, &text);
    if (rc)
        return rc;
    rc = ts_strlist_append (list, text);
    free (text);
    return rc;
}

static int
s_parse_path (ts_target_t *self, const char *path, size_t len)
{
    //  path starts with '/'; each '/' starts a segment.
    size_t start = 1;
    if (len == 1)
        return 0;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || path [i] == '/') {
            //  One trailing slash does not make an empty last segment.
            if (i == len && start == len && len > 1) {
                self->trailing = true;
                break;
            }
            int rc = s_append_decoded (self->segments, path + start,
                                       i - start, false);
            if (rc)
                return rc;
            start = i + 1;
        }
    }
    return 0;
}

static int
s_parse_query (ts_target_t *self, const char *query)
{
    const char *p = query;
    while (*p) {
        const char *end = strchr (p, '&');
        size_t len = end? (size_t) (end - p): strlen (p);
        if (len > 0) {
            const char *eq = memchr (p, '=', len);
            size_t name_len = eq? (size_t) (eq - p): len;
            int rc = s_append_decoded (self->names, p, name_len, true);
            if (rc == 0) {
                if (eq)
                    rc = s_append_decoded (self->values, eq + 1,
                                           len - name_len - 1, true);
                else
                    rc = ts_strlist_append (self->values, "");
            }
            if (rc)
                return rc;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

int
ts_target_parse (const char *target, ts_target_t **out, char *err)
{
    *out = NULL;
    if (!target || target [0] != '/') {
        ts_errf (err, "request target must start with '/'");
        return TS_EINVAL;
    }
    size_t target_len = strlen (target);
    if (target_len > TS_TARGET_MAX) {
        ts_errf (err, "request target over %d bytes", TS_TARGET_MAX);
        return TS_EINVAL;
    }
    ts_target_t *self = calloc (1, sizeof (ts_target_t));
    if (!self)
        return TS_ENOMEM;
    self->segments = ts_strlist_new ();
    self->names = ts_strlist_new ();
    self->values = ts_strlist_new ();
    if (!self->segments || !self->names || !self->values) {
        ts_target_destroy (&self);
        return TS_ENOMEM;
    }
    const char *query = strchr (target, '?');
    //  A fragment is never sent by clients; ignore it if one is.
    const char *hash = strchr (target, '#');
    size_t path_len = query? (size_t) (query - target): target_len;
    if (hash && (size_t) (hash - target) < path_len)
        path_len = (size_t) (hash - target);

    int rc = s_parse_path (self, target, path_len);
    if (rc == TS_EINVAL)
        ts_errf (err, "bad percent-encoding in path");
    if (rc == 0 && query && (!hash || hash > query)) {
        char *qs = strdup (query + 1);
        if (!qs)
            rc = TS_ENOMEM;
        else {
            char *h = strchr (qs, '#');
            if (h)
                *h = 0;
            rc = s_parse_query (self, qs);
            free (qs);
            if (rc == TS_EINVAL)
                ts_errf (err, "bad percent-encoding in query");
        }
    }
    if (rc) {
        ts_target_destroy (&self);
        return rc;
    }
    *out = self;
    return 0;
}

void
ts_target_destroy (ts_target_t **self_p)
{
    if (self_p && *self_p) {
        ts_target_t *self = *self_p;
        ts_strlist_destroy (&self->segments);
        ts_strlist_destroy (&self->names);
        ts_strlist_destroy (&self->values);
        free (self);
        *self_p = NULL;
    }
}

size_t
ts_target_segments (const ts_target_t *self)
{
    return self->segments->n;
}

const char *
ts_target_segment (const ts_target_t *self, size_t i)
{
    return i < self->segments->n? self->segments->items [i]: NULL;
}

const char *
ts_target_param (const ts_target_t *self, const char *name)
{
    for (size_t i = 0; i < self->names->n; i++)
        if (strcmp (self->names->items [i], name) == 0)
            return self->values->items [i];
    return NULL;
}

const char *
ts_target_param_last (const ts_target_t *self, const char *name)
{
    for (size_t i = self->names->n; i > 0; i--)
        if (strcmp (self->names->items [i - 1], name) == 0)
            return self->values->items [i - 1];
    return NULL;
}

size_t
ts_target_params (const ts_target_t *self)
{
    return self->names->n;
}

const char *
ts_target_param_at (const ts_target_t *self, size_t i, const char **name)
{
    assert (i < self->names->n);
    *name = self->names->items [i];
    return self->values->items [i];
}

bool
ts_target_trailing_slash (const ts_target_t *self)
{
    return self->trailing;
}
