/*  tscache-demo-pages - the demo upstream's pagination. See
    tscache-demo-pages.h. */

#include "tscache-demo-pages.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LIMIT_MAX     1000        //  largest page a request may ask for

const char *const demo_pages_styles [] = {
    "off", "page", "offset", "cursor", "next", "link", NULL
};

//  Reads a whole decimal integer in [min, max] from text (NULL: def).
//  Returns 0 or -1.
static int
s_arg (const char *text, int64_t min, int64_t max, int64_t def,
       int64_t *value)
{
    if (!text) {
        *value = def;
        return 0;
    }
    char *end = NULL;
    long long n = strtoll (text, &end, 10);
    if (!*text || *end || n < min || n > max)
        return -1;
    *value = n;
    return 0;
}

//  Writes text percent-encoded to f.
static void
s_encoded (FILE *f, const char *text)
{
    char buf [512];
    size_t used = 0;
    if (ts_percent_encode (buf, sizeof buf, &used, text? text: ""))
        fputs (buf, f);
}

//  Writes the URL of the page at after (path, from, to kept) to f:
//  absolute with origin, else relative.
static void
s_next_url (FILE *f, const demo_pages_args_t *args, const char *origin,
            size_t after)
{
    fprintf (f, "%s%s?", origin? origin: "", args->path);
    if (args->from) {
        fputs ("from=", f);
        s_encoded (f, args->from);
        fputc ('&', f);
    }
    if (args->to) {
        fputs ("to=", f);
        s_encoded (f, args->to);
        fputc ('&', f);
    }
    fprintf (f, "after=%zu", after);
}

int
demo_pages_cut (const demo_pages_t *pages, size_t n,
                const demo_pages_args_t *args, demo_page_t *page,
                const char **error)
{
    memset (page, 0, sizeof *page);
    int64_t size = pages->size > 0? pages->size: 100;
    int64_t start = 0, number = 0;
    switch (pages->style) {
        case DEMO_PAGES_PAGE:
            if (s_arg (args->page, 1, INT32_MAX, 1, &number)
            ||  s_arg (args->per_page, 1, S_LIMIT_MAX, size, &size)) {
                *error = "page must be >= 1, per_page 1 to 1000";
                return -1;
            }
            start = (number - 1) * size;
            break;
        case DEMO_PAGES_OFFSET:
            if (s_arg (args->offset, 0, INT32_MAX, 0, &start)
            ||  s_arg (args->limit, 1, S_LIMIT_MAX, size, &size)) {
                *error = "offset must be >= 0, limit 1 to 1000";
                return -1;
            }
            break;
        case DEMO_PAGES_CURSOR: {
            int consumed = 0;
            long long at = 0;
            if (args->cursor && (sscanf (args->cursor, "c/%lld+&=%n", &at,
                                         &consumed) != 1
                                 || args->cursor [consumed] || at < 0)) {
                *error = "bad cursor";
                return -1;
            }
            start = args->cursor? at: 0;
            break;
        }
        case DEMO_PAGES_NEXT:
        case DEMO_PAGES_LINK:
            if (s_arg (args->after, 0, INT32_MAX, 0, &start)) {
                *error = "after must be >= 0";
                return -1;
            }
            break;
        default:
            page->count = n;
            page->members = strdup ("");
            return page->members? 0: -2;
    }
    if (start > (int64_t) n)
        start = (int64_t) n;
    page->start = (size_t) start;
    page->count = (size_t) (start + size > (int64_t) n? (int64_t) n - start
                                                      : size);
    size_t after = page->start + page->count;
    bool more = after < n;
    int64_t index = start / size + 1;
    page->fail = pages->fail_page > 0 && index == pages->fail_page;

    size_t len = 0;
    FILE *f = open_memstream (&page->members, &len);
    if (!f)
        return -2;
    const char *origin = *pages->host? pages->host: NULL;
    char own [192];
    if (!origin) {
        snprintf (own, sizeof own, "http://%s", args->host? args->host: "");
        origin = own;
    }
    switch (pages->style) {
        case DEMO_PAGES_PAGE:
            fprintf (f, "\"meta\":{\"total\":%zu,\"page\":%" PRId64 "}", n,
                     number);
            break;
        case DEMO_PAGES_OFFSET:
            fprintf (f, "\"meta\":{\"total\":%zu}", n);
            break;
        case DEMO_PAGES_CURSOR:
            if (more)
                fprintf (f, "\"next_cursor\":\"c/%zu+&=\"", after);
            else
                fputs ("\"next_cursor\":null", f);
            break;
        case DEMO_PAGES_NEXT:
            fputs ("\"links\":{\"next\":", f);
            if (more) {
                fputc ('"', f);
                s_next_url (f, args, *pages->host? pages->host: NULL, after);
                fputc ('"', f);
            }
            else
                fputs ("null", f);
            fputc ('}', f);
            break;
        default:
            break;
    }
    if (fclose (f) != 0)
        return -2;
    if (pages->style == DEMO_PAGES_LINK && more) {
        len = 0;
        f = open_memstream (&page->link, &len);
        if (!f)
            return -2;
        fputc ('<', f);
        s_next_url (f, args, origin, 0);
        fputs (">; rel=\"first\", <", f);
        s_next_url (f, args, origin, after);
        fputs (">; rel=\"next\"", f);
        if (fclose (f) != 0)
            return -2;
    }
    return 0;
}

const char *
demo_pages_control (json_t *item, demo_pages_t *pages)
{
    if (!json_is_object (item))
        return "pages must be an object";
    json_t *style = json_object_get (item, "style");
    if (style) {
        size_t m = 0;
        while (json_is_string (style) && demo_pages_styles [m]
           &&  strcmp (json_string_value (style), demo_pages_styles [m]))
            m++;
        if (!json_is_string (style) || !demo_pages_styles [m])
            return "pages.style must be off, page, offset, cursor, next or "
                   "link";
        pages->style = (demo_pages_style_t) m;
    }
    json_t *size = json_object_get (item, "size");
    if (size) {
        if (!json_is_integer (size) || json_integer_value (size) < 1
        ||  json_integer_value (size) > 1000)
            return "pages.size must be an integer from 1 to 1000";
        pages->size = json_integer_value (size);
    }
    json_t *fail = json_object_get (item, "fail_page");
    if (fail) {
        if (!json_is_integer (fail) || json_integer_value (fail) < 0)
            return "pages.fail_page must be an integer >= 0 (0: none)";
        pages->fail_page = json_integer_value (fail);
    }
    json_t *host = json_object_get (item, "host");
    if (host) {
        if (json_is_null (host))
            pages->host [0] = 0;
        else
        if (!json_is_string (host)
        ||  strlen (json_string_value (host)) >= sizeof pages->host)
            return "pages.host must be an origin (http://host:port) or null";
        else
            ts_strlcpy (pages->host, json_string_value (host),
                        sizeof pages->host);
    }
    return NULL;
}

char *
demo_pages_wrap (const demo_page_t *page, bool columns, const char *doc,
                 size_t *len)
{
    if (!*page->members)
        return strdup (doc);
    size_t size = *len + strlen (page->members) + 16;
    char *body = malloc (size);
    if (!body)
        return NULL;
    if (columns)
        *len = (size_t) snprintf (body, size, "{%s,%s", page->members,
                                  doc + 1);
    else
        *len = (size_t) snprintf (body, size, "{\"data\":%s,%s}", doc,
                                  page->members);
    return body;
}
