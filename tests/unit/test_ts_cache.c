/*  test_ts_cache - the answer cache: hits only with the same stamp
    version and before the forecast expires, stale entries dropped, least
    recently used entries evicted to stay in the budget, oversized answers
    not kept, and several threads at once. Without stamps (a store that
    keeps none) an entry is reused until its own expiry only. Change
    notices: dropping an id voids its answers and no other id's, also an
    answer being read while the notice came; dropping all frees every
    entry. Admission: by default every answer is kept; set to second, an
    answer is admitted from its key's second time on, whatever other keys
    were seen in between (within the table). Freed memory is given back
    once a quarter of the budget is freed, at most once a second. In these tests a key is also
    the id of its answer. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

//  Puts text under key (the id too), stamped, to be served before
//  until_ms, with a tag taken now.
static void
s_put_until (ts_cache_t *cache, const char *key,
             const ts_store_stamp_t *stamp, int64_t until_ms,
             const char *text)
{
    ts_cache_tag_t tag;
    ts_cache_tag (cache, key, &tag);
    ts_cache_put (cache, key, strlen (key), &tag, stamp, until_ms, text,
                  strlen (text));
}

static void
s_put (ts_cache_t *cache, const char *key, const ts_store_stamp_t *stamp,
       const char *text)
{
    s_put_until (cache, key, stamp, INT64_MAX, text);
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
    ts_cache_tag_t tag;
    ts_cache_tag (cache, "a", &tag);
    ts_cache_put (cache, "a\0b", 3, &tag, &s_v1, INT64_MAX, "", 0);
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
    s_put_until (cache, "k", NULL, 3000, "answer");
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
    s_put_until (cache, "k", NULL, 5000, "answer two");
    assert_true (s_hit (cache, "k", NULL, 4000, "answer two"));
    //  A stamped lookup never takes an entry put without a stamp.
    assert_false (s_hit (cache, "k", &s_v1, 4000, "answer two"));
    ts_cache_destroy (&cache);
}

static void
cache_serves_no_answer_past_its_until_even_with_the_same_stamp (void **state)
{
    ts_cache_t *cache = ts_cache_new (1 << 20);
    //  gateway.cache_ttl_s caps a stamped answer too.
    s_put_until (cache, "k", &s_v1, 500, "answer");
    assert_true (s_hit (cache, "k", &s_v1, 499, "answer"));
    assert_false (s_hit (cache, "k", &s_v1, 500, "answer"));
    ts_cache_destroy (&cache);
}

static void
cache_drop_id_voids_the_answers_of_that_id_only (void **state)
{
    ts_cache_t *cache = ts_cache_new (1 << 20);
    s_put (cache, "a", NULL, "answer of a");
    s_put (cache, "b", NULL, "answer of b");
    s_put (cache, "c", &s_v1, "answer of c");
    ts_cache_drop_id (cache, "a");
    ts_cache_drop_id (cache, "c");
    assert_false (s_hit (cache, "a", NULL, 0, "answer of a"));
    assert_true (s_hit (cache, "b", NULL, 0, "answer of b"));
    //  With stamps a notice only costs a miss.
    assert_false (s_hit (cache, "c", &s_v1, 0, "answer of c"));
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.entries, 1);
    assert_int_equal (stats.dropped_ids, 2);
    //  Read again after the notice: served until the next one.
    s_put (cache, "a", NULL, "new answer of a");
    assert_true (s_hit (cache, "a", NULL, 0, "new answer of a"));
    assert_true (s_hit (cache, "a", NULL, 0, "new answer of a"));
    ts_cache_drop_id (cache, "a");
    assert_false (s_hit (cache, "a", NULL, 0, "new answer of a"));
    ts_cache_destroy (&cache);
}

static void
cache_keeps_no_answer_read_while_a_notice_of_its_id_came (void **state)
{
    ts_cache_t *cache = ts_cache_new (1 << 20);
    ts_cache_tag_t tag_a, tag_b;
    ts_cache_tag (cache, "a", &tag_a);          //  before the reads
    ts_cache_tag (cache, "b", &tag_b);
    ts_cache_drop_id (cache, "a");              //  a write of a, noticed
    ts_cache_put (cache, "a", 1, &tag_a, NULL, INT64_MAX, "old", 3);
    ts_cache_put (cache, "b", 1, &tag_b, NULL, INT64_MAX, "fine", 4);
    assert_false (s_hit (cache, "a", NULL, 0, "old"));
    assert_true (s_hit (cache, "b", NULL, 0, "fine"));
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.entries, 1);
    ts_cache_destroy (&cache);
}

static void
cache_drop_all_frees_every_entry_and_voids_older_tags (void **state)
{
    ts_cache_t *cache = ts_cache_new (1 << 20);
    ts_cache_tag_t tag;
    ts_cache_tag (cache, "z", &tag);
    assert_false (tag.heard);
    ts_cache_set_heard (cache, true);
    char key [16];
    for (int i = 0; i < 100; i++) {
        snprintf (key, sizeof key, "k%d", i);
        s_put (cache, key, i % 2? &s_v1: NULL, "answer");
    }
    ts_cache_drop_all (cache);
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.entries, 0);
    assert_int_equal (stats.bytes, 0);
    assert_int_equal (stats.dropped_all, 1);
    assert_false (s_hit (cache, "k0", NULL, 0, "answer"));
    assert_false (s_hit (cache, "k1", &s_v1, 0, "answer"));
    //  An answer read before the drop is not kept; one read after is.
    ts_cache_put (cache, "z", 1, &tag, NULL, INT64_MAX, "old", 3);
    assert_false (s_hit (cache, "z", NULL, 0, "old"));
    s_put (cache, "k0", NULL, "answer");
    assert_true (s_hit (cache, "k0", NULL, 0, "answer"));
    ts_cache_tag (cache, "z", &tag);
    assert_true (tag.heard);
    ts_cache_destroy (&cache);
}

#define S_ANSWER  7000

//  A 64 kB cache: room for a few answers of S_ANSWER bytes (each at most
//  an eighth); answer (S_ANSWER bytes) gets one.
static ts_cache_t *
s_small_cache (char *answer)
{
    memset (answer, 'x', S_ANSWER - 1);
    answer [S_ANSWER - 1] = 0;
    return ts_cache_new (64 * 1024);
}

//  Puts answer under "k<from>" .. "k<to - 1>".
static void
s_put_keys (ts_cache_t *cache, int from, int to, const char *answer)
{
    char key [32];
    for (int i = from; i < to; i++) {
        snprintf (key, sizeof key, "k%d", i);
        s_put (cache, key, &s_v1, answer);
    }
}

static void
cache_evicts_least_recently_used_to_stay_in_budget (void **state)
{
    char answer [S_ANSWER];
    ts_cache_t *cache = s_small_cache (answer);
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

//  Once a quarter of the budget is freed (evictions here), the free
//  memory is given back, at most once a second however much more is
//  freed; a whole drop counts too.
static void
cache_gives_freed_memory_back_at_most_once_a_second (void **state)
{
    char answer [S_ANSWER];
    ts_cache_t *cache = s_small_cache (answer);
    ts_cache_stats_t stats;
    //  Nine fill the budget; the next ones evict one each (7 kB).
    s_put_keys (cache, 0, 9, answer);
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.trims, 0);
    s_put_keys (cache, 9, 60, answer);
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.trims, 1);
    ts_cache_drop_all (cache);
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.trims, 1);
    //  A second later, what was freed since is due.
    usleep (1100 * 1000);
    s_put (cache, "again", &s_v1, answer);
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.trims, 2);
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
        else {
            ts_cache_tag_t tag;
            ts_cache_tag (cache, key, &tag);
            ts_cache_put (cache, key, strlen (key), &tag, &stamp, INT64_MAX,
                          text, strlen (text));
        }
        if (i % 1000 == 0)
            ts_cache_drop_id (cache, key);
    }
    return NULL;
}

static void
cache_admits_every_answer_or_from_its_keys_second_time (void **state)
{
    ts_cache_t *cache = ts_cache_new (1 << 20);
    assert_non_null (cache);
    ts_cache_stats_t stats;
    //  The default: every answer, every time.
    for (int i = 0; i < 3; i++)
        assert_true (ts_cache_admit (cache, "a", 1));
    ts_cache_set_admit (cache, true);
    assert_false (ts_cache_admit (cache, "b", 1));
    assert_true (ts_cache_admit (cache, "b", 1));
    assert_true (ts_cache_admit (cache, "b", 1));
    //  "a" was seen while admitting first times only: not remembered.
    assert_false (ts_cache_admit (cache, "a", 1));
    //  Keys asked once each (a moving range) are all declined, and do
    //  not push out a key seen among them unless they share its slot.
    char key [32];
    int declined = 0;
    for (int i = 0; i < 200; i++) {
        int len = snprintf (key, sizeof key, "moving-%d", i);
        declined += !ts_cache_admit (cache, key, (size_t) len);
    }
    assert_int_equal (declined, 200);
    assert_true (ts_cache_admit (cache, "a", 1));
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.declined, 2 + 200);
    //  Back to every answer.
    ts_cache_set_admit (cache, false);
    assert_true (ts_cache_admit (cache, "c", 1));
    ts_cache_destroy (&cache);
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
        cmocka_unit_test (cache_serves_no_answer_past_its_until_even_with_the_same_stamp),
        cmocka_unit_test (cache_drop_id_voids_the_answers_of_that_id_only),
        cmocka_unit_test (cache_keeps_no_answer_read_while_a_notice_of_its_id_came),
        cmocka_unit_test (cache_drop_all_frees_every_entry_and_voids_older_tags),
        cmocka_unit_test (cache_evicts_least_recently_used_to_stay_in_budget),
        cmocka_unit_test (cache_gives_freed_memory_back_at_most_once_a_second),
        cmocka_unit_test (cache_admits_every_answer_or_from_its_keys_second_time),
        cmocka_unit_test (cache_serves_several_threads),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_cache", tests, NULL, NULL);
}
