/*  ts_store_backend - what a storage backend provides to ts_store.

    Internal to common/: ts_store.c holds a table of backends by name and
    forwards every ts_store_* call to the chosen one's operations. A new
    backend (DynamoDB, Timestream, InfluxDB) adds one ts_store_ops_t and
    one line in that table; nothing outside common/ changes. Argument
    checks (valid ids and measures, from <= to) are done by ts_store.c
    before a backend is called. */

#ifndef TS_STORE_BACKEND_H_INCLUDED
#define TS_STORE_BACKEND_H_INCLUDED

#include "ts_store.h"

typedef struct {
    const char *name;   //  value of store.backend, e.g. "lmdb"
    //  "LIB VERSION" of the library the backend uses, for --version
    //  (static text), or NULL if it uses none.
    const char *(*libraries) (void);
    //  Opens the backend; returns its state or NULL with reason in err.
    void *(*open) (const ts_config_t *cfg, char *err);
    void  (*close) (void *state);
    int (*ids_add) (void *state, const char *const *ids, size_t n,
                    size_t *added, char *err);
    int (*ids_remove) (void *state, const char *id, char *err);
    //  Appends at most limit ids sorting after after ("" or NULL: from
    //  the first), ascending; *more: whether ids follow.
    int (*ids_page) (void *state, const char *after, size_t limit,
                     ts_strlist_t *out, bool *more, char *err);
    int (*ids_exists) (void *state, const char *id, bool *exists, char *err);
    int (*history_put) (void *state, const char *id, const ts_points_t *pts,
                        char *err);
    //  Appends at most max points; TS_ETOOBIG if the range holds more.
    int (*history_range) (void *state, const char *id, const char *measure,
                          int64_t from_ms, int64_t to_ms, size_t max,
                          ts_points_t *out, char *err);
    int (*forecast_replace) (void *state, const char *id,
                             const ts_points_t *pts, int64_t expires_ms,
                             char *err);
    int (*forecast_range) (void *state, const char *id, const char *measure,
                           int64_t from_ms, int64_t to_ms, int64_t now_ms,
                           ts_points_t *out, char *err);
    //  For each document, history_put and forecast_replace of its id;
    //  all n in one transaction.
    int (*write) (void *state, const ts_store_doc_t *docs, size_t n,
                  int64_t expires_ms, char *err);
    //  Drops this process's mapping of pages it is not using; NULL if the
    //  backend has no local map.
    void (*release) (void *state);
    //  Change stamp of an id; NULL if the backend keeps none.
    int (*stamp) (void *state, const char *id, ts_store_stamp_t *stamp,
                  char *err);
    int (*expire) (void *state, int64_t now_ms, size_t *removed, char *err);
} ts_store_ops_t;

//  The embedded LMDB backend (ts_store_lmdb.c).
extern const ts_store_ops_t ts_store_lmdb_ops;

#endif
