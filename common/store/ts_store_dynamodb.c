/*  ts_store_dynamodb - the DynamoDB backend of the registry and forecast
    roles: requests, paging and batches (ts_store_dynamodb.h; the item
    layout in ts_store_dynamodb_item.c; docs/dynamodb.md).

    Registry: one item per id, its source in attribute "source" (absent:
    the first source). ids_add is one conditional PutItem per id
    (attribute_not_exists), so "added" counts exactly; ids_add_to moves
    a registered id with a conditional UpdateItem (attribute_exists, so
    a removed id is not brought back); ids_remove one conditional
    DeleteItem; ids_page a paginated Scan (the backend's order:
    DynamoDB's hash order), `after` its ExclusiveStartKey.

    Forecast: a replace writes a new generation beside the one readers
    take, then moves the id's head to it, then deletes the previous
    generation's items: the new points go in the other slot of their sort
    key (ts_dyn_time_text), so the generation readers take is never
    overwritten. A reader takes the head, queries the range and keeps the
    items of the head's generation, then takes the head again: if it
    moved meanwhile, it reads again. So a reader sees a forecast whole,
    the previous one or the new one, never a mix, on any DynamoDB (no
    transactions needed: dynalite has none). Two writers replacing the
    same id at the same moment are not expected (the broker leases an id
    to one worker); the last head written wins. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ts_aws.h"
#include "ts_store_dynamodb.h"
#include "ts_store_dynamodb_init.h"

#define S_BATCH         25      //  items per BatchWriteItem
#define S_BATCH_TRIES   8       //  attempts of a batch's unprocessed items
#define S_READ_TRIES    16      //  reads of a forecast that keeps moving

//  ---------------------------------------------------------------------
//  Requests (ts_dyn_call and ts_dyn_client: ts_store_dynamodb_init.c)

//  One call of self's client (ts_dyn_call).
static int
s_call (ts_dyn_t *self, const char *op, json_t *req, json_t **reply,
        char *type, size_t type_size, char *err)
{
    return ts_dyn_call (self->aws, op, req, reply, type, type_size, err);
}

static void
s_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

//  Writes requests (PutRequest / DeleteRequest objects) into table, 25 a
//  BatchWriteItem; UnprocessedItems are sent again with backoff.
static int
s_batch_write (ts_dyn_t *self, const char *table, const json_t *requests,
               char *err)
{
    size_t n = json_array_size (requests);
    for (size_t at = 0; at < n; at += S_BATCH) {
        json_t *chunk = json_array ();
        for (size_t i = at; i < n && i < at + S_BATCH; i++)
            json_array_append (chunk, json_array_get (requests, i));
        for (int attempt = 0; ; attempt++) {
            json_t *reply = NULL;
            int rc = s_call (self, "BatchWriteItem",
                             json_pack ("{s{sO}}", "RequestItems", table,
                                        chunk), &reply, NULL, 0, err);
            json_t *left = rc? NULL: json_object_get (
                json_object_get (reply, "UnprocessedItems"), table);
            size_t n_left = json_array_size (left);
            if (rc == 0 && n_left > 0) {
                json_incref (left);
                json_decref (chunk);
                chunk = left;
            }
            json_decref (reply);
            if (rc) {
                json_decref (chunk);
                return rc;
            }
            if (n_left == 0)
                break;
            if (attempt + 1 >= S_BATCH_TRIES) {
                ts_errf (err, "store.dynamodb: %s: %zu items still "
                         "unprocessed after %d BatchWriteItem attempts",
                         table, n_left, S_BATCH_TRIES);
                json_decref (chunk);
                return TS_EBACKEND;
            }
            long cap = 20L << attempt;
            s_sleep_ms (cap / 2 + rand () % (cap / 2 + 1));
        }
        json_decref (chunk);
    }
    return 0;
}

//  Calls op (Query or Scan) with req (stolen) page after page, handing
//  every item to fn; stops early if fn returns non-zero.
typedef int (s_item_fn) (void *ctx, const json_t *item);

static int
s_pages (ts_dyn_t *self, const char *op, json_t *req, s_item_fn *fn,
         void *ctx, char *err)
{
    int rc = 0;
    while (rc == 0) {
        json_t *reply = NULL;
        rc = s_call (self, op, json_incref (req), &reply, NULL, 0, err);
        if (rc)
            break;
        json_t *items = json_object_get (reply, "Items");
        for (size_t i = 0; i < json_array_size (items) && rc == 0; i++)
            rc = fn (ctx, json_array_get (items, i));
        json_t *last = json_object_get (reply, "LastEvaluatedKey");
        if (rc == 0 && last)
            json_object_set (req, "ExclusiveStartKey", last);
        json_decref (reply);
        if (!last)
            break;
    }
    json_decref (req);
    if (rc > 0)
        rc = 0;
    return rc;
}

//  ---------------------------------------------------------------------
//  Open, close

//  Whether the role named role is served by dynamodb in cfg.
static bool
s_serves (const ts_config_t *cfg, const char *role)
{
    char key [64];
    snprintf (key, sizeof key, "store.%s.backend", role);
    const char *name = ts_config_str (cfg, key);
    if (!*name)
        name = ts_config_str (cfg, "store.backend");
    return strcmp (name, "dynamodb") == 0;
}

int
ts_dyn_roles (const ts_config_t *cfg, unsigned *roles, char *err)
{
    *roles = 0;
    if (s_serves (cfg, "history")) {
        ts_errf (err, "store.history.backend: dynamodb serves registry and "
                 "forecast only");
        return TS_ECONFIG;
    }
    if (s_serves (cfg, "registry"))
        *roles |= TS_STORE_REGISTRY;
    if (s_serves (cfg, "forecast"))
        *roles |= TS_STORE_FORECAST;
    return 0;
}

static void
s_close (void *state)
{
    ts_dyn_t *self = state;
    if (self) {
        ts_aws_destroy (&self->aws);
        free (self);
    }
}

static void *
s_open (const ts_config_t *cfg, char *err)
{
    unsigned roles = 0;
    if (ts_dyn_roles (cfg, &roles, err))
        return NULL;
    ts_dyn_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "store.dynamodb: out of memory");
        return NULL;
    }
    self->roles = roles;
    snprintf (self->registry, sizeof self->registry, "%s",
              ts_config_str (cfg, "store.dynamodb.registry_table"));
    snprintf (self->forecast, sizeof self->forecast, "%s",
              ts_config_str (cfg, "store.dynamodb.forecast_table"));
    self->aws = ts_dyn_client (cfg, err);
    if (!self->aws) {
        s_close (self);
        return NULL;
    }
    return self;
}

//  The AWS plumbing's libraries (jansson among them).
static const char *
s_libraries (void)
{
    return ts_aws_libraries ();
}

//  ---------------------------------------------------------------------
//  Registry

static json_t *
s_id_key (const char *id)
{
    return json_pack ("{s{ss}}", "identifier", "S", id);
}

//  Sets registered id's source ("" removes it): the move of ids_add_to.
static int
s_id_move (ts_dyn_t *self, const char *id, const char *source, char *err)
{
    char type [96];
    json_t *req = json_pack ("{sssos{ssss}ss}", "TableName", self->registry,
                             "Key", s_id_key (id),
                             "ExpressionAttributeNames", "#k", "identifier",
                             "#s", "source",
                             "ConditionExpression", "attribute_exists(#k)");
    if (req && *source) {
        json_object_set_new (req, "UpdateExpression",
                             json_string ("SET #s = :s"));
        json_object_set_new (req, "ExpressionAttributeValues",
                             json_pack ("{s{ss}}", ":s", "S", source));
    }
    else
    if (req)
        json_object_set_new (req, "UpdateExpression",
                             json_string ("REMOVE #s"));
    int rc = s_call (self, "UpdateItem", req, NULL, type, sizeof type, err);
    if (rc && strcmp (type, "ConditionalCheckFailedException") == 0)
        return 0;               //  removed meanwhile: stays removed
    return rc;
}

static int
s_ids_add_to (void *state, const char *const *ids, size_t n,
              const char *source, size_t *added, char *err)
{
    ts_dyn_t *self = state;
    char type [96];
    for (size_t i = 0; i < n; i++) {
        json_t *item = s_id_key (ids [i]);
        if (item && source && *source)
            json_object_set_new (item, "source",
                                 json_pack ("{ss}", "S", source));
        json_t *req = json_pack ("{sssos{ss}ss}", "TableName", self->registry,
                                 "Item", item,
                                 "ExpressionAttributeNames", "#k",
                                 "identifier", "ConditionExpression",
                                 "attribute_not_exists(#k)");
        int rc = s_call (self, "PutItem", req, NULL, type, sizeof type, err);
        if (rc && strcmp (type, "ConditionalCheckFailedException") == 0) {
            rc = source? s_id_move (self, ids [i], source, err): 0;
            if (rc)
                return rc;
            continue;
        }
        if (rc)
            return rc;
        if (added)
            (*added)++;
    }
    return 0;
}

static int
s_ids_add (void *state, const char *const *ids, size_t n, size_t *added,
           char *err)
{
    return s_ids_add_to (state, ids, n, NULL, added, err);
}

//  The source an item names, "" for none.
static const char *
s_item_source (const json_t *item)
{
    const char *source = json_string_value (
        json_object_get (json_object_get (item, "source"), "S"));
    return source && strlen (source) <= TS_NAME_MAX? source: "";
}

static int
s_ids_source (void *state, const char *id, bool *exists, char *source,
              char *err)
{
    ts_dyn_t *self = state;
    json_t *reply = NULL;
    json_t *req = json_pack ("{sssosbsss{ssss}}", "TableName", self->registry,
                             "Key", s_id_key (id), "ConsistentRead", 1,
                             "ProjectionExpression", "#k, #s",
                             "ExpressionAttributeNames", "#k", "identifier",
                             "#s", "source");
    int rc = s_call (self, "GetItem", req, &reply, NULL, 0, err);
    json_t *item = rc == 0? json_object_get (reply, "Item"): NULL;
    *exists = item != NULL;
    if (source)
        snprintf (source, TS_NAME_MAX + 1, "%s", s_item_source (item));
    json_decref (reply);
    return rc;
}

static int
s_ids_exists (void *state, const char *id, bool *exists, char *err)
{
    return s_ids_source (state, id, exists, NULL, err);
}

//  Collects ids of a Scan page (ctx: the page).
typedef struct {
    ts_strlist_t *out;
    ts_strlist_t *sources;      //  each id's source, or NULL
    ts_store_status_fn *each;   //  given each id's fetch status, or NULL
    void         *arg;
    char         *err;
    size_t        limit;        //  ids wanted
    size_t        got;          //  ids seen, up to limit + 1
} s_page_t;

static int
s_page_item (void *ctx, const json_t *item)
{
    s_page_t *page = ctx;
    const char *id = json_string_value (
        json_object_get (json_object_get (item, "identifier"), "S"));
    if (!id || !ts_name_existing (id))
        return 0;               //  not an id tscache could have written
    if (page->got++ == page->limit)
        return 1;               //  one past the page: more follow
    if (ts_strlist_append (page->out, id)
    ||  (page->sources
    &&   ts_strlist_append (page->sources, s_item_source (item)))) {
        ts_errf (page->err, "store.dynamodb: out of memory");
        return TS_ENOMEM;
    }
    if (page->each) {
        ts_store_status_t status;
        ts_dyn_status_of (item, &status);
        int rc = page->each (page->arg, page->got - 1, &status, page->err);
        //  s_pages takes a positive return for "stop, no error".
        return rc > 0? TS_EINVAL: rc;
    }
    return 0;
}

static int
s_ids_page_sources (void *state, const char *after, size_t limit,
                    ts_strlist_t *out, ts_strlist_t *sources,
                    ts_store_status_fn *each, void *arg, bool *more,
                    char *err)
{
    ts_dyn_t *self = state;
    s_page_t page = { out, sources, each, arg, err, limit, 0 };
    //  The status attributes come with the page (ts_store_dynamodb_status)
    //  when asked for: a Scan reads whole items anyway (its read units
    //  count item sizes, not the projection), the projection trims only
    //  the reply.
    json_t *req = json_pack ("{sssIsbsss{ssss}}", "TableName",
                             self->registry,
                             "Limit", (json_int_t) (limit < 1000? limit + 1:
                                                    1000),
                             "ConsistentRead", 1,
                             "ProjectionExpression", "#k, #s",
                             "ExpressionAttributeNames", "#k", "identifier",
                             "#s", "source");
    if (!req || (each && ts_dyn_status_project (req))) {
        json_decref (req);
        ts_errf (err, "store.dynamodb: out of memory");
        return TS_ENOMEM;
    }
    if (after)
        json_object_set_new (req, "ExclusiveStartKey", s_id_key (after));
    int rc = s_pages (self, "Scan", req, s_page_item, &page, err);
    *more = rc == 0 && page.got > limit;
    return rc;
}

static int
s_ids_page (void *state, const char *after, size_t limit, ts_strlist_t *out,
            bool *more, char *err)
{
    return s_ids_page_sources (state, after, limit, out, NULL, NULL, NULL,
                               more, err);
}

//  ---------------------------------------------------------------------
//  Forecast

static json_t *
s_point_key (const char *id, const char *time_text)
{
    return json_pack ("{s{ss}s{ss}}", "identifier", "S", id,
                      "time", "N", time_text);
}

//  What a Query of all of an id's items found: its head's generation and
//  the sort keys of its other items.
typedef struct {
    int64_t  gen;           //  head_gen, 0 if no head
    bool     head;          //  the id has a head item
    json_t  *keys;          //  array of sort key texts (point items)
} s_items_t;

static int
s_items_item (void *ctx, const json_t *item)
{
    s_items_t *items = ctx;
    if (json_object_get (item, "head_gen")) {
        items->head = true;
        items->gen = ts_dyn_attr_int (item, "head_gen", 0);
        return 0;
    }
    json_t *t = json_object_get (json_object_get (item, "time"), "N");
    return t && json_array_append (items->keys, t)? TS_ENOMEM: 0;
}

//  Queries every item of id in the forecast table (keys only).
static int
s_items_of (ts_dyn_t *self, const char *id, s_items_t *items, char *err)
{
    items->gen = 0;
    items->head = false;
    items->keys = json_array ();
    json_t *req = json_pack ("{sssbsss{ssss}s{s{ss}}ss}",
                             "TableName", self->forecast,
                             "ConsistentRead", 1,
                             "ProjectionExpression", "#t, head_gen",
                             "ExpressionAttributeNames", "#k", "identifier",
                             "#t", "time",
                             "ExpressionAttributeValues", ":id", "S", id,
                             "KeyConditionExpression", "#k = :id");
    return s_pages (self, "Query", req, s_items_item, items, err);
}

//  The generation readers take for id: head_gen, 0 if no head.
static int
s_head_gen (ts_dyn_t *self, const char *id, int64_t *gen, char *err)
{
    json_t *reply = NULL;
    json_t *req = json_pack ("{sssosbss}", "TableName", self->forecast,
                             "Key", s_point_key (id, TS_DYN_HEAD_TIME),
                             "ConsistentRead", 1,
                             "ProjectionExpression", "head_gen");
    int rc = s_call (self, "GetItem", req, &reply, NULL, 0, err);
    *gen = ts_dyn_attr_int (json_object_get (reply, "Item"), "head_gen", 0);
    json_decref (reply);
    return rc;
}

//  A sort key's canonical text (ts_dyn_number_canon).
typedef struct {
    char text [TS_DYN_NUMLEN + 16];
} s_canon_t;

static int
s_canon_cmp (const void *a, const void *b)
{
    return strcmp (((const s_canon_t *) a)->text,
                   ((const s_canon_t *) b)->text);
}

//  Appends DeleteRequests of id's keys (texts) not in keep (may be NULL)
//  to dels. keep is sorted once and searched: a replace of n items by m
//  costs O((n + m) log m), not n * m comparisons.
static int
s_deletes (const char *id, const json_t *keys, const json_t *keep,
           json_t *dels)
{
    size_t m = json_array_size (keep);
    s_canon_t *kept = m? malloc (m * sizeof *kept): NULL;
    if (m && !kept)
        return TS_ENOMEM;
    size_t n_kept = 0;
    for (size_t j = 0; j < m; j++)
        if (ts_dyn_number_canon (json_string_value (json_array_get (keep, j)),
                                 kept [n_kept].text, sizeof kept [0].text))
            n_kept++;
    //  Nothing kept (keep NULL, or no key of it a number): kept is NULL,
    //  which qsort must not be given even for no element.
    if (n_kept > 1)
        qsort (kept, n_kept, sizeof *kept, s_canon_cmp);
    int rc = 0;
    for (size_t i = 0; i < json_array_size (keys) && rc == 0; i++) {
        const char *key = json_string_value (json_array_get (keys, i));
        s_canon_t canon;
        if (!ts_dyn_number_canon (key, canon.text, sizeof canon.text)
        ||  (n_kept && bsearch (&canon, kept, n_kept, sizeof *kept,
                                s_canon_cmp)))
            continue;
        if (json_array_append_new (dels, json_pack ("{s{so}}",
                "DeleteRequest", "Key", s_point_key (id, key))))
            rc = TS_ENOMEM;
    }
    free (kept);
    return rc;
}

//  Deletes everything the forecast table holds of id: the head first, so
//  that readers see no forecast at once.
static int
s_forget_forecast (ts_dyn_t *self, const char *id, char *err)
{
    s_items_t items;
    int rc = s_items_of (self, id, &items, err);
    if (rc == 0 && items.head)
        rc = s_call (self, "DeleteItem",
                     json_pack ("{ssso}", "TableName", self->forecast,
                                "Key", s_point_key (id, TS_DYN_HEAD_TIME)),
                     NULL, NULL, 0, err);
    json_t *dels = json_array ();
    if (rc == 0 && s_deletes (id, items.keys, NULL, dels)) {
        ts_errf (err, "store.dynamodb: out of memory");
        rc = TS_ENOMEM;
    }
    if (rc == 0)
        rc = s_batch_write (self, self->forecast, dels, err);
    json_decref (dels);
    json_decref (items.keys);
    return rc;
}

static int
s_forget (void *state, unsigned roles, const char *id, char *err)
{
    ts_dyn_t *self = state;
    if ((roles & TS_STORE_FORECAST) && (self->roles & TS_STORE_FORECAST))
        return s_forget_forecast (self, id, err);
    return 0;
}

static int
s_ids_remove (void *state, const char *id, char *err)
{
    ts_dyn_t *self = state;
    char type [96];
    json_t *req = json_pack ("{sssos{ss}ss}", "TableName", self->registry,
                             "Key", s_id_key (id),
                             "ExpressionAttributeNames", "#k", "identifier",
                             "ConditionExpression", "attribute_exists(#k)");
    int rc = s_call (self, "DeleteItem", req, NULL, type, sizeof type, err);
    if (rc && strcmp (type, "ConditionalCheckFailedException") == 0) {
        ts_errf (err, "id '%s' is not registered", id);
        return TS_ENOTFOUND;
    }
    if (rc == 0 && (self->roles & TS_STORE_FORECAST))
        rc = s_forget_forecast (self, id, err);
    return rc;
}

//  Replaces the forecasts of docs (those whose forecast is not NULL; of
//  an id given twice, the last): every new generation's items, then
//  every head, then the previous generations' items are deleted.
static int
s_write (void *state, const ts_store_doc_t *docs, size_t n,
         int64_t expires_ms, char *err)
{
    ts_dyn_t *self = state;
    json_t *puts = json_array (), *heads = json_array (),
           *dels = json_array ();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const ts_store_doc_t *doc = &docs [i];
        if (doc->history && doc->history->n > 0) {
            ts_errf (err, "store.dynamodb: serves no history");
            rc = TS_EBACKEND;
            break;
        }
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++)
            later = docs [j].forecast && strcmp (docs [j].id, doc->id) == 0;
        if (!doc->forecast || later)
            continue;
        s_items_t items;
        rc = s_items_of (self, doc->id, &items, err);
        //  An id that never had a forecast and gets none: nothing to do.
        bool touch = items.head || json_array_size (items.keys)
                  || doc->forecast->n;
        json_t *keys = json_array ();
        if (rc == 0 && touch)
            rc = ts_dyn_forecast_items (doc->id, doc->forecast,
                                        items.gen + 1, expires_ms, puts,
                                        keys, err);
        if (rc == 0 && touch
        &&  (json_array_append_new (heads, ts_dyn_head_request (doc->id,
                                    items.gen + 1, expires_ms))
        ||   s_deletes (doc->id, items.keys, keys, dels))) {
            ts_errf (err, "store.dynamodb: out of memory");
            rc = TS_ENOMEM;
        }
        json_decref (keys);
        json_decref (items.keys);
    }
    if (rc == 0)
        rc = s_batch_write (self, self->forecast, puts, err);
    if (rc == 0)
        rc = s_batch_write (self, self->forecast, heads, err);
    if (rc == 0)
        rc = s_batch_write (self, self->forecast, dels, err);
    json_decref (puts);
    json_decref (heads);
    json_decref (dels);
    return rc;
}

static int
s_forecast_replace (void *state, const char *id, const ts_points_t *pts,
                    int64_t expires_ms, char *err)
{
    ts_store_doc_t doc = { id, NULL, pts, 0 };
    return s_write (state, &doc, 1, expires_ms, err);
}

//  Collects the points of a range's items (ctx).
typedef struct {
    int64_t      gen;
    const char  *measure;
    int64_t      from_ms, to_ms, now_ms;
    ts_points_t *out;
} s_range_t;

static int
s_range_item (void *ctx, const json_t *item)
{
    s_range_t *range = ctx;
    return ts_dyn_item_points (item, range->gen, range->measure,
                               range->from_ms, range->to_ms, range->now_ms,
                               range->out);
}

static int
s_forecast_range (void *state, const char *id, const char *measure,
                  int64_t from_ms, int64_t to_ms, int64_t now_ms,
                  ts_points_t *out, char *err)
{
    ts_dyn_t *self = state;
    char from [TS_DYN_NUMLEN], to [TS_DYN_NUMLEN];
    ts_dyn_bound_text (from_ms, false, from);
    ts_dyn_bound_text (to_ms, true, to);
    ts_points_t *pts = ts_points_new ();
    if (!pts) {
        ts_errf (err, "store.dynamodb: out of memory");
        return TS_ENOMEM;
    }
    int rc = 0;
    int64_t gen = 0, again = 0;
    for (int attempt = 0; ; attempt++) {
        ts_points_clear (pts);
        rc = s_head_gen (self, id, &gen, err);
        s_range_t range = { gen, measure, from_ms, to_ms, now_ms, pts };
        json_t *req = json_pack ("{sssbs{ssss}s{s{ss}s{ss}s{ss}}ss}",
            "TableName", self->forecast, "ConsistentRead", 1,
            "ExpressionAttributeNames", "#k", "identifier", "#t", "time",
            "ExpressionAttributeValues", ":id", "S", id, ":a", "N", from,
            ":b", "N", to,
            "KeyConditionExpression", "#k = :id AND #t BETWEEN :a AND :b");
        if (rc == 0)
            rc = s_pages (self, "Query", req, s_range_item, &range, err);
        else
            json_decref (req);
        if (rc == 0)
            rc = s_head_gen (self, id, &again, err);
        if (rc || again == gen)
            break;
        if (attempt + 1 >= S_READ_TRIES) {
            ts_errf (err, "store.dynamodb: forecast of '%s' replaced during "
                     "each of %d reads", id, S_READ_TRIES);
            rc = TS_EBACKEND;
            break;
        }
    }
    if (rc == 0)
        rc = ts_points_sort (pts);
    for (size_t i = 0; i < pts->n && rc == 0; i++)
        rc = ts_points_append_from (out, pts, i);
    if (rc == TS_ENOMEM || rc == TS_ETOOBIG)
        ts_errf (err, "store.dynamodb: forecast of '%s': %s", id,
                 rc == TS_ENOMEM? "out of memory": "too many measures");
    ts_points_destroy (&pts);
    return rc;
}

//  Deletes expired items found by a Scan (ctx).
typedef struct {
    ts_dyn_t *self;
    int64_t  now_ms;
    size_t   removed;       //  points in them
    json_t  *dels;
} s_expire_t;

static int
s_expire_item (void *ctx, const json_t *item)
{
    s_expire_t *expire = ctx;
    if (!ts_dyn_item_expired (item, expire->now_ms))
        return 0;
    expire->removed += ts_dyn_item_count (item);
    json_t *key = json_pack ("{sOsO}",
                             "identifier", json_object_get (item, "identifier"),
                             "time", json_object_get (item, "time"));
    return json_array_append_new (expire->dels, json_pack ("{s{so}}",
                                  "DeleteRequest", "Key", key))? TS_ENOMEM: 0;
}

//  DynamoDB's TTL deletes expired items itself, up to days late; this
//  deletes them now (a Scan of the whole table: for tests and operators,
//  not for a worker's every cycle).
static int
s_expire (void *state, int64_t now_ms, size_t *removed, char *err)
{
    ts_dyn_t *self = state;
    s_expire_t expire = { self, now_ms, 0, json_array () };
    int rc = s_pages (self, "Scan", json_pack ("{sssb}", "TableName",
                      self->forecast, "ConsistentRead", 1),
                      s_expire_item, &expire, err);
    if (rc == 0)
        rc = s_batch_write (self, self->forecast, expire.dels, err);
    json_decref (expire.dels);
    if (removed)
        *removed = rc == 0? expire.removed: 0;
    return rc;
}

static int
s_no_history_put (void *state, const char *id, const ts_points_t *pts,
                  char *err)
{
    ts_errf (err, "store.dynamodb: serves no history");
    return TS_EBACKEND;
}

static int
s_no_history_range (void *state, const char *id, const char *measure,
                    int64_t from_ms, int64_t to_ms, size_t max,
                    ts_points_t *out, char *err)
{
    ts_errf (err, "store.dynamodb: serves no history");
    return TS_EBACKEND;
}

const ts_store_ops_t ts_store_dynamodb_ops = {
    .name = "dynamodb",
    .caps = TS_STORE_CAP_TTL | TS_STORE_CAP_FORGET,
    .libraries = s_libraries,
    .open = s_open,
    .close = s_close,
    .ids_add = s_ids_add,
    .ids_remove = s_ids_remove,
    .forget = s_forget,
    .ids_page = s_ids_page,
    .ids_exists = s_ids_exists,
    .ids_add_to = s_ids_add_to,
    .ids_page_sources = s_ids_page_sources,
    .ids_source = s_ids_source,
    .ids_status = ts_dyn_ids_status,
    .ids_mark = ts_dyn_ids_mark,
    .history_put = s_no_history_put,
    .history_range = s_no_history_range,
    .forecast_replace = s_forecast_replace,
    .forecast_range = s_forecast_range,
    .write = s_write,
    .read = NULL,
    .release = NULL,
    .stamp = NULL,
    .expire = s_expire,
    .init = ts_store_dynamodb_init,
};
