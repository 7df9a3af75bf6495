/*  test_ts_cli_args - the tscache CLI's command line: options before,
    between and after operands, "--", unknown options, ids with a leading
    '-', option values, options of one command only, and the operands of
    every command. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_cli_args.h"

typedef struct {
    ts_cli_args_t args;
    ts_msg_t     *req;
    char          err [TS_ERRLEN];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    *state = self;
    return self && (self->req = ts_msg_new (TS_OP_PING))? 0: -1;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    ts_msg_destroy (&self->req);
    free (self);
    return 0;
}

//  Parses "tscache" followed by the NULL-terminated arguments.
static int
s_parse (fixture_t *self, ...)
{
    char *argv [64] = { "tscache" };
    int argc = 1;
    va_list list;
    va_start (list, self);
    for (char *arg; (arg = va_arg (list, char *)) && argc < 63; )
        argv [argc++] = arg;
    va_end (list);
    self->err [0] = 0;
    return ts_cli_args_parse (&self->args, self->req, argc, argv, self->err);
}

static void
s_assert_ids (const ts_msg_t *req, size_t n, ...)
{
    assert_int_equal (req->ids->n, n);
    va_list list;
    va_start (list, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal (req->ids->items [i], va_arg (list, char *));
    va_end (list);
}

static void
options_may_follow_the_operands (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "ids", "add", "x1", "--json", NULL), 0);
    assert_int_equal (self->req->op, TS_OP_IDS_ADD);
    s_assert_ids (self->req, 1, "x1");
    assert_true (self->args.json);
    assert_int_equal (s_parse (self, "ids", "add", "a", "-t", "700", "b",
                               "-e", "tcp://h:1", NULL), 0);
    s_assert_ids (self->req, 2, "a", "b");
    assert_int_equal (self->args.timeout_ms, 700);
    assert_string_equal (self->args.endpoint, "tcp://h:1");
    assert_false (self->args.json);
}

static void
options_may_come_before_the_command (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "--json", "-c", "my.yaml", "ids", "ls",
                               NULL), 0);
    assert_int_equal (self->req->op, TS_OP_IDS_LS);
    assert_true (self->args.json);
    assert_string_equal (self->args.config_path, "my.yaml");
    assert_int_equal (s_parse (self, "-t", "50", "ping", NULL), 0);
    assert_int_equal (self->req->op, TS_OP_PING);
    assert_int_equal (self->args.timeout_ms, 50);
    assert_int_equal (self->args.wait_ms, TS_CLI_WAIT_MS);
}

static void
an_unknown_option_is_a_usage_error_naming_it_never_an_id (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "ids", "add", "x1", "-x", NULL),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "unknown option '-x'"));
    assert_int_equal (s_parse (self, "ids", "add", "--jsn", "x1", NULL),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "'--jsn'"));
    assert_int_equal (s_parse (self, "hydrate", "--wait=1", "a", NULL),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "'--wait=1'"));
}

static void
double_dash_ends_options_and_a_leading_dash_id_is_refused (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "ids", "add", "--", "-x", NULL),
                      TS_EINVAL);
    assert_string_equal (self->err, "invalid id '-x': use " TS_NAME_RULE);
    assert_int_equal (s_parse (self, "ids", "add", "x1", "--", "--json",
                               NULL), TS_EINVAL);
    assert_string_equal (self->err,
                         "invalid id '--json': use " TS_NAME_RULE);
    //  Options before "--" still count; after it nothing is an option.
    assert_int_equal (s_parse (self, "--json", "hydrate", "--", "a", "b",
                               NULL), 0);
    assert_true (self->args.json);
    s_assert_ids (self->req, 2, "a", "b");
    //  Only a removal may name an id registered before the rule.
    assert_int_equal (s_parse (self, "ids", "rm", "--", "-old", NULL), 0);
    assert_int_equal (self->req->op, TS_OP_IDS_RM);
    assert_string_equal (self->req->id, "-old");
    assert_int_equal (s_parse (self, "query", "--", "-old", NULL),
                      TS_EINVAL);
    //  A lone "-" is an operand, and not a valid id.
    assert_int_equal (s_parse (self, "ids", "add", "-", NULL), TS_EINVAL);
    assert_non_null (strstr (self->err, "invalid id '-'"));
}

static void
option_values_are_taken_whatever_they_look_like (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "query", "--from", "-1000", "a",
                               "--to=2024-11-24T00:00:00Z", "--measure",
                               "temp", "-t250", NULL), 0);
    assert_int_equal (self->req->op, TS_OP_QUERY);
    assert_string_equal (self->req->id, "a");
    assert_true (self->req->has_from && self->req->has_to);
    assert_int_equal (self->req->from_ms, -1000);
    assert_int_equal (self->req->to_ms, 1732406400000LL);
    assert_string_equal (self->req->measure, "temp");
    assert_int_equal (self->args.timeout_ms, 250);
    //  The last of two wins.
    assert_int_equal (s_parse (self, "ping", "-t", "1", "-t", "2", NULL), 0);
    assert_int_equal (self->args.timeout_ms, 2);
    assert_int_equal (s_parse (self, "query", "a", "--from", NULL),
                      TS_EINVAL);
    assert_string_equal (self->err, "--from needs a value");
    assert_int_equal (s_parse (self, "query", "a", "--from", "soon", NULL),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "bad time 'soon'"));
    const char *bad [] = { "0", "x", "3600001", "", "5s" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_parse (self, "ping", "-t", bad [i], NULL),
                          TS_EINVAL);
        assert_non_null (strstr (self->err, "is not a timeout in ms"));
    }
}

static void
options_of_one_command_are_refused_elsewhere (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "ids", "ls", "--from", "1", NULL),
                      TS_EINVAL);
    assert_string_equal (self->err,
                         "ids ls: --from is an option of query only");
    assert_int_equal (s_parse (self, "query", "a", "--wait", NULL),
                      TS_EINVAL);
    assert_string_equal (self->err,
                         "query: --wait is an option of hydrate only");
    assert_int_equal (s_parse (self, "hydrate", "a", "--timeout", "2",
                               NULL), TS_EINVAL);
    assert_string_equal (self->err, "hydrate: --timeout needs --wait");
}

//  dlq redrive --job N (may repeat): those jobs only; not with ids, and
//  a number as dlq ls prints it.
static void
dlq_redrive_takes_ids_or_job_numbers (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "dlq", "redrive", "--job", "17",
                               "--job=18446744073709551615", NULL), 0);
    assert_int_equal (self->req->op, TS_OP_DLQ_REDRIVE);
    assert_int_equal (self->req->jobs_n, 2);
    assert_true (self->req->jobs [0] == 17);
    assert_true (self->req->jobs [1] == UINT64_MAX);
    assert_int_equal (self->req->ids->n, 0);
    assert_int_equal (s_parse (self, "dlq", "redrive", "a", NULL), 0);
    assert_int_equal (self->req->jobs_n, 0);
    s_assert_ids (self->req, 1, "a");
    assert_int_equal (s_parse (self, "dlq", "redrive", "a", "--job", "1",
                               NULL), TS_EINVAL);
    assert_string_equal (self->err,
                         "dlq redrive: give IDs or --job, not both");
    const char *bad [] = { "", "x", "-1", " 1", "+1", "1.5", "0x10", "0",
                           "18446744073709551616" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_parse (self, "dlq", "redrive", "--job", bad [i],
                                   NULL), TS_EINVAL);
        assert_non_null (strstr (self->err, "is not a job number"));
    }
    assert_int_equal (s_parse (self, "dlq", "ls", "--job", "1", NULL),
                      TS_EINVAL);
    assert_string_equal (self->err,
                         "dlq ls: --job is an option of dlq redrive only");
    assert_int_equal (s_parse (self, "ids", "ls", "--source", "s", NULL),
                      TS_EINVAL);
    assert_string_equal (self->err,
                         "ids ls: --source is an option of ids add only");
}

static void
hydrate_wait_takes_a_timeout_in_seconds (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "hydrate", "a", "b", "--wait", NULL), 0);
    assert_int_equal (self->req->op, TS_OP_HYDRATE);
    s_assert_ids (self->req, 2, "a", "b");
    assert_true (self->args.wait);
    assert_int_equal (self->args.wait_ms, TS_CLI_WAIT_MS);
    assert_int_equal (s_parse (self, "--timeout", "0.25", "hydrate", "--wait",
                               "a", NULL), 0);
    assert_int_equal (self->args.wait_ms, 250);
    assert_int_equal (s_parse (self, "hydrate", "--wait", "--timeout=600",
                               "a", NULL), 0);
    assert_int_equal (self->args.wait_ms, 600000);
    const char *bad [] = { "0", "-1", "x", "86401", "nan", "1e999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (s_parse (self, "hydrate", "a", "--wait",
                                   "--timeout", bad [i], NULL), TS_EINVAL);
        assert_non_null (strstr (self->err, "is not a number of seconds"));
    }
}

static void
help_and_version_win_wherever_they_stand (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "ids", "add", "x", "--help", NULL), 0);
    assert_true (self->args.help);
    assert_int_equal (s_parse (self, "-h", NULL), 0);
    assert_true (self->args.help);
    assert_int_equal (s_parse (self, "help", NULL), 0);
    assert_true (self->args.help);
    assert_int_equal (s_parse (self, "query", "--version", NULL), 0);
    assert_true (self->args.version);
    assert_false (self->args.help);
    //  An error before them still counts.
    assert_int_equal (s_parse (self, "-x", "--version", NULL), TS_EINVAL);
}

static void
every_command_checks_its_operands (void **state)
{
    fixture_t *self = *state;
    static const struct {
        const char *args [4];
        const char *error;          //  NULL: parses
        ts_op_t     op;
    } cases [] = {
        { { NULL }, "give a COMMAND", 0 },
        { { "fly" }, "unknown command 'fly'", 0 },
        { { "ids" }, "ids: expected add, rm or ls, got ''", 0 },
        { { "ids", "cp" }, "ids: expected add, rm or ls, got 'cp'", 0 },
        { { "dlq", "x" }, "dlq: expected ls, redrive or purge, got 'x'", 0 },
        { { "ping", "x" }, "ping: unexpected 'x'", 0 },
        { { "ids", "ls", "x" }, "ids ls: unexpected 'x'", 0 },
        { { "ids", "add" }, "ids add: give at least one ID", 0 },
        { { "hydrate" }, "hydrate: give at least one ID", 0 },
        { { "ids", "rm" }, "ids rm: give an ID", 0 },
        { { "ids", "rm", "a", "b" }, "ids rm: one ID only, 'b' is extra", 0 },
        { { "query" }, "query: give an ID", 0 },
        { { "query", "a b" }, "invalid id 'a b'", 0 },
        { { "stats", "now" }, "stats: unexpected 'now'", 0 },
        { { "dlq", "purge", "a" }, "dlq purge: unexpected 'a'", 0 },
        { { "stats" }, NULL, TS_OP_STATS },
        { { "dlq", "ls" }, NULL, TS_OP_DLQ_LS },
        { { "dlq", "redrive" }, NULL, TS_OP_DLQ_REDRIVE },
        { { "dlq", "redrive", "a", "b" }, NULL, TS_OP_DLQ_REDRIVE },
        { { "dlq", "purge" }, NULL, TS_OP_DLQ_PURGE },
        { { "ids", "rm", "a" }, NULL, TS_OP_IDS_RM },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases [0]; c++) {
        const char *const *a = cases [c].args;
        int rc = s_parse (self, a [0], a [0]? a [1]: NULL,
                          a [0] && a [1]? a [2]: NULL,
                          a [0] && a [1] && a [2]? a [3]: NULL, NULL);
        if (cases [c].error) {
            if (rc != TS_EINVAL || !strstr (self->err, cases [c].error))
                fail_msg ("case %zu: expected \"%s\", got %d \"%s\"", c,
                          cases [c].error, rc, self->err);
        }
        else {
            if (rc != 0)
                fail_msg ("case %zu: %s", c, self->err);
            assert_int_equal (self->req->op, cases [c].op);
        }
    }
}

static void
more_ids_than_one_request_holds_is_a_usage_error (void **state)
{
    fixture_t *self = *state;
    int argc = TS_PROTO_MAX_IDS + 3;
    char **argv = calloc ((size_t) argc + 1, sizeof (char *));
    assert_non_null (argv);
    argv [0] = "tscache";
    argv [1] = "hydrate";
    for (int i = 2; i < argc; i++)
        argv [i] = "a";
    assert_int_equal (ts_cli_args_parse (&self->args, self->req, argc, argv,
                                         self->err), TS_EINVAL);
    assert_string_equal (self->err,
                         "hydrate: 10001 ids, at most 10000 in one command");
    assert_int_equal (ts_cli_args_parse (&self->args, self->req, argc - 1,
                                         argv, self->err), 0);
    free (argv);
}

//  store init goes to tscache-worker: -c is its one option, nothing
//  follows it, and nothing is put in the request.
static void
store_init_takes_a_config_file_and_nothing_else (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "store", "init", NULL), 0);
    assert_true (self->args.store_init);
    assert_null (self->args.config_path);
    assert_int_equal (s_parse (self, "-c", "a.yaml", "store", "init", NULL),
                      0);
    assert_true (self->args.store_init);
    assert_string_equal (self->args.config_path, "a.yaml");
    assert_int_equal (s_parse (self, "store", "init", "-c", "b.yaml", NULL),
                      0);
    assert_string_equal (self->args.config_path, "b.yaml");
    assert_int_equal (self->req->op, TS_OP_PING);

    assert_int_equal (s_parse (self, "store", NULL), TS_EINVAL);
    assert_string_equal (self->err, "store: expected init, got ''");
    assert_int_equal (s_parse (self, "store", "drop", NULL), TS_EINVAL);
    assert_string_equal (self->err, "store: expected init, got 'drop'");
    assert_int_equal (s_parse (self, "store", "init", "x", NULL), TS_EINVAL);
    assert_string_equal (self->err, "store init: unexpected 'x'");
    assert_int_equal (s_parse (self, "store", "init", "--json", NULL),
                      TS_EINVAL);
    assert_string_equal (self->err, "store init: --json is not an option "
                         "of store init (it takes -c FILE)");
    assert_int_equal (s_parse (self, "store", "init", "-e", "tcp://x:1",
                               NULL), TS_EINVAL);
    assert_int_equal (s_parse (self, "store", "init", "--help", NULL), 0);
    assert_true (self->args.help);
    assert_false (self->args.store_init);
}

static void
cli_ids_add_takes_a_source_and_source_ls_reads_the_config (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "ids", "add", "a", "b", "--source",
                               "prices", NULL), 0);
    assert_int_equal (self->req->op, TS_OP_IDS_ADD);
    assert_string_equal (self->req->source, "prices");
    s_assert_ids (self->req, 2, "a", "b");
    assert_int_equal (s_parse (self, "ids", "add", "a", NULL), 0);
    assert_string_equal (self->req->source, "");
    assert_int_equal (s_parse (self, "ids", "add", "a", "--source", "x y",
                               NULL), TS_EINVAL);
    assert_non_null (strstr (self->err, "invalid source 'x y'"));
    assert_int_equal (s_parse (self, "hydrate", "a", "--source", "p",
                               NULL), TS_EINVAL);
    assert_non_null (strstr (self->err, "--source is an option of ids add"));

    assert_int_equal (s_parse (self, "source", "ls", "-c", "f.yaml",
                               "--json", NULL), 0);
    assert_true (self->args.source_ls);
    assert_true (self->args.json);
    assert_string_equal (self->args.config_path, "f.yaml");
    assert_int_equal (s_parse (self, "source", "rm", NULL), TS_EINVAL);
    assert_int_equal (s_parse (self, "source", "ls", "-t", "5", NULL),
                      TS_EINVAL);
}

static void
source_test_takes_a_source_an_id_and_a_window (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "source", "test", "weather", "st-1",
                               "--json", "-c", "f.yaml", NULL), 0);
    assert_true (self->args.source_test);
    assert_false (self->args.source_ls);
    assert_true (self->args.json);
    assert_string_equal (self->args.test_source, "weather");
    assert_string_equal (self->args.test_id, "st-1");
    assert_string_equal (self->args.config_path, "f.yaml");
    assert_false (self->args.has_from);
    assert_false (self->args.has_to);
    assert_int_equal (s_parse (self, "source", "test", "w", "x", "--from",
                               "1000", "--to", "1970-01-01T00:00:02Z",
                               NULL), 0);
    assert_true (self->args.has_from && self->args.has_to);
    assert_int_equal (self->args.from_ms, 1000);
    assert_int_equal (self->args.to_ms, 2000);
    assert_int_equal (s_parse (self, "source", "test", "w", "x", "--from",
                               "3000", "--to", "2000", NULL), TS_EINVAL);
    assert_non_null (strstr (self->err, "--from is after --to"));
    assert_int_equal (s_parse (self, "source", "test", "w", NULL),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "give NAME ID"));
    assert_int_equal (s_parse (self, "source", "test", "w", "x", "y", NULL),
                      TS_EINVAL);
    assert_int_equal (s_parse (self, "source", "test", "w", "bad id", NULL),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "invalid id 'bad id'"));
    assert_int_equal (s_parse (self, "source", "test", "w", "x", "--from",
                               "soon", NULL), TS_EINVAL);
    assert_non_null (strstr (self->err, "--from: bad time 'soon'"));
    assert_int_equal (s_parse (self, "source", "test", "w", "x", "--wait",
                               NULL), TS_EINVAL);
    assert_non_null (strstr (self->err, "--wait is not an option of source "
                             "test"));
}

static void
query_takes_the_query_parameters (void **state)
{
    fixture_t *self = *state;
    assert_int_equal (s_parse (self, "query", "x", "--measure", "a",
                               "--measure", "b", "--step", "1h", "--agg",
                               "max", "--fill", "previous", "--limit", "10",
                               "--next", "q1.tok", NULL), 0);
    assert_int_equal (self->req->op, TS_OP_QUERY);
    assert_int_equal (self->req->measures->n, 2);
    assert_int_equal (self->req->step_ms, 3600000);
    assert_int_equal (self->req->agg, TS_AGG_MAX);
    assert_int_equal (self->req->fill, TS_FILL_PREVIOUS);
    assert_int_equal (self->req->limit, 10);
    assert_string_equal (self->req->next, "q1.tok");
    assert_int_equal (s_parse (self, "query", "x", "--max-points", "24",
                               NULL), 0);
    assert_int_equal (self->req->max_points, 24);
    //  The query parser's own words, and the whole-request check.
    assert_int_equal (s_parse (self, "query", "x", "--step", "0", NULL),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "step: expected a duration"));
    assert_int_equal (s_parse (self, "query", "x", "--agg", "median",
                               "--step", "1h", NULL), TS_EINVAL);
    assert_int_equal (s_parse (self, "query", "x", "--agg", "max", NULL),
                      TS_EINVAL);
    assert_non_null (strstr (self->err, "query: agg"));
    assert_int_equal (s_parse (self, "ids", "ls", "--step", "1h", NULL),
                      TS_EINVAL);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (options_may_follow_the_operands),
        T (options_may_come_before_the_command),
        T (an_unknown_option_is_a_usage_error_naming_it_never_an_id),
        T (double_dash_ends_options_and_a_leading_dash_id_is_refused),
        T (option_values_are_taken_whatever_they_look_like),
        T (options_of_one_command_are_refused_elsewhere),
        T (dlq_redrive_takes_ids_or_job_numbers),
        T (hydrate_wait_takes_a_timeout_in_seconds),
        T (help_and_version_win_wherever_they_stand),
        T (every_command_checks_its_operands),
        T (more_ids_than_one_request_holds_is_a_usage_error),
        T (store_init_takes_a_config_file_and_nothing_else),
        T (cli_ids_add_takes_a_source_and_source_ls_reads_the_config),
        T (source_test_takes_a_source_an_id_and_a_window),
        T (query_takes_the_query_parameters),
#undef T
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_cli_args", tests, NULL, NULL);
}
