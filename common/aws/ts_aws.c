/*  ts_aws - signed JSON calls to one AWS service (see ts_aws.h).

    A call: credentials from the chain (ts_aws_creds), the request signed
    (ts_aws_sigv4) with exactly the Host header that is sent, POSTed with
    a libcurl easy handle taken from the client's pool. The handles share
    one curl share object (DNS cache, TLS sessions, connection cache,
    each behind its own mutex), so a connection opened by one thread is
    reused by the next call of any thread. Failures worth another try
    (network, 5xx, 429, throttling error types, an expired token) are
    retried with exponential backoff and full jitter; others end the call
    with the service's error type and message. */

#include "ts_aws.h"
#include "ts_aws_body.h"
#include "ts_aws_creds.h"
#include "ts_aws_sigv4.h"
#include "ts_log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define POOL_MAX      16                //  idle easy handles kept
#define REPLY_MAX     (64 * 1024 * 1024)
#define BACKOFF_BASE_MS 50
#define BACKOFF_CAP_MS  5000

struct _ts_aws_t {
    char                  service [64];
    char                  region [64];
    char                  endpoint [512];
    char                  what [64];
    int                   timeout_ms;
    int                   retries;
    ts_aws_sigv4_t       *signer;
    ts_aws_creds_chain_t *creds;
    CURLSH               *share;
    pthread_mutex_t       share_locks [CURL_LOCK_DATA_LAST];
    pthread_mutex_t       pool_lock;    //  guards idle, idle_count
    CURL                 *idle [POOL_MAX];
    size_t                idle_count;
};

//  ---------------------------------------------------------------------
//  Policy (pure)

bool
ts_aws_retryable (int http_status, const char *type)
{
    static const char *throttling [] = {
        "Throttling", "ThrottlingException", "ThrottledException",
        "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
        "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
        "InternalServerError", "ServiceUnavailable",
    };
    if (http_status == 0 || http_status == 429 || http_status >= 500)
        return true;
    for (size_t i = 0; type && i < sizeof throttling / sizeof throttling [0]; i++)
        if (strcmp (type, throttling [i]) == 0)
            return true;
    return false;
}

static bool
s_expired_token (const char *type)
{
    return strcmp (type, "ExpiredTokenException") == 0
        || strcmp (type, "ExpiredToken") == 0
        || strcmp (type, "RequestExpired") == 0;
}

int64_t
ts_aws_backoff_ms (int attempt, unsigned *seed)
{
    int64_t ceiling = BACKOFF_BASE_MS;
    for (int i = 0; i < attempt && ceiling < BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > BACKOFF_CAP_MS)
        ceiling = BACKOFF_CAP_MS;
    return (int64_t) (rand_r (seed) % (unsigned) (ceiling + 1));
}

//  "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" and
//  "ResourceNotFoundException:http://internal..." both give the name.
static void
s_set_type (ts_aws_error_t *error, const char *type, size_t len)
{
    const char *hash = memchr (type, '#', len);
    if (hash) {
        len -= (size_t) (hash + 1 - type);
        type = hash + 1;
    }
    const char *colon = memchr (type, ':', len);
    if (colon)
        len = (size_t) (colon - type);
    while (len > 0 && (type [len - 1] == ' ' || type [len - 1] == '\r'
                       || type [len - 1] == '\n'))
        len--;
    if (len >= sizeof error->type)
        len = sizeof error->type - 1;
    memcpy (error->type, type, len);
    error->type [len] = 0;
}

void
ts_aws_error_parse (int http_status, const char *body, size_t size,
                    const char *header_type, ts_aws_error_t *error)
{
    memset (error, 0, sizeof *error);
    error->http_status = http_status;
    json_t *doc = body && size? json_loadb (body, size, 0, NULL): NULL;
    const char *type = NULL, *message = NULL;
    if (json_is_object (doc)) {
        type = json_string_value (json_object_get (doc, "__type"));
        if (!type)
            type = json_string_value (json_object_get (doc, "code"));
        message = json_string_value (json_object_get (doc, "message"));
        if (!message)
            message = json_string_value (json_object_get (doc, "Message"));
    }
    if (type)
        s_set_type (error, type, strlen (type));
    else
    if (header_type && *header_type)
        s_set_type (error, header_type, strlen (header_type));
    if (message)
        ts_strlcpy (error->message, message, sizeof error->message);
    else
    if (!doc && body && size) {
        //  Not JSON (a proxy's page): its start, printable bytes only.
        size_t n = size < sizeof error->message - 1? size: sizeof error->message - 1;
        for (size_t i = 0; i < n; i++)
            error->message [i] = (body [i] >= ' ' && body [i] < 127)? body [i]: ' ';
        error->message [n] = 0;
    }
    json_decref (doc);
}

//  ---------------------------------------------------------------------
//  The client

static void
s_share_lock (CURL *handle, curl_lock_data data, curl_lock_access access, void *arg)
{
    ts_aws_t *self = arg;
    pthread_mutex_lock (&self->share_locks [data]);
}

static void
s_share_unlock (CURL *handle, curl_lock_data data, void *arg)
{
    ts_aws_t *self = arg;
    pthread_mutex_unlock (&self->share_locks [data]);
}

static int
s_resolve_region (const ts_aws_config_t *cfg, char *region, size_t size, char *err)
{
    const char *from = cfg->region && *cfg->region? cfg->region: getenv ("AWS_REGION");
    if (!from || !*from)
        from = getenv ("AWS_DEFAULT_REGION");
    if (from && *from)
        ts_strlcpy (region, from, size);
    else
    if (!ts_aws_creds_profile_region (region, size)) {
        ts_errf (err, "%s: no AWS region: set %s.region, AWS_REGION, "
                 "AWS_DEFAULT_REGION or region in the profile of the shared config "
                 "file", cfg->what, cfg->what);
        return TS_ECONFIG;
    }
    for (const char *p = region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
            ts_errf (err, "%s: region '%.40s' is not a region name (a-z, 0-9, -)",
                     cfg->what, region);
            return TS_ECONFIG;
        }
    return 0;
}

ts_aws_t *
ts_aws_new (const ts_aws_config_t *cfg, char *err)
{
    const char *what = cfg && cfg->what && *cfg->what? cfg->what: "aws";
    if (!cfg || !cfg->service || !*cfg->service || strlen (cfg->service) >= 64) {
        ts_errf (err, "%s: no AWS service name", what);
        return NULL;
    }
    ts_aws_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "%s: out of memory", what);
        return NULL;
    }
    ts_strlcpy (self->service, cfg->service, sizeof self->service);
    ts_strlcpy (self->what, what, sizeof self->what);
    self->timeout_ms = cfg->timeout_ms > 0? cfg->timeout_ms: 10000;
    self->retries = cfg->retries >= 0? cfg->retries: 0;
    if (self->retries > 20)
        self->retries = 20;
    pthread_mutex_init (&self->pool_lock, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init (&self->share_locks [i], NULL);
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ts_errf (err, "%s: libcurl initialisation failed", what);
        free (self);
        return NULL;
    }
    ts_aws_config_t named = *cfg;
    named.what = self->what;
    if (s_resolve_region (&named, self->region, sizeof self->region, err))
        goto fail;
    if (cfg->endpoint && *cfg->endpoint) {
        if (strncmp (cfg->endpoint, "http://", 7) && strncmp (cfg->endpoint, "https://", 8)) {
            ts_errf (err, "%s: endpoint '%.100s' must start with http:// or https://",
                     what, cfg->endpoint);
            goto fail;
        }
        if (ts_strlcpy (self->endpoint, cfg->endpoint, sizeof self->endpoint)) {
            ts_errf (err, "%s: endpoint longer than %zu bytes", what,
                     sizeof self->endpoint - 1);
            goto fail;
        }
    }
    else
        snprintf (self->endpoint, sizeof self->endpoint, "https://%s.%s.amazonaws.com%s",
                  self->service, self->region,
                  strncmp (self->region, "cn-", 3) == 0? ".cn": "");
    self->signer = ts_aws_sigv4_new (self->region, self->service);
    self->share = curl_share_init ();
    if (!self->signer || !self->share) {
        ts_errf (err, "%s: out of memory", what);
        goto fail;
    }
    curl_share_setopt (self->share, CURLSHOPT_LOCKFUNC, s_share_lock);
    curl_share_setopt (self->share, CURLSHOPT_UNLOCKFUNC, s_share_unlock);
    curl_share_setopt (self->share, CURLSHOPT_USERDATA, self);
    curl_share_setopt (self->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt (self->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt (self->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    self->creds = ts_aws_creds_chain_new (self->what, 0, err);
    if (!self->creds)
        goto fail;
    ts_info ("%s: AWS %s in %s at %s", self->what, self->service, self->region,
             self->endpoint);
    return self;
fail:
    ts_aws_destroy (&self);
    return NULL;
}

void
ts_aws_destroy (ts_aws_t **self_p)
{
    if (self_p && *self_p) {
        ts_aws_t *self = *self_p;
        for (size_t i = 0; i < self->idle_count; i++)
            curl_easy_cleanup (self->idle [i]);
        if (self->share)
            curl_share_cleanup (self->share);
        ts_aws_creds_chain_destroy (&self->creds);
        ts_aws_sigv4_destroy (&self->signer);
        pthread_mutex_destroy (&self->pool_lock);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy (&self->share_locks [i]);
        free (self);
        curl_global_cleanup ();
        *self_p = NULL;
    }
}

const char *
ts_aws_region (const ts_aws_t *self)
{
    return self->region;
}

const char *
ts_aws_endpoint (const ts_aws_t *self)
{
    return self->endpoint;
}

const char *
ts_aws_credentials_source (const ts_aws_t *self)
{
    return ts_aws_creds_source (self->creds);
}

static char s_libraries_text [160];

static void
s_libraries (void)
{
    const curl_version_info_data *info = curl_version_info (CURLVERSION_NOW);
    snprintf (s_libraries_text, sizeof s_libraries_text,
              "libcurl %s, OpenSSL libcrypto %s, jansson %s",
              info? info->version: "?", OpenSSL_version (OPENSSL_VERSION_STRING),
              jansson_version_str ());
}

const char *
ts_aws_libraries (void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once (&once, s_libraries);
    return s_libraries_text;
}

//  ---------------------------------------------------------------------
//  One call

typedef struct {
    ts_aws_body_t body;
    char          error_type [128];     //  x-amzn-ErrorType, if sent
} s_reply_t;

static size_t
s_on_header (char *p, size_t size, size_t n, void *arg)
{
    s_reply_t *r = arg;
    size_t len = size * n;
    static const char name [] = "x-amzn-errortype:";
    if (len > sizeof name && strncasecmp (p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1;
        size_t vlen = len - (sizeof name - 1);
        while (vlen > 0 && *v == ' ') {
            v++;
            vlen--;
        }
        if (vlen >= sizeof r->error_type)
            vlen = sizeof r->error_type - 1;
        memcpy (r->error_type, v, vlen);
        r->error_type [vlen] = 0;
    }
    return len;
}

//  The authority (host[:port]) and the path of an endpoint URL.
static int
s_split_url (const char *url, char *host, size_t host_size, const char **path)
{
    const char *start = strstr (url, "://");
    if (!start)
        return TS_EINVAL;
    start += 3;
    size_t len = strcspn (start, "/?#");
    if (len == 0 || len >= host_size || memchr (start, '@', len))
        return TS_EINVAL;
    memcpy (host, start, len);
    host [len] = 0;
    *path = start [len] == '/'? start + len: "/";
    return 0;
}

static CURL *
s_take_handle (ts_aws_t *self)
{
    CURL *curl = NULL;
    pthread_mutex_lock (&self->pool_lock);
    if (self->idle_count > 0)
        curl = self->idle [--self->idle_count];
    pthread_mutex_unlock (&self->pool_lock);
    if (!curl) {
        curl = curl_easy_init ();
        if (curl)
            curl_easy_setopt (curl, CURLOPT_SHARE, self->share);
    }
    else
        curl_easy_reset (curl);
    if (curl) {
        curl_easy_setopt (curl, CURLOPT_SHARE, self->share);
        curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt (curl, CURLOPT_USERAGENT, "tscache");
        curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    }
    return curl;
}

static void
s_give_handle (ts_aws_t *self, CURL *curl)
{
    pthread_mutex_lock (&self->pool_lock);
    if (self->idle_count < POOL_MAX) {
        self->idle [self->idle_count++] = curl;
        curl = NULL;
    }
    pthread_mutex_unlock (&self->pool_lock);
    if (curl)
        curl_easy_cleanup (curl);
}

//  Appends the header line "name value" (name with its colon) to *list.
//  False if out of memory or too long (*list unchanged then).
static bool
s_header (struct curl_slist **list, const char *name, const char *value)
{
    char line [5 * 1024];               //  the token's line is the long one
    int n = snprintf (line, sizeof line, "%s%s", name, value);
    struct curl_slist *grown = n >= 0 && (size_t) n < sizeof line
                             ? curl_slist_append (*list, line): NULL;
    if (n > 0)
        OPENSSL_cleanse (line, (size_t) n < sizeof line? (size_t) n: sizeof line);
    if (grown)
        *list = grown;
    return grown != NULL;
}

//  One attempt. Returns 0 with status set if an answer came, else the
//  curl failure in err.
static int
s_attempt (ts_aws_t *self, const char *url, const char *target,
           const char *content_type, const char *body, size_t size,
           s_reply_t *reply, long *status, char *err)
{
    char host [256];
    const char *path;
    if (s_split_url (url, host, sizeof host, &path)) {
        ts_errf (err, "endpoint '%.100s' is not a URL of a host", url);
        return TS_EINVAL;
    }
    ts_aws_creds_t creds;
    int rc = ts_aws_creds_get (self->creds, ts_now_ms (), &creds, err);
    if (rc)
        return rc;
    ts_aws_header_t headers [3] = {
        { "Host", host }, { "Content-Type", content_type }, { "X-Amz-Target", target }
    };
    const char *query = strchr (path, '?');
    char path_only [512];
    if (query) {
        snprintf (path_only, sizeof path_only, "%.*s", (int) (query - path), path);
        path = path_only;
        query++;
    }
    ts_aws_sigv4_request_t req = {
        .method = "POST", .path = path, .query = query, .headers = headers,
        .header_count = target? 3: 2, .body = body, .body_size = size
    };
    ts_aws_sigv4_out_t out;
    rc = ts_aws_sigv4_sign (self->signer, &req, &creds, time (NULL), &out, err);
    if (rc) {
        OPENSSL_cleanse (&creds, sizeof creds);
        return rc;
    }
    //  The headers sent: exactly those signed, and no Expect (no 100
    //  round trip) nor Accept-Encoding.
    struct curl_slist *list = NULL;
    bool ok = s_header (&list, "Expect:", "")
           && s_header (&list, "Accept-Encoding:", "")
           && s_header (&list, "Host: ", host)
           && s_header (&list, "Content-Type: ", content_type)
           && (!target || s_header (&list, "X-Amz-Target: ", target))
           && s_header (&list, "X-Amz-Date: ", out.amz_date)
           && (!creds.session_token [0]
               || s_header (&list, "X-Amz-Security-Token: ", creds.session_token))
           && s_header (&list, "Authorization: ", out.authorization);
    OPENSSL_cleanse (&creds, sizeof creds);
    if (!ok) {
        curl_slist_free_all (list);
        ts_errf (err, "out of memory");
        return TS_ENOMEM;
    }

    CURL *curl = s_take_handle (self);
    if (!curl) {
        curl_slist_free_all (list);
        ts_errf (err, "cannot create a libcurl handle");
        return TS_ENOMEM;
    }
    char curl_err [CURL_ERROR_SIZE] = "";
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_POST, 1L);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, ts_aws_body_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &reply->body);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, reply);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode code = curl_easy_perform (curl);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, status);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all (list);
    s_give_handle (self, curl);
    if (code == CURLE_OK)
        return 0;
    *status = 0;
    if (reply->body.over)
        ts_errf (err, "answer larger than %d MB", REPLY_MAX / (1024 * 1024));
    else
        ts_errf (err, "%s", curl_err [0]? curl_err: curl_easy_strerror (code));
    return code == CURLE_OPERATION_TIMEDOUT? TS_ETIMEOUT: TS_EBACKEND;
}

int
ts_aws_call (ts_aws_t *self, const char *endpoint, const char *target,
             const char *content_type, const char *body, size_t size,
             char **reply, size_t *reply_size, ts_aws_error_t *error, char *err)
{
    char *error_body = NULL;
    int rc = ts_aws_call_full (self, endpoint, target, content_type, body,
                               size, reply, reply_size, error, &error_body,
                               err);
    free (error_body);
    return rc;
}

int
ts_aws_call_full (ts_aws_t *self, const char *endpoint, const char *target,
                  const char *content_type, const char *body, size_t size,
                  char **reply, size_t *reply_size, ts_aws_error_t *error,
                  char **error_body, char *err)
{
    *reply = NULL;
    *error_body = NULL;
    if (reply_size)
        *reply_size = 0;
    ts_aws_error_t local;
    if (!error)
        error = &local;
    memset (error, 0, sizeof *error);
    const char *url = endpoint && *endpoint? endpoint: self->endpoint;
    const char *name = target? target: "call";
    if (!content_type || strpbrk (content_type, "\r\n")
    ||  (target && strpbrk (target, "\r\n")) || (size && !body)) {
        ts_errf (err, "%s: %s: bad arguments", self->what, name);
        return TS_EINVAL;
    }
    unsigned seed = (unsigned) ts_mono_ms () ^ (unsigned) (uintptr_t) &seed;
    bool refreshed = false;
    char why [TS_ERRLEN] = "";
    for (int attempt = 0; attempt <= self->retries; attempt++) {
        if (attempt > 0) {
            int64_t ms = ts_aws_backoff_ms (attempt - 1, &seed);
            struct timespec ts = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };
            nanosleep (&ts, NULL);
        }
        s_reply_t r;
        memset (&r, 0, sizeof r);
        r.body.max = REPLY_MAX;
        long status = 0;
        int rc = s_attempt (self, url, target, content_type, body, size, &r, &status, why);
        if (rc != 0 || status == 200) {
            free (*error_body);         //  an earlier attempt's
            *error_body = NULL;
        }
        if (rc == TS_EINVAL || rc == TS_EAUTH || rc == TS_ENOMEM || rc == TS_ETOOBIG) {
            free (r.body.data);
            ts_errf (err, "%s: %s: %s", self->what, name, why);
            return rc == TS_EAUTH? TS_EAUTH: TS_EBACKEND;
        }
        if (rc == 0 && status == 200) {
            if (!r.body.data && !(r.body.data = strdup (""))) {
                ts_errf (err, "%s: %s: out of memory", self->what, name);
                return TS_ENOMEM;
            }
            *reply = r.body.data;
            if (reply_size)
                *reply_size = r.body.size;
            return 0;
        }
        if (rc == 0) {
            ts_aws_error_parse ((int) status, r.body.data, r.body.size, r.error_type, error);
            if (!error->type [0] && !error->message [0])
                snprintf (error->message, sizeof error->message, "HTTP %ld", status);
            ts_errf (why, "%s%s%s", error->type, error->type [0]? ": ": "",
                     error->message);
        }
        else
            error->http_status = 0;
        free (*error_body);
        *error_body = NULL;
        if (rc == 0)
            *error_body = r.body.data? r.body.data: strdup ("");
        else
            free (r.body.data);
        bool again = ts_aws_retryable (error->http_status, error->type);
        if (!again && !refreshed && s_expired_token (error->type)) {
            //  Temporary credentials the service calls expired: fetch
            //  them again once, then retry at once.
            refreshed = true;
            char ignored [TS_ERRLEN];
            if (ts_aws_creds_refresh (self->creds, ignored) == 0) {
                attempt--;
                continue;
            }
        }
        if (!again)
            break;
        if (attempt < self->retries)
            ts_debug ("%s: %s: attempt %d failed, retrying: %s", self->what, name,
                      attempt + 1, why);
    }
    ts_errf (err, "%s: %s: %s", self->what, name, why);
    return TS_EBACKEND;
}
