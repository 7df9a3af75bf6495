/*  test_store_contract_procs - what every store configuration keeps
    when it is used at once (common/store/ts_store.h: "Threads", and the
    contract for a concurrent reader), run against each configuration of
    ts_store_fixture.h: several threads on one handle, two processes
    writing at once, and readers of another process's writes that see
    each role's write whole and never a document's new forecast beside
    its previous history. Every loop is bounded in count and in time. */

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "ts_store_fixture.h"

#define THREADS         8
#define THREAD_BATCHES  50
#define THREAD_BATCH    20

typedef struct {
    ts_store_t *store;          //  shared by every thread
    char        id [16];        //  this thread's id
    int         failures;       //  checks that failed
} worker_t;

static void *
s_thread_work (void *arg)
{
    worker_t *worker = arg;
    ts_points_t *pts = ts_points_new ();
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN];
    for (int b = 0; b < THREAD_BATCHES && pts && out; b++) {
        ts_points_clear (pts);
        for (int i = 0; i < THREAD_BATCH; i++)
            ts_points_append (pts, b * THREAD_BATCH + i, "value", b);
        if (ts_store_history_put (worker->store, worker->id, pts, err))
            worker->failures++;
        ts_points_clear (out);
        if (ts_store_history_range (worker->store, worker->id, NULL,
                                    FOREVER_FROM, FOREVER_TO, out, err)
        ||  out->n != (size_t) (b + 1) * THREAD_BATCH)
            worker->failures++;
    }
    ts_points_destroy (&pts);
    ts_points_destroy (&out);
    return NULL;
}

static void
store_serves_several_threads_through_one_handle (void **state)
{
    fixture_t *fx = *state;
    pthread_t threads [THREADS];
    worker_t workers [THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers [i].store = fx->store;
        snprintf (workers [i].id, sizeof workers [i].id, "t%d", i);
        workers [i].failures = 0;
        assert_int_equal (pthread_create (&threads [i], NULL, s_thread_work,
                                          &workers [i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join (threads [i], NULL);
        assert_int_equal (workers [i].failures, 0);
        assert_int_equal (s_count (fx->store, workers [i].id),
                          THREAD_BATCHES * THREAD_BATCH);
    }
}

#define PROC_POINTS  2000
#define PROC_BATCH   50
#define PROC_WAIT_MS 60000      //  longest a process waits for another

//  In a child process: opens its own store, waits for a byte on start_fd,
//  writes PROC_POINTS points of id in batches, then waits (bounded) for
//  the parent's. Returns 0 or 1 (an exit status).
static int
s_child_write (const fixture_t *fx, const char *id, int start_fd)
{
    char err [TS_ERRLEN] = "";
    ts_store_t *store = s_store_open (fx, err);
    char c;
    int rc = store && read (start_fd, &c, 1) == 1? 0: 1;
    if (rc == 0)
        rc = s_put_batches (store, id, PROC_POINTS / PROC_BATCH, PROC_BATCH,
                            0, err);
    if (rc)
        fprintf (stderr, "child: %s\n", err);
    int64_t deadline = s_clock_ms () + PROC_WAIT_MS;
    while (rc == 0 && s_count (store, "parent") != PROC_POINTS
    &&     s_clock_ms () < deadline)
        usleep (10000);
    if (rc == 0 && (s_count (store, "parent") != PROC_POINTS
                ||  s_count (store, id) != PROC_POINTS))
        rc = 1;
    ts_store_destroy (&store);
    return rc? 1: 0;
}

static void
two_processes_write_at_once_and_both_see_all (void **state)
{
    fixture_t *fx = *state;
    //  Each process must have its own handle, opened after the fork.
    ts_store_destroy (&fx->store);
    int start [2];
    assert_int_equal (pipe (start), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (start [1]);
        _exit (s_child_write (fx, "child", start [0]));
    }
    close (start [0]);
    s_open (fx);
    assert_int_equal (write (start [1], "g", 1), 1);
    close (start [1]);
    char err [TS_ERRLEN] = "";
    assert_int_equal (s_put_batches (fx->store, "parent",
                      PROC_POINTS / PROC_BATCH, PROC_BATCH, 0, err), 0);
    assert_int_equal (s_wait_child (pid), 0);
    assert_int_equal (s_count (fx->store, "parent"), PROC_POINTS);
    assert_int_equal (s_count (fx->store, "child"), PROC_POINTS);
}

#define GENERATIONS  40         //  documents the writer writes per id
#define GEN_HISTORY  5          //  history points of one generation
#define GEN_FORECAST 8          //  forecast points of every generation
#define GEN_IDS      3          //  ids written by each batch
#define GEN_NOW      INT64_C (1000000)
#define MAX_READS    1000000    //  reads of one reader thread, at most
#define READERS      4          //  reader threads

//  In a child process: writes GENERATIONS batches of GEN_IDS documents.
//  Generation g of an id adds GEN_HISTORY history points, valued g,
//  after those of g - 1, and replaces its forecast with GEN_FORECAST
//  points valued g. Returns 0 or 1 (an exit status).
static int
s_child_generations (const fixture_t *fx)
{
    char err [TS_ERRLEN] = "";
    ts_store_t *store = s_store_open (fx, err);
    int rc = store? 0: 1;
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    const char *ids [GEN_IDS] = { "p0", "p1", "p2" };
    for (int g = 1; g <= GENERATIONS && rc == 0 && history && forecast;
         g++) {
        ts_points_clear (history);
        ts_points_clear (forecast);
        for (int i = 0; i < GEN_HISTORY; i++)
            ts_points_append (history, (g - 1) * GEN_HISTORY + i, "value", g);
        for (int i = 0; i < GEN_FORECAST; i++)
            ts_points_append (forecast, GEN_NOW + i, "value", g);
        ts_store_doc_t docs [GEN_IDS];
        for (int d = 0; d < GEN_IDS; d++)
            docs [d] = (ts_store_doc_t) { ids [d], history, forecast, 0 };
        rc = ts_store_write_batch (store, docs, GEN_IDS, GEN_NOW, err);
        usleep (500);
    }
    if (!history || !forecast)
        rc = TS_ENOMEM;
    if (rc)
        fprintf (stderr, "child: %s\n", err);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
    ts_store_destroy (&store);
    return rc? 1: 0;
}

//  Checks one answer of the generations child; returns NULL or what is
//  wrong. *gh, *gf: generations of its history and forecast.
static const char *
s_check_generations (const ts_store_answer_t *ans, unsigned caps, int *gh,
                     int *gf)
{
    if (!ans->exists)
        return "id not registered";
    size_t n = ans->history->n;
    if (n % GEN_HISTORY)
        return "history holds part of a generation";
    for (size_t i = 0; i < n; i++)
        if (ans->history->value [i] != (double) (i / GEN_HISTORY + 1))
            return "history is not whole generations in order";
    *gh = (int) (n / GEN_HISTORY);
    size_t m = ans->forecast->n;
    if (m != 0 && m != GEN_FORECAST)
        return "forecast holds part of a replace";
    *gf = m? (int) ans->forecast->value [0]: 0;
    for (size_t i = 0; i < m; i++)
        if (ans->forecast->value [i] != (double) *gf)
            return "forecast mixes generations";
    if (*gf > *gh)
        return "new forecast beside the previous history";
    if ((caps & TS_STORE_CAP_ATOMIC) && (caps & TS_STORE_CAP_SNAPSHOT)
    &&  *gf != *gh)
        return "history and forecast of different documents";
    return NULL;
}

//  One reader thread of the generations child's store: reads every id in
//  turn until stop is set, checking each answer and that no read goes
//  back in time. Asserts nothing (a thread): says what is wrong in wrong.
typedef struct {
    ts_store_t  *store;         //  shared by every reader
    unsigned     caps;          //  ts_store_caps of the store
    atomic_int  *stop;          //  set once the writer has exited
    int64_t      deadline;      //  monotonic clock, ms
    const char  *wrong;         //  the first inconsistency, or NULL
    char         err [TS_ERRLEN];
    int          reads;         //  answers read
} reader_t;

static void *
s_read_generations (void *arg)
{
    reader_t *reader = arg;
    const char *ids [GEN_IDS] = { "p0", "p1", "p2" };
    int last_gh [GEN_IDS] = { 0 }, last_gf [GEN_IDS] = { 0 };
    ts_store_answer_t ans = { .history = ts_points_new (),
                              .forecast = ts_points_new () };
    if (!ans.history || !ans.forecast)
        reader->wrong = "out of memory";
    while (!reader->wrong && reader->reads < MAX_READS
    &&     !atomic_load (reader->stop) && s_clock_ms () < reader->deadline)
        for (int d = 0; d < GEN_IDS && !reader->wrong; d++) {
            ts_store_query_t q = { ids [d], NULL, FOREVER_FROM, FOREVER_TO,
                                   GEN_NOW, GENERATIONS * GEN_HISTORY };
            s_answer_clear (&ans);
            int gh = 0, gf = 0;
            if (ts_store_read (reader->store, &q, &ans, reader->err))
                reader->wrong = reader->err;
            else
                reader->wrong = s_check_generations (&ans, reader->caps,
                                                     &gh, &gf);
            if (!reader->wrong && (gh < last_gh [d] || gf < last_gf [d]))
                reader->wrong = "a read went back in time";
            last_gh [d] = gh;
            last_gf [d] = gf;
            reader->reads++;
        }
    s_answer_destroy (&ans);
    return NULL;
}

static void
reader_never_sees_a_new_forecast_beside_the_previous_history
    (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [GEN_IDS] = { "p0", "p1", "p2" };
    assert_int_equal (ts_store_ids_add (fx->store, ids, GEN_IDS, NULL, err),
                      0);
    unsigned caps = ts_store_caps (fx->store);
    ts_store_destroy (&fx->store);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0)
        _exit (s_child_generations (fx));
    //  More readers than cores: a reader is often preempted between the
    //  roles of one read, the moment a wrong order of reads shows.
    s_open (fx);
    atomic_int stop = 0;
    int64_t deadline = s_clock_ms () + PROC_WAIT_MS;
    reader_t readers [READERS];
    pthread_t threads [READERS];
    for (int i = 0; i < READERS; i++) {
        readers [i] = (reader_t) { .store = fx->store, .caps = caps,
                                   .stop = &stop, .deadline = deadline };
        assert_int_equal (pthread_create (&threads [i], NULL,
                                          s_read_generations, &readers [i]),
                          0);
    }
    int status = 0;
    bool done = false;
    while (!done && s_clock_ms () < deadline) {
        done = waitpid (pid, &status, WNOHANG) == pid;
        if (!done)
            usleep (1000);
    }
    atomic_store (&stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join (threads [i], NULL);
    if (!done) {
        kill (pid, SIGKILL);
        waitpid (pid, &status, 0);
    }
    int reads = 0;
    for (int i = 0; i < READERS; i++) {
        if (readers [i].wrong)
            fail_msg ("reader %d, read %d: %s", i, readers [i].reads,
                      readers [i].wrong);
        reads += readers [i].reads;
    }
    assert_true (done);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    assert_true (reads > 0);
    //  The end state is complete.
    ts_store_answer_t ans = s_answer_new ();
    for (int d = 0; d < GEN_IDS; d++) {
        ts_store_query_t q = { ids [d], NULL, FOREVER_FROM, FOREVER_TO,
                               GEN_NOW, GENERATIONS * GEN_HISTORY };
        s_answer_clear (&ans);
        assert_int_equal (ts_store_read (fx->store, &q, &ans, err), 0);
        int gh = 0, gf = 0;
        assert_null (s_check_generations (&ans, caps, &gh, &gf));
        assert_int_equal (gh, GENERATIONS);
        assert_int_equal (gf, GENERATIONS);
    }
    s_answer_destroy (&ans);
}

static void
reader_sees_only_whole_history_puts_of_another_process (void **state)
{
    fixture_t *fx = *state;
    ts_store_destroy (&fx->store);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        //  Writes batches of PROC_BATCH points; the parent reads meanwhile.
        char err [TS_ERRLEN] = "";
        ts_store_t *store = s_store_open (fx, err);
        int rc = store? s_put_batches (store, "w", PROC_POINTS / PROC_BATCH,
                                       PROC_BATCH, 1000, err): 1;
        ts_store_destroy (&store);
        _exit (rc? 1: 0);
    }
    s_open (fx);
    long last = 0, n = 0;
    int reads = 0, status = 0;
    int64_t deadline = s_clock_ms () + PROC_WAIT_MS;
    bool done = false;
    while (!done && reads < MAX_READS && s_clock_ms () < deadline) {
        done = waitpid (pid, &status, WNOHANG) == pid;
        n = s_count (fx->store, "w");
        if (n < last || n % PROC_BATCH)
            break;
        last = n;
        reads++;
    }
    if (!done) {
        kill (pid, SIGKILL);
        waitpid (pid, &status, 0);
    }
    assert_int_equal (n % PROC_BATCH, 0);
    assert_true (n >= last);
    assert_true (done);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    assert_true (reads > 0);
    assert_int_equal (s_count (fx->store, "w"), PROC_POINTS);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (store_serves_several_threads_through_one_handle),
        T (two_processes_write_at_once_and_both_see_all),
        T (reader_never_sees_a_new_forecast_beside_the_previous_history),
        T (reader_sees_only_whole_history_puts_of_another_process),
    };
#undef T
    return s_run_per_backend ("store contract procs", tests,
                              sizeof tests / sizeof tests [0]);
}
