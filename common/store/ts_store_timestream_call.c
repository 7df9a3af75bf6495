/*  ts_store_timestream_call - the Timestream backend's client: one call of
    an op of the AWS JSON 1.0 protocol (X-Amz-Target
    Timestream_20181101.Op, signed for "timestream") on the endpoint the
    call's side needs, found by endpoint discovery.

    Discovery (store.timestream.discovery: auto = on without an endpoint,
    off with one): DescribeEndpoints is POSTed to
    https://ingest.timestream.REGION.amazonaws.com (writes, database and
    table ops) or https://query.timestream.REGION.amazonaws.com (Query),
    or to store.timestream.endpoint when that is set; the answer's Address
    is used with the scheme of that URL for CachePeriodInMinutes, then
    discovered again. A network error or an InvalidEndpointException
    (HTTP 421) drops the cached endpoint and the call is sent once more to
    a newly discovered one. Without discovery every call goes to
    store.timestream.endpoint. One client serves several threads: the
    cache is behind a mutex, held only to read or replace it (two threads
    may discover at once; the last answer is kept). Declared in
    ts_store_timestream.h. */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_log.h"
#include "ts_store_timestream.h"

#define S_TARGET        "Timestream_20181101."
#define S_CONTENT_TYPE  "application/x-amz-json-1.0"
#define S_URL_MAX       512

//  A discovered endpoint of one side.
typedef struct {
    char    url [S_URL_MAX];    //  SCHEME://Address, "" if none yet
    int64_t until_ms;           //  monotonic time it is good until
} s_cached_t;

struct _ts_tms_t {
    ts_aws_t       *aws;                        //  signed calls
    bool            discovery;                  //  DescribeEndpoints first
    char            describe [2][S_URL_MAX];    //  where it goes, by side
    char            scheme [8];                 //  "http" or "https"
    pthread_mutex_t lock;                       //  guards cache, discoveries
    s_cached_t      cache [2];                  //  by side
    size_t          discoveries;                //  DescribeEndpoints made
};

int
ts_tms_endpoint_parse (const char *text, size_t len, const char *scheme,
                       char *url, size_t size, int64_t *period_ms,
                       char *err)
{
    json_t *doc = json_loadb (text, len, 0, NULL);
    json_t *first = json_array_get (json_object_get (doc, "Endpoints"), 0);
    const char *address = json_string_value (json_object_get (first,
                                                              "Address"));
    json_t *minutes = json_object_get (first, "CachePeriodInMinutes");
    int rc = 0;
    //  HOST[:PORT] only: no scheme, path, user or white space.
    if (!address || !*address
    ||  strspn (address, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        != strlen (address)) {
        ts_errf (err, "store.timestream: DescribeEndpoints: no usable "
                 "Address in the answer");
        rc = TS_EPROTO;
    }
    else {
        int n = snprintf (url, size, "%s://%s", scheme, address);
        if (n < 0 || (size_t) n >= size) {
            ts_errf (err, "store.timestream: DescribeEndpoints: Address "
                     "too long");
            rc = TS_EPROTO;
        }
        int64_t m = json_is_integer (minutes)? json_integer_value (minutes)
                                             : 1;
        if (m < 1)
            m = 1;
        if (m > 7 * 24 * 60)
            m = 7 * 24 * 60;
        *period_ms = m * 60000;
    }
    json_decref (doc);
    return rc;
}

ts_tms_t *
ts_tms_new (const ts_config_t *cfg, char *err)
{
    const char *endpoint = ts_config_str (cfg, "store.timestream.endpoint");
    const char *discovery = ts_config_str (cfg, "store.timestream.discovery");
    bool on = strcmp (discovery, "on") == 0
           || (strcmp (discovery, "auto") == 0 && !*endpoint);
    if (!on && !*endpoint) {
        ts_errf (err, "store.timestream.discovery: off needs "
                 "store.timestream.endpoint");
        return NULL;
    }
    ts_tms_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "store.timestream: out of memory");
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    ts_aws_config_t acfg = {
        .service = "timestream",
        .region = ts_config_str (cfg, "store.timestream.region"),
        .endpoint = endpoint,
        .what = "store.timestream",
        .timeout_ms = (int) ts_config_int (cfg, "store.timestream.timeout_ms"),
        .retries = (int) ts_config_int (cfg, "store.timestream.retries"),
    };
    self->aws = ts_aws_new (&acfg, err);
    if (!self->aws) {
        ts_tms_destroy (&self);
        return NULL;
    }
    self->discovery = on;
    const char *region = ts_aws_region (self->aws);
    const char *cn = strncmp (region, "cn-", 3) == 0? ".cn": "";
    const char *names [2] = { "ingest", "query" };
    for (int side = 0; side < 2; side++) {
        if (*endpoint)
            snprintf (self->describe [side], S_URL_MAX, "%s", endpoint);
        else
            snprintf (self->describe [side], S_URL_MAX,
                      "https://%s.timestream.%s.amazonaws.com%s",
                      names [side], region, cn);
    }
    snprintf (self->scheme, sizeof self->scheme, "%s",
              strncmp (self->describe [0], "http://", 7) == 0? "http":
                                                               "https");
    return self;
}

void
ts_tms_destroy (ts_tms_t **self_p)
{
    if (self_p && *self_p) {
        ts_tms_t *self = *self_p;
        ts_aws_destroy (&self->aws);
        pthread_mutex_destroy (&self->lock);
        free (self);
        *self_p = NULL;
    }
}

size_t
ts_tms_discoveries (const ts_tms_t *self)
{
    ts_tms_t *me = (ts_tms_t *) self;
    pthread_mutex_lock (&me->lock);
    size_t n = me->discoveries;
    pthread_mutex_unlock (&me->lock);
    return n;
}

//  The endpoint of side into url (S_URL_MAX bytes): the cached one while
//  it is good, else discovered now.
static int
s_endpoint (ts_tms_t *self, ts_tms_side_t side, char *url, char *err)
{
    int64_t now = ts_mono_ms ();
    pthread_mutex_lock (&self->lock);
    bool good = self->cache [side].url [0]
             && now < self->cache [side].until_ms;
    if (good)
        memcpy (url, self->cache [side].url, S_URL_MAX);
    else
        self->discoveries++;
    pthread_mutex_unlock (&self->lock);
    if (good)
        return 0;
    char *text = NULL;
    size_t size = 0;
    int rc = ts_aws_call (self->aws, self->describe [side],
                          S_TARGET "DescribeEndpoints", S_CONTENT_TYPE, "{}",
                          2, &text, &size, NULL, err);
    int64_t period_ms = 0;
    if (rc == 0)
        rc = ts_tms_endpoint_parse (text, size, self->scheme, url,
                                    S_URL_MAX, &period_ms, err);
    free (text);
    if (rc)
        return rc;
    pthread_mutex_lock (&self->lock);
    memcpy (self->cache [side].url, url, S_URL_MAX);
    self->cache [side].until_ms = now + period_ms;
    pthread_mutex_unlock (&self->lock);
    ts_debug ("store.timestream: %s endpoint %s for %lld s",
              side == TS_TMS_QUERY? "query": "ingest", url,
              (long long) (period_ms / 1000));
    return 0;
}

//  Drops the cached endpoint of side if it is still url.
static void
s_forget_endpoint (ts_tms_t *self, ts_tms_side_t side, const char *url)
{
    pthread_mutex_lock (&self->lock);
    if (strcmp (self->cache [side].url, url) == 0)
        self->cache [side].url [0] = 0;
    pthread_mutex_unlock (&self->lock);
}

int
ts_tms_call (ts_tms_t *self, ts_tms_side_t side, const char *op,
             json_t *req, json_t **reply, ts_aws_error_t *error,
             char **error_body, char *err)
{
    if (reply)
        *reply = NULL;
    if (error_body)
        *error_body = NULL;
    ts_aws_error_t local;
    if (!error)
        error = &local;
    memset (error, 0, sizeof *error);
    char *body = req? json_dumps (req, JSON_COMPACT): NULL;
    json_decref (req);
    if (!body) {
        ts_errf (err, "store.timestream: out of memory");
        return TS_ENOMEM;
    }
    char target [64];
    snprintf (target, sizeof target, S_TARGET "%s", op);
    char *text = NULL, *fault = NULL;
    size_t size = 0;
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        char url [S_URL_MAX] = "";
        if (self->discovery) {
            rc = s_endpoint (self, side, url, err);
            if (rc)
                break;
        }
        free (fault);
        fault = NULL;
        rc = ts_aws_call_full (self->aws, self->discovery? url: NULL,
                               target, S_CONTENT_TYPE, body, strlen (body),
                               &text, &size, error, &fault, err);
        bool moved = rc && (error->http_status == 0
                         || error->http_status == 421
                         || strcmp (error->type,
                                    "InvalidEndpointException") == 0);
        if (!self->discovery || !moved || rc == TS_EAUTH)
            break;
        s_forget_endpoint (self, side, url);
        if (attempt == 0)
            ts_debug ("store.timestream: %s: endpoint %s failed, "
                      "discovering again", op, url);
    }
    free (body);
    if (rc) {
        if (error_body)
            *error_body = fault;
        else
            free (fault);
        return rc;
    }
    free (fault);
    json_t *doc = json_loadb (text, size, 0, NULL);
    free (text);
    if (!json_is_object (doc)) {
        json_decref (doc);
        ts_errf (err, "store.timestream: %s: answer is not a JSON object",
                 op);
        return TS_EBACKEND;
    }
    if (reply)
        *reply = doc;
    else
        json_decref (doc);
    return 0;
}
