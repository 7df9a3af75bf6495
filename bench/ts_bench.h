/*  ts_bench - what the C load generators of bench/ share (dispatchload,
    zmqload): option values and the clock. Header only; each tool is one
    program. */

#ifndef TS_BENCH_H_INCLUDED
#define TS_BENCH_H_INCLUDED

#include "ts_common.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

//  Parses a whole decimal integer in [min, max]. Returns 0 or TS_EINVAL.
static inline int
ts_bench_parse_long (const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol (s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return TS_EINVAL;
    *out = v;
    return 0;
}

//  The monotonic clock in nanoseconds.
static inline int64_t
ts_bench_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
