/*  ts_version - the version of tscache, and of the libraries a process
    runs with, for every binary's --version.

    The version is one string for the whole project: the VERSION file at
    the top of the tree, followed by "+" and `git describe --always
    --dirty` when the tree is a git checkout ("0.1.0+97f563c-dirty"). The
    Makefile writes it into build/gen/ts_version.h; a tree without .git
    (a git archive tarball) builds with VERSION alone.

    Each binary links only the libraries its modules use, so the library
    list is built per process: this module names the libraries every
    binary links (libzmq, czmq, msgpack-c, libyaml); a module that brings
    another library offers a function returning its name and version
    (ts_store_libraries, ts_fetch_libraries ...), and the main passes it
    to ts_version_use before ts_daemon_init. */

#ifndef TS_VERSION_H_INCLUDED
#define TS_VERSION_H_INCLUDED

#include <stdio.h>

//  The project's version string (static, never NULL).
const char *ts_version (void);

//  Adds "LIB VERSION" text (static, e.g. "lmdb 0.9.24") to the libraries
//  ts_version_print names. Keeps at most 8; call from main before any
//  thread starts. NULL is ignored.
void ts_version_use (const char *libraries);

//  Prints "NAME VERSION" and, on a second line, the versions of the
//  libraries as loaded at run time ("libzmq 4.3.4, czmq 4.2.1, ...").
void ts_version_print (FILE *out, const char *name);

#endif
