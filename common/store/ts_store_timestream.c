/*  ts_store_timestream - the Timestream for LiveAnalytics backend of the
    history role: puts and range reads (ts_store_timestream.h; the text
    work in ts_store_timestream_text.c, the client in
    ts_store_timestream_call.c; docs/timestream.md).

    A put: the points deduplicated (the last of equal points wins), sent
    in WriteRecords of at most 100 records, all with one Version (this
    put's, ts_tms_version), dimension identifier = the id. Timestream
    keeps, for a record already stored, the one with the higher version:
    a re-fetch upserts. A request partly rejected (RejectedRecordsException,
    HTTP 419) has its other records written; the put goes on with the
    next requests, then fails naming every rejected record (each one also
    logged), so the job fails and is kept to be redriven.

    A range read: one SQL query (ts_tms_sql) paged by NextToken until a
    page has none (pages may be empty while the query runs), with LIMIT
    max + 1 when a limit is asked, so that TS_ETOOBIG is found without
    reading more.

    Timestream deletes nothing: forget keeps the id's history (the
    table's retention ages it out) and says so in the log. The backend
    keeps no stamps and serves the history role only (TS_ECONFIG at open
    otherwise). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "ts_log.h"
#include "ts_store_timestream.h"
#include "ts_store_timestream_init.h"

typedef struct {
    ts_tms_t *client;
    char      database [257];
    char      table [257];
} s_tms_t;

//  ---------------------------------------------------------------------
//  Open, close

int
ts_tms_roles_check (const ts_config_t *cfg, char *err)
{
    return ts_store_history_only_roles (cfg, "timestream", err);
}

static void
s_close (void *state)
{
    s_tms_t *self = state;
    if (self) {
        ts_tms_destroy (&self->client);
        free (self);
    }
}

static void *
s_open (const ts_config_t *cfg, char *err)
{
    if (ts_tms_roles_check (cfg, err))
        return NULL;
    s_tms_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "store.timestream: out of memory");
        return NULL;
    }
    snprintf (self->database, sizeof self->database, "%s",
              ts_config_str (cfg, "store.timestream.database"));
    snprintf (self->table, sizeof self->table, "%s",
              ts_config_str (cfg, "store.timestream.table"));
    self->client = ts_tms_new (cfg, err);
    if (!self->client) {
        s_close (self);
        return NULL;
    }
    return self;
}

static const char *
s_libraries (void)
{
    return ts_aws_libraries ();
}

//  ---------------------------------------------------------------------
//  History

static int64_t
s_now_us (void)
{
    struct timeval tv;
    gettimeofday (&tv, NULL);
    return (int64_t) tv.tv_sec * 1000000 + tv.tv_usec;
}

//  Sends records idx[0 .. n) of id's put; a rejected record appends its
//  line to rejected and is not an error here.
static int
s_write_records (s_tms_t *self, const char *id, int64_t version,
                 const ts_points_t *pts, const size_t *idx, size_t n,
                 ts_strlist_t *rejected, char *err)
{
    int rc = 0;
    json_t *body = ts_tms_write_body (self->database, self->table, id,
                                      version, pts, idx, n, &rc, err);
    if (!body)
        return rc;
    ts_aws_error_t error;
    char *fault = NULL;
    rc = ts_tms_call (self->client, TS_TMS_INGEST, "WriteRecords", body,
                      NULL, &error, &fault, err);
    if (rc && strcmp (error.type, "RejectedRecordsException") == 0) {
        int got = ts_tms_rejected_parse (fault, fault? strlen (fault): 0, id,
                                         pts, idx, n, rejected);
        if (got > 0)
            rc = 0;             //  the others are written
        else
        if (got == TS_ENOMEM) {
            ts_errf (err, "store.timestream: out of memory");
            rc = TS_ENOMEM;
        }
        //  else the service's own message stays in err
    }
    free (fault);
    return rc;
}

//  One put of id: every record in batches, one version.
static int
s_put (s_tms_t *self, const char *id, const ts_points_t *pts, char *err)
{
    if (pts->n == 0)
        return 0;
    for (size_t i = 0; i < pts->n; i++)
        if (!isfinite (pts->value [i])) {
            char text [TS_TMS_NUMLEN];
            ts_tms_value_text (pts->value [i], text);
            ts_errf (err, "store.timestream: id '%s' measure '%s' time %lld: "
                     "a DOUBLE measure cannot hold %s", id,
                     ts_points_measure (pts, i),
                     (long long) pts->time_ms [i], text);
            return TS_EINVAL;
        }
    size_t n = 0;
    size_t *idx = ts_tms_records (pts, &n);
    ts_strlist_t *rejected = ts_strlist_new ();
    if (!idx || !rejected) {
        free (idx);
        ts_strlist_destroy (&rejected);
        ts_errf (err, "store.timestream: out of memory");
        return TS_ENOMEM;
    }
    int64_t version = ts_tms_version (s_now_us ());
    int rc = 0;
    for (size_t at = 0; at < n && rc == 0; at += TS_TMS_BATCH)
        rc = s_write_records (self, id, version, pts, idx + at,
                              n - at < TS_TMS_BATCH? n - at: TS_TMS_BATCH,
                              rejected, err);
    if (rc == 0 && rejected->n) {
        for (size_t i = 0; i < rejected->n; i++)
            ts_warn ("store.timestream: record rejected: %s",
                     rejected->items [i]);
        ts_tms_rejected_errf (err, rejected, n);
        rc = TS_EBACKEND;
    }
    ts_strlist_destroy (&rejected);
    free (idx);
    return rc;
}

static int
s_history_put (void *state, const char *id, const ts_points_t *pts,
               char *err)
{
    return s_put (state, id, pts, err);
}

static int
s_history_range (void *state, const char *id, const char *measure,
                 int64_t from_ms, int64_t to_ms, size_t max,
                 ts_points_t *out, char *err)
{
    s_tms_t *self = state;
    char sql [TS_TMS_SQL_MAX];
    size_t limit = max >= SIZE_MAX - 1? 0: max + 1;
    if (ts_tms_sql (self->database, self->table, id, measure, from_ms,
                    to_ms, limit, sql)) {
        ts_errf (err, "store.timestream: query of '%s' too long", id);
        return TS_EINVAL;
    }
    json_t *req = json_pack ("{ss}", "QueryString", sql);
    if (!req) {
        ts_errf (err, "store.timestream: out of memory");
        return TS_ENOMEM;
    }
    size_t most = max > SIZE_MAX - out->n? SIZE_MAX: out->n + max;
    int rc = 0;
    while (rc == 0) {
        json_t *page = NULL;
        rc = ts_tms_call (self->client, TS_TMS_QUERY, "Query",
                          json_incref (req), &page, NULL, NULL, err);
        const char *next = NULL;
        if (rc == 0)
            rc = ts_tms_page_points (page, most, out, &next, err);
        if (rc == 0 && next)
            json_object_set_new (req, "NextToken", json_string (next));
        json_decref (page);
        if (rc == 0 && !next)
            break;
    }
    json_decref (req);
    if (rc == TS_ETOOBIG)
        ts_errf (err, "history of id '%s' holds more than %zu points in the "
                 "range", id, max);
    return rc;
}

static int
s_write (void *state, const ts_store_doc_t *docs, size_t n,
         int64_t expires_ms, char *err)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (docs [i].forecast && docs [i].forecast->n) {
            ts_errf (err, "store.timestream: serves the history role only");
            return TS_EBACKEND;
        }
        if (docs [i].history)
            rc = s_put (state, docs [i].id, docs [i].history, err);
    }
    return rc;
}

//  Timestream has no delete: the history stays until the table's
//  retention ages it out (docs/timestream.md).
static int
s_forget (void *state, unsigned roles, const char *id, char *err)
{
    if (roles & TS_STORE_HISTORY)
        ts_info ("store.timestream: id '%s' removed; its history is kept "
                 "(Timestream deletes nothing) until the table's retention "
                 "ages it out", id);
    return 0;
}

const ts_store_ops_t ts_store_timestream_ops = {
    .name = "timestream",
    .caps = 0,                  //  no stamps, no delete, not every time
    .libraries = s_libraries,
    .open = s_open,
    .close = s_close,
    .ids_add = ts_store_history_only_ids_add,
    .ids_remove = ts_store_history_only_ids_remove,
    .forget = s_forget,
    .ids_page = ts_store_history_only_ids_page,
    .ids_exists = ts_store_history_only_ids_exists,
    .history_put = s_history_put,
    .history_range = s_history_range,
    .forecast_replace = ts_store_history_only_forecast_replace,
    .forecast_range = ts_store_history_only_forecast_range,
    .write = s_write,
    .read = NULL,
    .release = NULL,
    .stamp = NULL,
    .expire = ts_store_history_only_expire,
    .init = ts_store_timestream_init,
};
