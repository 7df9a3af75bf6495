/*  ts_demo_post - from/to of a data POST to the demo upstream. See
    ts_demo_post.h. */

#include "ts_demo_post.h"
#include "ts_demo_auth.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

//  Parses text as epoch ms, RFC 3339 or a date (midnight UTC).
static int
s_time (const char *text, int64_t *ms)
{
    char day [40];
    if (ts_time_parse (text, ms) == 0
    ||  ts_time_parse_iso (text, strlen (text), ms) == 0)
        return 0;
    if (strlen (text) == 10) {
        snprintf (day, sizeof day, "%sT00:00:00Z", text);
        return ts_time_parse_iso (day, strlen (day), ms);
    }
    return -1;
}

int
ts_demo_post_times (const char *body, size_t len, int64_t *from_ms,
                    int64_t *to_ms)
{
    const char *names [2] = { "from", "to" };
    int64_t *out [2] = { from_ms, to_ms };
    if (len > 0 && body [0] == '{') {
        json_t *json = json_loadb (body, len, 0, NULL);
        int rc = json_is_object (json)? 0: -1;
        for (int k = 0; rc == 0 && k < 2; k++) {
            json_t *item = json_object_get (json, names [k]);
            if (json_is_integer (item))
                *out [k] = json_integer_value (item);
            else
            if (json_is_string (item))
                rc = s_time (json_string_value (item), out [k]);
            else
            if (item)
                rc = -1;
        }
        json_decref (json);
        return rc;
    }
    for (int k = 0; k < 2; k++) {
        char value [128];
        if (ts_demo_auth_form_get (body, len, names [k], value,
                                   sizeof value) == 0
        &&  s_time (value, out [k]) != 0)
            return -1;
    }
    return 0;
}
