/*  ts_cron - schedule expressions, in UTC: five-field cron, EventBridge
    cron() and rate(), and the @ shorthands.

    The forms ts_cron_parse accepts:

    - Five-field cron, "minute hour day-of-month month day-of-week": each
      field *, a number, a range a-b, a step "* /s" (written without the
      space) or a-b/s, or a comma list of those; month and day-of-week
      also take names (jan..dec, sun..sat; 0 and 7 are Sunday). As in
      Vixie cron, when both day fields are restricted a day matches if
      either does.

    - @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually:
      "0 * * * *", "0 0 * * *" (twice), "0 0 * * 0", "0 0 1 * *",
      "0 0 1 1 *" (twice). @reboot is refused.

    - EventBridge cron, "cron(Minutes Hours Day-of-month Month
      Day-of-week Year)": six fields. Minutes 0-59, Hours 0-23,
      Day-of-month 1-31, Month 1-12 or JAN-DEC, Day-of-week 1-7 or
      SUN-SAT with 1 = SUNDAY (not Unix cron's 0), Year 1970-2199. Every
      field takes *, n, a-b, lists, and steps "* /s" (no space), a-b/s
      and n/s (n/s is n, n+s, ... up to the field's top: "0/15" in
      Minutes is 0,15,30,45).
      Exactly one of the two day fields must be ? ("any"), as EventBridge
      requires; ? is allowed nowhere else. Of EventBridge's special
      characters these are supported, each as the whole day field:
        Day-of-month  L     the last day of the month
                      nW    the weekday (Mon-Fri) nearest day n, not
                            leaving the month (1W on a Saturday is Monday
                            the 3rd); no fire in a month without day n
                      LW    the last weekday of the month
        Day-of-week   L     the last day of the week, Saturday (= 7)
                      dL    the last day d of the month ("6L": the last
                            Friday)
                      d#k   the k-th day d of the month, k 1-5 ("3#2":
                            the second Tuesday)
      Anything else with L, W or # (L-3, L or W inside a list or range,
      "3#1,6#3", which EventBridge refuses too) is an error.

    - EventBridge rate, "rate(N unit)": unit minute, hour or day for N = 1
      and minutes, hours or days for N > 1, as EventBridge requires; the
      period at most 365 days. Unlike EventBridge (whose rate counts from
      the rule's creation) the fire times are the multiples of the period
      counted from the epoch, 1970-01-01T00:00:00Z, so that every broker
      and every restart computes the same ones: rate(5 minutes) fires at
      :00, :05, ...; rate(1 day) at midnight UTC.

    A schedule is shifted as a whole by the caller's offset (for example
    upstream.schedule_offset_s plus a per-source spread, ts_cron_spread_ms)
    with ts_cron_next_shifted. Used by the config checks and the broker's
    scheduler. Pure: no clock. */

#ifndef TS_CRON_H_INCLUDED
#define TS_CRON_H_INCLUDED

#include "ts_common.h"

//  The forms of a parsed expression.
typedef enum {
    TS_CRON_FIELDS = 0,     //  five fields (or an @ shorthand)
    TS_CRON_EVENTBRIDGE,    //  cron(...) with six fields
    TS_CRON_RATE            //  rate(N unit)
} ts_cron_kind_t;

//  A parsed expression; a plain value (copy it freely).
typedef struct {
    ts_cron_kind_t kind;    //  which form
    int64_t  period_ms;     //  TS_CRON_RATE: the period; 0 otherwise
    uint64_t minutes;       //  bit m set: minute m (0-59) matches
    uint32_t hours;         //  bit h: hour 0-23
    uint32_t mdays;         //  bit d: day of month 1-31
    uint16_t months;        //  bit m: month 1-12
    uint8_t  wdays;         //  bit w: day of week 0-6, 0 = Sunday (also
                            //  for cron(), whose 1-7 are mapped here)
    bool     mday_star;     //  day-of-month unrestricted (* or ?)
    bool     wday_star;     //  day-of-week unrestricted (* or ?)
    bool     mday_last;     //  cron() L: the last day of the month
    int8_t   mday_weekday;  //  cron() nW: n; LW: -1; 0 none
    int8_t   wday_nth;      //  cron() d#k: k (wdays holds d); 0 none
    bool     wday_last;     //  cron() dL: the last d of the month
    uint64_t years [4];     //  bit y - 1970: year y matches (1970-2199);
                            //  all set for the five-field form
} ts_cron_t;

//  Parses expr, any form above, into self. Returns 0, or TS_EINVAL with
//  the reason in err (TS_ERRLEN bytes, may be NULL). Errors name the
//  field by position and name: "field 2 (hour): 24 out of 0-23" for
//  five fields, "cron(0 24 * * ? *): field 2 (hours): 24 out of 0-23",
//  "rate(5 minute): a value above 1 takes the plural unit \"minutes\"".
int ts_cron_parse (ts_cron_t *self, const char *expr, char *err);

//  Returns the first fire time (epoch ms, UTC) strictly after after_ms:
//  a matching minute boundary, or the next multiple of a rate's period.
//  Returns -1 if there is none: a cron matching no minute in the next 5
//  years (of those its Year field allows), no year left before 2200, or
//  after_ms outside years 0000-9999.
int64_t ts_cron_next (const ts_cron_t *self, int64_t after_ms);

//  The same schedule moved later by shift_ms (>= 0): the first time
//  strictly after after_ms that is a fire time of self plus shift_ms.
//  Returns -1 if there is none.
int64_t ts_cron_next_shifted (const ts_cron_t *self, int64_t after_ms,
                              int64_t shift_ms);

//  A deterministic spread of name over [0, jitter_s) seconds, in ms: the
//  64-bit FNV-1a hash of name modulo jitter_s * 1000. The same on every
//  host and after every restart; 0 if jitter_s <= 0 or name is NULL.
int64_t ts_cron_spread_ms (const char *name, int64_t jitter_s);

#endif
