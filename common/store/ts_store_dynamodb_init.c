/*  ts_store_dynamodb_init - the DynamoDB backend's client (ts_dyn_client,
    ts_dyn_call: one request, its answer as JSON), and creates (and, for
    tests, deletes) its tables: the registry's (partition key identifier, S) and
    the forecast's (identifier, S; time, N; TTL on expiry), on demand
    (PAY_PER_REQUEST). Idempotent: a table that exists is reported found.
    Declared in ts_store_dynamodb_init.h. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ts_aws.h"
#include "ts_store_dynamodb.h"
#include "ts_store_dynamodb_init.h"

#define S_WAIT_MS   60000       //  longest wait for a table to be ACTIVE
#define S_TARGET    "DynamoDB_20120810."

//  ---------------------------------------------------------------------
//  Requests

int
ts_dyn_call (ts_aws_t *aws, const char *op, json_t *req, json_t **reply,
             char *type, size_t type_size, char *err)
{
    if (reply)
        *reply = NULL;
    if (type)
        *type = 0;
    char *body = req? json_dumps (req, JSON_COMPACT): NULL;
    json_decref (req);
    if (!body) {
        ts_errf (err, "store.dynamodb: out of memory");
        return TS_ENOMEM;
    }
    char target [64];
    snprintf (target, sizeof target, S_TARGET "%s", op);
    char *text = NULL;
    size_t size = 0;
    ts_aws_error_t error = { 0 };
    int rc = ts_aws_call (aws, NULL, target, "application/x-amz-json-1.0",
                          body, strlen (body), &text, &size, &error, err);
    free (body);
    if (rc) {
        if (type)
            snprintf (type, type_size, "%s", error.type);
        return rc;
    }
    json_error_t jerr;
    json_t *doc = json_loadb (text, size, 0, &jerr);
    free (text);
    if (!json_is_object (doc)) {
        json_decref (doc);
        ts_errf (err, "store.dynamodb: %s: answer is not a JSON object",
                 op);
        return TS_EBACKEND;
    }
    if (reply)
        *reply = doc;
    else
        json_decref (doc);
    return 0;
}

ts_aws_t *
ts_dyn_client (const ts_config_t *cfg, char *err)
{
    ts_aws_config_t acfg = {
        .service = "dynamodb",
        .region = ts_config_str (cfg, "store.dynamodb.region"),
        .endpoint = ts_config_str (cfg, "store.dynamodb.endpoint"),
        .what = "store.dynamodb",
        .timeout_ms = (int) ts_config_int (cfg, "store.dynamodb.timeout_ms"),
        .retries = (int) ts_config_int (cfg, "store.dynamodb.retries"),
    };
    return ts_aws_new (&acfg, err);
}

//  ---------------------------------------------------------------------
//  Tables


//  One call; reply may be NULL; type (96 bytes) gets the error type.
static int
s_call (ts_aws_t *aws, const char *op, json_t *req, json_t **reply,
        char *type, char *err)
{
    return ts_dyn_call (aws, op, req, reply, type, 96, err);
}

//  Appends one line to report (may be NULL).
static void
s_report (ts_strlist_t *report, const char *fmt, const char *a,
          const char *b)
{
    char line [512];
    snprintf (line, sizeof line, fmt, a, b);
    if (report)
        ts_strlist_append (report, line);
}

//  Waits until table is ACTIVE.
static int
s_wait_active (ts_aws_t *aws, const char *table, char *err)
{
    char type [96];
    for (int waited = 0; waited < S_WAIT_MS; waited += 100) {
        json_t *reply = NULL;
        int rc = s_call (aws, "DescribeTable",
                         json_pack ("{ss}", "TableName", table), &reply,
                         type, err);
        const char *status = json_string_value (json_object_get (
            json_object_get (reply, "Table"), "TableStatus"));
        bool active = status && strcmp (status, "ACTIVE") == 0;
        json_decref (reply);
        if (rc)
            return rc;
        if (active)
            return 0;
        struct timespec ts = { 0, 100000000L };
        nanosleep (&ts, NULL);
    }
    ts_errf (err, "store.dynamodb: table %s not ACTIVE after %d s", table,
             S_WAIT_MS / 1000);
    return TS_ETIMEOUT;
}

//  Creates one table (sort key time if forecast).
static int
s_create (ts_aws_t *aws, const char *table, bool forecast,
          ts_strlist_t *report, char *err)
{
    char type [96];
    json_t *attrs = json_pack ("[{ssss}]", "AttributeName", "identifier",
                               "AttributeType", "S");
    json_t *keys = json_pack ("[{ssss}]", "AttributeName", "identifier",
                              "KeyType", "HASH");
    if (forecast) {
        json_array_append_new (attrs, json_pack ("{ssss}", "AttributeName",
                               "time", "AttributeType", "N"));
        json_array_append_new (keys, json_pack ("{ssss}", "AttributeName",
                               "time", "KeyType", "RANGE"));
    }
    json_t *req = json_pack ("{sssososs}", "TableName", table,
                             "AttributeDefinitions", attrs,
                             "KeySchema", keys,
                             "BillingMode", "PAY_PER_REQUEST");
    int rc = s_call (aws, "CreateTable", req, NULL, type, err);
    if (rc && strcmp (type, "ResourceInUseException") == 0) {
        s_report (report, "dynamodb: table %s found%s", table, "");
        return s_wait_active (aws, table, err);
    }
    if (rc)
        return rc;
    s_report (report, "dynamodb: table %s created%s", table,
              forecast? " (identifier S, time N)": " (identifier S)");
    rc = s_wait_active (aws, table, err);
    if (rc || !forecast)
        return rc;
    rc = s_call (aws, "UpdateTimeToLive", json_pack ("{sss{sssb}}",
                 "TableName", table, "TimeToLiveSpecification",
                 "AttributeName", "expiry", "Enabled", 1), NULL, type, err);
    if (rc && strcmp (type, "UnknownOperationException") == 0) {
        s_report (report, "dynamodb: table %s: this endpoint has no TTL "
                  "(UpdateTimeToLive unknown)%s", table, "");
        return 0;
    }
    if (rc == 0)
        s_report (report, "dynamodb: table %s: TTL on expiry%s", table, "");
    return rc;
}

int
ts_store_dynamodb_init (const ts_config_t *cfg, ts_strlist_t *report,
                        char *err)
{
    unsigned roles = 0;
    if (ts_dyn_roles (cfg, &roles, err))
        return TS_ECONFIG;
    ts_aws_t *aws = ts_dyn_client (cfg, err);
    if (!aws)
        return TS_ECONFIG;
    int rc = 0;
    if (roles & TS_STORE_REGISTRY)
        rc = s_create (aws, ts_config_str (cfg,
                       "store.dynamodb.registry_table"), false, report, err);
    if (rc == 0 && (roles & TS_STORE_FORECAST))
        rc = s_create (aws, ts_config_str (cfg,
                       "store.dynamodb.forecast_table"), true, report, err);
    ts_aws_destroy (&aws);
    return rc;
}

int
ts_store_dynamodb_drop (const ts_config_t *cfg, char *err)
{
    ts_aws_t *aws = ts_dyn_client (cfg, err);
    if (!aws)
        return TS_ECONFIG;
    const char *keys [] = { "store.dynamodb.registry_table",
                            "store.dynamodb.forecast_table" };
    int rc = 0;
    char type [96];
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = s_call (aws, "DeleteTable", json_pack ("{ss}", "TableName",
                     ts_config_str (cfg, keys [i])), NULL, type, err);
        if (rc && strcmp (type, "ResourceNotFoundException") == 0)
            rc = 0;
    }
    ts_aws_destroy (&aws);
    return rc;
}
