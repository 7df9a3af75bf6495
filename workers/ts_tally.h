/*  ts_tally - what a worker did, counted and written as one INFO line
    every TS_TALLY_PERIOD_MS, so that at info level a worker's log says
    how it is doing without a line per id (those are debug lines):

        tally: 10 s: 42 jobs done, 1 failed; 84 ids fetched, 2 failed;
        110592 points written  jobs_done=42 jobs_failed=1 fetched=84
        failed=2 points=110592 period_ms=10000 failed_http_5xx=1
        failed_timeout=1

    A period in which nothing happened writes nothing. Failures are
    counted by the kind their verdict names (ts_fetch_kinds: timeout,
    connect, http_5xx, document, store ...), the same names the worker's
    metrics page uses; a failed_KIND field is written for each kind
    counted in the period. Not thread-safe: the worker loop owns it. */

#ifndef TS_TALLY_H_INCLUDED
#define TS_TALLY_H_INCLUDED

#include "ts_common.h"
#include "ts_fetch.h"

#define TS_TALLY_PERIOD_MS  10000

//  Room for every kind of ts_fetch_kinds (ts_tally.c checks it).
#define TS_TALLY_KINDS  16

typedef struct {
    uint64_t jobs_done;             //  jobs reported done
    uint64_t jobs_failed;           //  jobs reported failed
    uint64_t fetched;               //  ids fetched and stored
    uint64_t failed [TS_TALLY_KINDS];   //  ids failed, by the index of
                                        //  their kind in ts_fetch_kinds
    uint64_t points;                //  points written (history + forecast)
    int64_t  since_ms;              //  monotonic start of the period
} ts_tally_t;

//  Starts a tally (all zero) at now_ms, a monotonic time.
void ts_tally_start (ts_tally_t *self, int64_t now_ms);

//  Counts one id failed with kind (one of ts_fetch_kinds; any other
//  text, or NULL, counts as "worker").
void ts_tally_failed (ts_tally_t *self, const char *kind);

//  At or after the end of the period (now_ms, monotonic): writes the line
//  if anything was counted, then starts the next period. Returns the
//  monotonic time of the next end, for the loop's timeout.
int64_t ts_tally_tick (ts_tally_t *self, int64_t now_ms);

#endif
