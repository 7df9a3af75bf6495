/*  test_ts_fetch - the fetcher (workers/ts_fetch.c) against a small HTTP
    server on loopback run by a thread of this test: connection reuse,
    the body cap while streaming and from Content-Length, Retry-After,
    the total timeout, a refused connection, requests added without
    waiting, no secret in libcurl's errors, and POST bodies with headers
    of their own. The classifier and the
    worker's retry policy are tested in test_ts_fetch_classify.c. */

#include "ts_fetch_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  A loopback server

typedef struct {
    int          listener;          //  listening socket
    int          port;
    pthread_t    thread;
    atomic_bool  stop;              //  set to end the thread
    atomic_int   accepted;          //  connections accepted
    atomic_int   requests;          //  requests read
} s_server_t;

static void
s_send_all (int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send (fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t) n;
    }
}

//  Serves requests of one connection until the client closes it.
//    /ok          200, 2 bytes, keep-alive
//    /429         429 with Retry-After: 7, keep-alive
//    /links       200 with two Link headers, keep-alive
//    /stream      200 with no length, 100000 bytes, then close
//    /declared    200 with Content-Length: 100000 (body never sent)
//    /stall       no answer until the client gives up
//    /echo        200 "METHOD|body|X-Test value|x-default value"
static void
s_serve_connection (s_server_t *self, int fd)
{
    char buf [4096];
    size_t used = 0;
    while (!atomic_load (&self->stop)) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll (&p, 1, 50) <= 0)
            continue;
        ssize_t n = recv (fd, buf + used, sizeof buf - 1 - used, 0);
        if (n <= 0)
            return;
        used += (size_t) n;
        buf [used] = 0;
        char *end = strstr (buf, "\r\n\r\n");
        if (!end)
            continue;
        size_t head = (size_t) (end + 4 - buf);
        size_t length = 0;
        const char *cl = strcasestr (buf, "\r\nContent-Length:");
        if (cl && cl < end)
            length = (size_t) strtoul (cl + 17, NULL, 10);
        if (used < head + length)
            continue;
        atomic_fetch_add (&self->requests, 1);
        char method [8] = "", path [64] = "";
        sscanf (buf, "%7s %63s", method, path);
        if (strcmp (path, "/echo") == 0) {
            char test [64] = "-", dflt [64] = "-", reply [512];
            const char *h = strcasestr (buf, "\r\nX-Test: ");
            if (h && h < end)
                sscanf (h + 10, "%63[^\r]", test);
            h = strcasestr (buf, "\r\nx-default: ");
            if (h && h < end)
                sscanf (h + 13, "%63[^\r]", dflt);
            char text [300];
            snprintf (text, sizeof text, "%s|%.*s|%s|%s", method,
                      (int) (length < 100? length: 100), buf + head, test,
                      dflt);
            snprintf (reply, sizeof reply, "HTTP/1.1 200 OK\r\n"
                      "Content-Length: %zu\r\n\r\n%s", strlen (text),
                      text);
            s_send_all (fd, reply, strlen (reply));
        }
        size_t rest = used - head - length;
        memmove (buf, buf + head + length, rest);
        used = rest;
        if (strcmp (path, "/echo") == 0)
            ;
        else
        if (strcmp (path, "/ok") == 0) {
            const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            s_send_all (fd, r, strlen (r));
        }
        else
        if (strcmp (path, "/429") == 0) {
            const char *r = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
                            "Content-Length: 9\r\n\r\nslow down";
            s_send_all (fd, r, strlen (r));
        }
        else
        if (strcmp (path, "/links") == 0) {
            const char *r = "HTTP/1.1 200 OK\r\nLink: </p/1>; rel=\"first\""
                            "\r\nlink: </p/3>; rel=\"next\"\r\n"
                            "Content-Length: 2\r\n\r\n[]";
            s_send_all (fd, r, strlen (r));
        }
        else
        if (strcmp (path, "/stream") == 0) {
            const char *r = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
            s_send_all (fd, r, strlen (r));
            char chunk [1000];
            memset (chunk, 'x', sizeof chunk);
            for (int i = 0; i < 100; i++)
                s_send_all (fd, chunk, sizeof chunk);
            return;
        }
        else
        if (strcmp (path, "/declared") == 0) {
            const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
            s_send_all (fd, r, strlen (r));
        }
        else
        if (strcmp (path, "/stall") != 0) {
            const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            s_send_all (fd, r, strlen (r));
        }
    }
}

static void *
s_server_run (void *arg)
{
    s_server_t *self = (s_server_t *) arg;
    while (!atomic_load (&self->stop)) {
        struct pollfd p = { self->listener, POLLIN, 0 };
        if (poll (&p, 1, 50) <= 0)
            continue;
        int fd = accept (self->listener, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add (&self->accepted, 1);
        s_serve_connection (self, fd);
        close (fd);
    }
    return NULL;
}

static int
server_setup (void **state)
{
    s_server_t *self = calloc (1, sizeof (s_server_t));
    assert_non_null (self);
    self->listener = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (self->listener >= 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (bind (self->listener, (struct sockaddr *) &addr,
                            sizeof addr), 0);
    assert_int_equal (listen (self->listener, 8), 0);
    socklen_t len = sizeof addr;
    assert_int_equal (getsockname (self->listener, (struct sockaddr *) &addr,
                                   &len), 0);
    self->port = ntohs (addr.sin_port);
    assert_int_equal (pthread_create (&self->thread, NULL, s_server_run,
                                      self), 0);
    *state = self;
    return 0;
}

static int
server_teardown (void **state)
{
    s_server_t *self = (s_server_t *) *state;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    close (self->listener);
    free (self);
    return 0;
}

//  Fetches path from the server; the fetcher's result is copied to *res
//  (body and error stay valid until the fetcher is used again).
static void
s_fetch_one (ts_fetch_t *fetch, s_server_t *server, const char *path,
             ts_fetch_result_t *res)
{
    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", server->port, path);
    assert_int_equal (ts_fetch_add (fetch, url, 42), 0);
    int64_t deadline = ts_mono_ms () + 5000;
    while (ts_mono_ms () < deadline) {
        char err [TS_ERRLEN];
        assert_int_equal (ts_fetch_wait (fetch, -1, 100, err), 0);
        if (ts_fetch_next (fetch, res)) {
            assert_int_equal (res->tag, 42);
            return;
        }
    }
    fail_msg ("no answer for %s", path);
}

static ts_fetch_t *
s_fetch_new (size_t max_body_bytes, long timeout_ms)
{
    ts_fetch_opts_t opts = s_opts;
    opts.max_body_bytes = max_body_bytes;
    opts.timeout_ms = timeout_ms;
    char err [TS_ERRLEN];
    ts_fetch_t *fetch = ts_fetch_new (&opts, err);
    assert_non_null (fetch);
    return fetch;
}

static void
fetch_reuses_one_connection_for_requests_in_turn (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    ts_fetch_result_t res;
    for (int i = 0; i < 3; i++) {
        s_fetch_one (fetch, server, "/ok", &res);
        assert_int_equal (res.rc, 0);
        assert_int_equal (res.status, 200);
        assert_int_equal (res.size, 2);
        assert_string_equal (res.body, "ok");
        assert_true (res.connected);
    }
    assert_int_equal (ts_fetch_pending (fetch), 0);
    ts_fetch_destroy (&fetch);
    assert_null (fetch);
    assert_int_equal (atomic_load (&server->requests), 3);
    assert_int_equal (atomic_load (&server->accepted), 1);
}

static void
fetch_aborts_a_streamed_body_at_the_cap (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (10000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/stream", &res);
    assert_int_equal (res.rc, TS_ETOOBIG);
    assert_true (res.size <= 10000);
    ts_fetch_verdict_t verdict;
    ts_fetch_opts_t opts = s_opts;
    opts.max_body_bytes = 10000;
    assert_true (ts_fetch_classify (&opts, &res, "s", &verdict));
    assert_false (verdict.retry);
    assert_string_equal (verdict.detail, "id=s: response over "
                         "upstream.max_body_bytes (10000 bytes; not retried)");
    //  The fetcher goes on after an aborted transfer.
    s_fetch_one (fetch, server, "/ok", &res);
    assert_int_equal (res.rc, 0);
    assert_string_equal (res.body, "ok");
    ts_fetch_destroy (&fetch);
}

static void
fetch_refuses_a_declared_length_over_the_cap (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (10000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/declared", &res);
    assert_int_equal (res.rc, TS_ETOOBIG);
    assert_int_equal (res.size, 0);
    ts_fetch_verdict_t verdict;
    assert_true (ts_fetch_classify (&s_opts, &res, "d", &verdict));
    assert_false (verdict.retry);
    ts_fetch_destroy (&fetch);
}

static void
fetch_reports_the_link_headers_joined (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/links", &res);
    assert_int_equal (res.status, 200);
    assert_non_null (res.link);
    assert_string_equal (res.link, "</p/1>; rel=\"first\", </p/3>; "
                         "rel=\"next\"");
    //  The next response on the reused handle has none.
    s_fetch_one (fetch, server, "/ok", &res);
    assert_null (res.link);
    ts_fetch_destroy (&fetch);
}

static void
fetch_reports_retry_after_of_a_429 (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/429", &res);
    assert_int_equal (res.rc, 0);
    assert_int_equal (res.status, 429);
    assert_int_equal (res.retry_after_ms, 7000);
    ts_fetch_verdict_t verdict;
    assert_true (ts_fetch_classify (&s_opts, &res, "r", &verdict));
    assert_true (verdict.retry);
    assert_int_equal (verdict.retry_after_ms, 7000);
    assert_string_equal (verdict.detail, "id=r: upstream HTTP 429, "
                         "Retry-After 7000 ms: slow down");
    //  The next response on the reused handle has no Retry-After.
    s_fetch_one (fetch, server, "/ok", &res);
    assert_int_equal (res.retry_after_ms, 0);
    ts_fetch_destroy (&fetch);
}

static void
fetch_times_out_a_silent_upstream (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 300);
    ts_fetch_result_t res;
    int64_t started = ts_mono_ms ();
    s_fetch_one (fetch, server, "/stall", &res);
    int64_t took = ts_mono_ms () - started;
    assert_int_equal (res.rc, TS_ETIMEOUT);
    assert_int_equal (res.curl_code, CURLE_OPERATION_TIMEDOUT);
    assert_true (res.connected);
    assert_true (took >= 250 && took < 3000);
    ts_fetch_verdict_t verdict;
    ts_fetch_opts_t opts = s_opts;
    opts.timeout_ms = 300;
    assert_true (ts_fetch_classify (&opts, &res, "t", &verdict));
    assert_true (verdict.retry);
    assert_string_equal (verdict.detail,
                         "id=t: timed out after 300 ms (upstream.timeout_ms)");
    ts_fetch_destroy (&fetch);
}

static void
fetch_start_sends_added_requests_without_waiting (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    char err [TS_ERRLEN];
    //  Nothing added: nothing to do.
    assert_int_equal (ts_fetch_start (fetch, err), 0);
    //  A first request opens the connection the next one reuses.
    ts_fetch_result_t res;
    s_fetch_one (fetch, server, "/ok", &res);
    assert_int_equal (res.status, 200);

    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok", server->port);
    assert_int_equal (ts_fetch_add (fetch, url, 7), 0);
    assert_int_equal (ts_fetch_start (fetch, err), 0);
    //  The request reaches the server with no ts_fetch_wait.
    int64_t deadline = ts_mono_ms () + 3000;
    while (atomic_load (&server->requests) < 2 && ts_mono_ms () < deadline) {
        struct timespec pause = { 0, 5 * 1000000L };
        nanosleep (&pause, NULL);
    }
    assert_int_equal (atomic_load (&server->requests), 2);
    deadline = ts_mono_ms () + 3000;
    bool done = false;
    while (!done && ts_mono_ms () < deadline) {
        assert_int_equal (ts_fetch_wait (fetch, -1, 100, err), 0);
        done = ts_fetch_next (fetch, &res);
    }
    assert_true (done);
    assert_int_equal (res.tag, 7);
    assert_string_equal (res.body, "ok");
    assert_int_equal (atomic_load (&server->accepted), 1);
    ts_fetch_destroy (&fetch);
}

static void
fetch_reports_a_refused_connection_as_retryable (void **state)
{
    //  A port nobody listens on: bind one, close it, use it.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname (fd, (struct sockaddr *) &addr, &len);
    close (fd);
    s_server_t closed = { .port = ntohs (addr.sin_port) };
    ts_fetch_t *fetch = s_fetch_new (1000, 5000);
    ts_fetch_result_t res;
    s_fetch_one (fetch, &closed, "/ok", &res);
    assert_int_equal (res.rc, TS_EUPSTREAM);
    assert_int_equal (res.curl_code, CURLE_COULDNT_CONNECT);
    assert_false (res.connected);
    ts_fetch_verdict_t verdict;
    assert_true (ts_fetch_classify (&s_opts, &res, "c", &verdict));
    assert_true (verdict.retry);
    assert_non_null (strstr (verdict.detail, "id=c: upstream: "));
    ts_fetch_destroy (&fetch);
}

static void
fetch_scrubs_the_secret_from_libcurl_errors (void **state)
{
    //  libcurl quotes an unsupported scheme in its error text.
    ts_fetch_opts_t opts = s_opts;
    opts.secret = "k3ysecret";
    char err [TS_ERRLEN];
    ts_fetch_t *fetch = ts_fetch_new (&opts, err);
    assert_non_null (fetch);
    assert_int_equal (ts_fetch_add (fetch, "k3ysecret://h/x", 7), 0);
    ts_fetch_result_t res;
    bool done = false;
    int64_t deadline = ts_mono_ms () + 5000;
    while (!done && ts_mono_ms () < deadline) {
        assert_int_equal (ts_fetch_wait (fetch, -1, 100, err), 0);
        done = ts_fetch_next (fetch, &res);
    }
    assert_true (done);
    assert_int_equal (res.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
    assert_non_null (strstr (res.error, "***"));
    assert_null (strstr (res.error, "k3ysecret"));
    ts_fetch_destroy (&fetch);
}

//  Runs req on fetch and returns the echo server's answer in res.
static void
s_request_one (ts_fetch_t *fetch, const ts_fetch_request_t *req,
               ts_fetch_result_t *res)
{
    assert_int_equal (ts_fetch_add_request (fetch, req, 9), 0);
    int64_t deadline = ts_mono_ms () + 5000;
    char err [TS_ERRLEN];
    while (ts_mono_ms () < deadline) {
        assert_int_equal (ts_fetch_wait (fetch, -1, 100, err), 0);
        if (ts_fetch_next (fetch, res))
            return;
    }
    fail_msg ("no answer");
}

static void
fetch_sends_a_post_body_and_request_headers_then_gets_again (void **state)
{
    s_server_t *server = (s_server_t *) *state;
    ts_strlist_t *fixed = ts_strlist_new ();
    ts_strlist_append (fixed, "x-default: yes");
    ts_fetch_opts_t opts = s_opts;
    opts.headers = fixed;
    char err [TS_ERRLEN];
    ts_fetch_t *fetch = ts_fetch_new (&opts, err);
    assert_non_null (fetch);
    ts_strlist_t *more = ts_strlist_new ();
    ts_strlist_append (more, "X-Test: one");
    char url [128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/echo", server->port);
    ts_fetch_result_t res;
    ts_fetch_request_t post = { .method = "POST", .url = url,
                                .body = "{\"a\": 1}", .headers = more };
    s_request_one (fetch, &post, &res);
    assert_int_equal (res.status, 200);
    assert_string_equal (res.body, "POST|{\"a\": 1}|one|yes");
    //  The same handle goes back to GET, without the request's headers.
    ts_fetch_request_t get = { .url = url };
    s_request_one (fetch, &get, &res);
    assert_string_equal (res.body, "GET||-|yes");
    //  A bare request is sent none of the fetcher's headers.
    ts_fetch_request_t bare = { .method = "POST", .url = url, .body = "x=1",
                                .bare = true };
    s_request_one (fetch, &bare, &res);
    assert_string_equal (res.body, "POST|x=1|-|-");
    ts_fetch_request_t put = { .method = "PUT", .url = url };
    assert_int_equal (ts_fetch_add_request (fetch, &put, 1), TS_EINVAL);
    assert_int_equal (atomic_load (&server->accepted), 1);
    ts_fetch_destroy (&fetch);
    ts_strlist_destroy (&more);
    ts_strlist_destroy (&fixed);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (fetch_reuses_one_connection_for_requests_in_turn,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_aborts_a_streamed_body_at_the_cap,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_refuses_a_declared_length_over_the_cap,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_reports_the_link_headers_joined,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_reports_retry_after_of_a_429,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_times_out_a_silent_upstream,
                                         server_setup, server_teardown),
        cmocka_unit_test (fetch_reports_a_refused_connection_as_retryable),
        cmocka_unit_test (fetch_scrubs_the_secret_from_libcurl_errors),
        cmocka_unit_test_setup_teardown (fetch_start_sends_added_requests_without_waiting,
                                         server_setup, server_teardown),
        cmocka_unit_test_setup_teardown (fetch_sends_a_post_body_and_request_headers_then_gets_again,
                                         server_setup, server_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_fetch", tests, NULL, NULL);
}
