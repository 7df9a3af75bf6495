/*  ts_api_rt - read-through (ts_api.h): a query for an id without data
    (registered, or any id within gateway.read_through_pattern when
    gateway.read_through is any) asks the broker for a priority fetch
    through the hydrator (ts_hydrator.h); concurrent queries for the same
    id share that one fetch (ts_flight.h: single flight) and wait for its
    change notice up to gateway.read_through_wait_ms, parked in their
    front end's loop; then the answer is what is there, 202 with
    retry_after_ms if still nothing. Stale-while-revalidate's refreshes
    go the same way (ts_api_revalidate). Part of ts_api
    (ts_api_private.h). */

#include "ts_api_private.h"
#include "ts_log.h"

#include <stdlib.h>
#include <string.h>

//  No read-through fetch follows (ts_hydrator's thread): the broker
//  refused it, or skipped it as fetched since the query read. Its flight
//  (the tag) ends, so its waiting queries answer now (read again: a
//  skipped id has its data) and a later query may ask again. A newer
//  flight of the id, which asked for a fetch of its own, is left alone.
static void
s_fetch_ended (void *arg, const char *id, uint64_t flight, int status,
               const char *detail)
{
    ts_api_t *self = arg;
    (void) status;
    (void) detail;
    ts_flight_end (self->flights, id, flight);
}

//  See ts_api_private.h.
int
ts_api_rt_new (ts_api_t *self, const ts_config_t *cfg, char *err)
{
    const char *mode = ts_config_str (cfg, "gateway.read_through");
    self->read_through = strcmp (mode, "off") == 0? TS_API_RT_OFF
                       : strcmp (mode, "any") == 0? TS_API_RT_ANY
                                                  : TS_API_RT_REGISTERED;
    self->wait_ms = ts_config_int (cfg, "gateway.read_through_wait_ms");
    const char *pattern = ts_config_str (cfg, "gateway.read_through_pattern");
    if (self->read_through == TS_API_RT_ANY && pattern [0]) {
        //  Anchored: the whole id must match, whatever the pattern says.
        size_t size = strlen (pattern) + 5;
        char *anchored = malloc (size);
        if (!anchored) {
            ts_errf (err, "out of memory");
            return -1;
        }
        snprintf (anchored, size, "^(%s)$", pattern);
        int rc = regcomp (&self->pattern, anchored,
                          REG_EXTENDED | REG_NOSUB);
        free (anchored);
        if (rc) {
            ts_errf (err, "gateway.read_through_pattern: not a POSIX "
                     "extended regular expression");
            return -1;
        }
        self->has_pattern = true;
    }
    if (self->read_through == TS_API_RT_OFF)
        return 0;
    self->flights = ts_flight_new (TS_API_FLIGHT_MS);
    if (!self->flights) {
        ts_errf (err, "out of memory");
        return -1;
    }
    self->hydrator = ts_hydrator_new (self->broker_endpoint,
                                      &self->broker_policy, s_fetch_ended,
                                      self, err);
    return self->hydrator? 0: -1;
}

//  True if read-through may register id, unknown so far: mode any, a
//  valid name, matching the pattern.
static bool
s_may_register (ts_api_t *self, const char *id)
{
    return self->read_through == TS_API_RT_ANY && self->has_pattern
        && ts_name_valid (id) && regexec (&self->pattern, id, 0, NULL, 0) == 0;
}

//  Registers id to the first source, for read-through. Returns 0, or
//  fills reply with the error and returns its status.
static int
s_register (ts_api_t *self, const char *id, ts_msg_t *reply)
{
    char err [TS_ERRLEN] = "";
    const char *ids [] = { id };
    size_t added = 0;
    int rc = ts_store_ids_add_to (self->store, ids, 1, "", &added, err);
    if (rc)
        return ts_api_store_failed (reply, rc, err);
    ts_log_kv (TS_LOG_INFO, TS_LOG_FIELDS (TS_LF_STR ("id", id)),
               "read-through: %s registered (gateway.read_through: any)",
               id);
    return 0;
}

//  Starts (or joins) the fetch of id: a new flight hands id to the
//  hydrator, with read_ms, when the caller found id unfetched (0: fetch
//  whatever was fetched since). Returns 0 (started), 1 (joined) with
//  *flight set, or a TS_E* code: no fetch is in flight.
static int
s_fetch (ts_api_t *self, const char *id, int64_t read_ms, uint64_t *flight)
{
    int rc = ts_flight_start (self->flights, id, ts_mono_ms (), flight);
    if (rc == 0) {
        int asked = ts_hydrator_ask (self->hydrator, id, read_ms, *flight);
        if (asked) {
            ts_warn ("read-through: fetch of %s not sent: %s", id,
                     ts_strerror (asked));
            ts_flight_end (self->flights, id, *flight);
            return asked;
        }
    }
    return rc;
}

//  The 202 answer of a query whose fetch is pending, from the (empty)
//  answer in reply: status 202 and retry_after_ms, encoded again.
static int
s_pending (ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
           size_t *size)
{
    free (*data);
    *data = NULL;
    *size = 0;
    reply->status = 202;
    reply->retry_after_ms = TS_API_RETRY_AFTER_MS;
    if (encode (reply, data, size)) {
        free (*data);
        *data = NULL;
        ts_msg_set_error (reply, 500, "internal",
                          "out of memory encoding the answer");
        return 500;
    }
    return 202;
}

int
ts_api_query_rt (ts_api_t *self, const ts_msg_t *req, char format,
                 ts_api_encode_fn *encode, ts_msg_t *reply, char **data,
                 size_t *size, ts_api_wait_t *wait)
{
    if (!wait || !self->flights)
        return ts_api_query (self, req, format, encode, reply, data, size);
    bool empty = false;
    //  An empty answer is never the cache's: the store was read after
    //  read_ms, and the broker skips the fetch if the id's job was acked
    //  since (the scheduled fetch was in flight while we read).
    int64_t read_ms = ts_now_ms ();
    int status = ts_api_query_cached (self, req, format, encode, reply, data,
                                 size, &empty);
    if (status == 404 && strcmp (reply->error, "not_found") == 0
    &&  !wait->resumed && s_may_register (self, req->id)) {
        if (s_register (self, req->id, reply))
            return reply->status;
        read_ms = ts_now_ms ();
        status = ts_api_query_cached (self, req, format, encode, reply, data,
                                 size, &empty);
    }
    //  No point, and not fetched yet (ts_api_query_cached; a negatively
    //  cached upstream 404 is a 404 answer by now).
    if (status != 200 || !empty)
        return status;
    if (wait->resumed)
        return s_pending (encode, reply, data, size);
    int rc = s_fetch (self, req->id, read_ms, &wait->flight);
    if (rc < 0 || !wait->may_wait || self->wait_ms == 0)
        return s_pending (encode, reply, data, size);
    free (*data);
    *data = NULL;
    *size = 0;
    wait->until_ms = ts_mono_ms () + self->wait_ms;
    ts_strlcpy (wait->id, req->id, sizeof wait->id);
    return TS_API_PARK;
}

bool
ts_api_waiting (ts_api_t *self, const ts_api_wait_t *wait, int64_t now_ms)
{
    return self->flights && now_ms < wait->until_ms
        && ts_flight_active (self->flights, wait->id, wait->flight, now_ms);
}

ts_flight_t *
ts_api_flights (ts_api_t *self)
{
    return self->flights;
}

void
ts_api_noticed (ts_api_t *self, const char *id)
{
    if (self->flights)
        ts_flight_end (self->flights, id, 0);
}

int
ts_api_revalidate (ts_api_t *self, const char *id)
{
    if (!self->flights || !ts_name_existing (id))
        return TS_EINVAL;
    uint64_t flight;
    return s_fetch (self, id, 0, &flight);
}
