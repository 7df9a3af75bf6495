/*  ts_grafana - the endpoints Grafana's JSON data source plugins call,
    under /grafana/: the API of grafana-simple-json-datasource and of its
    successor simpod-json-datasource (docs/grafana.md).

        GET  /grafana/             200 {"status":"ok"}: "Save & test"
        POST /grafana/search       {"target":"TEXT"} or {} -> ["ID",...]
        POST /grafana/metrics      {"metric":"TEXT","payload":{..}} ->
                                   [{"label":"ID","value":"ID"},...]
        POST /grafana/variable     {"payload":{"target":"TEXT"},"range"}
                                   -> [{"__text":"ID","__value":"ID"},..]
        POST /grafana/query        {"range":{"from","to"},"intervalMs",
                                   "maxDataPoints","targets":[{"target",
                                   "refId","type","payload"|"data","hide"}]}
                                   -> [{"target":"ID:MEASURE",
                                   "datapoints":[[value,ms],...]},...] or,
                                   for a target of "type":"table",
                                   {"type":"table","columns":[..],
                                   "rows":[[ms,"MEASURE",value,"history"],..]}
        POST /grafana/annotations  [] (tscache has no annotations)

    A target is "ID" (every measure of the id: one series per measure) or
    "ID:MEASURE". Names may hold ':' themselves, so a target is an id when
    that id is registered, else it is split at its last ':'. Search text
    filters the registry's ids (substring, at most TS_GRAFANA_SEARCH_MAX
    answers, at most TS_GRAFANA_SEARCH_SCAN ids read); "ID:" or
    "ID:TEXT" lists the measures of that id (those in its default query
    range) whose name starts with TEXT, as "ID:MEASURE".

    intervalMs, maxDataPoints and the target's payload.agg (data.agg in
    older simpod versions; default avg) are read and checked here: they
    become the query's step_ms, max_points and agg (ts_proto.h), which
    the query engine turns into buckets (docs/protocol.md 5.2); a panel
    that gives neither interval nor width gets raw points.

    The routes (ts_route) check the API key and the method; this module
    reads the body (jansson), asks ts_api and writes the answer. Errors
    are the gateway's {"error","detail"}: 400 for a bad body or target,
    ts_api's status (404 unknown id, 413 over gateway.max_points) naming
    the target, and 413 once the targets hold over TS_GRAFANA_POINTS_MAX
    points in all (the answer is written whole, in memory). */

#ifndef TS_GRAFANA_H_INCLUDED
#define TS_GRAFANA_H_INCLUDED

#include "ts_api.h"
#include "ts_reply.h"

#define TS_GRAFANA_SEARCH_MAX   1000        //  most names one search answers
#define TS_GRAFANA_SEARCH_SCAN  100000      //  most ids one search reads
#define TS_GRAFANA_TARGETS_MAX  100         //  most targets of one query
#define TS_GRAFANA_POINTS_MAX   1000000     //  most points of one query's
                                            //  targets in all (413 over)

//  How a search answers its names.
typedef enum {
    TS_GRAFANA_NAMES,       //  /search: ["name",...]
    TS_GRAFANA_LABELS,      //  /metrics: [{"label","value"},...]
    TS_GRAFANA_VARIABLES    //  /variable: [{"__text","__value"},...]
} ts_grafana_names_t;

//  POST /grafana/search, /grafana/metrics and /grafana/variable, names
//  written as style says: the body (size bytes, NULL or blank: {}) is
//  {"target":TEXT} (simple-json), {"metric":TEXT,"payload":{..}}
//  (simpod's metric picker), {"payload":{"target":TEXT},"range":{..}}
//  (simpod's variable query) or {}. Answers into out and returns the
//  status.
int ts_grafana_search (ts_api_t *api, const char *body, size_t size,
                       ts_grafana_names_t style, ts_reply_t *out);

//  POST /grafana/query: answers into out and returns the status.
int ts_grafana_query (ts_api_t *api, const char *body, size_t size,
                      ts_reply_t *out);

//  POST /grafana/annotations: [] for any JSON object body (400 for
//  anything else). Returns the status.
int ts_grafana_annotations (const char *body, size_t size, ts_reply_t *out);

#endif
