/*  ts_aws_store_fixture - what the AWS backends' request tests share
    (test_ts_store_dynamodb_calls, test_ts_store_timestream_calls): a
    store whose AWS roles talk to the loopback server of ts_aws_fixture,
    the other roles on LMDB in a temporary directory, with test
    credentials and no instance metadata. Header-only, static inline. */

#ifndef TS_AWS_STORE_FIXTURE_H_INCLUDED
#define TS_AWS_STORE_FIXTURE_H_INCLUDED

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ts_aws_fixture.h"
#include "ts_store.h"

typedef struct {
    ts_fix_t    *fix;           //  the loopback server
    char         dir [64];      //  temporary LMDB directory
    ts_config_t *cfg;           //  the store's config
    ts_store_t  *store;         //  open store
} ts_fix_store_t;

//  Starts the server with handler and arg, then opens a store of the
//  config yaml, a printf format given the LMDB directory (%s) and the
//  server's port (%d), in that order. Fails the test if it cannot.
static inline void
ts_fix_store_open (ts_fix_store_t *self, ts_fix_handler_fn *handler,
                   void *arg, const char *yaml)
{
    setenv ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv ("AWS_SECRET_ACCESS_KEY", "test-secret", 1);
    setenv ("AWS_EC2_METADATA_DISABLED", "true", 1);
    self->fix = ts_fix_new (handler, arg);
    assert_non_null (self->fix);
    snprintf (self->dir, sizeof self->dir, "/tmp/test_aws_store.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    char text [2048], err [TS_ERRLEN] = "";
    snprintf (text, sizeof text, yaml, self->dir, ts_fix_port (self->fix));
    self->cfg = ts_config_load_text (text, "test.yaml", err);
    if (!self->cfg)
        fail_msg ("%s", err);
    self->store = ts_store_new (self->cfg, err);
    if (!self->store)
        fail_msg ("%s", err);
}

//  Closes the store, stops the server, removes the directory.
static inline void
ts_fix_store_close (ts_fix_store_t *self)
{
    ts_store_destroy (&self->store);
    ts_config_destroy (&self->cfg);
    ts_fix_destroy (&self->fix);
    const char *files [] = { "data.mdb", "lock.mdb" };
    for (int i = 0; i < 2; i++) {
        char path [128];
        snprintf (path, sizeof path, "%s/%s", self->dir, files [i]);
        unlink (path);
    }
    rmdir (self->dir);
}

#endif
