/*  ts_flight - the gateway's single-flight table of read-through fetches.
    See ts_flight.h.

    A czmq zhashx of id -> flight (its number and start), under one
    mutex. Expired flights are swept when the table grows past a
    threshold that doubles with what is left, so a start costs one
    lookup and the sweep stays amortised. */

#include "ts_flight.h"

#include <czmq.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  A write or read of an eventfd whose failure needs nothing done.
#define S_IGNORE(call)  do { if ((call) < 0) {} } while (0)

#define S_SWEEP_FIRST   1024    //  table size that first triggers a sweep

typedef struct {
    uint64_t number;            //  this flight
    int64_t  started_ms;        //  when it started (monotonic)
} s_flight_t;

struct _ts_flight_t {
    pthread_mutex_t lock;
    zhashx_t   *flights;        //  id -> s_flight_t
    int64_t     ttl_ms;         //  a flight lasts at most this long
    uint64_t    next;           //  number of the next flight
    size_t      sweep_at;       //  sweep expired flights past this size
    int         watchers [TS_FLIGHT_WATCHERS];
    size_t      watchers_n;
};

static void
s_flight_free (void **item)
{
    free (*item);
    *item = NULL;
}

ts_flight_t *
ts_flight_new (int64_t ttl_ms)
{
    ts_flight_t *self = calloc (1, sizeof (ts_flight_t));
    if (!self)
        return NULL;
    self->flights = zhashx_new ();
    if (!self->flights) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->flights, s_flight_free);
    pthread_mutex_init (&self->lock, NULL);
    self->ttl_ms = ttl_ms;
    self->next = 1;
    self->sweep_at = S_SWEEP_FIRST;
    return self;
}

void
ts_flight_destroy (ts_flight_t **self_p)
{
    if (self_p && *self_p) {
        ts_flight_t *self = *self_p;
        zhashx_destroy (&self->flights);
        pthread_mutex_destroy (&self->lock);
        free (self);
        *self_p = NULL;
    }
}

static bool
s_expired (const ts_flight_t *self, const s_flight_t *flight, int64_t now_ms)
{
    return now_ms - flight->started_ms >= self->ttl_ms;
}

//  Drops expired flights; the next sweep comes when the table has
//  doubled from what is left. Under the lock.
static void
s_sweep (ts_flight_t *self, int64_t now_ms)
{
    zlistx_t *keys = zhashx_keys (self->flights);
    for (const char *id = keys? zlistx_first (keys): NULL; id;
         id = zlistx_next (keys)) {
        s_flight_t *flight = zhashx_lookup (self->flights, id);
        if (flight && s_expired (self, flight, now_ms))
            zhashx_delete (self->flights, id);
    }
    zlistx_destroy (&keys);
    size_t left = zhashx_size (self->flights);
    self->sweep_at = left * 2 > S_SWEEP_FIRST? left * 2: S_SWEEP_FIRST;
}

int
ts_flight_start (ts_flight_t *self, const char *id, int64_t now_ms,
                 uint64_t *flight)
{
    int rc = 0;
    pthread_mutex_lock (&self->lock);
    s_flight_t *found = zhashx_lookup (self->flights, id);
    if (found && !s_expired (self, found, now_ms)) {
        *flight = found->number;
        rc = 1;
    }
    else {
        if (!found && zhashx_size (self->flights) >= self->sweep_at)
            s_sweep (self, now_ms);
        s_flight_t *item = found? found: calloc (1, sizeof *item);
        if (!item)
            rc = TS_ENOMEM;
        else
        if (!found && zhashx_size (self->flights) >= TS_FLIGHT_MAX) {
            free (item);
            rc = TS_ETOOBIG;
        }
        else {
            item->number = self->next++;
            item->started_ms = now_ms;
            if (!found && zhashx_insert (self->flights, id, item)) {
                free (item);
                rc = TS_ENOMEM;
            }
            else
                *flight = item->number;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

bool
ts_flight_end (ts_flight_t *self, const char *id, uint64_t flight)
{
    pthread_mutex_lock (&self->lock);
    s_flight_t *item = zhashx_lookup (self->flights, id);
    bool found = item && (flight == 0 || item->number == flight);
    if (found) {
        zhashx_delete (self->flights, id);
        uint64_t one = 1;
        for (size_t i = 0; i < self->watchers_n; i++)
            //  Unchecked: full (never: the reader resets it)
            S_IGNORE (write (self->watchers [i], &one, sizeof one));
    }
    pthread_mutex_unlock (&self->lock);
    return found;
}

bool
ts_flight_active (ts_flight_t *self, const char *id, uint64_t flight,
                  int64_t now_ms)
{
    pthread_mutex_lock (&self->lock);
    s_flight_t *found = zhashx_lookup (self->flights, id);
    bool active = found && found->number == flight
               && !s_expired (self, found, now_ms);
    pthread_mutex_unlock (&self->lock);
    return active;
}

size_t
ts_flight_size (ts_flight_t *self)
{
    pthread_mutex_lock (&self->lock);
    size_t size = zhashx_size (self->flights);
    pthread_mutex_unlock (&self->lock);
    return size;
}

int
ts_flight_watch (ts_flight_t *self, int fd)
{
    int rc = 0;
    pthread_mutex_lock (&self->lock);
    if (self->watchers_n == TS_FLIGHT_WATCHERS)
        rc = TS_ETOOBIG;
    else
        self->watchers [self->watchers_n++] = fd;
    pthread_mutex_unlock (&self->lock);
    return rc;
}

void
ts_flight_unwatch (ts_flight_t *self, int fd)
{
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->watchers_n; i++)
        if (self->watchers [i] == fd) {
            self->watchers [i] = self->watchers [--self->watchers_n];
            break;
        }
    pthread_mutex_unlock (&self->lock);
}
