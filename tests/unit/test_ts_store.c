/*  test_ts_store - the store interface over the LMDB backend: registry,
    history ranges, forecast replacement and expiry, several threads and
    several processes on one environment directory. Each test gets a fresh
    temporary directory, removed afterwards. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
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

#define FOREVER_FROM  INT64_MIN
#define FOREVER_TO    INT64_MAX
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

//  Appends n points of measure at times start, start + step, ... with
//  value = time * scale.
static void
s_fill (ts_points_t *pts, const char *measure, int64_t start, int64_t step,
        size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) {
        int64_t t = start + (int64_t) i * step;
        assert_int_equal (ts_points_append (pts, t, measure, t * scale), 0);
    }
}

//  Puts n points of measure "value" for id, times start + i * step.
static void
s_put (ts_store_t *store, const char *id, int64_t start, int64_t step,
       size_t n)
{
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    s_fill (pts, "value", start, step, n, 1.0);
    char err [TS_ERRLEN] = "";
    int rc = ts_store_history_put (store, id, pts, err);
    if (rc)
        fail_msg ("history_put %s: %s", id, err);
    ts_points_destroy (&pts);
}

//  Number of history points of id in the whole time range, or -1.
static long
s_count (ts_store_t *store, const char *id)
{
    ts_points_t *out = ts_points_new ();
    if (!out)
        return -1;
    char err [TS_ERRLEN] = "";
    int rc = ts_store_history_range (store, id, NULL, FOREVER_FROM,
                                     FOREVER_TO, out, err);
    long n = rc == 0? (long) out->n: -1;
    if (rc)
        fprintf (stderr, "history_range %s: %s\n", id, err);
    ts_points_destroy (&out);
    return n;
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
registry_adds_lists_checks_and_removes_ids (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "b", "a", "b" };
    size_t added = 99;
    assert_int_equal (ts_store_ids_add (self->store, ids, 3, &added, err), 0);
    assert_int_equal (added, 2);
    assert_int_equal (ts_store_ids_add (self->store, ids, 2, &added, err), 0);
    assert_int_equal (added, 0);

    ts_strlist_t *list = ts_strlist_new ();
    assert_non_null (list);
    assert_int_equal (s_list_all (self->store, list), 0);
    assert_int_equal (list->n, 2);
    assert_string_equal (list->items [0], "a");
    assert_string_equal (list->items [1], "b");

    bool exists = false;
    assert_int_equal (ts_store_ids_exists (self->store, "a", &exists, err), 0);
    assert_true (exists);
    assert_int_equal (ts_store_ids_exists (self->store, "c", &exists, err), 0);
    assert_false (exists);

    assert_int_equal (ts_store_ids_remove (self->store, "a", err), 0);
    assert_int_equal (ts_store_ids_remove (self->store, "a", err),
                      TS_ENOTFOUND);
    assert_int_equal (ts_store_ids_remove (self->store, "never", err),
                      TS_ENOTFOUND);
    ts_strlist_clear (list);
    assert_int_equal (s_list_all (self->store, list), 0);
    assert_int_equal (list->n, 1);
    assert_string_equal (list->items [0], "b");
    ts_strlist_destroy (&list);
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

static void
registry_remove_deletes_history_and_forecast_of_that_id_only (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a", "a.b", "ab" };
    assert_int_equal (ts_store_ids_add (self->store, ids, 3, NULL, err), 0);
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 100, 10, 5, 1.0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (ts_store_history_put (self->store, ids [i], pts,
                                                err), 0);
        assert_int_equal (ts_store_forecast_replace (self->store, ids [i],
                                                     pts, 0, err), 0);
    }
    assert_int_equal (ts_store_ids_remove (self->store, "a", err), 0);

    ts_points_clear (pts);
    assert_int_equal (ts_store_history_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, pts, err), 0);
    assert_int_equal (ts_store_forecast_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, pts, err), 0);
    assert_int_equal (pts->n, 0);
    for (size_t i = 1; i < 3; i++) {
        assert_int_equal (s_count (self->store, ids [i]), 5);
        ts_points_clear (pts);
        assert_int_equal (ts_store_forecast_range (self->store, ids [i],
                          NULL, FOREVER_FROM, FOREVER_TO, 0, pts, err), 0);
        assert_int_equal (pts->n, 5);
    }
    ts_points_destroy (&pts);
}

static void
store_rejects_invalid_ids_measures_and_ranges (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "good", "bad id" };
    size_t added = 99;
    assert_int_equal (ts_store_ids_add (self->store, ids, 2, &added, err),
                      TS_EINVAL);
    assert_string_equal (err, "invalid id 'bad id': use " TS_NAME_RULE);
    assert_int_equal (added, 0);
    bool exists = true;
    assert_int_equal (ts_store_ids_exists (self->store, "good", &exists,
                                           err), 0);
    assert_false (exists);

    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 0, 1, 3, 1.0);
    assert_int_equal (ts_store_history_put (self->store, "", pts, err),
                      TS_EINVAL);
    assert_int_equal (ts_store_history_put (self->store, NULL, pts, err),
                      TS_EINVAL);
    assert_int_equal (ts_store_forecast_replace (self->store, "a/../b", pts,
                                                 0, err), TS_EINVAL);
    assert_string_equal (err, "invalid id 'a/../b': use " TS_NAME_RULE);
    assert_int_equal (ts_store_ids_remove (self->store, "x y", err),
                      TS_EINVAL);
    assert_int_equal (ts_store_ids_exists (self->store, "x'", &exists, err),
                      TS_EINVAL);

    //  One bad measure fails the whole put.
    assert_int_equal (ts_points_append (pts, 5, "bad measure", 1.0), 0);
    assert_int_equal (ts_store_history_put (self->store, "good", pts, err),
                      TS_EINVAL);
    assert_non_null (strstr (err, "invalid measure 'bad measure'"));
    assert_int_equal (ts_store_forecast_replace (self->store, "good", pts, 0,
                                                 err), TS_EINVAL);
    assert_int_equal (s_count (self->store, "good"), 0);

    ts_points_clear (pts);
    assert_int_equal (ts_store_history_range (self->store, "good", "a b",
                      0, 10, pts, err), TS_EINVAL);
    assert_int_equal (ts_store_history_range (self->store, "good", NULL,
                      11, 10, pts, err), TS_EINVAL);
    assert_non_null (strstr (err, "from_ms > to_ms"));
    assert_int_equal (ts_store_forecast_range (self->store, "good", NULL,
                      11, 10, 0, pts, err), TS_EINVAL);
    assert_int_equal (ts_store_forecast_range (self->store, "a;b", NULL,
                      0, 10, 0, pts, err), TS_EINVAL);
    ts_points_destroy (&pts);
}

//  --- history -----------------------------------------------------------

static void
history_range_includes_both_boundaries (void **state)
{
    fixture_t *self = *state;
    s_put (self->store, "a", 0, 10, 10);        //  0, 10, ..., 90
    char err [TS_ERRLEN] = "";
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (self->store, "a", NULL, 20, 50,
                                              out, err), 0);
    assert_int_equal (out->n, 4);
    assert_int_equal (out->time_ms [0], 20);
    assert_int_equal (out->time_ms [3], 50);
    assert_string_equal (ts_points_measure (out, 0), "value");
    assert_true (out->value [3] == 50.0);

    ts_points_clear (out);
    assert_int_equal (ts_store_history_range (self->store, "a", NULL, 21, 29,
                                              out, err), 0);
    assert_int_equal (out->n, 0);
    assert_int_equal (ts_store_history_range (self->store, "a", NULL, 90, 90,
                                              out, err), 0);
    assert_int_equal (out->n, 1);
    assert_int_equal (ts_store_history_range (self->store, "nobody", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 1);
    ts_points_destroy (&out);
}

static void
history_range_filters_by_measure (void **state)
{
    fixture_t *self = *state;
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "temp", 0, 10, 5, 1.0);
    s_fill (pts, "tempo", 0, 10, 5, 2.0);
    s_fill (pts, "rain", 0, 10, 5, 3.0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->store, "a", pts, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (self->store, "a", "temp",
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 5);
    for (size_t i = 0; i < out->n; i++) {
        assert_string_equal (ts_points_measure (out, i), "temp");
        assert_true (out->value [i] == (double) out->time_ms [i]);
    }
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range (self->store, "a", "snow",
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 0);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_range_orders_by_time_then_measure (void **state)
{
    fixture_t *self = *state;
    ts_points_t *pts = ts_points_new ();
    //  Put in a scrambled order.
    s_fill (pts, "b", 30, -10, 4, 1.0);
    s_fill (pts, "ab", 0, 10, 4, 1.0);
    s_fill (pts, "a", 30, -10, 4, 1.0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->store, "s", pts, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (self->store, "s", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 12);
    const char *order [] = { "a", "ab", "b" };
    for (size_t i = 0; i < out->n; i++) {
        assert_int_equal (out->time_ms [i], (int64_t) (i / 3) * 10);
        assert_string_equal (ts_points_measure (out, i), order [i % 3]);
    }
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_range_sorts_negative_times_before_positive (void **state)
{
    fixture_t *self = *state;
    int64_t times [] = { 5, -1, INT64_MIN, 0, -1000000000000LL, INT64_MAX,
                         1, -5 };
    ts_points_t *pts = ts_points_new ();
    for (size_t i = 0; i < sizeof times / sizeof times [0]; i++)
        assert_int_equal (ts_points_append (pts, times [i], "v", 1.0), 0);
    char err [TS_ERRLEN] = "";
    assert_int_equal (ts_store_history_put (self->store, "n", pts, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (self->store, "n", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    int64_t expect [] = { INT64_MIN, -1000000000000LL, -5, -1, 0, 1, 5,
                          INT64_MAX };
    assert_int_equal (out->n, 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal (out->time_ms [i], expect [i]);

    ts_points_clear (out);
    assert_int_equal (ts_store_history_range (self->store, "n", NULL, -5, 0,
                                              out, err), 0);
    assert_int_equal (out->n, 3);
    assert_int_equal (out->time_ms [0], -5);
    assert_int_equal (out->time_ms [2], 0);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_range_max_stops_at_the_limit (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 1000, 100, 10, 1.0);
    s_fill (pts, "other", 1000, 100, 10, 1.0);
    assert_int_equal (ts_store_history_put (self->store, "a", pts, err), 0);
    ts_points_t *out = ts_points_new ();
    //  Exactly at the limit: all of them.
    assert_int_equal (ts_store_history_range_max (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 20, out, err), 0);
    assert_int_equal (out->n, 20);
    //  One over: stops there, holding the first max.
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 19, out, err), TS_ETOOBIG);
    assert_int_equal (out->n, 19);
    assert_non_null (strstr (err, "more than 19 points"));
    //  Only the points asked for count: one measure, a shorter range.
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (self->store, "a", "value",
                      FOREVER_FROM, FOREVER_TO, 10, out, err), 0);
    assert_int_equal (out->n, 10);
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (self->store, "a", NULL,
                      1000, 1100, 4, out, err), 0);
    assert_int_equal (out->n, 4);
    //  Nothing in range is fine even with a limit of 0.
    ts_points_clear (out);
    assert_int_equal (ts_store_history_range_max (self->store, "a", NULL,
                      5000, 6000, 0, out, err), 0);
    assert_int_equal (ts_store_history_range_max (self->store, "a", NULL,
                      1000, 1000, 0, out, err), TS_ETOOBIG);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_put_twice_keeps_one_point_with_newest_value (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    assert_int_equal (ts_points_append (pts, 100, "value", 1.5), 0);
    assert_int_equal (ts_store_history_put (self->store, "a", pts, err), 0);
    assert_int_equal (ts_store_history_put (self->store, "a", pts, err), 0);
    assert_int_equal (s_count (self->store, "a"), 1);

    pts->value [0] = 2.5;
    assert_int_equal (ts_store_history_put (self->store, "a", pts, err), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 1);
    assert_true (out->value [0] == 2.5);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
history_ranges_of_prefixed_ids_do_not_mix (void **state)
{
    fixture_t *self = *state;
    s_put (self->store, "a", 0, 1, 3);
    s_put (self->store, "a.b", 0, 1, 5);
    s_put (self->store, "ab", 0, 1, 7);
    s_put (self->store, "a-", INT64_MIN, 1, 2);
    assert_int_equal (s_count (self->store, "a"), 3);
    assert_int_equal (s_count (self->store, "a.b"), 5);
    assert_int_equal (s_count (self->store, "ab"), 7);
    assert_int_equal (s_count (self->store, "a-"), 2);
    assert_int_equal (s_count (self->store, "a."), 0);
    assert_int_equal (s_count (self->store, "b"), 0);
}

//  --- forecast ----------------------------------------------------------

static void
forecast_replace_drops_points_not_in_new_set (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 1000, 100, 10, 1.0);     //  1000 .. 1900
    s_fill (pts, "other", 1000, 100, 10, 1.0);
    assert_int_equal (ts_store_forecast_replace (self->store, "a", pts, 0,
                                                 err), 0);
    ts_points_clear (pts);
    s_fill (pts, "value", 1500, 100, 3, 2.0);      //  1500 .. 1700
    assert_int_equal (ts_store_forecast_replace (self->store, "a", pts, 0,
                                                 err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (out->time_ms [i], 1500 + 100 * (int64_t) i);
        assert_string_equal (ts_points_measure (out, i), "value");
        assert_true (out->value [i] == 2.0 * out->time_ms [i]);
    }
    //  Inclusive bounds and the measure filter hold for forecasts too.
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (self->store, "a", "value",
                      1600, 1700, 0, out, err), 0);
    assert_int_equal (out->n, 2);

    //  An empty set clears the forecast; history is untouched.
    s_put (self->store, "a", 1000, 1, 4);
    ts_points_clear (pts);
    assert_int_equal (ts_store_forecast_replace (self->store, "a", pts, 0,
                                                 err), 0);
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 0);
    assert_int_equal (s_count (self->store, "a"), 4);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
forecast_keeps_points_sorted_and_the_last_of_equal_times (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *pts = ts_points_new ();
    ts_points_append (pts, 3000, "value", 3);
    ts_points_append (pts, 1000, "value", 1);
    ts_points_append (pts, 2000, "value", 2);
    ts_points_append (pts, 1000, "alpha", 10);
    ts_points_append (pts, 2000, "value", 22);      //  replaces 2
    assert_int_equal (ts_store_forecast_replace (self->store, "a", pts, 0,
                                                 err), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 4);
    assert_int_equal (out->time_ms [0], 1000);
    assert_string_equal (ts_points_measure (out, 0), "alpha");
    assert_string_equal (ts_points_measure (out, 1), "value");
    assert_int_equal (out->time_ms [2], 2000);
    assert_true (out->value [2] == 22);
    assert_int_equal (out->time_ms [3], 3000);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

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

static void
forecast_hides_expired_points_and_expire_removes_them (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    int64_t now_ms = 1000000;
    int64_t expires_ms = now_ms + TTL_S * 1000;
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", now_ms, 1000, 5, 1.0);
    assert_int_equal (ts_store_forecast_replace (self->store, "old", pts,
                                                 now_ms, err), 0);
    assert_int_equal (ts_store_forecast_replace (self->store, "new", pts,
                                                 expires_ms, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (self->store, "old", NULL,
                      FOREVER_FROM, FOREVER_TO, expires_ms - 1, out, err), 0);
    assert_int_equal (out->n, 5);
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (self->store, "old", NULL,
                      FOREVER_FROM, FOREVER_TO, expires_ms, out, err), 0);
    assert_int_equal (out->n, 0);

    size_t removed = 99;
    assert_int_equal (ts_store_expire (self->store, expires_ms - 1, &removed,
                                       err), 0);
    assert_int_equal (removed, 0);
    assert_int_equal (ts_store_expire (self->store, expires_ms, &removed,
                                       err), 0);
    assert_int_equal (removed, 5);
    assert_int_equal (ts_store_expire (self->store, expires_ms, &removed,
                                       err), 0);
    assert_int_equal (removed, 0);

    //  Gone from the file, not only hidden: an early "now" sees nothing.
    assert_int_equal (ts_store_forecast_range (self->store, "old", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 0);
    assert_int_equal (ts_store_forecast_range (self->store, "new", NULL,
                      FOREVER_FROM, FOREVER_TO, expires_ms, out, err), 0);
    assert_int_equal (out->n, 5);
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

//  --- one fetched document ----------------------------------------------

//  Number of forecast points of id not expired at now_ms, or -1.
static long
s_forecast_count (ts_store_t *store, const char *id, int64_t now_ms)
{
    ts_points_t *out = ts_points_new ();
    if (!out)
        return -1;
    char err [TS_ERRLEN] = "";
    int rc = ts_store_forecast_range (store, id, NULL, FOREVER_FROM,
                                      FOREVER_TO, now_ms, out, err);
    long n = rc == 0? (long) out->n: -1;
    if (rc)
        fprintf (stderr, "forecast_range %s: %s\n", id, err);
    ts_points_destroy (&out);
    return n;
}

static void
write_lands_history_and_forecast_of_a_document_together (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    int64_t now_ms = 1000000;
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (history, "value", now_ms - 3000, 1000, 3, 1.0);
    s_fill (forecast, "value", now_ms, 1000, 4, 2.0);
    s_fill (forecast, "other", now_ms, 1000, 4, 3.0);
    assert_int_equal (ts_store_write (self->store, "doc", history, forecast,
                                      now_ms, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (self->store, "doc", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_int_equal (out->time_ms [0], now_ms - 3000);
    assert_true (out->value [2] == (double) (now_ms - 1000));
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (self->store, "doc", "other",
                      FOREVER_FROM, FOREVER_TO, now_ms, out, err), 0);
    assert_int_equal (out->n, 4);
    assert_true (out->value [3] == 3.0 * (double) (now_ms + 3000));
    //  The forecast expires store.forecast_ttl_s after now_ms.
    int64_t expires_ms = now_ms + TTL_S * 1000;
    assert_int_equal (s_forecast_count (self->store, "doc", expires_ms - 1),
                      8);
    assert_int_equal (s_forecast_count (self->store, "doc", expires_ms), 0);
    //  Nothing leaks into the history of another id.
    assert_int_equal (s_count (self->store, "do"), 0);
    ts_points_destroy (&out);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
write_upserts_history_and_replaces_the_forecast (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (history, "value", 1000, 100, 5, 1.0);      //  1000 .. 1400
    s_fill (forecast, "value", 2000, 100, 10, 1.0);    //  2000 .. 2900
    assert_int_equal (ts_store_write (self->store, "a", history, forecast,
                                      0, err), 0);
    //  The next run: history overlaps and moves on, the forecast shrinks.
    ts_points_clear (history);
    ts_points_clear (forecast);
    s_fill (history, "value", 1300, 100, 5, 2.0);      //  1300 .. 1700
    s_fill (forecast, "value", 2500, 100, 2, 2.0);     //  2500 .. 2600
    assert_int_equal (ts_store_write (self->store, "a", history, forecast,
                                      0, err), 0);
    //  The same document twice leaves what one write leaves.
    assert_int_equal (ts_store_write (self->store, "a", history, forecast,
                                      0, err), 0);

    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, out, err), 0);
    assert_int_equal (out->n, 8);                       //  1000 .. 1700
    assert_true (out->value [2] == 1200.0);         //  first run's
    assert_true (out->value [3] == 2600.0);         //  upserted
    ts_points_clear (out);
    assert_int_equal (ts_store_forecast_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 2);
    assert_int_equal (out->time_ms [0], 2500);
    assert_true (out->value [1] == 5200.0);

    //  Empty lists: the forecast is cleared, history stays.
    ts_points_clear (history);
    ts_points_clear (forecast);
    assert_int_equal (ts_store_write (self->store, "a", history, forecast,
                                      0, err), 0);
    assert_int_equal (s_forecast_count (self->store, "a", 0), 0);
    assert_int_equal (s_count (self->store, "a"), 8);
    ts_points_destroy (&out);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
write_with_an_invalid_argument_stores_nothing (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (forecast, "value", 5000, 100, 3, 1.0);
    assert_int_equal (ts_store_write (self->store, "a", history, forecast,
                                      0, err), 0);

    //  A bad measure in the forecast: the valid history is not written
    //  either, and the previous forecast stays.
    s_fill (history, "value", 1000, 100, 3, 1.0);
    ts_points_clear (forecast);
    s_fill (forecast, "value", 6000, 100, 2, 1.0);
    assert_int_equal (ts_points_append (forecast, 7000, "bad measure", 1.0),
                      0);
    assert_int_equal (ts_store_write (self->store, "a", history, forecast,
                                      0, err), TS_EINVAL);
    assert_non_null (strstr (err, "invalid measure 'bad measure'"));
    assert_int_equal (s_count (self->store, "a"), 0);
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_forecast_range (self->store, "a", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, out, err), 0);
    assert_int_equal (out->n, 3);
    assert_int_equal (out->time_ms [0], 5000);

    //  A bad measure in the history, or a bad id: same.
    ts_points_clear (forecast);
    assert_int_equal (ts_points_append (history, 2000, "x/y", 1.0), 0);
    assert_int_equal (ts_store_write (self->store, "a", history, forecast,
                                      0, err), TS_EINVAL);
    assert_int_equal (s_forecast_count (self->store, "a", 0), 3);
    ts_points_clear (history);
    assert_int_equal (ts_store_write (self->store, "a b", history, forecast,
                                      0, err), TS_EINVAL);
    assert_string_equal (err, "invalid id 'a b': use " TS_NAME_RULE);
    assert_int_equal (ts_store_write (self->store, "a", NULL, forecast,
                                      0, err), TS_EINVAL);
    assert_int_equal (ts_store_write (self->store, "a", history, NULL,
                                      0, err), TS_EINVAL);
    assert_int_equal (s_forecast_count (self->store, "a", 0), 3);
    ts_points_destroy (&out);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

static void
write_batch_lands_every_document_in_one_call (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "a", "b", "c" };
    ts_points_t *history [3], *forecast [3];
    ts_store_doc_t docs [3];
    for (int i = 0; i < 3; i++) {
        history [i] = ts_points_new ();
        forecast [i] = ts_points_new ();
        s_fill (history [i], "value", 1000, 100, (size_t) (i + 1), 1.0);
        s_fill (forecast [i], "value", 9000, 100, (size_t) (i + 2), 1.0);
        docs [i] = (ts_store_doc_t) { ids [i], history [i], forecast [i] };
    }
    assert_int_equal (ts_store_write_batch (self->store, docs, 3, 0, err),
                      0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal (s_count (self->store, ids [i]), i + 1);
        assert_int_equal (s_forecast_count (self->store, ids [i], 0), i + 2);
    }
    //  Nothing to write is not an error.
    assert_int_equal (ts_store_write_batch (self->store, NULL, 0, 0, err), 0);
    for (int i = 0; i < 3; i++) {
        ts_points_destroy (&history [i]);
        ts_points_destroy (&forecast [i]);
    }
}

static void
write_batch_with_one_invalid_document_stores_none (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_points_t *good = ts_points_new ();
    ts_points_t *bad = ts_points_new ();
    ts_points_t *empty = ts_points_new ();
    s_fill (good, "value", 1000, 100, 3, 1.0);
    assert_int_equal (ts_points_append (bad, 2000, "no good", 1.0), 0);
    ts_store_doc_t docs [] = {
        { "a", good, empty }, { "b", bad, empty }, { "c", good, empty }
    };
    assert_int_equal (ts_store_write_batch (self->store, docs, 3, 0, err),
                      TS_EINVAL);
    assert_string_equal (err, "document 2 of 3: invalid measure 'no good': "
                         "use " TS_NAME_RULE);
    docs [1].id = "b/";
    docs [1].history = good;
    assert_int_equal (ts_store_write_batch (self->store, docs, 3, 0, err),
                      TS_EINVAL);
    assert_string_equal (err, "document 2 of 3: invalid id 'b/': use "
                         TS_NAME_RULE);
    assert_int_equal (s_count (self->store, "a"), 0);
    assert_int_equal (s_count (self->store, "c"), 0);
    ts_points_destroy (&good);
    ts_points_destroy (&bad);
    ts_points_destroy (&empty);
}

//  Reads the stamp of id; fails the test on error.
static ts_store_stamp_t
s_stamp (ts_store_t *store, const char *id)
{
    ts_store_stamp_t stamp;
    char err [TS_ERRLEN] = "";
    int rc = ts_store_stamp (store, id, &stamp, err);
    if (rc)
        fail_msg ("stamp %s: %s", id, err);
    return stamp;
}

static void
stamp_changes_with_every_change_of_that_id_only (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    //  Nothing recorded yet.
    ts_store_stamp_t a0 = s_stamp (self->store, "a");
    assert_int_equal (a0.version, 0);
    assert_true (a0.expires_ms == INT64_MAX);
    assert_int_equal (ts_store_stamp (self->store, "a b", &a0, err),
                      TS_EINVAL);

    const char *ids [] = { "a", "b" };
    assert_int_equal (ts_store_ids_add (self->store, ids, 2, NULL, err), 0);
    ts_store_stamp_t a1 = s_stamp (self->store, "a");
    ts_store_stamp_t b1 = s_stamp (self->store, "b");
    assert_true (a1.version > 0);
    assert_true (a1.expires_ms == INT64_MAX);

    //  A document with a forecast: the stamp carries its expiry.
    ts_points_t *history = ts_points_new ();
    ts_points_t *forecast = ts_points_new ();
    s_fill (history, "value", 1000, 100, 2, 1.0);
    s_fill (forecast, "value", 9000, 100, 2, 1.0);
    assert_int_equal (ts_store_write (self->store, "a", history, forecast,
                                      5000, err), 0);
    ts_store_stamp_t a2 = s_stamp (self->store, "a");
    assert_true (a2.version > a1.version);
    assert_true (a2.expires_ms == 5000 + TTL_S * 1000);
    assert_true (s_stamp (self->store, "b").version == b1.version);

    //  History alone keeps the forecast's expiry; an empty forecast has
    //  none; a re-add of a registered id changes nothing.
    s_put (self->store, "a", 2000, 100, 1);
    ts_store_stamp_t a3 = s_stamp (self->store, "a");
    assert_true (a3.version > a2.version);
    assert_true (a3.expires_ms == a2.expires_ms);
    ts_points_clear (forecast);
    assert_int_equal (ts_store_forecast_replace (self->store, "a", forecast,
                                                 6000, err), 0);
    ts_store_stamp_t a4 = s_stamp (self->store, "a");
    assert_true (a4.version > a3.version);
    assert_true (a4.expires_ms == INT64_MAX);
    assert_int_equal (ts_store_ids_add (self->store, ids, 1, NULL, err), 0);
    assert_true (s_stamp (self->store, "a").version == a4.version);

    //  Removal changes it too, so an answer kept for the id is not reused.
    assert_int_equal (ts_store_ids_remove (self->store, "a", err), 0);
    assert_true (s_stamp (self->store, "a").version > a4.version);
    assert_true (s_stamp (self->store, "b").version == b1.version);
    ts_points_destroy (&history);
    ts_points_destroy (&forecast);
}

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
    //  About 13 MB of history pages (32 bytes a point), walked by the
    //  writes and a read.
    for (int i = 0; i < 40; i++) {
        char id [16];
        snprintf (id, sizeof id, "r%d", i);
        s_put (self->store, id, 0, 1000, 10000);
    }
    long total = 0;
    for (int i = 0; i < 40; i++) {
        char id [16];
        snprintf (id, sizeof id, "r%d", i);
        total += s_count (self->store, id);
    }
    assert_int_equal (total, 400000);
    long before = s_rss_file_kb ();
    ts_store_release (self->store);
    long after = s_rss_file_kb ();
    assert_true (before >= 0 && after >= 0);
    assert_true (before - after > 8 * 1024);
    //  Nothing is lost: the pages come back from the page cache.
    assert_int_equal (s_count (self->store, "r7"), 10000);
    ts_store_release (self->store);
    ts_store_release (self->store);
}

//  --- lifetime, threads, processes --------------------------------------

static void
store_keeps_data_after_reopen (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    const char *ids [] = { "kept" };
    assert_int_equal (ts_store_ids_add (self->store, ids, 1, NULL, err), 0);
    s_put (self->store, "kept", -50, 25, 5);
    ts_points_t *pts = ts_points_new ();
    s_fill (pts, "value", 500, 1, 2, 1.0);
    assert_int_equal (ts_store_forecast_replace (self->store, "kept", pts,
                                                 0, err), 0);
    ts_store_destroy (&self->store);
    assert_null (self->store);

    self->store = ts_store_new (self->cfg, err);
    assert_non_null (self->store);
    bool exists = false;
    assert_int_equal (ts_store_ids_exists (self->store, "kept", &exists,
                                           err), 0);
    assert_true (exists);
    assert_int_equal (s_count (self->store, "kept"), 5);
    ts_points_clear (pts);
    assert_int_equal (ts_store_forecast_range (self->store, "kept", NULL,
                      FOREVER_FROM, FOREVER_TO, 0, pts, err), 0);
    assert_int_equal (pts->n, 2);
    ts_points_destroy (&pts);
}

#define THREADS         8
#define THREAD_BATCHES  50
#define THREAD_BATCH    20

typedef struct {
    ts_store_t *store;          //  shared by every thread
    char        id [16];        //  this thread's id
    int         failures;       //  checks that failed
} worker_t;

static void *
s_thread_work (void *arg)
{
    worker_t *worker = arg;
    ts_points_t *pts = ts_points_new ();
    ts_points_t *out = ts_points_new ();
    char err [TS_ERRLEN];
    for (int b = 0; b < THREAD_BATCHES && pts && out; b++) {
        ts_points_clear (pts);
        for (int i = 0; i < THREAD_BATCH; i++)
            ts_points_append (pts, b * THREAD_BATCH + i, "value", b);
        if (ts_store_history_put (worker->store, worker->id, pts, err))
            worker->failures++;
        ts_points_clear (out);
        if (ts_store_history_range (worker->store, worker->id, NULL,
                                    FOREVER_FROM, FOREVER_TO, out, err)
        ||  out->n != (size_t) (b + 1) * THREAD_BATCH)
            worker->failures++;
    }
    ts_points_destroy (&pts);
    ts_points_destroy (&out);
    return NULL;
}

static void
store_serves_several_threads_through_one_handle (void **state)
{
    fixture_t *self = *state;
    pthread_t threads [THREADS];
    worker_t workers [THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers [i].store = self->store;
        snprintf (workers [i].id, sizeof workers [i].id, "t%d", i);
        workers [i].failures = 0;
        assert_int_equal (pthread_create (&threads [i], NULL, s_thread_work,
                                          &workers [i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join (threads [i], NULL);
        assert_int_equal (workers [i].failures, 0);
        assert_int_equal (s_count (self->store, workers [i].id),
                          THREAD_BATCHES * THREAD_BATCH);
    }
}

#define PROC_POINTS  2000
#define PROC_BATCH   50

//  For child processes (no asserts): puts batches of size points of
//  measure "value" for id, times b * size + i and values i, sleeping
//  pause_us after each batch. Returns 0 or the first error, detail in err.
static int
s_put_batches (ts_store_t *store, const char *id, int batches, int size,
               useconds_t pause_us, char *err)
{
    ts_points_t *pts = ts_points_new ();
    int rc = pts? 0: TS_ENOMEM;
    for (int b = 0; b < batches && rc == 0; b++) {
        ts_points_clear (pts);
        for (int i = 0; i < size; i++)
            ts_points_append (pts, b * size + i, "value", i);
        rc = ts_store_history_put (store, id, pts, err);
        if (pause_us)
            usleep (pause_us);
    }
    ts_points_destroy (&pts);
    return rc;
}

//  In a child process: opens its own store and writes PROC_POINTS points
//  of id in batches. Returns 0 or 1 (an exit status).
static int
s_child_write (const ts_config_t *cfg, const char *id, int start_fd)
{
    char err [TS_ERRLEN] = "";
    ts_store_t *store = ts_store_new (cfg, err);
    if (!store) {
        fprintf (stderr, "child: %s\n", err);
        return 1;
    }
    if (start_fd >= 0) {
        char c;
        if (read (start_fd, &c, 1) != 1)
            return 1;
    }
    int rc = s_put_batches (store, id, PROC_POINTS / PROC_BATCH, PROC_BATCH,
                            0, err);
    if (rc)
        fprintf (stderr, "child: %s\n", err);
    //  Wait (a bounded time) for the parent's points to become visible.
    for (int tries = 0; rc == 0 && tries < 2000; tries++) {
        if (s_count (store, "parent") == PROC_POINTS)
            break;
        usleep (10000);
    }
    if (rc == 0 && (s_count (store, "parent") != PROC_POINTS
                ||  s_count (store, id) != PROC_POINTS))
        rc = 1;
    ts_store_destroy (&store);
    return rc? 1: 0;
}

static int
s_wait_child (pid_t pid)
{
    int status = 0;
    if (waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

static void
two_processes_write_at_once_and_both_see_all (void **state)
{
    fixture_t *self = *state;
    //  Each process must have its own environment handle.
    ts_store_destroy (&self->store);
    int start [2];
    assert_int_equal (pipe (start), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (start [1]);
        _exit (s_child_write (self->cfg, "child", start [0]));
    }
    close (start [0]);
    char err [TS_ERRLEN] = "";
    self->store = ts_store_new (self->cfg, err);
    assert_non_null (self->store);
    assert_int_equal (write (start [1], "g", 1), 1);
    close (start [1]);
    ts_points_t *pts = ts_points_new ();
    for (int b = 0; b < PROC_POINTS / PROC_BATCH; b++) {
        ts_points_clear (pts);
        s_fill (pts, "value", b * PROC_BATCH, 1, PROC_BATCH, 1.0);
        assert_int_equal (ts_store_history_put (self->store, "parent", pts,
                                                err), 0);
    }
    ts_points_destroy (&pts);
    assert_int_equal (s_wait_child (pid), 0);
    assert_int_equal (s_count (self->store, "parent"), PROC_POINTS);
    assert_int_equal (s_count (self->store, "child"), PROC_POINTS);
}

static void
reader_sees_only_whole_writes_of_another_process (void **state)
{
    fixture_t *self = *state;
    ts_store_destroy (&self->store);
    char err [TS_ERRLEN] = "";
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        //  Writes batches of PROC_BATCH points; the parent reads meanwhile.
        ts_store_t *store = ts_store_new (self->cfg, err);
        int rc = store? s_put_batches (store, "w", PROC_POINTS / PROC_BATCH,
                                       PROC_BATCH, 1000, err): 1;
        ts_store_destroy (&store);
        _exit (rc? 1: 0);
    }
    self->store = ts_store_new (self->cfg, err);
    assert_non_null (self->store);
    long last = 0;
    int reads = 0, status = 0;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        long n = s_count (self->store, "w");
        assert_true (n >= last);
        assert_int_equal (n % PROC_BATCH, 0);
        last = n;
        reads++;
    }
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
    assert_true (reads > 0);
    assert_int_equal (s_count (self->store, "w"), PROC_POINTS);
}

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
        T (registry_adds_lists_checks_and_removes_ids),
        T (ids_page_walks_the_registry_in_ascending_pages_each_id_once),
        T (ids_page_starts_after_a_cursor_that_is_not_registered),
        T (ids_add_refuses_a_leading_dash_but_a_stored_one_stays_usable),
        T (registry_remove_deletes_history_and_forecast_of_that_id_only),
        T (store_rejects_invalid_ids_measures_and_ranges),
        T (history_range_includes_both_boundaries),
        T (history_range_filters_by_measure),
        T (history_range_orders_by_time_then_measure),
        T (history_range_sorts_negative_times_before_positive),
        T (history_range_max_stops_at_the_limit),
        T (history_put_twice_keeps_one_point_with_newest_value),
        T (history_ranges_of_prefixed_ids_do_not_mix),
        T (forecast_replace_drops_points_not_in_new_set),
        T (forecast_hides_expired_points_and_expire_removes_them),
        T (forecast_keeps_points_sorted_and_the_last_of_equal_times),
        T (malformed_forecast_record_is_an_error_not_a_crash),
        T (store_of_the_per_point_forecast_layout_drops_that_table),
        T (store_keeps_data_after_reopen),
        T (store_serves_several_threads_through_one_handle),
        T (two_processes_write_at_once_and_both_see_all),
        T (reader_sees_only_whole_writes_of_another_process),
        T (store_adopts_map_grown_by_another_process),
        T (full_store_fails_whole_put_and_names_map_size),
        T (write_lands_history_and_forecast_of_a_document_together),
        T (write_upserts_history_and_replaces_the_forecast),
        T (write_with_an_invalid_argument_stores_nothing),
        T (write_batch_lands_every_document_in_one_call),
        T (write_batch_with_one_invalid_document_stores_none),
        T (stamp_changes_with_every_change_of_that_id_only),
        T (release_lets_go_of_mapped_pages_and_keeps_the_data),
        T (write_that_fills_the_store_leaves_the_previous_document_whole),
#undef T
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_store", tests, NULL, NULL);
}
