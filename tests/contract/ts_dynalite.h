/*  ts_dynalite - a DynamoDB for the contract suites: dynalite (npm, from
    tests/node/package.json) on a free loopback port, started once per
    test process and stopped when it exits. Header-only, static inline.

    TSCACHE_TEST_DYNAMODB_ENDPOINT, if set, is used instead (DynamoDB
    Local, real AWS: the suite then runs unchanged against it, with the
    credentials of the AWS chain). Otherwise dynalite is started with
    node (PATH) by tests/node/dynalite.js, on 127.0.0.1 (run from
    the source tree's top, as tests/run.sh does; `make test` installs it:
    tools/install-deps.sh test) and the AWS chain is given dummy
    credentials, which dynalite accepts. */

#ifndef TS_DYNALITE_H_INCLUDED
#define TS_DYNALITE_H_INCLUDED

#include "ts_nodeserver.h"

#define TS_DYNALITE_JS      "tests/node/dynalite.js"
#define TS_DYNALITE_MOD     "tests/node/node_modules/dynalite/package.json"

static ts_nodeserver_t s_dynalite;

static inline void
s_dynalite_stop (void)
{
    ts_nodeserver_stop (&s_dynalite);
}

//  The endpoint URL of a DynamoDB for tests, started if need be; NULL
//  with the reason in err.
static inline const char *
ts_dynalite_endpoint (char *err, size_t size)
{
    static char endpoint [128];
    const char *given = getenv ("TSCACHE_TEST_DYNAMODB_ENDPOINT");
    if (given && *given)
        return given;
    if (*endpoint)
        return endpoint;
    if (access (TS_DYNALITE_MOD, R_OK) != 0) {
        snprintf (err, size, "dynalite: %s missing: run "
                  "tools/install-deps.sh test (npm ci in tests/node)",
                  TS_DYNALITE_MOD);
        return NULL;
    }
    if (!ts_nodeserver_start (&s_dynalite, "dynalite", TS_DYNALITE_JS, NULL,
                              s_dynalite_stop, endpoint, sizeof endpoint,
                              err, size)) {
        endpoint [0] = 0;
        return NULL;
    }
    setenv ("AWS_ACCESS_KEY_ID", "tscache-test", 0);
    setenv ("AWS_SECRET_ACCESS_KEY", "tscache-test", 0);
    return endpoint;
}

#endif
