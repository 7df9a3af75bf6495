/*  ts_store_timestream_init - finds or creates the Timestream backend's
    database and table (store init), on the ingest endpoint: Describe
    first, Create if it is not found (ResourceNotFoundException), and a
    ConflictException from Create (made meanwhile by another) is found
    too. Idempotent; a table found keeps its retention (reported, never
    changed). Declared in ts_store_timestream_init.h. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_store_timestream.h"
#include "ts_store_timestream_init.h"

//  Appends one line to report (may be NULL).
static int
s_report (ts_strlist_t *report, const char *line)
{
    return report && ts_strlist_append (report, line)? TS_ENOMEM: 0;
}

//  Calls op with req (stolen) and reply (may be NULL); *type (96 bytes)
//  gets the error type of a failed call.
static int
s_call (ts_tms_t *tms, const char *op, json_t *req, json_t **reply,
        char *type, char *err)
{
    ts_aws_error_t error;
    int rc = ts_tms_call (tms, TS_TMS_INGEST, op, req, reply, &error, NULL,
                          err);
    snprintf (type, 96, "%s", rc? error.type: "");
    return rc;
}

//  The retention of a table description, as report text.
static void
s_retention_text (const json_t *table, char *buf, size_t size)
{
    const json_t *ret = json_object_get (table, "RetentionProperties");
    const json_t *mag = json_object_get (json_object_get (table,
                            "MagneticStoreWriteProperties"),
                            "EnableMagneticStoreWrites");
    snprintf (buf, size, "memory store %" PRId64 " h, magnetic store %"
              PRId64 " days, magnetic writes %s",
              (int64_t) json_integer_value (json_object_get (ret,
                  "MemoryStoreRetentionPeriodInHours")),
              (int64_t) json_integer_value (json_object_get (ret,
                  "MagneticStoreRetentionPeriodInDays")),
              json_is_true (mag)? "on": "off");
}

static int
s_database (ts_tms_t *tms, const char *db, ts_strlist_t *report, char *err)
{
    char type [96], line [512];
    int rc = s_call (tms, "DescribeDatabase",
                     json_pack ("{ss}", "DatabaseName", db), NULL, type,
                     err);
    if (rc && strcmp (type, "ResourceNotFoundException") == 0) {
        rc = s_call (tms, "CreateDatabase",
                     json_pack ("{ss}", "DatabaseName", db), NULL, type,
                     err);
        if (rc == 0) {
            snprintf (line, sizeof line, "timestream: database %s created",
                      db);
            return s_report (report, line);
        }
        if (strcmp (type, "ConflictException") == 0)
            rc = 0;
    }
    if (rc)
        return rc;
    snprintf (line, sizeof line, "timestream: database %s found", db);
    return s_report (report, line);
}

static int
s_table (ts_tms_t *tms, const ts_config_t *cfg, const char *db,
         const char *table, ts_strlist_t *report, char *err)
{
    char type [96], line [640], retention [160];
    json_t *reply = NULL;
    int rc = s_call (tms, "DescribeTable",
                     json_pack ("{ssss}", "DatabaseName", db, "TableName",
                                table), &reply, type, err);
    if (rc && strcmp (type, "ResourceNotFoundException") == 0) {
        json_t *req = json_pack ("{sssss{sIsI}s{sb}}",
            "DatabaseName", db, "TableName", table,
            "RetentionProperties",
            "MemoryStoreRetentionPeriodInHours", (json_int_t) ts_config_int (
                cfg, "store.timestream.memory_retention_hours"),
            "MagneticStoreRetentionPeriodInDays", (json_int_t) ts_config_int (
                cfg, "store.timestream.magnetic_retention_days"),
            "MagneticStoreWriteProperties", "EnableMagneticStoreWrites",
            (int) ts_config_bool (cfg, "store.timestream.magnetic_writes"));
        s_retention_text (req, retention, sizeof retention);
        rc = s_call (tms, "CreateTable", req, NULL, type, err);
        if (rc == 0) {
            snprintf (line, sizeof line, "timestream: table %s.%s created "
                      "(%s)", db, table, retention);
            return s_report (report, line);
        }
        if (strcmp (type, "ConflictException") == 0) {
            snprintf (line, sizeof line, "timestream: table %s.%s found",
                      db, table);
            return s_report (report, line);
        }
    }
    if (rc)
        return rc;
    s_retention_text (json_object_get (reply, "Table"), retention,
                      sizeof retention);
    json_decref (reply);
    snprintf (line, sizeof line, "timestream: table %s.%s found (%s)", db,
              table, retention);
    return s_report (report, line);
}

int
ts_store_timestream_init (const ts_config_t *cfg, ts_strlist_t *report,
                          char *err)
{
    if (ts_tms_roles_check (cfg, err))
        return TS_ECONFIG;
    ts_tms_t *tms = ts_tms_new (cfg, err);
    if (!tms)
        return TS_ECONFIG;
    const char *db = ts_config_str (cfg, "store.timestream.database");
    int rc = s_database (tms, db, report, err);
    if (rc == 0)
        rc = s_table (tms, cfg, db, ts_config_str (cfg,
                      "store.timestream.table"), report, err);
    if (rc == TS_ENOMEM)
        ts_errf (err, "store.timestream: out of memory");
    ts_tms_destroy (&tms);
    return rc;
}
