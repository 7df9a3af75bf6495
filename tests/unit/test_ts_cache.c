/*  test_ts_cache - the answer cache: hits only with the same stamp
    version and before the forecast expires, stale entries dropped, least
    recently used entries evicted to stay in the budget, oversized answers
    not kept, and several threads at once. Without stamps (a store that
    keeps none) an entry is reused until its own expiry only. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/ts_cache.h"

static const ts_store_stamp_t s_v1 = { 1, INT64_MAX };
static const ts_store_stamp_t s_v2 = { 2, INT64_MAX };

//  True if key is a hit with stamp at now_ms holding exactly text.
static bool
s_hit (ts_cache_t *cache, const char *key, const ts_store_stamp_t *stamp,
       int64_t now_ms, const char *text)
{
    char *data = NULL;
    size_t size = 0;
    if (!ts_cache_get (cache, key, strlen (key), stamp, now_ms, &data,
                       &size))
        return false;
    bool same = size == strlen (text) && memcmp (data, text, size) == 0;
    free (data);
    return same;
}

static void
s_put (ts_cache_t *cache, const char *key, const ts_store_stamp_t *stamp,
       const char *text)
{
    ts_cache_put (cache, key, strlen (key), stamp, text, strlen (text));
}

static void
cache_hits_only_with_the_same_version (void **state)
{
    ts_cache_t *cache = ts_cache_new (1 << 20);
    assert_non_null (cache);
    assert_false (s_hit (cache, "k", &s_v1, 0, ""));
    s_put (cache, "k", &s_v1, "answer one");
    assert_true (s_hit (cache, "k", &s_v1, 0, "answer one"));
    assert_false (s_hit (cache, "other", &s_v1, 0, "answer one"));
    //  Another version: a miss, and the stale entry is gone.
    assert_false (s_hit (cache, "k", &s_v2, 0, "answer one"));
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.entries, 0);
    assert_int_equal (stats.bytes, 0);
    assert_int_equal (stats.hits, 1);
    assert_int_equal (stats.misses, 3);
    //  A put replaces what a key held.
    s_put (cache, "k", &s_v1, "old");
    s_put (cache, "k", &s_v2, "new");
    assert_true (s_hit (cache, "k", &s_v2, 0, "new"));
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.entries, 1);
    //  Empty answers and binary keys are fine.
    ts_cache_put (cache, "a\0b", 3, &s_v1, "", 0);
    char *data = NULL;
    size_t size = 99;
    assert_true (ts_cache_get (cache, "a\0b", 3, &s_v1, 0, &data, &size));
    assert_int_equal (size, 0);
    free (data);
    assert_false (ts_cache_get (cache, "a\0c", 3, &s_v1, 0, &data, &size));
    ts_cache_destroy (&cache);
    assert_null (cache);
    ts_cache_destroy (&cache);
}

static void
cache_misses_once_the_forecast_expires (void **state)
{
    ts_cache_t *cache = ts_cache_new (1 << 20);
    ts_store_stamp_t stamp = { 7, 1000 };
    s_put (cache, "k", &stamp, "with forecast");
    assert_true (s_hit (cache, "k", &stamp, 999, "with forecast"));
    assert_false (s_hit (cache, "k", &stamp, 1000, "with forecast"));
    ts_cache_destroy (&cache);
}

static void
cache_without_stamps_reuses_an_answer_until_it_goes_stale (void **state)
{
    ts_cache_t *cache = ts_cache_new (1 << 20);
    assert_non_null (cache);
    //  Put at 1000 with gateway.cache_stale_ms 2000: stale at 3000.
    ts_store_stamp_t stale_at = { 0, 3000 };
    s_put (cache, "k", &stale_at, "answer");
    assert_true (s_hit (cache, "k", NULL, 1000, "answer"));
    assert_true (s_hit (cache, "k", NULL, 2999, "answer"));
    assert_false (s_hit (cache, "k", NULL, 3000, "answer"));
    //  The stale entry is gone, not kept for a later lookup.
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.entries, 0);
    assert_int_equal (stats.bytes, 0);
    assert_false (s_hit (cache, "k", NULL, 1000, "answer"));
    //  A new put starts a new window.
    stale_at.expires_ms = 5000;
    s_put (cache, "k", &stale_at, "answer two");
    assert_true (s_hit (cache, "k", NULL, 4000, "answer two"));
    ts_cache_destroy (&cache);
}

static void
cache_evicts_least_recently_used_to_stay_in_budget (void **state)
{
    //  64 kB: room for a few 7 kB answers (each at most an eighth).
    ts_cache_t *cache = ts_cache_new (64 * 1024);
    char answer [7000];
    memset (answer, 'x', sizeof answer - 1);
    answer [sizeof answer - 1] = 0;
    char key [32];
    for (int i = 0; i < 20; i++) {
        snprintf (key, sizeof key, "k%d", i);
        s_put (cache, key, &s_v1, answer);
        //  k0 is used all along, so it stays.
        assert_true (s_hit (cache, "k0", &s_v1, 0, answer));
    }
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    assert_true (stats.bytes <= 64 * 1024);
    assert_true (stats.entries >= 7 && stats.entries <= 9);
    assert_true (s_hit (cache, "k19", &s_v1, 0, answer));
    assert_false (s_hit (cache, "k1", &s_v1, 0, answer));
    //  An answer over an eighth of the budget is not kept.
    char *big = calloc (1, 9000);
    memset (big, 'y', 8999);
    s_put (cache, "big", &s_v1, big);
    assert_false (s_hit (cache, "big", &s_v1, 0, big));
    free (big);
    ts_cache_destroy (&cache);
}

static void *
s_worker (void *arg)
{
    ts_cache_t *cache = arg;
    char key [32], text [64];
    for (int i = 0; i < 20000; i++) {
        snprintf (key, sizeof key, "k%d", i % 50);
        snprintf (text, sizeof text, "answer of %s", key);
        ts_store_stamp_t stamp = { (uint64_t) (i % 3), INT64_MAX };
        char *data = NULL;
        size_t size = 0;
        if (ts_cache_get (cache, key, strlen (key), &stamp, 0, &data, &size)) {
            if (size != strlen (text) || memcmp (data, text, size) != 0)
                abort ();
            free (data);
        }
        else
            ts_cache_put (cache, key, strlen (key), &stamp, text,
                          strlen (text));
    }
    return NULL;
}

static void
cache_serves_several_threads (void **state)
{
    ts_cache_t *cache = ts_cache_new (8 * 1024);
    pthread_t threads [4];
    for (int i = 0; i < 4; i++)
        assert_int_equal (pthread_create (&threads [i], NULL, s_worker,
                                          cache), 0);
    for (int i = 0; i < 4; i++)
        pthread_join (threads [i], NULL);
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.hits + stats.misses, 80000);
    assert_true (stats.bytes <= 8 * 1024);
    ts_cache_destroy (&cache);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (cache_hits_only_with_the_same_version),
        cmocka_unit_test (cache_misses_once_the_forecast_expires),
        cmocka_unit_test (cache_without_stamps_reuses_an_answer_until_it_goes_stale),
        cmocka_unit_test (cache_evicts_least_recently_used_to_stay_in_budget),
        cmocka_unit_test (cache_serves_several_threads),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_cache", tests, NULL, NULL);
}
