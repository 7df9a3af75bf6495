/*  ts_prom_stats - the broker's figures as Prometheus metric families:
    jobs by state, the oldest job's age, the totals of the queue, and the
    connected workers with their credit, and how long ago the registered
    ids were last fetched (when the broker measured it). Written from a stats reply
    (ts_stats_t, docs/protocol.md section 5.17), so the gateway's GET
    /metrics (from the broker's answer) and the broker's own metrics port
    (from its queue) write the same names; docs/metrics.md lists them. */

#ifndef TS_PROM_STATS_H_INCLUDED
#define TS_PROM_STATS_H_INCLUDED

#include "ts_prom.h"
#include "ts_proto.h"

//  Writes tscache_broker_up (1 with stats, 0 if stats is NULL: the broker
//  did not answer) and, with stats, the families of its figures.
void ts_prom_stats (ts_prom_t *prom, const ts_stats_t *stats);

//  Writes tscache_build_info{process=process,version=...} 1.
void ts_prom_build_info (ts_prom_t *prom, const char *process);

#endif
