/*  ts_route_fixture - what the unit tests of the gateway's routes share
    (tests/unit/test_ts_route.c, test_ts_seed.c): a fixture per test
    (temporary LMDB store, request handler, the routes with three keys,
    the seed's path prefix /prod and a broker endpoint nobody serves),
    requests sent straight to ts_route_handle without sockets, answers
    parsed with jansson, and points stored for an id. Header-only, static
    inline, so that each test compiles it alone. */

#ifndef TS_ROUTE_FIXTURE_H_INCLUDED
#define TS_ROUTE_FIXTURE_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_log.h"
#include "../../gateway/ts_route.h"
#include "../../common/ts_client.h"
#include "ts_testutil.h"
#include "ts_fakebroker.h"

#define HOUR_MS 3600000LL
#define KEY     "demo"
#define ROUTE_BROKER "inproc://test-ts-route-nobody"

typedef struct {
    ts_testutil_t *base;        //  temporary directory, config, store
    ts_api_t      *api;         //  request handler
    ts_route_t    *route;       //  routes under test
    ts_reply_t    *body;        //  answer
    char           allow [64];  //  its Allow header, if any
    json_t        *doc;         //  last answer, parsed
} fixture_t;

static inline int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    *state = self;
    self->base = ts_testutil_new (16,
        "gateway:\n"
        "  broker_endpoint: " ROUTE_BROKER "\n"
        "  read_through: \"off\"\n"
        "  seed_path_prefix: /prod\n"
        "upstream:\n"
        "  format:\n"
        "    measures:\n"
        "      cpu: cpu_usage\n"
        "      value: value\n");
    if (!self->base)
        return -1;
    char err [TS_ERRLEN] = "";
    self->api = ts_api_new (self->base->cfg, self->base->store, err);
    if (self->api)
        self->route = ts_route_new (self->api, self->base->cfg,
                                    " demo , second\nthird\n", err);
    if (!self->route) {
        fprintf (stderr, "setup: %s\n", err);
        return -1;
    }
    //  Long enough for the fake broker's answer on a loaded machine;
    //  the tests of a broker that is away set a short one.
    ts_api_set_broker_timeout (self->api, 3000);
    self->body = ts_reply_new ();
    return self->body? 0: -1;
}

static inline int
s_teardown (void **state)
{
    fixture_t *self = *state;
    if (self->doc)
        json_decref (self->doc);
    ts_reply_destroy (&self->body);
    ts_route_destroy (&self->route);
    ts_api_destroy (&self->api);
    ts_testutil_destroy (&self->base);
    free (self);
    return 0;
}

//  ts_route_handle into self->body, with the Allow header's value (or
//  NULL) in *allow (if not NULL).
static inline int
s_handle (fixture_t *self, const ts_route_req_t *req, const char **allow)
{
    int status = ts_route_handle (self->route, req, self->body);
    size_t len = 0;
    const char *value = ts_reply_header_value (self->body, "Allow", &len);
    if (allow && value) {
        snprintf (self->allow, sizeof self->allow, "%.*s", (int) len, value);
        *allow = self->allow;
    }
    else
    if (allow)
        *allow = NULL;
    return status;
}

//  Sends one request with the right key; parses the answer into doc.
static inline int
s_call (fixture_t *self, const char *method, const char *target,
        const char *body)
{
    ts_route_req_t req = {
        .method = method, .target = target,
        .token = KEY, .token_len = strlen (KEY),
        .body = body, .body_size = body? strlen (body): 0
    };
    int status = s_handle (self, &req, NULL);
    if (self->doc)
        json_decref (self->doc);
    json_error_t jerr;
    self->doc = json_loads (ts_reply_text (self->body), 0, &jerr);
    if (!self->doc)
        fail_msg ("answer is not JSON: %s (%s)", ts_reply_text (self->body),
                  jerr.text);
    return status;
}

//  Sends GET target with token and Authorization header (NULL for none)
//  without parsing the answer; returns the status, the answer is in body.
static inline int
s_get_as (fixture_t *self, const char *target, const char *token,
          const char *authorization)
{
    ts_route_req_t req = {
        .method = "GET", .target = target,
        .token = token, .token_len = token? strlen (token): 0,
        .authorization = authorization,
        .authorization_len = authorization? strlen (authorization): 0
    };
    return s_handle (self, &req, NULL);
}

static inline const char *
s_str (fixture_t *self, const char *key)
{
    return json_string_value (json_object_get (self->doc, key));
}

//  Adds *history to the history of id and replaces its forecast with
//  *forecast; destroys both.
static inline void
s_put_points (fixture_t *self, const char *id, ts_points_t **history,
              ts_points_t **forecast)
{
    assert_int_equal (ts_store_history_put (self->base->store, id, *history,
                                            NULL), 0);
    assert_int_equal (ts_store_forecast_replace (self->base->store, id,
                                                 *forecast, ts_now_ms (),
                                                 NULL), 0);
    ts_points_destroy (history);
    ts_points_destroy (forecast);
}

//  Registers id through the route, then stores history at base - 2 h and
//  base - 1 h and a forecast at base - 1 h, base and base + 1 h.
static inline void
s_add_with_points (fixture_t *self, const char *id, int64_t base)
{
    char body [128];
    snprintf (body, sizeof body, "{\"ids\":[\"%s\"]}", id);
    assert_int_equal (s_call (self, "POST", "/v1/ids", body), 200);
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    ts_points_append (history, base - 2 * HOUR_MS, "value", 1.5);
    ts_points_append (history, base - HOUR_MS, "value", 0.1 + 0.2);
    ts_points_append (forecast, base - HOUR_MS, "value", 99);
    ts_points_append (forecast, base, "value", 2.25);
    ts_points_append (forecast, base + HOUR_MS, "value", -3);
    s_put_points (self, id, &history, &forecast);
}

#endif
