/*  ts_ratelimit - the rate limit of one upstream source: a token bucket
    (requests per second and a burst) and the pushback policy that slows
    the source when its upstream answers 429 or asks to wait (Retry-After).

    The broker keeps one per source and asks it before it hands a job to a
    worker (ts_broker_rate.c): a job costs one token per id, each id being
    one first request to the upstream (pages a paginated answer adds are
    not counted). Config: upstream.rate_limit.rate, .burst and
    .max_pause_s (config/tscache.example.yaml).

    The bucket holds at most burst tokens and gains rate tokens a second;
    it starts full. A cost is taken when that many tokens are there; a
    cost larger than the burst (a job of more ids than the burst) is taken
    when the bucket is full and leaves it in debt, so such a job waits for
    a full bucket instead of never going out. A rate of 0 is unlimited:
    every take succeeds unless the source is paused.

    Pushback (ts_ratelimit_pushback), the policy:
    - with a Retry-After: the source is paused until then (at most
      max_pause_ms from now); a later pause end replaces an earlier one,
      never the other way round.
    - without one (a bare 429): the source is paused 1 s, doubling with
      each level of pushback (1, 2, 4, 8 s ... at most max_pause_ms), and
      a rate-limited source then runs at half its rate per level, down to
      a sixteenth. Each TS_RATELIMIT_RECOVER_MS after the pause ends
      without a new pushback takes one level off, up to the full rate.
    - a pushback that arrives while the source is paused does not raise
      the level: it answers a request sent before the pause began (the
      jobs in flight all report the same 429).
    While paused, nothing is taken; the bucket is emptied when a pause
    starts and fills again from the pause's end, so the source restarts
    at its rate, not with a burst.

    Pure: no clock, no I/O, no allocation after _new. Every time is a
    monotonic millisecond count passed in by the caller. A time earlier
    than the latest one seen (a clock that stepped back) moves the
    stored times back with it: the pause keeps its remaining length and
    the bucket neither gains nor loses tokens for the step. Not
    thread-safe. */

#ifndef TS_RATELIMIT_H_INCLUDED
#define TS_RATELIMIT_H_INCLUDED

#include "ts_common.h"

#define TS_RATELIMIT_MAX_PER_S      1000000.0   //  highest rate, per second
#define TS_RATELIMIT_MIN_PER_S      (1.0 / 86400) //  lowest: one a day
#define TS_RATELIMIT_PAUSE_MS       1000    //  first pause of a bare 429
#define TS_RATELIMIT_MAX_LEVEL      4       //  slowest: rate / 2^4
#define TS_RATELIMIT_RECOVER_MS     10000   //  quiet time per level back

typedef struct _ts_ratelimit_t ts_ratelimit_t;

//  Parses a rate as upstream.rate_limit.rate writes it: "N/s", "N/min",
//  "N/h" or a bare "N" (per second), N a decimal number with an optional
//  fraction ("0.5/s", "1200/min"), white space around allowed; "" or
//  "off" is unlimited. *per_s gets the rate in requests per second (0
//  for unlimited). Returns 0, or TS_EINVAL with the reason in err
//  (TS_ERRLEN bytes, may be NULL): a rate must lie from one a day to
//  TS_RATELIMIT_MAX_PER_S a second.
int ts_ratelimit_parse (const char *text, double *per_s, char *err);

//  The burst a rate gets when none is configured (burst 0): one second of
//  requests, at least 1. 1 for an unlimited rate.
double ts_ratelimit_default_burst (double per_s);

//  Returns a full bucket of rate_per_s (0: unlimited) and burst (>= 1;
//  less is taken as 1), whose pauses last at most max_pause_ms (>= 1),
//  or NULL if out of memory.
ts_ratelimit_t *ts_ratelimit_new (double rate_per_s, double burst,
                                  int64_t max_pause_ms, int64_t now_ms);

//  Frees it; sets *self_p to NULL. Safe on NULL.
void ts_ratelimit_destroy (ts_ratelimit_t **self_p);

//  Takes cost (>= 0) tokens if the source is not paused and the bucket
//  holds them (or is full, for a cost over the burst). Returns true if
//  taken, false if the caller must wait (nothing taken).
bool ts_ratelimit_take (ts_ratelimit_t *self, double cost, int64_t now_ms);

//  How long from now_ms until ts_ratelimit_take of cost would succeed, if
//  nothing else is taken meanwhile: 0 if it would now. For the caller's
//  next wakeup.
int64_t ts_ratelimit_wait_ms (ts_ratelimit_t *self, double cost,
                              int64_t now_ms);

//  The upstream pushed back: a failure with HTTP 429 (is_429) and/or a
//  Retry-After of retry_after_ms (0: none). Applies the policy above.
//  Returns the length of the pause this pushback started or lengthened
//  (from now_ms), 0 if it changed nothing (e.g. a 429 during a pause, or
//  neither a 429 nor a Retry-After).
int64_t ts_ratelimit_pushback (ts_ratelimit_t *self, bool is_429,
                               int64_t retry_after_ms, int64_t now_ms);

//  The questions below change nothing: they answer for now_ms (which may
//  lie ahead, e.g. "the rate once this pause is over") against the
//  state as the last take, wait or pushback left it; they do not follow
//  a clock step.

//  True while the source is paused by a pushback.
bool ts_ratelimit_paused (const ts_ratelimit_t *self, int64_t now_ms);

//  The rate in force at now_ms, per second: the configured one slowed by
//  the pushback level; 0 if unlimited.
double ts_ratelimit_rate (const ts_ratelimit_t *self, int64_t now_ms);

//  The configured rate (0: unlimited) and burst.
double ts_ratelimit_rate_configured (const ts_ratelimit_t *self);
double ts_ratelimit_burst (const ts_ratelimit_t *self);

//  The tokens in the bucket now (negative: in debt); refills it, as a
//  take does.
double ts_ratelimit_tokens (ts_ratelimit_t *self, int64_t now_ms);

//  The pushback level now: 0 at the full rate, up to
//  TS_RATELIMIT_MAX_LEVEL and beyond for longer pauses.
int ts_ratelimit_level (const ts_ratelimit_t *self, int64_t now_ms);

#endif
