/*  ts_testutil - the fixture shared by the unit tests that need a store.

    A test gets a fresh temporary directory, a config whose
    store.lmdb.path points into it, and the store opened on that path.
    Destroying the fixture closes the store, frees the config and removes
    the directory with everything below it, so tests leave nothing behind
    and never see each other's data.

    Plain C, no cmocka: failures are printed to stderr and reported by
    return value, so setup functions and forked children can use it. */

#ifndef TS_TESTUTIL_H_INCLUDED
#define TS_TESTUTIL_H_INCLUDED

#include "ts_common.h"
#include "ts_config.h"
#include "ts_store.h"

//  The fields are open: tests read them, and may close the store and
//  open it again (with this or another config) as long as store holds
//  what is open, or NULL, when the fixture is destroyed.
typedef struct {
    char         dir [64];      //  temporary directory, /tmp/PROGRAM.XXXXXX
    char         path [128];    //  store.lmdb.path: DIR/var/data, two
                                //  levels the store has to create
    ts_config_t *cfg;           //  config with that path
    ts_store_t  *store;         //  store open on cfg, or NULL
} ts_testutil_t;

//  Makes the temporary directory, loads the config of ts_testutil_config
//  (path, map_size_mb, extra_yaml) and opens the store. Returns the
//  fixture, or NULL with the reason printed to stderr (whatever was made
//  by then is removed again).
ts_testutil_t *ts_testutil_new (int map_size_mb, const char *extra_yaml);

//  Closes the store, frees the config, removes the directory tree; sets
//  *self_p to NULL. Does nothing if *self_p is NULL. A directory that
//  cannot be removed is reported on stderr.
void ts_testutil_destroy (ts_testutil_t **self_p);

//  Loads a config from the text
//
//      store:
//        lmdb:
//          path: PATH
//          map_size_mb: MAP_SIZE_MB
//      EXTRA_YAML
//
//  extra_yaml (NULL for none) comes right after the lmdb block: lines
//  indented by two spaces add keys to the store section ("  backend:
//  lmdb\n"), unindented lines start sections of their own ("gateway:\n
//  max_points: 20\n"). Returns the config (caller destroys), or NULL with
//  the reason printed to stderr.
ts_config_t *ts_testutil_config (const char *path, int map_size_mb,
                                 const char *extra_yaml);

//  Removes path and everything below it, without following symbolic
//  links. Returns 0, or -1 with errno set (e.g. ENOENT).
int ts_testutil_rmrf (const char *path);

#endif
