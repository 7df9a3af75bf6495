/*  test_ts_store - what the LMDB backend and the router add to the store
    contract: the environment directory and its errors, the registry in
    byte order, stores written by earlier versions, malformed records,
    mapped pages, a map grown by another process, a full map. What every
    backend keeps is in tests/contract (test_store_contract*.c). Each test
    gets a fresh temporary directory, removed afterwards. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "ts_store.h"
#include "ts_store_backend.h"

#include "ts_testutil.h"
#include "../contract/ts_store_steps.h"

#define TTL_S         60      //  store.forecast_ttl_s in STORE_YAML

//  Store keys of every config here (next to the lmdb block).
#define STORE_YAML    "  backend: lmdb\n" \
                      "  forecast_ttl_s: 60\n"

typedef ts_testutil_t fixture_t;

//  Loads a config for path with the given map size; NULL on failure.
static ts_config_t *
s_config (const char *path, int map_size_mb)
{
    return ts_testutil_config (path, map_size_mb, STORE_YAML);
}

static int
s_setup (void **state)
{
    //  The store path is two levels that do not exist yet.
    *state = ts_testutil_new (64, STORE_YAML);
    return *state? 0: -1;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    char dir [sizeof self->dir];
    ts_strlcpy (dir, self->dir, sizeof dir);
    ts_testutil_destroy (&self);
    //  Whatever a test left in the directory must have gone with it.
    return access (dir, F_OK) == 0? -1: 0;
}

//  Appends every registered id to list, page by page (3 ids a page).
//  Returns 0 or the store's error.
static int
s_list_all (ts_store_t *store, ts_strlist_t *list)
{
    char err [TS_ERRLEN] = "";
    char after [TS_NAME_MAX + 1] = "";
    bool more = true;
    while (more) {
        size_t before = list->n;
        int rc = ts_store_ids_page (store, after, 3, list, &more, err);
        if (rc)
            return rc;
        if (list->n > before)
            ts_strlcpy (after, list->items [list->n - 1], sizeof after);
    }
    return 0;
}

//  --- registry ----------------------------------------------------------

static void
store_opens_lmdb_and_creates_missing_directories (void **state)
{
    fixture_t *self = *state;
    assert_string_equal (ts_store_backend (self->store), "lmdb");
    struct stat st;
    assert_int_equal (stat (self->path, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
    assert_int_equal (st.st_mode & 0777, 0750);
}

static void
store_open_names_path_it_cannot_create (void **state)
{
    fixture_t *self = *state;
    char path [160];
    snprintf (path, sizeof path, "%s/file", self->dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fclose (file);
    snprintf (path, sizeof path, "%s/file/sub", self->dir);
    ts_config_t *cfg = s_config (path, 64);
    assert_non_null (cfg);
    char err [TS_ERRLEN] = "";
    ts_store_t *store = ts_store_new (cfg, err);
    assert_null (store);
    assert_non_null (strstr (err, "store.lmdb.path"));
    assert_non_null (strstr (err, path));
    ts_config_destroy (&cfg);
}

static void
ids_page_walks_the_registry_in_ascending_pages_each_id_once (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    //  25 ids added in a shuffled order.
    char names [25][16];
    const char *ids [25];
    for (int i = 0; i < 25; i++) {
        snprintf (names [i], sizeof names [i], "id%02d", (i * 7) % 25);
        ids [i] = names [i];
    }
    assert_int_equal (ts_store_ids_add (self->store, ids, 25, NULL, err), 0);
    ts_strlist_t *page = ts_strlist_new ();
    char after [TS_NAME_MAX + 1] = "";
    bool more = true;
    int seen = 0;
    int pages = 0;
    while (more) {
        ts_strlist_clear (page);
        assert_int_equal (ts_store_ids_page (self->store, after, 10, page,
                                             &more, err), 0);
        pages++;
        assert_true (page->n == 10 || (!more && page->n == 5));
        for (size_t i = 0; i < page->n; i++) {
            char want [16];
            snprintf (want, sizeof want, "id%02d", seen++);
            assert_string_equal (page->items [i], want);
        }
        ts_strlcpy (after, page->items [page->n - 1], sizeof after);
    }
    assert_int_equal (seen, 25);
    assert_int_equal (pages, 3);

    //  A page that ends on the last id says there is no more.
    ts_strlist_clear (page);
    assert_int_equal (ts_store_ids_page (self->store, "id14", 10, page,
                                         &more, err), 0);
    assert_int_equal (page->n, 10);
    assert_false (more);
    ts_strlist_clear (page);
    assert_int_equal (ts_store_ids_page (self->store, "id24", 10, page,
                                         &more, err), 0);
    assert_int_equal (page->n, 0);
    assert_false (more);
    ts_strlist_destroy (&page);
}

static void
ids_page_starts_after_a_cursor_that_is_not_registered (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a", "ab", "b", "c" };
    assert_int_equal (ts_store_ids_add (self->store, ids, 4, NULL, err), 0);
    ts_strlist_t *page = ts_strlist_new ();
    bool more = false;
    //  "aa" sorts between "a" and "ab"; NULL and "" start at the first.
    assert_int_equal (ts_store_ids_page (self->store, "aa", 2, page, &more,
                                         err), 0);
    assert_int_equal (page->n, 2);
    assert_string_equal (page->items [0], "ab");
    assert_string_equal (page->items [1], "b");
    assert_true (more);
    ts_strlist_clear (page);
    assert_int_equal (ts_store_ids_page (self->store, NULL, 1, page, &more,
                                         err), 0);
    assert_string_equal (page->items [0], "a");
    assert_true (more);
    ts_strlist_clear (page);
    assert_int_equal (ts_store_ids_page (self->store, "", 100, page, &more,
                                         err), 0);
    assert_int_equal (page->n, 4);
    assert_false (more);
    assert_int_equal (ts_store_ids_page (self->store, "a b", 1, page, &more,
                                         err), TS_EINVAL);
    assert_int_equal (ts_store_ids_page (self->store, "a", 0, page, &more,
                                         err), TS_EINVAL);
    ts_strlist_destroy (&page);
}

static void
ids_add_refuses_a_leading_dash_but_a_stored_one_stays_usable (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *dash [] = { "-x" };
    assert_int_equal (ts_store_ids_add (self->store, dash, 1, NULL, err),
                      TS_EINVAL);
    assert_string_equal (err, "invalid id '-x': use " TS_NAME_RULE);

    //  A store written before the rule: the backend itself registers it.
    ts_store_destroy (&self->store);
    void *raw = ts_store_lmdb_ops.open (self->cfg, err);
    assert_non_null (raw);
    const char *old [] = { "-old", "new" };
    assert_int_equal (ts_store_lmdb_ops.ids_add (raw, old, 2, NULL, err), 0);
    ts_store_lmdb_ops.close (raw);
    self->store = ts_store_new (self->cfg, err);
    assert_non_null (self->store);

    ts_strlist_t *list = ts_strlist_new ();
    assert_int_equal (s_list_all (self->store, list), 0);
    assert_int_equal (list->n, 2);
    assert_string_equal (list->items [0], "-old");
    bool more;
    ts_strlist_clear (list);
    assert_int_equal (ts_store_ids_page (self->store, "-old", 5, list, &more,
                                         err), 0);
    assert_int_equal (list->n, 1);
    assert_string_equal (list->items [0], "new");
    bool exists = false;
    assert_int_equal (ts_store_ids_exists (self->store, "-old", &exists, err),
                      0);
    assert_true (exists);
    s_put (self->store, "-old", 0, 1, 3);
    assert_int_equal (s_count (self->store, "-old"), 3);
    assert_int_equal (ts_store_ids_remove (self->store, "-old", err), 0);
    assert_int_equal (s_count (self->store, "-old"), 0);
    ts_strlist_destroy (&list);
}

//  --- records -----------------------------------------------------------

//  Opens the raw LMDB environment of the fixture's store.
static MDB_env *
s_raw_env (fixture_t *self)
{
    MDB_env *env;
    assert_int_equal (mdb_env_create (&env), 0);
    assert_int_equal (mdb_env_set_maxdbs (env, 8), 0);
    assert_int_equal (mdb_env_open (env, self->path, MDB_NOTLS, 0640), 0);
    return env;
}

//  Puts key -> value (both text) into table dbname of the raw store.
static void
s_raw_put (fixture_t *self, const char *dbname, const char *key,
           const void *value, size_t size)
{
    MDB_env *env = s_raw_env (self);
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal (mdb_txn_begin (env, NULL, 0, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, dbname, MDB_CREATE, &dbi), 0);
    MDB_val k = { strlen (key), (void *) key }, v = { size, (void *) value };
    assert_int_equal (mdb_put (txn, dbi, &k, &v, 0), 0);
    assert_int_equal (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

static void
malformed_forecast_record_is_an_error_not_a_crash (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_store_destroy (&self->store);
    //  A header that promises 5 points and holds half of one.
    unsigned char bad [12 + 10] = { 0 };
    int64_t expires = INT64_MAX;
    uint32_t count = 5;
    memcpy (bad, &expires, 8);
    memcpy (bad + 8, &count, 4);
    s_raw_put (self, "forecasts", "a", bad, sizeof bad);
    s_raw_put (self, "forecasts", "b", "xy", 2);
    self->store = ts_store_new (self->cfg, err);
    assert_non_null (self->store);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), TS_EBACKEND);
    assert_non_null (strstr (err, "malformed forecast record of id 'a'"));
    assert_int_equal (ts_store_forecast_range (self->store, "b", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), TS_EBACKEND);
    //  The expiry sweep reclaims such records.
    size_t removed = 0;
    assert_int_equal (ts_store_expire (self->store, 0, &removed, err), 0);
    assert_int_equal (ts_store_forecast_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 0);
    ts_points_destroy (&out);
}

static void
store_of_the_per_point_forecast_layout_drops_that_table (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    s_put (self->store, "a", 1000, 100, 3);
    ts_store_destroy (&self->store);
    s_raw_put (self, "forecast", "a\x01", "12345678abcdefgh", 16);
    self->store = ts_store_new (self->cfg, err);
    assert_non_null (self->store);
    //  History stays; the old table is gone.
    assert_int_equal (s_count (self->store, "a"), 3);
    ts_store_destroy (&self->store);
    MDB_env *env = s_raw_env (self);
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal (mdb_dbi_open (txn, "forecast", 0, &dbi),
                      MDB_NOTFOUND);
    mdb_txn_abort (txn);
    mdb_env_close (env);
    self->store = ts_store_new (self->cfg, err);
    assert_non_null (self->store);
}

//  --- mapped pages ------------------------------------------------------

//  This process's resident pages of mapped files, in kB (-1 if unknown).
static long
s_rss_file_kb (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    if (!f)
        return -1;
    char line [256];
    long kb = -1;
    while (fgets (line, sizeof line, f))
        if (sscanf (line, "RssFile: %ld kB", &kb) == 1)
            break;
    fclose (f);
    return kb;
}

static void
release_lets_go_of_mapped_pages_and_keeps_the_data (void **state)
{
    fixture_t *self = *state;
    //  About 12 MB of history blocks (values with no short decimal form
    //  take 8 bytes, times and measures 4: 12 bytes a point), walked by
    //  the writes and a read.
    for (int i = 0; i < 40; i++) {
        char id [16];
        snprintf (id, sizeof id, "r%d", i);
        ts_points_t *pts = ts_points_new ();
        assert_non_null (pts);
        s_fill (pts, "value", 0, 1000, 25000, 1.0 / 3);
        char err [TS_ERRLEN] = "";
        assert_int_equal (ts_store_history_put (self->store, id, pts, err), 0);
        ts_points_destroy (&pts);
    }
    long total = 0;
    for (int i = 0; i < 40; i++) {
        char id [16];
        snprintf (id, sizeof id, "r%d", i);
        total += s_count (self->store, id);
    }
    assert_int_equal (total, 1000000);
    long before = s_rss_file_kb ();
    ts_store_release (self->store);
    long after = s_rss_file_kb ();
    assert_true (before >= 0 && after >= 0);
    assert_true (before - after > 8 * 1024);
    //  Nothing is lost: the pages come back from the page cache.
    assert_int_equal (s_count (self->store, "r7"), 25000);
    ts_store_release (self->store);
    ts_store_release (self->store);
}

//  --- processes and a full map ------------------------------------------

static void
store_adopts_map_grown_by_another_process (void **state)
{
    fixture_t *self = *state;
    //  This process maps 1 MB; a child maps 64 MB and writes past 1 MB.
    //  The child forks before this process opens its handle, and starts
    //  writing once that handle is open.
    ts_store_destroy (&self->store);
    ts_config_t *small = s_config (self->path, 1);
    assert_non_null (small);
    char err [TS_ERRLEN] = "";
    int start [2];
    assert_int_equal (pipe (start), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (start [1]);
        char c;
        int rc = read (start [0], &c, 1) == 1? 0: 1;
        ts_store_t *store = rc? NULL: ts_store_new (self->cfg, err);
        if (!store)
            rc = 1;
        if (rc == 0)
            rc = s_put_batches (store, "big", 10, 10000, 0, err);
        if (rc)
            fprintf (stderr, "child: %s\n", err);
        ts_store_destroy (&store);
        _exit (rc? 1: 0);
    }
    close (start [0]);
    self->store = ts_store_new (small, err);
    assert_non_null (self->store);
    s_put (self->store, "mine", 0, 1, 10);
    assert_int_equal (write (start [1], "g", 1), 1);
    close (start [1]);
    assert_int_equal (s_wait_child (pid), 0);
    assert_int_equal (s_count (self->store, "big"), 100000);
    s_put (self->store, "mine", 10, 1, 10);
    assert_int_equal (s_count (self->store, "mine"), 20);
    ts_store_destroy (&self->store);
    ts_config_destroy (&small);
}

static void
full_store_fails_whole_put_and_names_map_size (void **state)
{
    fixture_t *self = *state;
    ts_store_destroy (&self->store);
    ts_config_t *small = s_config (self->path, 1);
    assert_non_null (small);
    char err [TS_ERRLEN] = "";
    self->store = ts_store_new (small, err);
    assert_non_null (self->store);

    ts_points_t *pts = ts_points_new ();
    int rc = 0;
    long before = 0;
    for (int b = 0; b < 1000 && rc == 0; b++) {
        before = s_count (self->store, "full");
        ts_points_clear (pts);
        s_fill (pts, "value", b * 1000, 1, 1000, 1.0);
        rc = ts_store_history_put (self->store, "full", pts, err);
    }
    assert_int_equal (rc, TS_EBACKEND);
    assert_non_null (strstr (err, "full"));
    assert_non_null (strstr (err, "store.lmdb.map_size_mb"));
    //  The failed put left nothing behind, and reads still work.
    assert_int_equal (s_count (self->store, "full"), before);
    assert_true (before > 0);
    ts_points_destroy (&pts);
    ts_store_destroy (&self->store);
    ts_config_destroy (&small);
}

static void
write_that_fills_the_store_leaves_the_previous_document_whole (void **state)
{
    fixture_t *self = *state;
    ts_store_destroy (&self->store);
    ts_config_t *small = s_config (self->path, 1);
    assert_non_null (small);
    char err [TS_ERRLEN] = "";
    self->store = ts_store_new (small, err);
    assert_non_null (self->store);

    //  Each run adds new history and replaces a forecast of growing size,
    //  until the map is full. The failed run must leave exactly what the
    //  last good run left: its history and its forecast.
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    int rc = 0;
    long history_before = 0, forecast_before = 0;
    for (int b = 0; b < 1000 && rc == 0; b++) {
        history_before = s_count (self->store, "full");
        forecast_before = s_forecast_count (self->store, "full", 0);
        ts_points_clear (history);
        ts_points_clear (forecast);
        s_fill (history, "value", b * 1000, 1, 1000, 1.0);
        s_fill (forecast, "value", 10000000, 1, 100 * (size_t) (b + 1), 1.0);
        rc = ts_store_write (self->store, "full", history, forecast, 0, err);
    }
    assert_int_equal (rc, TS_EBACKEND);
    assert_non_null (strstr (err, "store.lmdb.map_size_mb"));
    assert_true (history_before > 0 && forecast_before > 0);
    assert_int_equal (s_count (self->store, "full"), history_before);
    assert_int_equal (s_forecast_count (self->store, "full", 0),
                      forecast_before);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
    ts_store_destroy (&self->store);
    ts_config_destroy (&small);
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (store_opens_lmdb_and_creates_missing_directories),
        T (store_open_names_path_it_cannot_create),
        T (ids_page_walks_the_registry_in_ascending_pages_each_id_once),
        T (ids_page_starts_after_a_cursor_that_is_not_registered),
        T (ids_add_refuses_a_leading_dash_but_a_stored_one_stays_usable),
        T (malformed_forecast_record_is_an_error_not_a_crash),
        T (store_of_the_per_point_forecast_layout_drops_that_table),
        T (store_adopts_map_grown_by_another_process),
        T (full_store_fails_whole_put_and_names_map_size),
        T (release_lets_go_of_mapped_pages_and_keeps_the_data),
        T (write_that_fills_the_store_leaves_the_previous_document_whole),
#undef T
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_store", tests, NULL, NULL);
}
