/*  ts_cache - the gateway's answer cache: encoded query answers, kept
    with the store stamp of their id (ts_store_stamp) and reused while
    that stamp is unchanged and the id's forecast has not expired.

    A store that keeps no stamps (ts_store_caps without
    TS_STORE_CAP_STAMPS) cannot say when an answer changed: its answers
    are kept with a stamp whose expires_ms the caller sets to when the
    answer goes stale (gateway.cache_stale_ms after the read), and looked
    up without a stamp (NULL): reused until then, whatever was written
    meanwhile. Change notices from the workers will let such entries be
    dropped as soon as their id changes (docs/architecture.md).

    A key is any byte string (ts_api builds it from the encoding, id,
    measure and range). Entries are evicted least recently used first
    when the bytes they hold (keys, answers and bookkeeping) would pass
    the budget; an answer larger than an eighth of the budget is not kept.

    Threads: every call may be made from several threads at once (one
    mutex; it is held for the lookup and the copy, never across I/O). */

#ifndef TS_CACHE_H_INCLUDED
#define TS_CACHE_H_INCLUDED

#include "ts_common.h"
#include "ts_store.h"

typedef struct _ts_cache_t ts_cache_t;

//  Returns a cache holding at most max_bytes (> 0), or NULL if out of
//  memory.
ts_cache_t *ts_cache_new (size_t max_bytes);

//  Frees every entry and the cache; sets *self_p to NULL. Safe on NULL.
void ts_cache_destroy (ts_cache_t **self_p);

//  Looks key up. On a hit - an entry whose stamp has the same version as
//  stamp, with now_ms before stamp's expires_ms - copies its answer into
//  a new buffer (*data, the caller frees; *size) and returns true. An
//  entry with another version is dropped. With stamp NULL (a store
//  without stamps) an entry is a hit while now_ms is before the
//  expires_ms it was put with, and is dropped after. Returns false on a
//  miss or if out of memory.
bool ts_cache_get (ts_cache_t *self, const void *key, size_t key_size,
                   const ts_store_stamp_t *stamp, int64_t now_ms,
                   char **data, size_t *size);

//  Keeps a copy of the answer data (size bytes) under key with stamp
//  (for a store without stamps: version 0, expires_ms when the answer
//  goes stale), replacing what key held. Does nothing if the answer is too large for
//  the budget or memory is short.
void ts_cache_put (ts_cache_t *self, const void *key, size_t key_size,
                   const ts_store_stamp_t *stamp, const void *data,
                   size_t size);

//  Counters since ts_cache_new, for logs and tests.
typedef struct {
    uint64_t hits;          //  answers served from the cache
    uint64_t misses;        //  lookups that found nothing usable
    size_t   entries;       //  entries held now
    size_t   bytes;         //  bytes held now (counted as for the budget)
} ts_cache_stats_t;

void ts_cache_stats (ts_cache_t *self, ts_cache_stats_t *stats);

#endif
