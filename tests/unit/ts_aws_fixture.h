/*  ts_aws_fixture - a small HTTP/1.1 server on loopback for the AWS
    plumbing's tests (test_ts_aws, test_ts_aws_creds): it plays an AWS
    service, a container credentials endpoint or the EC2 instance
    metadata service. A thread of the test serves every connection
    (keep-alive, up to 16 at once) and hands each request to the test's
    handler, which writes the answer. Nothing here leaves 127.0.0.1. */

#ifndef TS_AWS_FIXTURE_H_INCLUDED
#define TS_AWS_FIXTURE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char   method [16];
    char   path [512];              //  with the query
    char   headers [16384];         //  "Name: value\r\n" lines as received
    char  *body;                    //  NUL-terminated
    size_t body_size;
} ts_fix_request_t;

typedef struct {
    int    status;                  //  default 200
    char   headers [1024];          //  extra "Name: value\r\n" lines
    char   body [16384];
} ts_fix_answer_t;

typedef void (ts_fix_handler_fn) (const ts_fix_request_t *req, ts_fix_answer_t *ans,
                                  void *arg);

typedef struct _ts_fix_t ts_fix_t;

//  Starts the server on an ephemeral port of 127.0.0.1. NULL on failure.
ts_fix_t *ts_fix_new (ts_fix_handler_fn *handler, void *arg);
void      ts_fix_destroy (ts_fix_t **self_p);
int       ts_fix_port (ts_fix_t *self);
int       ts_fix_requests (ts_fix_t *self);        //  requests served
int       ts_fix_connections (ts_fix_t *self);     //  connections accepted

//  Copies the value of header name (case-insensitive) of req into out;
//  false if absent.
bool ts_fix_header (const ts_fix_request_t *req, const char *name, char *out,
                    size_t size);

#endif
