/*  ts_ui - the built-in page's files and their answers (ts_ui.h).

    The files are put into the binary by the assembler's .incbin, each
    followed by a NUL so that it is also a C string: the build needs no
    generator, and the Makefile rebuilds this object when a file of
    gateway/ui/ changes. Paths in .incbin are relative to the directory
    the compiler runs in, the project's root; the section name is ELF's
    (Linux, which is what tscache builds for). */

#include "ts_ui.h"
#include "ts_fresh.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#define S_ASSET(sym, file)                                              \
    __asm__ (".section .rodata\n"                                       \
             ".global " #sym "\n"                                       \
             ".balign 16\n"                                             \
             #sym ":\n"                                                 \
             ".incbin \"" file "\"\n"                                   \
             ".byte 0\n"                                                \
             ".previous\n");                                            \
    extern const char sym []

S_ASSET (ts_ui_index_html, "gateway/ui/index.html");
S_ASSET (ts_ui_app_js, "gateway/ui/app.js");
S_ASSET (ts_ui_app_css, "gateway/ui/app.css");

typedef struct {
    const char *name;
    const char *type;
    const char *body;
    char        etag [32];          //  the body's hash (s_tag_files)
} s_file_t;

static s_file_t s_files [] = {
    { "",         TS_REPLY_HTML,                    ts_ui_index_html, "" },
    { "app.js",   "text/javascript; charset=utf-8", ts_ui_app_js,     "" },
    { "app.css",  "text/css; charset=utf-8",        ts_ui_app_css,    "" },
};
#define S_FILES (sizeof s_files / sizeof s_files [0])

static pthread_once_t s_tagged = PTHREAD_ONCE_INIT;

//  Each file's ETag, its own content's hash: any change of it, in a
//  release or not, changes the tag. Once, the first time a file is asked
//  for (the HTTP threads share the table).
static void
s_tag_files (void)
{
    for (size_t i = 0; i < S_FILES; i++)
        snprintf (s_files [i].etag, sizeof s_files [i].etag,
                  "\"ui-%016" PRIx64 "\"", (uint64_t) XXH3_64bits (
                      s_files [i].body, strlen (s_files [i].body)));
}

//  This origin only: the page's own script and style, its calls to the
//  API; nothing inline, no other host, not in another site's frame.
#define S_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
              "connect-src 'self'; img-src 'self' data:; "                \
              "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

int
ts_ui_answer (const char *name, const char *inm, size_t inm_len,
              ts_reply_t *out)
{
    pthread_once (&s_tagged, s_tag_files);
    const s_file_t *file = NULL;
    for (size_t i = 0; i < S_FILES; i++)
        if (strcmp (name, s_files [i].name) == 0)
            file = &s_files [i];
    if (!file)
        return ts_reply_error (out, 404, "not_found",
                               "no such file of the page");
    ts_reply_header (out, "ETag", file->etag);
    ts_reply_header (out, "Cache-Control", "no-cache");
    ts_reply_header (out, "Content-Security-Policy", S_CSP);
    ts_reply_header (out, "X-Content-Type-Options", "nosniff");
    ts_reply_header (out, "Referrer-Policy", "no-referrer");
    if (inm && ts_fresh_etag_matches (inm, inm_len, file->etag)) {
        ts_reply_set_status (out, 304);
        ts_reply_set_type (out, file->type);
        return 304;
    }
    return ts_reply_set_text (out, 200, file->type, file->body);
}
