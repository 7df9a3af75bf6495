/*  test_ts_pages - pagination: every mode's next request, relative links,
    the origin check, the stop conditions and the page cap; the Link
    header parser and the spec read from config. No network: ts_pages is
    pure. Run one test: build/tests/test_ts_pages NAME. */

#include "../../workers/ts_pages.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define BASE "http://api.example.com/rows/x?from=1&to=2"

//  A spec of mode with items in "data" and no other setting.
static ts_pages_spec_t
s_spec (ts_pages_mode_t mode)
{
    ts_pages_spec_t spec = {
        .mode = mode, .next_path = "links.next", .cursor_path = "next_cursor",
        .cursor_param = "cursor", .page_param = "page", .page_start = 1,
        .offset_param = "offset", .size_param = "", .page_size = 0,
        .total_path = "", .stop_on_empty = true, .max_pages = 100 };
    strcpy (spec.items_path, "data");
    return spec;
}

//  Starts pages at url, asserting success.
static ts_pages_t *
s_start (const ts_pages_spec_t *spec, const char *url)
{
    ts_pages_t *pages = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_pages_new (&pages, spec, url, err), 0);
    return pages;
}

//  Feeds one page; returns ts_pages_next's code, *more and err.
static int
s_feed (ts_pages_t *pages, const char *body, const char *link, bool *more,
        char *err)
{
    return ts_pages_next (pages, body, strlen (body), link, more, err);
}

static void
next_url_follows_a_relative_link_from_the_body (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_NEXT_URL);
    ts_pages_t *pages = s_start (&spec, BASE);
    assert_string_equal (ts_pages_url (pages), BASE);
    assert_int_equal (ts_pages_page (pages), 1);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1, 2, 3], \"links\": "
                      "{\"next\": \"/rows/x?page_token=abc\"}}", NULL, &more,
                      err), 0);
    assert_true (more);
    assert_string_equal (ts_pages_url (pages),
                         "http://api.example.com/rows/x?page_token=abc");
    assert_int_equal (ts_pages_page (pages), 2);
    assert_int_equal (ts_pages_items (pages), 3);
    //  A link relative to the page's path, then the last page.
    assert_int_equal (s_feed (pages, "{\"data\": [4], \"links\": {\"next\": "
                      "\"y?page_token=def\"}}", NULL, &more, err), 0);
    assert_true (more);
    assert_string_equal (ts_pages_url (pages),
                         "http://api.example.com/rows/y?page_token=def");
    assert_int_equal (s_feed (pages, "{\"data\": [5], \"links\": {\"next\": "
                      "null}}", NULL, &more, err), 0);
    assert_false (more);
    assert_int_equal (ts_pages_items (pages), 5);
    ts_pages_destroy (&pages);
    assert_null (pages);
}

static void
next_url_missing_or_empty_ends_the_id (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_NEXT_URL);
    const char *bodies [] = { "{\"data\": [1]}",
                              "{\"data\": [1], \"links\": {\"next\": \"\"}}",
                              "{\"data\": [1], \"links\": {}}" };
    for (size_t i = 0; i < 3; i++) {
        ts_pages_t *pages = s_start (&spec, BASE);
        bool more = true;
        char err [TS_ERRLEN] = "";
        assert_int_equal (s_feed (pages, bodies [i], NULL, &more, err), 0);
        assert_false (more);
        ts_pages_destroy (&pages);
    }
}

static void
next_url_of_the_wrong_type_is_a_document_error (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_NEXT_URL);
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = true;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"links\": {\"next\": "
                      "42}}", NULL, &more, err), TS_EPROTO);
    assert_string_equal (err, "links.next: expected a string or null, got "
                         "number");
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"links\": {\"next\": "
                      "{}}}", NULL, &more, err), TS_EPROTO);
    assert_false (more);
    ts_pages_destroy (&pages);
}

static void
link_header_follows_rel_next (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_LINK_HEADER);
    strcpy (spec.items_path, "");
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "[1, 2]",
                      "<http://api.example.com/rows/x?page=1>; rel=\"prev\", "
                      "<http://api.example.com/rows/x?page=3>; rel=\"next\"",
                      &more, err), 0);
    assert_true (more);
    assert_string_equal (ts_pages_url (pages),
                         "http://api.example.com/rows/x?page=3");
    assert_int_equal (ts_pages_items (pages), 2);
    //  Relative, then none: the end.
    assert_int_equal (s_feed (pages, "[3]", "</rows/x?page=4>; rel=next",
                      &more, err), 0);
    assert_string_equal (ts_pages_url (pages),
                         "http://api.example.com/rows/x?page=4");
    assert_int_equal (s_feed (pages, "[4]", "</rows/x?page=1>; rel=\"first\"",
                      &more, err), 0);
    assert_false (more);
    assert_int_equal (s_feed (pages, "[4]", NULL, &more, err), 0);
    assert_false (more);
    ts_pages_destroy (&pages);
}

static void
link_parser_reads_rel_lists_and_quoted_parameters (void **state)
{
    char *target = NULL;
    assert_int_equal (ts_pages_link_next ("<https://a/b?c=1>; "
                      "title=\"x, <y>; rel=next\"; rel=\"last NEXT\"",
                      &target), 0);
    assert_string_equal (target, "https://a/b?c=1");
    free (target);
    assert_int_equal (ts_pages_link_next ("<https://a/1>; rel=\"nextish\", "
                      "<https://a/2>;rel=next", &target), 0);
    assert_string_equal (target, "https://a/2");
    free (target);
    assert_int_equal (ts_pages_link_next ("<https://a/1>; rel=prev",
                                          &target), TS_ENOTFOUND);
    assert_int_equal (ts_pages_link_next ("garbage", &target), TS_ENOTFOUND);
    assert_int_equal (ts_pages_link_next ("", &target), TS_ENOTFOUND);
    assert_int_equal (ts_pages_link_next (NULL, &target), TS_ENOTFOUND);
    assert_null (target);
}

static void
cursor_is_sent_percent_encoded_replacing_the_last_one (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_CURSOR);
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"next_cursor\": "
                      "\"c/2+&= x\"}", NULL, &more, err), 0);
    assert_true (more);
    assert_string_equal (ts_pages_url (pages), "http://api.example.com/"
                         "rows/x?from=1&to=2&cursor=c%2f2%2b%26%3d%20x");
    //  A numeric cursor; the old one is replaced, not repeated.
    assert_int_equal (s_feed (pages, "{\"data\": [2], \"next_cursor\": 77}",
                      NULL, &more, err), 0);
    assert_string_equal (ts_pages_url (pages),
                         "http://api.example.com/rows/x?from=1&to=2&cursor=77");
    assert_int_equal (s_feed (pages, "{\"data\": [3], \"next_cursor\": \"\"}",
                      NULL, &more, err), 0);
    assert_false (more);
    ts_pages_destroy (&pages);
    //  Missing or null: the end too.
    pages = s_start (&spec, BASE);
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"next_cursor\": null}",
                      NULL, &more, err), 0);
    assert_false (more);
    ts_pages_destroy (&pages);
}

static void
page_mode_counts_from_page_start_and_stops_on_a_short_page (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_PAGE);
    spec.page_start = 0;
    spec.page_size = 2;
    spec.size_param = "per_page";
    ts_pages_t *pages = s_start (&spec, BASE "&page=7");
    assert_string_equal (ts_pages_url (pages), "http://api.example.com/rows/"
                         "x?from=1&to=2&page=0&per_page=2");
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1, 2]}", NULL, &more, err),
                      0);
    assert_true (more);
    assert_string_equal (ts_pages_url (pages), "http://api.example.com/rows/"
                         "x?from=1&to=2&per_page=2&page=1");
    assert_int_equal (s_feed (pages, "{\"data\": [3]}", NULL, &more, err), 0);
    assert_false (more);
    assert_int_equal (ts_pages_items (pages), 3);
    ts_pages_destroy (&pages);
}

static void
page_mode_without_a_page_size_stops_on_an_empty_page (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_PAGE);
    spec.stop_on_empty = false;         //  counted modes stop anyway
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1]}", NULL, &more, err), 0);
    assert_true (more);
    assert_int_equal (s_feed (pages, "{\"data\": []}", NULL, &more, err), 0);
    assert_false (more);
    ts_pages_destroy (&pages);
}

static void
offset_mode_counts_items_received (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_OFFSET);
    spec.size_param = "limit";
    spec.page_size = 3;
    ts_pages_t *pages = s_start (&spec, BASE);
    assert_string_equal (ts_pages_url (pages), "http://api.example.com/rows/"
                         "x?from=1&to=2&offset=0&limit=3");
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1, 2, 3]}", NULL, &more,
                      err), 0);
    assert_string_equal (ts_pages_url (pages), "http://api.example.com/rows/"
                         "x?from=1&to=2&limit=3&offset=3");
    assert_int_equal (s_feed (pages, "{\"data\": [4, 5, 6]}", NULL, &more,
                      err), 0);
    assert_string_equal (ts_pages_url (pages), "http://api.example.com/rows/"
                         "x?from=1&to=2&limit=3&offset=6");
    assert_int_equal (s_feed (pages, "{\"data\": [7, 8]}", NULL, &more, err),
                      0);
    assert_false (more);
    assert_int_equal (ts_pages_items (pages), 8);
    ts_pages_destroy (&pages);
}

static void
total_path_ends_the_id_when_every_item_arrived (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_OFFSET);
    spec.total_path = "meta.total";
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"meta\": {\"total\": 4}, \"data\": "
                      "[1, 2]}", NULL, &more, err), 0);
    assert_true (more);
    assert_int_equal (s_feed (pages, "{\"meta\": {\"total\": 4}, \"data\": "
                      "[3, 4]}", NULL, &more, err), 0);
    assert_false (more);
    assert_int_equal (s_feed (pages, "{\"meta\": {\"total\": \"4x\"}, "
                      "\"data\": []}", NULL, &more, err), TS_EPROTO);
    assert_string_equal (err, "meta.total: expected an integer >= 0 (or its "
                         "digits) or null, got string");
    ts_pages_destroy (&pages);
    //  A count written as a string of digits.
    pages = s_start (&spec, BASE);
    assert_int_equal (s_feed (pages, "{\"meta\": {\"total\": \"2\"}, "
                      "\"data\": [1, 2]}", NULL, &more, err), 0);
    assert_false (more);
    ts_pages_destroy (&pages);
}

static void
empty_page_ends_a_link_mode_only_with_stop_on_empty (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_NEXT_URL);
    const char *body = "{\"data\": [], \"links\": {\"next\": \"/p2\"}}";
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = true;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, body, NULL, &more, err), 0);
    assert_false (more);
    ts_pages_destroy (&pages);
    spec.stop_on_empty = false;
    pages = s_start (&spec, BASE);
    assert_int_equal (s_feed (pages, body, NULL, &more, err), 0);
    assert_true (more);
    ts_pages_destroy (&pages);
}

static void
columns_items_are_the_time_column (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_PAGE);
    strcpy (spec.items_path, "hourly.time");
    spec.page_size = 3;
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"hourly\": {\"value\": [1, 2, 3, 4], "
                      "\"time\": [\"a\", \"b\", {\"c\": [1, 2]}], \"x\": "
                      "[[1], [2]]}}", NULL, &more, err), 0);
    assert_int_equal (ts_pages_items (pages), 3);
    assert_true (more);
    ts_pages_destroy (&pages);
}

static void
next_link_to_another_origin_is_refused (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_NEXT_URL);
    const char *others [] = { "https://api.example.com/rows/x?p=2",
                              "http://evil.example.com/rows/x?p=2",
                              "http://api.example.com:8080/rows/x?p=2",
                              "//evil.example.com/steal" };
    const char *origins [] = { "https://api.example.com:443",
                               "http://evil.example.com:80",
                               "http://api.example.com:8080",
                               "http://evil.example.com:80" };
    for (size_t i = 0; i < 4; i++) {
        ts_pages_t *pages = s_start (&spec, BASE);
        char body [256];
        snprintf (body, sizeof body, "{\"data\": [1], \"links\": {\"next\": "
                  "\"%s\"}}", others [i]);
        bool more = true;
        char err [TS_ERRLEN] = "";
        assert_int_equal (s_feed (pages, body, NULL, &more, err), TS_EINVAL);
        assert_false (more);
        char want [TS_ERRLEN];
        snprintf (want, sizeof want, "next link goes to %s, not to the "
                  "upstream's http://api.example.com:80: refused", origins [i]);
        assert_non_null (strstr (err, want));
        assert_string_equal (ts_pages_url (pages), BASE);
        ts_pages_destroy (&pages);
    }
    //  Same host in other case and with its default port: the same origin.
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"links\": {\"next\": "
                      "\"HTTP://API.example.com:80/rows/x?p=2\"}}", NULL, &more,
                      err), 0);
    assert_true (more);
    ts_pages_destroy (&pages);
}

static void
next_link_to_an_allowed_origin_is_followed (void **state)
{
    ts_strlist_t *hosts = ts_strlist_new ();
    assert_int_equal (ts_strlist_append (hosts, "https://cdn.example.com"), 0);
    ts_pages_spec_t spec = s_spec (TS_PAGES_LINK_HEADER);
    spec.allowed_hosts = hosts;
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1]}",
                      "<https://cdn.example.com/p/2>; rel=next", &more, err),
                      0);
    assert_true (more);
    assert_string_equal (ts_pages_url (pages), "https://cdn.example.com/p/2");
    ts_pages_destroy (&pages);
    ts_strlist_destroy (&hosts);
}

static void
next_link_without_the_query_key_gets_the_first_requests_back (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_NEXT_URL);
    strcpy (spec.key_param, "apikey");
    ts_pages_t *pages = s_start (&spec, BASE "&apikey=s%2fecret");
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"links\": {\"next\": "
                      "\"/rows/x?page=2\"}}", NULL, &more, err), 0);
    assert_true (more);
    assert_string_equal (ts_pages_url (pages), "http://api.example.com/rows/"
                         "x?page=2&apikey=s%2fecret");
    //  A link that carries a key of its own keeps it.
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"links\": {\"next\": "
                      "\"/rows/x?page=3&apikey=other\"}}", NULL, &more, err),
                      0);
    assert_string_equal (ts_pages_url (pages), "http://api.example.com/rows/"
                         "x?page=3&apikey=other");
    //  Another origin is refused, key or not.
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"links\": {\"next\": "
                      "\"http://evil.example.com/p\"}}", NULL, &more, err),
                      TS_EINVAL);
    ts_pages_destroy (&pages);
}

static void
next_link_that_repeats_the_page_is_refused (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_NEXT_URL);
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = true;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"links\": {\"next\": "
                      "\"" BASE "\"}}", NULL, &more, err), TS_EPROTO);
    assert_string_equal (err, "next link repeats the page");
    ts_pages_destroy (&pages);
}

static void
unparsable_next_link_is_refused (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_NEXT_URL);
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = true;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"links\": {\"next\": "
                      "\"ftp://api.example.com/x\"}}", NULL, &more, err),
                      TS_EINVAL);
    assert_string_equal (err, "next link is not an http(s) URL");
    ts_pages_destroy (&pages);
}

static void
max_pages_fails_when_more_pages_remain (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_PAGE);
    spec.max_pages = 2;
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = false;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1]}", NULL, &more, err), 0);
    assert_true (more);
    assert_int_equal (s_feed (pages, "{\"data\": [2]}", NULL, &more, err),
                      TS_ETOOBIG);
    assert_false (more);
    assert_string_equal (err, "more pages remain after "
                         "upstream.pagination.max_pages (2)");
    ts_pages_destroy (&pages);
    //  The last page at the cap is no failure.
    pages = s_start (&spec, BASE);
    assert_int_equal (s_feed (pages, "{\"data\": [1]}", NULL, &more, err), 0);
    assert_int_equal (s_feed (pages, "{\"data\": []}", NULL, &more, err), 0);
    assert_false (more);
    assert_false (ts_pages_truncated (pages));
    ts_pages_destroy (&pages);
}

static void
max_pages_with_keep_completes_the_id_truncated (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_CURSOR);
    spec.max_pages = 1;
    spec.keep_at_cap = true;
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = true;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1], \"next_cursor\": \"a\"}",
                      NULL, &more, err), 0);
    assert_false (more);
    assert_true (ts_pages_truncated (pages));
    ts_pages_destroy (&pages);
}

static void
a_body_that_is_not_json_is_a_document_error (void **state)
{
    ts_pages_spec_t spec = s_spec (TS_PAGES_CURSOR);
    ts_pages_t *pages = s_start (&spec, BASE);
    bool more = true;
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_feed (pages, "{\"data\": [1", NULL, &more, err),
                      TS_EPROTO);
    assert_string_equal (err, "not a JSON document");
    ts_pages_destroy (&pages);
}

static void
query_set_replaces_every_earlier_value_and_keeps_the_rest (void **state)
{
    char *url = NULL;
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_pages_query_set ("http://h/p?a=1&page=2&pages=3"
                      "&page&b=", "page", "9", &url, err), 0);
    assert_string_equal (url, "http://h/p?a=1&pages=3&b=&page=9");
    free (url);
    assert_int_equal (ts_pages_query_set ("http://h/p", "page[number]", "1",
                      &url, err), 0);
    assert_string_equal (url, "http://h/p?page[number]=1");
    free (url);
    assert_int_equal (ts_pages_query_set ("http://h/p?$top=50&$skip=0",
                      "$skip", "50", &url, err), 0);
    assert_string_equal (url, "http://h/p?$top=50&$skip=50");
    free (url);
}

static void
spec_from_config_reads_keys_and_checks_rules_between_them (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (
        "upstream:\n"
        "  format:\n"
        "    layout: columns\n"
        "    path: hourly\n"
        "  pagination:\n"
        "    mode: offset\n"
        "    size_param: limit\n"
        "    page_size: 500\n"
        "    max_pages: 7\n"
        "    at_max_pages: keep\n"
        "    allowed_hosts: [\"https://cdn.example.com:8443\"]\n",
        "t.yaml", err);
    assert_non_null (cfg);
    ts_pages_spec_t spec;
    assert_int_equal (ts_pages_spec_from_config (&spec, cfg, err), 0);
    assert_int_equal (spec.mode, TS_PAGES_OFFSET);
    assert_string_equal (spec.items_path, "hourly.time");
    assert_string_equal (spec.offset_param, "offset");
    assert_int_equal (spec.page_size, 500);
    assert_int_equal (spec.max_pages, 7);
    assert_true (spec.keep_at_cap);
    assert_string_equal (spec.key_param, "");
    assert_true (spec.stop_on_empty);
    ts_config_destroy (&cfg);

    cfg = ts_config_load_text ("upstream:\n  pagination:\n    mode: cursor\n",
                               "t.yaml", err);
    assert_non_null (cfg);
    assert_int_equal (ts_pages_spec_from_config (&spec, cfg, err), TS_ECONFIG);
    assert_string_equal (err, "t.yaml:3: upstream.pagination.mode: cursor "
                         "needs upstream.pagination.cursor_path, the body "
                         "path of the cursor");
    ts_config_destroy (&cfg);

    cfg = ts_config_load_text ("upstream:\n  pagination:\n    mode: page\n"
                               "    allowed_hosts: [\"https://a/b\"]\n",
                               "t.yaml", err);
    assert_non_null (cfg);
    assert_int_equal (ts_pages_spec_from_config (&spec, cfg, err), TS_ECONFIG);
    assert_string_equal (err, "t.yaml:4: upstream.pagination.allowed_hosts: "
                         "entry 1: must be http(s)://host[:port] (an origin, "
                         "no path)");
    ts_config_destroy (&cfg);
}

static void
spec_from_a_source_reads_that_sources_pagination (void **state)
{
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (
        "upstream:\n"
        "  url: \"http://h/rows/{id}?appid={api_key}&from={from}\"\n"
        "  api_key_env: NOT_SET_HERE\n"
        "  pagination:\n"
        "    max_pages: 9\n"
        "sources:\n"
        "  - name: plain\n"
        "  - name: paged\n"
        "    pagination:\n"
        "      mode: next_url\n"
        "      next_path: next\n"
        "  - name: broken\n"
        "    pagination:\n"
        "      mode: page\n"
        "      page_param: \"\"\n",
        "t.yaml", err);
    assert_non_null (cfg);
    ts_pages_spec_t spec;
    assert_int_equal (ts_pages_spec_from_config (&spec,
                      ts_config_source_at (cfg, 0), err), 0);
    assert_int_equal (spec.mode, TS_PAGES_NONE);
    assert_int_equal (ts_pages_spec_from_config (&spec,
                      ts_config_source_at (cfg, 1), err), 0);
    assert_int_equal (spec.mode, TS_PAGES_NEXT_URL);
    assert_string_equal (spec.next_path, "next");
    assert_string_equal (spec.key_param, "appid");
    assert_int_equal (spec.max_pages, 9);       //  shared by upstream:
    assert_int_equal (ts_pages_spec_from_config (&spec,
                      ts_config_source_at (cfg, 2), err), TS_ECONFIG);
    assert_string_equal (err, "t.yaml:14: sources[broken].pagination.mode: "
                         "page needs upstream.pagination.page_param, the "
                         "query parameter of the page number");
    ts_config_destroy (&cfg);
}

static void
config_refuses_a_bad_mode_path_or_parameter_with_file_and_line (void **state)
{
    char err [TS_ERRLEN] = "";
    assert_null (ts_config_load_text ("upstream:\n  pagination:\n"
                                      "    mode: pages\n", "t.yaml", err));
    assert_non_null (strstr (err, "t.yaml:3: upstream.pagination.mode: must "
                             "be one of: none, next_url"));
    assert_null (ts_config_load_text ("upstream:\n  pagination:\n"
                                      "    next_path: links..next\n",
                                      "t.yaml", err));
    assert_non_null (strstr (err, "t.yaml:3: upstream.pagination.next_path: "
                             "must be a dotted path"));
    assert_null (ts_config_load_text ("upstream:\n  pagination:\n"
                                      "    cursor_param: \"a&b\"\n",
                                      "t.yaml", err));
    assert_non_null (strstr (err, "t.yaml:3: upstream.pagination.cursor_param:"
                             " must be a query parameter name"));
    assert_null (ts_config_load_text ("upstream:\n  pagination:\n"
                                      "    max_pages: 0\n", "t.yaml", err));
    assert_non_null (strstr (err, "upstream.pagination.max_pages: must be an "
                             "integer from 1 to 100000"));
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (next_url_follows_a_relative_link_from_the_body),
        cmocka_unit_test (next_url_missing_or_empty_ends_the_id),
        cmocka_unit_test (next_url_of_the_wrong_type_is_a_document_error),
        cmocka_unit_test (link_header_follows_rel_next),
        cmocka_unit_test (link_parser_reads_rel_lists_and_quoted_parameters),
        cmocka_unit_test (cursor_is_sent_percent_encoded_replacing_the_last_one),
        cmocka_unit_test (page_mode_counts_from_page_start_and_stops_on_a_short_page),
        cmocka_unit_test (page_mode_without_a_page_size_stops_on_an_empty_page),
        cmocka_unit_test (offset_mode_counts_items_received),
        cmocka_unit_test (total_path_ends_the_id_when_every_item_arrived),
        cmocka_unit_test (empty_page_ends_a_link_mode_only_with_stop_on_empty),
        cmocka_unit_test (columns_items_are_the_time_column),
        cmocka_unit_test (next_link_to_another_origin_is_refused),
        cmocka_unit_test (next_link_to_an_allowed_origin_is_followed),
        cmocka_unit_test (next_link_without_the_query_key_gets_the_first_requests_back),
        cmocka_unit_test (next_link_that_repeats_the_page_is_refused),
        cmocka_unit_test (unparsable_next_link_is_refused),
        cmocka_unit_test (max_pages_fails_when_more_pages_remain),
        cmocka_unit_test (max_pages_with_keep_completes_the_id_truncated),
        cmocka_unit_test (a_body_that_is_not_json_is_a_document_error),
        cmocka_unit_test (query_set_replaces_every_earlier_value_and_keeps_the_rest),
        cmocka_unit_test (spec_from_config_reads_keys_and_checks_rules_between_them),
        cmocka_unit_test (spec_from_a_source_reads_that_sources_pagination),
        cmocka_unit_test (config_refuses_a_bad_mode_path_or_parameter_with_file_and_line),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_pages", tests, NULL, NULL);
}
