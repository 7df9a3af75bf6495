/*  ts_pages - the next request of a paginated fetch. See ts_pages.h.

    The state of one id is the URL of the page to fetch, its number, the
    items received so far and the origin of the first request. Each page
    is scanned (ts_pages_scan.c), then the mode proposes the next URL, the
    stop conditions may end the id, and a proposed URL is checked (origin,
    loop, cap) before it replaces the current one. */

#include "ts_pages.h"

#include <curl/curl.h>

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_ORIGIN_MAX    300         //  "scheme://host:port"

struct _ts_pages_t {
    const ts_pages_spec_t *spec;    //  borrowed
    char   *url;                    //  the page to fetch now, owned, wiped
    size_t  page;                   //  its number, from 1
    size_t  items;                  //  items on the pages received
    bool    truncated;              //  stopped at max_pages, more left
    char    origin [S_ORIGIN_MAX];  //  of the first request
    char   *key_raw;                //  the first request's key_param
                                    //  value as sent, owned, wiped;
                                    //  NULL if none
};

static void
s_wipe_free (char **text_p)
{
    if (*text_p) {
        explicit_bzero (*text_p, strlen (*text_p));
        free (*text_p);
        *text_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  URLs

//  Takes the whole URL of h into *url, a copy of ours (libcurl's own
//  string is wiped and given back with curl_free). Returns a CURLUcode.
static CURLUcode
s_url_take (CURLU *h, char **url)
{
    char *text = NULL;
    CURLUcode uc = curl_url_get (h, CURLUPART_URL, &text, 0);
    if (uc == CURLUE_OK) {
        *url = strdup (text);
        explicit_bzero (text, strlen (text));
        curl_free (text);
        if (!*url)
            uc = CURLUE_OUT_OF_MEMORY;
    }
    return uc;
}

//  Maps a CURLUcode to TS_ENOMEM or TS_EINVAL with a detail.
static int
s_url_fail (CURLUcode uc, const char *what, char *err)
{
    if (uc == CURLUE_OUT_OF_MEMORY) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    ts_errf (err, "%s: %s", what, curl_url_strerror (uc));
    return TS_EINVAL;
}

int
ts_pages_resolve (const char *base, const char *ref, char **url, char *err)
{
    assert (base && ref && url);
    *url = NULL;
    CURLU *h = curl_url ();
    if (!h) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    CURLUcode uc = curl_url_set (h, CURLUPART_URL, base, 0);
    int rc = uc? s_url_fail (uc, "the page's URL", err): 0;
    if (rc == 0 && (uc = curl_url_set (h, CURLUPART_URL, ref, 0)))
        rc = s_url_fail (uc, "next link", err);
    if (rc == 0 && (uc = s_url_take (h, url)))
        rc = s_url_fail (uc, "next link", err);
    curl_url_cleanup (h);
    return rc;
}

int
ts_pages_origin (const char *url, char *out, size_t size)
{
    assert (url && out && size > 0);
    CURLU *h = curl_url ();
    if (!h)
        return TS_ENOMEM;
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = TS_EINVAL;
    if (curl_url_set (h, CURLUPART_URL, url, 0) == CURLUE_OK
    &&  curl_url_get (h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
    &&  curl_url_get (h, CURLUPART_HOST, &host, 0) == CURLUE_OK
    &&  curl_url_get (h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)
        == CURLUE_OK
    &&  (strcasecmp (scheme, "http") == 0 || strcasecmp (scheme, "https") == 0)
    &&  *host) {
        for (char *c = scheme; *c; c++)
            *c = (char) tolower ((unsigned char) *c);
        for (char *c = host; *c; c++)
            *c = (char) tolower ((unsigned char) *c);
        int n = snprintf (out, size, "%s://%s:%s", scheme, host, port);
        rc = n > 0 && (size_t) n < size? 0: TS_ETOOBIG;
    }
    curl_free (scheme);
    curl_free (host);
    curl_free (port);
    curl_url_cleanup (h);
    return rc;
}

//  The value of the query parameter name of url as it is written (not
//  decoded) into *raw (the caller wipes and frees it). Returns 0,
//  TS_ENOTFOUND, or TS_ENOMEM / TS_EINVAL.
static int
s_query_get (const char *url, const char *name, char **raw)
{
    *raw = NULL;
    CURLU *h = curl_url ();
    if (!h)
        return TS_ENOMEM;
    char *query = NULL;
    int rc = TS_EINVAL;
    if (curl_url_set (h, CURLUPART_URL, url, 0) == CURLUE_OK) {
        CURLUcode uc = curl_url_get (h, CURLUPART_QUERY, &query, 0);
        rc = uc == CURLUE_OK || uc == CURLUE_NO_QUERY? TS_ENOTFOUND
           : uc == CURLUE_OUT_OF_MEMORY? TS_ENOMEM: TS_EINVAL;
    }
    size_t name_len = strlen (name);
    for (const char *p = query; rc == TS_ENOTFOUND && p && *p; ) {
        size_t len = strcspn (p, "&");
        if (len > name_len && memcmp (p, name, name_len) == 0
        &&  p [name_len] == '=') {
            *raw = strndup (p + name_len + 1, len - name_len - 1);
            rc = *raw? 0: TS_ENOMEM;
        }
        p += len + (p [len] == '&');
    }
    if (query) {
        explicit_bzero (query, strlen (query));
        curl_free (query);
    }
    curl_url_cleanup (h);
    return rc;
}

//  ts_pages_query_set, with value written as it is if !encode.
static int
s_query_set (const char *url, const char *name, const char *value,
             bool encode, char **out, char *err)
{
    assert (url && name && *name && value && out);
    *out = NULL;
    CURLU *h = curl_url ();
    if (!h) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    char *query = NULL;
    CURLUcode uc = curl_url_set (h, CURLUPART_URL, url, 0);
    int rc = uc? s_url_fail (uc, "the page's URL", err): 0;
    if (rc == 0) {
        uc = curl_url_get (h, CURLUPART_QUERY, &query, 0);
        if (uc && uc != CURLUE_NO_QUERY)
            rc = s_url_fail (uc, "the page's URL", err);
    }
    //  The new query: every pair but name's, then name=value encoded.
    size_t qlen = query? strlen (query): 0;
    size_t size = qlen + strlen (name) + 3 * strlen (value) + 3;
    char *next = rc == 0? malloc (size): NULL;
    if (rc == 0 && !next) {
        ts_errf (err, "out of memory");
        rc = TS_ENOMEM;
    }
    if (rc == 0) {
        size_t used = 0, name_len = strlen (name);
        const char *p = query? query: "";
        while (*p) {
            size_t len = strcspn (p, "&");
            bool same = len >= name_len && memcmp (p, name, name_len) == 0
                     && (len == name_len || p [name_len] == '=');
            if (len > 0 && !same) {
                memcpy (next + used, p, len);
                used += len;
                next [used++] = '&';
            }
            p += len + (p [len] == '&');
        }
        memcpy (next + used, name, name_len);
        used += name_len;
        next [used++] = '=';
        //  Cannot fail: size holds three bytes per character of value.
        if (encode)
            ts_percent_encode (next, size, &used, value);
        else {
            memcpy (next + used, value, strlen (value));
            used += strlen (value);
        }
        next [used] = 0;
        if ((uc = curl_url_set (h, CURLUPART_QUERY, next, 0))
        ||  (uc = s_url_take (h, out)))
            rc = s_url_fail (uc, "the page's URL", err);
        explicit_bzero (next, size);
    }
    free (next);
    if (query) {
        explicit_bzero (query, strlen (query));
        curl_free (query);
    }
    curl_url_cleanup (h);
    return rc;
}

int
ts_pages_query_set (const char *url, const char *name, const char *value,
                    char **out, char *err)
{
    return s_query_set (url, name, value, true, out, err);
}

//  ---------------------------------------------------------------------
//  Link header (RFC 8288)

static const char *
s_skip_ws (const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

//  True if the rel value (len bytes, unquoted) lists "next".
static bool
s_rel_is_next (const char *value, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && value [i] == ' ')
            i++;
        size_t start = i;
        while (i < len && value [i] != ' ')
            i++;
        if (i - start == 4 && strncasecmp (value + start, "next", 4) == 0)
            return true;
    }
    return false;
}

int
ts_pages_link_next (const char *link, char **target)
{
    assert (target);
    *target = NULL;
    const char *p = link? link: "";
    while (*p) {
        p = s_skip_ws (p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '<')
            break;                          //  not a link-value: give up
        const char *uri = ++p;
        const char *close = strchr (p, '>');
        if (!close)
            break;
        size_t uri_len = (size_t) (close - uri);
        p = close + 1;
        bool next = false;
        //  Parameters: ; name [= token | quoted-string]
        while (*(p = s_skip_ws (p)) == ';') {
            p = s_skip_ws (p + 1);
            const char *name = p;
            while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
                p++;
            size_t name_len = (size_t) (p - name);
            p = s_skip_ws (p);
            const char *value = p;
            size_t value_len = 0;
            if (*p == '=') {
                p = s_skip_ws (p + 1);
                if (*p == '"') {
                    value = ++p;
                    while (*p && *p != '"')
                        p += (*p == '\\' && p [1])? 2: 1;
                    value_len = (size_t) (p - value);
                    if (*p == '"')
                        p++;
                }
                else {
                    value = p;
                    while (*p && *p != ';' && *p != ',' && *p != ' ')
                        p++;
                    value_len = (size_t) (p - value);
                }
            }
            if (name_len == 3 && strncasecmp (name, "rel", 3) == 0
            &&  s_rel_is_next (value, value_len))
                next = true;
        }
        if (next) {
            *target = strndup (uri, uri_len);
            return *target? 0: TS_ENOMEM;
        }
        //  On to the next link-value.
        while (*p && *p != ',')
            p++;
    }
    return TS_ENOTFOUND;
}

//  ---------------------------------------------------------------------
//  The spec

static int
s_blame (const ts_config_t *cfg, const char *key, const char *reason,
         char *err)
{
    char where [TS_ERRLEN];
    ts_config_where (cfg, key, where, sizeof where);
    ts_errf (err, "%s: %s", where, reason);
    return TS_ECONFIG;
}

int
ts_pages_spec_from_config (ts_pages_spec_t *spec, const ts_config_t *cfg,
                           char *err)
{
    assert (spec && cfg);
    static const char *const modes [] = { "none", "next_url", "link_header",
                                          "cursor", "page", "offset", NULL };
    memset (spec, 0, sizeof *spec);
    const char *mode = ts_config_str (cfg, "upstream.pagination.mode");
    size_t m = 0;
    while (modes [m] && strcmp (modes [m], mode) != 0)
        m++;
    if (!modes [m])
        return s_blame (cfg, "upstream.pagination.mode", "unknown mode", err);
    spec->mode = (ts_pages_mode_t) m;
#   define S_STR(field, key) \
        spec->field = ts_config_str (cfg, "upstream.pagination." key)
    S_STR (next_path, "next_path");
    S_STR (cursor_path, "cursor_path");
    S_STR (cursor_param, "cursor_param");
    S_STR (page_param, "page_param");
    S_STR (offset_param, "offset_param");
    S_STR (size_param, "size_param");
    S_STR (total_path, "total_path");
#   undef S_STR
    spec->page_start = ts_config_int (cfg, "upstream.pagination.page_start");
    spec->page_size = ts_config_int (cfg, "upstream.pagination.page_size");
    spec->stop_on_empty = ts_config_bool (cfg,
                                          "upstream.pagination.stop_on_empty");
    spec->max_pages = (size_t) ts_config_int (cfg,
                                              "upstream.pagination.max_pages");
    spec->keep_at_cap = strcmp (ts_config_str (cfg,
        "upstream.pagination.at_max_pages"), "keep") == 0;
    spec->allowed_hosts = ts_config_list (cfg,
                                          "upstream.pagination.allowed_hosts");
    //  The page's items: the rows, or the time column of the columns.
    const char *path = ts_config_str (cfg, "upstream.format.path");
    bool columns = strcmp (ts_config_str (cfg, "upstream.format.layout"),
                           "columns") == 0;
    int n = snprintf (spec->items_path, sizeof spec->items_path, "%s%s%s",
                      path, columns && *path? ".": "", columns
                      ? ts_config_str (cfg, "upstream.format.time_field"): "");
    if (n < 0 || (size_t) n >= sizeof spec->items_path)
        return s_blame (cfg, "upstream.format.path", "too long for "
                        "pagination's item count", err);
    //  The query parameter upstream.url sends the key in: NAME={api_key}.
    const char *url = ts_config_str (cfg, "upstream.url");
    const char *hit = strstr (url, "={api_key}");
    if (hit) {
        const char *name = hit;
        while (name > url && name [-1] != '?' && name [-1] != '&')
            name--;
        size_t len = (size_t) (hit - name);
        if (name > url && len > 0 && len < sizeof spec->key_param) {
            memcpy (spec->key_param, name, len);
            spec->key_param [len] = 0;
        }
    }
    //  A mode without what it reads: blamed on the mode, where it is set.
    const char *need = NULL;
    if (spec->mode == TS_PAGES_NEXT_URL && !*spec->next_path)
        need = "next_url needs upstream.pagination.next_path, the body "
               "path of the next URL";
    if (spec->mode == TS_PAGES_CURSOR && !*spec->cursor_path)
        need = "cursor needs upstream.pagination.cursor_path, the body "
               "path of the cursor";
    if (spec->mode == TS_PAGES_CURSOR && !*spec->cursor_param)
        need = "cursor needs upstream.pagination.cursor_param, the query "
               "parameter of the cursor";
    if (spec->mode == TS_PAGES_PAGE && !*spec->page_param)
        need = "page needs upstream.pagination.page_param, the query "
               "parameter of the page number";
    if (spec->mode == TS_PAGES_OFFSET && !*spec->offset_param)
        need = "offset needs upstream.pagination.offset_param, the query "
               "parameter of the offset";
    if (need)
        return s_blame (cfg, "upstream.pagination.mode", need, err);
    if (*spec->size_param && spec->page_size == 0)
        return s_blame (cfg, "upstream.pagination.size_param", "needs "
                        "upstream.pagination.page_size, the size to ask for",
                        err);
    for (size_t i = 0; i < spec->allowed_hosts->n; i++) {
        char origin [S_ORIGIN_MAX];
        const char *entry = spec->allowed_hosts->items [i];
        if (ts_pages_origin (entry, origin, sizeof origin) != 0
        ||  strchr (entry + strcspn (entry, ":") + 3, '/')) {
            char reason [TS_ERRLEN];
            ts_errf (reason, "entry %zu: must be http(s)://host[:port] "
                     "(an origin, no path)", i + 1);
            return s_blame (cfg, "upstream.pagination.allowed_hosts", reason,
                            err);
        }
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  One id's pages

//  Sets the parameter name of self->url to value.
static int
s_set_param (ts_pages_t *self, const char *name, int64_t value, char *err)
{
    char text [32];
    snprintf (text, sizeof text, "%" PRId64, value);
    char *next;
    int rc = ts_pages_query_set (self->url, name, text, &next, err);
    if (rc == 0) {
        s_wipe_free (&self->url);
        self->url = next;
    }
    return rc;
}

int
ts_pages_new (ts_pages_t **self_p, const ts_pages_spec_t *spec,
              const char *url, char *err)
{
    assert (self_p && spec && url);
    *self_p = NULL;
    ts_pages_t *self = calloc (1, sizeof *self);
    if (!self || !(self->url = strdup (url))) {
        free (self);
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    self->spec = spec;
    self->page = 1;
    int rc = ts_pages_origin (url, self->origin, sizeof self->origin);
    if (rc != 0)
        ts_errf (err, "upstream URL has no http(s) origin");
    if (rc == 0 && *spec->key_param
    &&  s_query_get (url, spec->key_param, &self->key_raw) == TS_ENOMEM) {
        ts_errf (err, "out of memory");
        rc = TS_ENOMEM;
    }
    if (rc == 0 && spec->mode == TS_PAGES_PAGE)
        rc = s_set_param (self, spec->page_param, spec->page_start, err);
    if (rc == 0 && spec->mode == TS_PAGES_OFFSET)
        rc = s_set_param (self, spec->offset_param, 0, err);
    if (rc == 0 && *spec->size_param && spec->page_size > 0)
        rc = s_set_param (self, spec->size_param, spec->page_size, err);
    if (rc != 0) {
        ts_pages_destroy (&self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void
ts_pages_destroy (ts_pages_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        s_wipe_free (&(*self_p)->url);
        s_wipe_free (&(*self_p)->key_raw);
        free (*self_p);
        *self_p = NULL;
    }
}

const char *
ts_pages_url (const ts_pages_t *self)
{
    assert (self);
    return self->url;
}

size_t
ts_pages_page (const ts_pages_t *self)
{
    assert (self);
    return self->page;
}

size_t
ts_pages_items (const ts_pages_t *self)
{
    assert (self);
    return self->items;
}

bool
ts_pages_truncated (const ts_pages_t *self)
{
    assert (self);
    return self->truncated;
}

//  Whether origin may receive the upstream's headers: the first request's
//  or one of allowed_hosts.
static bool
s_origin_allowed (const ts_pages_t *self, const char *origin)
{
    if (strcmp (origin, self->origin) == 0)
        return true;
    const ts_strlist_t *hosts = self->spec->allowed_hosts;
    for (size_t i = 0; hosts && i < hosts->n; i++) {
        char allowed [S_ORIGIN_MAX];
        if (ts_pages_origin (hosts->items [i], allowed, sizeof allowed) == 0
        &&  strcmp (allowed, origin) == 0)
            return true;
    }
    return false;
}

//  The URL the mode proposes after the page scanned (NULL in *next: none,
//  the id is complete). Returns 0 or a TS_E* code with err.
static int
s_propose (ts_pages_t *self, const ts_pages_scan_t *scan, const char *link,
           size_t items, char **next, char *err)
{
    const ts_pages_spec_t *spec = self->spec;
    *next = NULL;
    char *ref = NULL;
    int rc = 0;
    switch (spec->mode) {
        case TS_PAGES_NEXT_URL:
            if (scan->has_next)
                rc = ts_pages_resolve (self->url, scan->next, next, err);
            break;
        case TS_PAGES_LINK_HEADER:
            rc = ts_pages_link_next (link, &ref);
            if (rc == TS_ENOTFOUND)
                rc = 0;
            else
            if (rc == TS_ENOMEM)
                ts_errf (err, "out of memory");
            else
            if (*ref)
                rc = ts_pages_resolve (self->url, ref, next, err);
            free (ref);
            break;
        case TS_PAGES_CURSOR:
            if (scan->has_cursor)
                rc = ts_pages_query_set (self->url, spec->cursor_param,
                                         scan->cursor, next, err);
            break;
        case TS_PAGES_PAGE: {
            char text [32];
            snprintf (text, sizeof text, "%" PRId64,
                      spec->page_start + (int64_t) self->page);
            rc = ts_pages_query_set (self->url, spec->page_param, text, next,
                                     err);
            break;
        }
        case TS_PAGES_OFFSET: {
            char text [32];
            snprintf (text, sizeof text, "%zu", self->items + items);
            rc = ts_pages_query_set (self->url, spec->offset_param, text,
                                     next, err);
            break;
        }
        default:
            break;
    }
    //  A next link that leaves out the key upstream.url sends in the
    //  query gets it back (the origin is checked after this).
    bool linked = spec->mode == TS_PAGES_NEXT_URL
               || spec->mode == TS_PAGES_LINK_HEADER;
    char *raw = NULL;
    if (rc == 0 && *next && linked && self->key_raw
    &&  s_query_get (*next, spec->key_param, &raw) == TS_ENOTFOUND) {
        char *keyed = NULL;
        rc = s_query_set (*next, spec->key_param, self->key_raw, false,
                          &keyed, err);
        s_wipe_free (next);
        *next = keyed;
    }
    s_wipe_free (&raw);
    return rc;
}

int
ts_pages_next (ts_pages_t *self, const char *body, size_t len,
               const char *link, bool *more, char *err)
{
    assert (self && more);
    const ts_pages_spec_t *spec = self->spec;
    *more = false;
    ts_pages_scan_t scan;
    int rc = ts_pages_scan (spec, body? body: "", body? len: 0, &scan, err);
    if (rc != 0)
        return rc;
    size_t items = scan.items;
    bool counted = spec->mode == TS_PAGES_PAGE
                || spec->mode == TS_PAGES_OFFSET;
    bool done = (items == 0 && (spec->stop_on_empty || counted))
             || (counted && spec->page_size > 0
                 && (int64_t) items < spec->page_size)
             || (scan.has_total
                 && (int64_t) (self->items + items) >= scan.total);
    char *next = NULL;
    if (!done)
        rc = s_propose (self, &scan, link, items, &next, err);
    ts_pages_scan_clear (&scan);
    self->items += items;
    if (rc != 0 || !next)
        return rc;

    char origin [S_ORIGIN_MAX];
    if (ts_pages_origin (next, origin, sizeof origin) != 0) {
        ts_errf (err, "next link is not an http(s) URL");
        rc = TS_EINVAL;
    }
    else
    if (!s_origin_allowed (self, origin)) {
        ts_errf (err, "next link goes to %s, not to the upstream's %s: "
                 "refused, it would receive the upstream's headers (list "
                 "the origin in upstream.pagination.allowed_hosts to trust "
                 "it)", origin, self->origin);
        rc = TS_EINVAL;
    }
    else
    if (strcmp (next, self->url) == 0) {
        ts_errf (err, "next link repeats the page");
        rc = TS_EPROTO;
    }
    else
    if (self->page >= spec->max_pages && !spec->keep_at_cap) {
        ts_errf (err, "more pages remain after upstream.pagination."
                 "max_pages (%zu)", spec->max_pages);
        rc = TS_ETOOBIG;
    }
    else
    if (self->page >= spec->max_pages)
        self->truncated = true;
    else {
        s_wipe_free (&self->url);
        self->url = next;
        next = NULL;
        self->page++;
        *more = true;
    }
    s_wipe_free (&next);
    return rc;
}
