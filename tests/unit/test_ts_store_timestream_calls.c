/*  test_ts_store_timestream_calls - the Timestream backend's requests
    against a loopback server that plays Timestream
    (tests/unit/ts_aws_fixture): what a whole fixture cannot easily be
    made to do on cue. Endpoint discovery cached per side and done again
    after an InvalidEndpointException; puts in batches of 100 with one
    version; a request partly rejected (HTTP 419); throttling retried;
    Query paged through empty pages; LIMIT max + 1; store init creating,
    then finding. The backend against a whole Timestream fixture is the
    store contract suite's (configuration timestream). */

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

#define T_PREFIX    "Timestream_20181101."

typedef struct {
    int     port;
    int     dead;               //  DescribeEndpoints still to answer with
                                //  an address nothing listens on
    int     describes;          //  DescribeEndpoints calls
    int     invalid;            //  WriteRecords still to answer 421
    int     throttle;           //  WriteRecords still to answer throttled
    bool    reject;             //  reject record 1 of every WriteRecords
    int     writes;             //  WriteRecords calls
    int     stored;             //  records taken
    int64_t versions [8];       //  Version of each WriteRecords
    int     sizes [8];          //  records of each
    int     queries;            //  Query calls
    int     rows;               //  rows per page with rows (page 2)
    char    query [4096];       //  body of the last Query
    bool    exists;             //  database and table exist
    int     creates;            //  CreateDatabase + CreateTable calls
} s_fake_t;

static void
s_error (ts_fix_answer_t *ans, int status, const char *type, const char *extra)
{
    ans->status = status;
    snprintf (ans->body, sizeof ans->body, "{\"__type\":\"com.amazonaws."
              "timestream.v20181101#%s\",\"message\":\"%s test\"%s}", type,
              type, extra);
}

static void
s_page (s_fake_t *fake, const json_t *body, ts_fix_answer_t *ans)
{
    fake->queries++;
    snprintf (fake->query, sizeof fake->query, "%s", json_string_value (
              json_object_get (body, "QueryString")));
    const char *token = json_string_value (json_object_get (body,
                                                            "NextToken"));
    const char *info = "\"ColumnInfo\":[{\"Name\":\"measure_name\",\"Type\":"
        "{\"ScalarType\":\"VARCHAR\"}},{\"Name\":\"time_ms\",\"Type\":"
        "{\"ScalarType\":\"BIGINT\"}},{\"Name\":\"value\",\"Type\":"
        "{\"ScalarType\":\"DOUBLE\"}}]";
    if (!token)         //  the query still runs: no rows yet
        snprintf (ans->body, sizeof ans->body, "{\"QueryId\":\"q1\","
                  "\"NextToken\":\"t1\",\"Rows\":[],%s}", info);
    else
    if (strcmp (token, "t1") == 0) {
        int len = snprintf (ans->body, sizeof ans->body, "{\"QueryId\":"
                            "\"q1\",\"NextToken\":\"t2\",%s,\"Rows\":[", info);
        for (int i = 0; i < fake->rows; i++)
            len += snprintf (ans->body + len, sizeof ans->body - (size_t) len,
                             "%s{\"Data\":[{\"ScalarValue\":\"v\"},"
                             "{\"ScalarValue\":\"%d\"},{\"ScalarValue\":"
                             "\"%d.5\"}]}", i? ",": "", i * 10, i);
        snprintf (ans->body + len, sizeof ans->body - (size_t) len, "]}");
    }
    else
        snprintf (ans->body, sizeof ans->body, "{\"QueryId\":\"q1\","
                  "\"Rows\":[],%s}", info);
}

static void
s_handler (const ts_fix_request_t *req, ts_fix_answer_t *ans, void *arg)
{
    s_fake_t *fake = arg;
    char target [128] = "";
    ts_fix_header (req, "X-Amz-Target", target, sizeof target);
    const char *op = strncmp (target, T_PREFIX, strlen (T_PREFIX)) == 0
                   ? target + strlen (T_PREFIX): "";
    json_t *body = json_loadb (req->body, req->body_size, 0, NULL);
    snprintf (ans->body, sizeof ans->body, "{}");
    if (strcmp (op, "DescribeEndpoints") == 0) {
        fake->describes++;
        snprintf (ans->body, sizeof ans->body, "{\"Endpoints\":[{\"Address\":"
                  "\"127.0.0.1:%d\",\"CachePeriodInMinutes\":5}]}",
                  fake->dead > 0? 1: fake->port);
        if (fake->dead > 0)
            fake->dead--;
    }
    else
    if (strcmp (op, "WriteRecords") == 0) {
        json_t *records = json_object_get (body, "Records");
        int n = (int) json_array_size (records);
        if (fake->invalid > 0) {
            fake->invalid--;
            s_error (ans, 421, "InvalidEndpointException", "");
        }
        else
        if (fake->throttle > 0) {
            fake->throttle--;
            s_error (ans, 400, "ThrottlingException", "");
        }
        else {
            if (fake->writes < 8) {
                fake->versions [fake->writes] = json_integer_value (
                    json_object_get (json_object_get (body,
                    "CommonAttributes"), "Version"));
                fake->sizes [fake->writes] = n;
            }
            fake->writes++;
            fake->stored += n;
            if (fake->reject && n > 1) {
                fake->stored--;
                s_error (ans, 419, "RejectedRecordsException",
                         ",\"RejectedRecords\":[{\"RecordIndex\":1,"
                         "\"Reason\":\"Duplicate record.\"}]");
            }
        }
    }
    else
    if (strcmp (op, "Query") == 0)
        s_page (fake, body, ans);
    else
    if (strcmp (op, "DescribeDatabase") == 0 && !fake->exists)
        s_error (ans, 404, "ResourceNotFoundException", "");
    else
    if (strcmp (op, "DescribeTable") == 0)
        snprintf (ans->body, sizeof ans->body, fake->exists? "{\"Table\":{"
                  "\"RetentionProperties\":{\"MemoryStoreRetentionPeriodIn"
                  "Hours\":24,\"MagneticStoreRetentionPeriodInDays\":73000},"
                  "\"MagneticStoreWriteProperties\":{\"EnableMagneticStore"
                  "Writes\":true}}}": "{}");
    if (strcmp (op, "DescribeTable") == 0 && !fake->exists)
        s_error (ans, 404, "ResourceNotFoundException", "");
    if (strncmp (op, "Create", 6) == 0)
        fake->creates++;
    json_decref (body);
}

typedef struct {
    s_fake_t       fake;    //  what the server saw, what it answers
    ts_fix_store_t fx;      //  the server and the store
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    self->fake.rows = 3;
    ts_fix_store_open (&self->fx, s_handler, &self->fake,
                       "store:\n"
                       "  history:\n    backend: timestream\n"
                       "  lmdb:\n    path: %s\n    map_size_mb: 16\n"
                       "  timestream:\n"
                       "    endpoint: http://127.0.0.1:%d\n"
                       "    discovery: on\n"
                       "    region: us-east-1\n"
                       "    database: db1\n"
                       "    table: hist\n"
                       "    retries: 3\n");
    //  DescribeEndpoints answers the fake's own address (no call is
    //  made before the first test step).
    self->fake.port = ts_fix_port (self->fx.fix);
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

//  n points of measure "value", one a second from 1000.
static ts_points_t *
s_points (int n)
{
    ts_points_t *pts = ts_points_new ();
    for (int i = 0; i < n; i++)
        assert_int_equal (ts_points_append (pts, 1000 * (i + 1), "value", i),
                          0);
    return pts;
}

static void
endpoint_is_discovered_once_per_side_and_again_after_invalid_endpoint
    (void **state)
{
    fixture_t *self = *state;
    ts_points_t *pts = s_points (3);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err), 0);
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err), 0);
    assert_int_equal (self->fake.describes, 1);
    //  The query endpoint is discovered on its own.
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (self->fx.store, "a", NULL, 0,
                                              10000, out, err), 0);
    assert_int_equal (self->fake.describes, 2);
    //  421: the ingest endpoint is discovered again, the put sent again.
    self->fake.invalid = 1;
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err), 0);
    assert_int_equal (self->fake.describes, 3);
    assert_int_equal (self->fake.writes, 3);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
endpoint_is_discovered_again_after_a_network_error (void **state)
{
    fixture_t *self = *state;
    self->fake.dead = 1;            //  port 1: connection refused
    ts_points_t *pts = s_points (3);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err),
                      0);
    assert_int_equal (self->fake.describes, 2);
    assert_int_equal (self->fake.writes, 1);
    ts_points_destroy (&pts);
}

static void
a_put_fails_saying_why_when_no_discovered_endpoint_answers (void **state)
{
    fixture_t *self = *state;
    self->fake.dead = 2;
    ts_points_t *pts = s_points (3);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err),
                      TS_EBACKEND);
    assert_non_null (strstr (err, "store.timestream: Timestream_20181101."
                             "WriteRecords: "));
    assert_int_equal (self->fake.describes, 2);
    assert_int_equal (self->fake.writes, 0);
    ts_points_destroy (&pts);
}

static void
put_sends_batches_of_100_records_with_one_version (void **state)
{
    fixture_t *self = *state;
    ts_points_t *pts = s_points (250);
    //  An equal point, later in the list, replaces the first: not sent twice.
    assert_int_equal (ts_points_append (pts, 1000, "value", 99.0), 0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err), 0);
    assert_int_equal (self->fake.writes, 3);
    assert_int_equal (self->fake.sizes [0], 100);
    assert_int_equal (self->fake.sizes [1], 100);
    assert_int_equal (self->fake.sizes [2], 50);
    assert_true (self->fake.versions [0] > 0);
    assert_true (self->fake.versions [1] == self->fake.versions [0]);
    assert_true (self->fake.versions [2] == self->fake.versions [0]);
    //  The next put: a higher version, so it replaces.
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err), 0);
    assert_true (self->fake.versions [3] > self->fake.versions [0]);
    ts_points_destroy (&pts);
}

static void
rejected_records_fail_the_put_naming_each_while_the_rest_is_written
    (void **state)
{
    fixture_t *self = *state;
    self->fake.reject = true;
    ts_points_t *pts = s_points (150);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err),
                      TS_EBACKEND);
    assert_int_equal (self->fake.writes, 2);
    assert_int_equal (self->fake.stored, 148);
    assert_string_equal (err, "store.timestream: 2 of 150 records rejected: "
                         "id 'a' measure 'value' time 2000: Duplicate "
                         "record.; id 'a' measure 'value' time 102000: "
                         "Duplicate record.");
    ts_points_destroy (&pts);
}

static void
throttled_writes_are_retried (void **state)
{
    fixture_t *self = *state;
    self->fake.throttle = 2;
    ts_points_t *pts = s_points (3);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err), 0);
    assert_int_equal (self->fake.writes, 1);
    assert_int_equal (self->fake.stored, 3);
    assert_int_equal (self->fake.throttle, 0);
    //  More than the retries: the put fails with the service's words.
    self->fake.throttle = 10;
    assert_int_equal (ts_store_history_put (self->fx.store, "a", pts, err),
                      TS_EBACKEND);
    assert_string_equal (err, "store.timestream: Timestream_20181101."
                         "WriteRecords: ThrottlingException: "
                         "ThrottlingException test");
    assert_int_equal (self->fake.throttle, 6);
    ts_points_destroy (&pts);
}

static void
query_pages_through_empty_pages_until_no_next_token (void **state)
{
    fixture_t *self = *state;
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_range (self->fx.store, "a", "v",
                      INT64_MIN, 5, out, err), 0);
    assert_int_equal (self->fake.queries, 3);
    assert_int_equal (out->n, 3);
    assert_true (out->time_ms [2] == 20 && out->value [2] == 2.5);
    assert_string_equal (self->fake.query, "SELECT measure_name, "
        "to_milliseconds(time) AS time_ms, coalesce(measure_value::double, "
        "try_cast(measure_value::varchar AS double)) AS value FROM "
        "\"db1\".\"hist\" WHERE identifier = 'a' AND time BETWEEN "
        "from_milliseconds(-9223372036854) AND from_milliseconds(5) AND "
        "measure_name = 'v' ORDER BY time, measure_name");
    ts_points_destroy (&out);
}

static void
range_max_asks_for_one_more_and_stops_there (void **state)
{
    fixture_t *self = *state;
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_range_max (self->fx.store, "a", NULL, 0,
                      100, 2, out, err), TS_ETOOBIG);
    assert_non_null (strstr (self->fake.query, " LIMIT 3"));
    assert_int_equal (out->n, 2);
    assert_string_equal (err, "history of id 'a' holds more than 2 points in "
                         "the range");
    assert_int_equal (self->fake.queries, 2);
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (self->fx.store, "a", NULL, 0,
                      100, 3, out, err), 0);
    assert_int_equal (out->n, 3);
    ts_points_destroy (&out);
}

static void
store_init_creates_database_and_table_then_finds_them (void **state)
{
    fixture_t *self = *state;
    ts_strlist_t *report = ts_strlist_new ();
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_init (self->fx.cfg, report, err), 0);
    assert_int_equal (self->fake.creates, 2);
    assert_int_equal (report->n, 3);
    assert_string_equal (report->items [0], "lmdb: nothing to create");
    assert_string_equal (report->items [1], "timestream: database db1 "
                         "created");
    assert_string_equal (report->items [2], "timestream: table db1.hist "
                         "created (memory store 720 h, magnetic store 730 "
                         "days, magnetic writes on)");
    self->fake.exists = true;
    ts_strlist_clear (report);
    assert_int_equal (ts_store_init (self->fx.cfg, report, err), 0);
    assert_int_equal (self->fake.creates, 2);
    assert_string_equal (report->items [1], "timestream: database db1 found");
    assert_string_equal (report->items [2], "timestream: table db1.hist found "
                         "(memory store 24 h, magnetic store 73000 days, "
                         "magnetic writes on)");
    ts_strlist_destroy (&report);
}

static void
removing_an_id_sends_nothing_and_the_store_says_it_cannot_delete
    (void **state)
{
    fixture_t *self = *state;
    unsigned caps = ts_store_caps (self->fx.store);
    assert_false (caps & TS_STORE_CAP_FORGET);
    assert_false (caps & TS_STORE_CAP_ALLTIME);
    assert_false (caps & TS_STORE_CAP_STAMPS);
    assert_string_equal (ts_store_role_backend (self->fx.store,
                         TS_STORE_HISTORY), "timestream");
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add (self->fx.store, ids, 1, NULL, err), 0);
    assert_int_equal (ts_store_ids_remove (self->fx.store, "a", err), 0);
    assert_int_equal (self->fake.describes + self->fake.writes
                      + self->fake.queries + self->fake.creates, 0);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (endpoint_is_discovered_once_per_side_and_again_after_invalid_endpoint),
        T (endpoint_is_discovered_again_after_a_network_error),
        T (a_put_fails_saying_why_when_no_discovered_endpoint_answers),
        T (put_sends_batches_of_100_records_with_one_version),
        T (rejected_records_fail_the_put_naming_each_while_the_rest_is_written),
        T (throttled_writes_are_retried),
        T (query_pages_through_empty_pages_until_no_next_token),
        T (range_max_asks_for_one_more_and_stops_there),
        T (store_init_creates_database_and_table_then_finds_them),
        T (removing_an_id_sends_nothing_and_the_store_says_it_cannot_delete),
    };
#undef T
    return cmocka_run_group_tests (tests, NULL, NULL);
}
