/*  ts_ingest - the upstream -> points path: a fetched document is mapped
    (ts_map, by a map spec its caller builds), split at now into history
    and forecast (ts_points_split) and written to the store
    (ts_store_write_batch).

    The worker calls it for every document it fetches; a push-ingest
    process or a CSV import call it the same way with a spec built from
    their own input. It neither fetches nor reads the clock: the caller
    passes the document and now_ms, and learns each document's fate from
    the flush to log or report it (the module itself logs only, at debug
    level, how a batch was written).

    Documents are written in batches (group commit): ts_ingest_add maps
    and splits one document into the batch, ts_ingest_flush stores the
    batch with one ts_store_write_batch - one transaction, one sync to
    disk, which is what bounds a store's writes per second. If that
    fails and the batch holds more than one document, each is written
    alone, so one that cannot be stored fails only itself.

    Each document added with ts_ingest_add (or ts_ingest_add_points
    without history_only) carries the success mark of its id's fetch
    status (ts_store_doc_t.fetched_ms = the now_ms it was added with),
    written with its data; a window job's document (history only) marks
    nothing: it does not bring the id up to now.

    Writes are idempotent: history is an upsert keyed by (id, measure,
    time) and the forecast of an id is replaced as a whole, so a document
    ingested twice leaves what one ingest leaves.

    Not thread-safe: one ts_ingest_t belongs to one thread. */

#ifndef TS_INGEST_H_INCLUDED
#define TS_INGEST_H_INCLUDED

#include "ts_common.h"
#include "ts_map.h"
#include "ts_points.h"
#include "ts_store.h"

typedef struct _ts_ingest_t ts_ingest_t;

//  What happened to one document of a flushed batch.
typedef struct {
    size_t      index;          //  its place in the batch, in add order
    const char *id;             //  the id it was added with
    size_t      history;        //  points written to history
    size_t      forecast;       //  points that replaced the forecast
    size_t      skipped;        //  history only: points at or after now,
                                //  not stored (the forecast left alone)
    int         rc;             //  0 stored, else the store's TS_E* code
    const char *err;            //  the store's detail if rc != 0, else ""
} ts_ingest_result_t;

//  Called by ts_ingest_flush once per document, in add order. result and
//  its strings are valid during the call only.
typedef void (ts_ingest_done_fn) (void *arg,
                                  const ts_ingest_result_t *result);

//  Compiles spec (see ts_map_new; borrowed during the call only) and
//  writes to store (borrowed: it must outlive the ingest). batch_max
//  (>= 1) is how many documents a batch holds. Returns NULL with the
//  reason in err (the spec's error, or "out of memory").
ts_ingest_t *ts_ingest_new (const ts_map_spec_t *spec, ts_store_t *store,
                            size_t batch_max, char *err);

//  Frees the ingest and any batch not flushed (its documents are not
//  stored); sets *self_p to NULL. Safe on NULL.
void ts_ingest_destroy (ts_ingest_t **self_p);

//  Maps doc (len bytes, as fetched) and splits its points at now_ms
//  (time < now_ms history, the rest forecast) into the batch, under id
//  (borrowed until the flush). The batch must not be full
//  (ts_ingest_full). Returns 0; or TS_EPROTO for a document the spec
//  cannot read, TS_ENOMEM, or TS_ETOOBIG if it cannot be split (too many
//  measure names): then err holds the detail (the map's, e.g.
//  "document[3].time: missing"), *what names the stage ("invalid
//  document", "out of memory", "cannot split the document") and the
//  batch is unchanged.
int ts_ingest_add (ts_ingest_t *self, const char *id, const char *doc,
                   size_t len, int64_t now_ms, const char **what,
                   char *err);

//  ts_ingest_add for a document of a window job (a backfill chunk): its
//  points before now_ms go to history and the id's forecast is left as
//  it is, not replaced: only a fetch of the default window, which
//  reaches into the future, renews the forecast. Points at or after
//  now_ms are not stored (counted in the result's skipped).
int ts_ingest_add_history (ts_ingest_t *self, const char *id,
                           const char *doc, size_t len, int64_t now_ms,
                           const char **what, char *err);

//  The mapping report (ts_map.h) of the document last given to
//  ts_ingest_add: what it skipped or dropped and its first warnings, and
//  after TS_EPROTO whether the document's shape is at fault (shape: the
//  same document can never be mapped) or its syntax (a body cut short
//  may be whole next time). Valid until the next ts_ingest_add.
const ts_map_report_t *ts_ingest_report (const ts_ingest_t *self);

//  The parts of ts_ingest_add, for a document fetched in pages: each page
//  is mapped into the caller's list with ts_ingest_map (which appends:
//  on error out is as it was; the mapping report, ts_ingest_report, is
//  the page's), and the whole list goes into the batch with
//  ts_ingest_add_points, so all pages of an id are stored in one write or
//  not at all; history_only as for ts_ingest_add_history. Codes, *what
//  and err as ts_ingest_add. all is borrowed during the call only (its
//  points are split into the batch).
int ts_ingest_map (ts_ingest_t *self, const char *doc, size_t len,
                   int64_t now_ms, ts_points_t *out, const char **what,
                   char *err);
int ts_ingest_add_points (ts_ingest_t *self, const char *id,
                          const ts_points_t *all, int64_t now_ms,
                          bool history_only, const char **what, char *err);

//  Documents in the batch now.
size_t ts_ingest_pending (const ts_ingest_t *self);

//  Whether the batch holds batch_max documents.
bool ts_ingest_full (const ts_ingest_t *self);

//  Stores the batch, as the file comment says, with forecasts expiring
//  at now_ms + store.forecast_ttl_s, then calls done (may be NULL) for
//  each document. Leaves the batch empty. Returns how many documents
//  could not be stored (0 when all were, or the batch was empty).
size_t ts_ingest_flush (ts_ingest_t *self, int64_t now_ms,
                        ts_ingest_done_fn *done, void *arg);

#endif
