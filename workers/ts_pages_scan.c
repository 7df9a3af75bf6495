/*  ts_pages_scan - reads a page body for pagination: the next URL, the
    cursor and the total at their dotted paths, and the number of items
    in the array at items_path. See ts_pages.h.

    One pass over yajl's events, no tree: a stack of open containers,
    each with the dotted path of its own place (objects extend it by
    their keys; inside an array nothing is addressable, so "data.0" is
    not a path here, as in upstream.format.path). Part of ts_pages. */

#include "ts_pages.h"

#include <yajl/yajl_parse.h>

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEPTH_MAX     64          //  deeper containers are not followed
#define S_PATH_MAX      TS_PAGES_PATH_MAX
#define S_VALUE_MAX     8192        //  longest next URL or cursor

typedef struct {
    bool    is_map;             //  object (else array)
    bool    addressable;        //  its path is meaningful
    bool    is_items;           //  the array at items_path
    size_t  path_len;           //  its path is path [0 .. path_len)
} s_frame_t;

typedef struct {
    const ts_pages_spec_t *spec;
    ts_pages_scan_t *scan;
    s_frame_t  stack [S_DEPTH_MAX];
    size_t     depth;           //  containers open
    size_t     ignored;         //  containers open past S_DEPTH_MAX
    char       path [S_PATH_MAX];   //  path of the value coming next
    size_t     path_len;
    bool       addressable;     //  the value coming next has a path
    int        fatal;           //  TS_EPROTO or TS_ENOMEM
    char      *err;
} s_state_t;

//  The place of the next value: after a key, path holds it; in an array,
//  nothing; at the root, "".
static bool
s_here (s_state_t *self, const char *want)
{
    return self->addressable && want && strlen (want) == self->path_len
        && memcmp (self->path, want, self->path_len) == 0;
}

//  A value begins: counts it if its parent is the items array.
static void
s_count (s_state_t *self)
{
    if (self->ignored == 0 && self->depth > 0
    &&  self->stack [self->depth - 1].is_items)
        self->scan->items++;
}

static int
s_fail (s_state_t *self, int rc, const char *path, const char *what,
        const char *got)
{
    self->fatal = rc;
    if (rc == TS_ENOMEM)
        ts_errf (self->err, "out of memory");
    else
        ts_errf (self->err, "%s: expected %s, got %s", *path? path:
                 "document", what, got);
    return 0;
}

//  A scalar value (kind names its type; text/len: a string's or a
//  number's text, else NULL).
static int
s_scalar (s_state_t *self, const char *kind, const char *text, size_t len,
          bool integer)
{
    s_count (self);
    const ts_pages_spec_t *spec = self->spec;
    ts_pages_scan_t *scan = self->scan;
    bool is_string = strcmp (kind, "string") == 0;
    bool is_null = strcmp (kind, "null") == 0;
    if (self->ignored == 0 && spec->mode == TS_PAGES_NEXT_URL
    &&  s_here (self, spec->next_path)) {
        if (!is_string && !is_null)
            return s_fail (self, TS_EPROTO, spec->next_path,
                           "a string or null", kind);
        if (is_string && len > S_VALUE_MAX)
            return s_fail (self, TS_EPROTO, spec->next_path,
                           "a URL of at most 8192 bytes", "a longer one");
        free (scan->next);
        scan->next = NULL;
        scan->has_next = is_string && len > 0;
        if (scan->has_next && !(scan->next = strndup (text, len)))
            return s_fail (self, TS_ENOMEM, "", "", "");
    }
    if (self->ignored == 0 && spec->mode == TS_PAGES_CURSOR
    &&  s_here (self, spec->cursor_path)) {
        if (!is_string && !is_null && strcmp (kind, "number") != 0)
            return s_fail (self, TS_EPROTO, spec->cursor_path,
                           "a string, a number or null", kind);
        if (text && len > S_VALUE_MAX)
            return s_fail (self, TS_EPROTO, spec->cursor_path,
                           "a cursor of at most 8192 bytes", "a longer one");
        free (scan->cursor);
        scan->cursor = NULL;
        scan->has_cursor = !is_null && len > 0;
        if (scan->has_cursor && !(scan->cursor = strndup (text, len)))
            return s_fail (self, TS_ENOMEM, "", "", "");
    }
    if (self->ignored == 0 && *spec->total_path
    &&  s_here (self, spec->total_path) && !is_null) {
        char number [32];
        long long total = -1;
        //  An integer, or a string of digits (some APIs quote counts).
        if (is_string && len > 0) {
            size_t digits = 0;
            while (digits < len && text [digits] >= '0' && text [digits] <= '9')
                digits++;
            integer = digits == len;
        }
        if (integer && len < sizeof number) {
            memcpy (number, text, len);
            number [len] = 0;
            total = strtoll (number, NULL, 10);
        }
        if (total < 0)
            return s_fail (self, TS_EPROTO, spec->total_path,
                           "an integer >= 0 (or its digits) or null", kind);
        scan->has_total = true;
        scan->total = total;
    }
    return 1;
}

static int
s_on_null (void *ctx)
{
    return s_scalar (ctx, "null", NULL, 0, false);
}

static int
s_on_boolean (void *ctx, int value)
{
    return s_scalar (ctx, "boolean", NULL, 0, false);
}

static int
s_on_number (void *ctx, const char *text, size_t len)
{
    //  The token is len bytes, not terminated.
    bool integer = len > 0 && !memchr (text, '.', len)
                && !memchr (text, 'e', len) && !memchr (text, 'E', len);
    return s_scalar (ctx, "number", text, len, integer);
}

static int
s_on_string (void *ctx, const unsigned char *text, size_t len)
{
    return s_scalar (ctx, "string", (const char *) text, len, false);
}

static int
s_open (s_state_t *self, bool is_map)
{
    s_count (self);
    if (self->ignored > 0 || self->depth == S_DEPTH_MAX) {
        self->ignored++;
        return 1;
    }
    const ts_pages_spec_t *spec = self->spec;
    s_frame_t *frame = &self->stack [self->depth++];
    frame->is_map = is_map;
    frame->addressable = self->addressable;
    frame->path_len = self->path_len;
    frame->is_items = !is_map && s_here (self, spec->items_path);
    if (spec->mode == TS_PAGES_NEXT_URL && s_here (self, spec->next_path))
        return s_fail (self, TS_EPROTO, spec->next_path, "a string or null",
                       is_map? "an object": "an array");
    if (spec->mode == TS_PAGES_CURSOR && s_here (self, spec->cursor_path))
        return s_fail (self, TS_EPROTO, spec->cursor_path,
                       "a string, a number or null",
                       is_map? "an object": "an array");
    //  Inside an array nothing has a path.
    self->addressable = is_map && frame->addressable;
    return 1;
}

static int
s_on_start_map (void *ctx)
{
    return s_open (ctx, true);
}

static int
s_on_start_array (void *ctx)
{
    return s_open (ctx, false);
}

static int
s_on_key (void *ctx, const unsigned char *key, size_t len)
{
    s_state_t *self = ctx;
    if (self->ignored > 0)
        return 1;
    s_frame_t *frame = &self->stack [self->depth - 1];
    size_t base = frame->path_len;
    size_t need = base + (base? 1: 0) + len;
    self->addressable = frame->addressable && need < S_PATH_MAX;
    if (self->addressable) {
        if (base)
            self->path [base] = '.';
        memcpy (self->path + base + (base? 1: 0), key, len);
        self->path_len = need;
    }
    return 1;
}

static int
s_on_end (void *ctx)
{
    s_state_t *self = ctx;
    if (self->ignored > 0) {
        self->ignored--;
        return 1;
    }
    assert (self->depth > 0);
    s_frame_t *frame = &self->stack [--self->depth];
    //  Back in the parent: what follows is a key (which sets the path)
    //  or an element of an array (which has none).
    self->path_len = frame->path_len;
    self->addressable = false;
    return 1;
}

static const yajl_callbacks s_callbacks = {
    .yajl_null        = s_on_null,
    .yajl_boolean     = s_on_boolean,
    .yajl_number      = s_on_number,
    .yajl_string      = s_on_string,
    .yajl_start_map   = s_on_start_map,
    .yajl_map_key     = s_on_key,
    .yajl_end_map     = s_on_end,
    .yajl_start_array = s_on_start_array,
    .yajl_end_array   = s_on_end
};

void
ts_pages_scan_clear (ts_pages_scan_t *scan)
{
    assert (scan);
    free (scan->next);
    free (scan->cursor);
    memset (scan, 0, sizeof *scan);
}

int
ts_pages_scan (const ts_pages_spec_t *spec, const char *body, size_t len,
               ts_pages_scan_t *scan, char *err)
{
    assert (spec);
    assert (scan);
    memset (scan, 0, sizeof *scan);
    s_state_t *state = calloc (1, sizeof *state);
    if (!state) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    state->spec = spec;
    state->scan = scan;
    state->err = err;
    state->addressable = true;          //  the root's path is ""
    yajl_handle parser = yajl_alloc (&s_callbacks, NULL, state);
    if (!parser) {
        free (state);
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    yajl_status status = yajl_parse (parser, (const unsigned char *) body,
                                     len);
    if (status == yajl_status_ok)
        status = yajl_complete_parse (parser);
    int rc = state->fatal;
    if (rc == 0 && status != yajl_status_ok) {
        rc = TS_EPROTO;
        ts_errf (err, "not a JSON document");
    }
    yajl_free (parser);
    free (state);
    if (rc != 0)
        ts_pages_scan_clear (scan);
    return rc;
}
