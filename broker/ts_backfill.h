/*  ts_backfill - the gap tracking and backfill planner of the broker:
    how far each id's history is filled, and which chunk jobs fill what
    is missing (docs/architecture.md, "Gaps and backfill").

    A fetch of the default window (now - upstream.past_s .. now +
    upstream.future_s) fills history from now - past_s up to now. The
    planner keeps, per id, the range history covers (ts_fill_t, stored by
    the queue beside the id's last fetch) and compares every fetch with
    it:

    - a new id (its first fetch ever, TS_FILL_NEW) with upstream.backfill
      B > 0 has history filled from now - B: the part before the fetch's
      window, [now - B, now - past_s), is a gap;
    - after downtime (the broker was down, or the id was not fetched for
      longer than past_s) the range between the newest time covered
      before and the start of this fetch is a gap, filled back to at
      most now - B (with B = 0 a gap is noted, not filled).

    A gap is filled by chunk jobs: fetch windows of upstream.backfill_
    window each (the last one shorter), oldest first, at most upstream.
    backfill_queued of one id queued or in flight at once; the next ones
    are queued as earlier ones end, so a million ids with a 30-chunk gap
    each add a few jobs per id, not thirty. A chunk that is dead-lettered
    counts as failed (its window waits in the DLQ, to be redriven) and
    the backfill goes on. A second gap while one is being filled extends
    the pending range (re-fetching what lies between is harmless: writes
    are idempotent).

    Pure: no clock, no I/O, no queue. The broker (ts_broker_backfill.c)
    reads the records, calls these, queues the chunks and stores the
    records back. */

#ifndef TS_BACKFILL_H_INCLUDED
#define TS_BACKFILL_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "queue/ts_queue.h"

#define TS_BACKFILL_QUEUED_MAX  64  //  most chunks of one id at once

//  A source's backfill settings (the upstream.* keys of its config).
typedef struct {
    int64_t  past_ms;           //  upstream.past_s, in ms
    int64_t  backfill_ms;       //  upstream.backfill; 0: no backfill
    int64_t  window_ms;         //  upstream.backfill_window, > 0
    uint32_t queued_max;        //  upstream.backfill_queued, 1..64
} ts_backfill_conf_t;

//  A fetch window, [from_ms, to_ms), epoch ms.
typedef struct {
    int64_t from_ms;
    int64_t to_ms;
} ts_backfill_window_t;

//  Reads the settings from the upstream.* keys of cfg (a source's
//  config; checked when it was loaded).
void ts_backfill_conf_read (const ts_config_t *cfg, ts_backfill_conf_t *conf);

//  Cuts [from_ms, to_ms) into windows of window_ms (> 0), the last one
//  shorter, oldest first, into out (max entries). Returns how many there
//  are in all (more than max: only max were written); 0 if from_ms >=
//  to_ms.
size_t ts_backfill_chunks (int64_t from_ms, int64_t to_ms, int64_t window_ms,
                           ts_backfill_window_t *out, size_t max);

//  A fetch of the id's default window was done at now_ms: it covered
//  history [cover_from_ms, cover_to_ms]. Updates fill: the newest time
//  covered, and a gap to fill if there is one (see above). Clears
//  TS_FILL_NEW.
void ts_backfill_fetched (const ts_backfill_conf_t *conf, ts_fill_t *fill,
                          int64_t cover_from_ms, int64_t cover_to_ms,
                          int64_t now_ms);

//  A job of the id with the window [from_ms, to_ms) ended: done (ok) or
//  dead-lettered. If it is a chunk of the pending backfill, counts it
//  (done or failed, one less queued) and ends the backfill once every
//  chunk has ended. Returns true if it was such a chunk. A window job
//  outside the backfill that was done extends filled_from when it
//  reaches it.
bool ts_backfill_window_ended (ts_fill_t *fill, int64_t from_ms,
                               int64_t to_ms, bool ok);

//  The chunks to queue now: the next ones of the pending backfill, oldest
//  first, as many as keep fill->queued within conf->queued_max (and at
//  most max). Advances fill->next_ms and counts them in fill->queued.
//  Returns how many were written to out.
size_t ts_backfill_next (const ts_backfill_conf_t *conf, ts_fill_t *fill,
                         ts_backfill_window_t *out, size_t max);

//  How many chunks the pending backfill has in all (0 if none).
uint32_t ts_backfill_total (const ts_backfill_conf_t *conf,
                            const ts_fill_t *fill);

#endif
