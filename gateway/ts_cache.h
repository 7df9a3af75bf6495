/*  ts_cache - the gateway's answer cache: encoded query answers, kept
    with the store stamp of their id (ts_store_stamp) and reused while
    that stamp is unchanged and the id's forecast has not expired, and
    never past the time the caller gave when it put them
    (gateway.cache_ttl_s).

    A store that keeps no stamps (ts_store_caps without
    TS_STORE_CAP_STAMPS) cannot say when an answer changed: its answers
    are put without a stamp and reused until the time the caller gave,
    unless a change notice of their id (ts_cache_drop_id) or a lost
    notice (ts_cache_drop_all) comes first. The caller chooses that time:
    gateway.cache_ttl_s after the read while notices are heard in order,
    gateway.cache_stale_ms otherwise (ts_cache_tag says which).

    Drop by id: every id has a generation, the number of notices of it
    plus the number of whole drops, counted in a fixed table of counters
    indexed by a hash of the id (two ids that share a counter only cost
    each other a miss). The caller takes the id's tag (ts_cache_tag)
    before it reads the store and puts the answer with it; an entry is
    served only while its id's generation is still the one in its tag.
    So a notice that arrives while an answer is being read (the read may
    have seen the data before the write) also voids that answer, which
    an index from ids to entries, consulted at the notice, would miss.
    Dropping costs one increment, whatever the entries of the id; they
    are freed at their next lookup or by eviction.

    Admission (ts_cache_set_admit): by default every answer put is kept.
    Set to keep answers from their key's second time, the cache declines
    (ts_cache_admit) an answer the first time its key is seen: queries
    whose range moves with every request (a dashboard's "last 24 hours")
    then cost neither a copy nor the eviction of answers that are asked
    again, and a key asked twice is kept from its second answer on. Keys
    seen are remembered as their hashes in a fixed table sized from the
    budget (a slot per 512 bytes), overwritten by later keys: a key
    asked again only after that many other keys counts as new.

    A key is any byte string (ts_api builds it from the encoding, id,
    measure and range). Entries are evicted least recently used first
    when the bytes they hold (keys, answers and bookkeeping) would pass
    the budget; an answer larger than an eighth of the budget is not kept.

    Memory: entries are answer-sized allocations (tens of kB) that every
    front-end thread makes and frees, in glibc's per-thread arenas, and
    a full cache replaces them all the time. glibc keeps the freed chunks
    in each arena: with a 32 MB budget filled and churned by two HTTP
    threads, the gateway's RssAnon stayed at 57 MB, and fell to 37 MB
    after malloc_trim. So once the cache has freed a quarter of its
    budget since the last trim, at most once a second, the thread that
    freed the last of it calls malloc_trim (outside the lock), which
    gives the free pages of every arena back to the system.

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

//  What ts_cache_tag tells about an id before its answer is read.
typedef struct {
    uint32_t slot;          //  the id's generation counter
    uint64_t generation;    //  the id's generation then
    bool     heard;         //  change notices were heard in order then
                            //  (ts_cache_set_heard)
} ts_cache_tag_t;

//  Fills tag for id (a name). Take it before reading the store.
void ts_cache_tag (ts_cache_t *self, const char *id, ts_cache_tag_t *tag);

//  A change notice of id: its entries are no longer served.
void ts_cache_drop_id (ts_cache_t *self, const char *id);

//  Notices may have been missed: frees every entry, and voids every tag
//  taken before (an answer being read now is not kept).
void ts_cache_drop_all (ts_cache_t *self);

//  Says whether change notices are being heard in order (false at
//  creation); only reported back in tags.
void ts_cache_set_heard (ts_cache_t *self, bool heard);

//  Keeps answers from their key's second time (true) or first (false:
//  the default).
void ts_cache_set_admit (ts_cache_t *self, bool second);

//  Whether an answer of key should be put (ts_cache_put): always when
//  admitting first times; else whether key was seen before, remembering
//  that it is seen now. Ask once per answer read, after ts_cache_get
//  missed. Lock-free: two threads racing on one slot at worst let one
//  answer in early or late.
bool ts_cache_admit (ts_cache_t *self, const void *key, size_t key_size);

//  Looks key up. On a hit - an entry whose id's generation is still the
//  one it was put with, with now_ms before the until_ms it was put with,
//  and, given stamp, whose stamp has the same version as stamp with
//  now_ms before stamp's expires_ms - copies its answer into a new
//  buffer (*data, the caller frees; *size) and returns true. An entry
//  that fails these is dropped. Pass stamp NULL for a store without
//  stamps. Returns false on a miss or if out of memory.
bool ts_cache_get (ts_cache_t *self, const void *key, size_t key_size,
                   const ts_store_stamp_t *stamp, int64_t now_ms,
                   char **data, size_t *size);

//  Keeps a copy of the answer data (size bytes) under key, replacing what
//  key held: with tag (taken before the answer was read), the stamp read
//  with it (NULL for a store without stamps) and until_ms, the last
//  moment it may be served (exclusive). Does nothing if the answer is
//  too large for the budget, memory is short, or the id was noticed
//  since tag was taken.
void ts_cache_put (ts_cache_t *self, const void *key, size_t key_size,
                   const ts_cache_tag_t *tag, const ts_store_stamp_t *stamp,
                   int64_t until_ms, const void *data, size_t size);

//  Counters since ts_cache_new, for logs and tests.
typedef struct {
    uint64_t hits;          //  answers served from the cache
    uint64_t misses;        //  lookups that found nothing usable
    size_t   entries;       //  entries held now
    size_t   bytes;         //  bytes held now (counted as for the budget)
    uint64_t dropped_ids;   //  change notices applied (ts_cache_drop_id)
    uint64_t dropped_all;   //  whole drops (ts_cache_drop_all)
    uint64_t declined;      //  answers not admitted (ts_cache_admit)
    uint64_t trims;         //  free memory given back (see Memory above)
} ts_cache_stats_t;

void ts_cache_stats (ts_cache_t *self, ts_cache_stats_t *stats);

#endif
