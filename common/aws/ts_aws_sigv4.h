/*  ts_aws_sigv4 - AWS Signature Version 4 for one request: the canonical
    request, the string to sign, the signing key and the Authorization
    header, as AWS documents them ("Create a signed AWS API request") and
    as AWS's published SigV4 test suite checks them.

    Pure apart from the clock given by the caller: no I/O, no allocation
    per request (the canonical request is hashed as it is produced; the
    signing key, derived once per day, region, service and secret, is
    kept in the signer). One signer may be used from several threads.

    Used by ts_aws (signed JSON calls); tests print its canonical request. */

#ifndef TS_AWS_SIGV4_H_INCLUDED
#define TS_AWS_SIGV4_H_INCLUDED

#include "ts_common.h"
#include <time.h>

typedef struct _ts_aws_sigv4_t ts_aws_sigv4_t;

//  Credentials (from ts_aws_creds). session_token "" for long-term keys.
//  The limits are those of AWS's own (an STS session token can be a few
//  kB).
typedef struct {
    char    access_key_id [128];
    char    secret_access_key [128];
    char    session_token [4096];
    int64_t expiration_ms;          //  epoch ms; 0: does not expire
} ts_aws_creds_t;

typedef struct {
    const char *name;               //  any case; signed lower-cased
    const char *value;              //  signed trimmed, inner runs of
                                    //  blanks as one space
} ts_aws_header_t;

#define TS_AWS_SIGV4_HEADERS 32     //  most headers one request signs
#define TS_AWS_SIGV4_PARAMS  64     //  most query parameters
#define TS_AWS_SIGV4_QUERY   4096   //  longest canonical query, bytes
#define TS_AWS_SIGV4_AUTHLEN 1024   //  room for the Authorization value

typedef struct {
    const char *method;             //  "GET", "POST"
    const char *path;               //  as sent ("/", "/a%20b"); NULL or
                                    //  "": "/". Normalised (empty, "."
                                    //  and ".." segments) and encoded once
                                    //  more, as AWS does for every
                                    //  service but S3
    const char *query;              //  as sent, without '?'; NULL or ""
                                    //  for none. %XX are decoded then
                                    //  every parameter encoded again
    const ts_aws_header_t *headers; //  the headers to sign; must hold
                                    //  Host. X-Amz-Date and, with a
                                    //  session token, X-Amz-Security-
                                    //  Token are added by the signer
                                    //  (given ones are ignored)
    size_t      header_count;
    const void *body;               //  may be NULL if body_size is 0
    size_t      body_size;
    const char *payload_hash;       //  hex SHA-256 of the body, NULL:
                                    //  computed here (a header
                                    //  x-amz-content-sha256 also sets it)
} ts_aws_sigv4_request_t;

//  What a request must carry once signed.
typedef struct {
    char amz_date [17];             //  X-Amz-Date, "20150830T123600Z"
    char authorization [TS_AWS_SIGV4_AUTHLEN];
    char signature [65];            //  the hex signature alone
} ts_aws_sigv4_out_t;

//  A signer for one region and one service (signing name, e.g.
//  "dynamodb"). NULL if allocation failed or an argument is empty.
ts_aws_sigv4_t *ts_aws_sigv4_new (const char *region, const char *service);

//  Frees the signer (and wipes the key it kept); sets *self_p to NULL.
void ts_aws_sigv4_destroy (ts_aws_sigv4_t **self_p);

//  Signs req with creds at time now (epoch seconds). Returns 0 and fills
//  out, or TS_EINVAL (missing Host, too many headers or parameters, a
//  malformed %XX, a credential missing) or TS_ETOOBIG with the reason in
//  err (TS_ERRLEN bytes, may be NULL); no secret is ever written there.
int ts_aws_sigv4_sign (ts_aws_sigv4_t *self, const ts_aws_sigv4_request_t *req,
                       const ts_aws_creds_t *creds, time_t now,
                       ts_aws_sigv4_out_t *out, char *err);

//  The canonical request of req at time now, as ts_aws_sigv4_sign hashes
//  it, into buf (size bytes, NUL-terminated), for tests and debugging.
//  Returns 0, TS_ETOOBIG if it did not fit, or as ts_aws_sigv4_sign.
int ts_aws_sigv4_canonical (const ts_aws_sigv4_request_t *req,
                            const ts_aws_creds_t *creds, time_t now,
                            char *buf, size_t size, char *err);

//  Hex SHA-256 of data (65 bytes: 64 digits and NUL) into hex.
void ts_aws_sha256_hex (const void *data, size_t size, char hex [65]);

#endif
