/*  ts_store_influxdb - the InfluxDB backend of the history role: puts,
    range reads and forget (ts_store_influxdb.h; the text work in
    ts_store_influxdb_text.c, the client in ts_store_influxdb_http.c;
    docs/influxdb.md).

    A put: the points deduplicated (the last of equal points wins), one
    line per time (ts_ifx_lines), sent in write requests of about
    store.influxdb.batch_points points. Same series and time overwrite
    the same field: a re-fetch upserts. A request the server partly
    refuses (1.x "partial write", 2.x 422, a line it cannot take) has its
    lines sent again one by one (harmless: each overwrites itself); the
    put goes on with the next requests, then fails naming every refused
    line (id, time, measures, the server's reason; each one also
    logged), so the job fails and is kept to be redriven. A reader may
    see the first requests of a put before the last.

    A range read: one InfluxQL SELECT with LIMIT max + 1 rows (a row is
    one time: at most one point per measure), so TS_ETOOBIG is found
    without reading more; the answer's size is bounded by that LIMIT
    (and the client's answer cap).

    forget deletes: DROP SERIES (v1) or /api/v2/delete (v2). Serves the
    history role only (TS_ECONFIG at open otherwise); keeps no stamps. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ts_log.h"
#include "ts_store_influxdb.h"

typedef struct {
    ts_ifx_t *client;
    char      measurement [TS_IFX_NAME_MAX + 1];
    char      org [TS_IFX_NAME_MAX + 1];
    char      bucket [TS_IFX_NAME_MAX + 1];
    size_t    batch_points;
} s_ifx_t;

//  ---------------------------------------------------------------------
//  Open, close

int
ts_ifx_roles_check (const ts_config_t *cfg, char *err)
{
    return ts_store_history_only_roles (cfg, "influxdb", err);
}

static void
s_close (void *state)
{
    s_ifx_t *self = state;
    if (self) {
        ts_ifx_destroy (&self->client);
        free (self);
    }
}

static void *
s_open (const ts_config_t *cfg, char *err)
{
    if (ts_ifx_roles_check (cfg, err))
        return NULL;
    s_ifx_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "store.influxdb: out of memory");
        return NULL;
    }
    snprintf (self->measurement, sizeof self->measurement, "%s",
              ts_config_str (cfg, "store.influxdb.measurement"));
    snprintf (self->org, sizeof self->org, "%s",
              ts_config_str (cfg, "store.influxdb.org"));
    snprintf (self->bucket, sizeof self->bucket, "%s",
              ts_config_str (cfg, "store.influxdb.bucket"));
    self->batch_points = (size_t) ts_config_int (cfg,
                                                 "store.influxdb.batch_points");
    self->client = ts_ifx_new (cfg, err);
    if (!self->client) {
        s_close (self);
        return NULL;
    }
    return self;
}

static const char *
s_libraries (void)
{
    return ts_ifx_libraries ();
}

//  ---------------------------------------------------------------------
//  History

//  Appends "id 'ID' time T measures M: REASON" for line i to rejected.
static int
s_reject (const char *id, const ts_ifx_lines_t *lines, size_t i,
          const ts_points_t *pts, const char *reason, ts_strlist_t *rejected)
{
    char measures [128], text [TS_ERRLEN * 2];
    ts_ifx_line_measures (lines, i, pts, measures, sizeof measures);
    snprintf (text, sizeof text, "id '%s' time %" PRId64 " measures %s: %s",
              id, lines->time_ms [i], measures, reason);
    ts_warn ("store.influxdb: point refused: %s", text);
    return ts_strlist_append (rejected, text)? TS_ENOMEM: 0;
}

//  Sends lines [from, to) in one request; a partly refused request is
//  sent again line by line, refused lines appended to rejected.
static int
s_send (s_ifx_t *self, const char *id, const ts_ifx_lines_t *lines,
        size_t from, size_t to, const ts_points_t *pts,
        ts_strlist_t *rejected, char *err)
{
    ts_ifx_error_t error;
    const char *text = lines->text + lines->start [from];
    int rc = ts_ifx_write (self->client, text,
                           lines->start [to] - lines->start [from], &error,
                           err);
    if (rc == 0 || !ts_ifx_partial (error.http_status, error.message))
        return rc;
    if (to - from == 1)
        return s_reject (id, lines, from, pts, error.message, rejected);
    for (size_t i = from; i < to; i++) {
        rc = s_send (self, id, lines, i, i + 1, pts, rejected, err);
        if (rc)
            return rc;
    }
    return 0;
}

//  "store.influxdb: R of N lines refused: LINE; LINE (and K more)".
static void
s_rejected_errf (char *err, const ts_strlist_t *rejected, size_t n)
{
    char text [TS_ERRLEN];
    size_t len = (size_t) snprintf (text, sizeof text, "store.influxdb: %zu "
                                    "of %zu lines refused: ", rejected->n, n);
    size_t shown = 0;
    for (; shown < rejected->n && shown < TS_IFX_REJECTED_MAX; shown++) {
        const char *item = rejected->items [shown];
        //  Keep room for " (and K more)".
        if (len + strlen (item) + 3 + 24 >= sizeof text)
            break;
        len += (size_t) snprintf (text + len, sizeof text - len, "%s%s",
                                  shown? "; ": "", item);
    }
    if (shown < rejected->n)
        snprintf (text + len, sizeof text - len, "%s(and %zu more)",
                  shown? " ": "", rejected->n - shown);
    ts_errf (err, "%s", text);
}

static int
s_put (s_ifx_t *self, const char *id, const ts_points_t *pts, char *err)
{
    if (pts->n == 0)
        return 0;
    ts_ifx_lines_t *lines = NULL;
    int rc = ts_ifx_lines (self->measurement, id, pts, &lines, err);
    if (rc)
        return rc;
    ts_strlist_t *rejected = ts_strlist_new ();
    if (!rejected) {
        ts_ifx_lines_destroy (&lines);
        ts_errf (err, "store.influxdb: out of memory");
        return TS_ENOMEM;
    }
    //  Requests of whole lines, about batch_points points each.
    size_t from = 0, points = 0;
    for (size_t i = 0; i < lines->n && rc == 0; i++) {
        points += lines->fields [i];
        if (points >= self->batch_points || i + 1 == lines->n) {
            rc = s_send (self, id, lines, from, i + 1, pts, rejected, err);
            from = i + 1;
            points = 0;
        }
    }
    if (rc == TS_ENOMEM)
        ts_errf (err, "store.influxdb: out of memory");
    if (rc == 0 && rejected->n) {
        s_rejected_errf (err, rejected, lines->n);
        rc = TS_EBACKEND;
    }
    ts_strlist_destroy (&rejected);
    ts_ifx_lines_destroy (&lines);
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
    s_ifx_t *self = state;
    if (!ts_name_existing (id)) {
        ts_errf (err, "store.influxdb: invalid id '%.*s'", TS_NAME_MAX, id);
        return TS_EINVAL;
    }
    if (from_ms > TS_IFX_MAX_MS || to_ms < TS_IFX_MIN_MS)
        return 0;               //  nothing stored out there
    char q [TS_IFX_QUERY_MAX];
    size_t limit = max >= SIZE_MAX - 1? 0: max + 1;
    if (ts_ifx_select (self->measurement, id, measure, from_ms, to_ms, limit,
                       q)) {
        ts_errf (err, "store.influxdb: query of '%s' too long", id);
        return TS_EINVAL;
    }
    json_t *answer = NULL;
    int rc = ts_ifx_query (self->client, q, &answer, NULL, err);
    size_t most = max > SIZE_MAX - out->n? SIZE_MAX: out->n + max;
    if (rc == 0)
        rc = ts_ifx_answer_points (answer, most, out, err);
    json_decref (answer);
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
            ts_errf (err, "store.influxdb: serves the history role only");
            return TS_EBACKEND;
        }
        if (docs [i].history)
            rc = s_put (state, docs [i].id, docs [i].history, err);
    }
    return rc;
}

//  v2: POST /api/v2/delete?org=&bucket= with a predicate on the id.
static int
s_delete_v2 (s_ifx_t *self, const char *id, char *err)
{
    if (strpbrk (self->measurement, "\"\\")) {
        ts_errf (err, "store.influxdb.measurement: a v2 delete predicate "
                 "cannot hold '\"' or '\\'");
        return TS_ECONFIG;
    }
    char predicate [TS_IFX_QUERY_MAX], path [1024];
    snprintf (predicate, sizeof predicate, "_measurement=\"%s\" AND id=\"%s\"",
              self->measurement, id);
    json_t *req = json_pack ("{ssssss}", "start", "1677-09-21T00:12:43Z",
                             "stop", "2262-04-11T23:47:16Z",
                             "predicate", predicate);
    char *body = req? json_dumps (req, JSON_COMPACT): NULL;
    json_decref (req);
    char *org = curl_escape (self->org, 0), *bucket = curl_escape (self->bucket,
                                                                   0);
    snprintf (path, sizeof path, "/api/v2/delete?org=%s&bucket=%s",
              org? org: "", bucket? bucket: "");
    curl_free (org);
    curl_free (bucket);
    int rc = body? ts_ifx_api (self->client, "POST", path, body, NULL, NULL,
                               err): TS_ENOMEM;
    free (body);
    return rc;
}

static int
s_forget (void *state, unsigned roles, const char *id, char *err)
{
    s_ifx_t *self = state;
    if (!(roles & TS_STORE_HISTORY))
        return 0;
    if (!ts_name_existing (id)) {
        ts_errf (err, "store.influxdb: invalid id '%.*s'", TS_NAME_MAX, id);
        return TS_EINVAL;
    }
    if (ts_ifx_v2 (self->client))
        return s_delete_v2 (self, id, err);
    char q [TS_IFX_QUERY_MAX];
    if (ts_ifx_drop (self->measurement, id, q)) {
        ts_errf (err, "store.influxdb: delete of '%s' too long", id);
        return TS_EINVAL;
    }
    json_t *answer = NULL;
    int rc = ts_ifx_query (self->client, q, &answer, NULL, err);
    const char *error = rc? NULL: ts_ifx_answer_error (answer);
    if (error) {
        ts_errf (err, "store.influxdb: DROP SERIES: %s", error);
        rc = TS_EBACKEND;
    }
    json_decref (answer);
    return rc;
}

const ts_store_ops_t ts_store_influxdb_ops = {
    .name = "influxdb",
    .caps = TS_STORE_CAP_FORGET,    //  deletes; no stamps, not every time
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
    .init = ts_store_influxdb_init,
};
