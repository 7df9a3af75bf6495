/*  ts_store_influxdb_http - the InfluxDB backend's client: one request
    of the write, query or v2 management API, with retries.

    Requests go to store.influxdb.url: writes to /write?db=&rp=&precision=ms
    (v1) or /api/v2/write?org=&bucket=&precision=ms (v2, when a bucket is
    set), their body gzipped (Content-Encoding: gzip) when
    store.influxdb.gzip is on; InfluxQL POSTed as a form (q=) to
    /query?db=&rp=&epoch=ms, the database being the bucket on v2 (its v1
    compatibility). Auth: a token (store.influxdb.token_env or
    token_file) as "Authorization: Token ...", else a user and password
    (user_env, password_env) as basic auth, else none. Secrets are read
    once at open, never logged, never put into an error text.

    A request with no answer, a 429 or a 5xx is sent again up to
    store.influxdb.retries times after a full-jitter backoff
    (ts_aws_backoff_ms); each attempt is bounded by timeout_ms. Handles
    are pooled and share one connection cache, so connections are
    reused across threads and requests. Answers are collected under a
    size cap (S_ANSWER_MAX). Declared in ts_store_influxdb.h. */

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "ts_aws.h"
#include "ts_aws_body.h"
#include "ts_log.h"
#include "ts_store_influxdb.h"

#define S_POOL_MAX      16                  //  idle handles kept
#define S_ANSWER_MAX    (256u << 20)        //  largest answer read
#define S_URL_MAX       1024

struct _ts_ifx_t {
    char            base [S_URL_MAX];       //  url without a trailing '/'
    char            write_path [S_URL_MAX]; //  path and query of a write
    char            query_path [S_URL_MAX]; //  path and query of /query
    bool            v2;
    bool            gzip;
    int             timeout_ms;
    int             retries;
    char           *token;                  //  secret, or NULL
    char           *user;                   //  secret, or NULL
    char           *password;               //  secret, or NULL
    CURLSH         *share;
    pthread_mutex_t share_locks [CURL_LOCK_DATA_LAST];  //  by data (curl
                                                        //  nests them)
    pthread_mutex_t pool_lock;
    CURL           *idle [S_POOL_MAX];
    size_t          idle_count;
    unsigned        seed;                   //  backoff jitter, under
                                            //  pool_lock
};

static void
s_share_lock (CURL *curl, curl_lock_data data, curl_lock_access access,
              void *arg)
{
    pthread_mutex_lock (&((ts_ifx_t *) arg)->share_locks [data]);
}

static void
s_share_unlock (CURL *curl, curl_lock_data data, void *arg)
{
    pthread_mutex_unlock (&((ts_ifx_t *) arg)->share_locks [data]);
}

//  Reads one secret from env (key KEY_env) or file (KEY_file; NULL: no
//  file key) into *out; a source named that holds nothing is an error.
static int
s_secret (const ts_config_t *cfg, const char *env_key, const char *file_key,
          char **out, char *err)
{
    const char *env = ts_config_str (cfg, env_key);
    const char *file = file_key? ts_config_str (cfg, file_key): "";
    if (!*env && !*file)
        return 0;
    char detail [TS_ERRLEN] = "";
    int rc = ts_config_secret (env, file, out, detail);
    if (rc == TS_ENOTFOUND) {
        ts_errf (err, "%s: the environment variable %s is not set or "
                 "empty%s%s", env_key, env, *file? " and no file ": "",
                 file);
        return TS_ECONFIG;
    }
    if (rc) {
        ts_errf (err, "%s: %s", *file? file_key: env_key, detail);
        return TS_ECONFIG;
    }
    return 0;
}

//  Appends "&NAME=VALUE" (VALUE url-encoded) to path if value is set.
static void
s_param (CURL *curl, char *path, const char *name, const char *value)
{
    if (!*value)
        return;
    char *enc = curl_easy_escape (curl, value, 0);
    size_t len = strlen (path);
    snprintf (path + len, S_URL_MAX - len, "%s%s=%s",
              strchr (path, '?')? "&": "?", name, enc? enc: "");
    curl_free (enc);
}

static int
s_paths (ts_ifx_t *self, const ts_config_t *cfg, char *err)
{
    CURL *curl = curl_easy_init ();
    if (!curl) {
        ts_errf (err, "store.influxdb: out of memory");
        return TS_ENOMEM;
    }
    const char *bucket = ts_config_str (cfg, "store.influxdb.bucket");
    const char *rp = ts_config_str (cfg, "store.influxdb.retention_policy");
    const char *db = self->v2? bucket:
                               ts_config_str (cfg, "store.influxdb.database");
    if (self->v2) {
        snprintf (self->write_path, S_URL_MAX, "/api/v2/write");
        s_param (curl, self->write_path, "org",
                 ts_config_str (cfg, "store.influxdb.org"));
        s_param (curl, self->write_path, "bucket", bucket);
    }
    else {
        snprintf (self->write_path, S_URL_MAX, "/write");
        s_param (curl, self->write_path, "db", db);
        s_param (curl, self->write_path, "rp", rp);
    }
    s_param (curl, self->write_path, "precision", "ms");
    snprintf (self->query_path, S_URL_MAX, "/query");
    s_param (curl, self->query_path, "db", db);
    if (!self->v2)
        s_param (curl, self->query_path, "rp", rp);
    s_param (curl, self->query_path, "epoch", "ms");
    curl_easy_cleanup (curl);
    return 0;
}

ts_ifx_t *
ts_ifx_new (const ts_config_t *cfg, char *err)
{
    const char *url = ts_config_str (cfg, "store.influxdb.url");
    if (strncmp (url, "http://", 7) && strncmp (url, "https://", 8)) {
        ts_errf (err, "store.influxdb.url: must start with http:// or "
                 "https://");
        return NULL;
    }
    if (curl_global_init (CURL_GLOBAL_DEFAULT)) {
        ts_errf (err, "store.influxdb: libcurl failed to start");
        return NULL;
    }
    ts_ifx_t *self = calloc (1, sizeof *self);
    if (!self) {
        curl_global_cleanup ();
        ts_errf (err, "store.influxdb: out of memory");
        return NULL;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init (&self->share_locks [i], NULL);
    pthread_mutex_init (&self->pool_lock, NULL);
    snprintf (self->base, S_URL_MAX, "%s", url);
    size_t len = strlen (self->base);
    while (len && self->base [len - 1] == '/')
        self->base [--len] = 0;
    self->v2 = *ts_config_str (cfg, "store.influxdb.bucket") != 0;
    self->gzip = ts_config_bool (cfg, "store.influxdb.gzip");
    self->timeout_ms = (int) ts_config_int (cfg, "store.influxdb.timeout_ms");
    self->retries = (int) ts_config_int (cfg, "store.influxdb.retries");
    self->seed = (unsigned) time (NULL) ^ (unsigned) (uintptr_t) self;
    self->share = curl_share_init ();
    if (!self->share) {
        ts_errf (err, "store.influxdb: out of memory");
        goto fail;
    }
    curl_share_setopt (self->share, CURLSHOPT_LOCKFUNC, s_share_lock);
    curl_share_setopt (self->share, CURLSHOPT_UNLOCKFUNC, s_share_unlock);
    curl_share_setopt (self->share, CURLSHOPT_USERDATA, self);
    curl_share_setopt (self->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt (self->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    if (s_secret (cfg, "store.influxdb.token_env", "store.influxdb.token_file",
                  &self->token, err)
    ||  s_secret (cfg, "store.influxdb.user_env", NULL, &self->user, err)
    ||  s_secret (cfg, "store.influxdb.password_env", NULL, &self->password,
                  err)
    ||  s_paths (self, cfg, err))
        goto fail;
    ts_info ("store.influxdb: %s API at %s%s", self->v2? "v2": "v1",
             self->base, self->token? " with a token":
                         self->user? " with a user and password": "");
    return self;
fail:
    ts_ifx_destroy (&self);
    return NULL;
}

//  Frees a secret after wiping it.
static void
s_wipe (char **secret)
{
    if (*secret) {
        volatile char *p = *secret;
        while (*p)
            *p++ = 0;
        free (*secret);
        *secret = NULL;
    }
}

void
ts_ifx_destroy (ts_ifx_t **self_p)
{
    if (self_p && *self_p) {
        ts_ifx_t *self = *self_p;
        for (size_t i = 0; i < self->idle_count; i++)
            curl_easy_cleanup (self->idle [i]);
        if (self->share)
            curl_share_cleanup (self->share);
        s_wipe (&self->token);
        s_wipe (&self->user);
        s_wipe (&self->password);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy (&self->share_locks [i]);
        pthread_mutex_destroy (&self->pool_lock);
        free (self);
        curl_global_cleanup ();
        *self_p = NULL;
    }
}

bool
ts_ifx_v2 (const ts_ifx_t *self)
{
    return self->v2;
}

static char s_libraries_text [128];

static void
s_libraries (void)
{
    curl_version_info_data *info = curl_version_info (CURLVERSION_NOW);
    snprintf (s_libraries_text, sizeof s_libraries_text,
              "libcurl %s, zlib %s", info->version, zlibVersion ());
}

const char *
ts_ifx_libraries (void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once (&once, s_libraries);
    return s_libraries_text;
}

//  ---------------------------------------------------------------------
//  One request

//  Gzips len bytes of data into *out (malloc'ed), *out_len.
static int
s_gzip (const char *data, size_t len, char **out, size_t *out_len)
{
    z_stream z;
    memset (&z, 0, sizeof z);
    //  windowBits 15 + 16: a gzip header and trailer, not zlib's.
    if (deflateInit2 (&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
        return TS_ENOMEM;
    size_t cap = deflateBound (&z, (uLong) len) + 32;
    *out = malloc (cap);
    if (!*out) {
        deflateEnd (&z);
        return TS_ENOMEM;
    }
    z.next_in = (Bytef *) data;
    z.avail_in = (uInt) len;
    z.next_out = (Bytef *) *out;
    z.avail_out = (uInt) cap;
    int zrc = deflate (&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd (&z);
    if (zrc != Z_STREAM_END) {
        free (*out);
        *out = NULL;
        return TS_ENOMEM;
    }
    return 0;
}

static CURL *
s_take (ts_ifx_t *self)
{
    CURL *curl = NULL;
    pthread_mutex_lock (&self->pool_lock);
    if (self->idle_count)
        curl = self->idle [--self->idle_count];
    pthread_mutex_unlock (&self->pool_lock);
    if (curl)
        curl_easy_reset (curl);
    else
        curl = curl_easy_init ();
    return curl;
}

static void
s_give (ts_ifx_t *self, CURL *curl)
{
    pthread_mutex_lock (&self->pool_lock);
    if (self->idle_count < S_POOL_MAX) {
        self->idle [self->idle_count++] = curl;
        curl = NULL;
    }
    pthread_mutex_unlock (&self->pool_lock);
    if (curl)
        curl_easy_cleanup (curl);
}

//  What one request sends.
typedef struct {
    const char *what;           //  "write", "query", "api"
    const char *method;         //  "GET", "POST"
    const char *path;           //  from the url's root
    const char *type;           //  Content-Type, or NULL
    const char *body;           //  or NULL
    size_t      len;
    bool        gzipped;        //  body is gzip
} s_request_t;

//  One attempt; *status 0 if no answer came (curl's error in err).
static int
s_attempt (ts_ifx_t *self, const s_request_t *req, ts_aws_body_t *answer,
           long *status, char *err)
{
    CURL *curl = s_take (self);
    if (!curl) {
        ts_errf (err, "store.influxdb: out of memory");
        return TS_ENOMEM;
    }
    char url [S_URL_MAX * 2];
    snprintf (url, sizeof url, "%s%s", self->base, req->path);
    struct curl_slist *headers = NULL;
    char line [64 + 4096];
    if (req->type) {
        snprintf (line, sizeof line, "Content-Type: %s", req->type);
        headers = curl_slist_append (headers, line);
    }
    if (req->gzipped)
        headers = curl_slist_append (headers, "Content-Encoding: gzip");
    if (self->token) {
        snprintf (line, sizeof line, "Authorization: Token %s", self->token);
        headers = curl_slist_append (headers, line);
        memset (line, 0, sizeof line);
    }
    else
    if (self->user) {
        curl_easy_setopt (curl, CURLOPT_USERNAME, self->user);
        curl_easy_setopt (curl, CURLOPT_PASSWORD,
                          self->password? self->password: "");
    }
    headers = curl_slist_append (headers, "Expect:");
    curl_easy_setopt (curl, CURLOPT_SHARE, self->share);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "tscache");
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE,
                          (curl_off_t) req->len);
    }
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, ts_aws_body_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer);
    CURLcode code = curl_easy_perform (curl);
    *status = 0;
    if (code == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, status);
    else
        ts_errf (err, "store.influxdb: %s: %s%s", req->what,
                 curl_easy_strerror (code),
                 answer->over? " (answer over the size cap)": "");
    //  The header list held the token: wipe it before it is freed.
    for (struct curl_slist *h = headers; h; h = h->next)
        if (strncmp (h->data, "Authorization:", 14) == 0)
            memset (h->data, 0, strlen (h->data));
    curl_slist_free_all (headers);
    s_give (self, curl);
    return answer->over? TS_ETOOBIG: 0;
}

//  The request with retries; on 2xx the answer in *reply (may be NULL).
static int
s_request (ts_ifx_t *self, const s_request_t *req, char **reply,
           ts_ifx_error_t *error, char *err)
{
    ts_ifx_error_t local;
    if (!error)
        error = &local;
    memset (error, 0, sizeof *error);
    if (reply)
        *reply = NULL;
    int rc = 0;
    for (int attempt = 0; attempt <= self->retries; attempt++) {
        if (attempt) {
            pthread_mutex_lock (&self->pool_lock);
            int64_t ms = ts_aws_backoff_ms (attempt - 1, &self->seed);
            pthread_mutex_unlock (&self->pool_lock);
            struct timespec ts = { (time_t) (ms / 1000),
                                   (long) (ms % 1000) * 1000000L };
            nanosleep (&ts, NULL);
        }
        ts_aws_body_t answer = { .max = S_ANSWER_MAX };
        long status = 0;
        rc = s_attempt (self, req, &answer, &status, err);
        error->http_status = (int) status;
        if (rc == 0 && status >= 200 && status < 300) {
            if (reply)
                *reply = answer.data? answer.data: strdup ("");
            else
                free (answer.data);
            return reply && !*reply? TS_ENOMEM: 0;
        }
        if (status) {
            ts_ifx_error_text (answer.data, answer.size, error->message,
                               sizeof error->message);
            ts_errf (err, "store.influxdb: %s: HTTP %ld: %s", req->what,
                     status, *error->message? error->message: "no message");
        }
        free (answer.data);
        if (rc == TS_ENOMEM || rc == TS_ETOOBIG)
            return rc;
        bool again = status == 0 || status == 429 || status >= 500;
        if (!again)
            break;
        ts_debug ("store.influxdb: %s: attempt %d failed (%s)", req->what,
                  attempt + 1, status? "server error": "no answer");
    }
    return TS_EBACKEND;
}

int
ts_ifx_write (ts_ifx_t *self, const char *body, size_t len,
              ts_ifx_error_t *error, char *err)
{
    s_request_t req = { "write", "POST", self->write_path,
                        "text/plain; charset=utf-8", body, len, false };
    char *packed = NULL;
    if (self->gzip) {
        if (s_gzip (body, len, &packed, &req.len)) {
            ts_errf (err, "store.influxdb: write: out of memory");
            return TS_ENOMEM;
        }
        req.body = packed;
        req.gzipped = true;
    }
    int rc = s_request (self, &req, NULL, error, err);
    free (packed);
    return rc;
}

//  Parses text (freed here) as a JSON object into *reply (may be NULL).
static int
s_json (char *text, const char *what, json_t **reply, char *err)
{
    json_t *doc = text && *text? json_loads (text, 0, NULL): json_object ();
    free (text);
    if (!json_is_object (doc)) {
        json_decref (doc);
        ts_errf (err, "store.influxdb: %s: answer is not a JSON object",
                 what);
        return TS_EBACKEND;
    }
    if (reply)
        *reply = doc;
    else
        json_decref (doc);
    return 0;
}

int
ts_ifx_query (ts_ifx_t *self, const char *q, json_t **reply,
              ts_ifx_error_t *error, char *err)
{
    char *enc = curl_easy_escape (NULL, q, 0);
    size_t len = enc? strlen (enc) + 3: 0;
    char *form = enc? malloc (len): NULL;
    if (!form) {
        curl_free (enc);
        ts_errf (err, "store.influxdb: query: out of memory");
        return TS_ENOMEM;
    }
    snprintf (form, len, "q=%s", enc);
    curl_free (enc);
    s_request_t req = { "query", "POST", self->query_path,
                        "application/x-www-form-urlencoded", form,
                        strlen (form), false };
    char *text = NULL;
    int rc = s_request (self, &req, &text, error, err);
    free (form);
    if (rc == 0)
        rc = s_json (text, "query", reply, err);
    return rc;
}

int
ts_ifx_api (ts_ifx_t *self, const char *method, const char *path,
            const char *body, json_t **reply, ts_ifx_error_t *error,
            char *err)
{
    s_request_t req = { "api", method, path, body? "application/json": NULL,
                        body, body? strlen (body): 0, false };
    char *text = NULL;
    int rc = s_request (self, &req, &text, error, err);
    if (rc == 0)
        rc = s_json (text, "api", reply, err);
    return rc;
}
