/*  ts_demo_auth - the OAuth2 side of tscache-demo-upstream: a token
    endpoint and bearer tokens on the data routes, for the tests of
    tscache's OAuth2 client (workers/ts_oauth2.h).

    Switched on by --oauth2-id-env NAME and --oauth2-secret-env NAME (the
    client id and secret the endpoint accepts, from the environment):

      POST /oauth/token   grant_type=client_credentials, the client
                          authenticated by "Authorization: Basic" (RFC
                          6749 2.3.1: base64 of the form-encoded id and
                          secret) or by client_id and client_secret in
                          the form body. Answers {"access_token": T,
                          "token_type": "Bearer", "expires_in": N} with N
                          = the token lifetime (--oauth2-lifetime-s,
                          default 3600); 401 invalid_client for wrong
                          credentials, 400 unsupported_grant_type.

    With oauth2_required on (--oauth2-required, or POST /control
    {"oauth2_required": true}), /rows and /columns answer 401
    {"error": "invalid_token"} unless the request carries "Authorization:
    Bearer T" with a token issued here, not expired, not revoked. POST
    /control also takes "oauth2_lifetime_s": N (tokens issued from now
    on), "oauth2_revoke": true (every token issued so far is refused
    from now on) and "oauth2_mode": "ok|500|invalid_client" (how the
    token endpoint answers: 500 or 401 invalid_client whatever it is
    sent). GET /control reports "tokens_issued", "token_requests" and
    "bearer_refused" (data requests refused for their token), the
    switches, and "recent_tokens", the last 16 tokens issued, so that tests can look for them in tscache's logs: the
    demo is a test tool, not a security boundary.

    Tokens are random (/dev/urandom), kept in memory, at most
    S_TOKENS_MAX (the oldest forgotten). Nothing here is logged. */

#ifndef TS_DEMO_AUTH_H_INCLUDED
#define TS_DEMO_AUTH_H_INCLUDED

#include "ts_common.h"

#include <jansson.h>
#include <microhttpd.h>

//  Takes command-line option opt with its value arg. Returns 1 if it was
//  one of ours and arg was used, 2 if one of ours without a value
//  (--oauth2-required), 0 if not ours, -1 for a bad value (arg named).
int ts_demo_auth_option (const char *opt, const char *arg);

//  Checks the options taken, once all are. Returns NULL or the reason.
const char *ts_demo_auth_ready (void);

//  Prints the options and routes of this part for --help.
void ts_demo_auth_usage (FILE *out);

//  Answers POST /oauth/token with the form body (len bytes).
enum MHD_Result ts_demo_auth_token (struct MHD_Connection *conn,
                                    const char *body, size_t len);

//  True if a data request may be served: no bearer token is required,
//  or it carries a valid one. Counts the refused.
bool ts_demo_auth_check (struct MHD_Connection *conn);

//  Applies the oauth2_* keys of a /control object. Returns NULL or the
//  reason it was refused (nothing applied then).
const char *ts_demo_auth_control (json_t *json);

//  Adds the counters and switches to the /control state object.
void ts_demo_auth_state (json_t *json);

//  Decodes percent-encoding (and '+' as space) of text (len bytes) into
//  out (size bytes, NUL-terminated). Returns 0, or -1 if it does not fit.
int ts_demo_auth_form_decode (const char *text, size_t len, char *out,
                              size_t size);

//  Finds field name in a form body and decodes its value into out.
//  Returns 0, or -1 if absent or too long.
int ts_demo_auth_form_get (const char *body, size_t len, const char *name,
                           char *out, size_t size);

//  Frees what the options took.
void ts_demo_auth_destroy (void);

#endif
