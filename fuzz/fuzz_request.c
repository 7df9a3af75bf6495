/*  fuzz_request - what a worker makes of text it does not control in a
    request: templates (workers/ts_url.c: placeholders with formats, any
    strftime pattern, URL/form/JSON escaping) and an OAuth2 token
    endpoint's answer (workers/ts_oauth2.c: ts_oauth2_parse).

    The first byte picks the mode: 0..2 expand the rest as a template
    (id and key fixed, with characters that need escaping) with each
    escaping, and check that a JSON-escaped result holds no raw control
    character; 3 parses the rest as a token answer, under a status taken
    from its first byte (200, 401, 400 or 503). */

#include "fuzz.h"
#include "../workers/ts_url.h"
#include "../workers/ts_oauth2.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    unsigned mode;
    if (size > 4096 || !fuzz_mode (&data, &size, 4, &mode))
        return -1;
    if (mode == 3) {
        static const long statuses [] = { 200, 401, 400, 503 };
        long status = size? statuses [data [0] % 4]: 200;
        ts_oauth2_token_t token;
        bool retry;
        char err [TS_ERRLEN];
        if (ts_oauth2_parse (status, (const char *) data, size, &token,
                             &retry, err) == 0) {
            if (!token.access_token || !*token.access_token
            ||  token.expires_in_s < 0)
                abort ();
            free (token.access_token);
        }
        return 0;
    }
    char *tmpl = fuzz_cstr (data, size);
    if (!tmpl)
        return 0;
    ts_url_args_t args = { .id = "a\"b\\c\n&=%", .from_ms = 1732406400000LL,
                           .to_ms = -1, .unit = TS_URL_TIME_ISO,
                           .api_key = "k\"\x01y",
                           .last_fetched_ms = 253402300799000LL };
    char out [1024], err [TS_ERRLEN];
    ts_url_escape_t esc = (ts_url_escape_t) mode;
    if (ts_url_expand (tmpl, &args, esc, "fuzz", out, sizeof out, err) == 0
    &&  esc == TS_URL_ESC_JSON && !strchr (tmpl, '\n') && strchr (out, '\n'))
        abort ();                   //  the id's newline went in raw
    free (tmpl);
    return 0;
}
