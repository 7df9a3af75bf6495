/*  test_ts_tally - the worker's counters and their periodic INFO line:
    failures counted by the kinds of ts_fetch_kinds (those the metrics
    page names too), a line only when a period saw something, and one
    failed_KIND field per kind counted. The line goes to stderr, read
    back here through a temporary file. */

#include "../../workers/ts_tally.h"
#include "ts_log.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  The index of kind in ts_fetch_kinds.
static size_t
s_index (const char *kind)
{
    for (size_t i = 0; ts_fetch_kinds [i]; i++)
        if (strcmp (ts_fetch_kinds [i], kind) == 0)
            return i;
    fail_msg ("no kind %s", kind);
    return 0;
}

static void
tally_has_room_for_every_kind (void **state)
{
    (void) state;
    size_t n = 0;
    while (ts_fetch_kinds [n])
        n++;
    assert_true (n <= TS_TALLY_KINDS);
}

static void
tally_counts_failures_by_kind_and_unknown_as_worker (void **state)
{
    (void) state;
    ts_tally_t tally;
    ts_tally_start (&tally, 1000);
    ts_tally_failed (&tally, "timeout");
    ts_tally_failed (&tally, "http_5xx");
    ts_tally_failed (&tally, "http_5xx");
    ts_tally_failed (&tally, "no such kind");
    ts_tally_failed (&tally, NULL);
    assert_int_equal (tally.failed [s_index ("timeout")], 1);
    assert_int_equal (tally.failed [s_index ("http_5xx")], 2);
    assert_int_equal (tally.failed [s_index ("worker")], 2);
    assert_int_equal (tally.failed [s_index ("store")], 0);
}

//  Runs ts_tally_tick (tally, now) with stderr in a file; returns what
//  was written (heap) and the next end in *next.
static char *
s_tick (ts_tally_t *tally, int64_t now, int64_t *next)
{
    fflush (stderr);
    FILE *file = tmpfile ();
    assert_non_null (file);
    int saved = dup (STDERR_FILENO);
    dup2 (fileno (file), STDERR_FILENO);
    *next = ts_tally_tick (tally, now);
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    close (saved);
    //  Written through the descriptor: its offset is the size.
    off_t size = lseek (fileno (file), 0, SEEK_END);
    assert_true (size >= 0);
    char *text = calloc (1, (size_t) size + 1);
    assert_non_null (text);
    assert_int_equal (pread (fileno (file), text, (size_t) size, 0), size);
    fclose (file);
    return text;
}

static void
tally_writes_a_line_per_busy_period_with_the_kinds_counted (void **state)
{
    (void) state;
    ts_log_set_format (TS_LOG_LOGFMT);
    ts_tally_t tally;
    ts_tally_start (&tally, 0);
    int64_t next;
    char *text = s_tick (&tally, 5000, &next);
    assert_string_equal (text, "");             //  the period is not over
    assert_int_equal (next, TS_TALLY_PERIOD_MS);
    free (text);
    tally.jobs_done = 3;
    tally.fetched = 5;
    tally.points = 2880;
    ts_tally_failed (&tally, "http_4xx");
    text = s_tick (&tally, TS_TALLY_PERIOD_MS, &next);
    assert_int_equal (next, 2 * TS_TALLY_PERIOD_MS);
    assert_non_null (strstr (text, "jobs_done=3"));
    assert_non_null (strstr (text, "fetched=5"));
    assert_non_null (strstr (text, "failed=1"));
    assert_non_null (strstr (text, "failed_http_4xx=1"));
    assert_non_null (strstr (text, "points=2880"));
    assert_null (strstr (text, "failed_timeout"));  //  only kinds counted
    free (text);
    //  The next period starts from zero; with nothing done, no line.
    assert_int_equal (tally.jobs_done, 0);
    text = s_tick (&tally, 2 * TS_TALLY_PERIOD_MS, &next);
    assert_string_equal (text, "");
    assert_int_equal (next, 3 * TS_TALLY_PERIOD_MS);
    free (text);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (tally_has_room_for_every_kind),
        cmocka_unit_test (tally_counts_failures_by_kind_and_unknown_as_worker),
        cmocka_unit_test (
            tally_writes_a_line_per_busy_period_with_the_kinds_counted),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
