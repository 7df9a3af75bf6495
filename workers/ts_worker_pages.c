/*  ts_worker_pages - the worker's ids fetched in pages
    (upstream.pagination.mode other than none).

    An id's pages are fetched one after another (the next request comes
    from the page before: its link, its cursor, or a count), each mapped
    into the id's own point list as it arrives. Only after the last page
    does the list go into the ingest's batch, as one document: all pages
    of an id are stored in one write, or none is. A page that fails - the
    transfer, the status, the map, or pagination itself (a next link to
    another origin, more pages than max_pages) - fails the id whole with
    the page named, "id=x: page 3: upstream HTTP 500", and what its pages
    gave so far is dropped. Whether that is retried is the failure's own
    verdict (ts_fetch_classify for the fetch; a map error is retried as
    for a one-page document; pagination errors are not: the same pages
    would come back).

    Part of ts_worker (ts_worker_internal.h); the decisions are
    ts_pages's, pure and tested on their own. */

#include "ts_worker_internal.h"
#include "ts_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Drops what id i's pages gave so far.
static void
s_drop (ts_worker_paged_t *paged)
{
    ts_pages_destroy (&paged->pages);
    ts_points_destroy (&paged->points);
}

void
ts_worker_pages_clear (ts_worker_slot_t *slot)
{
    assert (slot);
    if (slot->paged) {
        for (size_t i = 0; i < slot->ids->n; i++)
            s_drop (&slot->paged [i]);
        free (slot->paged);
        slot->paged = NULL;
    }
}

int
ts_worker_pages_start (ts_worker_t *self, ts_worker_slot_t *slot, size_t i,
                       size_t n, const char *url, const char **first,
                       char *err)
{
    assert (i < n);
    if (!slot->paged && !(slot->paged = calloc (n, sizeof *slot->paged))) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    ts_worker_paged_t *paged = &slot->paged [i];
    int rc = ts_pages_new (&paged->pages, &slot->src->pages, url, err);
    if (rc == 0 && !(paged->points = ts_points_new ())) {
        ts_errf (err, "out of memory");
        rc = TS_ENOMEM;
    }
    if (rc != 0) {
        s_drop (paged);
        return rc;
    }
    *first = ts_pages_url (paged->pages);
    return 0;
}

//  Fails id whole (its pages dropped) and settles it: kind is one of
//  ts_fetch_kinds, label "x: page N" names the page, what and why as
//  ts_fetch_verdict_fail.
static void
s_fail (ts_worker_t *self, ts_worker_slot_t *slot, size_t i,
        const char *label, const char *kind, bool retry, const char *what,
        const char *why)
{
    ts_fetch_verdict_t verdict;
    ts_fetch_verdict_fail (&verdict, label, retry, what, why);
    verdict.kind = kind;
    ts_worker_job_fail_verdict (self, slot, slot->ids->items [i], &verdict);
    s_drop (&slot->paged [i]);
    ts_worker_job_ended (self, slot);
}

//  Asks for the id's next page. Returns 0, or TS_ENOMEM.
static int
s_fetch_next (ts_worker_t *self, ts_worker_slot_t *slot, size_t i,
              uint64_t tag)
{
    const ts_pages_t *pages = slot->paged [i].pages;
    ts_fetch_request_t req = { .method = "GET", .url = ts_pages_url (pages) };
    if (ts_worker_keys_add (self, slot->src, &req, tag) != 0)
        return TS_ENOMEM;
    if (ts_log_enabled (TS_LOG_DEBUG)) {
        char shown [URL_MAX];
        ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
                   TS_LF_STR ("id", slot->ids->items [i]),
                   TS_LF_UINT ("page", ts_pages_page (pages)),
                   TS_LF_OPT ("rid", slot->rid)), "job %" PRIu64 " id=%s: "
                   "page %zu: GET %s", slot->job, slot->ids->items [i],
                   ts_pages_page (pages), ts_worker_keys_url (self,
                   slot->src, ts_pages_url (pages), shown, sizeof shown));
    }
    return 0;
}

//  The id's last page is in: its points go into the batch as one
//  document, stored (and the id settled) at the next flush.
static void
s_complete (ts_worker_t *self, ts_worker_slot_t *slot, size_t i,
            const char *label, const ts_fetch_result_t *res)
{
    ts_worker_paged_t *paged = &slot->paged [i];
    const char *id = slot->ids->items [i];
    if (ts_pages_truncated (paged->pages))
        ts_warn ("job %" PRIu64 " id=%s: stopped at upstream.pagination."
                 "max_pages (%zu) with more pages left; storing those "
                 "fetched (at_max_pages: keep)", slot->job, id,
                 ts_pages_page (paged->pages));
    ts_ingest_t *ingest = ts_worker_job_batch (self, slot);
    ts_worker_pending_t *doc = &self->batch [ts_ingest_pending (ingest)];
    doc->started_ms = ts_mono_ms ();
    doc->fetch_ms = res->elapsed_ms;
    doc->slot = TAG_SLOT (res->tag);
    const char *what = NULL;
    char err [TS_ERRLEN] = "";
    //  A window job (a backfill chunk) writes history only.
    if (ts_ingest_add_points (ingest, id, paged->points, ts_now_ms (),
                              slot->has_window, &what, err) != 0) {
        s_fail (self, slot, i, label, "document", true, what, err);
        return;
    }
    ts_log_kv (TS_LOG_DEBUG, TS_LOG_FIELDS (TS_LF_UINT ("job", slot->job),
               TS_LF_STR ("id", id), TS_LF_UINT ("pages",
               ts_pages_page (paged->pages)), TS_LF_UINT ("points",
               paged->points->n), TS_LF_OPT ("rid", slot->rid)),
               "all pages fetched");
    s_drop (paged);
    if (ts_ingest_full (ingest))
        ts_worker_job_flush (self);
}

void
ts_worker_pages_fetched (ts_worker_t *self, ts_worker_slot_t *slot,
                         size_t i, const ts_fetch_result_t *res)
{
    assert (slot->paged && i < slot->ids->n);
    ts_worker_paged_t *paged = &slot->paged [i];
    assert (paged->pages);
    char label [TS_ERRLEN];
    snprintf (label, sizeof label, "%s: page %zu", slot->ids->items [i],
              ts_pages_page (paged->pages));
    ts_fetch_verdict_t verdict;
    if (ts_worker_keys_classify (self, slot->src, res, label, &verdict)) {
        ts_worker_job_fail_verdict (self, slot, slot->ids->items [i],
                                    &verdict);
        s_drop (paged);
        ts_worker_job_ended (self, slot);
        return;
    }
    const char *what = NULL;
    char err [TS_ERRLEN] = "";
    int rc = ts_ingest_map (slot->src->ingest, res->body, res->size,
                            ts_now_ms (), paged->points, &what, err);
    if (rc != 0) {
        //  As a one-page document: a body that is not JSON is retried, a
        //  shape the mapping cannot read is not.
        bool shape = rc == TS_EPROTO && ts_ingest_report (slot->src->ingest)->shape;
        s_fail (self, slot, i, label, rc == TS_ENOMEM? "memory": "document",
                !shape, what, err);
        return;
    }
    bool more = false;
    rc = ts_pages_next (paged->pages, res->body, res->size, res->link, &more,
                        err);
    if (rc != 0) {
        //  Not retried, but for memory: the same pages would come back.
        s_fail (self, slot, i, label, rc == TS_ENOMEM? "memory"
                : rc == TS_EINVAL? "url": "document", rc == TS_ENOMEM,
                "pagination", err);
        return;
    }
    if (!more)
        s_complete (self, slot, i, label, res);
    else
    if (s_fetch_next (self, slot, i, res->tag) != 0)
        s_fail (self, slot, i, label, "memory", true, "out of memory", NULL);
}
