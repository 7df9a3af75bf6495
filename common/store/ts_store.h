/*  ts_store - the storage interface: id registry, history and forecast.

    Three roles, as in the system tscache replaces:
    - registry: the ids to fetch (a DynamoDB table's role there);
    - history:  past points, appended and upserted, never expired here
                (Amazon Timestream's role);
    - forecast: future points of an id, replaced as a whole on each fetch
                and expiring forecast_ttl_s after they were written
                (DynamoDB with TTL).

    The backend is chosen by config (store.backend); broker/, workers/ and
    gateway/ use only this header and never name a backend. Backends
    implement ts_store_backend.h. The embedded default is LMDB: one
    environment directory that several processes of one host open at once.

    Threads: one ts_store_t may be used from several threads at once.
    Every call is one backend transaction: a write either lands whole or
    not at all. Writes are idempotent: putting the same points twice
    leaves what one put leaves (a point is keyed by id, measure, time).

    Every function returns 0 or a TS_E* code; err (TS_ERRLEN bytes, may be
    NULL) gets the detail. */

#ifndef TS_STORE_H_INCLUDED
#define TS_STORE_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_points.h"

typedef struct _ts_store_t ts_store_t;

//  Opens the backend named by store.backend with its settings from cfg.
//  Returns NULL with the reason in err (e.g. "store.lmdb.path: cannot
//  create /x: Permission denied", "store.backend: unknown backend 'x'").
ts_store_t *ts_store_new (const ts_config_t *cfg, char *err);

//  Closes the backend; sets *self_p to NULL. Safe on NULL.
void ts_store_destroy (ts_store_t **self_p);

//  Name of the backend in use, e.g. "lmdb".
const char *ts_store_backend (const ts_store_t *self);

//  The libraries the store backends use, as "LIB VERSION[, ...]" (static
//  text) for ts_version_use. Call from one thread before any other.
const char *ts_store_libraries (void);

//  --- registry ----------------------------------------------------------

//  Ids: every function below checks an id with ts_name_existing (so an id
//  registered before the first-character rule of ts_common.h can still be
//  read, written, listed and removed), except ts_store_ids_add, which
//  registers only names that pass ts_name_valid. An invalid id is
//  TS_EINVAL with the rule in err.

//  Registers ids (each must pass ts_name_valid, else TS_EINVAL and none is
//  added). Already registered ids are left as they are. If added is not
//  NULL it gets the number of ids that were new.
int ts_store_ids_add (ts_store_t *self, const char *const *ids, size_t n,
                      size_t *added, char *err);

//  Removes id from the registry and deletes its history and forecast.
//  Returns TS_ENOTFOUND if id was not registered.
int ts_store_ids_remove (ts_store_t *self, const char *id, char *err);

//  One page of the registry: appends to out at most limit (>= 1)
//  registered ids that sort after after (byte order; NULL or "" starts
//  at the first id), ascending. *more is set to whether registered ids
//  follow the last one appended; the next page starts after that id.
//  after need not be registered; it must pass ts_name_existing
//  (TS_EINVAL). Each page is one read: ids added or removed between two
//  pages may or may not be seen, but an id registered throughout is
//  listed exactly once.
int ts_store_ids_page (ts_store_t *self, const char *after, size_t limit,
                       ts_strlist_t *out, bool *more, char *err);

//  Sets *exists to whether id is registered.
int ts_store_ids_exists (ts_store_t *self, const char *id, bool *exists,
                         char *err);

//  --- history -----------------------------------------------------------

//  Upserts points of id into history: a point with the same measure and
//  time as a stored one replaces it. id need not be registered.
int ts_store_history_put (ts_store_t *self, const char *id,
                          const ts_points_t *pts, char *err);

//  Appends to out the history points of id with from_ms <= time <= to_ms,
//  ascending by time (then measure), only those of measure if it is not
//  NULL. Appends nothing for an id with no history.
int ts_store_history_range (ts_store_t *self, const char *id,
                            const char *measure, int64_t from_ms,
                            int64_t to_ms, ts_points_t *out, char *err);

//  Same, appending at most max points: if the range holds more, returns
//  TS_ETOOBIG as soon as it finds the first one past max (out then holds
//  max points), so that a reader with a limit never reads, nor holds in
//  memory, more than it may answer.
int ts_store_history_range_max (ts_store_t *self, const char *id,
                                const char *measure, int64_t from_ms,
                                int64_t to_ms, size_t max, ts_points_t *out,
                                char *err);

//  --- forecast ----------------------------------------------------------

//  Replaces the whole forecast of id with pts (which may be empty): after
//  the call only pts are stored for id. They expire at now_ms +
//  store.forecast_ttl_s.
int ts_store_forecast_replace (ts_store_t *self, const char *id,
                               const ts_points_t *pts, int64_t now_ms,
                               char *err);

//  Appends to out the forecast points of id in [from_ms, to_ms] that have
//  not expired at now_ms, ascending by time (then measure), only those of
//  measure if it is not NULL.
int ts_store_forecast_range (ts_store_t *self, const char *id,
                             const char *measure, int64_t from_ms,
                             int64_t to_ms, int64_t now_ms,
                             ts_points_t *out, char *err);

//  --- one fetched document ---------------------------------------------

//  Stores what one fetch of id brought, in one transaction: upserts
//  history into the history of id (as ts_store_history_put) and replaces
//  the whole forecast of id with forecast (as ts_store_forecast_replace,
//  expiring at now_ms + store.forecast_ttl_s). Either list may be empty.
//  Both land or neither does, so no reader and no later run ever sees
//  the new history beside the previous forecast. Every argument is
//  checked before anything is written: an invalid id or measure in
//  either list returns TS_EINVAL and stores nothing.
int ts_store_write (ts_store_t *self, const char *id,
                    const ts_points_t *history, const ts_points_t *forecast,
                    int64_t now_ms, char *err);

//  One fetched document of ts_store_write_batch.
typedef struct {
    const char        *id;          //  the series id
    const ts_points_t *history;     //  points before now (may be empty)
    const ts_points_t *forecast;    //  points from now on (may be empty)
} ts_store_doc_t;

//  Stores n documents in one transaction, each as ts_store_write would:
//  all land or none does. One transaction means one sync to disk, which
//  is what bounds how many documents per second a store can take, so a
//  worker writes together the documents it has in hand. Every document
//  is checked first: if any is invalid, TS_EINVAL names it (by index and
//  id) and nothing is written. n == 0 does nothing.
int ts_store_write_batch (ts_store_t *self, const ts_store_doc_t *docs,
                          size_t n, int64_t now_ms, char *err);

//  --- change stamps ------------------------------------------------------

//  What a reader needs to know to reuse an answer it computed earlier for
//  an id: the answer is still right while the id's version is the same
//  and the clock is before expires_ms.
typedef struct {
    uint64_t version;       //  changes whenever anything stored for the id
                            //  changes (registered, removed, written);
                            //  0 if nothing was recorded for it
    int64_t  expires_ms;    //  when its stored forecast expires, INT64_MAX
                            //  if it has none
} ts_store_stamp_t;

//  Reads the change stamp of id (any valid name, registered or not).
//  Returns 0, TS_EINVAL (bad id), TS_EBACKEND, or TS_ENOTFOUND if the
//  backend keeps no stamps: callers then must not reuse answers.
int ts_store_stamp (ts_store_t *self, const char *id,
                    ts_store_stamp_t *stamp, char *err);

//  Lets go of the store pages this process holds in memory without
//  needing them. With an embedded store, every page a write walks stays
//  mapped into the writer, so a worker that fills a large store would
//  show most of it as its own resident memory although the pages belong
//  to the OS page cache (shared, reclaimable, kept for the next reader).
//  A writer calls this after its writes: its resident set then stays its
//  working set. Data is untouched. Does nothing for backends without a
//  local map. Never fails.
void ts_store_release (ts_store_t *self);

//  Deletes forecast points expired at now_ms. If removed is not NULL it
//  gets how many were deleted. Reads already hide expired points; this
//  reclaims their space.
int ts_store_expire (ts_store_t *self, int64_t now_ms, size_t *removed,
                     char *err);

#endif
