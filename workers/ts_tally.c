/*  ts_tally - a worker's counters and their periodic INFO line. See
    ts_tally.h. */

#include "ts_tally.h"
#include "ts_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
ts_tally_start (ts_tally_t *self, int64_t now_ms)
{
    memset (self, 0, sizeof *self);
    self->since_ms = now_ms;
}

//  The index of kind in ts_fetch_kinds; that of "worker" if unknown.
static size_t
s_kind_index (const char *kind)
{
    size_t worker = 0;
    for (size_t i = 0; ts_fetch_kinds [i]; i++) {
        if (kind && strcmp (ts_fetch_kinds [i], kind) == 0)
            return i;
        if (strcmp (ts_fetch_kinds [i], "worker") == 0)
            worker = i;
    }
    return worker;
}

void
ts_tally_failed (ts_tally_t *self, const char *kind)
{
    size_t i = s_kind_index (kind);
    assert (i < TS_TALLY_KINDS);
    self->failed [i]++;
}

int64_t
ts_tally_tick (ts_tally_t *self, int64_t now_ms)
{
    int64_t period = now_ms - self->since_ms;
    if (period < TS_TALLY_PERIOD_MS)
        return self->since_ms + TS_TALLY_PERIOD_MS;
    uint64_t failed = 0;
    for (size_t k = 0; k < TS_TALLY_KINDS; k++)
        failed += self->failed [k];
    if (!self->jobs_done && !self->jobs_failed && !self->fetched && !failed) {
        ts_tally_start (self, now_ms);
        return now_ms + TS_TALLY_PERIOD_MS;
    }
    //  The totals, then a failed_KIND field for each kind counted.
    char names [TS_TALLY_KINDS][32];
    ts_log_field_t fields [6 + TS_TALLY_KINDS];
    size_t n = 0;
    fields [n++] = TS_LF_UINT ("jobs_done", self->jobs_done);
    fields [n++] = TS_LF_UINT ("jobs_failed", self->jobs_failed);
    fields [n++] = TS_LF_UINT ("fetched", self->fetched);
    fields [n++] = TS_LF_UINT ("failed", failed);
    fields [n++] = TS_LF_UINT ("points", self->points);
    fields [n++] = TS_LF_INT ("period_ms", period);
    for (size_t k = 0; k < TS_TALLY_KINDS && ts_fetch_kinds [k]; k++)
        if (self->failed [k]) {
            snprintf (names [k], sizeof names [k], "failed_%s",
                      ts_fetch_kinds [k]);
            fields [n++] = TS_LF_UINT (names [k], self->failed [k]);
        }
    ts_log_kv (TS_LOG_INFO, fields, n,
               "tally: %" PRId64 " s: %" PRIu64 " jobs done, %" PRIu64
               " failed; %" PRIu64 " ids fetched, %" PRIu64 " failed; %"
               PRIu64 " points written", period / 1000, self->jobs_done,
               self->jobs_failed, self->fetched, failed, self->points);
    ts_tally_start (self, now_ms);
    return now_ms + TS_TALLY_PERIOD_MS;
}
