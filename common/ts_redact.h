/*  ts_redact - keeps secrets out of what tscache shows: logs, error
    messages, failure details, printed config.

    A URL or header line that is about to be shown goes through its
    display form here, never through ad-hoc edits at each call:

      ts_redact_url     a URL with the secret, the userinfo (user:pass@)
                        and the value of every query parameter whose name
                        says it holds a credential replaced by ***
      ts_redact_header  "Name: value" with the value replaced by *** if
                        the name says it holds a credential, else with
                        the secret scrubbed out
      ts_redact_text    any other text (a libcurl error, an upstream's
                        error body, a failure detail) with every
                        occurrence of the secret scrubbed out

    "The secret" is the upstream API key a worker holds (NULL or "" when
    none is configured). It is matched as it is and percent-encoded, as
    {api_key} writes it into a URL, ignoring case, so what reaches a log
    holds neither form; so is its start, from 6 characters on, as a text
    cut off in the middle of the key shows it. A name says it holds a credential when it
    contains auth, key, token, secret, passw, cookie, credential or
    signature, or is sig or appid (ts_redact_is_credential); the config
    uses the same rule to refuse credentials written into upstream.headers.

    Pure: no I/O, no allocation but one scratch buffer in
    ts_redact_text. Used by workers and by ts_config. */

#ifndef TS_REDACT_H_INCLUDED
#define TS_REDACT_H_INCLUDED

#include "ts_common.h"

//  What a secret is shown as.
#define TS_REDACTED "***"

//  True if a header or query parameter named name (len bytes, any case)
//  carries a credential by its name: it contains auth, key, token,
//  secret, passw, cookie, credential or signature, or is sig or appid.
bool ts_redact_is_credential (const char *name, size_t len);

//  Writes the display form of url into out (size bytes, always
//  NUL-terminated; a form that does not fit is cut and ends in "...").
//  Replaced by TS_REDACTED: every occurrence of secret (may be NULL or
//  ""), as is or percent-encoded; the userinfo before '@' in the
//  authority; the value of each query parameter whose name is a
//  credential, unless that value is a template placeholder such as
//  {api_key}, which holds nothing secret. Returns out.
const char *ts_redact_url (const char *url, const char *secret, char *out,
                           size_t size);

//  Writes the display form of a header line "Name: value" into out (size
//  bytes, always NUL-terminated): "Name: ***" if the name is a
//  credential, else the line with secret scrubbed as ts_redact_text
//  does. A line without a colon is shown as TS_REDACTED. Returns out.
const char *ts_redact_header (const char *line, const char *secret,
                              char *out, size_t size);

//  Replaces in text, a NUL-terminated string in a buffer of size bytes,
//  every occurrence of secret, as is or percent-encoded (any case), by
//  TS_REDACTED, and so every occurrence of its first 6 or more
//  characters (a key cut short); the result is cut to fit the buffer. Does nothing if
//  secret is NULL or "". If no scratch memory can be had, the whole text
//  becomes TS_REDACTED: a detail lost is better than a key shown.
void ts_redact_text (char *text, size_t size, const char *secret);

#endif
