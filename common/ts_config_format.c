/*  ts_config_format - the checks of upstream.format keys that read
    zones and times (upstream.format.zone, time_min, time_max), apart
    from the key table so that it stays one screenful of rows. Part of
    the ts_config module: see ts_config_keys.h. */

#include "ts_config_keys.h"
#include "ts_duration.h"
#include "ts_tz.h"

#include <string.h>

//  A zone for times without one: UTC, a fixed offset or a tz database
//  name (syntax only: whether the database has it is checked where the
//  zone is used, by the worker's mapping, so that a host without the tz
//  database can still load a config it does not fetch with).
int
ts_config_check_zone (const ts_config_value_t *value, char *reason,
                      size_t size, size_t *bad)
{
    return ts_tz_check_name (value->str, strlen (value->str), reason, size)
         ? -1: 0;
}

static int
s_check_time_bound (const ts_config_value_t *value, int sign, char *reason,
                    size_t size)
{
    ts_time_bound_t bound;
    return ts_time_bound_parse (value->str, sign, &bound, reason, size)
         ? -1: 0;
}

int
ts_config_check_time_min (const ts_config_value_t *value, char *reason,
                          size_t size, size_t *bad)
{
    return s_check_time_bound (value, -1, reason, size);
}

int
ts_config_check_time_max (const ts_config_value_t *value, char *reason,
                          size_t size, size_t *bad)
{
    return s_check_time_bound (value, 1, reason, size);
}
