/*  ts_http_peers - open HTTP connections per client address: see
    ts_http_peers.h. */

#include "ts_http_peers.h"

#include <assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ts_http_peer_t  peer;       //  the address
    uint32_t        open;       //  its open connections; 0: slot free
} s_slot_t;

struct _ts_http_peers_t {
    pthread_mutex_t lock;       //  guards everything below
    size_t          limit;      //  open connections allowed per address
    size_t          mask;       //  slots - 1 (slots a power of two)
    s_slot_t       *slots;      //  the table
};

ts_http_peers_t *
ts_http_peers_new (size_t limit, size_t capacity)
{
    assert (limit >= 1 && capacity >= 1);
    size_t slots = 16;
    while (slots < 2 * capacity)
        slots *= 2;
    ts_http_peers_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc (slots, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    self->limit = limit;
    self->mask = slots - 1;
    return self;
}

void
ts_http_peers_destroy (ts_http_peers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ts_http_peers_t *self = *self_p;
    pthread_mutex_destroy (&self->lock);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

bool
ts_http_peer_of (const struct sockaddr *sa, socklen_t len,
                 ts_http_peer_t *peer)
{
    memset (peer, 0, sizeof *peer);
    if (sa->sa_family == AF_INET && len >= sizeof (struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        peer->addr [10] = peer->addr [11] = 0xff;
        memcpy (peer->addr + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof (struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        memcpy (peer->addr, &in6->sin6_addr, 16);
        return true;
    }
    return false;
}

//  FNV-1a over the 16 bytes, folded: addresses of one subnet differ in
//  their last bytes, which FNV mixes into every bit.
static size_t
s_hash (const ts_http_peer_t *peer)
{
    uint64_t h = 14695981039346656037ULL;
    for (int i = 0; i < 16; i++) {
        h ^= peer->addr [i];
        h *= 1099511628211ULL;
    }
    return (size_t) (h ^ (h >> 32));
}

//  The slot holding peer, or the free slot where it would go; NULL if the
//  table has neither (full). Called with the lock held.
static s_slot_t *
s_find (ts_http_peers_t *self, const ts_http_peer_t *peer)
{
    size_t i = s_hash (peer) & self->mask;
    for (size_t n = 0; n <= self->mask; n++, i = (i + 1) & self->mask) {
        s_slot_t *slot = &self->slots [i];
        if (slot->open == 0
        ||  memcmp (&slot->peer, peer, sizeof *peer) == 0)
            return slot;
    }
    return NULL;
}

//  Empties slot and moves later entries of its probe run back, so that
//  every entry stays reachable from its home slot without tombstones.
//  Called with the lock held.
static void
s_remove (ts_http_peers_t *self, s_slot_t *slot)
{
    size_t hole = (size_t) (slot - self->slots);
    size_t i = hole;
    while (true) {
        i = (i + 1) & self->mask;
        s_slot_t *next = &self->slots [i];
        if (next->open == 0)
            break;
        size_t home = s_hash (&next->peer) & self->mask;
        //  next may fill the hole unless its home lies cyclically in
        //  (hole, i]: then the hole is before its home.
        bool stays = hole <= i? (home > hole && home <= i)
                              : (home > hole || home <= i);
        if (!stays) {
            self->slots [hole] = *next;
            hole = i;
        }
    }
    self->slots [hole].open = 0;
}

ts_http_peer_take_t
ts_http_peers_take (ts_http_peers_t *self, const ts_http_peer_t *peer)
{
    ts_http_peer_take_t rc = TS_HTTP_PEER_COUNTED;
    pthread_mutex_lock (&self->lock);
    s_slot_t *slot = s_find (self, peer);
    if (!slot)
        rc = TS_HTTP_PEER_UNCOUNTED;
    else
    if (slot->open >= self->limit)
        rc = TS_HTTP_PEER_OVER;
    else {
        if (slot->open == 0)
            slot->peer = *peer;
        slot->open++;
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

void
ts_http_peers_give (ts_http_peers_t *self, const ts_http_peer_t *peer)
{
    pthread_mutex_lock (&self->lock);
    s_slot_t *slot = s_find (self, peer);
    assert (slot && slot->open > 0);
    if (slot && slot->open > 0 && --slot->open == 0)
        s_remove (self, slot);
    pthread_mutex_unlock (&self->lock);
}

size_t
ts_http_peers_count (ts_http_peers_t *self, const ts_http_peer_t *peer)
{
    pthread_mutex_lock (&self->lock);
    s_slot_t *slot = s_find (self, peer);
    size_t open = slot? slot->open: 0;
    pthread_mutex_unlock (&self->lock);
    return open;
}
