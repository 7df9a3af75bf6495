/*  ts_redact - display forms that keep secrets out of logs and errors.
    See ts_redact.h.

    A URL is shown in three passes over one output buffer: its structure
    is copied with credential parts masked (userinfo, credential query
    values), then the known secret is scrubbed from the whole, then a cut
    form gets its "..." mark. Scrubbing also masks a trailing piece of
    the secret: a text cut off in the middle of a key (by a fixed-size
    error buffer, or a module that quotes only the start of a value) does
    not show its first characters either. */

#include "ts_redact.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  A piece of the secret this long or longer - its start, as a text cut
//  off in the middle of it shows - is masked too; shorter pieces match
//  too much ordinary text to mean anything.
#define S_PIECE_MIN 6

//  Words that make a name a credential: anywhere in it, or the whole name.
static const char *const s_words [] = {
    "auth", "key", "token", "secret", "passw", "cookie", "credential",
    "signature", NULL };
static const char *const s_names [] = { "sig", "appid", NULL };

bool
ts_redact_is_credential (const char *name, size_t len)
{
    assert (name);
    for (int i = 0; s_names [i]; i++)
        if (strlen (s_names [i]) == len
        &&  strncasecmp (name, s_names [i], len) == 0)
            return true;
    for (int i = 0; s_words [i]; i++) {
        size_t wlen = strlen (s_words [i]);
        for (size_t at = 0; at + wlen <= len; at++)
            if (strncasecmp (name + at, s_words [i], wlen) == 0)
                return true;
    }
    return false;
}

//  ---------------------------------------------------------------------
//  Scrubbing a known secret

//  How many bytes at text (tlen of them) to mask for form (flen bytes):
//  all of form if it is there, else the longest start of it there if at
//  least S_PIECE_MIN long, else 0. Any case.
static size_t
s_match (const char *text, size_t tlen, const char *form, size_t flen)
{
    size_t n = 0;
    while (n < tlen && n < flen
       &&  tolower ((unsigned char) text [n])
        == tolower ((unsigned char) form [n]))
        n++;
    return n == flen || n >= S_PIECE_MIN? n: 0;
}

void
ts_redact_text (char *text, size_t size, const char *secret)
{
    assert (text);
    assert (size > 0);
    if (!secret || !*secret)
        return;
    size_t slen = strlen (secret);
    size_t esize = 3 * slen + 1;
    char *encoded = malloc (esize);
    char *scratch = malloc (size);
    if (!encoded || !scratch) {
        free (encoded);
        free (scratch);
        ts_strlcpy (text, TS_REDACTED, size);
        return;
    }
    size_t elen = 0;
    ts_percent_encode (encoded, esize, &elen, secret);
    const char *forms [2] = { encoded, secret };
    size_t lens [2] = { elen, slen };

    size_t tlen = strlen (text);
    size_t used = 0;
    size_t i = 0;
    while (i < tlen && used + 1 < size) {
        size_t skip = 0;
        for (int f = 0; f < 2; f++) {
            size_t n = s_match (text + i, tlen - i, forms [f], lens [f]);
            skip = n > skip? n: skip;
        }
        if (skip) {
            size_t n = strlen (TS_REDACTED);
            if (used + n >= size)
                break;
            memcpy (scratch + used, TS_REDACTED, n);
            used += n;
            i += skip;
        }
        else
            scratch [used++] = text [i++];
    }
    scratch [used] = 0;
    memcpy (text, scratch, used + 1);
    explicit_bzero (scratch, size);
    explicit_bzero (encoded, esize);
    free (scratch);
    free (encoded);
}

//  ---------------------------------------------------------------------
//  Display forms

//  An output buffer that is cut rather than overrun.
typedef struct {
    char   *buf;                //  caller's buffer
    size_t  size;               //  its bytes
    size_t  used;               //  bytes written, < size
    bool    cut;                //  something did not fit
} s_out_t;

static void
s_put (s_out_t *out, const char *text, size_t len)
{
    size_t room = out->size - 1 - out->used;
    if (len > room) {
        len = room;
        out->cut = true;
    }
    memcpy (out->buf + out->used, text, len);
    out->used += len;
    out->buf [out->used] = 0;
}

//  Scrubs the secret, then marks a cut form with "...".
static const char *
s_finish (s_out_t *out, const char *secret)
{
    ts_redact_text (out->buf, out->size, secret);
    if (out->cut && out->size > 4) {
        size_t len = strlen (out->buf);
        if (len > out->size - 4)
            len = out->size - 4;
        memcpy (out->buf + len, "...", 4);
    }
    return out->buf;
}

//  True if value is one template placeholder, "{name}".
static bool
s_is_placeholder (const char *value, size_t len)
{
    return len >= 2 && value [0] == '{' && value [len - 1] == '}'
        && memchr (value + 1, '{', len - 2) == NULL
        && memchr (value + 1, '}', len - 2) == NULL;
}

//  Copies a query string (after '?', up to '#'), masking credential values.
static void
s_put_query (s_out_t *out, const char *query, size_t len)
{
    const char *end = query + len;
    const char *p = query;
    while (p < end) {
        const char *amp = memchr (p, '&', (size_t) (end - p));
        const char *stop = amp? amp: end;
        const char *eq = memchr (p, '=', (size_t) (stop - p));
        if (eq && ts_redact_is_credential (p, (size_t) (eq - p))
        &&  !s_is_placeholder (eq + 1, (size_t) (stop - eq - 1))) {
            s_put (out, p, (size_t) (eq - p) + 1);
            s_put (out, TS_REDACTED, strlen (TS_REDACTED));
        }
        else
            s_put (out, p, (size_t) (stop - p));
        if (amp)
            s_put (out, "&", 1);
        p = amp? amp + 1: end;
    }
}

const char *
ts_redact_url (const char *url, const char *secret, char *out, size_t size)
{
    assert (url);
    assert (out && size > 0);
    s_out_t o = { out, size, 0, false };
    out [0] = 0;
    const char *p = url;
    const char *scheme_end = strstr (p, "://");
    if (scheme_end && scheme_end < p + strcspn (p, "/?#")) {
        s_put (&o, p, (size_t) (scheme_end + 3 - p));
        p = scheme_end + 3;
        size_t alen = strcspn (p, "/?#");
        const char *at = NULL;
        for (const char *q = p; q < p + alen; q++)
            if (*q == '@')
                at = q;
        if (at) {
            s_put (&o, TS_REDACTED, strlen (TS_REDACTED));
            s_put (&o, at, (size_t) (p + alen - at));
        }
        else
            s_put (&o, p, alen);
        p += alen;
    }
    size_t path_len = strcspn (p, "?#");
    s_put (&o, p, path_len);
    p += path_len;
    if (*p == '?') {
        s_put (&o, "?", 1);
        p++;
        size_t qlen = strcspn (p, "#");
        s_put_query (&o, p, qlen);
        p += qlen;
    }
    s_put (&o, p, strlen (p));
    return s_finish (&o, secret);
}

const char *
ts_redact_header (const char *line, const char *secret, char *out,
                  size_t size)
{
    assert (line);
    assert (out && size > 0);
    s_out_t o = { out, size, 0, false };
    out [0] = 0;
    const char *colon = strchr (line, ':');
    if (!colon)
        s_put (&o, TS_REDACTED, strlen (TS_REDACTED));
    else
    if (ts_redact_is_credential (line, (size_t) (colon - line))) {
        s_put (&o, line, (size_t) (colon - line));
        s_put (&o, ": " TS_REDACTED, 2 + strlen (TS_REDACTED));
    }
    else
        s_put (&o, line, strlen (line));
    return s_finish (&o, secret);
}
