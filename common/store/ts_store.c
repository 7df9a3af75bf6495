/*  ts_store - the router: argument checks, then the backend of each role.

    Every tscache process that touches data (workers write, the gateway and
    broker read) goes through this file. It opens the backend of each role
    (registry, history, forecast: store.<role>.backend, or store.backend),
    each distinct (backend, config) pair once, and routes every call to
    the backend of the role it touches: ids_* to the registry's, history_*
    to the history's, forecast_* and expire to the forecast's. Calls that
    span roles are split by backend: a write goes to the history backend
    first, then to the forecast backend; a removal forgets the id's points
    in the backends that do not hold the registry; a query read
    (ts_store_read) asks each backend once for its roles. Where one
    backend serves every role, each call is one backend call, as before.

    Before routing it checks every argument a caller could have taken from
    the network or an upstream document (ids and measures must pass
    ts_name_existing, new ids ts_name_valid, from_ms <= to_ms) and turns
    the forecast TTL into an absolute expiry time. It holds no data and no
    locks of its own: thread safety and atomicity within a role are the
    backends' (ts_store_backend.h).

    It counts its writes: the time of each backend write call and its
    failures, by the roles it wrote and the backend (ts_store_metrics),
    in atomics, so that any thread may write while another reads them. */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store.h"
#include "ts_store_backend.h"
#include "ts_store_router.h"

#include <time.h>

//  Every backend tscache knows, by store.backend name.
static const ts_store_ops_t *s_backends [] = {
    &ts_store_lmdb_ops,
    &ts_store_dynamodb_ops,
    &ts_store_timestream_ops,
    &ts_store_influxdb_ops,
};

//  Role bits in the order of self->role, and their config names.
static const unsigned s_role_bits [TS_STORE_N_ROLES] = {
    TS_STORE_REGISTRY, TS_STORE_HISTORY, TS_STORE_FORECAST };
static const char *const s_role_names [TS_STORE_N_ROLES] = {
    "registry", "history", "forecast" };
static const char *const s_wrote_names [TS_STORE_WROTE_KINDS] = {
    "history", "forecast", "history+forecast", "registry" };

ts_store_inst_t *
ts_store_role_inst (const ts_store_t *self, unsigned role)
{
    for (int i = 0; i < TS_STORE_N_ROLES; i++)
        if (s_role_bits [i] == role)
            return self->role [i];
    assert (!"not a store role");
    return NULL;
}

//  Checks a point list's measures; fills err and returns TS_EINVAL on the
//  first invalid one.
static int
s_check_points (const ts_points_t *pts, char *err)
{
    if (!pts) {
        ts_errf (err, "no point list");
        return TS_EINVAL;
    }
    for (size_t i = 0; i < pts->n_measures; i++) {
        const char *measure = pts->measures [i];
        size_t len = strnlen (measure, TS_NAME_MAX + 1);
        if (!ts_name_existing_n (measure, len)) {
            ts_name_errf (err, "measure", measure, len);
            return TS_EINVAL;
        }
    }
    return 0;
}

//  An id of the store: strict for a new id (ts_name_valid), else any
//  id that may have been stored (ts_name_existing).
static int
s_check_name (const char *id, bool strict, char *err)
{
    if (!id) {
        ts_errf (err, "invalid id (none given)");
        return TS_EINVAL;
    }
    if (strict? !ts_name_valid (id): !ts_name_existing (id)) {
        ts_name_errf (err, "id", id, strnlen (id, TS_NAME_MAX + 1));
        return TS_EINVAL;
    }
    return 0;
}

int
ts_store_check_id (const char *id, char *err)
{
    return s_check_name (id, false, err);
}

int
ts_store_check_range (const char *id, const char *measure, int64_t from_ms,
                      int64_t to_ms, char *err)
{
    int rc = ts_store_check_id (id, err);
    if (rc)
        return rc;
    if (measure && !ts_name_existing (measure)) {
        ts_name_errf (err, "measure", measure,
                      strnlen (measure, TS_NAME_MAX + 1));
        return TS_EINVAL;
    }
    if (from_ms > to_ms) {
        ts_errf (err, "from_ms > to_ms (%lld > %lld)",
                 (long long) from_ms, (long long) to_ms);
        return TS_EINVAL;
    }
    return 0;
}

//  The backend named name, or NULL.
static const ts_store_ops_t *
s_backend_find (const char *name)
{
    for (size_t i = 0; i < sizeof s_backends / sizeof s_backends [0]; i++)
        if (name && strcmp (s_backends [i]->name, name) == 0)
            return s_backends [i];
    return NULL;
}

//  The backend of each role that cfg names; TS_ECONFIG if one is unknown.
static int
s_role_backends (const ts_config_t *cfg, const ts_store_ops_t **ops,
                 char *err)
{
    for (int i = 0; i < TS_STORE_N_ROLES; i++) {
        char key [64];
        snprintf (key, sizeof key, "store.%s.backend", s_role_names [i]);
        const char *name = ts_config_str (cfg, key);
        if (!*name) {
            snprintf (key, sizeof key, "store.backend");
            name = ts_config_str (cfg, key);
        }
        ops [i] = s_backend_find (name);
        if (!ops [i]) {
            ts_errf (err, "%s: unknown backend '%s'", key, name);
            return TS_ECONFIG;
        }
    }
    return 0;
}

ts_store_t *
ts_store_new (const ts_config_t *cfg, char *err)
{
    assert (cfg);
    const ts_store_ops_t *ops [TS_STORE_N_ROLES];
    if (s_role_backends (cfg, ops, err))
        return NULL;
    return ts_store_new_with (ops [0], cfg, ops [1], cfg, ops [2], cfg, err);
}

int
ts_store_init (const ts_config_t *cfg, ts_strlist_t *report, char *err)
{
    assert (cfg && report);
    const ts_store_ops_t *ops [TS_STORE_N_ROLES];
    int rc = s_role_backends (cfg, ops, err);
    for (int i = 0; i < TS_STORE_N_ROLES && rc == 0; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen = seen || ops [j] == ops [i];
        if (seen)
            continue;
        if (ops [i]->init)
            rc = ops [i]->init (cfg, report, err);
        else {
            char line [64];
            snprintf (line, sizeof line, "%s: nothing to create",
                      ops [i]->name);
            if (ts_strlist_append (report, line))
                rc = TS_ENOMEM;
        }
    }
    return rc;
}

ts_store_t *
ts_store_new_with (const ts_store_ops_t *registry,
                   const ts_config_t *registry_cfg,
                   const ts_store_ops_t *history,
                   const ts_config_t *history_cfg,
                   const ts_store_ops_t *forecast,
                   const ts_config_t *forecast_cfg, char *err)
{
    assert (registry && registry_cfg && history && history_cfg);
    assert (forecast && forecast_cfg);
    ts_store_t *self = calloc (1, sizeof *self);
    for (size_t i = 0; self && i < TS_STORE_WROTE_KINDS; i++) {
        ts_prom_hist_init (&self->writes [i].seconds, ts_prom_latency_bounds,
                           ts_prom_latency_bounds_n);
        atomic_init (&self->writes [i].errors, 0);
    }
    if (!self) {
        ts_errf (err, "store: out of memory");
        return NULL;
    }
    const ts_store_ops_t *ops [TS_STORE_N_ROLES] = {
        registry, history, forecast };
    const ts_config_t *cfgs [TS_STORE_N_ROLES] = {
        registry_cfg, history_cfg, forecast_cfg };
    for (int i = 0; i < TS_STORE_N_ROLES; i++) {
        ts_store_inst_t *backend = NULL;
        for (size_t j = 0; j < self->n_backends && !backend; j++)
            if (self->backends [j].ops == ops [i]
            &&  self->backends [j].cfg == cfgs [i])
                backend = &self->backends [j];
        if (!backend) {
            backend = &self->backends [self->n_backends];
            backend->ops = ops [i];
            backend->cfg = cfgs [i];
            backend->state = ops [i]->open (cfgs [i], err);
            if (!backend->state) {
                ts_store_destroy (&self);
                return NULL;
            }
            self->n_backends++;
        }
        backend->roles |= s_role_bits [i];
        self->role [i] = backend;
    }
    self->forecast_ttl_s = ts_config_int (forecast_cfg,
                                          "store.forecast_ttl_s");
    if (self->n_backends == 1)
        snprintf (self->name, sizeof self->name, "%s", registry->name);
    else
        snprintf (self->name, sizeof self->name,
                  "registry=%s history=%s forecast=%s", registry->name,
                  history->name, forecast->name);
    return self;
}

void
ts_store_destroy (ts_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_store_t *self = *self_p;
        for (size_t i = 0; i < self->n_backends; i++)
            self->backends [i].ops->close (self->backends [i].state);
        free (self);
        *self_p = NULL;
    }
}

const char *
ts_store_libraries (void)
{
    static char text [256];
    if (!*text) {
        size_t len = 0;
        for (size_t i = 0; i < sizeof s_backends / sizeof s_backends [0]; i++) {
            const char *lib = s_backends [i]->libraries?
                              s_backends [i]->libraries (): NULL;
            if (lib && len < sizeof text)
                len += snprintf (text + len, sizeof text - len, "%s%s",
                                 len? ", ": "", lib);
        }
    }
    return text;
}

const char *
ts_store_backend (const ts_store_t *self)
{
    assert (self);
    return self->name;
}

const char *
ts_store_role_backend (const ts_store_t *self, unsigned role)
{
    assert (self);
    return ts_store_role_inst (self, role)->ops->name;
}

unsigned
ts_store_caps (const ts_store_t *self)
{
    assert (self);
    const ts_store_inst_t *forecast = ts_store_role_inst (self,
                                                          TS_STORE_FORECAST);
    const ts_store_inst_t *history = ts_store_role_inst (self,
                                                         TS_STORE_HISTORY);
    unsigned caps = (forecast->ops->caps & TS_STORE_CAP_TTL)
                  | (history->ops->caps & TS_STORE_CAP_ALLTIME)
                  | TS_STORE_CAP_FORGET;
    for (size_t i = 0; i < self->n_backends; i++)
        caps &= self->backends [i].ops->caps | ~TS_STORE_CAP_FORGET;
    if (self->n_backends == 1)
        caps |= forecast->ops->caps & (TS_STORE_CAP_STAMPS
                                    |  TS_STORE_CAP_SNAPSHOT
                                    |  TS_STORE_CAP_ATOMIC);
    return caps;
}

//  source NULL: registered ids keep theirs.
static int
s_ids_add (ts_store_t *self, const char *const *ids, size_t n,
           const char *source, size_t *added, char *err)
{
    assert (self);
    assert (ids || n == 0);
    if (added)
        *added = 0;
    if (source && *source && !ts_name_valid (source)) {
        ts_name_errf (err, "source", source, strnlen (source,
                                                      TS_NAME_MAX + 1));
        return TS_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = s_check_name (ids [i], true, err);
        if (rc)
            return rc;
    }
    if (n == 0)
        return 0;
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    if (!source)
        return registry->ops->ids_add (registry->state, ids, n, added, err);
    return registry->ops->ids_add_to (registry->state, ids, n, source, added,
                                      err);
}

int
ts_store_ids_add (ts_store_t *self, const char *const *ids, size_t n,
                  size_t *added, char *err)
{
    return s_ids_add (self, ids, n, NULL, added, err);
}

int
ts_store_ids_add_to (ts_store_t *self, const char *const *ids, size_t n,
                     const char *source, size_t *added, char *err)
{
    assert (source);
    return s_ids_add (self, ids, n, source, added, err);
}

//  Removes id from the registry, then forgets its points in the backends
//  that do not hold the registry (each asked once, for its roles). Every
//  such backend must have forget: checked before anything is removed.
int
ts_store_ids_remove (ts_store_t *self, const char *id, char *err)
{
    assert (self);
    int rc = ts_store_check_id (id, err);
    if (rc)
        return rc;
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    for (size_t i = 0; i < self->n_backends; i++) {
        ts_store_inst_t *backend = &self->backends [i];
        if (backend != registry && !backend->ops->forget) {
            ts_errf (err, "store: the %s backend %s cannot delete an "
                     "id's points (no forget operation), so ids cannot be "
                     "removed while the registry is in another backend "
                     "(%s)", backend->roles & TS_STORE_HISTORY?
                     "history": "forecast", backend->ops->name, self->name);
            return TS_EBACKEND;
        }
    }
    rc = registry->ops->ids_remove (registry->state, id, err);
    for (size_t i = 0; i < self->n_backends && rc == 0; i++) {
        ts_store_inst_t *backend = &self->backends [i];
        if (backend != registry)
            rc = backend->ops->forget (backend->state,
                                       backend->roles & (TS_STORE_HISTORY
                                                      |  TS_STORE_FORECAST),
                                       id, err);
    }
    return rc;
}

int
ts_store_ids_page (ts_store_t *self, const char *after, size_t limit,
                   ts_strlist_t *out, bool *more, char *err)
{
    return ts_store_ids_page_sources (self, after, limit, out, NULL, more,
                                      err);
}

int
ts_store_ids_page_sources (ts_store_t *self, const char *after,
                           size_t limit, ts_strlist_t *out,
                           ts_strlist_t *sources, bool *more, char *err)
{
    return ts_store_ids_page_status (self, after, limit, out, sources, NULL,
                                     NULL, more, err);
}

int
ts_store_ids_page_status (ts_store_t *self, const char *after,
                          size_t limit, ts_strlist_t *out,
                          ts_strlist_t *sources, ts_store_status_fn *each,
                          void *arg, bool *more, char *err)
{
    assert (self);
    assert (out);
    assert (more);
    *more = false;
    if (after && *after && !ts_name_existing (after)) {
        ts_name_errf (err, "id", after, strnlen (after, TS_NAME_MAX + 1));
        return TS_EINVAL;
    }
    if (limit == 0) {
        ts_errf (err, "ids: a page holds at least one id");
        return TS_EINVAL;
    }
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    if (sources || each)
        return registry->ops->ids_page_sources (registry->state,
                                                after && *after? after: NULL,
                                                limit, out, sources,
                                                each, arg, more, err);
    return registry->ops->ids_page (registry->state,
                                    after && *after? after: NULL, limit,
                                    out, more, err);
}

int
ts_store_ids_exists (ts_store_t *self, const char *id, bool *exists,
                     char *err)
{
    assert (self);
    assert (exists);
    *exists = false;
    int rc = ts_store_check_id (id, err);
    if (rc)
        return rc;
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    return registry->ops->ids_exists (registry->state, id, exists, err);
}

int
ts_store_ids_source (ts_store_t *self, const char *id, char *source,
                     char *err)
{
    assert (self);
    assert (source);
    source [0] = '\0';
    int rc = ts_store_check_id (id, err);
    if (rc)
        return rc;
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    bool exists = false;
    rc = registry->ops->ids_source (registry->state, id, &exists, source,
                                    err);
    if (rc == 0 && !exists) {
        ts_errf (err, "id '%s' is not registered", id);
        return TS_ENOTFOUND;
    }
    return rc;
}

int
ts_store_history_put (ts_store_t *self, const char *id,
                      const ts_points_t *pts, char *err)
{
    assert (self);
    int rc = ts_store_check_id (id, err);
    if (rc == 0)
        rc = s_check_points (pts, err);
    if (rc)
        return rc;
    if (pts->n == 0)
        return 0;
    ts_store_inst_t *history = ts_store_role_inst (self, TS_STORE_HISTORY);
    return history->ops->history_put (history->state, id, pts, err);
}

int
ts_store_history_range (ts_store_t *self, const char *id,
                        const char *measure, int64_t from_ms,
                        int64_t to_ms, ts_points_t *out, char *err)
{
    return ts_store_history_range_max (self, id, measure, from_ms, to_ms,
                                       SIZE_MAX, out, err);
}

int
ts_store_history_range_max (ts_store_t *self, const char *id,
                            const char *measure, int64_t from_ms,
                            int64_t to_ms, size_t max, ts_points_t *out,
                            char *err)
{
    assert (self);
    assert (out);
    int rc = ts_store_check_range (id, measure, from_ms, to_ms, err);
    if (rc)
        return rc;
    ts_store_inst_t *history = ts_store_role_inst (self, TS_STORE_HISTORY);
    return history->ops->history_range (history->state, id, measure,
                                        from_ms, to_ms, max, out, err);
}

//  When a forecast written at now_ms expires; saturates rather than
//  overflows for far-future clocks or huge TTLs.
static int64_t
s_expires_ms (const ts_store_t *self, int64_t now_ms)
{
    int64_t ttl_ms = self->forecast_ttl_s > INT64_MAX / 1000
                   ? INT64_MAX: self->forecast_ttl_s * 1000;
    return now_ms > INT64_MAX - ttl_ms? INT64_MAX: now_ms + ttl_ms;
}

int
ts_store_forecast_replace (ts_store_t *self, const char *id,
                           const ts_points_t *pts, int64_t now_ms,
                           char *err)
{
    assert (self);
    int rc = ts_store_check_id (id, err);
    if (rc == 0)
        rc = s_check_points (pts, err);
    if (rc)
        return rc;
    ts_store_inst_t *forecast = ts_store_role_inst (self, TS_STORE_FORECAST);
    return forecast->ops->forecast_replace (forecast->state, id, pts,
                                            s_expires_ms (self, now_ms), err);
}

int
ts_store_forecast_range (ts_store_t *self, const char *id,
                         const char *measure, int64_t from_ms,
                         int64_t to_ms, int64_t now_ms,
                         ts_points_t *out, char *err)
{
    assert (self);
    assert (out);
    int rc = ts_store_check_range (id, measure, from_ms, to_ms, err);
    if (rc)
        return rc;
    ts_store_inst_t *forecast = ts_store_role_inst (self, TS_STORE_FORECAST);
    return forecast->ops->forecast_range (forecast->state, id, measure,
                                          from_ms, to_ms, now_ms, out, err);
}

//  Reads the parts of q in roles from one backend: with its read
//  operation if it has one, else composed from its single-role reads
//  (forecast before history, see ts_store_read).
static int
s_read_part (ts_store_inst_t *backend, unsigned roles,
             const ts_store_query_t *q, ts_store_answer_t *ans, char *err)
{
    const ts_store_ops_t *ops = backend->ops;
    if (ops->read)
        return ops->read (backend->state, roles, q, ans, err);
    int rc = 0;
    if (roles & TS_STORE_REGISTRY) {
        rc = ops->ids_status (backend->state, q->id, &ans->exists,
                              &ans->status, err);
        if (rc || !ans->exists)
            return rc;
    }
    if (roles & TS_STORE_FORECAST)
        rc = ops->forecast_range (backend->state, q->id, q->measure,
                                  q->from_ms, q->to_ms, q->now_ms,
                                  ans->forecast, err);
    if (rc == 0 && (roles & TS_STORE_HISTORY))
        rc = ops->history_range (backend->state, q->id, q->measure,
                                 q->from_ms, q->to_ms, q->max,
                                 ans->history, err);
    return rc;
}

//  Roles are read registry first (an id that is not registered reads no
//  points), then forecast, then history, each backend once for a run of
//  roles it serves. Forecast before history: a writer lands the history
//  before it replaces the forecast, so a reader that sees the new
//  forecast then sees the new history too, and the merge rule never meets
//  a new forecast beside the previous history (which would leave a gap
//  between the old history's end and the new forecast's start).
int
ts_store_read (ts_store_t *self, const ts_store_query_t *q,
               ts_store_answer_t *ans, char *err)
{
    assert (self);
    assert (q && ans && ans->history && ans->forecast);
    ans->exists = false;
    memset (&ans->status, 0, sizeof ans->status);
    int rc = ts_store_check_range (q->id, q->measure, q->from_ms, q->to_ms, err);
    if (rc)
        return rc;
    static const unsigned order [TS_STORE_N_ROLES] = {
        TS_STORE_REGISTRY, TS_STORE_FORECAST, TS_STORE_HISTORY };
    int i = 0;
    while (i < TS_STORE_N_ROLES) {
        ts_store_inst_t *backend = ts_store_role_inst (self, order [i]);
        unsigned roles = 0;
        while (i < TS_STORE_N_ROLES
           &&  ts_store_role_inst (self, order [i]) == backend)
            roles |= order [i++];
        rc = s_read_part (backend, roles, q, ans, err);
        if (rc == 0 && (roles & TS_STORE_REGISTRY) && !ans->exists)
            memset (&ans->status, 0, sizeof ans->status);
        if (rc || ((roles & TS_STORE_REGISTRY) && !ans->exists))
            return rc;
    }
    return 0;
}

int
ts_store_write (ts_store_t *self, const char *id,
                const ts_points_t *history, const ts_points_t *forecast,
                int64_t now_ms, char *err)
{
    ts_store_doc_t doc = { id, history, forecast, 0 };
    return ts_store_write_batch (self, &doc, 1, now_ms, err);
}

//  Writes the parts of every document that backend serves: its history
//  (keep has TS_STORE_HISTORY), its forecast (TS_STORE_FORECAST); a part
//  not kept is NULL, which the backend leaves alone. A document's success
//  mark (fetched_ms) goes with it only if marks: where that backend
//  serves the registry too.
static int
s_write_part (ts_store_inst_t *backend, unsigned keep, bool marks,
              const ts_store_doc_t *docs, size_t n, int64_t expires_ms,
              char *err)
{
    bool marked = false;
    for (size_t i = 0; i < n && !marked; i++)
        marked = docs [i].fetched_ms != 0;
    if (keep == (TS_STORE_HISTORY | TS_STORE_FORECAST) && (marks || !marked))
        return backend->ops->write (backend->state, docs, n, expires_ms, err);
    ts_store_doc_t *part = malloc (n * sizeof *part);
    if (!part) {
        ts_errf (err, "store: out of memory");
        return TS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        part [i].id = docs [i].id;
        part [i].history = keep & TS_STORE_HISTORY? docs [i].history: NULL;
        part [i].forecast = keep & TS_STORE_FORECAST? docs [i].forecast:
                                                      NULL;
        part [i].fetched_ms = marks? docs [i].fetched_ms: 0;
    }
    int rc = backend->ops->write (backend->state, part, n, expires_ms, err);
    free (part);
    return rc;
}

double
ts_store_seconds (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
ts_store_count_write (ts_store_t *self, int kind, double start, int rc)
{
    ts_prom_hist_observe (&self->writes [kind].seconds,
                          ts_store_seconds () - start);
    if (rc)
        atomic_fetch_add (&self->writes [kind].errors, 1);
    return rc;
}

int
ts_store_write_batch (ts_store_t *self, const ts_store_doc_t *docs,
                      size_t n, int64_t now_ms, char *err)
{
    assert (self);
    assert (docs || n == 0);
    for (size_t i = 0; i < n; i++) {
        char detail [TS_ERRLEN] = "";
        int rc = ts_store_check_id (docs [i].id, detail);
        if (rc == 0)
            rc = s_check_points (docs [i].history, detail);
        if (rc == 0 && docs [i].forecast)   //  NULL: left as it is
            rc = s_check_points (docs [i].forecast, detail);
        if (rc) {
            if (n == 1)
                ts_errf (err, "%s", detail);
            else
                ts_errf (err, "document %zu of %zu: %s", i + 1, n, detail);
            return rc;
        }
    }
    if (n == 0)
        return 0;
    int64_t expires_ms = s_expires_ms (self, now_ms);
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    ts_store_inst_t *history = ts_store_role_inst (self, TS_STORE_HISTORY);
    ts_store_inst_t *forecast = ts_store_role_inst (self, TS_STORE_FORECAST);
    //  One backend for every role: the marks go in its transaction.
    bool marks = registry == history && history == forecast;
    double start = ts_store_seconds ();
    int rc;
    if (history == forecast)
        rc = ts_store_count_write (self, TS_STORE_WROTE_BOTH, start,
            s_write_part (history, TS_STORE_HISTORY | TS_STORE_FORECAST,
                          marks, docs, n, expires_ms, err));
    else {
        rc = ts_store_count_write (self, TS_STORE_WROTE_HISTORY, start,
            s_write_part (history, TS_STORE_HISTORY, false, docs, n,
                          expires_ms, err));
        //  Documents that leave the forecast alone (window jobs) need no
        //  call to the forecast backend.
        bool forecasts = false;
        for (size_t i = 0; i < n && !forecasts; i++)
            forecasts = docs [i].forecast != NULL;
        start = ts_store_seconds ();
        if (rc == 0 && forecasts)
            rc = ts_store_count_write (self, TS_STORE_WROTE_FORECAST, start,
                s_write_part (forecast, TS_STORE_FORECAST, false, docs, n,
                              expires_ms, err));
    }
    if (rc == 0 && !marks)
        ts_store_status_after_write (self, docs, n);
    return rc;
}

int
ts_store_stamp (ts_store_t *self, const char *id, ts_store_stamp_t *stamp,
                char *err)
{
    assert (self);
    assert (stamp);
    stamp->version = 0;
    stamp->expires_ms = INT64_MAX;
    int rc = ts_store_check_id (id, err);
    if (rc)
        return rc;
    ts_store_inst_t *backend = ts_store_role_inst (self, TS_STORE_FORECAST);
    if (!(ts_store_caps (self) & TS_STORE_CAP_STAMPS)
    ||  !backend->ops->stamp) {
        ts_errf (err, "store (%s) keeps no change stamps", self->name);
        return TS_EINVAL;
    }
    return backend->ops->stamp (backend->state, id, stamp, err);
}

void
ts_store_release (ts_store_t *self)
{
    assert (self);
    for (size_t i = 0; i < self->n_backends; i++)
        if (self->backends [i].ops->release)
            self->backends [i].ops->release (self->backends [i].state);
}

int
ts_store_expire (ts_store_t *self, int64_t now_ms, size_t *removed,
                 char *err)
{
    assert (self);
    if (removed)
        *removed = 0;
    ts_store_inst_t *forecast = ts_store_role_inst (self, TS_STORE_FORECAST);
    return forecast->ops->expire (forecast->state, now_ms, removed, err);
}

void
ts_store_metrics (ts_store_t *self, ts_prom_t *prom)
{
    assert (self && prom);
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    ts_store_inst_t *history = ts_store_role_inst (self, TS_STORE_HISTORY);
    ts_store_inst_t *forecast = ts_store_role_inst (self, TS_STORE_FORECAST);
    bool one = registry == history && history == forecast;
    //  The kinds of call this store makes, and their backend (the
    //  registry's: the success marks of a batch, where they are a call
    //  of their own).
    const ts_store_inst_t *backend [TS_STORE_WROTE_KINDS] = {
        history != forecast? history: NULL,
        history != forecast? forecast: NULL,
        history == forecast? history: NULL,
        one? NULL: registry };
    ts_prom_family (prom, "tscache_store_write_duration_seconds",
                    "histogram", "Time of one store write call (a batch of "
                    "fetched documents), by the roles it wrote and the "
                    "backend.");
    for (int i = 0; i < TS_STORE_WROTE_KINDS; i++)
        if (backend [i]) {
            const char *labels [] = { "role", s_wrote_names [i],
                                      "backend", backend [i]->ops->name };
            ts_prom_histogram (prom, "tscache_store_write_duration_seconds",
                               labels, 2, &self->writes [i].seconds);
        }
    ts_prom_family (prom, "tscache_store_write_errors_total", "counter",
                    "Store write calls that failed, by the roles they "
                    "wrote and the backend.");
    for (int i = 0; i < TS_STORE_WROTE_KINDS; i++)
        if (backend [i]) {
            const char *labels [] = { "role", s_wrote_names [i],
                                      "backend", backend [i]->ops->name };
            ts_prom_sample (prom, "tscache_store_write_errors_total", labels,
                            2, (double) atomic_load (&self->writes [i].errors));
        }
}
