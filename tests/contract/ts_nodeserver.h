/*  ts_nodeserver - a loopback server for the contract suites written in
    Node.js (dynalite, the Timestream fixture): started with node (PATH)
    from the source tree's top, as tests/run.sh runs, on a free loopback
    port, its stdout silenced, awaited until it takes connections, and
    stopped with SIGTERM by the process that started it. Header-only,
    static inline; ts_dynalite.h and ts_tsfixture.h each keep one. */

#ifndef TS_NODESERVER_H_INCLUDED
#define TS_NODESERVER_H_INCLUDED

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TS_NODESERVER_WAIT_MS 20000 //  longest wait for it to answer

typedef struct {
    pid_t pid;                      //  0: not started by this process
    pid_t owner;                    //  the process that started it
} ts_nodeserver_t;

static inline void
ts_nodeserver_stop (ts_nodeserver_t *self)
{
    if (self->pid > 0 && getpid () == self->owner) {
        kill (self->pid, SIGTERM);
        waitpid (self->pid, NULL, 0);
        self->pid = 0;
    }
}

//  A free loopback TCP port (the kernel's pick), or 0.
static inline int
ts_nodeserver_port (void)
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
ts_nodeserver_answers (int port)
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

//  Runs `node script PORT [args...]` (args NULL-terminated, or NULL) and
//  waits until it takes connections; writes
//  http://127.0.0.1:PORT into endpoint (size bytes). stop is the
//  caller's atexit function that stops self. False with the reason
//  (prefixed by what) in err.
static inline bool
ts_nodeserver_start (ts_nodeserver_t *self, const char *what,
                     const char *script, const char *const *args,
                     void (*stop) (void), char *endpoint, size_t size,
                     char *err, size_t err_size)
{
    int port = ts_nodeserver_port ();
    char port_text [16];
    snprintf (port_text, sizeof port_text, "%d", port);
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        setpgid (0, 0);
        //  Its "listening" line is not the test's output.
        if (!freopen ("/dev/null", "w", stdout))
            _exit (127);
        const char *argv [16] = { "node", script, port_text };
        for (size_t i = 0; args && args [i] && i + 4 < 16; i++)
            argv [i + 3] = args [i];
        execvp ("node", (char *const *) argv);
        fprintf (stderr, "%s: cannot run node: %s\n", what,
                 strerror (errno));
        _exit (127);
    }
    if (pid < 0 || port == 0) {
        snprintf (err, err_size, "%s: cannot start: %s", what,
                  strerror (errno));
        return false;
    }
    self->pid = pid;
    self->owner = getpid ();
    atexit (stop);
    for (int waited = 0; waited < TS_NODESERVER_WAIT_MS; waited += 50) {
        if (ts_nodeserver_answers (port)) {
            snprintf (endpoint, size, "http://127.0.0.1:%d", port);
            return true;
        }
        if (waitpid (pid, NULL, WNOHANG) == pid) {
            self->pid = 0;
            snprintf (err, err_size, "%s: exited before answering "
                      "(node %s %d)", what, script, port);
            return false;
        }
        struct timespec ts = { 0, 50000000L };
        nanosleep (&ts, NULL);
    }
    ts_nodeserver_stop (self);
    snprintf (err, err_size, "%s: no answer on port %d after %d s", what,
              port, TS_NODESERVER_WAIT_MS / 1000);
    return false;
}

#endif
