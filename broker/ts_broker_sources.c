/*  ts_broker_sources - which ids belong to which source, for the broker's
    schedule and hydrates. An id is registered to a source (the registry
    keeps its name, "" for the first source: ts_store.h); a job holds ids
    of one source only and names it (ts_queue_attrs_t.source), so the
    worker fetches all of them with that source's URL, key and format.

    The schedule reads the registry a page at a time with each id's
    source (ts_store_ids_page_sources); a hydrate names ids only, and
    each one's source is read from the registry (an id not registered
    is fetched from the first source). Both then queue the ids grouped
    by source (ts_broker_enqueue_sources). A source the config no longer
    lists is queued all the same: the worker fails such a job for good,
    naming the source, so it shows in the DLQ instead of being dropped.
    When the schedule runs per source, ts_broker_source_is tells whether
    an id's registered source is a given configured one.

    Part of the broker (ts_broker_internal.h). */

#include "ts_broker_internal.h"
#include "ts_log.h"

#include <stdlib.h>
#include <string.h>

bool
ts_broker_source_is (const ts_broker_t *self, const char *registered,
                     const char *source)
{
    const char *first = ts_config_source_name (
        ts_config_source_at (self->cfg, 0));
    if (!registered || !*registered)
        registered = first;
    if (!source || !*source)
        source = first;
    return strcmp (registered, source) == 0;
}

int
ts_broker_sources_of (ts_broker_t *self, const ts_strlist_t *ids,
                      ts_strlist_t *sources, char *err)
{
    for (size_t i = 0; i < ids->n; i++) {
        //  No store: one source, no schedule (ts_broker_new); every id is
        //  the first source's.
        char source [TS_NAME_MAX + 1] = "";
        int rc = self->store? ts_store_ids_source (self->store,
                                                   ids->items [i], source,
                                                   err): 0;
        if (rc && rc != TS_ENOTFOUND)
            return rc;
        if (ts_strlist_append (sources, source)) {
            ts_errf (err, "out of memory");
            return TS_ENOMEM;
        }
    }
    return 0;
}

int
ts_broker_enqueue_sources (ts_broker_t *self, const ts_strlist_t *ids,
                           const ts_strlist_t *sources, const char *rid,
                           bool priority, char *err)
{
    ts_strlist_t *group = ts_strlist_new ();
    bool *done = calloc (ids->n? ids->n: 1, sizeof (bool));
    int jobs = group && done? 0: TS_ENOMEM;
    if (jobs)
        ts_errf (err, "out of memory");
    //  One group per source, in the order sources first appear.
    for (size_t i = 0; jobs >= 0 && i < ids->n; i++) {
        if (done [i])
            continue;
        const char *source = sources->items [i];
        ts_strlist_clear (group);
        for (size_t j = i; jobs >= 0 && j < ids->n; j++)
            if (!done [j] && strcmp (sources->items [j], source) == 0) {
                done [j] = true;
                if (ts_strlist_append (group, ids->items [j])) {
                    ts_errf (err, "out of memory");
                    jobs = TS_ENOMEM;
                }
            }
        if (jobs < 0)
            break;
        ts_queue_attrs_t attrs = { .rid = rid, .source = source,
                                   .priority = priority };
        int queued = ts_broker_enqueue_attrs (self, group, &attrs, err);
        if (queued < 0)
            jobs = queued;
        else
            jobs += queued;
    }
    free (done);
    ts_strlist_destroy (&group);
    return jobs;
}
