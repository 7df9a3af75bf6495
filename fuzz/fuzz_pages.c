/*  fuzz_pages - a page body and Link header through pagination
    (workers/ts_pages*.c): the body scan, the Link parser, the next URL.

    The first byte picks the spec:
        0  next_url, next URL at links.next, items at data
        1  link_header, items at the root
        2  cursor at meta.cursor, items at data, total at meta.total
        3  page, page size 2, items at hourly.time (columns)
        4  offset, limit 2, total at total
    the rest is a Link header value up to the first newline, then the
    body. Checks: a failed step leaves the URL as it was; a next URL is
    on the first request's origin; the Link parser never reads past the
    text. */

#include <stdio.h>

#include "fuzz.h"
#include "../workers/ts_pages.h"

#define BASE "http://api.example.com/rows/x?from=1&to=2"

static ts_pages_spec_t
s_spec (unsigned mode)
{
    ts_pages_spec_t spec = {
        .next_path = "links.next", .cursor_path = "meta.cursor",
        .cursor_param = "cursor", .page_param = "page", .page_start = 1,
        .offset_param = "offset", .size_param = "", .total_path = "",
        .stop_on_empty = true, .max_pages = 3 };
    strcpy (spec.items_path, "data");
    switch (mode) {
        case 0: spec.mode = TS_PAGES_NEXT_URL; break;
        case 1: spec.mode = TS_PAGES_LINK_HEADER;
                spec.items_path [0] = 0; break;
        case 2: spec.mode = TS_PAGES_CURSOR;
                spec.total_path = "meta.total"; break;
        case 3: spec.mode = TS_PAGES_PAGE; spec.page_size = 2;
                strcpy (spec.items_path, "hourly.time"); break;
        default: spec.mode = TS_PAGES_OFFSET; spec.page_size = 2;
                 spec.size_param = "limit"; spec.total_path = "total";
                 break;
    }
    return spec;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode (&data, &size, 5, &mode))
        return 0;
    const uint8_t *nl = memchr (data, '\n', size);
    size_t link_len = nl? (size_t) (nl - data): 0;
    char *link = nl? fuzz_cstr (data, link_len): NULL;
    const char *body = nl? (const char *) nl + 1: (const char *) data;
    size_t body_len = nl? size - link_len - 1: size;
    //  The body is not NUL-terminated: the scan must keep to its length.
    char *copy = malloc (body_len? body_len: 1);
    if (!copy || (nl && !link)) {
        free (copy);
        free (link);
        return 0;
    }
    memcpy (copy, body, body_len);
    ts_pages_spec_t spec = s_spec (mode);
    ts_pages_t *pages = NULL;
    char err [TS_ERRLEN] = "";
    if (ts_pages_new (&pages, &spec, BASE, err) == 0) {
        for (int step = 0; step < 4; step++) {
            char *before = strdup (ts_pages_url (pages));
            bool more = false;
            int rc = ts_pages_next (pages, copy, body_len, link, &more, err);
            if (before && rc != 0 && strcmp (before, ts_pages_url (pages)))
                abort ();           //  a failed step moved the URL
            char origin [300];
            if (more && (ts_pages_origin (ts_pages_url (pages), origin,
                                          sizeof origin) != 0
                         || strcmp (origin, "http://api.example.com:80")))
                abort ();           //  followed a link off the origin
            free (before);
            if (rc != 0 || !more)
                break;
        }
        ts_pages_destroy (&pages);
    }
    char *target = NULL;
    if (ts_pages_link_next (link, &target) == 0 && !target)
        abort ();
    free (target);
    free (copy);
    free (link);
    return 0;
}
