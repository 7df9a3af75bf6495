/*  ts_store_influxdb_init - the InfluxDB backend's database (v1) or
    bucket (v2) for store init: found, or created. Idempotent: a
    database or bucket that exists is found and left as it is (CREATE
    DATABASE is itself idempotent on 1.x; SHOW DATABASES first tells
    created from found). The v2 path follows InfluxDB 2.x's documented
    /api/v2 API and is checked against a loopback fake only (Debian has
    no 2.x server). Declared in ts_store_influxdb.h. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ts_store_influxdb.h"

//  True if a SHOW DATABASES answer lists name.
static bool
s_listed (const json_t *answer, const char *name)
{
    const json_t *series = json_array_get (json_object_get (
        json_array_get (json_object_get (answer, "results"), 0), "series"),
        0);
    size_t i;
    json_t *row;
    json_array_foreach (json_object_get (series, "values"), i, row) {
        const char *text = json_string_value (json_array_get (row, 0));
        if (text && strcmp (text, name) == 0)
            return true;
    }
    return false;
}

//  Runs statement q; a statement error is an error.
static int
s_statement (ts_ifx_t *ifx, const char *q, json_t **answer, char *err)
{
    json_t *reply = NULL;
    int rc = ts_ifx_query (ifx, q, &reply, NULL, err);
    const char *error = rc? NULL: ts_ifx_answer_error (reply);
    if (error) {
        ts_errf (err, "store.influxdb: %.40s: %s", q, error);
        rc = TS_EBACKEND;
    }
    if (rc == 0 && answer)
        *answer = reply;
    else
        json_decref (reply);
    return rc;
}

static int
s_database (ts_ifx_t *ifx, const char *db, char *line, size_t size,
            char *err)
{
    json_t *answer = NULL;
    int rc = s_statement (ifx, "SHOW DATABASES", &answer, err);
    if (rc)
        return rc;
    bool found = s_listed (answer, db);
    json_decref (answer);
    if (!found) {
        char ident [TS_IFX_NAME_MAX * 2 + 3], q [TS_IFX_QUERY_MAX];
        if (ts_ifx_ident (db, ident, sizeof ident)) {
            ts_errf (err, "store.influxdb.database: not a name InfluxQL "
                     "can quote");
            return TS_ECONFIG;
        }
        snprintf (q, sizeof q, "CREATE DATABASE %s", ident);
        rc = s_statement (ifx, q, NULL, err);
    }
    if (rc == 0)
        snprintf (line, size, "influxdb: database %s %s", db,
                  found? "found": "created");
    return rc;
}

//  GET path, then the "id" of the first element of the array key.
static int
s_first_id (ts_ifx_t *ifx, const char *path, const char *key, char *id,
            size_t size, char *err)
{
    json_t *reply = NULL;
    ts_ifx_error_t error;
    int rc = ts_ifx_api (ifx, "GET", path, NULL, &reply, &error, err);
    if (rc && error.http_status == 404)
        rc = 0;                 //  2.x answers 404 for an unknown org
    const char *text = json_string_value (json_object_get (
        json_array_get (json_object_get (reply, key), 0), "id"));
    snprintf (id, size, "%s", text? text: "");
    json_decref (reply);
    return rc;
}

static int
s_bucket (ts_ifx_t *ifx, const char *org, const char *bucket, char *line,
          size_t size, char *err)
{
    char *eorg = curl_escape (org, 0), *ebucket = curl_escape (bucket, 0);
    char path [1024], org_id [128] = "", bucket_id [128] = "";
    snprintf (path, sizeof path, "/api/v2/orgs?org=%s", eorg? eorg: "");
    int rc = s_first_id (ifx, path, "orgs", org_id, sizeof org_id, err);
    if (rc == 0 && !*org_id) {
        ts_errf (err, "store.influxdb.org: org '%s' not found", org);
        rc = TS_ECONFIG;
    }
    if (rc == 0) {
        snprintf (path, sizeof path, "/api/v2/buckets?orgID=%s&name=%s",
                  org_id, ebucket? ebucket: "");
        rc = s_first_id (ifx, path, "buckets", bucket_id, sizeof bucket_id,
                         err);
    }
    curl_free (eorg);
    curl_free (ebucket);
    bool found = *bucket_id != 0;
    if (rc == 0 && !found) {
        json_t *req = json_pack ("{ssss}", "orgID", org_id, "name", bucket);
        char *body = req? json_dumps (req, JSON_COMPACT): NULL;
        json_decref (req);
        rc = body? ts_ifx_api (ifx, "POST", "/api/v2/buckets", body, NULL,
                               NULL, err): TS_ENOMEM;
        free (body);
    }
    if (rc == 0)
        snprintf (line, size, "influxdb: bucket %s of org %s %s", bucket,
                  org, found? "found": "created");
    return rc;
}

int
ts_store_influxdb_init (const ts_config_t *cfg, ts_strlist_t *report,
                        char *err)
{
    if (ts_ifx_roles_check (cfg, err))
        return TS_ECONFIG;
    ts_ifx_t *ifx = ts_ifx_new (cfg, err);
    if (!ifx)
        return TS_ECONFIG;
    char line [512];
    int rc = ts_ifx_v2 (ifx)
           ? s_bucket (ifx, ts_config_str (cfg, "store.influxdb.org"),
                       ts_config_str (cfg, "store.influxdb.bucket"), line,
                       sizeof line, err)
           : s_database (ifx, ts_config_str (cfg, "store.influxdb.database"),
                         line, sizeof line, err);
    if (rc == 0 && report && ts_strlist_append (report, line))
        rc = TS_ENOMEM;
    ts_ifx_destroy (&ifx);
    return rc;
}
