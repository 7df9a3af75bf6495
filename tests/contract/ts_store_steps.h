/*  ts_store_steps - small steps on a store that the store's tests share
    (the contract suites through ts_store_fixture.h, and the LMDB unit
    test): fill point lists, put and count points, write in batches from
    a child process, wait for it, read the clock. Header-only, static
    inline; only common/store/ts_store.h. */

#ifndef TS_STORE_STEPS_H_INCLUDED
#define TS_STORE_STEPS_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ts_store.h"

#define FOREVER_FROM  INT64_MIN
#define FOREVER_TO    INT64_MAX

//  Appends n points of measure at times start, start + step, ... with
//  value = time * scale.
static inline void
s_fill (ts_points_t *pts, const char *measure, int64_t start, int64_t step,
        size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) {
        int64_t t = start + (int64_t) i * step;
        assert_int_equal (ts_points_append (pts, t, measure, t * scale), 0);
    }
}

//  Puts n points of measure "value" for id, times start + i * step.
static inline void
s_put (ts_store_t *store, const char *id, int64_t start, int64_t step,
       size_t n)
{
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    s_fill (pts, "value", start, step, n, 1.0);
    char err [TS_ERRLEN] = "";
    int rc = ts_store_history_put (store, id, pts, err);
    if (rc)
        fail_msg ("history_put %s: %s", id, err);
    ts_points_destroy (&pts);
}

//  Number of history points of id in the whole time range, or -1.
static inline long
s_count (ts_store_t *store, const char *id)
{
    ts_points_t *out = ts_points_new ();
    if (!out)
        return -1;
    char err [TS_ERRLEN] = "";
    int rc = ts_store_history_range (store, id, NULL, FOREVER_FROM,
                                     FOREVER_TO, out, err);
    long n = rc == 0? (long) out->n: -1;
    if (rc)
        fprintf (stderr, "history_range %s: %s\n", id, err);
    ts_points_destroy (&out);
    return n;
}

//  Number of forecast points of id not expired at now_ms, or -1.
static inline long
s_forecast_count (ts_store_t *store, const char *id, int64_t now_ms)
{
    ts_points_t *out = ts_points_new ();
    if (!out)
        return -1;
    char err [TS_ERRLEN] = "";
    int rc = ts_store_forecast_range (store, id, NULL, FOREVER_FROM,
                                      FOREVER_TO, now_ms, out, err);
    long n = rc == 0? (long) out->n: -1;
    if (rc)
        fprintf (stderr, "forecast_range %s: %s\n", id, err);
    ts_points_destroy (&out);
    return n;
}

//  For child processes (no asserts): puts batches of size points of
//  measure "value" for id, times b * size + i and values i, sleeping
//  pause_us after each batch. Returns 0 or the first error, detail in err.
static inline int
s_put_batches (ts_store_t *store, const char *id, int batches, int size,
               useconds_t pause_us, char *err)
{
    ts_points_t *pts = ts_points_new ();
    int rc = pts? 0: TS_ENOMEM;
    for (int b = 0; b < batches && rc == 0; b++) {
        ts_points_clear (pts);
        for (int i = 0; i < size; i++)
            ts_points_append (pts, b * size + i, "value", i);
        rc = ts_store_history_put (store, id, pts, err);
        if (pause_us)
            usleep (pause_us);
    }
    ts_points_destroy (&pts);
    return rc;
}

//  Milliseconds on the monotonic clock, for bounding loops in time.
static inline int64_t
s_clock_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define S_CHILD_WAIT_MS  120000     //  longest wait for a child process

//  Waits for child pid, S_CHILD_WAIT_MS at most (then kills it); returns
//  its exit status, or -1 if it did not exit by itself.
static inline int
s_wait_child (pid_t pid)
{
    int status = 0;
    int64_t deadline = s_clock_ms () + S_CHILD_WAIT_MS;
    pid_t got = 0;
    while ((got = waitpid (pid, &status, WNOHANG)) == 0
    &&     s_clock_ms () < deadline)
        usleep (1000);
    if (got == 0) {
        fprintf (stderr, "child %d still runs after %d ms: killed\n",
                 (int) pid, S_CHILD_WAIT_MS);
        kill (pid, SIGKILL);
        waitpid (pid, &status, 0);
        return -1;
    }
    if (got != pid)
        return -1;
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

#endif
