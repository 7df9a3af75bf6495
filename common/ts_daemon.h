/*  ts_daemon - the command line every tscache daemon shares.

    tscache-broker, tscache-worker and tscache-gateway all take
        -c FILE          config file (default $TSCACHE_CONFIG, else built-in
                         defaults and TSCACHE_* variables)
        --check-config   load and validate the config, print "FILE: ok"
        -v               log at debug level whatever log.level says
        --help, -h       usage
        --version        "NAME VERSION" and the libraries' versions
    and report a bad config as one line "NAME: FILE:LINE: KEY: reason" with
    exit code 2. One function does all of it, so they cannot drift apart. */

#ifndef TS_DAEMON_H_INCLUDED
#define TS_DAEMON_H_INCLUDED

#include "ts_config.h"

//  Parses argv, loads the config and sets up logging (name, level).
//  name is the binary's name (borrowed for the process's life); about is
//  a paragraph printed in --help between usage and options (may be NULL).
//  Returns the config for main to run with, or NULL when main should
//  return *exit_code at once: 0 after --help, --version or a good
//  --check-config, 2 after a usage error or a bad config (the reason is
//  on stderr).
ts_config_t *ts_daemon_init (int argc, char *argv [], const char *name,
                             const char *about, int *exit_code);

#endif
