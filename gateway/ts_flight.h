/*  ts_flight - the gateway's single-flight table of read-through fetches:
    which ids a fetch was asked for (a priority hydrate) and not heard of
    since, so that concurrent queries of one id, on any HTTP thread or the
    ZeroMQ front end, ask the broker once.

    A flight of an id starts when a query (or ts_api_revalidate) asks for
    a fetch of it and none is in flight; it ends when the change notice
    of the id is heard (ts_notice), when the broker refuses or skips the
    hydrate that flight sent (a late answer about an earlier flight's
    hydrate leaves a newer flight alone), or, at the latest, ttl_ms
    after it started (notices not heard, or a job still retrying: the
    broker publishes a notice when a job wrote the id or failed). Each
    flight has a number of its own, so a query parked on one flight is
    never held by the next flight of the same id.

    Waking: a front end parks a query on a flight and watches an eventfd
    it registered here (ts_flight_watch); every flight that ends writes 1
    to every registered eventfd, and the front end then looks at which of
    its parked queries' flights ended (ts_flight_active). Ends are rare
    (one per fetch), so waking every loop is cheap, and no thread ever
    blocks on another's.

    Thread-safe: one mutex around the table and the watchers. Times are
    monotonic milliseconds passed in by the caller. */

#ifndef TS_FLIGHT_H_INCLUDED
#define TS_FLIGHT_H_INCLUDED

#include "ts_common.h"

#define TS_FLIGHT_WATCHERS  64      //  eventfds registered at most
#define TS_FLIGHT_MAX       100000  //  ids in flight at most

typedef struct _ts_flight_t ts_flight_t;

//  Creates an empty table whose flights end ttl_ms after they started,
//  at the latest. Returns NULL if out of memory.
ts_flight_t *ts_flight_new (int64_t ttl_ms);

//  Frees the table; sets *self_p to NULL. Safe on NULL.
void ts_flight_destroy (ts_flight_t **self_p);

//  Starts a flight of id at now_ms unless one is in flight. *flight gets
//  the number of the flight id is in (new or not; numbers start at 1).
//  Returns 0 if it started now (the caller asks for the fetch), 1 if one
//  was in flight already, TS_ETOOBIG if TS_FLIGHT_MAX ids are in flight,
//  TS_ENOMEM.
int ts_flight_start (ts_flight_t *self, const char *id, int64_t now_ms,
                     uint64_t *flight);

//  Ends the flight of id, if any, and wakes the watchers: whichever is in
//  flight if flight is 0 (a change notice: the id has news), else only
//  that flight (a reply about the fetch that flight asked for: a newer
//  flight of the same id asked for a fetch of its own). Returns true if
//  it ended one.
bool ts_flight_end (ts_flight_t *self, const char *id, uint64_t flight);

//  True if flight (a number from ts_flight_start) of id is still in
//  flight at now_ms.
bool ts_flight_active (ts_flight_t *self, const char *id, uint64_t flight,
                       int64_t now_ms);

//  Ids in flight now (expired flights included until they are swept).
size_t ts_flight_size (ts_flight_t *self);

//  Registers fd (an eventfd, borrowed) to be written 1 whenever a flight
//  ends. Returns 0, or TS_ETOOBIG if TS_FLIGHT_WATCHERS are registered.
int ts_flight_watch (ts_flight_t *self, int fd);

//  Forgets fd. Safe if it was never registered.
void ts_flight_unwatch (ts_flight_t *self, int fd);

#endif
