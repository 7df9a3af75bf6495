/*  ts_reply - one HTTP answer as a route gives it. See ts_reply.h.

    The body lives in one of three places: the JSON writer (kept across
    resets, so a loop thread reuses one allocation), an adopted buffer
    (adopted != NULL) or a producer (producer.produce != NULL). Extra headers are one growing text of
    header lines, since the front end writes them out as they are. */

#include "ts_reply.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct _ts_reply_t {
    int          status;        //  HTTP status
    const char  *type;          //  content type, static
    char        *headers;       //  "Name: value\r\n" lines, or NULL
    size_t       headers_len;   //  bytes in headers
    ts_json_t   *json;          //  body writer
    char        *adopted;       //  adopted body, owned, or NULL
    size_t       adopted_size;  //  bytes in adopted
    bool         adopted_nul;   //  adopted holds a NUL after its bytes
    ts_reply_producer_t producer;   //  produced body, or all NULL
    ts_reply_open_fn *open;     //  stream: called once the head is out
    void        *open_arg;      //  its argument
    bool         stream;        //  the reply is an event stream
    bool         failed;        //  a header write ran out of memory
};

//  Drops an adopted or produced body.
static void
s_drop_adopted (ts_reply_t *self)
{
    free (self->adopted);
    self->adopted = NULL;
    self->adopted_size = 0;
    self->adopted_nul = false;
    if (self->producer.free)
        self->producer.free (self->producer.arg);
    memset (&self->producer, 0, sizeof self->producer);
}

ts_reply_t *
ts_reply_new (void)
{
    ts_reply_t *self = calloc (1, sizeof (ts_reply_t));
    if (!self || !(self->json = ts_json_new ())) {
        free (self);
        return NULL;
    }
    ts_reply_reset (self);
    return self;
}

void
ts_reply_destroy (ts_reply_t **self_p)
{
    if (self_p && *self_p) {
        ts_reply_t *self = *self_p;
        ts_json_destroy (&self->json);
        s_drop_adopted (self);
        free (self->headers);
        free (self);
        *self_p = NULL;
    }
}

void
ts_reply_reset (ts_reply_t *self)
{
    self->status = 200;
    self->type = TS_REPLY_JSON;
    free (self->headers);
    self->headers = NULL;
    self->headers_len = 0;
    ts_json_reset (self->json);
    s_drop_adopted (self);
    self->open = NULL;
    self->open_arg = NULL;
    self->stream = false;
    self->failed = false;
}

int
ts_reply_status (const ts_reply_t *self)
{
    return self->status;
}

void
ts_reply_set_status (ts_reply_t *self, int status)
{
    self->status = status;
}

const char *
ts_reply_type (const ts_reply_t *self)
{
    return self->type;
}

void
ts_reply_set_type (ts_reply_t *self, const char *content_type)
{
    self->type = content_type;
}

int
ts_reply_header (ts_reply_t *self, const char *name, const char *value)
{
    size_t name_len = strlen (name);
    size_t value_len = strlen (value);
    if (name_len == 0 || strspn (name, "abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
                         != name_len
    ||  strcspn (value, "\r\n") != value_len)
        return TS_EINVAL;
    size_t line = name_len + 2 + value_len + 2;
    char *grown = self->failed? NULL:
                  realloc (self->headers, self->headers_len + line + 1);
    if (!grown) {
        self->failed = true;
        return TS_ENOMEM;
    }
    self->headers = grown;
    char *p = grown + self->headers_len;
    memcpy (p, name, name_len);
    memcpy (p + name_len, ": ", 2);
    memcpy (p + name_len + 2, value, value_len);
    memcpy (p + name_len + 2 + value_len, "\r\n", 3);
    self->headers_len += line;
    return 0;
}

const char *
ts_reply_headers (const ts_reply_t *self, size_t *size)
{
    *size = self->headers_len;
    return self->headers? self->headers: "";
}

const char *
ts_reply_header_value (const ts_reply_t *self, const char *name,
                       size_t *len)
{
    if (!self->headers)             //  none set (NULL + 0 is undefined)
        return NULL;
    size_t name_len = strlen (name);
    const char *p = self->headers;
    const char *end = p + self->headers_len;
    while (p < end) {
        const char *eol = strstr (p, "\r\n");
        if (strncasecmp (p, name, name_len) == 0 && p [name_len] == ':') {
            *len = (size_t) (eol - p) - name_len - 2;
            return p + name_len + 2;
        }
        p = eol + 2;
    }
    return NULL;
}

ts_json_t *
ts_reply_json (ts_reply_t *self)
{
    if (self->adopted || self->producer.produce)
        s_drop_adopted (self);
    return self->json;
}

void
ts_reply_adopt (ts_reply_t *self, char *data, size_t size)
{
    s_drop_adopted (self);
    ts_json_reset (self->json);
    self->adopted = data;
    self->adopted_size = size;
}

void
ts_reply_set_producer (ts_reply_t *self, ts_reply_produce_fn *produce,
                       ts_reply_free_fn *free_fn, void *arg)
{
    s_drop_adopted (self);
    ts_json_reset (self->json);
    self->producer = (ts_reply_producer_t) { produce, free_fn, arg };
}

bool
ts_reply_is_produced (const ts_reply_t *self)
{
    return self->producer.produce != NULL;
}

bool
ts_reply_take_producer (ts_reply_t *self, ts_reply_producer_t *producer)
{
    if (!self->producer.produce)
        return false;
    *producer = self->producer;
    memset (&self->producer, 0, sizeof self->producer);
    return true;
}

const char *
ts_reply_body (const ts_reply_t *self, size_t *size)
{
    if (self->adopted) {
        *size = self->adopted_size;
        return self->adopted;
    }
    *size = ts_json_size (self->json);
    return ts_json_data (self->json);
}

const char *
ts_reply_text (ts_reply_t *self)
{
    if (!self->adopted)
        return ts_json_data (self->json);
    if (!self->adopted_nul) {
        char *grown = realloc (self->adopted, self->adopted_size + 1);
        if (!grown)
            return "";
        grown [self->adopted_size] = 0;
        self->adopted = grown;
        self->adopted_nul = true;
    }
    return self->adopted;
}

int
ts_reply_error (ts_reply_t *self, int status, const char *error,
                const char *detail)
{
    ts_json_t *json = ts_reply_json (self);
    self->type = TS_REPLY_JSON;
    self->status = status;
    self->stream = false;
    return ts_json_error (json, status, error, detail);
}

int
ts_reply_set_text (ts_reply_t *self, int status, const char *type,
                   const char *text)
{
    ts_json_t *json = ts_reply_json (self);
    ts_json_reset (json);
    ts_json_raw (json, text);
    self->type = type;
    self->status = status;
    return status;
}

void
ts_reply_set_stream (ts_reply_t *self, ts_reply_open_fn *open, void *arg)
{
    self->stream = true;
    self->open = open;
    self->open_arg = arg;
    self->type = TS_REPLY_EVENTS;
}

bool
ts_reply_is_stream (const ts_reply_t *self, ts_reply_open_fn **open,
                    void **arg)
{
    if (open)
        *open = self->open;
    if (arg)
        *arg = self->open_arg;
    return self->stream;
}

bool
ts_reply_failed (const ts_reply_t *self)
{
    return self->failed || ts_json_failed (self->json);
}
