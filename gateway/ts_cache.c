/*  ts_cache - the gateway's answer cache. See ts_cache.h.

    A hash table of entries chained per bucket, plus one doubly linked
    list in use order (head: most recent) for eviction. Each entry is one
    allocation: the header, then the key bytes, then the answer bytes. The
    bucket count is fixed at creation from the budget (an answer of a day
    of 5-minute points is about 6 to 22 kB), so chains stay short for the
    entries that fit.

    Generations (drop by id, see ts_cache.h): S_GENERATIONS counters,
    one per hash of an id; an id's generation is its counter plus the
    count of whole drops, so either kind of drop moves it on. */

#include "ts_cache.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#   include <malloc.h>
#endif

typedef struct s_entry_t s_entry_t;
struct s_entry_t {
    s_entry_t       *chain;         //  next in the bucket
    s_entry_t       *newer;         //  use order: towards the head
    s_entry_t       *older;         //  use order: towards the tail
    uint64_t         hash;
    bool             stamped;       //  put with a store stamp
    ts_store_stamp_t stamp;
    ts_cache_tag_t   tag;           //  the id's generation when read
    int64_t          until_ms;      //  served before this only
    size_t           key_size;
    size_t           size;          //  answer bytes
    unsigned char    bytes [];      //  key, then answer
};

struct _ts_cache_t {
    pthread_mutex_t  lock;
    s_entry_t      **buckets;
    size_t           mask;          //  buckets - 1 (a power of two)
    s_entry_t       *newest;
    s_entry_t       *oldest;
    size_t           max_bytes;
    ts_cache_stats_t stats;
    uint64_t        *generations;   //  S_GENERATIONS notice counters
    uint64_t         epoch;         //  whole drops
    bool             heard;         //  notices heard in order
    bool             admit_second;  //  ts_cache_set_admit
    uint64_t        *seen;          //  key hashes seen (admission)
    size_t           seen_mask;     //  slots - 1 (a power of two)
    uint64_t         declined;      //  atomic: ts_cache_admit said no
    size_t           freed;         //  bytes freed since the last trim
    int64_t          trimmed_ms;    //  the last trim (monotonic)
};

#define S_GENERATIONS    16384      //  a power of two

#define S_TYPICAL_ENTRY  8192       //  sizes the bucket array
#define S_MIN_BUCKETS    64
#define S_SEEN_BYTES     512        //  of budget per admission slot
#define S_MIN_SEEN       1024
#define S_TRIM_SHARE     4          //  trim after a quarter of the budget
#define S_TRIM_EVERY_MS  1000       //  and at most once a second

//  FNV-1a, 64-bit.
static uint64_t
s_hash (const void *key, size_t size)
{
    const unsigned char *p = key;
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++) {
        hash ^= p [i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

static size_t
s_entry_bytes (const s_entry_t *entry)
{
    return sizeof *entry + entry->key_size + entry->size;
}

ts_cache_t *
ts_cache_new (size_t max_bytes)
{
    assert (max_bytes > 0);
    ts_cache_t *self = calloc (1, sizeof (ts_cache_t));
    if (!self)
        return NULL;
    size_t buckets = S_MIN_BUCKETS;
    while (buckets < max_bytes / S_TYPICAL_ENTRY && buckets < (1u << 24))
        buckets *= 2;
    size_t seen = S_MIN_SEEN;
    while (seen < max_bytes / S_SEEN_BYTES && seen < (1u << 24))
        seen *= 2;
    self->buckets = calloc (buckets, sizeof (s_entry_t *));
    self->generations = calloc (S_GENERATIONS, sizeof (uint64_t));
    self->seen = calloc (seen, sizeof (uint64_t));
    if (!self->buckets || !self->generations || !self->seen) {
        free (self->buckets);
        free (self->generations);
        free (self->seen);
        free (self);
        return NULL;
    }
    self->mask = buckets - 1;
    self->seen_mask = seen - 1;
    self->max_bytes = max_bytes;
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
ts_cache_destroy (ts_cache_t **self_p)
{
    if (self_p && *self_p) {
        ts_cache_t *self = *self_p;
        s_entry_t *entry = self->newest;
        while (entry) {
            s_entry_t *next = entry->older;
            free (entry);
            entry = next;
        }
        free (self->buckets);
        free (self->generations);
        free (self->seen);
        pthread_mutex_destroy (&self->lock);
        free (self);
        *self_p = NULL;
    }
}

//  The generation counter of id.
static uint32_t
s_generation_slot (const char *id)
{
    return (uint32_t) (s_hash (id, strlen (id)) & (S_GENERATIONS - 1));
}

//  The generation of the ids of counter slot (lock held).
static uint64_t
s_generation (const ts_cache_t *self, uint32_t slot)
{
    return self->epoch + self->generations [slot];
}

void
ts_cache_tag (ts_cache_t *self, const char *id, ts_cache_tag_t *tag)
{
    assert (self && id && tag);
    tag->slot = s_generation_slot (id);
    pthread_mutex_lock (&self->lock);
    tag->generation = s_generation (self, tag->slot);
    tag->heard = self->heard;
    pthread_mutex_unlock (&self->lock);
}

void
ts_cache_drop_id (ts_cache_t *self, const char *id)
{
    assert (self && id);
    uint32_t slot = s_generation_slot (id);
    pthread_mutex_lock (&self->lock);
    self->generations [slot]++;
    self->stats.dropped_ids++;
    pthread_mutex_unlock (&self->lock);
}

void
ts_cache_set_heard (ts_cache_t *self, bool heard)
{
    assert (self);
    pthread_mutex_lock (&self->lock);
    self->heard = heard;
    pthread_mutex_unlock (&self->lock);
}

void
ts_cache_set_admit (ts_cache_t *self, bool second)
{
    assert (self);
    __atomic_store_n (&self->admit_second, second, __ATOMIC_RELAXED);
}

bool
ts_cache_admit (ts_cache_t *self, const void *key, size_t key_size)
{
    assert (self);
    if (!__atomic_load_n (&self->admit_second, __ATOMIC_RELAXED))
        return true;
    //  The slot from the hash's high bits (the buckets use the low), so
    //  keys that share a bucket do not also share a slot. A hash of 0
    //  would match an empty slot: it counts as 1.
    uint64_t hash = s_hash (key, key_size);
    hash += hash == 0;
    uint64_t *slot = &self->seen [(hash >> 40) & self->seen_mask];
    if (__atomic_load_n (slot, __ATOMIC_RELAXED) == hash)
        return true;
    __atomic_store_n (slot, hash, __ATOMIC_RELAXED);
    __atomic_fetch_add (&self->declined, 1, __ATOMIC_RELAXED);
    return false;
}

//  The slot that points at key's entry, or at the NULL ending its chain.
static s_entry_t **
s_find (ts_cache_t *self, uint64_t hash, const void *key, size_t key_size)
{
    s_entry_t **slot = &self->buckets [hash & self->mask];
    while (*slot) {
        s_entry_t *entry = *slot;
        if (entry->hash == hash && entry->key_size == key_size
        &&  memcmp (entry->bytes, key, key_size) == 0)
            break;
        slot = &entry->chain;
    }
    return slot;
}

static void
s_unlink_use (ts_cache_t *self, s_entry_t *entry)
{
    if (entry->newer)
        entry->newer->older = entry->older;
    else
        self->newest = entry->older;
    if (entry->older)
        entry->older->newer = entry->newer;
    else
        self->oldest = entry->newer;
    entry->newer = entry->older = NULL;
}

static void
s_link_newest (ts_cache_t *self, s_entry_t *entry)
{
    entry->older = self->newest;
    entry->newer = NULL;
    if (self->newest)
        self->newest->newer = entry;
    self->newest = entry;
    if (!self->oldest)
        self->oldest = entry;
}

//  Removes the entry *slot points at and frees it.
static void
s_remove (ts_cache_t *self, s_entry_t **slot)
{
    s_entry_t *entry = *slot;
    *slot = entry->chain;
    s_unlink_use (self, entry);
    self->stats.entries--;
    self->stats.bytes -= s_entry_bytes (entry);
    self->freed += s_entry_bytes (entry);
    free (entry);
}

//  True if the memory freed since the last trim is due to go back to the
//  system (see ts_cache.h); then counts a trim now. Under the lock.
static bool
s_trim_due (ts_cache_t *self)
{
    if (self->freed < self->max_bytes / S_TRIM_SHARE)
        return false;
    int64_t now = ts_mono_ms ();
    if (self->trimmed_ms && now - self->trimmed_ms < S_TRIM_EVERY_MS)
        return false;
    self->freed = 0;
    self->trimmed_ms = now;
    self->stats.trims++;
    return true;
}

//  Gives free memory back (glibc; elsewhere nothing). Outside the lock.
static void
s_trim (void)
{
#ifdef __GLIBC__
    malloc_trim (0);
#endif
}

bool
ts_cache_get (ts_cache_t *self, const void *key, size_t key_size,
              const ts_store_stamp_t *stamp, int64_t now_ms, char **data,
              size_t *size)
{
    assert (self);
    uint64_t hash = s_hash (key, key_size);
    bool hit = false;
    pthread_mutex_lock (&self->lock);
    s_entry_t **slot = s_find (self, hash, key, key_size);
    s_entry_t *entry = *slot;
    bool fresh = entry && now_ms < entry->until_ms
              && entry->tag.generation == s_generation (self, entry->tag.slot)
              && (!stamp || (entry->stamped
                             && entry->stamp.version == stamp->version
                             && now_ms < stamp->expires_ms));
    if (entry && !fresh)
        s_remove (self, slot);
    else
    if (entry) {
        char *copy = malloc (entry->size? entry->size: 1);
        if (copy) {
            memcpy (copy, entry->bytes + entry->key_size, entry->size);
            *data = copy;
            *size = entry->size;
            hit = true;
            s_unlink_use (self, entry);
            s_link_newest (self, entry);
        }
    }
    if (hit)
        self->stats.hits++;
    else
        self->stats.misses++;
    pthread_mutex_unlock (&self->lock);
    return hit;
}

void
ts_cache_put (ts_cache_t *self, const void *key, size_t key_size,
              const ts_cache_tag_t *tag, const ts_store_stamp_t *stamp,
              int64_t until_ms, const void *data, size_t size)
{
    assert (self);
    size_t bytes = sizeof (s_entry_t) + key_size + size;
    if (key_size > self->max_bytes || size > self->max_bytes
    ||  bytes > self->max_bytes / 8)
        return;
    s_entry_t *entry = malloc (bytes);
    if (!entry)
        return;
    entry->hash = s_hash (key, key_size);
    entry->stamped = stamp != NULL;
    entry->stamp = stamp? *stamp: (ts_store_stamp_t) { 0, INT64_MAX };
    entry->tag = *tag;
    entry->until_ms = until_ms;
    entry->key_size = key_size;
    entry->size = size;
    entry->chain = entry->newer = entry->older = NULL;
    memcpy (entry->bytes, key, key_size);
    memcpy (entry->bytes + key_size, data, size);

    pthread_mutex_lock (&self->lock);
    s_entry_t **slot = s_find (self, entry->hash, key, key_size);
    if (*slot)
        s_remove (self, slot);
    //  Noticed while it was read: the answer may predate the write.
    if (tag->generation != s_generation (self, tag->slot)) {
        pthread_mutex_unlock (&self->lock);
        free (entry);
        return;
    }
    while (self->oldest && self->stats.bytes + bytes > self->max_bytes) {
        s_entry_t *victim = self->oldest;
        s_entry_t **victim_slot = s_find (self, victim->hash, victim->bytes,
                                          victim->key_size);
        s_remove (self, victim_slot);
    }
    //  The eviction may have changed the chain: find the end again.
    slot = s_find (self, entry->hash, key, key_size);
    *slot = entry;
    s_link_newest (self, entry);
    self->stats.entries++;
    self->stats.bytes += bytes;
    bool trim = s_trim_due (self);
    pthread_mutex_unlock (&self->lock);
    if (trim)
        s_trim ();
}

void
ts_cache_drop_all (ts_cache_t *self)
{
    assert (self);
    pthread_mutex_lock (&self->lock);
    self->epoch++;
    self->stats.dropped_all++;
    for (s_entry_t *entry = self->newest; entry; ) {
        s_entry_t *next = entry->older;
        free (entry);
        entry = next;
    }
    memset (self->buckets, 0, (self->mask + 1) * sizeof (s_entry_t *));
    self->newest = self->oldest = NULL;
    self->freed += self->stats.bytes;
    self->stats.entries = 0;
    self->stats.bytes = 0;
    bool trim = s_trim_due (self);
    pthread_mutex_unlock (&self->lock);
    if (trim)
        s_trim ();
}

void
ts_cache_stats (ts_cache_t *self, ts_cache_stats_t *stats)
{
    assert (self);
    pthread_mutex_lock (&self->lock);
    *stats = self->stats;
    pthread_mutex_unlock (&self->lock);
    stats->declined = __atomic_load_n (&self->declined, __ATOMIC_RELAXED);
}
