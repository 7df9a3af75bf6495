/*  ts_store - the storage interface: id registry, history and forecast.

    Three roles, as in the system tscache replaces:
    - registry: the ids to fetch (a DynamoDB table's role there), each
                with its source and its fetch status (written by the
                workers: ts_store_status_t below);
    - history:  past points, appended and upserted, never expired here
                (Amazon Timestream's role);
    - forecast: future points of an id, replaced as a whole on each fetch
                and expiring forecast_ttl_s after they were written
                (DynamoDB with TTL).

    Each role has its backend, chosen by config (store.registry.backend,
    store.history.backend, store.forecast.backend; store.backend sets the
    three at once). Roles that name the same backend share one open
    instance of it. broker/, workers/ and gateway/ use only this header
    and see one ts_store_t; they never name a backend. Backends implement
    ts_store_backend.h. The embedded default is LMDB: one environment
    directory that several processes of one host open at once.

    What every backend keeps (the contract suite, tests/contract/, checks
    it for each backend):
    - Each call on one role is atomic for that role: a history put, a
      forecast replace, an id added or removed lands whole or not at all,
      and a concurrent reader sees it before or after, never half.
    - Writes are idempotent: putting the same points twice leaves what one
      put leaves (a history point is keyed by id, measure and time).
    - Across roles nothing is atomic unless ts_store_caps says so
      (TS_STORE_CAP_ATOMIC): a document's history is written before its
      forecast is replaced, so a concurrent reader may see the new
      history beside the previous forecast, never the new forecast beside
      the previous history. The query merge rule (history up to its newest
      point, the forecast after it: ts_series_merge) gives a right answer
      either way: the previous forecast's points that the new history
      covers are hidden by it.
    - A read of several roles (ts_store_read) is one snapshot only with
      TS_STORE_CAP_SNAPSHOT; otherwise each role is read on its own, in
      the order registry, forecast, history: the reverse of the write
      order, so a reader that sees a new forecast also sees the history
      written before it (read the other way, a new forecast beside the
      previous history would leave a gap between the old history's end
      and the new forecast's start, which no merge rule can fill).

    Threads: one ts_store_t may be used from several threads at once.

    Every function returns 0 or a TS_E* code; err (TS_ERRLEN bytes, may be
    NULL) gets the detail. */

#ifndef TS_STORE_H_INCLUDED
#define TS_STORE_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_points.h"
#include "ts_prom.h"

typedef struct _ts_store_t ts_store_t;

//  The three roles, as bits (for ts_store_role_backend and backends).
#define TS_STORE_REGISTRY   1u
#define TS_STORE_HISTORY    2u
#define TS_STORE_FORECAST   4u
#define TS_STORE_ROLES      7u

//  What a store keeps beyond the contract above (ts_store_caps).
#define TS_STORE_CAP_STAMPS    1u   //  keeps change stamps: ts_store_stamp
                                    //  works and answers may be reused
#define TS_STORE_CAP_SNAPSHOT  2u   //  ts_store_read is one snapshot of
                                    //  every role
#define TS_STORE_CAP_ATOMIC    4u   //  ts_store_write(_batch) lands whole
                                    //  or not at all, across roles, and
                                    //  no reader sees it half done
#define TS_STORE_CAP_TTL       8u   //  the forecast backend deletes
                                    //  expired points itself
#define TS_STORE_CAP_FORGET   16u   //  removing an id deletes its history
                                    //  and forecast (else its points stay
                                    //  stored, unread while the id is not
                                    //  registered: Timestream deletes
                                    //  nothing)
#define TS_STORE_CAP_ALLTIME  32u   //  history holds any time, INT64_MIN
                                    //  .. INT64_MAX ms (else only its
                                    //  backend's window: a put of a point
                                    //  outside it fails naming it)

//  Opens the backend of each role (store.<role>.backend, or store.backend
//  where that is empty) with its settings from cfg; a backend named by
//  several roles is opened once. Returns NULL with the reason in err
//  (e.g. "store.lmdb.path: cannot create /x: Permission denied",
//  "store.history.backend: unknown backend 'x'").
ts_store_t *ts_store_new (const ts_config_t *cfg, char *err);

//  Closes the backend; sets *self_p to NULL. Safe on NULL.
void ts_store_destroy (ts_store_t **self_p);

//  `store init`: creates what the backends cfg names need before a store
//  can be opened (DynamoDB tables), each backend once, and finds what
//  exists already (running it twice is harmless). Appends one line per
//  thing created or found to report ("dynamodb: table T created"); a
//  backend with nothing to create adds "BACKEND: nothing to create".
//  Returns 0 or a TS_E* code with the reason in err.
int ts_store_init (const ts_config_t *cfg, ts_strlist_t *report, char *err);

//  Name of the backend in use, e.g. "lmdb"; when roles use different
//  backends, "registry=X history=Y forecast=Z" (static to self).
const char *ts_store_backend (const ts_store_t *self);

//  Name of the backend serving role (one TS_STORE_* role bit).
const char *ts_store_role_backend (const ts_store_t *self, unsigned role);

//  TS_STORE_CAP_* bits the store as configured keeps: STAMPS, SNAPSHOT
//  and ATOMIC only where one backend serves every role and keeps them;
//  TTL where the forecast role's backend expires points itself; FORGET
//  where every backend deletes an id's points; ALLTIME where the history
//  role's backend holds any time.
unsigned ts_store_caps (const ts_store_t *self);

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

//  Removes id from the registry and deletes its history and forecast
//  (only with TS_STORE_CAP_FORGET: a backend that cannot delete keeps
//  them, and reads of the id answer not registered all the same).
//  Returns TS_ENOTFOUND if id was not registered.
int ts_store_ids_remove (ts_store_t *self, const char *id, char *err);

//  One page of the registry, a cursor over it: appends to out at most
//  limit (>= 1) registered ids that come after after (NULL or "" starts
//  at the first id) in the backend's order, which is stable while the
//  registry does not change (byte order for LMDB; a network store may
//  use its own). *more is set to whether registered ids follow the last
//  one appended; the next page passes that id as after. Pages are read
//  one at a time, never the whole registry: the scheduler and ids ls walk
//  any number of ids in bounded memory. after must pass ts_name_existing
//  (TS_EINVAL); it need not be registered any more. Ids added or removed
//  between two pages may or may not be listed, but an id registered
//  throughout is listed exactly once.
int ts_store_ids_page (ts_store_t *self, const char *after, size_t limit,
                       ts_strlist_t *out, bool *more, char *err);

//  Sets *exists to whether id is registered.
int ts_store_ids_exists (ts_store_t *self, const char *id, bool *exists,
                         char *err);

//  Sources: an id is registered to a source (ts_config.h: a configured
//  upstream, by name), the one its jobs fetch from. The registry keeps
//  the name as given; "" (and every id registered before sources, or by
//  ts_store_ids_add) means the first source of the config.

//  As ts_store_ids_add, but every id gets source (a name passing
//  ts_name_valid, else TS_EINVAL; or "" for the first source): an
//  already registered id moves to it (keeping its history and forecast)
//  and is not counted in added. Whether source is configured is the
//  caller's check.
int ts_store_ids_add_to (ts_store_t *self, const char *const *ids, size_t n,
                         const char *source, size_t *added, char *err);

//  As ts_store_ids_page, and if sources is not NULL, appends each listed
//  id's source to it ("" for none), so that sources->items [k] is the
//  source of the k-th id appended to out.
int ts_store_ids_page_sources (ts_store_t *self, const char *after,
                               size_t limit, ts_strlist_t *out,
                               ts_strlist_t *sources, bool *more,
                               char *err);

//  As ts_store_ids_page_sources, and if each is not NULL, calls it with
//  the fetch status (ts_store_status_t, below) of the k-th id appended to
//  out, in order, read with the page (no request per id): the scheduler
//  leaves out the ids whose upstream 404 is negatively cached, ids_ls
//  with fetch answers every id's status. The status is each's to read
//  during the call only; each must not call the store (on LMDB it runs
//  inside the page's read transaction). A TS_E* code (negative) it
//  returns stops the read and is returned (each fills err); out and
//  sources then hold the ids read so far, and *more is false.
typedef struct _ts_store_status_t ts_store_status_t;
typedef int (ts_store_status_fn) (void *arg, size_t k,
                                  const ts_store_status_t *status,
                                  char *err);
int ts_store_ids_page_status (ts_store_t *self, const char *after,
                              size_t limit, ts_strlist_t *out,
                              ts_strlist_t *sources, ts_store_status_fn *each,
                              void *arg, bool *more, char *err);

//  Copies id's source into source (TS_NAME_MAX + 1 bytes; "" for none).
//  Returns TS_ENOTFOUND if id is not registered (source "").
int ts_store_ids_source (ts_store_t *self, const char *id, char *source,
                         char *err);

//  Fetch status: what the workers last learnt of an id's upstream, kept
//  with its registration (the registry role) and read with it, in the
//  same snapshot, by ts_store_read. Written by the workers (a success
//  mark with every stored document: ts_store_doc_t.fetched_ms; a failure
//  mark when a fetch of the id failed: ts_store_ids_failed), read by the
//  gateway (answers, GET /v1/ids/{id}, ids pages with fetch) and the
//  scheduler (ticks leave out negatively cached 404s), the last two with
//  the registry page (ts_store_ids_page_status). Removing an id removes its
//  status; registering it again (ts_store_ids_add, _add_to: to another
//  source) keeps it. A mark for an id that is not registered is ignored,
//  and so is a mark older than the id's last attempt (at_ms <
//  attempt_ms: two workers' marks arriving out of order).
struct _ts_store_status_t {
    int64_t ok_ms;               //  last successful fetch, epoch ms; 0 never
    int64_t attempt_ms;          //  last fetch that ended, ok or not; 0 never
    int64_t error_ms;            //  last failure after ok_ms; 0 none
    char    error [TS_ERRLEN];   //  its detail ("" none)
    char    kind [32];           //  its kind ("http_404", "timeout", ...;
                                 //  "" none)
    int64_t not_found_until_ms;  //  upstream said 404: negative-cached
                                 //  until; 0 none
};

//  One mark of a fetch's outcome for id. A success (ok) sets ok_ms and
//  attempt_ms to at_ms and clears error_ms, error, kind and
//  not_found_until_ms. A failure sets attempt_ms and error_ms to at_ms,
//  error to detail and kind to kind (each truncated to its field, ""
//  for NULL), not_found_until_ms to not_found_until_ms (0: none; a
//  failure that is not a 404 so clears an earlier one), and keeps ok_ms.
typedef struct {
    const char *id;
    int64_t     at_ms;              //  when the fetch ended, epoch ms (> 0)
    bool        ok;                 //  success, else failure
    const char *kind;               //  failure: its kind
    const char *detail;             //  failure: its detail, no secrets
    int64_t     not_found_until_ms; //  failure: 404 cached until; 0 none
} ts_store_mark_t;

//  Copies id's fetch status into status (all zero and "" for an id never
//  fetched, or registered by a store written before statuses existed).
//  Returns TS_ENOTFOUND if id is not registered (status zeroed).
int ts_store_ids_status (ts_store_t *self, const char *id,
                         ts_store_status_t *status, char *err);

//  Applies n marks (each id checked as the other ids functions do: an
//  invalid one is TS_EINVAL and nothing is marked; at_ms must be > 0),
//  in one backend call where the registry backend allows. Marks of ids
//  not registered are ignored (0).
int ts_store_ids_mark (ts_store_t *self, const ts_store_mark_t *marks,
                       size_t n, char *err);

//  One failure mark (ts_store_ids_mark): the fetch of id that ended at
//  at_ms failed with kind and detail; not_found_until_ms when the
//  upstream answered 404 and the source caches that (0: none).
int ts_store_ids_failed (ts_store_t *self, const char *id, int64_t at_ms,
                         const char *kind, const char *detail,
                         int64_t not_found_until_ms, char *err);

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

//  A visitor of ts_store_history_scan: called with each point (measure
//  borrowed, valid during the call). Returns 0 to go on, 1 to stop the
//  scan (which then returns 0), or a TS_E* code (< 0) to stop it with
//  that code.
typedef int (ts_store_scan_fn) (void *arg, int64_t time_ms,
                                const char *measure, double value);

//  Calls fn with each history point of id with from_ms <= time <= to_ms,
//  only those of measure if it is not NULL, without building a list:
//  ascending by time (reverse: descending), the points of one time in any
//  order of their measures. Memory stays bounded whatever the range
//  holds: LMDB walks a cursor; the other backends read chunks of at most
//  TS_STORE_SCAN_CHUNK points (a reverse scan reads windows of time
//  going back from to_ms, so that the newest points before a time cost
//  one or a few reads). An id with no history calls fn never. Returns 0,
//  fn's code, or a TS_E* code of the backend.
int ts_store_history_scan (ts_store_t *self, const char *id,
                           const char *measure, int64_t from_ms,
                           int64_t to_ms, bool reverse, ts_store_scan_fn *fn,
                           void *arg, char *err);

//  Points one chunk of a scan reads from a backend without a native scan.
#define TS_STORE_SCAN_CHUNK  4096

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

//  --- one query ----------------------------------------------------------

//  What a query reads.
typedef struct {
    const char *id;             //  the series id
    const char *measure;        //  only this measure; NULL: every one
    int64_t     from_ms;        //  range, both ends included
    int64_t     to_ms;
    int64_t     now_ms;         //  forecast points expired by then are
                                //  not read
    size_t      max;            //  at most this many history points
} ts_store_query_t;

//  What it got: the caller owns the point lists, appended to.
typedef struct {
    bool         exists;        //  id is registered
    ts_points_t *history;       //  history points of the range
    ts_points_t *forecast;      //  unexpired forecast points of the range
    ts_store_status_t status;   //  id's fetch status (when exists; zero
                                //  otherwise), read with exists
} ts_store_answer_t;

//  Reads everything one query needs in one call: whether q->id is
//  registered and its fetch status (ans->status, in the registry's
//  read: the same snapshot as exists), then, if it is, its history in
//  the range (as ts_store_history_range_max, at most q->max points:
//  TS_ETOOBIG as soon as the range holds more) and its forecast in the range (as
//  ts_store_forecast_range). An id that is not registered reads no
//  points and is not an error (ans->exists is false). One snapshot of
//  every role where ts_store_caps has TS_STORE_CAP_SNAPSHOT, else see
//  the contract at the top. The points are not merged: that is the
//  caller's rule (ts_series_merge).
int ts_store_read (ts_store_t *self, const ts_store_query_t *q,
                   ts_store_answer_t *ans, char *err);

//  --- one fetched document ---------------------------------------------

//  Stores what one fetch of id brought: upserts history into the history
//  of id (as ts_store_history_put), then replaces the whole forecast of
//  id with forecast (as ts_store_forecast_replace, expiring at now_ms +
//  store.forecast_ttl_s). Either list may be empty; forecast may be NULL,
//  which leaves the forecast as it is (history only). With
//  TS_STORE_CAP_ATOMIC both land or neither does; otherwise the history
//  lands first (see the contract at the top) and a failure between the
//  two leaves the new history beside the previous forecast, which a
//  retry of the same document mends (writes are idempotent). Every
//  argument is checked before anything is written: an invalid id or
//  measure in either list returns TS_EINVAL and stores nothing.
int ts_store_write (ts_store_t *self, const char *id,
                    const ts_points_t *history, const ts_points_t *forecast,
                    int64_t now_ms, char *err);

//  One fetched document of ts_store_write_batch.
typedef struct {
    const char        *id;          //  the series id
    const ts_points_t *history;     //  points before now (may be empty)
    const ts_points_t *forecast;    //  points from now on (may be empty,
                                    //  replacing the forecast by none);
                                    //  NULL: the forecast is left as it
                                    //  is (a backfill's window job)
    int64_t            fetched_ms;  //  when this document was fetched:
                                    //  a success mark for id (as
                                    //  ts_store_ids_mark, ok) written
                                    //  with the data, after it; 0: none
} ts_store_doc_t;

//  Stores n documents, each as ts_store_write would, as few backend
//  calls as each role's backend allows (one transaction, one sync to
//  disk, for LMDB: what bounds how many documents per second a store can
//  take, so a worker writes together the documents it has in hand). With
//  TS_STORE_CAP_ATOMIC all land or none does; otherwise every history
//  lands before any forecast is replaced. Every document is checked
//  first: if any is invalid, TS_EINVAL names it (by index and id) and
//  nothing is written. n == 0 does nothing.
//
//  The success marks of the documents (fetched_ms) are written in the
//  same transaction where one backend serves every role (LMDB: no extra
//  sync to disk per document), else by one more call to the registry's
//  backend after the data landed. Marks never cost the data: a failure
//  to write them, once the data landed, is logged (ts_warn), counted in
//  tscache_store_write_errors_total (role "registry") and the call
//  still returns 0.
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
//  Only for a store with TS_STORE_CAP_STAMPS (else TS_EINVAL says so):
//  without stamps a reader cannot know when an answer changed, and may
//  reuse it only for a bounded time (gateway.cache_stale_ms) or until a
//  change notice says so (docs/architecture.md).
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

//  --- write figures -------------------------------------------------------

//  Writes, as Prometheus families (docs/metrics.md), the figures of the
//  write calls ts_store_write and ts_store_write_batch made through this
//  store since ts_store_new: tscache_store_write_duration_seconds (a
//  histogram, one observation per backend call) and
//  tscache_store_write_errors_total, labelled role ("history",
//  "forecast", or "history+forecast" where one backend writes both in
//  one call) and backend ("lmdb", ...). A failed argument check is no
//  call and counts nothing. Thread-safe.
void ts_store_metrics (ts_store_t *self, ts_prom_t *prom);

#endif
