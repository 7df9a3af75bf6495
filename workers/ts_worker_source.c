/*  ts_worker_source - the worker's sources: one context per source of the
    config (ts_config_source_at), built at start, picked by a job's
    source. A context holds what differs per source when a job's ids are
    fetched and stored: the URL template (upstream.url), the unit of
    {from}/{to} (upstream.time_param), the default window
    (upstream.past_s, future_s) and the ingest with the source's map spec
    (upstream.format.*), its pagination (upstream.pagination.*), its
    request (method, body, OAuth2 token: ts_worker_request.c) and its API
    key and headers (upstream.headers, api_key_*: ts_worker_keys.c), all
    read from the source's view of the config.

    What the one fetcher holds - the transfer limits (*timeout_ms,
    max_body_bytes) - is the first source's; a source that sets any of
    them differently is refused at start with the key named, never
    fetched under another source's limits.

    A job names its source ("" the first); a name this worker does not
    know fails the job's ids for good (retry false), so the job reaches
    the DLQ with the reason. Part of ts_worker (ts_worker_internal.h). */

#include "ts_worker_internal.h"
#include "ts_log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

//  Keys the fetcher holds once for every source (see above).
static const char *const s_shared [] = {
    "upstream.connect_timeout_ms", "upstream.timeout_ms",
    "upstream.max_body_bytes", NULL };

//  Fills one context from the view cfg. Returns 0 or TS_ECONFIG.
static int
s_source_init (ts_worker_t *self, ts_worker_source_t *source,
               const ts_config_t *cfg, char *err)
{
    source->cfg = cfg;
    source->name = ts_config_source_name (cfg);
    source->url_tmpl = ts_config_str (cfg, "upstream.url");
    source->past_ms = ts_config_int (cfg, "upstream.past_s") * 1000;
    source->future_ms = ts_config_int (cfg, "upstream.future_s") * 1000;
    const char *unit = ts_config_str (cfg, "upstream.time_param");
    if (ts_url_time_parse (unit, &source->time_unit) != 0) {
        ts_errf (err, "source %s: upstream.time_param: unknown unit '%s'",
                 source->name, unit);
        return TS_ECONFIG;
    }
    const ts_config_t *first = ts_config_source_at (cfg, 0);
    for (size_t k = 0; s_shared [k]; k++)
        if (!ts_config_same (cfg, first, s_shared [k])) {
            char where [TS_ERRLEN];
            ts_config_where (cfg, s_shared [k], where, sizeof where);
            ts_errf (err, "%s: differs from the first source's (%s): the "
                     "worker fetches every source with one set of transfer "
                     "limits (timeouts, max_body_bytes); set it in "
                     "upstream: for all", where,
                     ts_config_source_name (first));
            return TS_ECONFIG;
        }
    if (ts_worker_keys_setup (source, err) != 0)
        return TS_ECONFIG;
    ts_map_spec_t spec;
    char detail [TS_ERRLEN];
    if (ts_pages_spec_from_config (&source->pages, cfg, detail) != 0
    ||  ts_map_spec_from_config (&spec, cfg, detail) != 0
    ||  !(source->ingest = ts_ingest_new (&spec, self->store,
                                          self->batch_max, detail))) {
        ts_errf (err, "source %s: %s", source->name, detail);
        return TS_ECONFIG;
    }
    if (ts_worker_request_setup (source, cfg, err) != 0)
        return TS_ECONFIG;
    ts_worker_status_setup (source);
    return 0;
}

int
ts_worker_sources_new (ts_worker_t *self, const ts_config_t *cfg, char *err)
{
    size_t n = ts_config_source_count (cfg);
    self->sources = calloc (n, sizeof (ts_worker_source_t));
    if (!self->sources) {
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }
    self->nsources = n;
    for (size_t i = 0; i < n; i++)
        if (s_source_init (self, &self->sources [i],
                           ts_config_source_at (cfg, i), err))
            return TS_ECONFIG;
    self->batch_source = &self->sources [0];
    ts_config_source_names (cfg, self->source_names,
                            sizeof self->source_names);
    return 0;
}

void
ts_worker_sources_destroy (ts_worker_t *self)
{
    for (size_t i = 0; self->sources && i < self->nsources; i++) {
        ts_ingest_destroy (&self->sources [i].ingest);
        ts_worker_request_teardown (&self->sources [i]);
        ts_worker_keys_teardown (&self->sources [i]);
    }
    free (self->sources);
    self->sources = NULL;
    self->batch_source = NULL;
    self->nsources = 0;
}

const ts_worker_source_t *
ts_worker_source_find (const ts_worker_t *self, const char *name)
{
    if (!name || !*name)
        return self->nsources? &self->sources [0]: NULL;
    for (size_t i = 0; i < self->nsources; i++)
        if (strcmp (self->sources [i].name, name) == 0)
            return &self->sources [i];
    return NULL;
}
