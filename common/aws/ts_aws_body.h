/*  ts_aws_body - an answer's body as libcurl delivers it, collected under
    a size cap: the write callback of every request of the AWS plumbing
    (service calls in ts_aws, metadata requests in ts_aws_creds). */

#ifndef TS_AWS_BODY_H_INCLUDED
#define TS_AWS_BODY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char  *data;                    //  NUL-terminated, malloc'ed; NULL
                                    //  until the first byte
    size_t size;                    //  bytes in data
    size_t cap;                     //  bytes allocated
    size_t max;                     //  the cap: beyond it, over is set
                                    //  and the transfer stops
    bool   over;
} ts_aws_body_t;

//  CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a ts_aws_body_t (max set,
//  the rest zero). Grows data by doubling. Returns n * size, or 0 to stop
//  the transfer (cap reached, out of memory).
size_t ts_aws_body_write (char *p, size_t size, size_t n, void *arg);

#endif
