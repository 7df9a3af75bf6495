/*  ts_fetch - concurrent HTTP GETs over libcurl multi. See ts_fetch.h.

    A transfer (s_xfer_t) owns one easy handle and its body buffer. Free
    transfers wait on a list for reuse; requests beyond max_active wait on
    a FIFO of s_req_t until a transfer frees up. The transfer handed out
    by ts_fetch_next goes back to the free list on the next call, so the
    caller can read its body without a copy. */

#include "ts_fetch.h"

#include <curl/curl.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_BUFFER_MAX (1024 * 1024)   //  larger buffers freed on reuse

typedef struct _s_req_t s_req_t;
struct _s_req_t {
    char     *url;              //  owned
    uint64_t  tag;
    int64_t   added_ms;         //  monotonic
    s_req_t  *next;
};

typedef struct _s_xfer_t s_xfer_t;
struct _s_xfer_t {
    ts_fetch_t *owner;          //  for the body cap
    CURL       *easy;           //  reused across requests
    s_req_t    *req;            //  request in progress, owned
    char       *buf;            //  body, NUL-terminated
    size_t      size;           //  body bytes
    size_t      cap;            //  buf bytes
    bool        over;           //  body went over the cap
    char        errbuf [CURL_ERROR_SIZE];
    char        error [TS_ERRLEN];
    bool        running;        //  in the multi handle
    s_xfer_t   *next;           //  on the free list
    s_xfer_t   *all_next;       //  on the list of every transfer
};

struct _ts_fetch_t {
    ts_fetch_opts_t     opts;       //  headers pointer not kept
    CURLM              *multi;
    struct curl_slist  *headers;    //  shared by every easy handle
    s_xfer_t           *free_list;  //  idle transfers
    s_xfer_t           *all;        //  every transfer, owns them
    size_t              active;     //  transfers in the multi handle
    s_req_t            *queue_head; //  requests waiting for a transfer
    s_req_t            *queue_tail;
    size_t              queued;
    s_xfer_t           *last;       //  handed out by ts_fetch_next
};

static void
s_req_free (s_req_t **req_p)
{
    if (*req_p) {
        free ((*req_p)->url);
        free (*req_p);
        *req_p = NULL;
    }
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    s_xfer_t *xfer = (s_xfer_t *) arg;
    size_t n = size * nmemb;
    if (n > xfer->owner->opts.max_body_bytes - xfer->size) {
        xfer->over = true;
        return 0;                       //  aborts the transfer
    }
    if (xfer->size + n + 1 > xfer->cap) {
        size_t cap = xfer->cap? xfer->cap: 16384;
        while (cap < xfer->size + n + 1)
            cap *= 2;
        char *buf = realloc (xfer->buf, cap);
        if (!buf)
            return 0;
        xfer->buf = buf;
        xfer->cap = cap;
    }
    memcpy (xfer->buf + xfer->size, data, n);
    xfer->size += n;
    xfer->buf [xfer->size] = 0;
    return n;
}

static void
s_xfer_destroy (s_xfer_t **xfer_p)
{
    if (*xfer_p) {
        s_xfer_t *xfer = *xfer_p;
        if (xfer->easy)
            curl_easy_cleanup (xfer->easy);
        s_req_free (&xfer->req);
        free (xfer->buf);
        free (xfer);
        *xfer_p = NULL;
    }
}

static s_xfer_t *
s_xfer_new (ts_fetch_t *self)
{
    s_xfer_t *xfer = calloc (1, sizeof (s_xfer_t));
    if (!xfer)
        return NULL;
    xfer->owner = self;
    xfer->easy = curl_easy_init ();
    if (!xfer->easy) {
        s_xfer_destroy (&xfer);
        return NULL;
    }
    CURL *easy = xfer->easy;
    curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (easy, CURLOPT_WRITEDATA, xfer);
    curl_easy_setopt (easy, CURLOPT_PRIVATE, xfer);
    curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, xfer->errbuf);
    curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt (easy, CURLOPT_USERAGENT, "tscache-worker");
    curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT_MS,
                      self->opts.connect_timeout_ms);
    curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, self->opts.timeout_ms);
    curl_easy_setopt (easy, CURLOPT_MAXFILESIZE_LARGE,
                      (curl_off_t) self->opts.max_body_bytes);
    if (self->headers)
        curl_easy_setopt (easy, CURLOPT_HTTPHEADER, self->headers);
    return xfer;
}

//  Starts queued requests while transfers are free.
static void
s_start_queued (ts_fetch_t *self)
{
    while (self->queue_head && self->active < self->opts.max_active) {
        s_xfer_t *xfer = self->free_list;
        if (xfer)
            self->free_list = xfer->next;
        else {
            xfer = s_xfer_new (self);
            if (!xfer)
                return;                 //  retried on the next call
            xfer->all_next = self->all;
            self->all = xfer;
        }
        s_req_t *req = self->queue_head;
        xfer->size = 0;
        xfer->over = false;
        xfer->errbuf [0] = 0;
        xfer->error [0] = 0;
        curl_easy_setopt (xfer->easy, CURLOPT_URL, req->url);
        if (curl_multi_add_handle (self->multi, xfer->easy) != CURLM_OK) {
            //  Out of memory: leave the request queued, retry later.
            xfer->next = self->free_list;
            self->free_list = xfer;
            return;
        }
        self->queue_head = req->next;
        if (!self->queue_head)
            self->queue_tail = NULL;
        self->queued--;
        req->next = NULL;
        xfer->req = req;
        xfer->next = NULL;
        xfer->running = true;
        self->active++;
    }
}

ts_fetch_t *
ts_fetch_new (const ts_fetch_opts_t *opts, char *err)
{
    assert (opts);
    assert (opts->max_active >= 1);
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ts_errf (err, "cannot initialise libcurl");
        return NULL;
    }
    ts_fetch_t *self = calloc (1, sizeof (ts_fetch_t));
    if (!self) {
        curl_global_cleanup ();
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->opts = *opts;
    self->opts.headers = NULL;
    self->multi = curl_multi_init ();
    if (!self->multi)
        goto fail;
    //  Keep at most max_active connections: one per running transfer.
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS,
                       (long) opts->max_active);
    for (size_t i = 0; opts->headers && i < opts->headers->n; i++) {
        struct curl_slist *list = curl_slist_append (self->headers,
                                                     opts->headers->items [i]);
        if (!list)
            goto fail;
        self->headers = list;
    }
    return self;
fail:
    ts_errf (err, "out of memory");
    ts_fetch_destroy (&self);
    return NULL;
}

void
ts_fetch_destroy (ts_fetch_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_fetch_t *self = *self_p;
        while (self->all) {
            s_xfer_t *next = self->all->all_next;
            if (self->all->running)
                curl_multi_remove_handle (self->multi, self->all->easy);
            s_xfer_destroy (&self->all);
            self->all = next;
        }
        while (self->queue_head) {
            s_req_t *next = self->queue_head->next;
            s_req_free (&self->queue_head);
            self->queue_head = next;
        }
        if (self->multi)
            curl_multi_cleanup (self->multi);
        //  Headers may carry an API key: wipe before freeing.
        for (struct curl_slist *h = self->headers; h; h = h->next)
            explicit_bzero (h->data, strlen (h->data));
        curl_slist_free_all (self->headers);
        free (self);
        curl_global_cleanup ();
        *self_p = NULL;
    }
}

int
ts_fetch_add (ts_fetch_t *self, const char *url, uint64_t tag)
{
    assert (self);
    assert (url);
    s_req_t *req = calloc (1, sizeof (s_req_t));
    if (!req || !(req->url = strdup (url))) {
        free (req);
        return TS_ENOMEM;
    }
    req->tag = tag;
    req->added_ms = ts_mono_ms ();
    if (self->queue_tail)
        self->queue_tail->next = req;
    else
        self->queue_head = req;
    self->queue_tail = req;
    self->queued++;
    s_start_queued (self);
    return 0;
}

int
ts_fetch_wait (ts_fetch_t *self, int extra_fd, int timeout_ms, char *err)
{
    assert (self);
    s_start_queued (self);              //  in case a start failed earlier
    struct curl_waitfd extra = { .fd = extra_fd, .events = CURL_WAIT_POLLIN };
    CURLMcode rc = curl_multi_poll (self->multi, &extra,
                                    extra_fd >= 0? 1: 0, timeout_ms, NULL);
    if (rc == CURLM_OK) {
        int running;
        rc = curl_multi_perform (self->multi, &running);
    }
    if (rc != CURLM_OK) {
        ts_errf (err, "libcurl: %s", curl_multi_strerror (rc));
        return TS_EUPSTREAM;
    }
    return 0;
}

bool
ts_fetch_next (ts_fetch_t *self, ts_fetch_result_t *result)
{
    assert (self);
    assert (result);
    if (self->last) {
        s_xfer_t *xfer = self->last;
        self->last = NULL;
        s_req_free (&xfer->req);
        if (xfer->cap > KEEP_BUFFER_MAX) {
            free (xfer->buf);
            xfer->buf = NULL;
            xfer->cap = 0;
        }
        xfer->next = self->free_list;
        self->free_list = xfer;
        s_start_queued (self);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read (self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        s_xfer_t *xfer = NULL;
        curl_easy_getinfo (easy, CURLINFO_PRIVATE, &xfer);
        curl_multi_remove_handle (self->multi, easy);
        xfer->running = false;
        self->active--;
        assert (xfer && xfer->req);

        memset (result, 0, sizeof *result);
        result->tag = xfer->req->tag;
        result->elapsed_ms = ts_mono_ms () - xfer->req->added_ms;
        result->body = xfer->buf? xfer->buf: "";
        result->size = xfer->size;
        if (code == CURLE_OK) {
            curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &result->status);
            result->rc = 0;
        }
        else
        if (xfer->over || code == CURLE_FILESIZE_EXCEEDED) {
            result->rc = TS_ETOOBIG;
            ts_errf (xfer->error, "response over %zu bytes",
                     self->opts.max_body_bytes);
        }
        else
        if (code == CURLE_OPERATION_TIMEDOUT) {
            result->rc = TS_ETIMEOUT;
            ts_errf (xfer->error, "upstream timed out: %s",
                     *xfer->errbuf? xfer->errbuf: curl_easy_strerror (code));
        }
        else {
            result->rc = TS_EUPSTREAM;
            ts_errf (xfer->error, "upstream: %s",
                     *xfer->errbuf? xfer->errbuf: curl_easy_strerror (code));
        }
        result->error = xfer->error;
        self->last = xfer;
        return true;
    }
    return false;
}

size_t
ts_fetch_pending (ts_fetch_t *self)
{
    assert (self);
    return self->active + self->queued;
}
