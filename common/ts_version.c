/*  ts_version - the project's version string and the run-time versions of
    the libraries a tscache binary links. See ts_version.h. */

#include "ts_version.h"
#include "ts_version_gen.h"     //  TS_VERSION, written by the Makefile

#include <czmq.h>
#include <msgpack.h>
#include <yaml.h>
#include <stdbool.h>
#include <string.h>

#define S_USED_MAX 8

static const char *s_used [S_USED_MAX];
static size_t s_used_n;

const char *
ts_version (void)
{
    return TS_VERSION;
}

void
ts_version_use (const char *libraries)
{
    if (libraries && s_used_n < S_USED_MAX)
        s_used [s_used_n++] = libraries;
}

//  True if the part (len bytes) of s_used [i] is also a part of s_used
//  [i] before it, or of an earlier entry.
static bool
s_named_before (size_t i, const char *part, size_t len)
{
    for (size_t j = 0; j <= i; j++) {
        for (const char *p = s_used [j]; *p && (j < i || p < part); ) {
            const char *end = strstr (p, ", ");
            size_t n = end? (size_t) (end - p): strlen (p);
            if (n == len && memcmp (p, part, len) == 0)
                return true;
            p += n + (end? 2: 0);
        }
    }
    return false;
}

void
ts_version_print (FILE *out, const char *name)
{
    int zmq_major, zmq_minor, zmq_patch;
    zmq_version (&zmq_major, &zmq_minor, &zmq_patch);
    int czmq_major, czmq_minor, czmq_patch;
    zsys_version (&czmq_major, &czmq_minor, &czmq_patch);
    fprintf (out, "%s %s\n", name, TS_VERSION);
    fprintf (out, "libzmq %d.%d.%d, czmq %d.%d.%d, msgpack-c %s, libyaml %s",
             zmq_major, zmq_minor, zmq_patch, czmq_major, czmq_minor,
             czmq_patch, msgpack_version (), yaml_get_version_string ());
    //  Modules that share a library each name it: print each name once.
    //  An entry is "LIB VERSION" texts joined by ", ".
    for (size_t i = 0; i < s_used_n; i++) {
        for (const char *part = s_used [i]; *part; ) {
            const char *end = strstr (part, ", ");
            size_t len = end? (size_t) (end - part): strlen (part);
            if (len && !s_named_before (i, part, len))
                fprintf (out, ", %.*s", (int) len, part);
            part += len + (end? 2: 0);
        }
    }
    fprintf (out, "\n");
}
