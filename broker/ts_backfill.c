/*  ts_backfill - gap tracking and the backfill planner. See
    ts_backfill.h. Pure: every time comes from the caller. */

#include "ts_backfill.h"
#include "ts_duration.h"

#include <assert.h>
#include <string.h>

void
ts_backfill_conf_read (const ts_config_t *cfg, ts_backfill_conf_t *conf)
{
    assert (cfg && conf);
    memset (conf, 0, sizeof *conf);
    conf->past_ms = ts_config_int (cfg, "upstream.past_s") * 1000;
    //  Both were checked when the config was loaded.
    if (ts_duration_parse (ts_config_str (cfg, "upstream.backfill"),
                           &conf->backfill_ms, NULL) != 0)
        conf->backfill_ms = 0;
    if (ts_duration_parse (ts_config_str (cfg, "upstream.backfill_window"),
                           &conf->window_ms, NULL) != 0
    ||  conf->window_ms <= 0)
        conf->window_ms = 86400000;
    int64_t queued = ts_config_int (cfg, "upstream.backfill_queued");
    conf->queued_max = queued < 1? 1: queued > TS_BACKFILL_QUEUED_MAX
                     ? TS_BACKFILL_QUEUED_MAX: (uint32_t) queued;
}

size_t
ts_backfill_chunks (int64_t from_ms, int64_t to_ms, int64_t window_ms,
                    ts_backfill_window_t *out, size_t max)
{
    assert (window_ms > 0);
    assert (out || max == 0);
    size_t n = 0;
    for (int64_t at = from_ms; at < to_ms; n++) {
        int64_t end = to_ms - at > window_ms? at + window_ms: to_ms;
        if (n < max)
            out [n] = (ts_backfill_window_t) { at, end };
        at = end;
    }
    return n;
}

//  Adds [from_ms, to_ms) to the pending backfill: a new one if none is
//  pending, else the pending one reaches to to_ms.
static void
s_gap_add (ts_fill_t *fill, int64_t from_ms, int64_t to_ms)
{
    if (from_ms >= to_ms)
        return;
    if (fill->gap_from_ms < fill->gap_to_ms) {
        if (to_ms > fill->gap_to_ms)
            fill->gap_to_ms = to_ms;
        return;
    }
    fill->gap_from_ms = fill->next_ms = from_ms;
    fill->gap_to_ms = to_ms;
    fill->done = fill->failed = 0;
}

void
ts_backfill_fetched (const ts_backfill_conf_t *conf, ts_fill_t *fill,
                     int64_t cover_from_ms, int64_t cover_to_ms,
                     int64_t now_ms)
{
    assert (conf && fill);
    int64_t horizon = now_ms - conf->backfill_ms;
    bool fill_gaps = conf->backfill_ms > 0;
    if (fill->filled_to_ms == 0) {
        //  The first fetch known: a new id is backfilled, one fetched
        //  before gap tracking began is tracked from now on.
        fill->filled_from_ms = cover_from_ms;
        if ((fill->flags & TS_FILL_NEW) && fill_gaps
        &&  horizon < cover_from_ms) {
            s_gap_add (fill, horizon, cover_from_ms);
            fill->filled_from_ms = horizon;
        }
    }
    else
    if (cover_from_ms > fill->filled_to_ms) {
        //  Downtime: nothing covers (filled_to, cover_from).
        int64_t start = fill->filled_to_ms > horizon? fill->filled_to_ms
                                                    : horizon;
        if (fill_gaps && start < cover_from_ms) {
            s_gap_add (fill, start, cover_from_ms);
            if (start > fill->filled_to_ms)
                fill->filled_from_ms = start;
        }
        else
            fill->filled_from_ms = cover_from_ms;
    }
    else
    if (cover_from_ms < fill->filled_from_ms)
        fill->filled_from_ms = cover_from_ms;
    if (cover_to_ms > fill->filled_to_ms)
        fill->filled_to_ms = cover_to_ms;
    fill->flags &= ~TS_FILL_NEW;
}

bool
ts_backfill_window_ended (ts_fill_t *fill, int64_t from_ms, int64_t to_ms,
                          bool ok)
{
    assert (fill);
    bool pending = fill->gap_from_ms < fill->gap_to_ms;
    if (pending && fill->queued > 0 && from_ms >= fill->gap_from_ms
    &&  to_ms <= fill->next_ms) {
        fill->queued--;
        if (ok)
            fill->done++;
        else
            fill->failed++;
        if (fill->queued == 0 && fill->next_ms >= fill->gap_to_ms)
            fill->gap_from_ms = fill->gap_to_ms = fill->next_ms = 0;
        return true;
    }
    //  Another window job (a chunk redriven from the DLQ, say): history
    //  it reaches below filled_from is history filled.
    if (ok && fill->filled_to_ms != 0 && from_ms < fill->filled_from_ms
    &&  to_ms >= fill->filled_from_ms)
        fill->filled_from_ms = from_ms;
    return false;
}

size_t
ts_backfill_next (const ts_backfill_conf_t *conf, ts_fill_t *fill,
                  ts_backfill_window_t *out, size_t max)
{
    assert (conf && fill);
    assert (out || max == 0);
    size_t n = 0;
    while (n < max && fill->queued < conf->queued_max
       &&  fill->next_ms < fill->gap_to_ms) {
        int64_t at = fill->next_ms;
        int64_t end = fill->gap_to_ms - at > conf->window_ms
                    ? at + conf->window_ms: fill->gap_to_ms;
        out [n++] = (ts_backfill_window_t) { at, end };
        fill->next_ms = end;
        fill->queued++;
    }
    return n;
}

uint32_t
ts_backfill_total (const ts_backfill_conf_t *conf, const ts_fill_t *fill)
{
    assert (conf && fill);
    if (fill->gap_from_ms >= fill->gap_to_ms)
        return 0;
    size_t rest = ts_backfill_chunks (fill->next_ms, fill->gap_to_ms,
                                      conf->window_ms, NULL, 0);
    return fill->done + fill->failed + fill->queued + (uint32_t) rest;
}
