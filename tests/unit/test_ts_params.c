/*  test_ts_params - a gateway HTTP request's parameters and JSON body
    read into a ts_msg_t, without the routes: the query's id, times and
    measure, the ids page's after and limit, and the {"ids":[...]} body,
    required or optional. Every fault is TS_EINVAL with a detail naming
    the parameter or the place in the body. The routes' answers to them
    (400 bad_request) are in test_ts_route. */

#include "../../gateway/ts_params.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ts_target_t *url;           //  the target parsed
    ts_msg_t    *msg;           //  what is read into
    char         err [TS_ERRLEN];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof (fixture_t));
    assert_non_null (self);
    self->msg = ts_msg_new (TS_OP_QUERY);
    assert_non_null (self->msg);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_target_destroy (&self->url);
    ts_msg_destroy (&self->msg);
    free (self);
    return 0;
}

//  Parses target into self->url.
static const ts_target_t *
s_url (fixture_t *self, const char *target)
{
    ts_target_destroy (&self->url);
    assert_int_equal (ts_target_parse (target, &self->url, self->err), 0);
    return self->url;
}

static void
params_query_reads_the_id_times_and_measure (void **state)
{
    fixture_t *self = *state;
    const ts_target_t *url = s_url (self, "/v1/series/a?from=1000"
                                    "&to=2024-01-01T00:00:00Z&measure=cpu");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err), 0);
    assert_string_equal (self->msg->id, "a");
    assert_true (self->msg->has_from);
    assert_int_equal (self->msg->from_ms, 1000);
    assert_true (self->msg->has_to);
    assert_int_equal (self->msg->to_ms, 1704067200000);
    assert_string_equal (self->msg->measure, "cpu");
}

static void
params_query_leaves_out_what_is_absent_or_empty (void **state)
{
    fixture_t *self = *state;
    const ts_target_t *url = s_url (self, "/v1/series/a?from=&measure=");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err), 0);
    assert_false (self->msg->has_from);
    assert_false (self->msg->has_to);
    assert_string_equal (self->msg->measure, "");
}

static void
params_query_names_the_parameter_at_fault (void **state)
{
    fixture_t *self = *state;
    const ts_target_t *url = s_url (self, "/v1/series/a?from=yesterday");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "from: expected epoch milliseconds"));
    url = s_url (self, "/v1/series/a?to=x");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "to:"));
    url = s_url (self, "/v1/series/a?measure=a%20b");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "measure"));
    url = s_url (self, "/v1/series/x");
    assert_int_equal (ts_params_query (url, "a b", self->msg, self->err),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "id"));
}

static void
params_query_reads_the_options_of_ts_query (void **state)
{
    fixture_t *self = *state;
    const ts_target_t *url = s_url (self, "/v1/series/a?from=now-24h&to=now"
                                    "&measure=x&measure=y&step=5m&agg=max"
                                    "&fill=previous&max_points=100&limit=50"
                                    "&next=q1.abc&format=json");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err), 0);
    assert_true (self->msg->from_rel && self->msg->to_rel);
    assert_int_equal (self->msg->from_ms, -86400000LL);
    assert_int_equal (self->msg->measures->n, 2);
    assert_string_equal (self->msg->measure, "");
    assert_int_equal (self->msg->step_ms, 300000);
    assert_int_equal (self->msg->agg, TS_AGG_MAX);
    assert_int_equal (self->msg->fill, TS_FILL_PREVIOUS);
    assert_int_equal (self->msg->max_points, 100);
    assert_int_equal (self->msg->limit, 50);
    assert_string_equal (self->msg->next, "q1.abc");
    //  Another parameter than measure given twice; agg without a step.
    url = s_url (self, "/v1/series/a?step=1m&step=2m");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "step: given more than once"));
    ts_msg_reset (self->msg, TS_OP_QUERY);
    url = s_url (self, "/v1/series/a?agg=sum");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "agg: 'sum' needs step"));
    url = s_url (self, "/v1/series/a?step=1m&fill=zero");
    assert_int_equal (ts_params_query (url, "a", self->msg, self->err),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "fill: expected none, null or "
                             "previous, got 'zero'"));
}

static void
params_page_reads_after_and_a_limit_in_range (void **state)
{
    fixture_t *self = *state;
    const ts_target_t *url = s_url (self, "/v1/ids?after=b&limit=2");
    assert_int_equal (ts_params_page (url, self->msg, self->err), 0);
    assert_string_equal (self->msg->after, "b");
    assert_int_equal (self->msg->limit, 2);
    url = s_url (self, "/v1/ids?limit=10000");
    assert_int_equal (ts_params_page (url, self->msg, self->err), 0);
    assert_int_equal (self->msg->limit, TS_PROTO_IDS_PAGE);
    const char *bad [] = {
        "/v1/ids?limit=0", "/v1/ids?limit=10001", "/v1/ids?limit=x",
        "/v1/ids?limit=-1", "/v1/ids?limit=2x", "/v1/ids?limit=+2",
        "/v1/ids?after=a%20b"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        url = s_url (self, bad [i]);
        assert_int_equal (ts_params_page (url, self->msg, self->err),
                          TS_EINVAL);
        assert_true (strstr (self->err, "limit: expected 1 to 10000")
                     || strstr (self->err, "after"));
    }
    //  fetch=true asks each id's status; false or empty does not.
    assert_false (self->msg->with_fetch);
    url = s_url (self, "/v1/ids?fetch=true");
    assert_int_equal (ts_params_page (url, self->msg, self->err), 0);
    assert_true (self->msg->with_fetch);
    self->msg->with_fetch = false;
    url = s_url (self, "/v1/ids?fetch=false&fetch=");
    assert_int_equal (ts_params_page (url, self->msg, self->err), 0);
    assert_false (self->msg->with_fetch);
    url = s_url (self, "/v1/ids?fetch=1");
    assert_int_equal (ts_params_page (url, self->msg, self->err), TS_EINVAL);
    assert_string_equal (self->err, "fetch: expected true or false, got '1'");
}

//  Reads body (a C string, or NULL) into self->msg->ids.
static int
s_ids (fixture_t *self, const char *body, bool optional)
{
    ts_msg_reset (self->msg, TS_OP_IDS_ADD);
    return ts_params_ids (body, body? strlen (body): 0, optional,
                          self->msg->ids, NULL, self->err);
}

static void
params_ids_reads_the_ids_in_order (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_ids (self, " {\"ids\":[\"b\",\"a\"]}\n", false), 0);
    assert_int_equal (self->msg->ids->n, 2);
    assert_string_equal (self->msg->ids->items [0], "b");
    assert_string_equal (self->msg->ids->items [1], "a");
}

static void
params_ids_optional_takes_no_body_an_empty_object_or_list (void **state)
{
    fixture_t *self = *state;
    const char *none [] = { NULL, "", " \r\n\t", "{}", "{\"ids\":[]}" };
    for (size_t i = 0; i < sizeof none / sizeof none [0]; i++) {
        assert_int_equal (s_ids (self, none [i], true), 0);
        assert_int_equal (self->msg->ids->n, 0);
    }
    assert_int_equal (s_ids (self, "{\"ids\":[\"a\"]}", true), 0);
    assert_int_equal (self->msg->ids->n, 1);
}

static void
params_ids_refuses_what_is_not_a_list_of_names (void **state)
{
    fixture_t *self = *state;
    struct { const char *body; const char *detail; } bad [] = {
        { NULL,                         "missing body" },
        { "",                           "missing body" },
        { "{\"ids\":[",                 "bad JSON body" },
        { "{\"ids\":[],\"ids\":[]}",    "bad JSON body" },
        { "[\"a\"]",                    "must be a JSON object" },
        { "{}",                         "must be a JSON object" },
        { "{\"ids\":[]}",               "ids: empty list" },
        { "{\"ids\":[\"a\",1]}",        "ids[1]: expected a string" },
        { "{\"ids\":[\"a b\"]}",        "ids[0]:" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_ids (self, bad [i].body, false), TS_EINVAL);
        assert_non_null (strstr (self->err, bad [i].detail));
    }
}

static void
params_ids_refuses_more_than_a_message_holds (void **state)
{
    fixture_t *self = *state;
    size_t size = 16 + (TS_PROTO_MAX_IDS + 1) * 4;
    char *body = malloc (size);
    assert_non_null (body);
    size_t used = (size_t) snprintf (body, size, "{\"ids\":[");
    for (int i = 0; i <= TS_PROTO_MAX_IDS; i++)
        used += (size_t) snprintf (body + used, size - used, "%s\"a\"",
                                   i? ",": "");
    snprintf (body + used, size - used, "]}");
    assert_int_equal (s_ids (self, body, false), TS_EINVAL);
    assert_non_null (strstr (self->err, "over the limit of 10000"));
    free (body);
}

int
main (int argc, char *argv [])
{
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        T (params_query_reads_the_id_times_and_measure),
        T (params_query_leaves_out_what_is_absent_or_empty),
        T (params_query_names_the_parameter_at_fault),
        T (params_query_reads_the_options_of_ts_query),
        T (params_page_reads_after_and_a_limit_in_range),
        T (params_ids_reads_the_ids_in_order),
        T (params_ids_optional_takes_no_body_an_empty_object_or_list),
        T (params_ids_refuses_what_is_not_a_list_of_names),
        T (params_ids_refuses_more_than_a_message_holds),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_params", tests, NULL, NULL);
}
