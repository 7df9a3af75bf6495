/*  fuzz_influxdb - what the InfluxDB backend reads from the server
    (common/store/ts_store_influxdb_text.c), and the names it writes
    into line protocol and InfluxQL (ids and measures come from
    clients).

    The first byte picks what the rest is:
        0  a /query answer, parsed as the client parses one (json_loads
           of the body's text), into points (ts_ifx_answer_points,
           capped at 1000) and its error (ts_ifx_answer_error)
        1  an error answer body (ts_ifx_error_text), then the partial
           write check for a 400 and a 422 (ts_ifx_partial)
        2  an id: escaped for line protocol (ts_ifx_escape), as an
           identifier and a literal (ts_ifx_ident, ts_ifx_literal), and
           into the range read and DROP SERIES texts */

#include "fuzz.h"
#include "ts_store_influxdb.h"

static void
s_answer (const char *text)
{
    json_t *doc = json_loads (text, 0, NULL);
    if (!json_is_object (doc)) {
        json_decref (doc);
        return;                     //  s_json's "not a JSON object"
    }
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN];
    if (out && ts_ifx_answer_points (doc, 1000, out, err) == 0
    &&  out->n > 1000)
        abort ();
    ts_ifx_answer_error (doc);
    ts_points_destroy (&out);
    json_decref (doc);
}

static void
s_name (const char *name)
{
    char buf [TS_IFX_QUERY_MAX];
    size_t at = 0;
    ts_ifx_escape (TS_IFX_MEASUREMENT, name, buf, sizeof buf, &at);
    ts_ifx_escape (TS_IFX_KEY, name, buf, sizeof buf, &at);
    if (at >= sizeof buf)
        abort ();
    ts_ifx_ident (name, buf, sizeof buf);
    ts_ifx_literal (name, buf, sizeof buf);
    ts_ifx_select ("history", name, name, INT64_MIN, INT64_MAX, 10, buf);
    ts_ifx_drop ("history", name, buf);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode (&data, &size, 3, &mode))
        return 0;
    char *text = fuzz_cstr (data, size);
    if (!text)
        return 0;
    switch (mode) {
        case 0:
            s_answer (text);
            break;
        case 1: {
            char message [256];
            ts_ifx_error_text (text, size, message, sizeof message);
            ts_ifx_partial (400, message);
            ts_ifx_partial (422, message);
            break;
        }
        default:
            s_name (text);
    }
    free (text);
    return 0;
}
