/*  test_ts_store_dynamodb_calls - the DynamoDB backend's requests against
    a loopback server that plays DynamoDB (tests/unit/ts_aws_fixture):
    what dynalite cannot be made to do. BatchWriteItem's UnprocessedItems
    sent again until none are left, and a bounded number of times; Query
    pages followed through LastEvaluatedKey; the requests' expressions.
    The backend's behaviour against a whole DynamoDB is the store contract
    suites' (configuration dynamodb, on dynalite). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "ts_aws_store_fixture.h"

#define TABLE   "fc"

typedef struct {
    int     unprocessed;    //  BatchWriteItem answers still to hand one
                            //  request back unprocessed (-1: every one)
    int     batches;        //  BatchWriteItem calls
    int     stored;         //  put requests taken (not handed back)
    int     queries;        //  Query calls
    bool    paged;          //  the second Query page was asked for
    char    query [4096];   //  body of the last Query
} s_dynamo_t;

static void
s_handler (const ts_fix_request_t *req, ts_fix_answer_t *ans, void *arg)
{
    s_dynamo_t *dyn = arg;
    char target [128] = "";
    ts_fix_header (req, "X-Amz-Target", target, sizeof target);
    json_t *body = json_loadb (req->body, req->body_size, 0, NULL);
    snprintf (ans->body, sizeof ans->body, "{}");
    if (strcmp (target, "DynamoDB_20120810.BatchWriteItem") == 0) {
        dyn->batches++;
        json_t *reqs = json_object_get (json_object_get (body,
                                        "RequestItems"), TABLE);
        int n = (int) json_array_size (reqs);
        if (dyn->unprocessed != 0 && n > 0) {
            if (dyn->unprocessed > 0)
                dyn->unprocessed--;
            json_t *left = json_pack ("{s{s[O]}}", "UnprocessedItems",
                                      TABLE, json_array_get (reqs, 0));
            char *text = json_dumps (left, JSON_COMPACT);
            snprintf (ans->body, sizeof ans->body, "%s", text);
            free (text);
            json_decref (left);
            n--;
        }
        dyn->stored += n;
    }
    else
    if (strcmp (target, "DynamoDB_20120810.GetItem") == 0)
        snprintf (ans->body, sizeof ans->body, "{\"Item\":{"
                  "\"identifier\":{\"S\":\"a\"},\"time\":{\"N\":\"-1E+100\"},"
                  "\"head_gen\":{\"N\":\"1\"}}}");
    else
    if (strcmp (target, "DynamoDB_20120810.Query") == 0) {
        dyn->queries++;
        snprintf (dyn->query, sizeof dyn->query, "%.*s",
                  (int) req->body_size, req->body);
        if (!json_object_get (body, "ExclusiveStartKey"))
            snprintf (ans->body, sizeof ans->body, "{\"Items\":[{"
                "\"identifier\":{\"S\":\"a\"},\"time\":{\"N\":\"1.0001\"},"
                "\"gen\":{\"N\":\"1\"},\"value\":{\"N\":\"1\"}}],"
                "\"LastEvaluatedKey\":{\"identifier\":{\"S\":\"a\"},"
                "\"time\":{\"N\":\"1.0001\"}}}");
        else {
            dyn->paged = true;
            snprintf (ans->body, sizeof ans->body, "{\"Items\":[{"
                "\"identifier\":{\"S\":\"a\"},\"time\":{\"N\":\"2.0001\"},"
                "\"gen\":{\"N\":\"1\"},\"value\":{\"N\":\"2\"}}]}");
        }
    }
    json_decref (body);
}

typedef struct {
    s_dynamo_t     dyn;     //  what the server saw, what it answers
    ts_fix_store_t fx;      //  the server and the store
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    ts_fix_store_open (&self->fx, s_handler, &self->dyn,
                       "store:\n"
                       "  registry:\n    backend: dynamodb\n"
                       "  forecast:\n    backend: dynamodb\n"
                       "  history:\n    backend: lmdb\n"
                       "  lmdb:\n    path: %s\n    map_size_mb: 16\n"
                       "  dynamodb:\n"
                       "    endpoint: http://127.0.0.1:%d\n"
                       "    region: us-east-1\n"
                       "    forecast_table: " TABLE "\n"
                       "    retries: 0\n");
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_fix_store_close (&self->fx);
    free (self);
    return 0;
}

//  A forecast of n points, one a second.
static ts_points_t *
s_forecast (int n)
{
    ts_points_t *pts = ts_points_new ();
    for (int i = 0; i < n; i++)
        assert_int_equal (ts_points_append (pts, 1000 * i, "value", i), 0);
    return pts;
}

static void
unprocessed_items_are_sent_again_until_none_is_left (void **state)
{
    fixture_t *self = *state;
    self->dyn.unprocessed = 3;
    ts_points_t *pts = s_forecast (60);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_forecast_replace (self->fx.store, "a", pts, 0,
                                                 err), 0);
    //  60 items in batches of 25, 25, 10, then the head: 4 batches and 3
    //  sent again; every item taken once.
    assert_int_equal (self->dyn.stored, 61);
    assert_int_equal (self->dyn.batches, 7);
    ts_points_destroy (&pts);
}

static void
items_left_unprocessed_fail_the_write_after_bounded_attempts
    (void **state)
{
    fixture_t *self = *state;
    self->dyn.unprocessed = -1;
    ts_points_t *pts = s_forecast (3);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_forecast_replace (self->fx.store, "a", pts, 0,
                                                 err), TS_EBACKEND);
    assert_non_null (strstr (err, "fc: 1 items still unprocessed after 8 "
                             "BatchWriteItem attempts"));
    assert_int_equal (self->dyn.batches, 8);
    ts_points_destroy (&pts);
}

static void
query_follows_last_evaluated_key_with_named_attributes (void **state)
{
    fixture_t *self = *state;
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_forecast_range (self->fx.store, "a", NULL,
                      0, 10000, 0, out, err), 0);
    assert_true (self->dyn.paged);
    assert_int_equal (self->dyn.queries, 2);
    assert_int_equal (out->n, 2);
    assert_true (out->time_ms [0] == 1000 && out->value [0] == 1);
    assert_true (out->time_ms [1] == 2000 && out->value [1] == 2);
    //  time is a reserved word: named through ExpressionAttributeNames;
    //  the range bounds are widened by one millisecond for the slots.
    json_t *q = json_loads (self->dyn.query, 0, NULL);
    assert_non_null (q);
    assert_string_equal (json_string_value (json_object_get (q,
                         "KeyConditionExpression")),
                         "#k = :id AND #t BETWEEN :a AND :b");
    json_t *names = json_object_get (q, "ExpressionAttributeNames");
    assert_string_equal (json_string_value (json_object_get (names, "#t")),
                         "time");
    json_t *values = json_object_get (q, "ExpressionAttributeValues");
    assert_string_equal (json_string_value (json_object_get (
        json_object_get (values, ":a"), "N")), "-0.001");
    assert_string_equal (json_string_value (json_object_get (
        json_object_get (values, ":b"), "N")), "10.001");
    assert_true (json_is_true (json_object_get (q, "ConsistentRead")));
    json_decref (q);
    ts_points_destroy (&out);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (unprocessed_items_are_sent_again_until_none_is_left),
        T (items_left_unprocessed_fail_the_write_after_bounded_attempts),
        T (query_follows_last_evaluated_key_with_named_attributes),
    };
#undef T
    return cmocka_run_group_tests (tests, NULL, NULL);
}
