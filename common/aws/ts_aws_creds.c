/*  ts_aws_creds - the AWS credential chain (see ts_aws_creds.h): where
    credentials are found, how temporary ones are fetched and renewed.

    The shared files are read with a small INI reader (sections, key =
    value, # and ; comments). The container and IMDS endpoints are asked
    with a libcurl easy handle of their own, short timeouts, no
    redirects, a 64 kB cap on answers. Nothing read here is logged but
    the source's name (and the IMDS role's). */

#include "ts_aws_creds.h"
#include "ts_aws_body.h"
#include "ts_log.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { SRC_ENV, SRC_FILES, SRC_CONTAINER, SRC_IMDS };

#define ANSWER_MAX (64 * 1024)

struct _ts_aws_creds_chain_t {
    pthread_mutex_t lock;               //  guards creds and fetches
    char            what [64];
    int             timeout_ms;
    int             source;             //  SRC_*
    char            source_name [192];
    ts_aws_creds_t  creds;
    int             fetches;
};

//  ---------------------------------------------------------------------
//  Small HTTP client for the metadata endpoints

//  method GET or PUT; header (may be NULL) one "Name: value" line.
//  Returns 0 and *body (malloc'ed) on 200, else TS_EAUTH with the
//  reason in err (never the header: it may hold a token).
static int
s_http (const char *method, const char *url, const char *header,
        int timeout_ms, char **body, char *err)
{
    *body = NULL;
    CURL *curl = curl_easy_init ();
    if (!curl) {
        ts_errf (err, "cannot create a libcurl handle");
        return TS_ENOMEM;
    }
    struct curl_slist *headers = header? curl_slist_append (NULL, header): NULL;
    ts_aws_body_t a = { .max = ANSWER_MAX };
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp (method, "PUT") == 0) {
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, ts_aws_body_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
    CURLcode code = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    if (code != CURLE_OK || status != 200) {
        if (code != CURLE_OK)
            ts_errf (err, "%s %s: %s", method, url,
                     a.over? "answer too large": curl_easy_strerror (code));
        else
            ts_errf (err, "%s %s: HTTP %ld", method, url, status);
        free (a.data);
        return TS_EAUTH;
    }
    *body = a.data? a.data: strdup ("");
    return *body? 0: TS_ENOMEM;
}

//  ---------------------------------------------------------------------
//  Sources

static bool
s_env_set (const char *name)
{
    const char *v = getenv (name);
    return v && *v;
}

static int
s_copy (char *dst, const char *src, size_t size, const char *field, char *err)
{
    if (ts_strlcpy (dst, src? src: "", size)) {
        ts_errf (err, "%s longer than %zu bytes", field, size - 1);
        return TS_ETOOBIG;
    }
    return 0;
}

static bool
s_from_env (ts_aws_creds_t *out, char *err)
{
    if (!s_env_set ("AWS_ACCESS_KEY_ID") || !s_env_set ("AWS_SECRET_ACCESS_KEY"))
        return false;
    return s_copy (out->access_key_id, getenv ("AWS_ACCESS_KEY_ID"),
                   sizeof out->access_key_id, "AWS_ACCESS_KEY_ID", err) == 0
        && s_copy (out->secret_access_key, getenv ("AWS_SECRET_ACCESS_KEY"),
                   sizeof out->secret_access_key, "AWS_SECRET_ACCESS_KEY", err) == 0
        && s_copy (out->session_token, getenv ("AWS_SESSION_TOKEN"),
                   sizeof out->session_token, "AWS_SESSION_TOKEN", err) == 0;
}

static void
s_shared_path (const char *env, const char *file, char *path, size_t size)
{
    const char *given = getenv (env);
    if (given && *given)
        snprintf (path, size, "%s", given);
    else {
        const char *home = getenv ("HOME");
        snprintf (path, size, "%s/.aws/%s", home && *home? home: ".", file);
    }
}

static const char *
s_profile (void)
{
    const char *p = getenv ("AWS_PROFILE");
    return p && *p? p: "default";
}

static char *
s_trim (char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen (s);
    while (end > s && (end [-1] == ' ' || end [-1] == '\t' || end [-1] == '\r'
                       || end [-1] == '\n'))
        *--end = 0;
    return s;
}

//  Calls found (key, value) for each key of section [name] (config:
//  [profile name], or [default] for "default") of the INI file at path.
//  Returns false if the file cannot be read.
typedef void (s_found_fn) (const char *key, const char *value, void *arg);

static bool
s_ini_read (const char *path, bool config, const char *name, s_found_fn *found,
            void *arg)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return false;
    char line [4608];
    bool in = false;
    for (int lines = 0; lines < 100000 && fgets (line, sizeof line, f); lines++) {
        char *s = s_trim (line);
        if (*s == '#' || *s == ';' || *s == 0)
            continue;
        if (*s == '[') {
            char *close = strchr (s, ']');
            if (!close)
                continue;
            *close = 0;
            char *section = s_trim (s + 1);
            if (config && strncmp (section, "profile ", 8) == 0)
                section = s_trim (section + 8);
            else
            if (config && strcmp (section, "default") != 0)
                section = "";           //  config sections other than profiles
            in = strcmp (section, name) == 0;
            continue;
        }
        char *eq = strchr (s, '=');
        if (!in || !eq)
            continue;
        *eq = 0;
        found (s_trim (s), s_trim (eq + 1), arg);
    }
    OPENSSL_cleanse (line, sizeof line);
    fclose (f);
    return true;
}

typedef struct {
    ts_aws_creds_t *creds;
    bool            too_long;
    char           *region;
    size_t          region_size;
} s_profile_t;

static void
s_on_key (const char *key, const char *value, void *arg)
{
    s_profile_t *p = arg;
    ts_aws_creds_t *c = p->creds;
    int rc = 0;
    if (c && strcmp (key, "aws_access_key_id") == 0 && !c->access_key_id [0])
        rc = ts_strlcpy (c->access_key_id, value, sizeof c->access_key_id);
    else
    if (c && strcmp (key, "aws_secret_access_key") == 0 && !c->secret_access_key [0])
        rc = ts_strlcpy (c->secret_access_key, value, sizeof c->secret_access_key);
    else
    if (c && strcmp (key, "aws_session_token") == 0 && !c->session_token [0])
        rc = ts_strlcpy (c->session_token, value, sizeof c->session_token);
    else
    if (p->region && strcmp (key, "region") == 0 && !p->region [0])
        rc = ts_strlcpy (p->region, value, p->region_size);
    if (rc)
        p->too_long = true;
}

static bool
s_from_files (ts_aws_creds_t *out, char *looked, size_t looked_size)
{
    char credentials [1024], config [1024];
    s_shared_path ("AWS_SHARED_CREDENTIALS_FILE", "credentials", credentials,
                   sizeof credentials);
    s_shared_path ("AWS_CONFIG_FILE", "config", config, sizeof config);
    s_profile_t p = { .creds = out };
    s_ini_read (credentials, false, s_profile (), s_on_key, &p);
    s_ini_read (config, true, s_profile (), s_on_key, &p);
    snprintf (looked, looked_size, "(profile %s) %s and %s", s_profile (),
              credentials, config);
    if (p.too_long || !out->access_key_id [0] || !out->secret_access_key [0]) {
        OPENSSL_cleanse (out, sizeof *out);
        return false;
    }
    return true;
}

bool
ts_aws_creds_profile_region (char *region, size_t size)
{
    char config [1024];
    s_shared_path ("AWS_CONFIG_FILE", "config", config, sizeof config);
    region [0] = 0;
    s_profile_t p = { .region = region, .region_size = size };
    s_ini_read (config, true, s_profile (), s_on_key, &p);
    if (p.too_long)
        region [0] = 0;
    return region [0] != 0;
}

int
ts_aws_creds_parse_document (const char *body, ts_aws_creds_t *out,
                             const char *from, char *err)
{
    json_error_t jerr;
    json_t *doc = json_loads (body, 0, &jerr);
    if (!doc || !json_is_object (doc)) {
        json_decref (doc);
        ts_errf (err, "%s: credentials document is not a JSON object", from);
        return TS_EAUTH;
    }
    const char *code = json_string_value (json_object_get (doc, "Code"));
    const char *key = json_string_value (json_object_get (doc, "AccessKeyId"));
    const char *secret = json_string_value (json_object_get (doc, "SecretAccessKey"));
    const char *token = json_string_value (json_object_get (doc, "Token"));
    const char *expiration = json_string_value (json_object_get (doc, "Expiration"));
    int rc = 0;
    int64_t exp_ms = 0;
    if (code && strcmp (code, "Success") != 0) {
        ts_errf (err, "%s: credentials document says Code %.40s", from, code);
        rc = TS_EAUTH;
    }
    else
    if (!key || !*key || !secret || !*secret) {
        ts_errf (err, "%s: credentials document lacks AccessKeyId or SecretAccessKey", from);
        rc = TS_EAUTH;
    }
    else
    if (expiration && ts_time_parse_iso (expiration, strlen (expiration), &exp_ms)) {
        ts_errf (err, "%s: credentials document has an unreadable Expiration", from);
        rc = TS_EAUTH;
    }
    else {
        memset (out, 0, sizeof *out);
        if (s_copy (out->access_key_id, key, sizeof out->access_key_id, "AccessKeyId", err)
        ||  s_copy (out->secret_access_key, secret, sizeof out->secret_access_key,
                    "SecretAccessKey", err)
        ||  s_copy (out->session_token, token, sizeof out->session_token, "Token", err))
            rc = TS_EAUTH;
        out->expiration_ms = exp_ms;
    }
    //  The document's secrets are wiped from jansson's copies too.
    if (secret)
        OPENSSL_cleanse ((char *) secret, strlen (secret));
    if (token)
        OPENSSL_cleanse ((char *) token, strlen (token));
    json_decref (doc);
    return rc;
}

//  True if host (as libcurl's URL parser gives it: IPv6 in brackets)
//  is loopback (127.0.0.0/8, ::1, localhost) or a container agent
//  address (169.254.170.2 for ECS, 169.254.170.23 and fd00:ec2::23 for
//  EKS).
static bool
s_container_host_allowed (const char *host)
{
    if (strcasecmp (host, "localhost") == 0)
        return true;
    struct in_addr v4;
    if (inet_pton (AF_INET, host, &v4) == 1) {
        uint32_t a = ntohl (v4.s_addr);
        return (a >> 24) == 127
            || a == 0xA9FEAA02              //  169.254.170.2
            || a == 0xA9FEAA17;             //  169.254.170.23
    }
    char bare [INET6_ADDRSTRLEN + 1];
    size_t len = strlen (host);
    if (len < 3 || len - 2 >= sizeof bare || host [0] != '['
    ||  host [len - 1] != ']')
        return false;
    memcpy (bare, host + 1, len - 2);
    bare [len - 2] = 0;
    struct in6_addr v6, eks;
    inet_pton (AF_INET6, "fd00:ec2::23", &eks);
    return inet_pton (AF_INET6, bare, &v6) == 1
        && (IN6_IS_ADDR_LOOPBACK (&v6)
            || memcmp (&v6, &eks, sizeof v6) == 0);
}

bool
ts_aws_creds_container_url_allowed (const char *url)
{
    CURLU *u = curl_url ();
    char *scheme = NULL, *host = NULL;
    bool allowed = false;
    if (u && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
    &&  curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
    &&  curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        allowed = strcasecmp (scheme, "https") == 0
               || (strcasecmp (scheme, "http") == 0
                   && s_container_host_allowed (host));
    curl_free (scheme);
    curl_free (host);
    curl_url_cleanup (u);
    return allowed;
}

static int
s_from_container (ts_aws_creds_chain_t *self, ts_aws_creds_t *out, char *err)
{
    char url [1024];
    if (s_env_set ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
        snprintf (url, sizeof url, "http://169.254.170.2%s",
                  getenv ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
    else
        snprintf (url, sizeof url, "%s", getenv ("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    if (!ts_aws_creds_container_url_allowed (url)) {
        ts_errf (err, "container credentials: %s is neither https nor a loopback or "
                 "container agent address", url);
        return TS_EAUTH;
    }
    char header [4096] = "";
    char token [4000] = "";
    if (s_env_set ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
        const char *path = getenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        FILE *f = fopen (path, "r");
        size_t n = f? fread (token, 1, sizeof token - 1, f): 0;
        if (f)
            fclose (f);
        if (!f) {
            ts_errf (err, "container credentials: cannot read "
                     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s", path);
            return TS_EAUTH;
        }
        token [n] = 0;
    }
    else
    if (s_env_set ("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
        ts_strlcpy (token, getenv ("AWS_CONTAINER_AUTHORIZATION_TOKEN"), sizeof token);
    char *t = s_trim (token);
    if (strpbrk (t, "\r\n")) {
        ts_errf (err, "container credentials: the authorization token holds a line break");
        OPENSSL_cleanse (token, sizeof token);
        return TS_EAUTH;
    }
    if (*t)
        snprintf (header, sizeof header, "Authorization: %s", t);
    OPENSSL_cleanse (token, sizeof token);
    char *body = NULL;
    char why [TS_ERRLEN];
    int rc = s_http ("GET", url, *header? header: NULL, self->timeout_ms, &body, why);
    OPENSSL_cleanse (header, sizeof header);
    if (rc == 0)
        rc = ts_aws_creds_parse_document (body, out, "container credentials", why);
    else
        ts_errf (err, "container credentials: %s", why);
    if (rc && body)
        ts_errf (err, "%s", why);
    if (body) {
        OPENSSL_cleanse (body, strlen (body));
        free (body);
    }
    if (rc == 0)
        snprintf (self->source_name, sizeof self->source_name, "container");
    return rc;
}

static bool
s_imds_disabled (void)
{
    const char *v = getenv ("AWS_EC2_METADATA_DISABLED");
    return v && strcasecmp (v, "true") == 0;
}

static int
s_from_imds (ts_aws_creds_chain_t *self, ts_aws_creds_t *out, char *err)
{
    const char *base = getenv ("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!base || !*base)
        base = "http://169.254.169.254";
    size_t base_len = strlen (base);
    while (base_len > 0 && base [base_len - 1] == '/')
        base_len--;
    char url [1024], header [256], why [TS_ERRLEN];
    char *token = NULL, *role = NULL, *doc = NULL;
    snprintf (url, sizeof url, "%.*s/latest/api/token", (int) base_len, base);
    int rc = s_http ("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600",
                     self->timeout_ms, &token, why);
    if (rc == 0 && (strlen (s_trim (token)) > 200 || strpbrk (s_trim (token), "\r\n"))) {
        ts_errf (why, "PUT %s: unexpected token", url);
        rc = TS_EAUTH;
    }
    if (rc == 0) {
        snprintf (header, sizeof header, "X-aws-ec2-metadata-token: %s", s_trim (token));
        snprintf (url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/",
                  (int) base_len, base);
        rc = s_http ("GET", url, header, self->timeout_ms, &role, why);
    }
    char role_name [128] = "";
    if (rc == 0) {
        char *name = s_trim (role);
        name [strcspn (name, "\r\n")] = 0;
        if (!*name || strlen (name) >= sizeof role_name || strpbrk (name, "/?#% ")) {
            ts_errf (why, "GET %s: no usable role name (is an IAM role attached to "
                     "the instance?)", url);
            rc = TS_EAUTH;
        }
        else
            ts_strlcpy (role_name, name, sizeof role_name);
    }
    if (rc == 0) {
        snprintf (url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/%s",
                  (int) base_len, base, role_name);
        rc = s_http ("GET", url, header, self->timeout_ms, &doc, why);
    }
    if (rc == 0)
        rc = ts_aws_creds_parse_document (doc, out, "instance metadata", why);
    if (rc)
        ts_errf (err, "instance metadata: %s", why);
    else
        snprintf (self->source_name, sizeof self->source_name,
                  "instance metadata (role %s)", role_name);
    OPENSSL_cleanse (header, sizeof header);
    if (token)
        OPENSSL_cleanse (token, strlen (token));
    if (doc)
        OPENSSL_cleanse (doc, strlen (doc));
    free (token);
    free (role);
    free (doc);
    return rc;
}

//  Fetches temporary credentials from the chain's source again.
static int
s_fetch (ts_aws_creds_chain_t *self, ts_aws_creds_t *out, char *err)
{
    self->fetches++;
    if (self->source == SRC_CONTAINER)
        return s_from_container (self, out, err);
    if (self->source == SRC_IMDS)
        return s_from_imds (self, out, err);
    ts_errf (err, "credentials from %s cannot be renewed", self->source_name);
    return TS_EAUTH;
}

//  ---------------------------------------------------------------------
//  The chain

ts_aws_creds_chain_t *
ts_aws_creds_chain_new (const char *what, int timeout_ms, char *err)
{
    ts_aws_creds_chain_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "%s: out of memory", what);
        return NULL;
    }
    ts_strlcpy (self->what, what? what: "aws", sizeof self->what);
    self->timeout_ms = timeout_ms > 0? timeout_ms: 1000;
    pthread_mutex_init (&self->lock, NULL);
    char why [TS_ERRLEN] = "", files [2200] = "";
    char container [TS_ERRLEN] = "container credentials: not set";
    char imds [TS_ERRLEN] = "instance metadata: disabled";
    self->fetches = 1;
    int rc = TS_EAUTH;
    if (s_from_env (&self->creds, why)) {
        self->source = SRC_ENV;
        snprintf (self->source_name, sizeof self->source_name, "environment");
        rc = 0;
    }
    else
    if (why [0]) {
        ts_errf (err, "%s: %s", self->what, why);
        ts_aws_creds_chain_destroy (&self);
        return NULL;
    }
    else
    if (s_from_files (&self->creds, files, sizeof files)) {
        self->source = SRC_FILES;
        snprintf (self->source_name, sizeof self->source_name,
                  "shared files (profile %s)", s_profile ());
        rc = 0;
    }
    if (rc && (s_env_set ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            || s_env_set ("AWS_CONTAINER_CREDENTIALS_FULL_URI"))) {
        self->source = SRC_CONTAINER;
        rc = s_from_container (self, &self->creds, container);
    }
    if (rc && !s_imds_disabled ()) {
        self->source = SRC_IMDS;
        rc = s_from_imds (self, &self->creds, imds);
    }
    if (rc) {
        ts_errf (err, "%s: no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                 "not in the environment; %s; %s; none in shared files %s",
                 self->what, container, imds, files);
        ts_aws_creds_chain_destroy (&self);
        return NULL;
    }
    ts_info ("%s: AWS credentials from %s", self->what, self->source_name);
    return self;
}

void
ts_aws_creds_chain_destroy (ts_aws_creds_chain_t **self_p)
{
    if (self_p && *self_p) {
        ts_aws_creds_chain_t *self = *self_p;
        pthread_mutex_destroy (&self->lock);
        OPENSSL_cleanse (self, sizeof *self);
        free (self);
        *self_p = NULL;
    }
}

//  Fetches again, keeping the old credentials if that fails. Lock held.
static int
s_renew (ts_aws_creds_chain_t *self, int64_t now_ms, char *err)
{
    ts_aws_creds_t fresh;
    char why [TS_ERRLEN];
    int rc = s_fetch (self, &fresh, why);
    if (rc == 0) {
        self->creds = fresh;
        ts_info ("%s: AWS credentials renewed from %s", self->what, self->source_name);
    }
    else
    if (self->creds.expiration_ms > now_ms) {
        ts_warn ("%s: cannot renew AWS credentials, using the current ones until "
                 "they expire: %s", self->what, why);
        ts_errf (err, "%s: AWS credentials not renewed: %s", self->what, why);
    }
    else
        ts_errf (err, "%s: AWS credentials expired and not renewed: %s", self->what, why);
    OPENSSL_cleanse (&fresh, sizeof fresh);
    return rc;
}

int
ts_aws_creds_get (ts_aws_creds_chain_t *self, int64_t now_ms, ts_aws_creds_t *out,
                  char *err)
{
    pthread_mutex_lock (&self->lock);
    int rc = 0;
    if (self->creds.expiration_ms
    &&  self->creds.expiration_ms - TS_AWS_CREDS_REFRESH_MS <= now_ms) {
        rc = s_renew (self, now_ms, err);
        if (rc && self->creds.expiration_ms > now_ms)
            rc = 0;
    }
    if (rc == 0)
        *out = self->creds;
    pthread_mutex_unlock (&self->lock);
    return rc;
}

int
ts_aws_creds_refresh (ts_aws_creds_chain_t *self, char *err)
{
    pthread_mutex_lock (&self->lock);
    int rc = TS_EAUTH;
    if (self->source == SRC_CONTAINER || self->source == SRC_IMDS)
        rc = s_renew (self, ts_now_ms (), err);
    else
        ts_errf (err, "%s: credentials from %s cannot be renewed", self->what,
                 self->source_name);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

const char *
ts_aws_creds_source (const ts_aws_creds_chain_t *self)
{
    return self->source_name;
}

int
ts_aws_creds_fetches (const ts_aws_creds_chain_t *self)
{
    return self->fetches;
}
