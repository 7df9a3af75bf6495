/*  ts_queue_fixture - what the queue contract suites share: the backends
    under test, a fresh queue per test in a temporary directory, and
    small steps (push one id, lease one job, stats). Header-only, static
    inline, so that each suite compiles it alone. Times are fixed epoch
    milliseconds passed to the queue, so no test sleeps. */

#ifndef TS_QUEUE_FIXTURE_H_INCLUDED
#define TS_QUEUE_FIXTURE_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_contract.h"
#include "../../broker/queue/ts_queue.h"

#define T0          INT64_C (1700000000000)     //  "now" of every test
#define VISIBILITY  10000                       //  visibility_timeout_s 10
#define BASE        1000                        //  retry_base_ms
#define MAX_DELAY   5000                        //  retry_max_ms
#define RETENTION   3600000                     //  dlq_retention_s 3600

//  A backend under test: its name and the broker.* lines it needs, with
//  %s for a fresh directory of the test.
typedef struct {
    const char *name;
    const char *yaml;
} s_backend_t;

static const s_backend_t s_backends [] = {
    { "lmdb", "  queue_path: %s/queue\n  queue_map_size_mb: 16\n" },
};

typedef struct {
    const s_backend_t *backend; //  the backend under test
    char         dir [64];      //  temporary directory
    int          visibility_s;  //  broker.visibility_timeout_s
    ts_config_t *cfg;           //  config of the current queue
    ts_queue_t  *queue;         //  open queue, or NULL
    ts_job_t    *job;           //  scratch job
} fixture_t;

static inline int
s_rm_entry (const char *path, const struct stat *st, int flag,
            struct FTW *ftw)
{
    return remove (path);
}

//  Loads a config for the backend with max_receives and extra YAML lines
//  of the broker section; replaces fx->cfg.
static inline void
s_config (fixture_t *fx, int max_receives, const char *extra)
{
    char text [1024], own [512], err [TS_ERRLEN] = "";
    snprintf (own, sizeof own, fx->backend->yaml, fx->dir);
    snprintf (text, sizeof text,
              "broker:\n"
              "  queue_backend: %s\n"
              "%s"
              "  visibility_timeout_s: %d\n"
              "  max_receives: %d\n"
              "  retry_base_ms: %d\n"
              "  retry_max_ms: %d\n"
              "  dlq_retention_s: %d\n"
              "%s", fx->backend->name, own, fx->visibility_s, max_receives,
              BASE, MAX_DELAY, RETENTION / 1000, extra? extra: "");
    ts_config_destroy (&fx->cfg);
    fx->cfg = ts_config_load_text (text, "test.yaml", err);
    if (!fx->cfg)
        fail_msg ("config: %s", err);
}

//  Opens the queue on fx->cfg at now_ms.
static inline void
s_open (fixture_t *fx, int64_t now_ms)
{
    char err [TS_ERRLEN] = "";
    fx->queue = ts_queue_new (fx->cfg, now_ms, err);
    if (!fx->queue)
        fail_msg ("open: %s", err);
}

static inline int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    fx->backend = *state;
    fx->visibility_s = VISIBILITY / 1000;
    snprintf (fx->dir, sizeof fx->dir, "/tmp/test_queue_contract.XXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    fx->job = ts_job_new ();
    assert_non_null (fx->job);
    s_config (fx, 3, NULL);
    s_open (fx, T0);
    *state = fx;
    return 0;
}

static inline int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    ts_queue_destroy (&fx->queue);
    ts_config_destroy (&fx->cfg);
    ts_job_destroy (&fx->job);
    nftw (fx->dir, s_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free (fx);
    return 0;
}

//  Closes the queue and opens it again (same config) at now_ms.
static inline void
s_reopen (fixture_t *fx, int64_t now_ms)
{
    ts_queue_destroy (&fx->queue);
    s_open (fx, now_ms);
}

//  Pushes one id; returns the job id (asserts one id was queued).
static inline uint64_t
s_push1 (ts_queue_t *queue, const char *id, int64_t now_ms)
{
    const char *ids [] = { id };
    uint64_t job_id = 0;
    assert_int_equal (ts_queue_push (queue, ids, 1, now_ms, &job_id, NULL), 1);
    assert_true (job_id > 0);
    return job_id;
}

//  Leases the next job to owner at now_ms; returns its id.
static inline uint64_t
s_lease (fixture_t *fx, const char *owner, int64_t now_ms)
{
    char err [TS_ERRLEN] = "";
    int rc = ts_queue_lease (fx->queue, owner, now_ms, fx->job, err);
    if (rc != 0)
        fail_msg ("lease: %s", err);
    return fx->job->id;
}

static inline ts_queue_stats_t
s_stats (fixture_t *fx, int64_t now_ms)
{
    ts_queue_stats_t stats;
    assert_int_equal (ts_queue_stats (fx->queue, now_ms, &stats, NULL), 0);
    return stats;
}

//  ---------------------------------------------------------------------


//  Runs tests (n of them) once per backend wanted (ts_contract_run).
static inline int
s_run_per_backend (const char *suite, struct CMUnitTest *tests, size_t n)
{
    return ts_contract_run (suite, tests, n, s_backends, sizeof s_backends [0],
                            sizeof s_backends / sizeof s_backends [0]);
}

#endif
