/*  ts_demo_rate - the demo upstream's server-side rate limit and request
    log (see ts_demo_rate.h). The limit looks at the log: the requests it
    served in the 1000 ms before a new one. */

#include "ts_demo_rate.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define S_LOG_MAX   100000          //  arrivals timed after a reset
#define S_WINDOW_MS 1000            //  the limit's and the peak's window

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t s_limit = 0;             //  per window; 0: off
static int64_t s_retry_after_s = 1;     //  of a 429; 0: none
static char    s_retry_text [24] = "1";
static int64_t s_times [S_LOG_MAX];     //  arrivals, ascending
static bool    s_refused [S_LOG_MAX];   //  answered 429 by the limit
static size_t  s_n = 0;                 //  arrivals timed
static uint64_t s_arrivals = 0;         //  arrivals since the reset
static uint64_t s_rejected = 0;         //  of them, answered 429

void
ts_demo_rate_set (int64_t limit, int64_t retry_after_s)
{
    pthread_mutex_lock (&s_lock);
    if (limit >= 0)
        s_limit = limit;
    if (retry_after_s >= 0) {
        s_retry_after_s = retry_after_s;
        snprintf (s_retry_text, sizeof s_retry_text, "%lld",
                  (long long) retry_after_s);
    }
    pthread_mutex_unlock (&s_lock);
}

void
ts_demo_rate_reset (void)
{
    pthread_mutex_lock (&s_lock);
    s_n = 0;
    s_arrivals = s_rejected = 0;
    pthread_mutex_unlock (&s_lock);
}

//  Reads key of json as an integer from 0 to max into *value (kept if
//  absent). Returns false if it is there but not such an integer.
static bool
s_int_key (const json_t *json, const char *key, int64_t max, int64_t *value)
{
    const json_t *item = json_object_get (json, key);
    if (!item)
        return true;
    if (!json_is_integer (item) || json_integer_value (item) < 0
    ||  json_integer_value (item) > max)
        return false;
    *value = json_integer_value (item);
    return true;
}

const char *
ts_demo_rate_control (const json_t *json)
{
    int64_t limit = -1, retry_after_s = -1;
    if (!s_int_key (json, "rate_limit", 1000000, &limit))
        return "rate_limit must be an integer from 0 to 1000000";
    if (!s_int_key (json, "retry_after_s", 86400, &retry_after_s))
        return "retry_after_s must be an integer from 0 to 86400";
    ts_demo_rate_set (limit, retry_after_s);
    if (json_is_true (json_object_get (json, "reset_log")))
        ts_demo_rate_reset ();
    return NULL;
}

bool
ts_demo_rate_admit (int64_t now_ms)
{
    pthread_mutex_lock (&s_lock);
    //  Threads may log slightly out of order: keep the log ascending.
    if (s_n > 0 && now_ms < s_times [s_n - 1])
        now_ms = s_times [s_n - 1];
    bool serve = true;
    if (s_limit > 0) {
        int64_t served = 0;
        for (size_t i = s_n; i > 0 && s_times [i - 1] > now_ms - S_WINDOW_MS;
             i--)
            if (!s_refused [i - 1])
                served++;
        serve = served < s_limit;
    }
    if (s_n < S_LOG_MAX) {
        s_times [s_n] = now_ms;
        s_refused [s_n] = !serve;
        s_n++;
    }
    s_arrivals++;
    if (!serve)
        s_rejected++;
    pthread_mutex_unlock (&s_lock);
    return serve;
}

const char *
ts_demo_rate_retry_after (void)
{
    pthread_mutex_lock (&s_lock);
    const char *text = s_retry_after_s > 0? s_retry_text: NULL;
    pthread_mutex_unlock (&s_lock);
    return text;
}

int
ts_demo_rate_report (json_t *obj)
{
    json_t *rate = json_object ();
    json_t *per_second = json_array ();
    json_t *arrivals = json_array ();
    json_t *rejected = json_array ();
    if (!rate || !per_second || !arrivals || !rejected) {
        json_decref (rate);
        json_decref (per_second);
        json_decref (arrivals);
        json_decref (rejected);
        return -1;
    }
    pthread_mutex_lock (&s_lock);
    int64_t start = s_n? s_times [0]: 0;
    size_t peak = 0, from = 0;
    for (size_t i = 0; i < s_n; i++) {
        //  The window of 1000 ms that ends with arrival i.
        while (s_times [from] <= s_times [i] - S_WINDOW_MS)
            from++;
        if (i - from + 1 > peak)
            peak = i - from + 1;
        int64_t at = s_times [i] - start;
        size_t second = (size_t) (at / 1000);
        while (json_array_size (per_second) <= second)
            json_array_append_new (per_second, json_integer (0));
        json_array_set_new (per_second, second, json_integer (
            json_integer_value (json_array_get (per_second, second)) + 1));
        json_array_append_new (arrivals, json_integer (at));
        if (s_refused [i])
            json_array_append_new (rejected, json_integer (at));
    }
    json_object_set_new (rate, "limit", json_integer (s_limit));
    json_object_set_new (rate, "retry_after_s", json_integer (s_retry_after_s));
    json_object_set_new (rate, "arrivals", json_integer ((json_int_t) s_arrivals));
    json_object_set_new (rate, "rejected", json_integer ((json_int_t) s_rejected));
    json_object_set_new (rate, "start_ms", json_integer (start));
    json_object_set_new (rate, "peak_1s", json_integer ((json_int_t) peak));
    pthread_mutex_unlock (&s_lock);
    json_object_set_new (rate, "per_second", per_second);
    json_object_set_new (rate, "arrivals_ms", arrivals);
    json_object_set_new (rate, "rejected_ms", rejected);
    return json_object_set_new (obj, "rate", rate) == 0? 0: -1;
}
