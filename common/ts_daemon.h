/*  ts_daemon - the command line every tscache daemon shares.

    tscache-broker, tscache-worker and tscache-gateway all take
        -c FILE          config file (default $TSCACHE_CONFIG, else built-in
                         defaults and TSCACHE_* variables)
        --check-config   load and validate the config, and check what this
                         daemon needs at start (its secrets), print
                         "FILE: ok"
        --print-config   print every key's effective value (file, then
                         TSCACHE_* overrides) as "key: value" lines
        -v               log at debug level whatever log.level says
        --help, -h       usage, with the environment, files and exit
                         status: the source of the man page (make man,
                         help2man), so it is the whole manual
        --version        "NAME VERSION" and the libraries' versions
    and report a bad config as one line "NAME: FILE:LINE: KEY: reason" with
    exit code 2. Warnings of the load (a TSCACHE_* variable that is not a
    key) go to the log, or to stderr with --check-config. One function
    does all of it, so they cannot drift apart. */

#ifndef TS_DAEMON_H_INCLUDED
#define TS_DAEMON_H_INCLUDED

#include "ts_config.h"

//  What a daemon checks of its config beyond ts_config_load, at start
//  and with --check-config alike: what it will need and could only find
//  missing later (a secret it reads, a file). Returns 0, or TS_ECONFIG
//  with the reason in err, starting with where the key was set
//  (ts_config_where).
typedef int (ts_daemon_check_fn) (const ts_config_t *cfg, char *err);

//  Parses argv, loads the config, runs check (if not NULL) and sets up
//  logging (name, level). name is the binary's name (borrowed for the
//  process's life); about is a paragraph printed in --help between usage
//  and options (may be NULL). Returns the config for main to run with, or
//  NULL when main should return *exit_code at once: 0 after --help,
//  --version, --print-config or a good --check-config, 2 after a usage
//  error or a bad config (the reason is on stderr).
ts_config_t *ts_daemon_init (int argc, char *argv [], const char *name,
                             const char *about, ts_daemon_check_fn *check,
                             int *exit_code);

#endif
