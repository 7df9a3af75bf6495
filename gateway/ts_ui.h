/*  ts_ui - the gateway's built-in page (docs/ui.md): its files, built
    into the binary from gateway/ui/ (no file to install, nothing fetched
    from elsewhere), and the answers of its routes.

        GET /                 gateway/ui/index.html
        GET /ui/app.js        gateway/ui/app.js
        GET /ui/app.css       gateway/ui/app.css

    The routes are open: the page holds no data, and asks for an API key
    that its calls to /v1 then carry (x-security-token). Each answer has
    a Content-Security-Policy that allows this origin only (no inline
    script, no other host), nosniff, no framing by another site, and an
    ETag of the file's content (no-cache: a browser revalidates, and
    picks up a changed file at once). */

#ifndef TS_UI_H_INCLUDED
#define TS_UI_H_INCLUDED

#include "ts_reply.h"

//  Answers the page's file name ("" the page itself, "app.js",
//  "app.css") into out; inm is the request's If-None-Match header,
//  inm_len bytes (NULL if none). Returns the status: 200, 304 when inm
//  names this build's file, 404 for a name that is no file of the page.
int ts_ui_answer (const char *name, const char *inm, size_t inm_len,
                  ts_reply_t *out);

#endif
