/*  ts_store_fixture - what the store contract suites share: the store
    configurations under test, a fresh store per test in a temporary
    directory, and small steps (fill points, put, count, walk the
    registry). Header-only, static inline, so that each suite compiles it
    alone. Tests call only common/store/ts_store.h; the fixture alone
    opens a store through ts_store_backend.h, to put each role on a
    backend instance of its own. */

#ifndef TS_STORE_FIXTURE_H_INCLUDED
#define TS_STORE_FIXTURE_H_INCLUDED

#include <ftw.h>

#include "ts_contract.h"
#include "ts_dynalite.h"
#include "ts_influxd.h"
#include "ts_store_backend.h"
#include "ts_store_dynamodb_init.h"
#include "ts_store_influxdb.h"
#include "ts_store_steps.h"
#include "ts_store_timestream_init.h"
#include "ts_tsfixture.h"

#define TTL_S         60      //  store.forecast_ttl_s of every config
#define ALL_CAPS      (TS_STORE_CAP_STAMPS | TS_STORE_CAP_SNAPSHOT \
                     | TS_STORE_CAP_ATOMIC)
//  What a store may lack of the history role (docs/timestream.md):
//  deleting an id's points, holding any time.
#define HISTORY_CAPS  (TS_STORE_CAP_FORGET | TS_STORE_CAP_ALLTIME)

//  A store configuration under test: its name, the backend of each role
//  (NULL: one config for all three, opened by ts_store_new), the caps
//  among ALL_CAPS | HISTORY_CAPS it must report, whether registry and
//  forecast are on DynamoDB (dynalite, ts_dynalite.h; fresh tables per
//  test), whether history is on Timestream (the fixture,
//  ts_tsfixture.h; a fresh table per test) or on InfluxDB (influxd,
//  ts_influxd.h; a fresh database per test).
typedef struct {
    const char           *name;
    const ts_store_ops_t *roles [3];    //  registry, history, forecast
    unsigned              caps;
    bool                  dynamodb;
    bool                  timestream;
    bool                  influxdb;
} s_backend_t;

static const s_backend_t s_backends [] = {
    //  store.backend: lmdb, one environment for every role.
    { "lmdb", { NULL, NULL, NULL }, ALL_CAPS | HISTORY_CAPS, false, false,
      false },
    //  Each role on its own LMDB environment: nothing spans roles.
    { "lmdb-split",
      { &ts_store_lmdb_ops, &ts_store_lmdb_ops, &ts_store_lmdb_ops },
      HISTORY_CAPS, false, false, false },
    //  Registry and forecast on DynamoDB, history on LMDB (one config,
    //  store.<role>.backend).
    { "dynamodb", { NULL, NULL, NULL }, HISTORY_CAPS, true, false, false },
    //  History on Timestream (the loopback fixture, endpoint discovery
    //  on), registry and forecast on LMDB: no delete, times of the
    //  table's retention only.
    { "timestream", { NULL, NULL, NULL }, 0, false, true, false },
    //  History on InfluxDB 1.x (influxd on loopback), registry and
    //  forecast on LMDB: deletes, times InfluxDB holds only.
    { "influxdb", { NULL, NULL, NULL }, TS_STORE_CAP_FORGET, false, false,
      true },
};

typedef struct {
    const s_backend_t *backend;     //  the configuration under test
    char          dir [64];         //  temporary directory
    ts_config_t  *cfg [3];          //  config of each role (one if shared)
    ts_store_t   *store;            //  open store, or NULL
} fixture_t;

static inline int
s_rm_entry (const char *path, const struct stat *st, int flag,
            struct FTW *ftw)
{
    return remove (path);
}

//  Loads the config of one role: store.lmdb.path is DIR/NAME. With
//  endpoint (not NULL), registry and forecast on that DynamoDB, in
//  tables of their own (named after dir); with ts_endpoint, history on
//  that Timestream, in a table of its own, the longest retention.
static inline ts_config_t *
s_role_config (const char *dir, const char *name, const char *endpoint,
               const char *ts_endpoint, const char *influx_url)
{
    char text [2048], backends [640] = "", err [TS_ERRLEN] = "";
    const char *tag = strrchr (dir, '.') + 1;
    if (ts_endpoint)
        snprintf (backends, sizeof backends,
                  "  history:\n"
                  "    backend: timestream\n"
                  "  timestream:\n"
                  "    endpoint: %s\n"
                  "    discovery: on\n"
                  "    region: us-east-1\n"
                  "    database: tscache-test\n"
                  "    table: tscache-test-%s-history\n"
                  "    retries: 2\n"
                  "    memory_retention_hours: 24\n"
                  "    magnetic_retention_days: 73000\n"
                  "    magnetic_writes: true\n", ts_endpoint, tag);
    if (influx_url)
        snprintf (backends, sizeof backends,
                  "  history:\n"
                  "    backend: influxdb\n"
                  "  influxdb:\n"
                  "    url: %s\n"
                  "    database: tscache-test-%s\n"
                  "    retries: 2\n"
                  "    batch_points: 50\n", influx_url, tag);
    if (endpoint) {
        snprintf (backends, sizeof backends,
                  "  registry:\n"
                  "    backend: dynamodb\n"
                  "  forecast:\n"
                  "    backend: dynamodb\n"
                  "  dynamodb:\n"
                  "    endpoint: %s\n"
                  "    region: us-east-1\n"
                  "    registry_table: tscache-test-%s-registry\n"
                  "    forecast_table: tscache-test-%s-forecast\n",
                  endpoint, tag, tag);
    }
    snprintf (text, sizeof text,
              "store:\n"
              "  backend: lmdb\n"
              "  forecast_ttl_s: %d\n"
              "  lmdb:\n"
              "    path: %s/%s\n"
              "    map_size_mb: 64\n"
              "%s", TTL_S, dir, name, backends);
    ts_config_t *cfg = ts_config_load_text (text, "test.yaml", err);
    if (!cfg)
        fprintf (stderr, "config: %s\n", err);
    return cfg;
}

//  Opens a store of fx's configuration; NULL with the reason in err. No
//  asserts: forked children call it too.
static inline ts_store_t *
s_store_open (const fixture_t *fx, char *err)
{
    const s_backend_t *b = fx->backend;
    if (!b->roles [0])
        return ts_store_new (fx->cfg [0], err);
    return ts_store_new_with (b->roles [0], fx->cfg [0], b->roles [1],
                              fx->cfg [1], b->roles [2], fx->cfg [2], err);
}

//  Opens fx->store; fails the test if it cannot.
static inline void
s_open (fixture_t *fx)
{
    char err [TS_ERRLEN] = "";
    fx->store = s_store_open (fx, err);
    if (!fx->store)
        fail_msg ("open %s: %s", fx->backend->name, err);
}

//  Closes the store and opens it again on the same data.
static inline void
s_reopen (fixture_t *fx)
{
    ts_store_destroy (&fx->store);
    assert_null (fx->store);
    s_open (fx);
}

static inline int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    fx->backend = *state;
    snprintf (fx->dir, sizeof fx->dir, "/tmp/test_store_contract.XXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    const char *names [] = { "registry", "history", "forecast" };
    size_t roles = fx->backend->roles [0]? 3: 1;
    const char *endpoint = NULL, *ts_endpoint = NULL, *influx_url = NULL;
    char err [TS_ERRLEN] = "";
    if (fx->backend->dynamodb) {
        endpoint = ts_dynalite_endpoint (err, sizeof err);
        if (!endpoint)
            fail_msg ("%s", err);
    }
    if (fx->backend->timestream) {
        ts_endpoint = ts_tsfixture_endpoint (err, sizeof err);
        if (!ts_endpoint)
            fail_msg ("%s", err);
        ts_tsfixture_credentials ();
    }
    if (fx->backend->influxdb) {
        influx_url = ts_influxd_url (err, sizeof err);
        if (!influx_url)
            fail_msg ("%s", err);
    }
    for (size_t i = 0; i < roles; i++) {
        fx->cfg [i] = s_role_config (fx->dir, roles == 1? "data": names [i],
                                     endpoint, ts_endpoint, influx_url);
        assert_non_null (fx->cfg [i]);
    }
    if (endpoint && ts_store_dynamodb_init (fx->cfg [0], NULL, err))
        fail_msg ("dynamodb tables: %s", err);
    if (ts_endpoint && ts_store_timestream_init (fx->cfg [0], NULL, err))
        fail_msg ("timestream table: %s", err);
    if (influx_url && ts_store_influxdb_init (fx->cfg [0], NULL, err))
        fail_msg ("influxdb database: %s", err);
    s_open (fx);
    *state = fx;
    return 0;
}

static inline int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    ts_store_destroy (&fx->store);
    char err [TS_ERRLEN] = "";
    if (fx->backend->dynamodb && ts_store_dynamodb_drop (fx->cfg [0], err))
        fprintf (stderr, "dynamodb tables: %s\n", err);
    for (size_t i = 0; i < 3; i++)
        ts_config_destroy (&fx->cfg [i]);
    int rc = nftw (fx->dir, s_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free (fx);
    return rc;
}

//  ---------------------------------------------------------------------
//  Steps beyond ts_store_steps.h.

//  Registers one id.
static inline void
s_add (ts_store_t *store, const char *id)
{
    char err [TS_ERRLEN] = "";
    const char *ids [] = { id };
    if (ts_store_ids_add (store, ids, 1, NULL, err))
        fail_msg ("ids_add %s: %s", id, err);
}

//  An answer of ts_store_read with its own point lists.
static inline ts_store_answer_t
s_answer_new (void)
{
    ts_store_answer_t ans = { .history = ts_points_new (),
                              .forecast = ts_points_new () };
    assert_non_null (ans.history);
    assert_non_null (ans.forecast);
    return ans;
}

static inline void
s_answer_clear (ts_store_answer_t *ans)
{
    ans->exists = false;
    ts_points_clear (ans->history);
    ts_points_clear (ans->forecast);
}

static inline void
s_answer_destroy (ts_store_answer_t *ans)
{
    ts_points_destroy (&ans->history);
    ts_points_destroy (&ans->forecast);
}

//  Walks the whole registry into list, limit ids a page, in at most
//  max_pages pages. Asserts what every page keeps: at most limit ids, at
//  least one while more follow. Returns the number of pages.
static inline size_t
s_walk (ts_store_t *store, size_t limit, ts_strlist_t *list,
        size_t max_pages)
{
    char err [TS_ERRLEN] = "";
    char after [TS_NAME_MAX + 1] = "";
    bool more = true;
    size_t pages = 0;
    while (more) {
        assert_true (pages < max_pages);
        size_t before = list->n;
        if (ts_store_ids_page (store, after, limit, list, &more, err))
            fail_msg ("ids_page after '%s': %s", after, err);
        pages++;
        assert_true (list->n - before <= limit);
        if (more)
            assert_true (list->n > before);
        if (list->n > before)
            ts_strlcpy (after, list->items [list->n - 1], sizeof after);
    }
    return pages;
}

//  Index of name in list, or -1; asserts it is there at most once.
static inline long
s_find (const ts_strlist_t *list, const char *name)
{
    long found = -1;
    for (size_t i = 0; i < list->n; i++)
        if (strcmp (list->items [i], name) == 0) {
            assert_true (found < 0);
            found = (long) i;
        }
    return found;
}

//  ---------------------------------------------------------------------

//  Runs tests (n of them) once per backend wanted (ts_contract_run).
static inline int
s_run_per_backend (const char *suite, struct CMUnitTest *tests, size_t n)
{
    return ts_contract_run (suite, tests, n, s_backends, sizeof s_backends [0],
                            sizeof s_backends / sizeof s_backends [0]);
}

#endif
