/*  ts_csv - a query answer as CSV (RFC 4180), for GET /v1/series/{id}
    with Accept: text/csv or format=csv.

    The same points as the JSON answer (ts_json_series), in the same
    order (history, then forecast), one record a point:

        time,time_ms,measure,value,part
        2024-11-24T00:00:00.000Z,1732406400000,cpu,12.5,history

    time is RFC 3339 UTC with milliseconds, time_ms the same instant in
    epoch milliseconds (the JSON answer's "time"); measure the measure
    name, quoted as RFC 4180 says when it holds a comma, a quote, CR or
    LF; value shortest-round-trip as in JSON, empty for a null (NaN)
    value; part history or forecast (the JSON answer's "source"). Lines
    end in CRLF; the header line is always there, also for no points.
    The answer's id, range and baseline are not in the CSV: the client
    named them (docs/http-api.md, "CSV").

    Written through a ts_json_t writer (only its text functions): the
    answer cache and the produced-body path of ts_reply take it as they
    take JSON. */

#ifndef TS_CSV_H_INCLUDED
#define TS_CSV_H_INCLUDED

#include "ts_common.h"
#include "ts_json.h"
#include "ts_proto.h"

//  The header line, with its CRLF.
#define TS_CSV_HEADER "time,time_ms,measure,value,part\r\n"

//  Appends the CSV of a query answer (reply->series). Returns 0 or
//  TS_ENOMEM.
int ts_csv_series (ts_json_t *out, const ts_msg_t *reply);

//  Appends the same text in parts, as ts_json_series_part does: the part
//  that starts at *at (0 for the first call) with at most max_points (>=
//  1) records, and moves *at on. Returns 1 once the part written ends the
//  answer, 0 if more follows, or TS_ENOMEM. The parts of one answer, in
//  order, are byte for byte what ts_csv_series writes.
int ts_csv_series_part (ts_json_t *out, const ts_msg_t *reply, size_t *at,
                        size_t max_points);

//  Appends one CSV field holding text: as it is, or quoted (quotes
//  doubled) if it holds a comma, a quote, CR or LF. Returns 0 or
//  TS_ENOMEM.
int ts_csv_field (ts_json_t *out, const char *text);

#endif
