/*  ts_tsfixture - a Timestream for LiveAnalytics for the contract suites:
    the loopback fixture tests/node/timestream/fixture.js (Node.js, no
    npm package needed to serve) on a free loopback port, started once per
    test process and stopped when it exits. Header-only, static inline
    (ts_nodeserver.h starts it).

    Timestream has no local implementation: the fixture plays the service
    as docs/timestream.md says (the ops the backend sends, AWS's rules and
    error texts, SigV4 checked with the credentials AKIDFIXTURE /
    fixture-secret, which this header puts in the environment). Run from
    the source tree's top, as tests/run.sh does.

    TSCACHE_TEST_TIMESTREAM_LOG=FILE: the fixture appends every request
    it receives to FILE (--log), for tests/integration/test_timestream_sdk
    to compare with the requests AWS's JS SDK sends. */

#ifndef TS_TSFIXTURE_H_INCLUDED
#define TS_TSFIXTURE_H_INCLUDED

#include "ts_nodeserver.h"

#define TS_TSFIXTURE_JS      "tests/node/timestream/fixture.js"

static ts_nodeserver_t s_tsfixture;

static inline void
s_tsfixture_stop (void)
{
    ts_nodeserver_stop (&s_tsfixture);
}

//  The endpoint URL of the Timestream fixture, started if need be; NULL
//  with the reason in err.
static inline const char *
ts_tsfixture_endpoint (char *err, size_t size)
{
    static char endpoint [128];
    if (*endpoint)
        return endpoint;
    if (access (TS_TSFIXTURE_JS, R_OK) != 0) {
        snprintf (err, size, "timestream fixture: %s missing",
                  TS_TSFIXTURE_JS);
        return NULL;
    }
    const char *log = getenv ("TSCACHE_TEST_TIMESTREAM_LOG");
    const char *args [] = { log && *log? "--log": NULL, log, NULL };
    if (!ts_nodeserver_start (&s_tsfixture, "timestream fixture",
                              TS_TSFIXTURE_JS, args, s_tsfixture_stop,
                              endpoint, sizeof endpoint, err, size)) {
        endpoint [0] = 0;
        return NULL;
    }
    return endpoint;
}

//  Puts the fixture's credentials in the environment (the AWS chain's
//  first place), replacing any: the fixture checks every signature.
static inline void
ts_tsfixture_credentials (void)
{
    setenv ("AWS_ACCESS_KEY_ID", "AKIDFIXTURE", 1);
    setenv ("AWS_SECRET_ACCESS_KEY", "fixture-secret", 1);
    unsetenv ("AWS_SESSION_TOKEN");
}

#endif
