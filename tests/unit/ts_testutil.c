/*  ts_testutil - the fixture shared by the unit tests that need a store:
    temporary directory, config pointing into it, open store; and the
    recursive remove that cleans up after it. See ts_testutil.h. */

#include <assert.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts_testutil.h"

ts_config_t *
ts_testutil_config (const char *path, int map_size_mb,
                    const char *extra_yaml)
{
    char text [1024];
    int size = snprintf (text, sizeof text,
                         "store:\n"
                         "  lmdb:\n"
                         "    path: %s\n"
                         "    map_size_mb: %d\n"
                         "%s", path, map_size_mb,
                         extra_yaml? extra_yaml: "");
    if (size < 0 || (size_t) size >= sizeof text) {
        fprintf (stderr, "ts_testutil: config text longer than %zu bytes\n",
                 sizeof text - 1);
        return NULL;
    }
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (text, "test.yaml", err);
    if (!cfg)
        fprintf (stderr, "ts_testutil: config: %s\n", err);
    //  Sockets of unit tests are plain unless a test says otherwise.
    else
    if (!strstr (text, "security:"))
        ts_config_set (cfg, "security.mode", "plain", err);
    return cfg;
}

ts_testutil_t *
ts_testutil_new (int map_size_mb, const char *extra_yaml)
{
    ts_testutil_t *self = calloc (1, sizeof *self);
    if (!self) {
        fprintf (stderr, "ts_testutil: out of memory\n");
        return NULL;
    }
    int size = snprintf (self->dir, sizeof self->dir, "/tmp/%s.XXXXXX",
                         program_invocation_short_name);
    if (size < 0 || (size_t) size >= sizeof self->dir
    ||  !mkdtemp (self->dir)) {
        fprintf (stderr, "ts_testutil: cannot make %s: %s\n", self->dir,
                 strerror (errno));
        free (self);
        return NULL;
    }
    snprintf (self->path, sizeof self->path, "%s/var/data", self->dir);
    self->cfg = ts_testutil_config (self->path, map_size_mb, extra_yaml);
    char err [TS_ERRLEN] = "";
    if (self->cfg) {
        self->store = ts_store_new (self->cfg, err);
        if (!self->store)
            fprintf (stderr, "ts_testutil: store: %s\n", err);
    }
    if (!self->store)
        ts_testutil_destroy (&self);
    return self;
}

void
ts_testutil_destroy (ts_testutil_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        ts_testutil_t *self = *self_p;
        ts_store_destroy (&self->store);
        ts_config_destroy (&self->cfg);
        if (ts_testutil_rmrf (self->dir))
            fprintf (stderr, "ts_testutil: cannot remove %s: %s\n",
                     self->dir, strerror (errno));
        free (self);
        *self_p = NULL;
    }
}

static int
s_remove_one (const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
    return remove (path);
}

int
ts_testutil_rmrf (const char *path)
{
    return nftw (path, s_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
