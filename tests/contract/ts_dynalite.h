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

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TS_DYNALITE_JS      "tests/node/dynalite.js"
#define TS_DYNALITE_MOD     "tests/node/node_modules/dynalite/package.json"
#define TS_DYNALITE_WAIT_MS 20000   //  longest wait for it to answer

static pid_t s_dynalite_pid;        //  0: not started by this process
static pid_t s_dynalite_owner;      //  the process that started it

static inline void
s_dynalite_stop (void)
{
    if (s_dynalite_pid > 0 && getpid () == s_dynalite_owner) {
        kill (s_dynalite_pid, SIGTERM);
        waitpid (s_dynalite_pid, NULL, 0);
        s_dynalite_pid = 0;
    }
}

//  A free loopback TCP port (the kernel's pick), or 0.
static inline int
s_dynalite_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = 0;
    if (fd >= 0 && bind (fd, (struct sockaddr *) &sa, sizeof sa) == 0
    &&  getsockname (fd, (struct sockaddr *) &sa, &len) == 0)
        port = ntohs (sa.sin_port);
    if (fd >= 0)
        close (fd);
    return port;
}

static inline bool
s_dynalite_answers (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons (port) };
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool ok = fd >= 0 && connect (fd, (struct sockaddr *) &sa,
                                  sizeof sa) == 0;
    if (fd >= 0)
        close (fd);
    return ok;
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
    int port = s_dynalite_port ();
    char port_text [16];
    snprintf (port_text, sizeof port_text, "%d", port);
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        setpgid (0, 0);
        //  Its "Listening at" line is not the test's output.
        if (!freopen ("/dev/null", "w", stdout))
            _exit (127);
        execlp ("node", "node", TS_DYNALITE_JS, port_text, (char *) NULL);
        fprintf (stderr, "dynalite: cannot run node: %s\n",
                 strerror (errno));
        _exit (127);
    }
    if (pid < 0 || port == 0) {
        snprintf (err, size, "dynalite: cannot start: %s", strerror (errno));
        return NULL;
    }
    s_dynalite_pid = pid;
    s_dynalite_owner = getpid ();
    atexit (s_dynalite_stop);
    for (int waited = 0; waited < TS_DYNALITE_WAIT_MS; waited += 50) {
        if (s_dynalite_answers (port)) {
            snprintf (endpoint, sizeof endpoint, "http://127.0.0.1:%d",
                      port);
            setenv ("AWS_ACCESS_KEY_ID", "tscache-test", 0);
            setenv ("AWS_SECRET_ACCESS_KEY", "tscache-test", 0);
            return endpoint;
        }
        if (waitpid (pid, NULL, WNOHANG) == pid) {
            s_dynalite_pid = 0;
            snprintf (err, size, "dynalite: exited before answering "
                      "(node %s %d)", TS_DYNALITE_JS, port);
            return NULL;
        }
        struct timespec ts = { 0, 50000000L };
        nanosleep (&ts, NULL);
    }
    s_dynalite_stop ();
    snprintf (err, size, "dynalite: no answer on port %d after %d s", port,
              TS_DYNALITE_WAIT_MS / 1000);
    return NULL;
}

#endif
