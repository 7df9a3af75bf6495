/*  ts_store_status - the registry's fetch status of ids: the rule of a
    mark (ts_store_status_apply, which every backend applies the same),
    and the router's calls that read and write it (ts_store_ids_status,
    ts_store_ids_mark, ts_store_ids_failed, and the success marks of a
    batch written on a registry of its own).

    Part of the router (ts_store_router.h): arguments are checked here,
    then the registry role's backend is called. */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_log.h"
#include "ts_store.h"
#include "ts_store_backend.h"
#include "ts_store_router.h"

bool
ts_store_status_apply (ts_store_status_t *status, const ts_store_mark_t *mark)
{
    assert (status && mark);
    if (mark->at_ms < status->attempt_ms)
        return false;                   //  a later attempt is recorded
    status->attempt_ms = mark->at_ms;
    if (mark->ok) {
        status->ok_ms = mark->at_ms;
        status->error_ms = 0;
        status->error [0] = '\0';
        status->kind [0] = '\0';
        status->not_found_until_ms = 0;
    }
    else {
        status->error_ms = mark->at_ms;
        snprintf (status->error, sizeof status->error, "%s",
                  mark->detail? mark->detail: "");
        snprintf (status->kind, sizeof status->kind, "%s",
                  mark->kind? mark->kind: "");
        status->not_found_until_ms = mark->not_found_until_ms > 0
                                   ? mark->not_found_until_ms: 0;
    }
    return true;
}

int
ts_store_ids_status (ts_store_t *self, const char *id,
                     ts_store_status_t *status, char *err)
{
    assert (self);
    assert (status);
    memset (status, 0, sizeof *status);
    int rc = ts_store_check_id (id, err);
    if (rc)
        return rc;
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    bool exists = false;
    rc = registry->ops->ids_status (registry->state, id, &exists, status,
                                    err);
    if (rc == 0 && !exists) {
        memset (status, 0, sizeof *status);
        ts_errf (err, "id '%s' is not registered", id);
        return TS_ENOTFOUND;
    }
    return rc;
}

int
ts_store_ids_mark (ts_store_t *self, const ts_store_mark_t *marks, size_t n,
                   char *err)
{
    assert (self);
    assert (marks || n == 0);
    for (size_t i = 0; i < n; i++) {
        int rc = ts_store_check_id (marks [i].id, err);
        if (rc)
            return rc;
        if (marks [i].at_ms <= 0) {
            ts_errf (err, "status of id '%s': the fetch's time must be "
                     "after 1970 (at_ms %lld)", marks [i].id,
                     (long long) marks [i].at_ms);
            return TS_EINVAL;
        }
    }
    if (n == 0)
        return 0;
    ts_store_inst_t *registry = ts_store_role_inst (self, TS_STORE_REGISTRY);
    return registry->ops->ids_mark (registry->state, marks, n, err);
}

int
ts_store_ids_failed (ts_store_t *self, const char *id, int64_t at_ms,
                     const char *kind, const char *detail,
                     int64_t not_found_until_ms, char *err)
{
    ts_store_mark_t mark = {
        .id = id, .at_ms = at_ms, .ok = false, .kind = kind,
        .detail = detail, .not_found_until_ms = not_found_until_ms };
    return ts_store_ids_mark (self, &mark, 1, err);
}

void
ts_store_status_after_write (ts_store_t *self, const ts_store_doc_t *docs,
                             size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += docs [i].fetched_ms > 0;
    if (count == 0)
        return;
    ts_store_mark_t *marks = calloc (count, sizeof *marks);
    char err [TS_ERRLEN] = "";
    int rc = TS_ENOMEM;
    double start = ts_store_seconds ();
    if (marks) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (docs [i].fetched_ms > 0)
                marks [k++] = (ts_store_mark_t) {
                    .id = docs [i].id, .at_ms = docs [i].fetched_ms,
                    .ok = true };
        ts_store_inst_t *registry = ts_store_role_inst (self,
                                                        TS_STORE_REGISTRY);
        rc = registry->ops->ids_mark (registry->state, marks, count, err);
        free (marks);
    }
    else
        ts_errf (err, "out of memory");
    ts_store_count_write (self, TS_STORE_WROTE_REGISTRY, start, rc);
    if (rc)
        ts_warn ("store: the fetch status of %zu stored document%s was not "
                 "written (the data was): %s", count, count == 1? "": "s",
                 err);
}
