/*  ts_store_lmdb_fixture - what the unit tests of the LMDB backend share
    (tests/unit/test_ts_store_lmdb.c, test_ts_store_lmdb_blocks.c): a
    fixture per test, the backend alone through its ops table (without
    the router) on a fresh temporary directory, removed afterwards; and
    raw access to an environment, to write what older binaries or damage
    leave. Header-only, static inline, so that each test compiles it
    alone. */

#ifndef TS_STORE_LMDB_FIXTURE_H_INCLUDED
#define TS_STORE_LMDB_FIXTURE_H_INCLUDED

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "ts_store.h"
#include "ts_store_backend.h"

#include "ts_testutil.h"

#define FOREVER_FROM  INT64_MIN
#define FOREVER_TO    INT64_MAX
#define STORE_YAML    "  backend: lmdb\n" \
                      "  forecast_ttl_s: 60\n"
#define STORE_MB      256           //  map size of fixtures and raw opens

static const ts_store_ops_t *ops = &ts_store_lmdb_ops;

typedef struct {
    ts_testutil_t *base;        //  directory and config
    void          *lmdb;        //  the backend's state on base's path
} fixture_t;

static inline int
s_setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->base = ts_testutil_new (STORE_MB, STORE_YAML);
    if (!self->base)
        return -1;
    //  The backend alone, without the router.
    ts_store_destroy (&self->base->store);
    char err [TS_ERRLEN] = "";
    self->lmdb = ops->open (self->base->cfg, err);
    if (!self->lmdb)
        fprintf (stderr, "open: %s\n", err);
    *state = self;
    return self->lmdb? 0: -1;
}

static inline int
s_teardown (void **state)
{
    fixture_t *self = *state;
    if (self->lmdb)
        ops->close (self->lmdb);
    ts_testutil_destroy (&self->base);
    free (self);
    return 0;
}

//  Opens the LMDB environment in path raw (the backend's must be closed).
static inline MDB_env *
s_raw_env (const char *path)
{
    MDB_env *env;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 16), 0);
    assert_int_equal (mdb_env_set_mapsize (env, (size_t) STORE_MB << 20),
                      0);
    assert_int_equal (mdb_env_open (env, path, MDB_NOTLS, 0640), 0);
    return env;
}

//  Puts key -> value into table db (created if need be) in raw txn.
static inline void
s_raw_put (MDB_txn *txn, const char *db, const void *key, size_t key_len,
           const void *value, size_t value_len)
{
    MDB_dbi dbi;
    assert_int_equal (mdb_dbi_open (txn, db, MDB_CREATE, &dbi), 0);
    MDB_val k = { key_len, (void *) key }, v = { value_len, (void *) value };
    assert_int_equal (mdb_put (txn, dbi, &k, &v, 0), 0);
}

#endif
