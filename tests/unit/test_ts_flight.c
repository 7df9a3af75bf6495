/*  test_ts_flight - the read-through single-flight table: one flight per
    id until it ends (a notice, a refusal) or its time is up, each flight
    a number of its own so that a query parked on one is never held by
    the next, nor the next ended by a late refusal of the first;
    watchers' eventfds written when a flight ends; and many threads
    starting the same id at once get one flight between them. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../gateway/ts_flight.h"

#define TTL_MS  1000

static void
flight_start_joins_the_flight_in_progress (void **state)
{
    (void) state;
    ts_flight_t *flights = ts_flight_new (TTL_MS);
    assert_non_null (flights);
    uint64_t first = 0, again = 0, other = 0;
    assert_int_equal (ts_flight_start (flights, "a", 100, &first), 0);
    assert_int_equal (ts_flight_start (flights, "a", 200, &again), 1);
    assert_int_equal (again, first);
    assert_int_equal (ts_flight_start (flights, "b", 200, &other), 0);
    assert_int_not_equal (other, first);
    assert_int_equal (ts_flight_size (flights), 2);
    assert_true (ts_flight_active (flights, "a", first, 300));
    assert_false (ts_flight_active (flights, "c", first, 300));
    ts_flight_destroy (&flights);
    assert_null (flights);
}

static void
flight_end_lets_the_next_query_start_a_new_numbered_flight (void **state)
{
    (void) state;
    ts_flight_t *flights = ts_flight_new (TTL_MS);
    uint64_t first = 0, second = 0;
    assert_int_equal (ts_flight_start (flights, "a", 100, &first), 0);
    assert_true (ts_flight_end (flights, "a", 0));
    assert_false (ts_flight_end (flights, "a", 0));
    assert_false (ts_flight_active (flights, "a", first, 100));
    assert_int_equal (ts_flight_start (flights, "a", 150, &second), 0);
    assert_int_not_equal (second, first);
    //  A query parked on the first flight is not held by the second.
    assert_false (ts_flight_active (flights, "a", first, 150));
    assert_true (ts_flight_active (flights, "a", second, 150));
    //  A late answer about the first flight's fetch leaves the second.
    assert_false (ts_flight_end (flights, "a", first));
    assert_true (ts_flight_active (flights, "a", second, 150));
    assert_true (ts_flight_end (flights, "a", second));
    assert_false (ts_flight_active (flights, "a", second, 150));
    ts_flight_destroy (&flights);
}

static void
flight_ends_by_itself_when_its_time_is_up (void **state)
{
    (void) state;
    ts_flight_t *flights = ts_flight_new (TTL_MS);
    uint64_t first = 0, second = 0;
    assert_int_equal (ts_flight_start (flights, "a", 0, &first), 0);
    assert_true (ts_flight_active (flights, "a", first, TTL_MS - 1));
    assert_false (ts_flight_active (flights, "a", first, TTL_MS));
    //  A fetch that wrote nothing sent no notice: the next query asks
    //  again.
    assert_int_equal (ts_flight_start (flights, "a", TTL_MS, &second), 0);
    assert_int_not_equal (second, first);
    ts_flight_destroy (&flights);
}

static void
flight_sweeps_expired_flights_as_the_table_grows (void **state)
{
    (void) state;
    ts_flight_t *flights = ts_flight_new (TTL_MS);
    char id [32];
    uint64_t flight;
    for (int i = 0; i < 3000; i++) {
        snprintf (id, sizeof id, "id-%d", i);
        assert_int_equal (ts_flight_start (flights, id, i * 10, &flight), 0);
    }
    //  Sweeps left only the flights of the last TTL_MS (100 starts), and
    //  what came since the last sweep.
    assert_true (ts_flight_size (flights) < 1100);
    ts_flight_destroy (&flights);
}

static void
flight_end_wakes_every_watcher_and_no_one_unwatched (void **state)
{
    (void) state;
    ts_flight_t *flights = ts_flight_new (TTL_MS);
    int one = eventfd (0, EFD_NONBLOCK);
    int two = eventfd (0, EFD_NONBLOCK);
    assert_int_equal (ts_flight_watch (flights, one), 0);
    assert_int_equal (ts_flight_watch (flights, two), 0);
    uint64_t flight, count = 0;
    assert_int_equal (ts_flight_start (flights, "a", 0, &flight), 0);
    //  Starting wakes no one.
    assert_int_equal (read (one, &count, sizeof count), -1);
    assert_true (ts_flight_end (flights, "a", 0));
    assert_int_equal (read (one, &count, sizeof count), sizeof count);
    assert_int_equal (read (two, &count, sizeof count), sizeof count);
    //  Ending what is not in flight wakes no one either.
    ts_flight_unwatch (flights, two);
    assert_int_equal (ts_flight_start (flights, "b", 0, &flight), 0);
    assert_false (ts_flight_end (flights, "c", 0));
    assert_int_equal (read (one, &count, sizeof count), -1);
    assert_true (ts_flight_end (flights, "b", 0));
    assert_int_equal (read (one, &count, sizeof count), sizeof count);
    assert_int_equal (read (two, &count, sizeof count), -1);
    ts_flight_destroy (&flights);
    close (one);
    close (two);
}

static void
flight_refuses_watchers_past_its_limit (void **state)
{
    (void) state;
    ts_flight_t *flights = ts_flight_new (TTL_MS);
    for (int i = 0; i < TS_FLIGHT_WATCHERS; i++)
        assert_int_equal (ts_flight_watch (flights, 100 + i), 0);
    assert_int_equal (ts_flight_watch (flights, 999), TS_ETOOBIG);
    ts_flight_destroy (&flights);
}

#define THREADS 16

typedef struct {
    ts_flight_t *flights;
    atomic_int   started;
    atomic_int   joined;
} s_race_t;

static void *
s_racer (void *arg)
{
    s_race_t *race = arg;
    for (int i = 0; i < 100; i++) {
        char id [16];
        snprintf (id, sizeof id, "id-%d", i);
        uint64_t flight;
        int rc = ts_flight_start (race->flights, id, 0, &flight);
        atomic_fetch_add (rc == 0? &race->started: &race->joined, 1);
    }
    return NULL;
}

static void
flight_threads_starting_one_id_at_once_share_one_flight (void **state)
{
    (void) state;
    s_race_t race = { .flights = ts_flight_new (60000) };
    atomic_init (&race.started, 0);
    atomic_init (&race.joined, 0);
    pthread_t threads [THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal (pthread_create (&threads [i], NULL, s_racer,
                                          &race), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join (threads [i], NULL);
    assert_int_equal (atomic_load (&race.started), 100);
    assert_int_equal (atomic_load (&race.joined), 100 * (THREADS - 1));
    ts_flight_destroy (&race.flights);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (flight_start_joins_the_flight_in_progress),
        cmocka_unit_test (
            flight_end_lets_the_next_query_start_a_new_numbered_flight),
        cmocka_unit_test (flight_ends_by_itself_when_its_time_is_up),
        cmocka_unit_test (flight_sweeps_expired_flights_as_the_table_grows),
        cmocka_unit_test (
            flight_end_wakes_every_watcher_and_no_one_unwatched),
        cmocka_unit_test (flight_refuses_watchers_past_its_limit),
        cmocka_unit_test (
            flight_threads_starting_one_id_at_once_share_one_flight),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests (tests, NULL, NULL);
}
