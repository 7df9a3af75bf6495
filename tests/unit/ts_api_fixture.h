/*  ts_api_fixture - what the unit tests of the gateway's request handler
    share (tests/unit/test_ts_api*.c): a fixture per test (temporary LMDB
    store, max_points 20, the handler with a broker endpoint on inproc
    that a test may serve), registering an id in the store, and a query.
    Header-only, static inline, so that each test compiles it alone. */

#ifndef TS_API_FIXTURE_H_INCLUDED
#define TS_API_FIXTURE_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_log.h"
#include "../../gateway/ts_api.h"
#include "ts_store_backend.h"
#include "ts_testutil.h"
#include "ts_fakebroker.h"

#define HOUR_MS     3600000LL
#define BROKER      "inproc://test-ts-api-broker"

typedef struct {
    ts_testutil_t *base;        //  temporary directory, config, store
    ts_api_t      *api;         //  handler under test
    ts_msg_t      *req;         //  request scratch
    ts_msg_t      *reply;       //  reply scratch
} fixture_t;

//  A fixture whose config is yaml (the gateway section and more).
static inline int
s_setup_yaml (void **state, const char *yaml)
{
    fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    *state = self;
    self->base = ts_testutil_new (16, yaml);
    if (!self->base)
        return -1;
    char err [TS_ERRLEN] = "";
    self->api = ts_api_new (self->base->cfg, self->base->store, err);
    if (!self->api) {
        fprintf (stderr, "setup: %s\n", err);
        return -1;
    }
    self->req = ts_msg_new (TS_OP_PING);
    self->reply = ts_msg_new (TS_OP_REPLY);
    return self->req && self->reply? 0: -1;
}

//  The answer cache keeps every answer at once (cache_admit: first):
//  these tests are about what it serves; test_ts_api tests admission.
static inline int
s_setup (void **state)
{
    return s_setup_yaml (state, "gateway:\n"
                                "  max_points: 20\n"
                                "  cache_admit: first\n"
                                "  read_through: \"off\"\n"
                                "  broker_endpoint: " BROKER "\n");
}

static inline int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_msg_destroy (&self->req);
    ts_msg_destroy (&self->reply);
    ts_api_destroy (&self->api);
    ts_testutil_destroy (&self->base);
    free (self);
    return 0;
}

static inline void
s_register (fixture_t *self, const char *id)
{
    const char *ids [] = { id };
    assert_int_equal (ts_store_ids_add (self->base->store, ids, 1, NULL,
                                        NULL), 0);
}

static inline void
s_query (fixture_t *self, const char *id, int64_t from, int64_t to)
{
    ts_msg_reset (self->req, TS_OP_QUERY);
    ts_strlcpy (self->req->id, id, sizeof self->req->id);
    self->req->has_from = self->req->has_to = true;
    self->req->from_ms = from;
    self->req->to_ms = to;
}

#endif
