/*  ts_csv - a query answer as CSV. See ts_csv.h. */

#include "ts_csv.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int
ts_csv_field (ts_json_t *out, const char *text)
{
    if (!strpbrk (text, ",\"\r\n"))
        return ts_json_raw (out, text);
    ts_json_raw_n (out, "\"", 1);
    for (const char *p = text; *p; ) {
        size_t run = strcspn (p, "\"");
        ts_json_raw_n (out, p, run);
        p += run;
        if (*p == '"') {
            ts_json_raw_n (out, "\"\"", 2);
            p++;
        }
    }
    return ts_json_raw_n (out, "\"", 1);
}

//  One record: time,time_ms,measure,value,part CRLF.
static void
s_record (ts_json_t *out, const ts_points_t *pts, size_t i, bool history)
{
    char buf [40];
    ts_time_format (pts->time_ms [i], buf, sizeof buf);
    ts_json_raw (out, buf);
    ts_json_raw_n (out, ",", 1);
    ts_json_int (out, pts->time_ms [i]);
    ts_json_raw_n (out, ",", 1);
    ts_csv_field (out, ts_points_measure (pts, i));
    ts_json_raw_n (out, ",", 1);
    if (ts_json_format_double (pts->value [i], buf, sizeof buf))
        ts_json_raw (out, buf);
    if (history)
        ts_json_raw_n (out, ",history\r\n", 10);
    else
        ts_json_raw_n (out, ",forecast\r\n", 11);
}

int
ts_csv_series_part (ts_json_t *out, const ts_msg_t *reply, size_t *at,
                    size_t max_points)
{
    assert (max_points >= 1);
    const ts_points_t *history = reply->series.history;
    const ts_points_t *forecast = reply->series.forecast;
    size_t total = history->n + forecast->n;
    //  *at: 0 before the header, then 1 + the records written so far,
    //  and SIZE_MAX once the answer is complete.
    if (*at == SIZE_MAX)
        return 1;
    if (*at == 0) {
        ts_json_raw (out, TS_CSV_HEADER);
        *at = 1;
    }
    size_t k = *at - 1;
    size_t end = total - k > max_points? k + max_points: total;
    for (; k < end; k++) {
        if (k < history->n)
            s_record (out, history, k, true);
        else
            s_record (out, forecast, k - history->n, false);
    }
    *at = k == total? SIZE_MAX: k + 1;
    if (ts_json_failed (out))
        return TS_ENOMEM;
    return k == total? 1: 0;
}

int
ts_csv_series (ts_json_t *out, const ts_msg_t *reply)
{
    size_t at = 0;
    return ts_csv_series_part (out, reply, &at, SIZE_MAX) == 1? 0: TS_ENOMEM;
}
