/*  ts_version - the project's version string and the run-time versions of
    the libraries a tscache binary links. See ts_version.h. */

#include "ts_version.h"
#include "ts_version_gen.h"     //  TS_VERSION, written by the Makefile

#include <czmq.h>
#include <msgpack.h>
#include <yaml.h>

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
    for (size_t i = 0; i < s_used_n; i++)
        fprintf (out, ", %s", s_used [i]);
    fprintf (out, "\n");
}
