/*  ts_tally - a worker's counters and their periodic INFO line. See
    ts_tally.h. */

#include "ts_tally.h"
#include "ts_log.h"

#include <inttypes.h>
#include <string.h>

void
ts_tally_start (ts_tally_t *self, int64_t now_ms)
{
    memset (self, 0, sizeof *self);
    self->since_ms = now_ms;
}

ts_tally_kind_t
ts_tally_kind_of (const ts_fetch_result_t *res)
{
    return res->rc == 0? TS_TALLY_HTTP
         : res->rc == TS_ETIMEOUT? TS_TALLY_TIMEOUT
         : res->rc == TS_ENOMEM? TS_TALLY_OTHER
         : TS_TALLY_NETWORK;
}

int64_t
ts_tally_tick (ts_tally_t *self, int64_t now_ms)
{
    int64_t period = now_ms - self->since_ms;
    if (period < TS_TALLY_PERIOD_MS)
        return self->since_ms + TS_TALLY_PERIOD_MS;
    uint64_t failed = 0;
    for (int k = 0; k < TS_TALLY_KINDS_; k++)
        failed += self->failed [k];
    if (self->jobs_done || self->jobs_failed || self->fetched || failed)
        ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (
            TS_LF_UINT ("jobs_done", self->jobs_done),
            TS_LF_UINT ("jobs_failed", self->jobs_failed),
            TS_LF_UINT ("fetched", self->fetched),
            TS_LF_UINT ("failed", failed),
            TS_LF_UINT ("failed_http", self->failed [TS_TALLY_HTTP]),
            TS_LF_UINT ("failed_timeout", self->failed [TS_TALLY_TIMEOUT]),
            TS_LF_UINT ("failed_network", self->failed [TS_TALLY_NETWORK]),
            TS_LF_UINT ("failed_document", self->failed [TS_TALLY_DOCUMENT]),
            TS_LF_UINT ("failed_store", self->failed [TS_TALLY_STORE]),
            TS_LF_UINT ("failed_other", self->failed [TS_TALLY_OTHER]),
            TS_LF_UINT ("points", self->points),
            TS_LF_INT ("period_ms", period)),
            "tally: %" PRId64 " s: %" PRIu64 " jobs done, %" PRIu64
            " failed; %" PRIu64 " ids fetched, %" PRIu64 " failed; %" PRIu64
            " points written", period / 1000, self->jobs_done,
            self->jobs_failed, self->fetched, failed, self->points);
    ts_tally_start (self, now_ms);
    return now_ms + TS_TALLY_PERIOD_MS;
}
