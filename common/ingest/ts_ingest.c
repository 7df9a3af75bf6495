/*  ts_ingest - map, split at now, write in batches. See ts_ingest.h.

    Every list is allocated once and reused from document to document and
    batch to batch: the scratch list a document is mapped into, and each
    batch entry's history and forecast. Clearing a list keeps its point
    columns, so after the first batches a document costs no allocation
    beyond its measure names. */

#include "ts_ingest.h"
#include "ts_log.h"

#include <assert.h>
#include <stdlib.h>

//  One mapped document waiting for the flush.
typedef struct {
    const char  *id;                //  borrowed from the caller
    ts_points_t *history;           //  owned, reused
    ts_points_t *forecast;          //  owned, reused
    bool         history_only;      //  leave the id's forecast alone
    int64_t      fetched_ms;        //  its success mark (0: none)
} s_entry_t;

struct _ts_ingest_t {
    ts_map_t       *map;            //  the compiled spec
    ts_store_t     *store;          //  borrowed
    ts_points_t    *all;            //  scratch: one document's points
    s_entry_t      *batch;          //  batch_max entries
    size_t          batch_max;      //  documents one batch holds
    size_t          batch_n;        //  documents in the batch now
    ts_store_doc_t *docs;           //  scratch: the batch for the store
    ts_map_report_t report;         //  the last document's mapping
};

ts_ingest_t *
ts_ingest_new (const ts_map_spec_t *spec, ts_store_t *store,
               size_t batch_max, char *err)
{
    assert (spec);
    assert (store);
    assert (batch_max >= 1);
    ts_ingest_t *self = calloc (1, sizeof (ts_ingest_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->store = store;
    self->batch_max = batch_max;
    if (!(self->map = ts_map_new (spec, err))) {
        ts_ingest_destroy (&self);
        return NULL;
    }
    self->all = ts_points_new ();
    self->batch = calloc (batch_max, sizeof (s_entry_t));
    self->docs = calloc (batch_max, sizeof (ts_store_doc_t));
    bool ok = self->all && self->batch && self->docs;
    for (size_t i = 0; ok && i < batch_max; i++)
        ok = (self->batch [i].history = ts_points_new ()) != NULL
          && (self->batch [i].forecast = ts_points_new ()) != NULL;
    if (!ok) {
        ts_errf (err, "out of memory");
        ts_ingest_destroy (&self);
    }
    return self;
}

void
ts_ingest_destroy (ts_ingest_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_ingest_t *self = *self_p;
        ts_map_destroy (&self->map);
        ts_points_destroy (&self->all);
        for (size_t i = 0; self->batch && i < self->batch_max; i++) {
            ts_points_destroy (&self->batch [i].history);
            ts_points_destroy (&self->batch [i].forecast);
        }
        free (self->batch);
        free (self->docs);
        free (self);
        *self_p = NULL;
    }
}

//  Maps and splits one document into the batch (see ts_ingest_add).
static int
s_add (ts_ingest_t *self, const char *id, const char *doc, size_t len,
       int64_t now_ms, bool history_only, const char **what, char *err)
{
    assert (self);
    assert (id);
    assert (what);
    assert (self->batch_n < self->batch_max);
    s_entry_t *entry = &self->batch [self->batch_n];
    ts_points_clear (self->all);
    ts_points_clear (entry->history);
    ts_points_clear (entry->forecast);
    *what = "invalid document";
    int rc = ts_map_parse_report (self->map, doc, len, now_ms, self->all,
                                  &self->report, err);
    if (rc == TS_ENOMEM)
        *what = "out of memory";
    if (rc != 0)
        return rc;
    rc = ts_points_split (self->all, now_ms, entry->history,
                          entry->forecast);
    if (rc != 0) {
        *what = "cannot split the document";
        ts_errf (err, "%s", ts_strerror (rc));
        return rc;
    }
    entry->id = id;
    entry->history_only = history_only;
    entry->fetched_ms = history_only? 0: now_ms;
    self->batch_n++;
    return 0;
}

int
ts_ingest_add (ts_ingest_t *self, const char *id, const char *doc,
               size_t len, int64_t now_ms, const char **what, char *err)
{
    return s_add (self, id, doc, len, now_ms, false, what, err);
}

int
ts_ingest_add_history (ts_ingest_t *self, const char *id, const char *doc,
                       size_t len, int64_t now_ms, const char **what,
                       char *err)
{
    return s_add (self, id, doc, len, now_ms, true, what, err);
}

const ts_map_report_t *
ts_ingest_report (const ts_ingest_t *self)
{
    assert (self);
    return &self->report;
}

int
ts_ingest_map (ts_ingest_t *self, const char *doc, size_t len,
               int64_t now_ms, ts_points_t *out, const char **what,
               char *err)
{
    assert (self);
    assert (out);
    assert (what);
    int rc = ts_map_parse_report (self->map, doc, len, now_ms, out,
                                  &self->report, err);
    *what = rc == TS_ENOMEM? "out of memory": "invalid document";
    return rc;
}

int
ts_ingest_add_points (ts_ingest_t *self, const char *id,
                      const ts_points_t *all, int64_t now_ms,
                      bool history_only, const char **what, char *err)
{
    assert (self);
    assert (id);
    assert (all);
    assert (what);
    assert (self->batch_n < self->batch_max);
    s_entry_t *entry = &self->batch [self->batch_n];
    ts_points_clear (entry->history);
    ts_points_clear (entry->forecast);
    int rc = ts_points_split (all, now_ms, entry->history, entry->forecast);
    if (rc != 0) {
        *what = "cannot split the document";
        ts_errf (err, "%s", ts_strerror (rc));
        return rc;
    }
    entry->id = id;
    entry->history_only = history_only;
    entry->fetched_ms = history_only? 0: now_ms;
    self->batch_n++;
    return 0;
}

size_t
ts_ingest_pending (const ts_ingest_t *self)
{
    assert (self);
    return self->batch_n;
}

bool
ts_ingest_full (const ts_ingest_t *self)
{
    assert (self);
    return self->batch_n == self->batch_max;
}

size_t
ts_ingest_flush (ts_ingest_t *self, int64_t now_ms, ts_ingest_done_fn *done,
                 void *arg)
{
    assert (self);
    size_t n = self->batch_n;
    if (n == 0)
        return 0;
    self->batch_n = 0;
    for (size_t i = 0; i < n; i++) {
        s_entry_t *entry = &self->batch [i];
        self->docs [i] = (ts_store_doc_t) { entry->id, entry->history,
            entry->history_only? NULL: entry->forecast, entry->fetched_ms };
    }
    char batch_err [TS_ERRLEN] = "";
    int batch_rc = ts_store_write_batch (self->store, self->docs, n, now_ms,
                                         batch_err);
    if (n > 1 && batch_rc == 0)
        ts_debug ("store: %zu documents in one transaction", n);
    if (n > 1 && batch_rc != 0)
        ts_debug ("store: batch of %zu documents failed (%s); writing "
                  "them one by one", n, batch_err);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        s_entry_t *entry = &self->batch [i];
        char err [TS_ERRLEN] = "";
        int rc = batch_rc;
        if (rc != 0 && n > 1)
            rc = ts_store_write_batch (self->store, &self->docs [i], 1,
                                       now_ms, err);
        else
        if (rc != 0)
            ts_strlcpy (err, batch_err, sizeof err);
        failed += rc != 0;
        if (done) {
            ts_ingest_result_t result = {
                .index = i, .id = entry->id, .history = entry->history->n,
                .forecast = entry->history_only? 0: entry->forecast->n,
                .skipped = entry->history_only? entry->forecast->n: 0,
                .rc = rc, .err = err };
            done (arg, &result);
        }
    }
    //  The pages these writes walked are the page cache's, not ours.
    ts_store_release (self->store);
    return failed;
}
