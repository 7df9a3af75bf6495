/*  ts_store_router - the router's state, shared by its two files:
    ts_store.c (open, argument checks, routing of the roles, writes and
    their figures) and ts_store_status.c (the registry's fetch status:
    marks and reads). Internal to common/store/. */

#ifndef TS_STORE_ROUTER_H_INCLUDED
#define TS_STORE_ROUTER_H_INCLUDED

#include "ts_store_backend.h"

#define TS_STORE_N_ROLES  3             //  registry, history, forecast

//  One open backend instance, serving one or more roles.
typedef struct {
    const ts_store_ops_t *ops;      //  the backend
    const ts_config_t    *cfg;      //  the config it was opened with
    void                 *state;    //  the backend's own state
    unsigned              roles;    //  TS_STORE_* bits it serves
} ts_store_inst_t;

//  What a write call wrote: history, forecast, or both in one call (one
//  backend serves the two roles), or the registry's fetch status (the
//  success marks of ts_store_write_batch, when the registry is on a
//  backend of its own).
enum {
    TS_STORE_WROTE_HISTORY,
    TS_STORE_WROTE_FORECAST,
    TS_STORE_WROTE_BOTH,
    TS_STORE_WROTE_REGISTRY,
    TS_STORE_WROTE_KINDS
};

//  The figures of one kind of write call.
typedef struct {
    ts_prom_hist_t        seconds;  //  time of each call
    atomic_uint_least64_t errors;   //  calls that failed
} ts_store_writes_t;

struct _ts_store_t {
    ts_store_writes_t writes [TS_STORE_WROTE_KINDS];   //  by kind
    ts_store_inst_t   backends [TS_STORE_N_ROLES];  //  distinct, opened
    size_t            n_backends;               //  how many of them
    ts_store_inst_t  *role [TS_STORE_N_ROLES];  //  by role: registry,
                                                //  history, forecast
    int64_t           forecast_ttl_s;   //  forecast role's
                                        //  store.forecast_ttl_s
    char              name [96];        //  ts_store_backend text
};

//  The backend instance serving role (one TS_STORE_* bit).
ts_store_inst_t *ts_store_role_inst (const ts_store_t *self, unsigned role);

//  TS_EINVAL with the rule in err unless id passes ts_name_existing.
int ts_store_check_id (const char *id, char *err);

//  Monotonic clock, seconds.
double ts_store_seconds (void);

//  Counts a write call of kind (TS_STORE_WROTE_*) that started at start
//  (ts_store_seconds) and ended rc; returns rc.
int ts_store_count_write (ts_store_t *self, int kind, double start, int rc);

//  After the data of docs landed, writes the success marks of those with
//  fetched_ms through the registry backend's ids_mark (when it did not
//  take them in its write: see ts_store_write_batch). A failure is
//  logged and counted (TS_STORE_WROTE_REGISTRY), never returned: the
//  data is stored all the same (ts_store_status.c).
void ts_store_status_after_write (ts_store_t *self,
                                  const ts_store_doc_t *docs, size_t n);

#endif
