/*  ts_prom_http - GET /metrics over plain HTTP from a thread of
    libmicrohttpd's (see ts_prom_http.h). The page is a copy behind a
    mutex: the publisher swaps it in, a scrape copies it out. */

#include "ts_prom_http.h"
#include "ts_prom.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct _ts_prom_http_t {
    struct MHD_Daemon *daemon;      //  the server and its thread
    pthread_mutex_t    lock;        //  guards page and size
    char              *page;        //  the last text published, or NULL
    size_t             size;        //  its bytes
};

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned int status, char *body,
         size_t size, const char *type)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        size, body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL,
                             "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW,
                                 "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_text (struct MHD_Connection *conn, unsigned int status, const char *text)
{
    char *body = strdup (text);
    return body? s_reply (conn, status, body, strlen (body),
                          "text/plain; charset=utf-8"): MHD_NO;
}

//  MHD_AccessHandlerCallback: one call per request once its head is in
//  (a request body, which no route takes, is refused unread).
static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    ts_prom_http_t *self = cls;
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
        return s_text (conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                       "use GET /metrics\n");
    if (strcmp (url, "/metrics") != 0)
        return s_text (conn, MHD_HTTP_NOT_FOUND, "only /metrics here\n");
    pthread_mutex_lock (&self->lock);
    size_t size = self->size;
    char *body = malloc (size + 1);
    if (body && size)
        memcpy (body, self->page, size);
    pthread_mutex_unlock (&self->lock);
    if (!body)
        return MHD_NO;
    return s_reply (conn, MHD_HTTP_OK, body, size, TS_PROM_CONTENT_TYPE);
}

ts_prom_http_t *
ts_prom_http_new (const char *bind, int port, char *err)
{
    assert (bind);
    if (port < 1 || port > 65535) {
        ts_errf (err, "metrics port %d: expected 1 to 65535", port);
        return NULL;
    }
    struct sockaddr_storage addr = { 0 };
    struct sockaddr_in *v4 = (struct sockaddr_in *) &addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) &addr;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD;
    if (inet_pton (AF_INET, bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons ((uint16_t) port);
    }
    else
    if (inet_pton (AF_INET6, bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons ((uint16_t) port);
        flags |= MHD_USE_IPv6;
    }
    else {
        ts_errf (err, "metrics bind '%s': expected an IPv4 or IPv6 address",
                 bind);
        return NULL;
    }
    ts_prom_http_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    errno = 0;
    self->daemon = MHD_start_daemon (
        flags, (uint16_t) port, NULL, NULL, s_handle, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) TS_PROM_HTTP_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) TS_PROM_HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) TS_PROM_HTTP_MEMORY,
        MHD_OPTION_END);
    if (!self->daemon) {
        ts_errf (err, "cannot listen on %s:%d: %s", bind, port,
                 errno? strerror (errno): "libmicrohttpd refused");
        ts_prom_http_destroy (&self);
        return NULL;
    }
    return self;
}

void
ts_prom_http_destroy (ts_prom_http_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_prom_http_t *self = *self_p;
        if (self->daemon)
            MHD_stop_daemon (self->daemon);
        pthread_mutex_destroy (&self->lock);
        free (self->page);
        free (self);
        *self_p = NULL;
    }
}

int
ts_prom_http_publish (ts_prom_http_t *self, const char *text, size_t size)
{
    assert (self && (text || size == 0));
    char *page = malloc (size + 1);
    if (!page)
        return TS_ENOMEM;
    memcpy (page, text, size);
    page [size] = '\0';
    pthread_mutex_lock (&self->lock);
    char *old = self->page;
    self->page = page;
    self->size = size;
    pthread_mutex_unlock (&self->lock);
    free (old);
    return 0;
}
