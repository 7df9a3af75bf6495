/*  test_ts_notice - the gateway's change notice subscriber: the rules of
    order (in order, first heard, a gap, another broker process, a
    message that does not decode, silence), and the subscriber itself
    against a PUB socket of the test's: a notice drops its ids' answers
    only, a gap drops every answer, and the cache is told when notices
    are heard. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <string.h>

#include "../../gateway/ts_notice.h"
#include "../../common/ts_proto.h"

static void
sync_counts_ids_and_finds_a_gap (void **state)
{
    ts_notice_sync_t sync;
    ts_notice_sync_init (&sync);
    assert_false (sync.heard);
    //  The first message heard, whatever its number, starts the count.
    assert_int_equal (ts_notice_sync_message (&sync, 7, 40, 0, 0),
                      TS_NOTICE_FIRST);
    assert_true (sync.heard);
    assert_int_equal (ts_notice_sync_message (&sync, 7, 40, 3, 10),
                      TS_NOTICE_IN_ORDER);
    assert_int_equal (ts_notice_sync_message (&sync, 7, 43, 1, 20),
                      TS_NOTICE_IN_ORDER);
    //  A heartbeat carries the number of the next id.
    assert_int_equal (ts_notice_sync_message (&sync, 7, 44, 0, 30),
                      TS_NOTICE_IN_ORDER);
    //  Ids 44 and 45 were missed: a gap, and the count starts again.
    assert_int_equal (ts_notice_sync_message (&sync, 7, 46, 2, 40),
                      TS_NOTICE_GAP);
    assert_true (sync.heard);
    assert_int_equal (ts_notice_sync_message (&sync, 7, 48, 0, 50),
                      TS_NOTICE_IN_ORDER);
    //  A heartbeat ahead of the count is a gap too.
    assert_int_equal (ts_notice_sync_message (&sync, 7, 50, 0, 60),
                      TS_NOTICE_GAP);
    //  So is a number the count has passed.
    assert_int_equal (ts_notice_sync_message (&sync, 7, 49, 0, 70),
                      TS_NOTICE_GAP);
}

static void
sync_takes_another_broker_process_for_a_gap (void **state)
{
    ts_notice_sync_t sync;
    ts_notice_sync_init (&sync);
    ts_notice_sync_message (&sync, 7, 1, 5, 0);
    //  A restarted broker numbers from 1 again; even the number that
    //  would follow is a gap from another process.
    assert_int_equal (ts_notice_sync_message (&sync, 8, 6, 0, 10),
                      TS_NOTICE_GAP);
    assert_int_equal (ts_notice_sync_message (&sync, 8, 6, 1, 20),
                      TS_NOTICE_IN_ORDER);
}

static void
sync_goes_deaf_after_silence_or_an_undecodable_message (void **state)
{
    ts_notice_sync_t sync;
    ts_notice_sync_init (&sync);
    //  Nothing heard yet: silence changes nothing.
    assert_false (ts_notice_sync_silence (&sync, 100000));
    ts_notice_sync_message (&sync, 7, 1, 0, 1000);
    assert_false (ts_notice_sync_silence (&sync,
                                          1000 + TS_NOTICE_SILENCE_MS - 1));
    assert_true (ts_notice_sync_silence (&sync, 1000 + TS_NOTICE_SILENCE_MS));
    assert_false (sync.heard);
    //  Said once.
    assert_false (ts_notice_sync_silence (&sync, 1000000));
    //  The next message is heard first again, whatever its number.
    assert_int_equal (ts_notice_sync_message (&sync, 7, 90, 0, 2000000),
                      TS_NOTICE_FIRST);
    //  A message that does not decode: whatever it said was missed.
    assert_true (ts_notice_sync_lost (&sync, 2000010));
    assert_false (sync.heard);
    assert_false (ts_notice_sync_lost (&sync, 2000020));
    assert_int_equal (ts_notice_sync_message (&sync, 7, 91, 0, 2000030),
                      TS_NOTICE_FIRST);
}

//  ---------------------------------------------------------------------
//  The subscriber against a PUB socket

static void
s_publish (zsock_t *pub, uint64_t boot, uint64_t seq, const char *const *ids,
           size_t n)
{
    char *buf = NULL;
    size_t cap = 0, size = 0;
    assert_int_equal (ts_msg_encode_notice (&buf, &cap, &size, boot, seq,
                                            ids, n), 0);
    assert_int_equal (zmq_send (zsock_resolve (pub), buf, size, 0),
                      (int) size);
    free (buf);
}

static void
s_put (ts_cache_t *cache, const char *id)
{
    ts_cache_tag_t tag;
    ts_cache_tag (cache, id, &tag);
    ts_cache_put (cache, id, strlen (id), &tag, NULL, INT64_MAX, "x", 1);
}

static bool
s_cached (ts_cache_t *cache, const char *id)
{
    char *data = NULL;
    size_t size;
    bool hit = ts_cache_get (cache, id, strlen (id), NULL, 0, &data, &size);
    free (data);
    return hit;
}

//  What a cache has seen of the subscriber: notices applied, whole
//  drops, and whether notices are heard.
typedef struct {
    uint64_t ids;
    uint64_t all;
    bool     heard;
} s_seen_t;

static s_seen_t
s_seen (ts_cache_t *cache)
{
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    ts_cache_tag_t tag;
    ts_cache_tag (cache, "any", &tag);
    return (s_seen_t) { stats.dropped_ids, stats.dropped_all, tag.heard };
}

//  Waits (at most 5 s) until the cache has applied at least ids notices
//  and all whole drops.
static bool
s_wait_dropped (ts_cache_t *cache, uint64_t ids, uint64_t all)
{
    for (int i = 0; i < 500; i++) {
        s_seen_t seen = s_seen (cache);
        if (seen.ids >= ids && seen.all >= all)
            return true;
        zclock_sleep (10);
    }
    return false;
}

static void
subscriber_drops_noticed_ids_and_everything_after_a_gap (void **state)
{
    zsock_t *pub = zsock_new (ZMQ_PUB);
    assert_non_null (pub);
    int port = zsock_bind (pub, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    char endpoint [64], err [TS_ERRLEN] = "";
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    ts_cache_t *cache = ts_cache_new (1 << 20);
    ts_notice_t *notice = ts_notice_new (endpoint, NULL, cache, err);
    assert_non_null (notice);
    //  A slow joiner misses what is sent before it is subscribed: send
    //  heartbeats until one is heard (at most 5 s).
    for (int i = 0; i < 500 && !s_seen (cache).heard; i++) {
        s_publish (pub, 7, 1, NULL, 0);
        zclock_sleep (10);
    }
    assert_true (s_seen (cache).heard);
    s_put (cache, "a");
    s_put (cache, "b");
    s_put (cache, "c");
    static const char *const ids [] = { "a", "c" };
    s_publish (pub, 7, 1, ids, 2);
    assert_true (s_wait_dropped (cache, 2, 0));
    assert_false (s_cached (cache, "a"));
    assert_true (s_cached (cache, "b"));
    assert_false (s_cached (cache, "c"));
    //  Ids 3 to 5 are missed: every answer goes.
    s_publish (pub, 7, 6, ids, 1);
    assert_true (s_wait_dropped (cache, 3, 1));
    assert_false (s_cached (cache, "b"));
    ts_cache_stats_t stats;
    ts_cache_stats (cache, &stats);
    assert_int_equal (stats.entries, 0);
    //  Heard again from there on.
    assert_true (s_seen (cache).heard);
    //  Silence: no longer heard, and every answer goes again (within
    //  TS_NOTICE_SILENCE_MS and a poll).
    s_put (cache, "b");
    assert_true (s_wait_dropped (cache, 3, 2));
    assert_false (s_seen (cache).heard);
    assert_false (s_cached (cache, "b"));
    ts_notice_destroy (&notice);
    assert_null (notice);
    ts_notice_destroy (&notice);
    ts_cache_destroy (&cache);
    zsock_destroy (&pub);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (sync_counts_ids_and_finds_a_gap),
        cmocka_unit_test (sync_takes_another_broker_process_for_a_gap),
        cmocka_unit_test (sync_goes_deaf_after_silence_or_an_undecodable_message),
        cmocka_unit_test (subscriber_drops_noticed_ids_and_everything_after_a_gap),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_notice", tests, NULL, NULL);
}
