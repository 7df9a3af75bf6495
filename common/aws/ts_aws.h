/*  ts_aws - what every AWS backend of tscache shares: the credential
    chain, the region, the endpoint of a service, Signature Version 4 and
    signed JSON requests with retries.

    Used by the store's AWS backends (common/store/ts_store_dynamodb*,
    common/store/ts_store_timestream*); nothing outside common/ names it. One ts_aws_t
    talks to one service ("dynamodb", "timestream") in one region.

    Credentials, first found wins, as the AWS SDKs look for them:
    - environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
      AWS_SESSION_TOKEN (optional);
    - the shared files ~/.aws/credentials and ~/.aws/config (or
      AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), profile AWS_PROFILE
      or "default";
    - container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
      169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, with
      AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
    - EC2 instance metadata, IMDSv2 (a session token first).
    Temporary credentials are fetched again before they expire. Secrets
    are never logged nor written into an error text.

    Region: the config's, else AWS_REGION, else AWS_DEFAULT_REGION, else
    the profile's region. Endpoint: the config's (DynamoDB Local,
    dynalite, ScyllaDB Alternator, a test fixture), else
    https://SERVICE.REGION.amazonaws.com.

    Threads: one ts_aws_t may be used from several threads at once; each
    call takes a connection from a pool shared by all (connections, DNS
    and TLS sessions are reused).

    Every function that can fail returns 0 or a TS_E* code and fills err
    (TS_ERRLEN bytes, may be NULL). */

#ifndef TS_AWS_H_INCLUDED
#define TS_AWS_H_INCLUDED

#include "ts_common.h"

typedef struct _ts_aws_t ts_aws_t;

typedef struct {
    const char *service;        //  signing name, e.g. "dynamodb"
    const char *region;         //  "" or NULL: from the environment
    const char *endpoint;       //  "" or NULL: the service's AWS endpoint
    const char *what;           //  error and log prefix, the config
                                //  section, e.g. "store.dynamodb"
    int         timeout_ms;     //  one attempt, connect to last byte
    int         retries;        //  attempts after the first, on
                                //  throttling, 5xx and network errors
} ts_aws_config_t;

//  An AWS service's answer to a failed call (ts_aws_call).
typedef struct {
    int  http_status;           //  0 if no answer came
    char type [96];             //  e.g. "ConditionalCheckFailedException",
                                //  "" if none
    char message [256];         //  the service's message, "" if none
} ts_aws_error_t;

//  A client of one service. Resolves the region and finds credentials
//  (NULL with the reason in err if there are none anywhere in the chain,
//  naming every place looked at).
ts_aws_t *ts_aws_new (const ts_aws_config_t *cfg, char *err);

//  Frees the client; sets *self_p to NULL. Safe on NULL.
void ts_aws_destroy (ts_aws_t **self_p);

//  The region and endpoint in use (borrowed).
const char *ts_aws_region (const ts_aws_t *self);
const char *ts_aws_endpoint (const ts_aws_t *self);

//  One call of the AWS JSON protocol: POSTs body (size bytes) to the
//  endpoint (or to endpoint if not NULL: a discovered one) with
//  X-Amz-Target: target and Content-Type: content_type (e.g.
//  "application/x-amz-json-1.0"), signed with SigV4. Retries throttling
//  (HTTP 400 with a throttling error type, 429), 5xx and network errors
//  up to cfg.retries times with exponential backoff and full jitter. On
//  200 returns 0 and *reply (malloc'ed, NUL-terminated, the caller frees
//  it) and *reply_size. Otherwise TS_EBACKEND, *reply NULL, error (if not
//  NULL) filled and err saying "what: Target: Type: message" (or "what:
//  Target: <libcurl's error>" when no answer came). An answer the service
//  calls an expired token (ExpiredTokenException, ExpiredToken,
//  RequestExpired) makes the chain fetch temporary credentials again once
//  and the call retried. TS_EAUTH if there are no valid credentials
//  (expired, not renewable); TS_EINVAL for bad arguments. Each attempt
//  is bounded by cfg.timeout_ms; the backoff before attempt k+1 is a
//  random 0 .. min(5000, 50 * 2^k) ms.
int ts_aws_call (ts_aws_t *self, const char *endpoint, const char *target,
                 const char *content_type, const char *body, size_t size,
                 char **reply, size_t *reply_size, ts_aws_error_t *error,
                 char *err);

//  Same as ts_aws_call, and when the call fails with an answer of the
//  service (error->http_status not 0, whatever the status), *error_body
//  gets that answer's body (malloc'ed, NUL-terminated, the caller frees
//  it; the last attempt's); NULL otherwise and on success. For the
//  services whose error answers carry more than a type and a message:
//  Timestream's RejectedRecordsException (HTTP 419) lists every record
//  it rejected and why. error_body must not be NULL.
int ts_aws_call_full (ts_aws_t *self, const char *endpoint,
                      const char *target, const char *content_type,
                      const char *body, size_t size, char **reply,
                      size_t *reply_size, ts_aws_error_t *error,
                      char **error_body, char *err);

//  Where the credentials came from (ts_aws_creds_source): "environment",
//  "shared files (profile NAME)", "container", "instance metadata (role
//  NAME)". Borrowed.
const char *ts_aws_credentials_source (const ts_aws_t *self);

//  Policy, pure (exposed for tests):
//  True if a failed attempt is worth another: no answer (http_status 0),
//  429, 5xx, or a throttling or transient error type (ThrottlingException,
//  ProvisionedThroughputExceededException, RequestLimitExceeded,
//  TooManyRequestsException, ... ; type may be NULL).
bool ts_aws_retryable (int http_status, const char *type);

//  Full-jitter backoff before retry number attempt + 1 (attempt 0: the
//  first retry): uniform in 0 .. min(5000, 50 * 2^attempt) ms. seed is
//  rand_r's state.
int64_t ts_aws_backoff_ms (int attempt, unsigned *seed);

//  Fills error from a failed answer: status, the type from the JSON
//  body's "__type" (after '#') or "code", else from header_type (the
//  x-amzn-ErrorType header, up to ':'); the message from "message" or
//  "Message", or the start of a body that is not JSON (printable bytes).
void ts_aws_error_parse (int http_status, const char *body, size_t size,
                         const char *header_type, ts_aws_error_t *error);

//  The libraries the AWS plumbing uses ("LIB VERSION, ..."), for
//  ts_version_use.
const char *ts_aws_libraries (void);

#endif
