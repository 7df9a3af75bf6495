/*  ts_cron - five-field cron expressions, in UTC.

    "minute hour day-of-month month day-of-week", each field *, a number,
    a range a-b, a step "* /s" (written without the space) or a-b/s, or a
    comma list of those; month and day-of-week also take names (jan..dec,
    sun..sat; 0 and 7 are Sunday).
    As in Vixie cron, when both day fields are restricted a day matches if
    either does. Used by the broker's scheduler. Pure: no clock. */

#ifndef TS_CRON_H_INCLUDED
#define TS_CRON_H_INCLUDED

#include "ts_common.h"

typedef struct {
    uint64_t minutes;       //  bit m set: minute m (0-59) matches
    uint32_t hours;         //  bit h: hour 0-23
    uint32_t mdays;         //  bit d: day of month 1-31
    uint16_t months;        //  bit m: month 1-12
    uint8_t  wdays;         //  bit w: day of week 0-6, 0 = Sunday
    bool     mday_star;     //  day-of-month field was unrestricted
    bool     wday_star;     //  day-of-week field was unrestricted
} ts_cron_t;

//  Parses expr into self. Returns 0, or TS_EINVAL with the reason in err
//  (TS_ERRLEN bytes, may be NULL), e.g. "field 2 (hour): 24 out of 0-23".
int ts_cron_parse (ts_cron_t *self, const char *expr, char *err);

//  Returns the first minute boundary (epoch ms, UTC) strictly after
//  after_ms that matches, or -1 if none within the next 5 years.
int64_t ts_cron_next (const ts_cron_t *self, int64_t after_ms);

#endif
