/*  ts_demo_args - the demo upstream's command line
    (tools/tscache-demo-upstream.c): reads its options into a
    ts_demo_args_t, answers --help and --version, and passes the
    --oauth2-* options on to ts_demo_auth. The options and the
    endpoints are listed in the --help text here. It starts nothing: the
    caller applies what was read. A tool, not part of the pipeline. */

#ifndef TS_DEMO_ARGS_H_INCLUDED
#define TS_DEMO_ARGS_H_INCLUDED

#include "ts_common.h"

//  What the command line sets. The caller fills in the defaults first.
typedef struct {
    int64_t     port;           //  --port (0 picks a free one)
    const char *bind_addr;      //  --bind, borrowed from argv
    int64_t     now_ms;         //  --now, or -1 for real time
    int64_t     latency_ms;     //  --latency-ms
    int64_t     history_days;   //  --history-days
    double      fail_rate;      //  --fail-rate
    char       *api_key;        //  $NAME of --require-key-env, owned
                                //  (the caller frees it), or NULL
    const char *key_param;      //  --key-param, borrowed from argv, or NULL
} ts_demo_args_t;

//  Reads the command line into args. Returns -1 to go on, or the exit
//  code: 0 after --help or --version (printed to stdout), 2 after a
//  usage error (printed to stderr).
int ts_demo_args_parse (int argc, char *argv [], ts_demo_args_t *args);

//  Prints "tscache-demo-upstream: what: arg" (arg may be NULL) to
//  stderr. Returns 2, the exit code of a usage error.
int ts_demo_args_die (const char *what, const char *arg);

#endif
