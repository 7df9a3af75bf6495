/*  fuzz_timestream - what the Timestream backend reads from the service
    (common/store/ts_store_timestream_text.c, _call.c).

    The first byte picks what the rest is:
        0  a Query answer page (ts_tms_page_points), as the backend reads
           each page: into a list capped at 1000 points
        1  a RejectedRecordsException body of a write of three records
           (ts_tms_rejected_parse, then the error text)
        2  a DescribeEndpoints answer (ts_tms_endpoint_parse)
        3  a ScalarValue's text, the second byte its type
           (ts_tms_scalar_parse) */

#include "fuzz.h"
#include "ts_store_timestream.h"

static void
s_page (const char *text, size_t size)
{
    json_t *page = json_loadb (text, size, 0, NULL);
    if (!json_is_object (page)) {
        json_decref (page);
        return;
    }
    ts_points_t *out = ts_points_new ();
    const char *next = NULL;
    char err [TS_ERRLEN];
    if (out && ts_tms_page_points (page, 1000, out, &next, err) == 0
    &&  out->n > 1000)
        abort ();                   //  over the cap it was given
    ts_points_destroy (&out);
    json_decref (page);
}

static void
s_rejected (const char *text, size_t size)
{
    ts_points_t *pts = ts_points_new ();
    ts_strlist_t *lines = ts_strlist_new ();
    if (pts && lines
    &&  ts_points_append (pts, 1732406400000LL, "value", 1.5) == 0
    &&  ts_points_append (pts, 1732410000000LL, "cpu", 2) == 0
    &&  ts_points_append (pts, 1732413600000LL, "value", -3) == 0) {
        static const size_t idx [] = { 2, 0, 1 };
        int count = ts_tms_rejected_parse (text, size, "a", pts, idx, 3,
                                           lines);
        if (count > 0) {
            char err [TS_ERRLEN];
            ts_tms_rejected_errf (err, lines, 3);
        }
    }
    ts_strlist_destroy (&lines);
    ts_points_destroy (&pts);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned mode;
    if (!fuzz_mode (&data, &size, 4, &mode))
        return 0;
    const char *text = (const char *) data;
    switch (mode) {
        case 0:
            s_page (text, size);
            break;
        case 1:
            s_rejected (text, size);
            break;
        case 2: {
            char url [256], err [TS_ERRLEN];
            int64_t period_ms;
            ts_tms_endpoint_parse (text, size, "https", url, sizeof url,
                                   &period_ms, err);
            break;
        }
        default: {
            unsigned type;
            if (!fuzz_mode (&data, &size, TS_TMS_UNKNOWN + 1, &type))
                return 0;
            char *scalar = fuzz_cstr (data, size);
            ts_tms_scalar_t out;
            if (scalar)
                ts_tms_scalar_parse ((ts_tms_type_t) type, scalar, &out);
            free (scalar);
        }
    }
    return 0;
}
