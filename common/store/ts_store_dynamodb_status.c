/*  ts_store_dynamodb_status - the fetch status of ids in the DynamoDB
    backend: attributes of the id's registry item (docs/dynamodb.md).

        fetch_ok_ms        (N) last successful fetch, epoch ms
        fetch_attempt_ms   (N) last fetch that ended
        fetch_error_ms     (N) last failure after fetch_ok_ms
        fetch_error        (S) its detail
        fetch_kind         (S) its kind
        not_found_until_ms (N) negative-cached 404 until

    Absent attributes read as 0 or "" (an item written before statuses
    was never fetched). A mark is one UpdateItem per id with the condition
    that the item exists (a mark never registers an id) and that its
    attempt is not newer (ts_store_status_apply's rule, kept by DynamoDB
    itself, so two workers' marks need no read first); a mark the
    condition refuses is ignored. Removing the id deletes the item, so
    its status; ids_add_to's move updates only "source", so it keeps it.
    Empty texts and zero times are REMOVEd, not written (empty strings
    are not accepted by every DynamoDB: dynalite). */

#include <stdio.h>
#include <string.h>

#include "ts_store_dynamodb.h"

//  Copies string attribute name of item into buf (size bytes; "" if
//  absent).
static void
s_text (const json_t *item, const char *name, char *buf, size_t size)
{
    const char *text = json_string_value (
        json_object_get (json_object_get (item, name), "S"));
    snprintf (buf, size, "%s", text? text: "");
}

void
ts_dyn_status_of (const json_t *item, ts_store_status_t *status)
{
    memset (status, 0, sizeof *status);
    status->ok_ms = ts_dyn_attr_int (item, "fetch_ok_ms", 0);
    status->attempt_ms = ts_dyn_attr_int (item, "fetch_attempt_ms", 0);
    status->error_ms = ts_dyn_attr_int (item, "fetch_error_ms", 0);
    status->not_found_until_ms = ts_dyn_attr_int (item, "not_found_until_ms",
                                                  0);
    s_text (item, "fetch_error", status->error, sizeof status->error);
    s_text (item, "fetch_kind", status->kind, sizeof status->kind);
}

int
ts_dyn_status_project (json_t *req)
{
    static const char *const pairs [][2] = {
        { "#fo", "fetch_ok_ms" }, { "#fa", "fetch_attempt_ms" },
        { "#fe", "fetch_error_ms" }, { "#fx", "fetch_error" },
        { "#fk", "fetch_kind" }, { "#fn", "not_found_until_ms" }
    };
    json_t *names = json_object_get (req, "ExpressionAttributeNames");
    json_t *projection = json_object_get (req, "ProjectionExpression");
    char text [256];
    ts_strlcpy (text, json_string_value (projection), sizeof text);
    for (size_t i = 0; i < sizeof pairs / sizeof pairs [0]; i++) {
        //  Short names of a fixed table: text always has room.
        strncat (text, ", ", sizeof text - strlen (text) - 1);
        strncat (text, pairs [i][0], sizeof text - strlen (text) - 1);
        if (json_object_set_new (names, pairs [i][0],
                                 json_string (pairs [i][1])))
            return TS_ENOMEM;
    }
    return json_string_set (projection, text)? TS_ENOMEM: 0;
}

int
ts_dyn_ids_status (void *state, const char *id, bool *exists,
                   ts_store_status_t *status, char *err)
{
    ts_dyn_t *self = state;
    memset (status, 0, sizeof *status);
    json_t *reply = NULL;
    json_t *req = json_pack ("{sss{s{ss}}sb}", "TableName", self->registry,
                             "Key", "identifier", "S", id,
                             "ConsistentRead", 1);
    int rc = ts_dyn_call (self->aws, "GetItem", req, &reply, NULL, 0, err);
    json_t *item = rc == 0? json_object_get (reply, "Item"): NULL;
    *exists = item != NULL;
    if (item)
        ts_dyn_status_of (item, status);
    json_decref (reply);
    return rc;
}

//  Appends "#name = :name" to set or "#name" to remove (", " between),
//  naming attr; value (NULL: remove) goes in values.
static void
s_part (char *set, char *remove, size_t size, json_t *names, json_t *values,
        const char *name, const char *attr, json_t *value)
{
    char *text = value? set: remove;
    size_t len = strlen (text);
    if (value)
        snprintf (text + len, size - len, "%s#%s = :%s", len? ", ": "",
                  name, name);
    else
        snprintf (text + len, size - len, "%s#%s", len? ", ": "", name);
    char key [40];
    snprintf (key, sizeof key, "#%s", name);
    json_object_set_new (names, key, json_string (attr));
    if (value) {
        snprintf (key, sizeof key, ":%s", name);
        json_object_set_new (values, key, value);
    }
}

static json_t *
s_number (int64_t v)
{
    char text [24];
    snprintf (text, sizeof text, "%lld", (long long) v);
    return json_pack ("{ss}", "N", text);
}

//  The UpdateItem request of one mark.
static json_t *
s_mark_request (ts_dyn_t *self, const ts_store_mark_t *mark)
{
    json_t *names = json_pack ("{ssss}", "#id", "identifier",
                               "#at", "fetch_attempt_ms");
    json_t *values = json_pack ("{so}", ":at", s_number (mark->at_ms));
    char set [256] = "#at = :at", remove [256] = "";
    if (mark->ok)
        s_part (set, remove, sizeof set, names, values, "ok", "fetch_ok_ms",
                s_number (mark->at_ms));
    s_part (set, remove, sizeof set, names, values, "em", "fetch_error_ms",
            mark->ok? NULL: s_number (mark->at_ms));
    char text [TS_ERRLEN];
    snprintf (text, sizeof text, "%s", mark->detail? mark->detail: "");
    s_part (set, remove, sizeof set, names, values, "e", "fetch_error",
            mark->ok || !*text? NULL: json_pack ("{ss}", "S", text));
    char kind [sizeof ((ts_store_status_t *) 0)->kind];
    snprintf (kind, sizeof kind, "%s", mark->kind? mark->kind: "");
    s_part (set, remove, sizeof set, names, values, "k", "fetch_kind",
            mark->ok || !*kind? NULL: json_pack ("{ss}", "S", kind));
    s_part (set, remove, sizeof set, names, values, "nf",
            "not_found_until_ms", mark->ok || mark->not_found_until_ms <= 0
            ? NULL: s_number (mark->not_found_until_ms));
    char update [600];
    snprintf (update, sizeof update, "SET %s%s%s", set, *remove? " REMOVE ":
              "", remove);
    return json_pack ("{sss{s{ss}}sssssoso}", "TableName", self->registry,
                      "Key", "identifier", "S", mark->id,
                      "UpdateExpression", update,
                      "ConditionExpression", "attribute_exists(#id) AND "
                      "(attribute_not_exists(#at) OR #at <= :at)",
                      "ExpressionAttributeNames", names,
                      "ExpressionAttributeValues", values);
}

int
ts_dyn_ids_mark (void *state, const ts_store_mark_t *marks, size_t n,
                 char *err)
{
    ts_dyn_t *self = state;
    for (size_t i = 0; i < n; i++) {
        json_t *req = s_mark_request (self, &marks [i]);
        if (!req) {
            ts_errf (err, "store.dynamodb: out of memory");
            return TS_ENOMEM;
        }
        char type [96] = "";
        int rc = ts_dyn_call (self->aws, "UpdateItem", req, NULL, type,
                              sizeof type, err);
        if (rc && strcmp (type, "ConditionalCheckFailedException") == 0)
            rc = 0;             //  not registered, or a later attempt
        if (rc)
            return rc;
    }
    return 0;
}
