/*  ts_http - the gateway's HTTP front end on libmicrohttpd. See ts_http.h.

    libmicrohttpd calls us per request in three steps: the URI log
    callback (raw target, before any parsing: we allocate the request
    context there, so ts_url parses exactly what the client sent), the
    access handler (once with headers, once per body chunk, once at the
    end) and the completion notifier (frees the context). Body chunks are
    collected up to TS_ROUTE_MAX_BODY; a larger body, announced or not, is
    answered 413 without being kept. */

#include "ts_http.h"
#include "ts_route.h"
#include "ts_json.h"
#include "ts_log.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct _ts_http_t {
    struct MHD_Daemon *daemon;      //  libmicrohttpd and its threads
    ts_route_t        *route;       //  the routes and the API keys
    int                port;        //  port bound
};

//  One request in progress.
typedef struct {
    char   *target;     //  raw request target, as sent
    char   *body;       //  collected body, up to TS_ROUTE_MAX_BODY
    size_t  size;       //  bytes in body
    size_t  cap;        //  allocated bytes of body
    bool    started;    //  the headers-only call has been seen
    bool    too_big;    //  body over the limit (announced or sent)
} s_request_t;

//  Last libmicrohttpd message of this thread: the reason a start failed.
static _Thread_local char s_last_mhd_error [TS_ERRLEN];

static void
s_mhd_log (void *cls, const char *fmt, va_list ap)
{
    vsnprintf (s_last_mhd_error, sizeof s_last_mhd_error, fmt, ap);
    size_t len = strlen (s_last_mhd_error);
    while (len > 0 && s_last_mhd_error [len - 1] == '\n')
        s_last_mhd_error [--len] = 0;
    ts_debug ("http: %s", s_last_mhd_error);
}

static s_request_t *
s_request_new (const char *target)
{
    s_request_t *request = calloc (1, sizeof (s_request_t));
    if (request && !(request->target = strdup (target? target: "/"))) {
        free (request);
        request = NULL;
    }
    return request;
}

static void
s_request_destroy (s_request_t **request_p)
{
    if (*request_p) {
        free ((*request_p)->target);
        free ((*request_p)->body);
        free (*request_p);
        *request_p = NULL;
    }
}

static void *
s_uri_log (void *cls, const char *uri, struct MHD_Connection *connection)
{
    return s_request_new (uri);
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    s_request_t *request = *req_cls;
    s_request_destroy (&request);
    *req_cls = NULL;
}

//  Appends a body chunk, or marks the request too big. Never fails the
//  connection: an oversized or unstorable body is answered 413.
static void
s_request_append (s_request_t *request, const char *data, size_t size)
{
    if (request->too_big)
        return;
    if (size > TS_ROUTE_MAX_BODY - request->size) {
        request->too_big = true;
        free (request->body);
        request->body = NULL;
        request->size = request->cap = 0;
        return;
    }
    if (request->size + size > request->cap) {
        size_t cap = request->cap? request->cap: 4096;
        while (cap < request->size + size)
            cap *= 2;
        if (cap > TS_ROUTE_MAX_BODY)
            cap = TS_ROUTE_MAX_BODY;
        char *body = realloc (request->body, cap);
        if (!body) {
            request->too_big = true;
            return;
        }
        request->body = body;
        request->cap = cap;
    }
    memcpy (request->body + request->size, data, size);
    request->size += size;
}

static enum MHD_Result
s_respond (ts_http_t *self, struct MHD_Connection *connection,
           s_request_t *request, const char *method)
{
    ts_route_req_t req = {
        .method = method,
        .target = request->target,
        .body = request->body,
        .body_size = request->size,
        .body_too_big = request->too_big
    };
    //  With their lengths, so a value holding a NUL is compared whole.
    MHD_lookup_connection_value_n (connection, MHD_HEADER_KIND,
                                   "x-security-token",
                                   sizeof "x-security-token" - 1,
                                   &req.token, &req.token_len);
    MHD_lookup_connection_value_n (connection, MHD_HEADER_KIND,
                                   MHD_HTTP_HEADER_AUTHORIZATION,
                                   sizeof MHD_HTTP_HEADER_AUTHORIZATION - 1,
                                   &req.authorization,
                                   &req.authorization_len);
    const char *allow = NULL;
    int status = 500;
    char *data = NULL;
    size_t size = 0;
    ts_json_t *body = ts_json_new ();
    if (body) {
        status = ts_route_handle (self->route, &req, body, &allow);
        data = ts_json_detach (body, &size);
        ts_json_destroy (&body);
    }
    if (!data)
        size = 0;
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, data, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (data);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                             "application/json");
    if (allow)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response (connection,
                                             (unsigned int) status,
                                             response);
    MHD_destroy_response (response);
    ts_debug ("http %s %.200s -> %d", method, request->target, status);
    return rc;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *connection, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **req_cls)
{
    ts_http_t *self = cls;
    s_request_t *request = *req_cls;
    if (!request) {
        //  The URI log callback could not allocate: try once more here.
        request = s_request_new (url);
        if (!request)
            return MHD_NO;
        *req_cls = request;
    }
    if (!request->started) {
        request->started = true;
        const char *length = MHD_lookup_connection_value (
            connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length) {
            char *end;
            unsigned long long n = strtoull (length, &end, 10);
            if (n > TS_ROUTE_MAX_BODY)
                //  Answer now instead of reading a body we will not keep.
                request->too_big = true;
        }
        if (!request->too_big)
            return MHD_YES;
    }
    else
    if (*upload_data_size > 0) {
        s_request_append (request, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return s_respond (self, connection, request, method);
}

//  Resolves address:port into addr. Returns 0 or TS_EINVAL (err).
static int
s_resolve (const char *address, int port, struct sockaddr_storage *addr,
           socklen_t *addr_len, char *err)
{
    char service [16];
    snprintf (service, sizeof service, "%d", port);
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
    memcpy (addr, result->ai_addr, result->ai_addrlen);
    *addr_len = result->ai_addrlen;
    freeaddrinfo (result);
    return 0;
}

//  Reads the API keys and builds the routes. Returns NULL (err) if none.
static ts_route_t *
s_route_new (const ts_config_t *cfg, ts_api_t *api, char *err)
{
    const char *env_name = ts_config_str (cfg, "gateway.api_key_env");
    const char *file = ts_config_str (cfg, "gateway.api_key_file");
    char *secret = NULL;
    char detail [TS_ERRLEN] = "";
    int rc = ts_config_secret (env_name, file, &secret, detail);
    if (rc == TS_ENOTFOUND) {
        ts_errf (err, "no API key: set %s or gateway.api_key_file",
                 env_name [0]? env_name: "TSCACHE_API_KEY");
        return NULL;
    }
    if (rc) {
        ts_errf (err, "gateway.api_key_file: %s", detail);
        return NULL;
    }
    ts_route_t *route = ts_route_new (api, cfg, secret, detail);
    size_t len = strlen (secret);
    volatile char *p = secret;
    for (size_t i = 0; i < len; i++)
        p [i] = 0;
    free (secret);
    if (!route)
        ts_errf (err, "no API key: set %s or gateway.api_key_file (%s)",
                 env_name [0]? env_name: "TSCACHE_API_KEY", detail);
    return route;
}

ts_http_t *
ts_http_new (const ts_config_t *cfg, ts_api_t *api, char *err)
{
    ts_http_t *self = calloc (1, sizeof (ts_http_t));
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->route = s_route_new (cfg, api, err);
    if (!self->route) {
        ts_http_destroy (&self);
        return NULL;
    }
    self->port = (int) ts_config_int (cfg, "gateway.http_port");
    const char *address = ts_config_str (cfg, "gateway.http_bind");
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    if (s_resolve (address, self->port, &addr, &addr_len, err)) {
        ts_http_destroy (&self);
        return NULL;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (MHD_is_feature_supported (MHD_FEATURE_EPOLL) == MHD_YES)
        flags |= MHD_USE_EPOLL;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned int threads =
        (unsigned int) ts_config_int (cfg, "gateway.http_threads");
    s_last_mhd_error [0] = 0;
    self->daemon = MHD_start_daemon (
        flags, (uint16_t) self->port, NULL, NULL, s_access, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, (void *) self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_URI_LOG_CALLBACK, s_uri_log, (void *) self,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, (void *) self,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
        MHD_OPTION_END);
    if (!self->daemon) {
        ts_errf (err, "cannot serve HTTP on %s:%d: %s", address, self->port,
                 s_last_mhd_error [0]? s_last_mhd_error: "start failed");
        ts_http_destroy (&self);
        return NULL;
    }
    return self;
}

void
ts_http_destroy (ts_http_t **self_p)
{
    if (self_p && *self_p) {
        ts_http_t *self = *self_p;
        if (self->daemon)
            MHD_stop_daemon (self->daemon);
        ts_route_destroy (&self->route);
        free (self);
        *self_p = NULL;
    }
}

int
ts_http_port (const ts_http_t *self)
{
    return self->port;
}
