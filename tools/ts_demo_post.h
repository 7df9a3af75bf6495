/*  ts_demo_post - the POST form of tscache-demo-upstream's data routes:
    POST /rows/{id} and POST /columns/{id} answer as the GETs do, with
    from and to taken from the request body instead of the query - for
    the tests of tscache's request bodies (upstream.method: POST,
    upstream.body, upstream.body_type). The body is a JSON object
    ({"from": .., "to": ..}) when it starts with '{', else a form
    (from=..&to=..); a value is epoch ms (a JSON number or digits) or
    RFC 3339 (a date alone, 2024-11-24, is that day's midnight UTC). The
    demo counts the data POSTs it got in /control as "posts". */

#ifndef TS_DEMO_POST_H_INCLUDED
#define TS_DEMO_POST_H_INCLUDED

#include "ts_common.h"

//  Reads from and to out of body (len bytes): absent ones keep their
//  value. Returns 0, or -1 if the body is neither form nor JSON object
//  or a value is no time.
int ts_demo_post_times (const char *body, size_t len, int64_t *from_ms,
                        int64_t *to_ms);

#endif
