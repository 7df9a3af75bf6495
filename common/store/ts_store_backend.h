/*  ts_store_backend - what a storage backend provides to ts_store.

    Internal to common/store/: ts_store.c holds a table of backends by
    name, opens the one of each role (once for roles that share it) and
    routes every ts_store_* call to the backend of the role it touches. A
    new backend (DynamoDB, Timestream, InfluxDB) adds one ts_store_ops_t
    and one line in that table; nothing outside common/store/ changes.
    Argument checks (valid ids and measures, from <= to) are done by
    ts_store.c before a backend is called.

    A backend may be asked to serve any subset of the roles: it is opened
    with the whole config and called only with ids and data of the roles
    it serves; where an operation spans roles (write, forget, read), the
    roles argument or the NULL parts say which parts are its own. A
    backend that serves several roles keeps each operation's parts in one
    transaction where it can (and says so by its caps). */

#ifndef TS_STORE_BACKEND_H_INCLUDED
#define TS_STORE_BACKEND_H_INCLUDED

#include "ts_store.h"

typedef struct {
    const char *name;   //  value of store.backend, e.g. "lmdb"
    //  TS_STORE_CAP_* bits it keeps when it serves every role (STAMPS,
    //  SNAPSHOT, ATOMIC), the forecast role (TTL), the history role
    //  (ALLTIME), and FORGET if its forget and ids_remove delete what it
    //  holds of an id.
    unsigned    caps;
    //  "LIB VERSION" of the library the backend uses, for --version
    //  (static text), or NULL if it uses none.
    const char *(*libraries) (void);
    //  Opens the backend; returns its state or NULL with reason in err.
    void *(*open) (const ts_config_t *cfg, char *err);
    void  (*close) (void *state);
    int (*ids_add) (void *state, const char *const *ids, size_t n,
                    size_t *added, char *err);
    //  Removes id from the registry (TS_ENOTFOUND if it is not there) and
    //  deletes what this backend holds of it in the other roles.
    int (*ids_remove) (void *state, const char *id, char *err);
    //  Deletes what this backend holds of id in roles (TS_STORE_HISTORY,
    //  TS_STORE_FORECAST bits), leaving the registry alone; 0 if it held
    //  nothing. Used when the registry lives in another backend.
    int (*forget) (void *state, unsigned roles, const char *id, char *err);
    //  Appends at most limit ids sorting after after ("" or NULL: from
    //  the first), ascending; *more: whether ids follow.
    int (*ids_page) (void *state, const char *after, size_t limit,
                     ts_strlist_t *out, bool *more, char *err);
    int (*ids_exists) (void *state, const char *id, bool *exists, char *err);
    //  Sources of ids (a backend that serves the registry has these):
    //  ids_add_to as ids_add, but each id, new or registered, gets source
    //  (a name; "" the first source): a registered id moves to it, and
    //  is not counted in added. ids_page_sources as ids_page, appending
    //  each listed id's source to sources (if not NULL; "" for an id
    //  registered without one) and calling each (if not NULL) with the
    //  k-th listed id's fetch status, in order, as ts_store_ids_page_
    //  status says (a TS_E* code it returns stops the read and is
    //  returned). ids_source sets *exists and, if it is, copies id's
    //  source into source (TS_NAME_MAX + 1 bytes).
    int (*ids_add_to) (void *state, const char *const *ids, size_t n,
                       const char *source, size_t *added, char *err);
    int (*ids_page_sources) (void *state, const char *after, size_t limit,
                             ts_strlist_t *out, ts_strlist_t *sources,
                             ts_store_status_fn *each, void *arg,
                             bool *more, char *err);
    int (*ids_source) (void *state, const char *id, bool *exists,
                       char *source, char *err);
    //  Fetch status (a backend that serves the registry has these; see
    //  ts_store_status_t): ids_status sets *exists and, if it is,
    //  copies id's status into status (zero for none). ids_mark applies
    //  n marks (ts_store_mark_t's rule, ts_store_status_apply), each to
    //  a registered id and only if not older than its attempt_ms,
    //  ignoring the others; in one transaction where it has them.
    int (*ids_status) (void *state, const char *id, bool *exists,
                       ts_store_status_t *status, char *err);
    int (*ids_mark) (void *state, const ts_store_mark_t *marks, size_t n,
                     char *err);
    int (*history_put) (void *state, const char *id, const ts_points_t *pts,
                        char *err);
    //  Appends at most max points; TS_ETOOBIG if the range holds more.
    int (*history_range) (void *state, const char *id, const char *measure,
                          int64_t from_ms, int64_t to_ms, size_t max,
                          ts_points_t *out, char *err);
    //  ts_store_history_scan's walk, arguments checked; NULL: ts_store.c
    //  reads chunks with history_range (ts_store_scan_chunked).
    int (*history_scan) (void *state, const char *id, const char *measure,
                         int64_t from_ms, int64_t to_ms, bool reverse,
                         ts_store_scan_fn *fn, void *arg, char *err);
    int (*forecast_replace) (void *state, const char *id,
                             const ts_points_t *pts, int64_t expires_ms,
                             char *err);
    int (*forecast_range) (void *state, const char *id, const char *measure,
                           int64_t from_ms, int64_t to_ms, int64_t now_ms,
                           ts_points_t *out, char *err);
    //  For each document, history_put and forecast_replace of its id, in
    //  one transaction where the backend has them. A document's
    //  fetched_ms (not 0) is its success mark, applied as ids_mark in
    //  the same transaction: ts_store.c leaves it in only where this
    //  backend serves every role (else it is 0 and ts_store.c marks
    //  through the registry's ids_mark). A NULL history or
    //  forecast in a document is another backend's part: left alone (an
    //  empty list is a forecast replaced by nothing).
    int (*write) (void *state, const ts_store_doc_t *docs, size_t n,
                  int64_t expires_ms, char *err);
    //  The parts of one query in roles (TS_STORE_* bits): existence and
    //  fetch status (REGISTRY: ans->exists, ans->status), history
    //  (HISTORY, at most q->max points, TS_ETOOBIG past it) and forecast
    //  (FORECAST), in one snapshot. Reads no points if REGISTRY is asked
    //  and the id is not registered. NULL: ts_store.c composes it from
    //  ids_status, history_range and forecast_range.
    int (*read) (void *state, unsigned roles, const ts_store_query_t *q,
                 ts_store_answer_t *ans, char *err);
    //  Drops this process's mapping of pages it is not using; NULL if the
    //  backend has no local map.
    void (*release) (void *state);
    //  Change stamp of an id; NULL if the backend keeps none.
    int (*stamp) (void *state, const char *id, ts_store_stamp_t *stamp,
                  char *err);
    int (*expire) (void *state, int64_t now_ms, size_t *removed, char *err);
    //  Creates what the backend needs before it can be opened with cfg
    //  (tables), finds what exists (idempotent), appending one line per
    //  thing created or found to report; NULL if it needs nothing made
    //  (LMDB creates its files at open). Called without open.
    int (*init) (const ts_config_t *cfg, ts_strlist_t *report, char *err);
} ts_store_ops_t;

//  Applies mark to status as ts_store_mark_t says, unless it is older
//  than status->attempt_ms; returns whether it applied it
//  (ts_store_status.c).
bool ts_store_status_apply (ts_store_status_t *status,
                            const ts_store_mark_t *mark);

//  ts_store_history_scan for a backend without history_scan: reads
//  chunks of at most TS_STORE_SCAN_CHUNK points with ops->history_range
//  (ts_store_scan.c).
int ts_store_scan_chunked (const ts_store_ops_t *ops, void *state,
                           const char *id, const char *measure,
                           int64_t from_ms, int64_t to_ms, bool reverse,
                           ts_store_scan_fn *fn, void *arg, char *err);

//  The embedded LMDB backend (ts_store_lmdb.c).
extern const ts_store_ops_t ts_store_lmdb_ops;

//  The DynamoDB backend, registry and forecast roles only
//  (ts_store_dynamodb.c).
extern const ts_store_ops_t ts_store_dynamodb_ops;

//  The Timestream for LiveAnalytics backend, history role only
//  (ts_store_timestream.c).
extern const ts_store_ops_t ts_store_timestream_ops;

//  TS_ECONFIG with the key in err if cfg puts the registry or the
//  forecast role (store.<role>.backend, or store.backend for an empty
//  one) on the history-only backend name.
int ts_store_history_only_roles (const ts_config_t *cfg, const char *name,
                                 char *err);

//  The ops of the roles a history-only backend does not serve, for its
//  table (ts_store_history_only.c): never called by ts_store.c, each
//  fails with TS_EBACKEND.
int ts_store_history_only_ids_add (void *state, const char *const *ids,
                                   size_t n, size_t *added, char *err);
int ts_store_history_only_ids_remove (void *state, const char *id,
                                      char *err);
int ts_store_history_only_ids_page (void *state, const char *after,
                                    size_t limit, ts_strlist_t *out,
                                    bool *more, char *err);
int ts_store_history_only_ids_exists (void *state, const char *id,
                                      bool *exists, char *err);
int ts_store_history_only_forecast_replace (void *state, const char *id,
                                            const ts_points_t *pts,
                                            int64_t expires_ms, char *err);
int ts_store_history_only_forecast_range (void *state, const char *id,
                                          const char *measure,
                                          int64_t from_ms, int64_t to_ms,
                                          int64_t now_ms, ts_points_t *out,
                                          char *err);
int ts_store_history_only_expire (void *state, int64_t now_ms,
                                  size_t *removed, char *err);

//  The InfluxDB backend, history role only (ts_store_influxdb.c).
extern const ts_store_ops_t ts_store_influxdb_ops;

//  Opens a store whose roles are served by the given backends, each
//  opened with its own config (the same ops and cfg for several roles
//  means one instance). ts_store_new calls this with the backends and
//  config named by store.<role>.backend; the contract suite calls it to
//  run every role on its own instance (three LMDB environments).
ts_store_t *ts_store_new_with (const ts_store_ops_t *registry,
                               const ts_config_t *registry_cfg,
                               const ts_store_ops_t *history,
                               const ts_config_t *history_cfg,
                               const ts_store_ops_t *forecast,
                               const ts_config_t *forecast_cfg, char *err);

#endif
