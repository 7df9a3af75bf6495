/*  ts_oauth2 - OAuth2 client-credentials token of a source. See
    ts_oauth2.h.

    The state is small: the secrets read at start, the token held with
    when to refresh it (monotonic) and how many were obtained, the one
    before it (kept only so that errors of transfers that still carry it
    are scrubbed), and whether a request is in flight. The request's body
    and headers live here while it is in flight. Every string that holds
    a secret is wiped before it is freed (s_wipe). */

#include "ts_oauth2.h"
#include "ts_redact.h"

#include <jansson.h>
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_QUOTE_MAX  64             //  bytes of error_description quoted
#define S_BASIC_MAX  2048           //  the Basic header line

struct _ts_oauth2_t {
    char        *token_url;         //  upstream.oauth2.token_url
    char        *client_id;         //  owned, wiped
    char        *client_secret;     //  owned, wiped
    char        *scope;             //  "" for none
    bool         post_style;        //  client_secret_post, else basic
    char        *token;             //  held, owned, wiped; NULL none
    char        *old_token;         //  the one before; same care
    int64_t      refresh_ms;        //  monotonic: refresh from then on
    bool         fetching;          //  a request is in flight
    char        *body;              //  its body, owned, wiped
    ts_strlist_t *headers;          //  its headers, wiped
    char         basic [S_BASIC_MAX];   //  the Basic header line, wiped
    size_t       obtained;          //  tokens obtained
};

//  Wipes and frees *s; sets it to NULL.
static void
s_wipe (char **s)
{
    if (*s) {
        explicit_bzero (*s, strlen (*s));
        free (*s);
        *s = NULL;
    }
}

//  ---------------------------------------------------------------------
//  Pure parts

int64_t
ts_oauth2_refresh_at (int64_t obtained_ms, int64_t expires_in_s)
{
    if (expires_in_s <= 0)
        return INT64_MAX;
    if (expires_in_s > INT64_MAX / 2000)
        expires_in_s = INT64_MAX / 2000;
    int64_t life_ms = expires_in_s * 1000;
    int64_t margin = life_ms / 10;
    if (margin > TS_OAUTH2_MARGIN_MAX_MS)
        margin = TS_OAUTH2_MARGIN_MAX_MS;
    if (obtained_ms > INT64_MAX - life_ms)
        return INT64_MAX;
    return obtained_ms + life_ms - margin;
}

//  Error codes of RFC 6749 section 5.2 that only the operator can fix.
static bool
s_error_final (const char *code)
{
    static const char *const final [] = { "invalid_client",
        "unauthorized_client", "unsupported_grant_type", "invalid_scope",
        NULL };
    for (size_t i = 0; code && final [i]; i++)
        if (strcmp (code, final [i]) == 0)
            return true;
    return false;
}

//  Copies text into out (size bytes): printable ASCII only, at most
//  S_QUOTE_MAX bytes, "..." when cut.
static void
s_quote (const char *text, char *out, size_t size)
{
    size_t n = 0, len = strlen (text);
    for (size_t i = 0; i < len && n < S_QUOTE_MAX && n + 4 < size; i++) {
        unsigned char c = (unsigned char) text [i];
        out [n++] = (c >= 0x20 && c < 0x7f)? (char) c: '?';
    }
    if (n < len && n + 4 <= size) {
        memcpy (out + n, "...", 3);
        n += 3;
    }
    out [n] = 0;
}

//  True if s is a usable token: printable ASCII, no space, not empty.
static bool
s_token_ok (const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f)
            return false;
    return true;
}

int
ts_oauth2_parse (long status, const char *body, size_t len,
                 ts_oauth2_token_t *token, bool *retry, char *err)
{
    assert (token);
    assert (retry);
    memset (token, 0, sizeof *token);
    *retry = true;
    json_t *doc = body && len? json_loadb (body, len, 0, NULL): NULL;
    json_t *obj = json_is_object (doc)? doc: NULL;
    int rc = TS_EUPSTREAM;
    if (status < 200 || status > 299) {
        const char *code = json_string_value (json_object_get (obj, "error"));
        const char *what = json_string_value (json_object_get (obj,
                                              "error_description"));
        char qcode [S_QUOTE_MAX + 4] = "", qwhat [S_QUOTE_MAX + 4] = "";
        s_quote (code? code: "", qcode, sizeof qcode);
        s_quote (what? what: "", qwhat, sizeof qwhat);
        *retry = !s_error_final (code);
        ts_errf (err, "token endpoint HTTP %ld%s%s%s%s%s", status,
                 *qcode? ": ": "", qcode, *qwhat? ": ": "", qwhat,
                 *retry? "": " (not retried)");
        goto done;
    }
    const char *access = json_string_value (json_object_get (obj,
                                            "access_token"));
    const char *type = json_string_value (json_object_get (obj,
                                          "token_type"));
    json_t *expires = json_object_get (obj, "expires_in");
    double seconds = 0;
    if (json_is_number (expires))
        seconds = json_number_value (expires);
    else
    if (json_is_string (expires)) {
        char *end;
        seconds = strtod (json_string_value (expires), &end);
        if (*end)
            seconds = -1;
    }
    if (!obj)
        ts_errf (err, "token endpoint answer is not a JSON object");
    else
    if (!access || !s_token_ok (access))
        ts_errf (err, "token endpoint answer has no usable access_token");
    else
    if (type && strcasecmp (type, "bearer") != 0)
        ts_errf (err, "token endpoint gave token_type '%.32s', not Bearer",
                 type);
    else
    if ((expires && !json_is_null (expires) && seconds <= 0)
    ||  seconds > 1e12)
        ts_errf (err, "token endpoint gave an expires_in that is not a "
                 "positive number of seconds");
    else
    if (!(token->access_token = strdup (access)))
        ts_errf (err, "out of memory");
    else {
        token->expires_in_s = (int64_t) seconds;
        if (seconds > 0 && token->expires_in_s == 0)
            token->expires_in_s = 1;
        rc = 0;
    }
done:
    if (doc) {
        //  The answer holds the token: jansson's copy is wiped too.
        const char *held = json_string_value (json_object_get (obj,
                                              "access_token"));
        if (held)
            explicit_bzero ((char *) held, strlen (held));
        json_decref (doc);
    }
    return rc;
}

int
ts_oauth2_basic (const char *id, const char *secret, char *out, size_t size)
{
    static const char b64 [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char plain [S_BASIC_MAX];
    size_t used = 0;
    bool ok = ts_percent_encode (plain, sizeof plain, &used, id)
           && used + 1 < sizeof plain;
    if (ok)
        plain [used++] = ':';
    ok = ok && ts_percent_encode (plain, sizeof plain, &used, secret);
    size_t need = 6 + (used + 2) / 3 * 4 + 1;
    if (!ok || need > size) {
        explicit_bzero (plain, sizeof plain);
        explicit_bzero (out, size);
        return TS_ETOOBIG;
    }
    size_t n = 0;
    memcpy (out, "Basic ", 6);
    n = 6;
    for (size_t i = 0; i < used; i += 3) {
        uint32_t v = (uint32_t) (unsigned char) plain [i] << 16;
        if (i + 1 < used)
            v |= (uint32_t) (unsigned char) plain [i + 1] << 8;
        if (i + 2 < used)
            v |= (unsigned char) plain [i + 2];
        out [n++] = b64 [(v >> 18) & 63];
        out [n++] = b64 [(v >> 12) & 63];
        out [n++] = i + 1 < used? b64 [(v >> 6) & 63]: '=';
        out [n++] = i + 2 < used? b64 [v & 63]: '=';
    }
    out [n] = 0;
    explicit_bzero (plain, sizeof plain);
    return 0;
}

//  ---------------------------------------------------------------------
//  The token of one source

//  Reads the secret of upstream.oauth2.WHAT_env / WHAT_file into *out.
static int
s_read (const ts_config_t *cfg, const char *what, char **out, char *err)
{
    char env_key [64], file_key [64], detail [TS_ERRLEN];
    snprintf (env_key, sizeof env_key, "upstream.oauth2.%s_env", what);
    snprintf (file_key, sizeof file_key, "upstream.oauth2.%s_file", what);
    const char *env = ts_config_str (cfg, env_key);
    const char *file = ts_config_str (cfg, file_key);
    int rc = ts_config_secret (env, file, out, detail);
    if (rc == TS_ENOTFOUND)
        ts_errf (err, "OAuth2 %s missing: environment variable '%s' unset "
                 "or empty and %s '%s' gives none", what, env, file_key,
                 file);
    else
    if (rc != 0)
        ts_errf (err, "%s: %s", file_key, detail);
    return rc;
}

ts_oauth2_t *
ts_oauth2_new (const ts_config_t *cfg, char *err)
{
    assert (cfg);
    ts_oauth2_t *self = calloc (1, sizeof *self);
    if (!self) {
        ts_errf (err, "out of memory");
        return NULL;
    }
    self->post_style = strcmp (ts_config_str (cfg,
                               "upstream.oauth2.auth_style"),
                               "client_secret_post") == 0;
    if (!(self->token_url = strdup (ts_config_str (cfg,
                                    "upstream.oauth2.token_url")))
    ||  !(self->scope = strdup (ts_config_str (cfg,
                                "upstream.oauth2.scope")))
    ||  !(self->headers = ts_strlist_new ())) {
        ts_errf (err, "out of memory");
        ts_oauth2_destroy (&self);
        return NULL;
    }
    assert (*self->token_url);
    if (s_read (cfg, "client_id", &self->client_id, err)
    ||  s_read (cfg, "client_secret", &self->client_secret, err))
        ts_oauth2_destroy (&self);
    return self;
}

//  Wipes and empties the request in flight.
static void
s_request_clear (ts_oauth2_t *self)
{
    s_wipe (&self->body);
    for (size_t i = 0; self->headers && i < self->headers->n; i++)
        explicit_bzero (self->headers->items [i],
                        strlen (self->headers->items [i]));
    if (self->headers)
        ts_strlist_clear (self->headers);
    explicit_bzero (self->basic, sizeof self->basic);
    self->fetching = false;
}

void
ts_oauth2_destroy (ts_oauth2_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_oauth2_t *self = *self_p;
        s_request_clear (self);
        ts_strlist_destroy (&self->headers);
        free (self->token_url);
        free (self->scope);
        s_wipe (&self->client_id);
        s_wipe (&self->client_secret);
        s_wipe (&self->token);
        s_wipe (&self->old_token);
        free (self);
        *self_p = NULL;
    }
}

const char *
ts_oauth2_token (ts_oauth2_t *self, int64_t now_ms)
{
    assert (self);
    return self->token && now_ms < self->refresh_ms? self->token: NULL;
}

bool
ts_oauth2_fetching (const ts_oauth2_t *self)
{
    assert (self);
    return self->fetching;
}

//  Appends "&name=" and value form-encoded to the body being built.
static bool
s_form (char *out, size_t size, size_t *used, const char *name,
        const char *value)
{
    size_t n = strlen (name);
    if (*used + n + 3 > size)
        return false;
    out [(*used)++] = '&';
    memcpy (out + *used, name, n);
    *used += n;
    out [(*used)++] = '=';
    out [*used] = 0;
    return ts_percent_encode (out, size, used, value);
}

int
ts_oauth2_request (ts_oauth2_t *self, ts_fetch_request_t *req)
{
    assert (self);
    assert (req);
    s_request_clear (self);
    size_t size = 64 + 3 * (strlen (self->scope) + strlen (self->client_id)
                            + strlen (self->client_secret));
    char *body = malloc (size);
    if (!body)
        return TS_ENOMEM;
    size_t used = 0;
    used = (size_t) snprintf (body, size, "grant_type=client_credentials");
    bool ok = !*self->scope || s_form (body, size, &used, "scope",
                                       self->scope);
    if (ok && self->post_style)
        ok = s_form (body, size, &used, "client_id", self->client_id)
          && s_form (body, size, &used, "client_secret",
                     self->client_secret);
    self->body = body;
    ok = ok && ts_strlist_append (self->headers, "Content-Type: "
                                  "application/x-www-form-urlencoded") == 0
            && ts_strlist_append (self->headers,
                                  "Accept: application/json") == 0;
    if (ok && !self->post_style) {
        char line [S_BASIC_MAX + 32];
        memcpy (line, "Authorization: ", 15);
        ok = ts_oauth2_basic (self->client_id, self->client_secret,
                              line + 15, sizeof line - 15) == 0
          && ts_strlist_append (self->headers, line) == 0;
        ts_strlcpy (self->basic, line + 15, sizeof self->basic);
        explicit_bzero (line, sizeof line);
    }
    if (!ok) {
        s_request_clear (self);
        return TS_ENOMEM;
    }
    memset (req, 0, sizeof *req);
    req->method = "POST";
    req->url = self->token_url;
    req->body = self->body;
    req->headers = self->headers;
    req->bare = true;
    self->fetching = true;
    return 0;
}

int
ts_oauth2_done (ts_oauth2_t *self, const ts_fetch_result_t *res,
                int64_t now_ms, bool *retry, char *err)
{
    assert (self);
    assert (res);
    assert (retry);
    s_request_clear (self);
    int rc;
    ts_oauth2_token_t token;
    if (res->rc != 0) {
        *retry = true;
        ts_errf (err, "token endpoint: %s", res->error? res->error: "failed");
        rc = TS_EUPSTREAM;
    }
    else
        rc = ts_oauth2_parse (res->status, res->body, res->size, &token,
                              retry, err);
    if (rc == 0) {
        s_wipe (&self->old_token);
        self->old_token = self->token;
        self->token = token.access_token;
        self->refresh_ms = ts_oauth2_refresh_at (now_ms, token.expires_in_s);
        self->obtained++;
    }
    else
        ts_oauth2_redact (self, err, TS_ERRLEN);
    return rc;
}

void
ts_oauth2_reject (ts_oauth2_t *self, size_t generation, int bits)
{
    assert (self);
    assert (bits >= 1);
    size_t mask = bits >= (int) (8 * sizeof (size_t))
                ? SIZE_MAX: ((size_t) 1 << bits) - 1;
    if (self->token && (self->obtained & mask) == (generation & mask)) {
        s_wipe (&self->old_token);
        self->old_token = self->token;
        self->token = NULL;
    }
}

bool
ts_oauth2_same_client (const ts_oauth2_t *self, const ts_oauth2_t *other)
{
    assert (self);
    assert (other);
    return strcmp (self->client_id, other->client_id) == 0
        && ts_secure_equal (self->client_secret, strlen (self->client_secret),
                            other->client_secret,
                            strlen (other->client_secret));
}

size_t
ts_oauth2_obtained (const ts_oauth2_t *self)
{
    assert (self);
    return self->obtained;
}

void
ts_oauth2_redact (const ts_oauth2_t *self, char *text, size_t size)
{
    if (!self || !text)
        return;
    ts_redact_text (text, size, self->client_secret);
    ts_redact_text (text, size, self->token);
    ts_redact_text (text, size, self->old_token);
    if (*self->basic)
        ts_redact_text (text, size, self->basic + 6);
}
