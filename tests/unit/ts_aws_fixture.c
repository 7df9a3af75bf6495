/*  ts_aws_fixture - a loopback HTTP server for the AWS tests (see
    ts_aws_fixture.h). One thread, poll over the listener and the
    connections; every loop is bounded by the stop flag and poll's
    timeout. */

#include "ts_aws_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_MAX 16
#define BUF_MAX  (256 * 1024)

typedef struct {
    int    fd;                      //  -1: free
    char  *buf;
    size_t used;
} s_conn_t;

struct _ts_fix_t {
    int                listener;
    int                port;
    pthread_t          thread;
    atomic_bool        stop;
    atomic_int         requests;
    atomic_int         connections;
    ts_fix_handler_fn *handler;
    void              *arg;
    s_conn_t           conns [CONN_MAX];
};

static void
s_send_all (int fd, const char *data, size_t len)
{
    for (int tries = 0; len > 0 && tries < 10000; tries++) {
        ssize_t n = send (fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t) n;
    }
}

bool
ts_fix_header (const ts_fix_request_t *req, const char *name, char *out, size_t size)
{
    size_t n = strlen (name);
    const char *p = req->headers;
    while (*p) {
        const char *eol = strstr (p, "\r\n");
        if (!eol)
            break;
        if ((size_t) (eol - p) > n && strncasecmp (p, name, n) == 0 && p [n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            snprintf (out, size, "%.*s", (int) (eol - v), v);
            return true;
        }
        p = eol + 2;
    }
    return false;
}

//  Serves every complete request in c's buffer. False: close it.
static bool
s_serve (ts_fix_t *self, s_conn_t *c)
{
    for (int i = 0; i < 64; i++) {
        c->buf [c->used] = 0;
        char *end = strstr (c->buf, "\r\n\r\n");
        if (!end)
            return true;
        size_t head = (size_t) (end + 4 - c->buf);
        ts_fix_request_t *req = calloc (1, sizeof *req);
        if (!req)
            return false;
        sscanf (c->buf, "%15s %511s", req->method, req->path);
        char *line = strstr (c->buf, "\r\n");
        snprintf (req->headers, sizeof req->headers, "%.*s",
                  (int) (end + 2 - (line + 2)), line + 2);
        char length [32] = "0";
        ts_fix_header (req, "Content-Length", length, sizeof length);
        size_t body = (size_t) strtoul (length, NULL, 10);
        if (head + body > BUF_MAX - 1) {
            free (req);
            return false;
        }
        if (c->used < head + body) {
            free (req);
            return true;
        }
        req->body = malloc (body + 1);
        memcpy (req->body, c->buf + head, body);
        req->body [body] = 0;
        req->body_size = body;
        memmove (c->buf, c->buf + head + body, c->used - head - body);
        c->used -= head + body;
        ts_fix_answer_t *ans = calloc (1, sizeof *ans);
        ans->status = 200;
        self->handler (req, ans, self->arg);
        atomic_fetch_add (&self->requests, 1);
        char top [2048];
        size_t len = strlen (ans->body);
        int n = snprintf (top, sizeof top, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n",
                          ans->status, len, ans->headers);
        s_send_all (c->fd, top, (size_t) n);
        s_send_all (c->fd, ans->body, len);
        free (req->body);
        free (req);
        free (ans);
    }
    return true;
}

static void *
s_run (void *arg)
{
    ts_fix_t *self = arg;
    while (!atomic_load (&self->stop)) {
        struct pollfd p [CONN_MAX + 1];
        p [0] = (struct pollfd) { self->listener, POLLIN, 0 };
        for (int i = 0; i < CONN_MAX; i++)
            p [i + 1] = (struct pollfd) { self->conns [i].fd, POLLIN, 0 };
        if (poll (p, CONN_MAX + 1, 50) <= 0)
            continue;
        if (p [0].revents & POLLIN) {
            int fd = accept (self->listener, NULL, NULL);
            for (int i = 0; fd >= 0 && i < CONN_MAX; i++)
                if (self->conns [i].fd < 0) {
                    self->conns [i].fd = fd;
                    self->conns [i].used = 0;
                    atomic_fetch_add (&self->connections, 1);
                    fd = -1;
                }
            if (fd >= 0)
                close (fd);
        }
        for (int i = 0; i < CONN_MAX; i++) {
            s_conn_t *c = &self->conns [i];
            if (c->fd < 0 || !(p [i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = recv (c->fd, c->buf + c->used, BUF_MAX - 1 - c->used, 0);
            if (n <= 0 || !s_serve (self, (c->used += (size_t) n, c))) {
                close (c->fd);
                c->fd = -1;
            }
        }
    }
    return NULL;
}

ts_fix_t *
ts_fix_new (ts_fix_handler_fn *handler, void *arg)
{
    ts_fix_t *self = calloc (1, sizeof *self);
    self->handler = handler;
    self->arg = arg;
    for (int i = 0; i < CONN_MAX; i++) {
        self->conns [i].fd = -1;
        self->conns [i].buf = malloc (BUF_MAX);
    }
    self->listener = socket (AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt (self->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind (self->listener, (struct sockaddr *) &a, sizeof a)
    ||  listen (self->listener, 64)
    ||  getsockname (self->listener, (struct sockaddr *) &a, &len)) {
        ts_fix_destroy (&self);
        return NULL;
    }
    self->port = ntohs (a.sin_port);
    pthread_create (&self->thread, NULL, s_run, self);
    return self;
}

void
ts_fix_destroy (ts_fix_t **self_p)
{
    if (self_p && *self_p) {
        ts_fix_t *self = *self_p;
        if (self->port) {
            atomic_store (&self->stop, true);
            pthread_join (self->thread, NULL);
        }
        for (int i = 0; i < CONN_MAX; i++) {
            if (self->conns [i].fd >= 0)
                close (self->conns [i].fd);
            free (self->conns [i].buf);
        }
        close (self->listener);
        free (self);
        *self_p = NULL;
    }
}

int ts_fix_port (ts_fix_t *self) { return self->port; }
int ts_fix_requests (ts_fix_t *self) { return atomic_load (&self->requests); }
int ts_fix_connections (ts_fix_t *self) { return atomic_load (&self->connections); }
