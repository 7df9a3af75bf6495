/*  ts_prom - the Prometheus text exposition format (version 0.0.4), and
    the histograms that feed it. Used by the gateway's GET /metrics and by
    the optional metrics ports of the broker and the worker
    (ts_prom_http); docs/metrics.md lists what each process exposes.

    A ts_prom_t is a bounded text buffer that a scrape fills from scratch:
    one ts_prom_family per metric (its "# HELP" and "# TYPE" lines), then
    its samples. It escapes label values and help text as the format
    says (backslash, double quote and newline), writes values so that
    they read back exactly ("+Inf", "-Inf", "NaN"; integers without an
    exponent up to 2^53), and writes a histogram as cumulative
    "_bucket" lines with "le" ending at "+Inf", then "_sum" and "_count".

    Written by hand: Debian bookworm ships no Prometheus client library
    for C (only prometheus-cpp, for C++), and the format is a page long.

    A ts_prom_hist_t may be observed from several threads at once (its
    counts are atomics) while another thread writes it; a ts_prom_t is
    one thread's. Nothing here does I/O. */

#ifndef TS_PROM_H_INCLUDED
#define TS_PROM_H_INCLUDED

#include "ts_common.h"

#include <stdatomic.h>

#define TS_PROM_CONTENT_TYPE    "text/plain; version=0.0.4; charset=utf-8"
#define TS_PROM_MAX_BUCKETS     24      //  most bounds in one histogram
#define TS_PROM_MAX_LABELS      8       //  most labels on one sample

typedef struct _ts_prom_t ts_prom_t;

//  A histogram: counts of observations by upper bound. Make it with
//  ts_prom_hist_init (it holds no memory of its own; no destroy).
typedef struct {
    const double *bounds;           //  borrowed: ascending upper bounds
    size_t        n;                //  how many, 1..TS_PROM_MAX_BUCKETS
    atomic_uint_least64_t counts [TS_PROM_MAX_BUCKETS + 1];
                                    //  per bucket, not cumulative; the
                                    //  last: above every bound
    atomic_uint_least64_t sum_micro;    //  sum of observations x 10^6
} ts_prom_hist_t;

//  Bounds shared by the tscache histograms, in seconds: 1 ms to 60 s.
extern const double ts_prom_latency_bounds [];
extern const size_t ts_prom_latency_bounds_n;

//  --- the text ----------------------------------------------------------

//  A buffer that holds at most max_bytes of text (> 0). Returns NULL if
//  out of memory.
ts_prom_t *ts_prom_new (size_t max_bytes);

//  Frees the buffer; sets *self_p to NULL. Safe on NULL.
void ts_prom_destroy (ts_prom_t **self_p);

//  Empties the buffer and clears its error, for the next scrape.
void ts_prom_reset (ts_prom_t *self);

//  Starts a metric family: "# HELP name help" and "# TYPE name type".
//  name must match [a-zA-Z_:][a-zA-Z0-9_:]* and type be "counter",
//  "gauge", "histogram", "summary" or "untyped" (asserted: they are the
//  caller's constants, never input). help may hold any text.
void ts_prom_family (ts_prom_t *self, const char *name, const char *type,
                     const char *help);

//  One sample line: name{l1="v1",...} value. labels holds n pairs (n at
//  most TS_PROM_MAX_LABELS), label name then value, 2 * n strings; may
//  be NULL when n is 0. Label names must match [a-zA-Z_][a-zA-Z0-9_]*
//  (asserted); values may hold any UTF-8, and are escaped.
void ts_prom_sample (ts_prom_t *self, const char *name,
                     const char *const *labels, size_t n, double value);

//  The histogram's samples under family name (started by the caller with
//  type "histogram"): name_bucket with the labels plus le, cumulative,
//  the last le="+Inf"; then name_sum and name_count. The counts are read
//  once, so _count equals the +Inf bucket even while others observe.
void ts_prom_histogram (ts_prom_t *self, const char *name,
                        const char *const *labels, size_t n,
                        const ts_prom_hist_t *hist);

//  The text written so far, NUL-terminated; *size (may be NULL) gets its
//  length. Valid until the next call on self.
const char *ts_prom_text (const ts_prom_t *self, size_t *size);

//  0, or the first error since new or reset: TS_ETOOBIG (the text would
//  pass max_bytes: what fitted ends at a whole line) or TS_ENOMEM.
int ts_prom_error (const ts_prom_t *self);

//  --- histograms --------------------------------------------------------

//  Empties hist and gives it n bounds (1..TS_PROM_MAX_BUCKETS, ascending,
//  asserted), which must outlive it.
void ts_prom_hist_init (ts_prom_hist_t *hist, const double *bounds,
                        size_t n);

//  Counts one observation (base unit: seconds, bytes...). A value equal
//  to a bound falls in that bound's bucket. Negative values and NaN count
//  as 0. Thread-safe.
void ts_prom_hist_observe (ts_prom_hist_t *hist, double value);

//  How many observations so far. Thread-safe.
uint64_t ts_prom_hist_count (const ts_prom_hist_t *hist);

#endif
