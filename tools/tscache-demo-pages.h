/*  tscache-demo-pages - the demo upstream's pagination: which slice of a
    series one request gets, and how it says where the next page is, in
    the styles of real APIs (POST /control {"pages": {...}}):

      off     one answer holds the whole series (the default)
      page    ?page=N (from 1) and ?per_page=N; body {"data": [rows],
              "meta": {"total": T, "page": N}}
      offset  ?offset=N (from 0) and ?limit=N (at most 1000); body
              {"data": [rows], "meta": {"total": T}}
      cursor  ?cursor=C from the last page's "next_cursor" (null on the
              last page); C looks like "c/200+&=", so it must be
              percent-encoded to arrive whole (a cursor it cannot read is
              400); body {"data": [rows], "next_cursor": C|null}
      next    ?after=N; body {"data": [rows], "links": {"next":
              "/rows/ID?from=..&to=..&after=N"|null}} (relative)
      link    ?after=N; the body as without pages (a bare array of rows),
              and a header Link: <http://HOST/rows/ID?...&after=N>;
              rel="next" (absolute), absent on the last page

    The columns layout gets the same members beside "hourly" (and the
    same Link header), its arrays cut to the page. size is the page size
    (default 100) where the request does not ask for one; fail_page N
    answers page N (from 1) with 500; host, if set (e.g.
    "http://127.0.0.2:9"), is the origin the next links of next and link
    name instead of the request's own, to test that a client refuses to
    follow them.

    Pure: no I/O. Part of tscache-demo-upstream (a tool, not part of the
    pipeline). */

#ifndef TSCACHE_DEMO_PAGES_H_INCLUDED
#define TSCACHE_DEMO_PAGES_H_INCLUDED

#include "ts_common.h"

#include <jansson.h>

typedef enum {
    DEMO_PAGES_OFF, DEMO_PAGES_PAGE, DEMO_PAGES_OFFSET, DEMO_PAGES_CURSOR,
    DEMO_PAGES_NEXT, DEMO_PAGES_LINK
} demo_pages_style_t;

//  The style names, in enum order, NULL-terminated.
extern const char *const demo_pages_styles [];

//  How the series is paged.
typedef struct {
    demo_pages_style_t style;
    int64_t  size;              //  items a page when the request names none
    int64_t  fail_page;         //  page answered 500, 0 none
    char     host [128];        //  origin of next links, "" the request's
} demo_pages_t;

//  What one request asked for (each NULL if absent).
typedef struct {
    const char *page, *per_page, *offset, *limit, *cursor, *after;
    const char *path;           //  "/rows/ID"
    const char *from, *to;      //  as received, re-sent in next links
    const char *host;           //  the request's Host header
} demo_pages_args_t;

//  One page of a series of n items.
typedef struct {
    size_t   start;             //  first item served
    size_t   count;             //  items served
    bool     fail;              //  answer 500 (fail_page)
    char    *members;           //  JSON members for the body ("" none),
                                //  heap, the caller frees
    char    *link;              //  Link header value, or NULL; heap
} demo_page_t;

//  Cuts the page args ask for. Returns 0, or -1 with the 400 reason in
//  *error (static text), or -2 out of memory.
int demo_pages_cut (const demo_pages_t *pages, size_t n,
                    const demo_pages_args_t *args, demo_page_t *page,
                    const char **error);

//  The body of page: doc (len bytes, NUL-terminated, as without pages)
//  with page->members - rows: {"data": doc, members}; columns: {members,
//  doc's members}; none (off, link): doc. Returns a new string (the
//  caller frees it) and sets *len, or NULL (out of memory).
char *demo_pages_wrap (const demo_page_t *page, bool columns,
                       const char *doc, size_t *len);

//  Reads the "pages" member of a /control body (an object with any of
//  style, size, fail_page, host) into pages. Returns NULL, or the reason
//  it was refused (static text; pages may then be partly changed).
const char *demo_pages_control (json_t *item, demo_pages_t *pages);

#endif
