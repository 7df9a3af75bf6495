/*  ts_pages - pagination of one id's fetch: given the page just fetched
    (its body and Link header) and the spec (upstream.pagination.*), what
    is the next request, or is the id complete.

    Modes (upstream.pagination.mode):
      none         one request per id (the default; ts_pages is not used)
      next_url     the next page's URL is read from the body (next_path,
                   e.g. "links.next"); absolute or relative
      link_header  the next page's URL is the Link header's rel="next"
                   (RFC 8288); absolute or relative
      cursor       a cursor read from the body (cursor_path) is sent as
                   the query parameter cursor_param of the next request
      page         the query parameter page_param counts pages from
                   page_start
      offset       the query parameter offset_param counts the items
                   received so far (0 first); size_param asks for
                   page_size items a page

    A page's items are counted in the body: the array at items_path (the
    rows of upstream.format.path, or the time column of a columns layout).
    The id is complete when
      - next_url / link_header: there is no next link (missing, null, "");
      - cursor: the cursor is missing, null or "";
      - page / offset: a page has no items, or (page_size > 0) fewer items
        than page_size;
      - any mode: stop_on_empty and a page has no items; total_path is set
        and the items received reach the total it holds.
    A next link is resolved against the URL of the page that gave it
    (libcurl's URL API) and must stay on the origin (scheme, host, port)
    of the id's first request, or on one listed in allowed_hosts: the
    request carries the upstream's headers, API key and all, so a link to
    another origin is refused (TS_EINVAL), never followed. A link that
    repeats the page it came from is refused too (TS_EPROTO). Cursor,
    page and offset values are percent-encoded into the query; a
    parameter already in the URL is replaced, not repeated. When
    upstream.url sends the API key as a query parameter (NAME={api_key},
    key_param) and a next link leaves it out, as some APIs' links do, the
    first request's value is added back (the origin check keeps it on
    the upstream).

    max_pages caps the pages of one id. A page that would be past it while
    more remain is, with at_max_pages "fail" (the default), an error
    (TS_ETOOBIG, not worth a retry: the same pages would come back); with
    "keep" the id is complete with the pages fetched, and
    ts_pages_truncated says so for the caller to log.

    The URLs handled here may hold the upstream API key (upstream.url's
    {api_key}): they are wiped when replaced or freed, and error details
    name an origin (scheme://host:port), never a URL.

    Pure apart from memory: no I/O, no clock; libcurl's URL API (CURLU)
    does the URL work. Used by the worker (ts_worker_pages.c), one
    ts_pages_t per id being fetched. */

#ifndef TS_PAGES_H_INCLUDED
#define TS_PAGES_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"

typedef enum {
    TS_PAGES_NONE = 0,          //  no pagination
    TS_PAGES_NEXT_URL,          //  next URL at a body path
    TS_PAGES_LINK_HEADER,       //  Link: <...>; rel="next"
    TS_PAGES_CURSOR,            //  cursor at a body path, sent as a param
    TS_PAGES_PAGE,              //  page number param
    TS_PAGES_OFFSET             //  offset (+ limit) params
} ts_pages_mode_t;

#define TS_PAGES_PATH_MAX  512     //  longest body path followed

//  What upstream.pagination.* says. Strings are borrowed (from the
//  config, for ts_pages_spec_from_config).
typedef struct {
    ts_pages_mode_t     mode;
    const char         *next_path;      //  next_url: body path of the URL
    const char         *cursor_path;    //  cursor: body path of the cursor
    const char         *cursor_param;   //  cursor: its query parameter
    const char         *page_param;     //  page: the page number's param
    int64_t             page_start;     //  page: the first page's number
    const char         *offset_param;   //  offset: the offset's param
    const char         *size_param;     //  param asking for page_size
                                        //  items, "" none
    int64_t             page_size;      //  items a full page holds, 0
                                        //  unknown
    const char         *total_path;     //  body path of the total item
                                        //  count, "" none
    char                items_path [TS_PAGES_PATH_MAX];
                                        //  body path of the page's item
                                        //  array, "" the root
    bool                stop_on_empty;  //  a page without items ends
    size_t              max_pages;      //  pages of one id, at most
    bool                keep_at_cap;    //  at_max_pages: keep (else fail)
    const ts_strlist_t *allowed_hosts;  //  more origins next links may
                                        //  name; may be NULL
    char                key_param [64]; //  query parameter upstream.url
                                        //  sends {api_key} in, "" none
} ts_pages_spec_t;

typedef struct _ts_pages_t ts_pages_t;

//  Fills spec from upstream.pagination.* of cfg (strings borrowed: spec
//  lives as long as cfg); items_path from upstream.format.path (and, for
//  the columns layout, .time_field); key_param from upstream.url. Checks the rules between the keys:
//  next_url needs next_path, cursor needs cursor_path and cursor_param,
//  page needs page_param, offset needs offset_param; allowed_hosts
//  entries must be http(s)://host[:port]. Returns 0, or TS_ECONFIG with
//  "WHERE: KEY: reason" in err (ts_config_where: file and line).
int ts_pages_spec_from_config (ts_pages_spec_t *spec, const ts_config_t *cfg,
                               char *err);

//  Starts the pages of one id at url, the request built from
//  upstream.url: page and offset modes set their parameter to the first
//  page's value, and size_param (if set, with page_size > 0) is set to
//  page_size. Returns 0 and *self_p, or TS_EINVAL (url cannot be parsed,
//  detail in err) or TS_ENOMEM.
int ts_pages_new (ts_pages_t **self_p, const ts_pages_spec_t *spec,
                  const char *url, char *err);

//  Wipes the URLs, frees everything and sets *self_p to NULL. Safe on
//  NULL.
void ts_pages_destroy (ts_pages_t **self_p);

//  The URL of the page to fetch now (borrowed: valid until the next
//  ts_pages_next or ts_pages_destroy). Holds the API key if upstream.url
//  does: show it only through ts_redact_url.
const char *ts_pages_url (const ts_pages_t *self);

//  The number of that page, from 1.
size_t ts_pages_page (const ts_pages_t *self);

//  Items counted on the pages received so far.
size_t ts_pages_items (const ts_pages_t *self);

//  True once the id was completed at max_pages with more pages left
//  (at_max_pages: keep).
bool ts_pages_truncated (const ts_pages_t *self);

//  Reads the page just fetched - body (len bytes of JSON) and link (its
//  Link header, NULL if none) - and decides. Returns 0 with *more true
//  (ts_pages_url is now the next page) or false (the id is complete); or
//  TS_EPROTO (the body has a wrong type at a configured path, or a link
//  that repeats its page), TS_EINVAL (a next link that cannot be parsed,
//  or goes to an origin not allowed), TS_ETOOBIG (more pages after
//  max_pages, at_max_pages fail), TS_ENOMEM; then err says why, without
//  the page number (the caller adds it) and without any URL.
int ts_pages_next (ts_pages_t *self, const char *body, size_t len,
                   const char *link, bool *more, char *err);

//  ---------------------------------------------------------------------
//  The parts, pure, for tests

//  Finds the first rel="next" target in a Link header value (RFC 8288:
//  "<uri>; rel=\"next\"", several links separated by commas, rel a
//  space-separated list, case-insensitive). Returns 0 and a new string
//  in *target (the caller frees it), TS_ENOTFOUND, or TS_ENOMEM.
int ts_pages_link_next (const char *link, char **target);

//  Resolves ref (absolute or relative) against base. Returns 0 and a new
//  string in *url, TS_EINVAL (detail in err), or TS_ENOMEM.
int ts_pages_resolve (const char *base, const char *ref, char **url,
                      char *err);

//  Sets the query parameter name of url to value, percent-encoded,
//  dropping any earlier name=... of it. Returns 0 and a new string in
//  *out, TS_EINVAL (detail in err), or TS_ENOMEM.
int ts_pages_query_set (const char *url, const char *name,
                        const char *value, char **out, char *err);

//  Writes url's origin, "scheme://host:port" (host lower case, the port
//  always written), into out (size bytes). Returns 0, TS_EINVAL (not an
//  http or https URL with a host) or TS_ETOOBIG.
int ts_pages_origin (const char *url, char *out, size_t size);

//  What ts_pages_scan found in a page body.
typedef struct {
    size_t  items;              //  elements of the array at items_path
    bool    has_next;           //  next_path holds a non-empty string
    char   *next;               //  owned; NULL if !has_next
    bool    has_cursor;         //  cursor_path holds a non-empty string
                                //  or a number
    char   *cursor;             //  owned, as text; NULL if !has_cursor
    bool    has_total;          //  total_path holds an integer >= 0
    int64_t total;
} ts_pages_scan_t;

//  Reads from body (len bytes of JSON) what spec's paths point at, in
//  one pass (yajl events, no tree). Returns 0, or TS_EPROTO (not JSON,
//  or a wrong type at a path: "links.next: expected a string or null,
//  got number") or TS_ENOMEM, with err. Free with ts_pages_scan_clear.
int ts_pages_scan (const ts_pages_spec_t *spec, const char *body,
                   size_t len, ts_pages_scan_t *scan, char *err);

//  Frees what a scan holds and zeroes it.
void ts_pages_scan_clear (ts_pages_scan_t *scan);

#endif
