/*  ts_version - the version of tscache, and of the libraries a process
    runs with, for every binary's --version.

    The version is one string for the whole project: the VERSION file at
    the top of the tree, followed by "+" and `git describe --always
    --dirty` when the tree is a git checkout ("0.1.0+97f563c-dirty"). The
    Makefile writes it into build/gen/ts_version.h; a tree without .git
    (a git archive tarball) builds with VERSION alone. */

#ifndef TS_VERSION_H_INCLUDED
#define TS_VERSION_H_INCLUDED

#include <stdio.h>

//  The project's version string (static, never NULL).
const char *ts_version (void);

//  Prints "NAME VERSION" and, on a second line, the versions of the key
//  libraries as loaded at run time ("libzmq 4.3.4, czmq 4.2.1, ...").
void ts_version_print (FILE *out, const char *name);

#endif
