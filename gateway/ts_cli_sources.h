/*  ts_cli_sources - `tscache source ls`: the sources of the config (its
    sources: list, or the one source "default" of upstream:), read from
    the config file, not asked of any daemon. A line each: NAME, LAYOUT
    (upstream.format.layout), SCHEDULE, RATE LIMIT and URL (the template
    as written, in its display form: a secret written into it shows as
    ***; {api_key} stays a placeholder). SCHEDULE and RATE LIMIT are the
    source's upstream.schedule and upstream.rate_limit.* keys where the
    config has such keys (else broker.schedule, and "-"). --json prints
    the same as one JSON array. */

#ifndef TS_CLI_SOURCES_H_INCLUDED
#define TS_CLI_SOURCES_H_INCLUDED

#include "ts_config.h"

#include <stdio.h>

//  Writes cfg's sources to out, as a table or (json) a JSON array of
//  {"name", "url", "layout", "time_unit", "schedule", "rate_limit"}
//  (rate_limit: an object of the source's upstream.rate_limit.* keys,
//  {} if none is set or known). Returns 0, or -1 (out of memory).
int ts_cli_sources_print (const ts_config_t *cfg, bool json, FILE *out);

#endif
