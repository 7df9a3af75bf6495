/*  ts_version - the project's version string and the run-time versions of
    the libraries every tscache binary links. See ts_version.h. */

#include "ts_version.h"
#include "ts_version_gen.h"     //  TS_VERSION, written by the Makefile

#include <czmq.h>
#include <curl/curl.h>
#include <jansson.h>
#include <lmdb.h>
#include <microhttpd.h>
#include <msgpack.h>
#include <yaml.h>

const char *
ts_version (void)
{
    return TS_VERSION;
}

void
ts_version_print (FILE *out, const char *name)
{
    int zmq_major, zmq_minor, zmq_patch;
    zmq_version (&zmq_major, &zmq_minor, &zmq_patch);
    int czmq_major, czmq_minor, czmq_patch;
    zsys_version (&czmq_major, &czmq_minor, &czmq_patch);
    int lmdb_major, lmdb_minor, lmdb_patch;
    mdb_version (&lmdb_major, &lmdb_minor, &lmdb_patch);
    const curl_version_info_data *curl = curl_version_info (CURLVERSION_NOW);
    fprintf (out, "%s %s\n", name, TS_VERSION);
    fprintf (out, "libzmq %d.%d.%d, czmq %d.%d.%d, msgpack-c %s, "
             "lmdb %d.%d.%d, libcurl %s, libmicrohttpd %s, jansson %s, "
             "libyaml %s\n", zmq_major, zmq_minor, zmq_patch, czmq_major,
             czmq_minor, czmq_patch, msgpack_version (), lmdb_major,
             lmdb_minor, lmdb_patch, curl? curl->version: "?",
             MHD_get_version (), jansson_version_str (),
             yaml_get_version_string ());
}
