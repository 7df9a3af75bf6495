/*  ts_demo_auth - OAuth2 token endpoint and bearer checks of
    tscache-demo-upstream. See ts_demo_auth.h. One mutex guards the
    tokens and counters: libmicrohttpd runs a thread per connection. */

#include "ts_demo_auth.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TOKENS_MAX    4096        //  tokens remembered
#define S_TOKEN_LEN     32          //  hex characters of a token
#define S_FIELD_MAX     1024        //  longest form value read
#define S_RECENT        16          //  tokens shown in /control

typedef enum { S_TOKEN_OK, S_TOKEN_500, S_TOKEN_INVALID_CLIENT } s_mode_t;
static const char *s_modes [] = { "ok", "500", "invalid_client", NULL };

typedef struct {
    char     token [S_TOKEN_LEN + 1];
    int64_t  expires_ms;            //  real time
    bool     revoked;               //  refused from now on
} s_token_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static char *s_client_id = NULL;        //  accepted client, NULL: off
static char *s_client_secret = NULL;
static int64_t s_lifetime_s = 3600;
static bool s_required = false;
static s_mode_t s_mode = S_TOKEN_OK;
static s_token_t s_tokens [S_TOKENS_MAX];
static size_t s_next = 0;               //  ring index of the next token
static uint64_t s_issued = 0;
static uint64_t s_requests = 0;
static uint64_t s_refused = 0;

//  ---------------------------------------------------------------------
//  Options

//  Copies environment variable name into *out. Returns 0 or -1.
static int
s_env (const char *name, char **out)
{
    const char *value = getenv (name);
    if (!value || !*value)
        return -1;
    free (*out);
    *out = strdup (value);
    return *out? 0: -1;
}

int
ts_demo_auth_option (const char *opt, const char *arg)
{
    if (strcmp (opt, "--oauth2-required") == 0) {
        s_required = true;
        return 2;
    }
    if (strcmp (opt, "--oauth2-id-env") == 0)
        return arg && s_env (arg, &s_client_id) == 0? 1: -1;
    if (strcmp (opt, "--oauth2-secret-env") == 0)
        return arg && s_env (arg, &s_client_secret) == 0? 1: -1;
    if (strcmp (opt, "--oauth2-lifetime-s") == 0) {
        char *end = NULL;
        long long n = arg? strtoll (arg, &end, 10): 0;
        if (!arg || !*arg || *end || n < 1 || n > 86400 * 365)
            return -1;
        s_lifetime_s = n;
        return 1;
    }
    return 0;
}

const char *
ts_demo_auth_ready (void)
{
    if (!s_client_id != !s_client_secret)
        return "--oauth2-id-env and --oauth2-secret-env go together";
    if (s_required && !s_client_id)
        return "--oauth2-required needs --oauth2-id-env and "
               "--oauth2-secret-env";
    return NULL;
}

void
ts_demo_auth_usage (FILE *out)
{
    fprintf (out,
"OAuth2 (client credentials):\n"
"  --oauth2-id-env NAME     POST /oauth/token accepts client id $NAME ...\n"
"  --oauth2-secret-env NAME ... with client secret $NAME (Basic or in the body)\n"
"  --oauth2-lifetime-s N    tokens expire after N s (default 3600)\n"
"  --oauth2-required        /rows and /columns need \"Authorization: Bearer T\"\n"
"                           with a token issued here, unexpired, not revoked\n"
"  POST /control also takes {\"oauth2_required\": bool, \"oauth2_lifetime_s\": N,\n"
"    \"oauth2_revoke\": true, \"oauth2_mode\": \"ok|500|invalid_client\"};\n"
"  GET /control reports tokens_issued, token_requests, bearer_refused.\n");
}

void
ts_demo_auth_destroy (void)
{
    free (s_client_id);
    free (s_client_secret);
    s_client_id = s_client_secret = NULL;
}

//  ---------------------------------------------------------------------
//  Forms and Basic credentials

int
ts_demo_auth_form_decode (const char *text, size_t len, char *out,
                          size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (n + 1 >= size)
            return -1;
        char c = text [i];
        if (c == '+')
            c = ' ';
        else
        if (c == '%' && i + 2 < len && isxdigit ((unsigned char) text [i + 1])
        &&  isxdigit ((unsigned char) text [i + 2])) {
            char hex [3] = { text [i + 1], text [i + 2], 0 };
            c = (char) strtol (hex, NULL, 16);
            i += 2;
        }
        out [n++] = c;
    }
    out [n] = 0;
    return 0;
}

int
ts_demo_auth_form_get (const char *body, size_t len, const char *name,
                       char *out, size_t size)
{
    size_t name_len = strlen (name);
    const char *p = body, *end = body + len;
    while (p && p < end) {
        const char *amp = memchr (p, '&', (size_t) (end - p));
        const char *stop = amp? amp: end;
        if ((size_t) (stop - p) > name_len && p [name_len] == '='
        &&  strncmp (p, name, name_len) == 0)
            return ts_demo_auth_form_decode (p + name_len + 1,
                                             (size_t) (stop - p) - name_len - 1,
                                             out, size);
        p = amp? amp + 1: NULL;
    }
    return -1;
}

//  Writes base64 of in (len bytes) into out (size bytes).
static void
s_base64 (const unsigned char *in, size_t len, char *out, size_t size)
{
    static const char b64 [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    for (size_t i = 0; i < len && n + 5 < size; i += 3) {
        uint32_t v = (uint32_t) in [i] << 16
                   | (i + 1 < len? (uint32_t) in [i + 1] << 8: 0)
                   | (i + 2 < len? in [i + 2]: 0);
        out [n++] = b64 [(v >> 18) & 63];
        out [n++] = b64 [(v >> 12) & 63];
        out [n++] = i + 1 < len? b64 [(v >> 6) & 63]: '=';
        out [n++] = i + 2 < len? b64 [v & 63]: '=';
    }
    out [n] = 0;
}

//  True if the request authenticates the configured client: Basic
//  credentials or client_id/client_secret in the body.
static bool
s_client_ok (struct MHD_Connection *conn, const char *body, size_t len)
{
    char plain [2 * S_FIELD_MAX], expected [3 * S_FIELD_MAX];
    size_t used = 0;
    ts_percent_encode (plain, sizeof plain, &used, s_client_id);
    if (used + 1 < sizeof plain)
        plain [used++] = ':';
    plain [used] = 0;
    ts_percent_encode (plain, sizeof plain, &used, s_client_secret);
    memcpy (expected, "Basic ", 6);
    s_base64 ((const unsigned char *) plain, used, expected + 6,
              sizeof expected - 6);
    const char *given = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                     "Authorization");
    if (given)
        return ts_secure_equal (given, strlen (given), expected,
                                strlen (expected));
    char id [S_FIELD_MAX], secret [S_FIELD_MAX];
    return ts_demo_auth_form_get (body, len, "client_id", id, sizeof id) == 0
        && ts_demo_auth_form_get (body, len, "client_secret", secret,
                                  sizeof secret) == 0
        && ts_secure_equal (id, strlen (id), s_client_id,
                            strlen (s_client_id))
        && ts_secure_equal (secret, strlen (secret), s_client_secret,
                            strlen (s_client_secret));
}

//  ---------------------------------------------------------------------
//  Routes

static enum MHD_Result
s_answer (struct MHD_Connection *conn, unsigned int status, json_t *json)
{
    char *text = json? json_dumps (json, JSON_COMPACT): NULL;
    json_decref (json);
    if (!text)
        return MHD_NO;
    struct MHD_Response *response = MHD_create_response_from_buffer (
        strlen (text), text, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (text);
        return MHD_NO;
    }
    MHD_add_response_header (response, "Content-Type", "application/json");
    MHD_add_response_header (response, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response (conn, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_error (struct MHD_Connection *conn, unsigned int status, const char *code,
         const char *what)
{
    return s_answer (conn, status, json_pack ("{s:s, s:s}", "error", code,
                                              "error_description", what));
}

//  Writes a new random token into out (S_TOKEN_LEN + 1 bytes).
static void
s_token_new (char *out)
{
    unsigned char raw [S_TOKEN_LEN / 2];
    FILE *random = fopen ("/dev/urandom", "rb");
    size_t got = random? fread (raw, 1, sizeof raw, random): 0;
    if (random)
        fclose (random);
    for (size_t i = got; i < sizeof raw; i++)
        raw [i] = (unsigned char) rand ();
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (out + 2 * i, 3, "%02x", raw [i]);
}

enum MHD_Result
ts_demo_auth_token (struct MHD_Connection *conn, const char *body,
                    size_t len)
{
    if (!s_client_id)
        return s_error (conn, MHD_HTTP_NOT_FOUND, "not_found",
                        "no token endpoint: start with --oauth2-id-env");
    pthread_mutex_lock (&s_lock);
    s_requests++;
    s_mode_t mode = s_mode;
    int64_t lifetime_s = s_lifetime_s;
    pthread_mutex_unlock (&s_lock);
    if (mode == S_TOKEN_500)
        return s_error (conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                        "demo failure");
    char grant [64];
    if (ts_demo_auth_form_get (body, len, "grant_type", grant,
                               sizeof grant) != 0
    ||  strcmp (grant, "client_credentials") != 0)
        return s_error (conn, MHD_HTTP_BAD_REQUEST, "unsupported_grant_type",
                        "grant_type must be client_credentials");
    if (mode == S_TOKEN_INVALID_CLIENT || !s_client_ok (conn, body, len))
        return s_error (conn, MHD_HTTP_UNAUTHORIZED, "invalid_client",
                        "client authentication failed");
    char token [S_TOKEN_LEN + 1];
    s_token_new (token);
    pthread_mutex_lock (&s_lock);
    s_token_t *slot = &s_tokens [s_next];
    s_next = (s_next + 1) % S_TOKENS_MAX;
    memcpy (slot->token, token, sizeof token);
    slot->revoked = false;
    slot->expires_ms = ts_now_ms () + lifetime_s * 1000;
    s_issued++;
    pthread_mutex_unlock (&s_lock);
    return s_answer (conn, MHD_HTTP_OK, json_pack ("{s:s, s:s, s:I}",
                     "access_token", token, "token_type", "Bearer",
                     "expires_in", (json_int_t) lifetime_s));
}

bool
ts_demo_auth_check (struct MHD_Connection *conn)
{
    pthread_mutex_lock (&s_lock);
    bool required = s_required;
    pthread_mutex_unlock (&s_lock);
    if (!required)
        return true;
    const char *given = MHD_lookup_connection_value (conn, MHD_HEADER_KIND,
                                                     "Authorization");
    bool ok = false;
    int64_t now = ts_now_ms ();
    pthread_mutex_lock (&s_lock);
    if (given && strncmp (given, "Bearer ", 7) == 0
    &&  strlen (given + 7) == S_TOKEN_LEN)
        for (size_t i = 0; !ok && i < S_TOKENS_MAX; i++)
            ok = s_tokens [i].expires_ms > now && !s_tokens [i].revoked
              && ts_secure_equal (given + 7, S_TOKEN_LEN, s_tokens [i].token,
                                  S_TOKEN_LEN);
    if (!ok)
        s_refused++;
    pthread_mutex_unlock (&s_lock);
    return ok;
}

const char *
ts_demo_auth_control (json_t *json)
{
    json_t *required = json_object_get (json, "oauth2_required");
    json_t *lifetime = json_object_get (json, "oauth2_lifetime_s");
    json_t *revoke = json_object_get (json, "oauth2_revoke");
    json_t *mode = json_object_get (json, "oauth2_mode");
    if (required && !json_is_boolean (required))
        return "oauth2_required must be true or false";
    if (required && json_is_true (required) && !s_client_id)
        return "oauth2_required needs --oauth2-id-env and --oauth2-secret-env";
    if (lifetime && (!json_is_integer (lifetime)
                 ||  json_integer_value (lifetime) < 1
                 ||  json_integer_value (lifetime) > 86400 * 365))
        return "oauth2_lifetime_s must be an integer from 1 to 31536000";
    if (revoke && !json_is_boolean (revoke))
        return "oauth2_revoke must be true or false";
    size_t m = 0;
    while (mode && json_is_string (mode) && s_modes [m]
       &&  strcmp (s_modes [m], json_string_value (mode)) != 0)
        m++;
    if (mode && (!json_is_string (mode) || !s_modes [m]))
        return "oauth2_mode must be ok, 500 or invalid_client";
    pthread_mutex_lock (&s_lock);
    if (required)
        s_required = json_is_true (required);
    if (lifetime)
        s_lifetime_s = json_integer_value (lifetime);
    for (size_t i = 0; revoke && json_is_true (revoke) && i < S_TOKENS_MAX;
         i++)
        s_tokens [i].revoked = true;
    if (mode)
        s_mode = (s_mode_t) m;
    pthread_mutex_unlock (&s_lock);
    return NULL;
}

void
ts_demo_auth_state (json_t *json)
{
    pthread_mutex_lock (&s_lock);
    json_object_set_new (json, "oauth2_required", json_boolean (s_required));
    json_object_set_new (json, "oauth2_lifetime_s", json_integer (s_lifetime_s));
    json_object_set_new (json, "oauth2_mode", json_string (s_modes [s_mode]));
    json_object_set_new (json, "tokens_issued", json_integer ((json_int_t) s_issued));
    json_object_set_new (json, "token_requests", json_integer ((json_int_t) s_requests));
    json_object_set_new (json, "bearer_refused", json_integer ((json_int_t) s_refused));
    json_t *recent = json_array ();
    for (size_t k = 1; recent && k <= S_RECENT && k <= s_issued; k++)
        json_array_append_new (recent, json_string (
            s_tokens [(s_next + S_TOKENS_MAX - k) % S_TOKENS_MAX].token));
    json_object_set_new (json, "recent_tokens", recent);
    pthread_mutex_unlock (&s_lock);
}
