/*  ts_store - the storage interface: argument checks, then the backend.

    Every tscache process that touches data (workers write, the gateway and
    broker read) goes through this file. It picks the backend named by
    store.backend from a static table, checks every argument a caller could
    have taken from the network or an upstream document (ids and measures
    must pass ts_name_existing, new ids ts_name_valid, from_ms <= to_ms), turns the forecast TTL into
    an absolute expiry time, and forwards the call. It holds no data and no
    locks of its own: thread safety and atomicity are the backend's job
    (see ts_store_backend.h). */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store.h"
#include "ts_store_backend.h"

//  Every backend tscache knows, by store.backend name.
static const ts_store_ops_t *s_backends [] = {
    &ts_store_lmdb_ops,
};

struct _ts_store_t {
    const ts_store_ops_t *ops;      //  the chosen backend
    void    *state;                 //  the backend's own state
    int64_t  forecast_ttl_s;        //  store.forecast_ttl_s, read at open
};

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

static int
s_check_id (const char *id, char *err)
{
    return s_check_name (id, false, err);
}

//  measure may be NULL (meaning every measure).
static int
s_check_range (const char *id, const char *measure, int64_t from_ms,
               int64_t to_ms, char *err)
{
    int rc = s_check_id (id, err);
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

ts_store_t *
ts_store_new (const ts_config_t *cfg, char *err)
{
    assert (cfg);
    const char *name = ts_config_str (cfg, "store.backend");
    const ts_store_ops_t *ops = NULL;
    for (size_t i = 0; i < sizeof s_backends / sizeof s_backends [0]; i++)
        if (name && strcmp (s_backends [i]->name, name) == 0) {
            ops = s_backends [i];
            break;
        }
    if (!ops) {
        ts_errf (err, "store.backend: unknown backend '%s'",
                 name? name: "");
        return NULL;
    }
    ts_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "store: out of memory");
        return NULL;
    }
    self->ops = ops;
    self->forecast_ttl_s = ts_config_int (cfg, "store.forecast_ttl_s");
    self->state = ops->open (cfg, err);
    if (!self->state) {
        free (self);
        return NULL;
    }
    return self;
}

void
ts_store_destroy (ts_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_store_t *self = *self_p;
        self->ops->close (self->state);
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
    return self->ops->name;
}

int
ts_store_ids_add (ts_store_t *self, const char *const *ids, size_t n,
                  size_t *added, char *err)
{
    assert (self);
    assert (ids || n == 0);
    if (added)
        *added = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = s_check_name (ids [i], true, err);
        if (rc)
            return rc;
    }
    if (n == 0)
        return 0;
    return self->ops->ids_add (self->state, ids, n, added, err);
}

int
ts_store_ids_remove (ts_store_t *self, const char *id, char *err)
{
    assert (self);
    int rc = s_check_id (id, err);
    if (rc)
        return rc;
    return self->ops->ids_remove (self->state, id, err);
}

int
ts_store_ids_page (ts_store_t *self, const char *after, size_t limit,
                   ts_strlist_t *out, bool *more, char *err)
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
    return self->ops->ids_page (self->state, after && *after? after: NULL,
                                limit, out, more, err);
}

int
ts_store_ids_exists (ts_store_t *self, const char *id, bool *exists,
                     char *err)
{
    assert (self);
    assert (exists);
    *exists = false;
    int rc = s_check_id (id, err);
    if (rc)
        return rc;
    return self->ops->ids_exists (self->state, id, exists, err);
}

int
ts_store_history_put (ts_store_t *self, const char *id,
                      const ts_points_t *pts, char *err)
{
    assert (self);
    int rc = s_check_id (id, err);
    if (rc == 0)
        rc = s_check_points (pts, err);
    if (rc)
        return rc;
    if (pts->n == 0)
        return 0;
    return self->ops->history_put (self->state, id, pts, err);
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
    int rc = s_check_range (id, measure, from_ms, to_ms, err);
    if (rc)
        return rc;
    return self->ops->history_range (self->state, id, measure, from_ms,
                                     to_ms, max, out, err);
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
    int rc = s_check_id (id, err);
    if (rc == 0)
        rc = s_check_points (pts, err);
    if (rc)
        return rc;
    return self->ops->forecast_replace (self->state, id, pts,
                                        s_expires_ms (self, now_ms), err);
}

int
ts_store_write (ts_store_t *self, const char *id,
                const ts_points_t *history, const ts_points_t *forecast,
                int64_t now_ms, char *err)
{
    ts_store_doc_t doc = { id, history, forecast };
    return ts_store_write_batch (self, &doc, 1, now_ms, err);
}

int
ts_store_write_batch (ts_store_t *self, const ts_store_doc_t *docs,
                      size_t n, int64_t now_ms, char *err)
{
    assert (self);
    assert (docs || n == 0);
    for (size_t i = 0; i < n; i++) {
        char detail [TS_ERRLEN] = "";
        int rc = s_check_id (docs [i].id, detail);
        if (rc == 0)
            rc = s_check_points (docs [i].history, detail);
        if (rc == 0)
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
    return self->ops->write (self->state, docs, n,
                             s_expires_ms (self, now_ms), err);
}

int
ts_store_stamp (ts_store_t *self, const char *id, ts_store_stamp_t *stamp,
                char *err)
{
    assert (self);
    assert (stamp);
    stamp->version = 0;
    stamp->expires_ms = INT64_MAX;
    int rc = s_check_id (id, err);
    if (rc)
        return rc;
    if (!self->ops->stamp) {
        ts_errf (err, "store.backend %s keeps no change stamps",
                 self->ops->name);
        return TS_ENOTFOUND;
    }
    return self->ops->stamp (self->state, id, stamp, err);
}

int
ts_store_forecast_range (ts_store_t *self, const char *id,
                         const char *measure, int64_t from_ms,
                         int64_t to_ms, int64_t now_ms,
                         ts_points_t *out, char *err)
{
    assert (self);
    assert (out);
    int rc = s_check_range (id, measure, from_ms, to_ms, err);
    if (rc)
        return rc;
    return self->ops->forecast_range (self->state, id, measure, from_ms,
                                      to_ms, now_ms, out, err);
}

void
ts_store_release (ts_store_t *self)
{
    assert (self);
    if (self->ops->release)
        self->ops->release (self->state);
}

int
ts_store_expire (ts_store_t *self, int64_t now_ms, size_t *removed,
                 char *err)
{
    assert (self);
    if (removed)
        *removed = 0;
    return self->ops->expire (self->state, now_ms, removed, err);
}
