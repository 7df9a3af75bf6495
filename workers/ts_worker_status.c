/*  ts_worker_status - what the worker writes of each id's fetch status
    (common/store/ts_store.h, ts_store_status_t) and what it reads of it.

    A success is marked by the ingest with the stored document itself
    (ts_store_doc_t.fetched_ms, in the data's transaction): nothing to do
    here. A failure is marked here: every failed id passes s_slot_fail
    (ts_worker_jobs.c), whose detail is already scrubbed of every key,
    and is kept with its kind - "http_NNN" when the upstream answered a
    failing status, else the verdict's kind ("timeout", "connect",
    "document", ...) - and, for an upstream 404, not-found until now +
    upstream.not_found_ttl_s (0: none). The kept marks are stored in one
    store call when a job finishes, before its report, so a failure costs
    no store transaction of its own per id. A status that cannot be
    written is logged, never fails the job: the data and the report come
    first.

    {last_fetched} (ts_url.h) is read here: the id's last successful fetch
    minus upstream.refetch_recent_s, the recent history an upstream may
    have revised since; the window's start when the id was never
    fetched. It costs a store read per request, so only sources whose URL
    or body holds the placeholder read it. Part of ts_worker
    (ts_worker_internal.h). */

#include "ts_worker_internal.h"
#include "ts_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MARKS_MAX  4096   //  failure marks kept at most between flushes

void
ts_worker_status_setup (ts_worker_source_t *src)
{
    src->refetch_recent_ms = ts_config_int (src->cfg,
                                            "upstream.refetch_recent_s")
                           * 1000;
    src->not_found_ttl_ms = ts_config_int (src->cfg,
                                           "upstream.not_found_ttl_s")
                          * 1000;
    src->uses_last_fetched = strstr (src->url_tmpl, "{last_fetched")
                          || (src->post && src->body_tmpl
                              && strstr (src->body_tmpl, "{last_fetched"));
}

int64_t
ts_worker_status_last_fetched (ts_worker_t *self,
                               const ts_worker_source_t *src,
                               const char *id, int64_t now_ms)
{
    if (!src->uses_last_fetched)
        return 0;
    ts_store_status_t status;
    char err [TS_ERRLEN] = "";
    if (ts_store_ids_status (self->store, id, &status, err) != 0) {
        ts_debug ("id=%s: no fetch status for {last_fetched} (%s): the "
                  "window's start", id, err);
        return 0;
    }
    if (status.ok_ms <= 0)
        return 0;
    int64_t at = status.ok_ms - src->refetch_recent_ms;
    if (at > now_ms)
        at = now_ms;
    return at > 0? at: 1;       //  0 would mean the window's start
}

void
ts_worker_status_failed (ts_worker_t *self, const ts_worker_source_t *src,
                         const char *id, const ts_fetch_verdict_t *one)
{
    if (self->marks_n == self->marks_max) {
        size_t max = self->marks_max? self->marks_max * 2: 16;
        ts_worker_mark_t *marks = max <= S_MARKS_MAX
            ? realloc (self->marks, max * sizeof *marks): NULL;
        if (!marks) {
            ts_warn ("id=%s: its fetch status is not kept (%zu failures "
                     "wait for the store already)", id, self->marks_n);
            return;
        }
        self->marks = marks;
        self->marks_max = max;
    }
    ts_worker_mark_t *mark = &self->marks [self->marks_n++];
    int64_t now = ts_now_ms ();
    snprintf (mark->id, sizeof mark->id, "%s", id);
    if (one->http_status)
        snprintf (mark->kind, sizeof mark->kind, "http_%03ld",
                  one->http_status);
    else
        snprintf (mark->kind, sizeof mark->kind, "%s",
                  one->kind? one->kind: "worker");
    snprintf (mark->detail, sizeof mark->detail, "%s", one->detail);
    mark->at_ms = now;
    mark->not_found_until_ms = one->http_status == 404 && src
                            && src->not_found_ttl_ms > 0
                            ? now + src->not_found_ttl_ms: 0;
}

void
ts_worker_status_flush (ts_worker_t *self)
{
    if (self->marks_n == 0)
        return;
    ts_store_mark_t *marks = calloc (self->marks_n, sizeof *marks);
    char err [TS_ERRLEN] = "";
    int rc = TS_ENOMEM;
    if (marks) {
        for (size_t i = 0; i < self->marks_n; i++) {
            const ts_worker_mark_t *kept = &self->marks [i];
            marks [i] = (ts_store_mark_t) {
                .id = kept->id, .at_ms = kept->at_ms, .ok = false,
                .kind = kept->kind, .detail = kept->detail,
                .not_found_until_ms = kept->not_found_until_ms };
        }
        rc = ts_store_ids_mark (self->store, marks, self->marks_n, err);
        free (marks);
    }
    else
        ts_errf (err, "out of memory");
    if (rc)
        ts_warn ("store: the fetch status of %zu failed id%s was not "
                 "written: %s", self->marks_n, self->marks_n == 1? "": "s",
                 err);
    self->marks_n = 0;
}
