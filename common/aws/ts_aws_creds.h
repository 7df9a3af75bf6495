/*  ts_aws_creds - the AWS credential chain, as the AWS SDKs walk it, and
    the region a profile names.

    Sources, first found wins:
    1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
       AWS_SESSION_TOKEN (optional);
    2. shared files: the credentials file (AWS_SHARED_CREDENTIALS_FILE,
       else ~/.aws/credentials, sections [NAME]) then the config file
       (AWS_CONFIG_FILE, else ~/.aws/config, sections [profile NAME] and
       [default]); profile AWS_PROFILE, else "default". Keys
       aws_access_key_id, aws_secret_access_key, aws_session_token.
       Profiles that assume a role, run a process or use SSO are not
       supported (the chain goes on past them);
    3. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
       (GET http://169.254.170.2URI) or AWS_CONTAINER_CREDENTIALS_FULL_URI
       (https, or http to a loopback host or 169.254.170.2/.23), with an
       Authorization header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
       or AWS_CONTAINER_AUTHORIZATION_TOKEN;
    4. EC2 instance metadata, IMDSv2: PUT /latest/api/token (6 h TTL),
       then GET /latest/meta-data/iam/security-credentials/ (the role)
       and .../ROLE (the document), at AWS_EC2_METADATA_SERVICE_ENDPOINT,
       else http://169.254.169.254. AWS_EC2_METADATA_DISABLED=true skips
       it.
    Credentials of sources 3 and 4 carry an Expiration: they are fetched
    again, under the chain's lock, once less than 5 minutes are left (or
    when a service says the token expired, ts_aws_creds_refresh); if that
    fails while the old ones are still valid, those are used and a
    warning is logged.

    Secrets (keys, tokens, the container's authorization token) are never
    logged nor written into an error text; logs name the source only.
    Thread-safe. */

#ifndef TS_AWS_CREDS_H_INCLUDED
#define TS_AWS_CREDS_H_INCLUDED

#include "ts_aws_sigv4.h"

typedef struct _ts_aws_creds_chain_t ts_aws_creds_chain_t;

#define TS_AWS_CREDS_REFRESH_MS (5 * 60 * 1000)  //  refresh this long
                                                //  before Expiration

//  Walks the chain and keeps the first credentials found. what prefixes
//  logs and errors ("store.dynamodb"). timeout_ms bounds each metadata
//  request (container, IMDS); 0: 1000. Returns NULL with err naming every
//  place looked at (TS_ERRLEN bytes, may be NULL) if there are none.
ts_aws_creds_chain_t *ts_aws_creds_chain_new (const char *what, int timeout_ms,
                                              char *err);

//  Frees the chain (wiping the secrets it kept); sets *self_p to NULL.
void ts_aws_creds_chain_destroy (ts_aws_creds_chain_t **self_p);

//  Copies the current credentials into out, fetching them again first if
//  they expire within TS_AWS_CREDS_REFRESH_MS (now_ms: ts_now_ms (); a
//  parameter so tests can move time). Returns 0, or TS_EAUTH (expired and
//  not renewable; reason in err).
int ts_aws_creds_get (ts_aws_creds_chain_t *self, int64_t now_ms,
                      ts_aws_creds_t *out, char *err);

//  Fetches temporary credentials again now (after a service answered
//  that the token expired). Returns 0; TS_EAUTH if they cannot be
//  renewed or come from a static source (environment, files).
int ts_aws_creds_refresh (ts_aws_creds_chain_t *self, char *err);

//  Where the credentials came from: "environment", "shared files
//  (profile NAME)", "container", "instance metadata (role NAME)".
//  Borrowed, valid until destroy.
const char *ts_aws_creds_source (const ts_aws_creds_chain_t *self);

//  How many times credentials were fetched (1 after new), for tests.
int ts_aws_creds_fetches (const ts_aws_creds_chain_t *self);

//  The region of profile AWS_PROFILE (else "default") in the shared
//  config file, into region (size bytes). Returns true if one is set.
bool ts_aws_creds_profile_region (char *region, size_t size);

//  Pure parts of the chain, for tests and fuzzing:

//  Reads AccessKeyId, SecretAccessKey, Token and Expiration (ISO 8601)
//  from a credentials document (container and IMDS send the same
//  fields; a Code other than "Success" is a failure) into out. Returns
//  0, or TS_EAUTH with err saying why, prefixed by from; err never holds
//  a secret. The document's secrets are wiped from the parser's copies.
int ts_aws_creds_parse_document (const char *body, ts_aws_creds_t *out,
                                 const char *from, char *err);

//  True if url may carry the container's authorization token: https, or
//  http to a loopback host (127.0.0.0/8, ::1, localhost) or a container
//  agent address (169.254.170.2, 169.254.170.23, fd00:ec2::23), as the
//  AWS SDKs allow. The host is the one libcurl connects to (its URL
//  parser reads it), so user info ("http://127.0.0.1@host/") or a name
//  that starts like an address ("http://127.example.com/") is refused.
bool ts_aws_creds_container_url_allowed (const char *url);

#endif
