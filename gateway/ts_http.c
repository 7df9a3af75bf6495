/*  ts_http - the gateway's HTTP/1.1 front end. See ts_http.h.

    CONCEPT: a small server of our own instead of an HTTP library, because
    the gateway must answer every malformed request with its own JSON and
    status, and libraries answer some errors themselves (libmicrohttpd
    writes compiled-in HTML for an over-long target, too-large headers or
    a bad Content-Length, and waits for ever on some inputs). Framing is
    http-parser's (ts_h1); sockets, limits and timeouts are here.

    Each thread runs one level-triggered epoll loop. The listening socket
    is in every loop with EPOLLEXCLUSIVE, so a new connection wakes one
    thread, which accepts it and keeps it for its whole life: no locks on
    the request path. A connection (ts_http_conn: buffers and socket I/O)
    reads into a fixed buffer, feeds ts_h1, and answers each whole
    request at once with one writev of header and body; what the socket
    does not take waits in the connection's output buffer (EPOLLOUT until
    drained). While an answer waits, further pipelined requests wait too
    (reading stops), so a client that sends without reading cannot grow
    our memory.

    A request the broker answers (ts_route_start hands it back) never
    holds the thread: it goes to the loop's forwarder (ts_client, whose
    ZMQ_FD is in the epoll set) with its connection as context, and the
    connection stops reading, as while an answer waits, so pipelined
    requests keep their order; every other connection is served
    meanwhile. The forwarder's completion (the broker's answer, or 502/503
    at the broker timeout) is written as any other answer, and the
    connection goes on with the requests behind it. The request timeout
    does not apply while the broker has the request (the forwarder's
    deadline answers first); a connection closed meanwhile (reset, idle
    timeout of an unread earlier answer, shutdown) cancels its request.
    The loop calls ts_client_process only when the forwarder's fd is
    readable, a request was just sent, or a deadline is due: a query
    never touches it.

    One module in two files (ts_http_internal.h): this one is the server
    (the listening socket, the API keys and routes, the threads, the
    drain and the stop); ts_http_loop.c is one thread's loop, where
    connections are accepted, read, answered, forwarded, timed out and
    closed. */

#include "ts_http_internal.h"
#include "ts_http_key.h"
#include "ts_log.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  Set-up

//  Opens the listening socket on address:port. Returns 0 or TS_EINVAL
//  (err).
static int
s_listen (ts_http_t *self, const char *address, char *err)
{
    char service [16];
    snprintf (service, sizeof service, "%d", self->port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV
    };
    struct addrinfo *result = NULL;
    int rc = getaddrinfo (address [0]? address: NULL, service, &hints,
                          &result);
    if (rc || !result) {
        ts_errf (err, "gateway.http_bind: cannot resolve '%s': %s", address,
                 gai_strerror (rc));
        return TS_EINVAL;
    }
    int fd = socket (result->ai_family,
                     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0
    ||  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
    ||  bind (fd, result->ai_addr, result->ai_addrlen)
    ||  listen (fd, 1024)) {
        ts_errf (err, "cannot serve HTTP on %s:%d: %s", address, self->port,
                 strerror (errno));
        if (fd >= 0)
            close (fd);
        freeaddrinfo (result);
        return TS_EINVAL;
    }
    freeaddrinfo (result);
    self->listen_fd = fd;
    return 0;
}

//  Reads the API keys and builds the routes. Returns NULL (err) if none.
static ts_route_t *
s_route_new (const ts_config_t *cfg, ts_api_t *api, char *err)
{
    char *secret = NULL;
    char detail [TS_ERRLEN] = "";
    if (ts_http_key_read (cfg, &secret, err))
        return NULL;
    ts_route_t *route = ts_route_new (api, cfg, secret, detail);
    size_t len = strlen (secret);
    volatile char *p = secret;
    for (size_t i = 0; i < len; i++)
        p [i] = 0;
    free (secret);
    if (!route) {
        const char *env_name = ts_config_str (cfg, "gateway.api_key_env");
        ts_errf (err, "no API key: set %s or gateway.api_key_file (%s)",
                 env_name [0]? env_name: "TSCACHE_API_KEY", detail);
    }
    return route;
}

int
ts_http_apply (ts_http_t *self, const ts_config_t *cfg)
{
    assert (self);
    char *secret = NULL;
    char err [TS_ERRLEN] = "";
    bool changed = false;
    int rc = ts_http_key_read_as (cfg, false, &secret, err);
    if (rc == TS_ENOTFOUND && ts_config_bool (cfg, "gateway.api_key_generate"))
        return 0;                   //  the generated key stays
    if (rc == 0)
        rc = ts_route_set_keys (self->route, secret, &changed);
    if (secret) {
        explicit_bzero (secret, strlen (secret));
        free (secret);
    }
    if (rc) {
        ts_error ("reload: gateway API keys: %s; keeping the running keys",
                  *err? err: ts_strerror (rc));
        return rc;
    }
    if (changed)
        ts_info ("reload: gateway API keys: changed (%zu keys)",
                 ts_route_keys (self->route));
    return 0;
}

//  Raises the soft limit of open files towards what max_conns needs.
static void
s_raise_fd_limit (size_t max_conns)
{
    struct rlimit limit;
    rlim_t need = (rlim_t) max_conns + 64;
    if (getrlimit (RLIMIT_NOFILE, &limit) || limit.rlim_cur >= need)
        return;
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max > need
                   ? need: limit.rlim_max;
    setrlimit (RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < need)
        ts_warn ("http: open file limit %llu is below "
                 "gateway.http_max_connections + 64",
                 (unsigned long long) limit.rlim_cur);
}

ts_http_t *
ts_http_new (const ts_config_t *cfg, ts_api_t *api, char *err)
{
    ts_http_t *self = calloc (1, sizeof (ts_http_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->listen_fd = self->stop_fd = self->drain_fd = -1;
    self->ready = ts_api_ready (api);
    self->limits = ts_h1_limits_default (TS_ROUTE_MAX_BODY);
    self->idle_ms = ts_config_int (cfg, "gateway.http_idle_timeout_s") * 1000;
    self->request_ms =
        ts_config_int (cfg, "gateway.http_request_timeout_s") * 1000;
    self->max_conns =
        (size_t) ts_config_int (cfg, "gateway.http_max_connections");
    size_t per_client = (size_t) ts_config_int (
        cfg, "gateway.http_max_connections_per_client");
    //  Every connection kept open (answered ones included) may come from
    //  an address of its own.
    if (per_client
    &&  !(self->peers = ts_http_peers_new (per_client,
                                           self->max_conns + HTTP_REFUSALS))) {
        ts_errf (err, "out of memory");
        ts_http_destroy (&self);
        return NULL;
    }
    self->port = (int) ts_config_int (cfg, "gateway.http_port");
    self->route = s_route_new (cfg, api, err);
    if (!self->route
    ||  s_listen (self, ts_config_str (cfg, "gateway.http_bind"), err)) {
        ts_http_destroy (&self);
        return NULL;
    }
    s_raise_fd_limit (self->max_conns);
    self->stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    self->drain_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
    size_t threads = (size_t) ts_config_int (cfg, "gateway.http_threads");
    self->loops = calloc (threads, sizeof (ts_http_loop_t));
    if (self->stop_fd < 0 || self->drain_fd < 0 || !self->loops) {
        ts_errf (err, "cannot start HTTP: %s", strerror (errno));
        ts_http_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < threads; i++) {
        ts_http_loop_t *loop = &self->loops [i];
        self->threads = i + 1;
        if (ts_http_loop_new (loop, self, api, err)) {
            ts_http_destroy (&self);
            return NULL;
        }
        if (pthread_create (&loop->thread, NULL, ts_http_loop_run,
                            loop)) {
            ts_errf (err, "cannot start HTTP thread: %s", strerror (errno));
            ts_http_destroy (&self);
            return NULL;
        }
        loop->running = true;
    }
    return self;
}

void
ts_http_destroy (ts_http_t **self_p)
{
    if (self_p && *self_p) {
        ts_http_t *self = *self_p;
        if (self->stop_fd >= 0) {
            uint64_t one = 1;
            if (write (self->stop_fd, &one, sizeof one) < 0)
                ts_warn ("http: cannot signal stop: %s", strerror (errno));
        }
        for (size_t i = 0; i < self->threads; i++) {
            ts_http_loop_t *loop = &self->loops [i];
            if (loop->running)
                pthread_join (loop->thread, NULL);
            ts_http_loop_destroy (loop);
        }
        free (self->loops);
        if (self->stop_fd >= 0)
            close (self->stop_fd);
        if (self->drain_fd >= 0)
            close (self->drain_fd);
        if (self->listen_fd >= 0)
            close (self->listen_fd);
        ts_route_destroy (&self->route);
        ts_http_peers_destroy (&self->peers);
        free (self);
        *self_p = NULL;
    }
}

void
ts_http_drain (ts_http_t *self, int64_t until_ms)
{
    atomic_store (&self->drain_until_ms, until_ms);
    uint64_t one = 1;
    if (write (self->drain_fd, &one, sizeof one) < 0)
        ts_warn ("http: cannot signal drain: %s", strerror (errno));
}

bool
ts_http_drained (ts_http_t *self)
{
    for (size_t i = 0; i < self->threads; i++)
        if (self->loops [i].running
        &&  !atomic_load (&self->loops [i].ended))
            return false;
    return true;
}

int
ts_http_port (const ts_http_t *self)
{
    return self->port;
}
