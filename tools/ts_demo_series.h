/*  ts_demo_series - the demo upstream's series and its two documents
    (tools/tscache-demo-upstream.c): which five-minute times are served
    around now, the value of (id, measure, time), the /rows and /columns
    documents of them, and the oversized answer of mode "oversized".

    The series and the value formula are documented at the top of
    tools/tscache-demo-upstream.c. Pure but for the oversized answer,
    which is built once and kept: no I/O, no clock (the caller passes
    now_ms). A tool, not part of the pipeline. */

#ifndef TS_DEMO_SERIES_H_INCLUDED
#define TS_DEMO_SERIES_H_INCLUDED

#include "ts_common.h"

#define TS_DEMO_STEP_MS     300000  //  five minutes between points
#define TS_DEMO_SLOTS       288     //  points per day, each side of now
#define TS_DEMO_HISTORY_DAYS_MAX 3660   //  most days of past served

//  The value of (id, measure, time), rounded to 4 decimals. Fits
//  ts_demo_value_fn (ts_demo_shapes.h).
double ts_demo_series_value (const char *id, const char *measure,
                             int64_t time_ms);

//  Fills times [] (room for (days + 1) * TS_DEMO_SLOTS) with the served
//  times in [from_ms, to_ms], ascending: days of past before now_ms,
//  one day of future after it. Returns how many.
size_t ts_demo_series_times (int64_t now_ms, int64_t days, int64_t from_ms,
                             int64_t to_ms, int64_t *times);

//  The /rows (columns false) or /columns document of id at times [0..n)
//  in a heap buffer the caller frees; its length in *len. NULL when out
//  of memory.
char *ts_demo_series_document (bool columns, const char *id,
                               const int64_t *times, size_t n, size_t *len);

//  The oversized answer (about 20 MiB of rows), built on the first call
//  (thread-safe) and kept until ts_demo_series_free; its length in *len.
//  Borrowed. NULL when out of memory.
const char *ts_demo_series_oversized (size_t *len);

//  Frees the oversized answer. Call once, at exit.
void ts_demo_series_free (void);

#endif
