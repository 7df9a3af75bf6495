/*  fuzz_dynamodb - what the DynamoDB backend reads from the service
    (common/store/ts_store_dynamodb*.c, common/aws/ts_aws.c).

    The first byte picks what the rest is:
        0  a Query, Scan or GetItem answer, read as the backend reads
           one: every item of "Items" (and "Item") through the forecast
           reader (ts_dyn_item_points, for its own generation and for
           the seed's items, every measure and one), ts_dyn_item_count,
           ts_dyn_item_expired, head_gen, and each item's sort key
           through ts_dyn_time_ms and ts_dyn_number_canon
        1  an error answer body (ts_aws_error_parse)
        2  a DynamoDB number's text (ts_dyn_time_ms, ts_dyn_number_canon) */

#include "fuzz.h"
#include "ts_store_dynamodb.h"

#define S_NOW_MS 1732406400000LL

static void
s_number (const char *text)
{
    int64_t time_ms;
    char canon [TS_DYN_NUMLEN + 16];
    ts_dyn_time_ms (text, &time_ms);
    ts_dyn_number_canon (text, canon, sizeof canon);
}

static void
s_item (const json_t *item, ts_points_t *out)
{
    int64_t gen = ts_dyn_attr_int (item, "gen", 0);
    ts_dyn_item_points (item, gen, NULL, INT64_MIN, INT64_MAX, S_NOW_MS, out);
    ts_dyn_item_points (item, 0, "value", 0, S_NOW_MS, S_NOW_MS, out);
    ts_dyn_item_count (item);
    ts_dyn_item_expired (item, S_NOW_MS);
    ts_dyn_attr_int (item, "head_gen", 0);
    const char *time = json_string_value (
        json_object_get (json_object_get (item, "time"), "N"));
    if (time)
        s_number (time);
}

static void
s_answer (const char *text, size_t size)
{
    json_t *doc = json_loadb (text, size, 0, NULL);
    if (!json_is_object (doc)) {
        json_decref (doc);
        return;                     //  ts_dyn_call's "not a JSON object"
    }
    ts_points_t *out = ts_points_new ();
    if (out) {
        json_t *items = json_object_get (doc, "Items");
        for (size_t i = 0; i < json_array_size (items); i++)
            s_item (json_array_get (items, i), out);
        json_t *item = json_object_get (doc, "Item");
        if (item)
            s_item (item, out);
        ts_points_sort (out);
    }
    ts_points_destroy (&out);
    json_decref (doc);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode (&data, &size, 3, &mode))
        return 0;
    const char *text = (const char *) data;
    switch (mode) {
        case 0:
            s_answer (text, size);
            break;
        case 1: {
            ts_aws_error_t error;
            ts_aws_error_parse (400, text, size, "x-amzn-ErrorType", &error);
            break;
        }
        default: {
            char *number = fuzz_cstr (data, size);
            if (number)
                s_number (number);
            free (number);
        }
    }
    return 0;
}
