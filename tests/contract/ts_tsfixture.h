/*  ts_tsfixture - a Timestream for LiveAnalytics for the contract suites:
    the loopback fixture tests/node/timestream/fixture.js (Node.js, no
    npm package needed to serve) on a free loopback port, started once per
    test process and stopped when it exits. Header-only, static inline;
    shares the port helpers of ts_dynalite.h.

    Timestream has no local implementation: the fixture plays the service
    as docs/timestream.md says (the ops the backend sends, AWS's rules and
    error texts, SigV4 checked with the credentials AKIDFIXTURE /
    fixture-secret, which this header puts in the environment). Run from
    the source tree's top, as tests/run.sh does. */

#ifndef TS_TSFIXTURE_H_INCLUDED
#define TS_TSFIXTURE_H_INCLUDED

#include "ts_dynalite.h"

#define TS_TSFIXTURE_JS      "tests/node/timestream/fixture.js"
#define TS_TSFIXTURE_WAIT_MS 20000  //  longest wait for it to answer

static pid_t s_tsfixture_pid;       //  0: not started by this process
static pid_t s_tsfixture_owner;     //  the process that started it

static inline void
s_tsfixture_stop (void)
{
    if (s_tsfixture_pid > 0 && getpid () == s_tsfixture_owner) {
        kill (s_tsfixture_pid, SIGTERM);
        waitpid (s_tsfixture_pid, NULL, 0);
        s_tsfixture_pid = 0;
    }
}

//  The endpoint URL of the Timestream fixture, started if need be, with
//  the fixture's credentials in the environment; NULL with the reason in
//  err.
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
    int port = s_dynalite_port ();
    char port_text [16];
    snprintf (port_text, sizeof port_text, "%d", port);
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        setpgid (0, 0);
        //  Its "listening PORT" line is not the test's output.
        if (!freopen ("/dev/null", "w", stdout))
            _exit (127);
        execlp ("node", "node", TS_TSFIXTURE_JS, port_text, (char *) NULL);
        fprintf (stderr, "timestream fixture: cannot run node: %s\n",
                 strerror (errno));
        _exit (127);
    }
    if (pid < 0 || port == 0) {
        snprintf (err, size, "timestream fixture: cannot start: %s",
                  strerror (errno));
        return NULL;
    }
    s_tsfixture_pid = pid;
    s_tsfixture_owner = getpid ();
    atexit (s_tsfixture_stop);
    for (int waited = 0; waited < TS_TSFIXTURE_WAIT_MS; waited += 50) {
        if (s_dynalite_answers (port)) {
            snprintf (endpoint, sizeof endpoint, "http://127.0.0.1:%d",
                      port);
            return endpoint;
        }
        if (waitpid (pid, NULL, WNOHANG) == pid) {
            s_tsfixture_pid = 0;
            snprintf (err, size, "timestream fixture: exited before "
                      "answering (node %s %d)", TS_TSFIXTURE_JS, port);
            return NULL;
        }
        struct timespec ts = { 0, 50000000L };
        nanosleep (&ts, NULL);
    }
    s_tsfixture_stop ();
    snprintf (err, size, "timestream fixture: no answer on port %d after "
              "%d s", port, TS_TSFIXTURE_WAIT_MS / 1000);
    return NULL;
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
