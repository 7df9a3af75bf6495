/*  test_ts_cli_wait - the account "tscache hydrate --wait" keeps: which
    jobs it asks about, when ids count as stored, which job failed, and
    how it says what is still pending. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_cli_wait.h"

typedef struct {
    ts_strlist_t  *ids;         //  the hydrate request's ids
    ts_msg_t      *reply;       //  hydrate answer, then job_state answers
    ts_msg_t      *req;         //  job_state requests
    ts_cli_wait_t *wait;
    char           stored [256];    //  ids reported stored, "a,b,"
    char           err [TS_ERRLEN];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    *state = self;
    if (!self)
        return -1;
    self->ids = ts_strlist_new ();
    self->reply = ts_msg_new (TS_OP_REPLY);
    self->req = ts_msg_new (TS_OP_PING);
    return self->ids && self->reply && self->req? 0: -1;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_cli_wait_destroy (&self->wait);
    ts_strlist_destroy (&self->ids);
    ts_msg_destroy (&self->reply);
    ts_msg_destroy (&self->req);
    free (self);
    return 0;
}

static void
s_on_stored (const char *id, void *arg)
{
    fixture_t *self = arg;
    size_t used = strlen (self->stored);
    snprintf (self->stored + used, sizeof self->stored - used, "%s,", id);
}

//  Starts the account for "id:job" pairs, e.g. "a:7", "b:7", "c:8".
static void
s_start (fixture_t *self, size_t n, ...)
{
    ts_strlist_clear (self->ids);
    ts_msg_set_ok (self->reply, 202);
    va_list list;
    va_start (list, n);
    for (size_t i = 0; i < n; i++) {
        const char *pair = va_arg (list, const char *);
        const char *colon = strchr (pair, ':');
        ts_strlist_append_n (self->ids, pair, (size_t) (colon - pair));
        ts_msg_add_job (self->reply, strtoull (colon + 1, NULL, 10));
    }
    va_end (list);
    self->wait = ts_cli_wait_new (self->ids, self->reply, self->err);
    if (!self->wait)
        fail_msg ("new: %s", self->err);
}

//  Feeds a job_state answer of (job, status, receives, error) rows.
static void
s_answer (fixture_t *self, size_t n, ...)
{
    ts_msg_set_ok (self->reply, 200);
    self->reply->has_states = true;
    va_list list;
    va_start (list, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t job = va_arg (list, uint64_t);
        ts_job_status_t status = (ts_job_status_t) va_arg (list, int);
        uint32_t receives = va_arg (list, uint32_t);
        const char *error = va_arg (list, const char *);
        ts_msg_add_state (self->reply, job, status, receives, error);
    }
    va_end (list);
    assert_int_equal (ts_cli_wait_update (self->wait, self->reply,
                                          s_on_stored, self, self->err), 0);
}

static void
s_assert_asks_for (fixture_t *self, size_t n, ...)
{
    assert_int_equal (ts_cli_wait_request (self->wait, self->req), 0);
    assert_int_equal (self->req->op, TS_OP_JOB_STATE);
    assert_int_equal (self->req->jobs_n, n);
    va_list list;
    va_start (list, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (self->req->jobs [i], va_arg (list, uint64_t));
    va_end (list);
}

static void
ids_are_stored_when_their_job_is_done (void **state)
{
    fixture_t *self = *state;
    s_start (self, 3, "c:8", "a:7", "b:7");
    assert_int_equal (ts_cli_wait_total (self->wait), 3);
    assert_int_equal (ts_cli_wait_stored (self->wait), 0);
    s_assert_asks_for (self, 2, (uint64_t) 7, (uint64_t) 8);
    s_answer (self, 2, (uint64_t) 7, TS_JOB_STATUS_LEASED, 1, "",
              (uint64_t) 8, TS_JOB_STATUS_DELAYED, 1, "HTTP 500");
    assert_int_equal (ts_cli_wait_stored (self->wait), 0);
    assert_null (ts_cli_wait_failed (self->wait));
    s_answer (self, 2, (uint64_t) 7, TS_JOB_STATUS_DONE, 1, "",
              (uint64_t) 8, TS_JOB_STATUS_QUEUED, 1, "HTTP 500");
    assert_int_equal (ts_cli_wait_stored (self->wait), 2);
    assert_string_equal (self->stored, "a,b,");
    //  Done jobs are not asked about again, nor counted twice.
    s_assert_asks_for (self, 1, (uint64_t) 8);
    s_answer (self, 2, (uint64_t) 7, TS_JOB_STATUS_DONE, 1, "",
              (uint64_t) 8, TS_JOB_STATUS_DONE, 2, "");
    assert_int_equal (ts_cli_wait_stored (self->wait), 3);
    assert_string_equal (self->stored, "a,b,c,");
    s_assert_asks_for (self, 0);
}

static void
an_id_given_twice_counts_once (void **state)
{
    fixture_t *self = *state;
    s_start (self, 3, "a:5", "a:5", "b:5");
    assert_int_equal (ts_cli_wait_total (self->wait), 2);
    s_answer (self, 1, (uint64_t) 5, TS_JOB_STATUS_DONE, 1, "");
    assert_int_equal (ts_cli_wait_stored (self->wait), 2);
    assert_string_equal (self->stored, "a,b,");
}

static void
a_dead_or_unknown_job_is_a_failure (void **state)
{
    fixture_t *self = *state;
    s_start (self, 3, "a:1", "b:2", "c:3");
    s_answer (self, 3, (uint64_t) 1, TS_JOB_STATUS_DONE, 1, "",
              (uint64_t) 2, TS_JOB_STATUS_DEAD, 1, "HTTP 404 (not retried)",
              (uint64_t) 3, TS_JOB_STATUS_UNKNOWN, 0, "");
    const ts_job_info_t *failed = ts_cli_wait_failed (self->wait);
    assert_non_null (failed);
    assert_int_equal (failed->job, 2);
    assert_int_equal (failed->status, TS_JOB_STATUS_DEAD);
    assert_string_equal (failed->error, "HTTP 404 (not retried)");
    char ids [128];
    assert_string_equal (ts_cli_wait_ids (self->wait, 2, ids, sizeof ids),
                         "b");
    assert_int_equal (ts_cli_wait_stored (self->wait), 1);
}

static void
pending_ids_are_listed_with_their_job_and_cut_to_fit (void **state)
{
    fixture_t *self = *state;
    s_start (self, 4, "a:1", "b:2", "c:2", "d:3");
    s_answer (self, 2, (uint64_t) 1, TS_JOB_STATUS_DONE, 1, "",
              (uint64_t) 2, TS_JOB_STATUS_LEASED, 1, "");
    char ids [128];
    assert_string_equal (ts_cli_wait_ids (self->wait, 0, ids, sizeof ids),
                         "b (job 2 leased), c (job 2 leased), "
                         "d (job 3 queued)");
    char small [48];
    assert_string_equal (ts_cli_wait_ids (self->wait, 0, small,
                                          sizeof small),
                         "b (job 2 leased), +2 more");
}

static void
json_lists_every_id_with_its_job_state (void **state)
{
    fixture_t *self = *state;
    s_start (self, 2, "b:4", "a:3");
    s_answer (self, 2, (uint64_t) 3, TS_JOB_STATUS_DONE, 1, "",
              (uint64_t) 4, TS_JOB_STATUS_DEAD, 3, "HTTP \"500\"");
    ts_json_t *json = ts_json_new ();
    assert_int_equal (ts_cli_wait_json (self->wait, json), 0);
    assert_string_equal (ts_json_data (json),
        "{\"total\":2,\"stored\":1,\"ids\":["
        "{\"id\":\"a\",\"job\":3,\"state\":\"done\",\"receives\":1,"
        "\"error\":\"\"},"
        "{\"id\":\"b\",\"job\":4,\"state\":\"dead\",\"receives\":3,"
        "\"error\":\"HTTP \\\"500\\\"\"}]}");
    ts_json_destroy (&json);
}

static void
an_answer_without_jobs_or_states_cannot_be_waited_for (void **state)
{
    fixture_t *self = *state;
    ts_strlist_append (self->ids, "a");
    ts_msg_set_ok (self->reply, 202);
    self->reply->count = 1;
    assert_null (ts_cli_wait_new (self->ids, self->reply, self->err));
    assert_non_null (strstr (self->err, "names 0 jobs for 1 ids"));
    ts_msg_add_job (self->reply, 0);
    assert_null (ts_cli_wait_new (self->ids, self->reply, self->err));
    assert_non_null (strstr (self->err, "no job for id 'a'"));

    s_start (self, 1, "b:9");
    ts_msg_set_ok (self->reply, 200);
    assert_int_equal (ts_cli_wait_update (self->wait, self->reply, NULL,
                                          NULL, self->err), TS_EPROTO);
    //  States of jobs it did not ask about are ignored.
    s_answer (self, 1, (uint64_t) 10, TS_JOB_STATUS_DONE, 1, "");
    assert_int_equal (ts_cli_wait_stored (self->wait), 0);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (ids_are_stored_when_their_job_is_done),
        T (an_id_given_twice_counts_once),
        T (a_dead_or_unknown_job_is_a_failure),
        T (pending_ids_are_listed_with_their_job_and_cut_to_fit),
        T (json_lists_every_id_with_its_job_state),
        T (an_answer_without_jobs_or_states_cannot_be_waited_for),
#undef T
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_cli_wait", tests, NULL, NULL);
}
