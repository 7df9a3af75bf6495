/*  ts_tally - what a worker did, counted and written as one INFO line
    every TS_TALLY_PERIOD_MS, so that at info level a worker's log says
    how it is doing without a line per id (those are debug lines):

        tally: 10 s: 42 jobs done, 1 failed; 84 ids fetched, 2 failed;
        110592 points written  jobs_done=42 jobs_failed=1 fetched=84
        failed=2 failed_http=1 failed_timeout=1 ... points=110592 period_ms=10000

    A period in which nothing happened writes nothing. Failures are
    counted by kind (ts_tally_kind_of, pure): the upstream answered an
    HTTP error, timed out, could not be reached (or sent a body over the
    limit), sent a document that does not map, or the store failed.
    Not thread-safe: the worker loop owns it. */

#ifndef TS_TALLY_H_INCLUDED
#define TS_TALLY_H_INCLUDED

#include "ts_common.h"
#include "ts_fetch.h"

#define TS_TALLY_PERIOD_MS  10000

typedef enum {
    TS_TALLY_HTTP = 0,              //  upstream answered 3xx, 4xx, 5xx
    TS_TALLY_TIMEOUT,               //  connect or total timeout
    TS_TALLY_NETWORK,               //  no answer, or a body over the cap
    TS_TALLY_DOCUMENT,              //  answer does not map
    TS_TALLY_STORE,                 //  the store failed
    TS_TALLY_OTHER,                 //  URL, memory
    TS_TALLY_KINDS_
} ts_tally_kind_t;

typedef struct {
    uint64_t jobs_done;             //  jobs reported done
    uint64_t jobs_failed;           //  jobs reported failed
    uint64_t fetched;               //  ids fetched and stored
    uint64_t failed [TS_TALLY_KINDS_];  //  ids failed, by kind
    uint64_t points;                //  points written (history + forecast)
    int64_t  since_ms;              //  monotonic start of the period
} ts_tally_t;

//  Starts a tally (all zero) at now_ms, a monotonic time.
void ts_tally_start (ts_tally_t *self, int64_t now_ms);

//  The kind of failure of a completed request that ts_fetch_classify
//  called failed.
ts_tally_kind_t ts_tally_kind_of (const ts_fetch_result_t *res);

//  At or after the end of the period (now_ms, monotonic): writes the line
//  if anything was counted, then starts the next period. Returns the
//  monotonic time of the next end, for the loop's timeout.
int64_t ts_tally_tick (ts_tally_t *self, int64_t now_ms);

#endif
