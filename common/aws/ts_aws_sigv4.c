/*  ts_aws_sigv4 - AWS Signature Version 4 (see ts_aws_sigv4.h).

    The canonical request is never built as a string when signing: each
    piece goes straight into a SHA-256 context on the stack ("a sink");
    the same code fills a buffer instead for ts_aws_sigv4_canonical, so
    what tests read is what gets hashed. Headers and query parameters are
    sorted through index arrays on the stack.

    SHA-256 and HMAC use OpenSSL's SHA256_Init/Update/Final on a stack
    context. OpenSSL 3 marks them deprecated in favour of EVP, but EVP
    contexts are heap objects and fetch their algorithm per init, which
    costs an allocation and microseconds per call; the low-level calls
    are still in every 3.x release and are the zero-allocation path. */

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "ts_aws_sigv4.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct _ts_aws_sigv4_t {
    char            region [64];
    char            service [64];
    pthread_mutex_t lock;               //  guards the cached key below
    bool            key_valid;
    char            key_date [9];       //  YYYYMMDD the key was derived for
    char            key_secret [128];   //  and the secret it came from
    unsigned char   key [32];           //  kSigning
};

//  ---------------------------------------------------------------------
//  Hashing

static void
s_hex (const unsigned char *bin, size_t n, char *hex)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex [2 * i] = digits [bin [i] >> 4];
        hex [2 * i + 1] = digits [bin [i] & 15];
    }
    hex [2 * n] = 0;
}

void
ts_aws_sha256_hex (const void *data, size_t size, char hex [65])
{
    unsigned char md [32];
    SHA256_CTX c;
    SHA256_Init (&c);
    if (size > 0)
        SHA256_Update (&c, data, size);
    SHA256_Final (md, &c);
    s_hex (md, 32, hex);
}

//  HMAC-SHA256 (RFC 2104) with the key on the stack.
static void
s_hmac (const void *key, size_t key_len, const void *msg, size_t msg_len,
        unsigned char out [32])
{
    unsigned char k [64] = { 0 };
    if (key_len > 64) {
        SHA256_CTX c;
        SHA256_Init (&c);
        SHA256_Update (&c, key, key_len);
        SHA256_Final (k, &c);
    }
    else
        memcpy (k, key, key_len);
    unsigned char pad [64];
    for (int i = 0; i < 64; i++)
        pad [i] = k [i] ^ 0x36;
    SHA256_CTX c;
    SHA256_Init (&c);
    SHA256_Update (&c, pad, 64);
    SHA256_Update (&c, msg, msg_len);
    unsigned char inner [32];
    SHA256_Final (inner, &c);
    for (int i = 0; i < 64; i++)
        pad [i] = k [i] ^ 0x5c;
    SHA256_Init (&c);
    SHA256_Update (&c, pad, 64);
    SHA256_Update (&c, inner, 32);
    SHA256_Final (out, &c);
    OPENSSL_cleanse (k, sizeof k);
    OPENSSL_cleanse (pad, sizeof pad);
}

//  Where the canonical request goes: a SHA-256 context, or a buffer.
typedef struct {
    SHA256_CTX sha;
    char      *buf;                     //  NULL: hash
    size_t     size;
    size_t     used;
    bool       overflow;
} s_sink_t;

static void
s_put (s_sink_t *s, const char *p, size_t n)
{
    if (!s->buf) {
        SHA256_Update (&s->sha, p, n);
        return;
    }
    if (s->used + n + 1 > s->size) {
        s->overflow = true;
        return;
    }
    memcpy (s->buf + s->used, p, n);
    s->used += n;
    s->buf [s->used] = 0;
}

static void
s_puts (s_sink_t *s, const char *p)
{
    s_put (s, p, strlen (p));
}

//  ---------------------------------------------------------------------
//  URI encoding, as AWS's UriEncode: every byte but A-Z a-z 0-9 - . _ ~
//  as %XX (upper-case hex).

static bool
s_unreserved (unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
        || c == '~';
}

static void
s_put_encoded (s_sink_t *s, const char *p, size_t n)
{
    static const char digits [] = "0123456789ABCDEF";
    size_t run = 0;                     //  unreserved bytes not yet put
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) p [i];
        if (s_unreserved (c)) {
            run++;
            continue;
        }
        if (run)
            s_put (s, p + i - run, run);
        run = 0;
        char esc [3] = { '%', digits [c >> 4], digits [c & 15] };
        s_put (s, esc, 3);
    }
    if (run)
        s_put (s, p + n - run, run);
}

static int
s_hexval (char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

//  ---------------------------------------------------------------------
//  The canonical request's parts

//  Path: empty, "." and ".." segments dropped, each segment encoded.
static int
s_put_path (s_sink_t *s, const char *path, char *err)
{
    if (!path || !*path)
        path = "/";
    enum { MAX_SEGMENTS = 128 };
    const char *seg [MAX_SEGMENTS];
    size_t seg_len [MAX_SEGMENTS];
    size_t count = 0;
    const char *p = path;
    while (*p) {
        const char *slash = strchr (p, '/');
        size_t len = slash? (size_t) (slash - p): strlen (p);
        if (len == 0 || (len == 1 && p [0] == '.'))
            ;
        else
        if (len == 2 && p [0] == '.' && p [1] == '.') {
            if (count > 0)
                count--;
        }
        else {
            if (count == MAX_SEGMENTS) {
                ts_errf (err, "sigv4: path has more than %d segments", MAX_SEGMENTS);
                return TS_ETOOBIG;
            }
            seg [count] = p;
            seg_len [count++] = len;
        }
        p += len;
        if (*p == '/')
            p++;
    }
    if (path [0] == '/')
        s_put (s, "/", 1);
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            s_put (s, "/", 1);
        s_put_encoded (s, seg [i], seg_len [i]);
    }
    if (count > 0 && path [strlen (path) - 1] == '/')
        s_put (s, "/", 1);
    s_put (s, "\n", 1);
    return 0;
}

//  Decodes %XX of src (n bytes) and encodes it again into out; returns
//  the bytes written or -1 (malformed %XX, or no room).
static long
s_reencode (const char *src, size_t n, char *out, size_t room)
{
    if (room == 0)
        return -1;
    out [0] = 0;
    s_sink_t s = { .buf = out, .size = room };
    for (size_t i = 0; i < n; i++) {
        char c = src [i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = s_hexval (src [i + 1]), l = s_hexval (src [i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char) (h * 16 + l);
            i += 2;
        }
        s_put_encoded (&s, &c, 1);
    }
    return s.overflow? -1: (long) s.used;
}

typedef struct {
    const char *key;
    const char *value;
} s_param_t;

static int
s_param_cmp (const void *a, const void *b)
{
    const s_param_t *x = a, *y = b;
    int rc = strcmp (x->key, y->key);
    return rc? rc: strcmp (x->value, y->value);
}

//  Query: parameters encoded, then sorted by name and value.
static int
s_put_query (s_sink_t *s, const char *query, char *err)
{
    char scratch [TS_AWS_SIGV4_QUERY];
    s_param_t params [TS_AWS_SIGV4_PARAMS];
    size_t count = 0, used = 0;
    const char *p = query? query: "";
    while (*p) {
        const char *amp = strchr (p, '&');
        size_t len = amp? (size_t) (amp - p): strlen (p);
        if (len > 0) {
            if (count == TS_AWS_SIGV4_PARAMS) {
                ts_errf (err, "sigv4: more than %d query parameters",
                         TS_AWS_SIGV4_PARAMS);
                return TS_ETOOBIG;
            }
            const char *eq = memchr (p, '=', len);
            size_t key_len = eq? (size_t) (eq - p): len;
            const char *val = eq? eq + 1: p + len;
            size_t val_len = eq? len - key_len - 1: 0;
            long k = s_reencode (p, key_len, scratch + used, sizeof scratch - used);
            if (k < 0)
                goto bad;
            params [count].key = scratch + used;
            used += (size_t) k + 1;
            long v = s_reencode (val, val_len, scratch + used, sizeof scratch - used);
            if (v < 0)
                goto bad;
            params [count].value = scratch + used;
            used += (size_t) v + 1;
            count++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    qsort (params, count, sizeof params [0], s_param_cmp);
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            s_put (s, "&", 1);
        s_puts (s, params [i].key);
        s_put (s, "=", 1);
        s_puts (s, params [i].value);
    }
    s_put (s, "\n", 1);
    return 0;
bad:
    ts_errf (err, "sigv4: query has a malformed %%XX or is longer than %d bytes "
             "encoded", TS_AWS_SIGV4_QUERY);
    return TS_EINVAL;
}

//  Header names compared as AWS sorts them: lower-cased.
static int
s_name_cmp (const char *a, const char *b)
{
    return strcasecmp (a, b);
}

static bool
s_token (const char *name)
{
    if (!name || !*name)
        return false;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (c <= ' ' || c >= 127 || c == ':')
            return false;
    }
    return true;
}

static bool
s_blank (char c)
{
    return c == ' ' || c == '\t';
}

//  A value trimmed, inner runs of blanks as one space.
static void
s_put_value (s_sink_t *s, const char *v)
{
    while (s_blank (*v))
        v++;
    const char *end = v + strlen (v);
    while (end > v && s_blank (end [-1]))
        end--;
    while (v < end) {
        const char *run = v;
        while (v < end && !s_blank (*v))
            v++;
        s_put (s, run, (size_t) (v - run));
        if (v < end) {
            s_put (s, " ", 1);
            while (v < end && s_blank (*v))
                v++;
        }
    }
}

//  A header name lower-cased, in chunks (one hash update per chunk).
static void
s_put_lower (s_sink_t *s, const char *name)
{
    char chunk [64];
    size_t n = 0;
    for (const char *p = name; *p; p++) {
        chunk [n++] = (*p >= 'A' && *p <= 'Z')? (char) (*p + 32): *p;
        if (n == sizeof chunk) {
            s_put (s, chunk, n);
            n = 0;
        }
    }
    if (n)
        s_put (s, chunk, n);
}

//  Everything the canonical request is made of, checked and ordered.
typedef struct {
    ts_aws_header_t headers [TS_AWS_SIGV4_HEADERS + 2];
    size_t          count;
    char            amz_date [17];
    char            payload [65];
    char            signed_headers [1024];
} s_prep_t;

static int
s_prepare (const ts_aws_sigv4_request_t *req, const ts_aws_creds_t *creds,
           time_t now, s_prep_t *prep, char *err)
{
    struct tm tm;
    if (!gmtime_r (&now, &tm)
    ||  strftime (prep->amz_date, sizeof prep->amz_date, "%Y%m%dT%H%M%SZ", &tm) != 16) {
        ts_errf (err, "sigv4: time out of range");
        return TS_EINVAL;
    }
    if (req->header_count > TS_AWS_SIGV4_HEADERS) {
        ts_errf (err, "sigv4: more than %d headers to sign", TS_AWS_SIGV4_HEADERS);
        return TS_ETOOBIG;
    }
    const char *payload = req->payload_hash;
    bool host = false;
    prep->count = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        const ts_aws_header_t *h = &req->headers [i];
        if (!s_token (h->name) || !h->value || strpbrk (h->value, "\r\n")) {
            ts_errf (err, "sigv4: header %zu has an invalid name or value", i);
            return TS_EINVAL;
        }
        if (strcasecmp (h->name, "x-amz-date") == 0
        ||  strcasecmp (h->name, "x-amz-security-token") == 0)
            continue;
        if (strcasecmp (h->name, "host") == 0)
            host = true;
        if (strcasecmp (h->name, "x-amz-content-sha256") == 0)
            payload = h->value;
        prep->headers [prep->count++] = *h;
    }
    if (!host) {
        ts_errf (err, "sigv4: no Host header to sign");
        return TS_EINVAL;
    }
    prep->headers [prep->count++] = (ts_aws_header_t) { "x-amz-date", prep->amz_date };
    if (creds && creds->session_token [0])
        prep->headers [prep->count++] =
            (ts_aws_header_t) { "x-amz-security-token", creds->session_token };
    //  Insertion sort: stable, so repeated names keep their order.
    for (size_t i = 1; i < prep->count; i++) {
        ts_aws_header_t h = prep->headers [i];
        size_t j = i;
        while (j > 0 && s_name_cmp (prep->headers [j - 1].name, h.name) > 0) {
            prep->headers [j] = prep->headers [j - 1];
            j--;
        }
        prep->headers [j] = h;
    }
    s_sink_t names = { .buf = prep->signed_headers, .size = sizeof prep->signed_headers };
    for (size_t i = 0; i < prep->count; i++) {
        if (i > 0 && s_name_cmp (prep->headers [i - 1].name, prep->headers [i].name) == 0)
            continue;
        if (i > 0)
            s_put (&names, ";", 1);
        s_put_lower (&names, prep->headers [i].name);
    }
    if (names.overflow) {
        ts_errf (err, "sigv4: signed header names longer than %zu bytes",
                 sizeof prep->signed_headers - 1);
        return TS_ETOOBIG;
    }
    if (payload) {
        if (strlen (payload) > 64) {
            ts_errf (err, "sigv4: payload hash longer than 64 characters");
            return TS_EINVAL;
        }
        ts_strlcpy (prep->payload, payload, sizeof prep->payload);
    }
    else {
        if (req->body_size > 0 && !req->body) {
            ts_errf (err, "sigv4: body_size without a body");
            return TS_EINVAL;
        }
        ts_aws_sha256_hex (req->body, req->body_size, prep->payload);
    }
    return 0;
}

static int
s_canonical (s_sink_t *s, const ts_aws_sigv4_request_t *req, const s_prep_t *prep,
             char *err)
{
    if (!req->method || !s_token (req->method)) {
        ts_errf (err, "sigv4: no valid method");
        return TS_EINVAL;
    }
    s_puts (s, req->method);
    s_put (s, "\n", 1);
    int rc = s_put_path (s, req->path, err);
    if (rc == 0)
        rc = s_put_query (s, req->query, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < prep->count; i++) {
        bool same = i > 0 && s_name_cmp (prep->headers [i - 1].name,
                                         prep->headers [i].name) == 0;
        if (same)
            s_put (s, ",", 1);
        else {
            if (i > 0)
                s_put (s, "\n", 1);
            s_put_lower (s, prep->headers [i].name);
            s_put (s, ":", 1);
        }
        s_put_value (s, prep->headers [i].value);
    }
    s_put (s, "\n\n", 2);
    s_puts (s, prep->signed_headers);
    s_put (s, "\n", 1);
    s_puts (s, prep->payload);
    return 0;
}

int
ts_aws_sigv4_canonical (const ts_aws_sigv4_request_t *req, const ts_aws_creds_t *creds,
                        time_t now, char *buf, size_t size, char *err)
{
    s_prep_t prep;
    int rc = s_prepare (req, creds, now, &prep, err);
    if (rc)
        return rc;
    s_sink_t s = { .buf = buf, .size = size };
    if (size > 0)
        buf [0] = 0;
    rc = s_canonical (&s, req, &prep, err);
    if (rc == 0 && s.overflow) {
        ts_errf (err, "sigv4: canonical request longer than %zu bytes", size);
        rc = TS_ETOOBIG;
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  The signer

ts_aws_sigv4_t *
ts_aws_sigv4_new (const char *region, const char *service)
{
    if (!region || !*region || !service || !*service)
        return NULL;
    ts_aws_sigv4_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (ts_strlcpy (self->region, region, sizeof self->region)
    ||  ts_strlcpy (self->service, service, sizeof self->service)) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
ts_aws_sigv4_destroy (ts_aws_sigv4_t **self_p)
{
    if (self_p && *self_p) {
        ts_aws_sigv4_t *self = *self_p;
        pthread_mutex_destroy (&self->lock);
        OPENSSL_cleanse (self, sizeof *self);
        free (self);
        *self_p = NULL;
    }
}

//  kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
//  "aws4_request"), derived once per date and secret.
static void
s_signing_key (ts_aws_sigv4_t *self, const char *date, const char *secret,
               unsigned char key [32])
{
    pthread_mutex_lock (&self->lock);
    if (self->key_valid && strcmp (self->key_date, date) == 0
    &&  strcmp (self->key_secret, secret) == 0) {
        memcpy (key, self->key, 32);
        pthread_mutex_unlock (&self->lock);
        return;
    }
    char k0 [4 + sizeof self->key_secret];
    size_t secret_len = strlen (secret);
    memcpy (k0, "AWS4", 4);
    memcpy (k0 + 4, secret, secret_len);
    unsigned char k [32];
    s_hmac (k0, 4 + secret_len, date, strlen (date), k);
    s_hmac (k, 32, self->region, strlen (self->region), k);
    s_hmac (k, 32, self->service, strlen (self->service), k);
    s_hmac (k, 32, "aws4_request", 12, k);
    memcpy (self->key, k, 32);
    memcpy (key, k, 32);
    ts_strlcpy (self->key_date, date, sizeof self->key_date);
    ts_strlcpy (self->key_secret, secret, sizeof self->key_secret);
    self->key_valid = true;
    pthread_mutex_unlock (&self->lock);
    OPENSSL_cleanse (k0, sizeof k0);
    OPENSSL_cleanse (k, sizeof k);
}

int
ts_aws_sigv4_sign (ts_aws_sigv4_t *self, const ts_aws_sigv4_request_t *req,
                   const ts_aws_creds_t *creds, time_t now,
                   ts_aws_sigv4_out_t *out, char *err)
{
    if (!creds || !creds->access_key_id [0] || !creds->secret_access_key [0]) {
        ts_errf (err, "sigv4: no credentials");
        return TS_EINVAL;
    }
    if (strlen (creds->secret_access_key) >= sizeof self->key_secret) {
        ts_errf (err, "sigv4: secret access key too long");
        return TS_EINVAL;
    }
    s_prep_t prep;
    int rc = s_prepare (req, creds, now, &prep, err);
    if (rc)
        return rc;
    s_sink_t s = { .buf = NULL };
    SHA256_Init (&s.sha);
    rc = s_canonical (&s, req, &prep, err);
    if (rc)
        return rc;
    unsigned char md [32];
    SHA256_Final (md, &s.sha);
    char creq_hex [65];
    s_hex (md, 32, creq_hex);

    char date [9];
    memcpy (date, prep.amz_date, 8);
    date [8] = 0;
    char sts [512];
    int n = snprintf (sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
                      prep.amz_date, date, self->region, self->service, creq_hex);
    if (n < 0 || (size_t) n >= sizeof sts) {
        ts_errf (err, "sigv4: string to sign too long");
        return TS_ETOOBIG;
    }
    unsigned char key [32], sig [32];
    s_signing_key (self, date, creds->secret_access_key, key);
    s_hmac (key, 32, sts, (size_t) n, sig);
    OPENSSL_cleanse (key, sizeof key);
    s_hex (sig, 32, out->signature);
    memcpy (out->amz_date, prep.amz_date, sizeof out->amz_date);
    n = snprintf (out->authorization, sizeof out->authorization,
                  "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                  "SignedHeaders=%s, Signature=%s",
                  creds->access_key_id, date, self->region, self->service,
                  prep.signed_headers, out->signature);
    if (n < 0 || (size_t) n >= sizeof out->authorization) {
        ts_errf (err, "sigv4: Authorization header too long");
        return TS_ETOOBIG;
    }
    return 0;
}
