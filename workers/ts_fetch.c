/*  ts_fetch - concurrent HTTP requests over libcurl multi. See ts_fetch.h.

    A transfer (s_xfer_t) owns one easy handle and its body buffer. Free
    transfers wait on a list for reuse; requests beyond max_active wait on
    a FIFO of s_req_t until a transfer frees up. The transfer handed out
    by ts_fetch_next goes back to the free list on the next call, so the
    caller can read its body without a copy.

    The classifier (ts_fetch_classify and friends) is pure and only reads
    results: the retry policy lives in ts_fetch_classify.c, in one
    place. */

#include "ts_fetch.h"
#include "ts_redact.h"

#include <curl/curl.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define KEEP_BUFFER_MAX (1024 * 1024)   //  larger buffers freed on reuse

//  CURLINFO_RETRY_AFTER came with libcurl 7.66; before it, the header is
//  read by a header callback and parsed here.
#if LIBCURL_VERSION_NUM >= 0x074200
#   define HAVE_RETRY_AFTER_INFO 1
#else
#   define HAVE_RETRY_AFTER_INFO 0
#endif

typedef struct _s_req_t s_req_t;
struct _s_req_t {
    char     *url;              //  owned
    bool      post;             //  POST body, else GET
    char     *body;             //  owned, POST only; NULL: empty
    struct curl_slist *headers; //  owned; NULL: the fetcher's at start
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
    bool        oom;            //  body buffer could not grow
    int64_t     retry_after_ms; //  Retry-After (old libcurl only)
    char       *link;           //  the response's Link headers, or NULL
    char        errbuf [CURL_ERROR_SIZE];
    char        error [TS_ERRLEN];
    bool        running;        //  in the multi handle
    s_xfer_t   *next;           //  on the free list
    s_xfer_t   *all_next;       //  on the list of every transfer
};

//  A header list replaced by ts_fetch_set_headers, kept until no
//  transfer that started with it can be running.
typedef struct s_retired_t {
    struct curl_slist  *headers;
    struct s_retired_t *next;
} s_retired_t;

struct _ts_fetch_t {
    ts_fetch_opts_t     opts;       //  headers pointer not kept
    CURLM              *multi;
    struct curl_slist  *headers;    //  set on every request started
    s_retired_t        *retired;    //  header lists replaced while
                                    //  transfers may still use them
    s_xfer_t           *free_list;  //  idle transfers
    s_xfer_t           *all;        //  every transfer, owns them
    size_t              active;     //  transfers in the multi handle
    s_req_t            *queue_head; //  requests waiting for a transfer
    s_req_t            *queue_tail;
    size_t              queued;
    bool                unsent;     //  handles added since libcurl ran
    s_xfer_t           *last;       //  handed out by ts_fetch_next
};

static void s_headers_free (struct curl_slist **headers_p);

static void
s_req_free (s_req_t **req_p)
{
    if (*req_p) {
        //  The URL, body and headers may hold the API key, a token or a
        //  client secret.
        explicit_bzero ((*req_p)->url, strlen ((*req_p)->url));
        free ((*req_p)->url);
        if ((*req_p)->body) {
            explicit_bzero ((*req_p)->body, strlen ((*req_p)->body));
            free ((*req_p)->body);
        }
        s_headers_free (&(*req_p)->headers);
        free (*req_p);
        *req_p = NULL;
    }
}

static size_t
s_write (char *data, size_t size, size_t nmemb, void *arg)
{
    s_xfer_t *xfer = (s_xfer_t *) arg;
    size_t n = size * nmemb;
    size_t max = xfer->owner->opts.max_body_bytes;
    if (n > max - xfer->size) {
        xfer->over = true;
        return 0;                       //  aborts the transfer
    }
    if (xfer->size + n + 1 > xfer->cap) {
        //  Grow by doubling, but never past the cap (+1 for the NUL).
        size_t cap = xfer->cap? xfer->cap: 16384;
        while (cap < xfer->size + n + 1)
            cap = cap > max / 2? max + 1: cap * 2;
        char *buf = realloc (xfer->buf, cap);
        if (!buf) {
            xfer->oom = true;
            return 0;
        }
        xfer->buf = buf;
        xfer->cap = cap;
    }
    memcpy (xfer->buf + xfer->size, data, n);
    xfer->size += n;
    xfer->buf [xfer->size] = 0;
    return n;
}

#if !HAVE_RETRY_AFTER_INFO
static size_t
s_header (char *data, size_t size, size_t nmemb, void *arg)
{
    s_xfer_t *xfer = (s_xfer_t *) arg;
    size_t n = size * nmemb;
    static const char name [] = "retry-after:";
    if (n > sizeof name - 1 && n < 256
    &&  strncasecmp (data, name, sizeof name - 1) == 0) {
        char value [256];
        memcpy (value, data + sizeof name - 1, n - (sizeof name - 1));
        value [n - (sizeof name - 1)] = 0;
        xfer->retry_after_ms = ts_fetch_retry_after_parse (value, ts_now_ms ());
    }
    return n;
}
#endif

//  Joins the Link headers of the response just completed (RFC 8288 lets
//  them be one or several) with ", " into xfer->link. Returns it, or
//  NULL if there is none or no memory (pagination then sees no link).
static const char *
s_link (s_xfer_t *xfer)
{
    free (xfer->link);
    xfer->link = NULL;
    size_t used = 0;
    struct curl_header *h;
    for (size_t i = 0; curl_easy_header (xfer->easy, "Link", i,
                                         CURLH_HEADER, -1, &h) == CURLHE_OK;
         i++) {
        size_t len = strlen (h->value);
        char *grown = realloc (xfer->link, used + len + 3);
        if (!grown)
            return NULL;
        xfer->link = grown;
        used += (size_t) snprintf (xfer->link + used, len + 3, "%s%s",
                                   used? ", ": "", h->value);
        if (i + 1 >= h->amount)
            break;
    }
    return xfer->link;
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
        free (xfer->link);
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
#if !HAVE_RETRY_AFTER_INFO
    curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (easy, CURLOPT_HEADERDATA, xfer);
#endif
    curl_easy_setopt (easy, CURLOPT_PRIVATE, xfer);
    curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, xfer->errbuf);
    //  Verbose mode prints URLs and headers, API key and all: never on.
    curl_easy_setopt (easy, CURLOPT_VERBOSE, 0L);
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
    return xfer;
}

//  Frees a header list, wiping it first: it may carry an API key.
static void
s_headers_free (struct curl_slist **headers_p)
{
    for (struct curl_slist *h = *headers_p; h; h = h->next)
        explicit_bzero (h->data, strlen (h->data));
    curl_slist_free_all (*headers_p);
    *headers_p = NULL;
}

//  Frees the retired header lists once no transfer runs (all = true:
//  whatever runs, at destroy).
static void
s_retired_free (ts_fetch_t *self, bool all)
{
    if (self->active > 0 && !all)
        return;
    while (self->retired) {
        s_retired_t *next = self->retired->next;
        s_headers_free (&self->retired->headers);
        free (self->retired);
        self->retired = next;
    }
}

//  Builds a header list of headers (NULL: none) into *list. Returns 0 or
//  TS_ENOMEM (*list NULL).
static int
s_headers_build (const ts_strlist_t *headers, struct curl_slist **list)
{
    *list = NULL;
    for (size_t i = 0; headers && i < headers->n; i++) {
        struct curl_slist *more = curl_slist_append (*list,
                                                     headers->items [i]);
        if (!more) {
            s_headers_free (list);
            return TS_ENOMEM;
        }
        *list = more;
    }
    return 0;
}

int
ts_fetch_set_headers (ts_fetch_t *self, const ts_strlist_t *headers,
                      const char *secret)
{
    assert (self);
    struct curl_slist *list;
    s_retired_t *retired = calloc (1, sizeof *retired);
    if (!retired || s_headers_build (headers, &list)) {
        free (retired);
        return TS_ENOMEM;
    }
    retired->headers = self->headers;
    retired->next = self->retired;
    self->retired = retired;
    self->headers = list;
    self->opts.secret = secret;
    s_retired_free (self, false);
    return 0;
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
        xfer->oom = false;
        xfer->retry_after_ms = 0;
        xfer->errbuf [0] = 0;
        xfer->error [0] = 0;
        curl_easy_setopt (xfer->easy, CURLOPT_URL, req->url);
        curl_easy_setopt (xfer->easy, CURLOPT_HTTPHEADER,
                          req->headers? req->headers: self->headers);
        if (req->post) {
            const char *body = req->body? req->body: "";
            curl_easy_setopt (xfer->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                              (curl_off_t) strlen (body));
            curl_easy_setopt (xfer->easy, CURLOPT_POSTFIELDS, body);
        }
        else
            curl_easy_setopt (xfer->easy, CURLOPT_HTTPGET, 1L);
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
        self->unsent = true;
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
    //  Keep one idle connection per transfer slot, so each can reuse
    //  one (curl's default is 4 times the handles added, which for a
    //  worker that only ever talks to one upstream is too many).
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS,
                       (long) opts->max_active);
    if (s_headers_build (opts->headers, &self->headers))
        goto fail;
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
        s_headers_free (&self->headers);
        s_retired_free (self, true);
        free (self);
        curl_global_cleanup ();
        *self_p = NULL;
    }
}

//  Appends a copy of each line of more (NULL: none) to *list. Returns 0
//  or TS_ENOMEM (*list then freed).
static int
s_headers_append (struct curl_slist **list, const struct curl_slist *copy,
                  const ts_strlist_t *more)
{
    for (; copy; copy = copy->next) {
        struct curl_slist *next = curl_slist_append (*list, copy->data);
        if (!next) {
            s_headers_free (list);
            return TS_ENOMEM;
        }
        *list = next;
    }
    struct curl_slist *extra = NULL;
    if (s_headers_build (more, &extra))
        return TS_ENOMEM;
    if (!*list)
        *list = extra;
    else {
        struct curl_slist *last = *list;
        while (last->next)
            last = last->next;
        last->next = extra;
    }
    return 0;
}

int
ts_fetch_add_request (ts_fetch_t *self, const ts_fetch_request_t *request,
                      uint64_t tag)
{
    assert (self);
    assert (request && request->url);
    const char *method = request->method? request->method: "GET";
    bool post = strcmp (method, "POST") == 0;
    if (!post && strcmp (method, "GET") != 0)
        return TS_EINVAL;
    s_req_t *req = calloc (1, sizeof (s_req_t));
    if (!req)
        return TS_ENOMEM;
    bool ok = (req->url = strdup (request->url)) != NULL;
    req->post = post;
    if (ok && post && request->body && *request->body)
        ok = (req->body = strdup (request->body)) != NULL;
    if (ok && (request->headers || request->bare || post)) {
        ok = s_headers_append (&req->headers,
                               request->bare? NULL: self->headers,
                               request->headers) == 0;
        //  libcurl would wait for "100 Continue" before a large body.
        struct curl_slist *next = ok? curl_slist_append (req->headers,
                                                         "Expect:"): NULL;
        if (next)
            req->headers = next;
        ok = ok && next;
    }
    if (!ok) {
        if (!req->url)
            free (req);
        else
            s_req_free (&req);
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
ts_fetch_add (ts_fetch_t *self, const char *url, uint64_t tag)
{
    ts_fetch_request_t req = { .method = "GET", .url = url };
    return ts_fetch_add_request (self, &req, tag);
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
        self->unsent = false;
        rc = curl_multi_perform (self->multi, &running);
    }
    if (rc != CURLM_OK) {
        ts_errf (err, "libcurl: %s", curl_multi_strerror (rc));
        return TS_EUPSTREAM;
    }
    return 0;
}

int
ts_fetch_start (ts_fetch_t *self, char *err)
{
    assert (self);
    if (!self->unsent)
        return 0;
    self->unsent = false;
    int running;
    CURLMcode rc = curl_multi_perform (self->multi, &running);
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
        s_retired_free (self, false);
        assert (xfer && xfer->req);

        memset (result, 0, sizeof *result);
        result->tag = xfer->req->tag;
        result->elapsed_ms = ts_mono_ms () - xfer->req->added_ms;
        result->body = xfer->buf? xfer->buf: "";
        result->size = xfer->size;
        result->link = s_link (xfer);
        result->curl_code = (int) code;
        curl_off_t connect_us = 0, pretransfer_us = 0;
        curl_easy_getinfo (easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        curl_easy_getinfo (easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
        result->connected = connect_us > 0 || pretransfer_us > 0;
#if HAVE_RETRY_AFTER_INFO
        curl_off_t retry_after_s = 0;
        curl_easy_getinfo (easy, CURLINFO_RETRY_AFTER, &retry_after_s);
        result->retry_after_ms = retry_after_s <= 0? 0
            : retry_after_s > TS_FETCH_RETRY_AFTER_MAX_MS / 1000
            ? TS_FETCH_RETRY_AFTER_MAX_MS: (int64_t) retry_after_s * 1000;
#else
        result->retry_after_ms = xfer->retry_after_ms;
#endif
        ts_strlcpy (xfer->error, *xfer->errbuf? xfer->errbuf:
                    curl_easy_strerror (code), sizeof xfer->error);
        //  libcurl's messages may quote the URL.
        ts_redact_text (xfer->error, sizeof xfer->error, self->opts.secret);
        explicit_bzero (xfer->errbuf, sizeof xfer->errbuf);
        if (code == CURLE_OK) {
            curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &result->status);
            result->rc = 0;
            xfer->error [0] = 0;
        }
        else
        if (xfer->over || code == CURLE_FILESIZE_EXCEEDED) {
            result->rc = TS_ETOOBIG;
            result->curl_code = CURLE_FILESIZE_EXCEEDED;
            ts_errf (xfer->error, "response over %zu bytes",
                     self->opts.max_body_bytes);
        }
        else
        if (xfer->oom) {
            result->rc = TS_ENOMEM;
            result->curl_code = CURLE_OUT_OF_MEMORY;
            ts_errf (xfer->error, "out of memory for the response body");
        }
        else
        if (code == CURLE_OPERATION_TIMEDOUT)
            result->rc = TS_ETIMEOUT;
        else
            result->rc = TS_EUPSTREAM;
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

const char *
ts_fetch_libraries (void)
{
    static char text [64];
    if (!*text) {
        const curl_version_info_data *info = curl_version_info (CURLVERSION_NOW);
        snprintf (text, sizeof text, "libcurl %s", info? info->version: "?");
    }
    return text;
}
