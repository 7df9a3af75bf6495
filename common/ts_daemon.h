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
    does all of it, so they cannot drift apart.

    SIGHUP asks for a reload. ts_daemon_init blocks the signal in every
    thread (it runs before any thread starts) and leaves one thread
    waiting for it in sigwait(2), which only raises a flag: no poll is
    interrupted, and the daemon's loop, which wakes at least once a
    second, calls ts_daemon_tick between two events: after a SIGHUP that
    runs ts_daemon_reload with what main registered (ts_daemon_on_reload)
    and hands the keys it applied to main's apply function, which passes
    them on to its modules. The reload reads the same file
    again (with the same TSCACHE_* overrides) and compares it key by key
    with the running config; see ts_daemon_reload. */

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

//  True once after each SIGHUP (then false until the next). Thread-safe.
bool ts_daemon_reload_requested (void);

//  Applies the live keys a reload changed (applied, see
//  ts_daemon_reload) to the daemon's modules (arg); also called with
//  none applied, so that secrets named by unchanged keys are read again.
typedef void (ts_daemon_apply_fn) (void *arg, const ts_strlist_t *applied);

//  Registers what a SIGHUP reloads: cfg (the running config, borrowed),
//  the key prefixes the daemon uses and its live keys (NULL-terminated,
//  static; see ts_daemon_reload), and apply with its arg. cfg NULL
//  unregisters.
void ts_daemon_on_reload (ts_config_t *cfg, const char *const *used,
                          const char *const *live, ts_daemon_apply_fn *apply,
                          void *arg);

//  For the loop of a daemon's main thread, once per wake: if a SIGHUP
//  came since the last call, runs ts_daemon_reload with what was
//  registered and, if the file loaded, apply. Cheap (one atomic read)
//  and does nothing when nothing is registered.
void ts_daemon_tick (void);

//  Reloads the config the daemon started with into cfg, as far as it is
//  safe. The file is loaded again and checked as at start; if that fails,
//  cfg is kept whole and an ERROR line says why, with file, line and key
//  ("reload: tscache.yaml:12: broker.schedule: ...; keeping the running
//  config"). Otherwise each key whose name starts with one of the
//  NULL-terminated prefixes in used (the keys this daemon reads) and
//  whose value changed is
//    - log.level, log.format, or listed in live (NULL-terminated): copied
//      into cfg (ts_config_adopt) and logged "reload: KEY: OLD → NEW";
//      log.level and log.format take effect at once (-v still wins), the
//      other live keys are appended to applied for the caller to apply;
//    - anything else: logged as a warning "reload: KEY: OLD → NEW: needs
//      a restart, not applied", and cfg keeps its old value.
//  A change to sources: (names, order, an entry's keys;
//  ts_config_sources_same) is logged "reload: sources: changed: needs a
//  restart, not applied" in every daemon.
//  Values are shown as ts_config_show shows them: never a secret (keys
//  are not config values). Returns 0, or TS_ECONFIG (file did not load),
//  TS_ENOMEM.
int ts_daemon_reload (ts_config_t *cfg, const char *const *used,
                      const char *const *live, ts_strlist_t *applied);

#endif
