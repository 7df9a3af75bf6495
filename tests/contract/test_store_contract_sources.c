/*  test_store_contract_sources - each id's source in the registry
    (common/store/ts_store.h: ts_store_ids_add_to, _page_sources,
    _source), run against each configuration of ts_store_fixture.h: an
    id keeps the source it was registered to, ids registered without one
    (before sources existed) read "", adding again with another source
    moves the id and keeps its points, plain ts_store_ids_add leaves a
    source alone, and a page lists each id with its own source. */

#include "ts_store_fixture.h"

//  The source of id as ts_store_ids_source reads it.
static const char *
s_source_of (fixture_t *fx, const char *id, char *source)
{
    char err [TS_ERRLEN] = "";
    int rc = ts_store_ids_source (fx->store, id, source, err);
    if (rc)
        fail_msg ("ids_source %s: %s", id, err);
    return source;
}

//  Walks the whole registry with sources; returns id's source or NULL.
static char *
s_listed_source (fixture_t *fx, const char *id, size_t *count)
{
    char err [TS_ERRLEN] = "";
    ts_strlist_t *ids = ts_strlist_new ();
    ts_strlist_t *sources = ts_strlist_new ();
    assert_non_null (ids);
    assert_non_null (sources);
    char *found = NULL;
    bool more = true;
    char after [TS_NAME_MAX + 1] = "";
    *count = 0;
    for (int pages = 0; more && pages < 50; pages++) {
        ts_strlist_clear (ids);
        ts_strlist_clear (sources);
        assert_int_equal (ts_store_ids_page_sources (fx->store, after, 2, ids,
                                                     sources, &more, err), 0);
        assert_int_equal (ids->n, sources->n);
        for (size_t i = 0; i < ids->n; i++)
            if (strcmp (ids->items [i], id) == 0)
                found = strdup (sources->items [i]);
        *count += ids->n;
        if (ids->n)
            snprintf (after, sizeof after, "%s", ids->items [ids->n - 1]);
    }
    ts_strlist_destroy (&ids);
    ts_strlist_destroy (&sources);
    return found;
}

static void
registry_keeps_each_ids_source_and_moves_it_on_a_new_add (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "", source [TS_NAME_MAX + 1];
    const char *weather [] = { "w1", "w2" };
    const char *prices [] = { "p1" };
    const char *plain [] = { "old" };
    size_t added = 99;
    assert_int_equal (ts_store_ids_add_to (fx->store, weather, 2, "weather",
                                           &added, err), 0);
    assert_int_equal (added, 2);
    assert_int_equal (ts_store_ids_add_to (fx->store, prices, 1, "prices",
                                           &added, err), 0);
    assert_int_equal (added, 1);
    //  Registered before sources: no source, the first one.
    assert_int_equal (ts_store_ids_add (fx->store, plain, 1, &added, err), 0);
    assert_string_equal (s_source_of (fx, "w1", source), "weather");
    assert_string_equal (s_source_of (fx, "p1", source), "prices");
    assert_string_equal (s_source_of (fx, "old", source), "");

    //  A page lists each id with its own source.
    size_t count = 0;
    char *listed = s_listed_source (fx, "w2", &count);
    assert_int_equal (count, 4);
    assert_non_null (listed);
    assert_string_equal (listed, "weather");
    free (listed);
    listed = s_listed_source (fx, "old", &count);
    assert_string_equal (listed, "");
    free (listed);

    //  Added again with another source: it moves, is not new, and keeps
    //  its points.
    ts_points_t *pts = ts_points_new ();
    assert_non_null (pts);
    assert_int_equal (ts_points_append (pts, 1000, "value", 1.5), 0);
    assert_int_equal (ts_store_history_put (fx->store, "w1", pts, err), 0);
    const char *move [] = { "w1", "new" };
    assert_int_equal (ts_store_ids_add_to (fx->store, move, 2, "prices",
                                           &added, err), 0);
    assert_int_equal (added, 1);
    assert_string_equal (s_source_of (fx, "w1", source), "prices");
    assert_string_equal (s_source_of (fx, "new", source), "prices");
    assert_string_equal (s_source_of (fx, "w2", source), "weather");
    ts_points_t *out = ts_points_new ();
    assert_int_equal (ts_store_history_range (fx->store, "w1", NULL, 0, 2000,
                                              out, err), 0);
    assert_int_equal (out->n, 1);
    //  ... and back to the first source with "".
    assert_int_equal (ts_store_ids_add_to (fx->store, move, 1, "", &added,
                                           err), 0);
    assert_int_equal (added, 0);
    assert_string_equal (s_source_of (fx, "w1", source), "");

    //  Plain ids_add leaves a registered id's source alone.
    const char *again [] = { "p1" };
    assert_int_equal (ts_store_ids_add (fx->store, again, 1, &added, err), 0);
    assert_int_equal (added, 0);
    assert_string_equal (s_source_of (fx, "p1", source), "prices");
    ts_points_destroy (&out);
    ts_points_destroy (&pts);
}

static void
registry_sources_check_names_and_unknown_ids (void **state)
{
    fixture_t *fx = *state;
    char err [TS_ERRLEN] = "", source [TS_NAME_MAX + 1] = "x";
    const char *ids [] = { "a" };
    assert_int_equal (ts_store_ids_add_to (fx->store, ids, 1, "bad name",
                                           NULL, err), TS_EINVAL);
    assert_non_null (strstr (err, "source"));
    bool exists = true;
    assert_int_equal (ts_store_ids_exists (fx->store, "a", &exists, err), 0);
    assert_false (exists);
    assert_int_equal (ts_store_ids_source (fx->store, "a", source, err),
                      TS_ENOTFOUND);
    assert_string_equal (source, "");
    assert_int_equal (ts_store_ids_source (fx->store, "a b", source, err),
                      TS_EINVAL);
    //  Removed and added again: the new source only.
    assert_int_equal (ts_store_ids_add_to (fx->store, ids, 1, "s1", NULL,
                                           err), 0);
    assert_int_equal (ts_store_ids_remove (fx->store, "a", err), 0);
    assert_int_equal (ts_store_ids_add (fx->store, ids, 1, NULL, err), 0);
    assert_int_equal (ts_store_ids_source (fx->store, "a", source, err), 0);
    assert_string_equal (source, "");
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    struct CMUnitTest tests [] = {
        T (registry_keeps_each_ids_source_and_moves_it_on_a_new_add),
        T (registry_sources_check_names_and_unknown_ids),
    };
#undef T
    return s_run_per_backend ("store contract sources", tests,
                              sizeof tests / sizeof tests [0]);
}
