/*  ts_oauth2 - the OAuth2 client-credentials token of one source, for a
    worker (RFC 6749 section 4.4).

    A source with upstream.oauth2.token_url set sends each of its data
    requests with "Authorization: Bearer TOKEN". The token is asked of
    the token endpoint with the client id and secret (read from
    upstream.oauth2.client_id_env/_file and client_secret_env/_file,
    never from config text), sent as upstream.oauth2.auth_style says
    (RFC 6749 section 2.3.1):

      client_secret_basic  "Authorization: Basic base64(id:secret)", id
                           and secret form-encoded first (the default)
      client_secret_post   client_id= and client_secret= in the body

    The body is "grant_type=client_credentials" and, if
    upstream.oauth2.scope is set, "&scope=...". The answer (JSON) gives
    access_token and, usually, expires_in; a token is refreshed before it
    expires, by a margin of 10 % of its lifetime, at most 60 s
    (ts_oauth2_refresh_at); one without expires_in is kept until the
    upstream answers 401.

    This module holds the token and its state; it does no I/O of its
    own. The worker sends the request ts_oauth2_request fills through
    its own fetcher (the same libcurl multi as the data, so its loop never
    blocks), holds the ids that need a token until the answer arrives,
    gives the answer to ts_oauth2_done, and on a 401 from the upstream
    calls ts_oauth2_reject, which drops the token if the rejected request
    was sent with it, so the next id fetches a new one. One instance per
    source per worker: every transfer of that worker shares its token.

    A token endpoint that fails fails the ids that waited for it:

      retried                          not retried
      -------------------------------  -------------------------------
      transport errors, timeouts       error invalid_client,
      HTTP 5xx, 429, 408               unauthorized_client,
      any other HTTP status (400,      unsupported_grant_type or
      401, 403 without one of those    invalid_scope (the operator
      error codes)                     must fix the client or the
      an answer without a usable       config, then redrive)
      access_token

    The client secret, the token and the Basic header are secrets: they
    are wiped when dropped, never logged and never put in an error text;
    ts_oauth2_redact scrubs them from any text the caller shows. The
    endpoint's error_description is quoted in errors (printable ASCII,
    cut short), scrubbed the same way.

    Not thread-safe: one worker loop owns it. */

#ifndef TS_OAUTH2_H_INCLUDED
#define TS_OAUTH2_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_fetch.h"

typedef struct _ts_oauth2_t ts_oauth2_t;

//  The refresh margin: 10 % of a token's lifetime, at most this.
#define TS_OAUTH2_MARGIN_MAX_MS  60000

//  A token as the endpoint gave it.
typedef struct {
    char    *access_token;      //  owned; the caller wipes and frees it
    int64_t  expires_in_s;      //  lifetime; 0 if the answer gave none
} ts_oauth2_token_t;

//  ---------------------------------------------------------------------
//  Pure parts (no I/O, no clock)

//  Parses the token endpoint's answer: HTTP status and body (len bytes,
//  JSON). A 2xx answer holding an object with a non-empty access_token
//  string (printable ASCII), token_type "Bearer" (any case) or none, and
//  expires_in a positive number (or a numeric string), or none, fills
//  *token and returns 0. Anything else returns TS_EUPSTREAM with *retry
//  set as the table at the top says and err (TS_ERRLEN) saying why:
//  "token endpoint HTTP 401: invalid_client: bad secret (not retried)".
//  The body may echo the secret or the token: err never quotes
//  more than the error code and error_description (printable, cut to
//  64 bytes), and the caller scrubs it (ts_oauth2_redact).
int ts_oauth2_parse (long status, const char *body, size_t len,
                     ts_oauth2_token_t *token, bool *retry, char *err);

//  When a token obtained at obtained_ms (any clock) that lives
//  expires_in_s should be replaced: its expiry less 10 % of its lifetime,
//  at most TS_OAUTH2_MARGIN_MAX_MS. INT64_MAX if expires_in_s <= 0 (no
//  expiry known).
int64_t ts_oauth2_refresh_at (int64_t obtained_ms, int64_t expires_in_s);

//  Writes "Basic base64(form(id):form(secret))" (RFC 6749 section
//  2.3.1) into out (size bytes). Returns 0, or TS_ETOOBIG (out wiped).
int ts_oauth2_basic (const char *id, const char *secret, char *out,
                     size_t size);

//  ---------------------------------------------------------------------
//  The token of one source

//  Reads the client id and secret of cfg's upstream.oauth2.* (the
//  source's config; upstream.oauth2.token_url must be set). Returns an
//  instance with no token yet, or NULL with err naming the key that
//  could not be read (never a secret).
ts_oauth2_t *ts_oauth2_new (const ts_config_t *cfg, char *err);

//  Wipes the secrets and the token, frees; sets *self_p to NULL. Safe on
//  NULL.
void ts_oauth2_destroy (ts_oauth2_t **self_p);

//  The token to send at now_ms (monotonic), or NULL if none is held or
//  it is due for refresh. Borrowed: valid until the next call to
//  ts_oauth2_done, ts_oauth2_reject or ts_oauth2_destroy.
const char *ts_oauth2_token (ts_oauth2_t *self, int64_t now_ms);

//  True between ts_oauth2_request and ts_oauth2_done: a token request
//  is in flight, and ids that need a token wait for it.
bool ts_oauth2_fetching (const ts_oauth2_t *self);

//  Fills *req with the token request (POST upstream.oauth2.token_url,
//  bare: none of the upstream's headers) and marks a request in flight.
//  req's strings are borrowed from self until ts_oauth2_done; the fetcher
//  copies them. Returns 0, or TS_ENOMEM.
int ts_oauth2_request (ts_oauth2_t *self, ts_fetch_request_t *req);

//  The token request completed with res (ts_fetch_next) at now_ms
//  (monotonic). Returns 0 with the new token held (the previous one
//  wiped), or TS_EUPSTREAM with *retry and err as ts_oauth2_parse (a
//  transfer that failed: retried, with libcurl's reason), scrubbed of
//  every secret self holds. Clears the request in flight either way.
int ts_oauth2_done (ts_oauth2_t *self, const ts_fetch_result_t *res,
                    int64_t now_ms, bool *retry, char *err);

//  The upstream answered 401 to a request that carried the generation-th
//  token (ts_oauth2_obtained when the request took it), compared on its
//  low bits only (bits >= 1; the caller may keep no more): if that is
//  the token held, the endpoint revoked it and it is dropped (kept for
//  ts_oauth2_redact); a newer token is kept. (Not by time: a request
//  that took the old token in the millisecond the new one came, or that
//  waited in the fetcher's queue, must not drop the new one.)
void ts_oauth2_reject (ts_oauth2_t *self, size_t generation, int bits);

//  True if self and other hold the same client id and secret (a reload
//  that changed neither keeps the running instance and its token).
bool ts_oauth2_same_client (const ts_oauth2_t *self,
                            const ts_oauth2_t *other);

//  How many tokens this instance has obtained.
size_t ts_oauth2_obtained (const ts_oauth2_t *self);

//  Scrubs the client secret, the token held, the one before it, and the
//  Basic header from text (size bytes), as
//  ts_redact_text does. Safe on a NULL self.
void ts_oauth2_redact (const ts_oauth2_t *self, char *text, size_t size);

#endif
