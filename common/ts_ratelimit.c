/*  ts_ratelimit - a token bucket and the pushback policy of one upstream
    source (see ts_ratelimit.h for the contract and the policy).

    The bucket is refilled lazily, on each call, for the time since the
    last refill. The rate in force changes only at pushback level
    boundaries (a pushback raises the level, each TS_RATELIMIT_RECOVER_MS
    of quiet after its pause takes one off), so the refill integrates the
    rate piece by piece over those boundaries: a bucket asked rarely gets
    exactly what one asked often would. A pause moves the refill's start
    to the pause's end, so nothing is gained while paused. */

#include "ts_ratelimit.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct _ts_ratelimit_t {
    double   rate;              //  configured tokens per second, 0: none
    double   burst;             //  most tokens held
    int64_t  max_pause_ms;      //  longest pause a pushback starts
    double   tokens;            //  held at refill_ms (< 0: in debt)
    int64_t  refill_ms;         //  tokens counted up to here
    int64_t  seen_ms;           //  latest time given: finds clock steps
    int64_t  paused_until_ms;   //  no take before this; 0 never paused
    int      level;             //  pushback level at recover_from_ms
    int64_t  recover_from_ms;   //  levels come off from here on
};

//  ---------------------------------------------------------------------
//  Parsing

int
ts_ratelimit_parse (const char *text, double *per_s, char *err)
{
    assert (per_s);
    *per_s = 0;
    const char *p = text? text: "";
    while (isspace ((unsigned char) *p))
        p++;
    size_t len = strlen (p);
    while (len > 0 && isspace ((unsigned char) p [len - 1]))
        len--;
    if (len == 0 || (len == 3 && strncmp (p, "off", 3) == 0))
        return 0;
    //  A decimal number: digits, optionally '.' and digits.
    double value = 0, scale = 1;
    size_t i = 0, digits = 0;
    bool point = false;
    for (; i < len && (isdigit ((unsigned char) p [i]) || p [i] == '.');
         i++) {
        if (p [i] == '.') {
            if (point)
                break;
            point = true;
            continue;
        }
        digits++;
        if (digits > 15)
            break;              //  more than a double keeps: not a rate
        if (point)
            value += (p [i] - '0') * (scale /= 10);
        else
            value = value * 10 + (p [i] - '0');
    }
    double unit_s = 1;
    const char *unit = p + i;
    size_t unit_len = len - i;
    while (unit_len > 0 && isspace ((unsigned char) *unit)) {
        unit++;
        unit_len--;
    }
    bool unit_ok = unit_len == 0
        || (unit_len == 2 && strncmp (unit, "/s", 2) == 0)
        || (unit_len == 4 && strncmp (unit, "/min", 4) == 0
            && (unit_s = 60))
        || (unit_len == 2 && strncmp (unit, "/h", 2) == 0
            && (unit_s = 3600));
    if (digits == 0 || digits > 15 || !unit_ok) {
        ts_errf (err, "'%.*s' is not a rate: write N/s, N/min or N/h "
                 "(N may have a fraction, e.g. 0.5/s), or off",
                 (int) (len > 64? 64: len), p);
        return TS_EINVAL;
    }
    double rate = value / unit_s;
    //  A small tolerance: "1/h" * 24 is one a day.
    if (rate < TS_RATELIMIT_MIN_PER_S * (1 - 1e-9)
    ||  rate > TS_RATELIMIT_MAX_PER_S) {
        ts_errf (err, "%.*s is out of range: from 1 a day (e.g. 1/h) to "
                 "%.0f/s; write off for no limit",
                 (int) (len > 64? 64: len), p, TS_RATELIMIT_MAX_PER_S);
        return TS_EINVAL;
    }
    *per_s = rate;
    return 0;
}

double
ts_ratelimit_default_burst (double per_s)
{
    return per_s > 1? ceil (per_s): 1;
}

//  ---------------------------------------------------------------------
//  The bucket

ts_ratelimit_t *
ts_ratelimit_new (double rate_per_s, double burst, int64_t max_pause_ms,
                  int64_t now_ms)
{
    ts_ratelimit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->rate = rate_per_s > 0? rate_per_s: 0;
    self->burst = burst >= 1? burst: 1;
    self->max_pause_ms = max_pause_ms >= 1? max_pause_ms: 1;
    self->tokens = self->burst;
    self->refill_ms = self->seen_ms = now_ms;
    self->recover_from_ms = now_ms;
    return self;
}

void
ts_ratelimit_destroy (ts_ratelimit_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

//  A clock that went back moves every stored time back with it.
static void
s_follow_clock (ts_ratelimit_t *self, int64_t now_ms)
{
    if (now_ms >= self->seen_ms) {
        self->seen_ms = now_ms;
        return;
    }
    int64_t step = self->seen_ms - now_ms;
    self->seen_ms = now_ms;
    self->refill_ms -= step;
    self->recover_from_ms -= step;
    if (self->paused_until_ms)
        self->paused_until_ms -= step;
}

//  The pushback level at t (time of the clock already followed).
static int
s_level_at (const ts_ratelimit_t *self, int64_t t)
{
    if (self->level == 0 || t < self->recover_from_ms)
        return self->level;
    int64_t back = (t - self->recover_from_ms) / TS_RATELIMIT_RECOVER_MS;
    return back >= self->level? 0: self->level - (int) back;
}

//  The rate in force at pushback level level.
static double
s_rate_at_level (const ts_ratelimit_t *self, int level)
{
    int slow = level < TS_RATELIMIT_MAX_LEVEL? level: TS_RATELIMIT_MAX_LEVEL;
    return self->rate / (double) (1 << slow);
}

//  Adds the tokens earned from refill_ms to now_ms, piece by piece over
//  the level boundaries, up to the burst.
static void
s_refill (ts_ratelimit_t *self, int64_t now_ms)
{
    s_follow_clock (self, now_ms);
    int64_t t = self->refill_ms;
    if (now_ms <= t)
        return;                 //  paused: refill starts at the pause's end
    while (t < now_ms && self->tokens < self->burst) {
        int level = s_level_at (self, t);
        int64_t end = now_ms;
        if (level > 0 && t >= self->recover_from_ms) {
            int64_t gone = self->level - level + 1;
            int64_t next = self->recover_from_ms
                         + gone * TS_RATELIMIT_RECOVER_MS;
            end = next < now_ms? next: now_ms;
        }
        else
        if (level > 0 && self->recover_from_ms < now_ms)
            end = self->recover_from_ms;
        self->tokens += (double) (end - t) / 1000.0
                      * s_rate_at_level (self, level);
        t = end;
    }
    if (self->tokens > self->burst)
        self->tokens = self->burst;
    self->refill_ms = now_ms;
}

static bool
s_paused (const ts_ratelimit_t *self, int64_t now_ms)
{
    return now_ms < self->paused_until_ms;
}

//  What a take of cost needs in the bucket.
static double
s_need (const ts_ratelimit_t *self, double cost)
{
    return cost < self->burst? cost: self->burst;
}

bool
ts_ratelimit_take (ts_ratelimit_t *self, double cost, int64_t now_ms)
{
    assert (self);
    s_refill (self, now_ms);
    if (s_paused (self, now_ms))
        return false;
    if (self->rate == 0)
        return true;
    //  A hair of slack: tokens are sums of fractions.
    if (self->tokens + 1e-9 < s_need (self, cost))
        return false;
    self->tokens -= cost;
    return true;
}

int64_t
ts_ratelimit_wait_ms (ts_ratelimit_t *self, double cost, int64_t now_ms)
{
    assert (self);
    s_refill (self, now_ms);
    int64_t wait = s_paused (self, now_ms)? self->paused_until_ms - now_ms
                                          : 0;
    if (self->rate == 0)
        return wait;
    double deficit = s_need (self, cost) - self->tokens;
    if (deficit <= 1e-9)
        return wait;
    int64_t from = now_ms + wait;
    double rate = s_rate_at_level (self, s_level_at (self, from));
    return wait + (int64_t) ceil (deficit * 1000.0 / rate);
}

//  Starts (or lengthens) a pause to until_ms: the bucket keeps its debt
//  but no tokens, and fills again from the pause's end.
static void
s_pause (ts_ratelimit_t *self, int64_t until_ms)
{
    self->paused_until_ms = until_ms;
    if (self->tokens > 0)
        self->tokens = 0;
    self->refill_ms = until_ms;
}

int64_t
ts_ratelimit_pushback (ts_ratelimit_t *self, bool is_429,
                       int64_t retry_after_ms, int64_t now_ms)
{
    assert (self);
    s_refill (self, now_ms);
    if (retry_after_ms > 0) {
        int64_t pause = retry_after_ms < self->max_pause_ms
                      ? retry_after_ms: self->max_pause_ms;
        if (now_ms + pause <= self->paused_until_ms)
            return 0;
        s_pause (self, now_ms + pause);
        return pause;
    }
    if (!is_429 || s_paused (self, now_ms))
        return 0;
    int level = s_level_at (self, now_ms) + 1;
    int shift = level - 1 < 20? level - 1: 20;
    int64_t pause = (int64_t) TS_RATELIMIT_PAUSE_MS << shift;
    if (pause > self->max_pause_ms)
        pause = self->max_pause_ms;
    self->level = level;
    self->recover_from_ms = now_ms + pause;
    s_pause (self, now_ms + pause);
    return pause;
}

bool
ts_ratelimit_paused (const ts_ratelimit_t *self, int64_t now_ms)
{
    assert (self);
    return s_paused (self, now_ms);
}

double
ts_ratelimit_rate (const ts_ratelimit_t *self, int64_t now_ms)
{
    assert (self);
    return s_rate_at_level (self, s_level_at (self, now_ms));
}

double
ts_ratelimit_rate_configured (const ts_ratelimit_t *self)
{
    assert (self);
    return self->rate;
}

double
ts_ratelimit_burst (const ts_ratelimit_t *self)
{
    assert (self);
    return self->burst;
}

double
ts_ratelimit_tokens (ts_ratelimit_t *self, int64_t now_ms)
{
    assert (self);
    s_refill (self, now_ms);
    return self->tokens;
}

int
ts_ratelimit_level (const ts_ratelimit_t *self, int64_t now_ms)
{
    assert (self);
    return s_level_at (self, now_ms);
}
