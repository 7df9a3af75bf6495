/*  test_ts_api_ids - the registry ops of the gateway's request handler
    (gateway/ts_api.c): ids_add, ids_rm (with the id's data), ids_ls
    in pages with a cursor, ids_show (source and fetch status, and its
    JSON), names checked on the way in but stored ones
    still served. Fixture in ts_api_fixture.h. */

#include "ts_api_fixture.h"

static void
api_ids_add_counts_only_new_ids (void **state)
{
    fixture_t *self = *state;
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    ts_strlist_append (self->req->ids, "b");
    ts_strlist_append (self->req->ids, "a");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 2);
    ts_strlist_append (self->req->ids, "c");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 1);

    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 3);
    assert_string_equal (self->reply->ids->items [0], "a");
    assert_string_equal (self->reply->ids->items [2], "c");
}

static void
api_ids_add_rejects_invalid_and_empty_lists (void **state)
{
    fixture_t *self = *state;
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    ts_strlist_append (self->req->ids, "ok");
    ts_strlist_append (self->req->ids, "not ok");
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_string_equal (self->reply->error, "bad_request");
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 0);
}

static void
api_ids_rm_answers_404_for_unknown_id (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, "a", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
    assert_string_equal (self->reply->error, "not_found");
}

static void
api_ids_ls_answers_pages_with_a_cursor (void **state)
{
    fixture_t *self = *state;
    const char *ids [] = { "e", "d", "c", "b", "a" };
    assert_int_equal (ts_store_ids_add (self->base->store, ids, 5, NULL,
                                        NULL), 0);
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    self->req->limit = 2;
    const char *want [] = { "a", "b", "c", "d", "e" };
    size_t seen = 0;
    for (int page = 0; page < 3; page++) {
        assert_int_equal (ts_api_handle (self->api, self->req, self->reply),
                          200);
        for (size_t i = 0; i < self->reply->ids->n; i++)
            assert_string_equal (self->reply->ids->items [i],
                                 want [seen++]);
        if (page < 2)
            assert_string_equal (self->reply->next, want [seen - 1]);
        else
            assert_string_equal (self->reply->next, "");
        ts_strlcpy (self->req->after, self->reply->next,
                    sizeof self->req->after);
    }
    assert_int_equal (seen, 5);
    //  After alone pages with the largest limit.
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    ts_strlcpy (self->req->after, "b", sizeof self->req->after);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 3);
    assert_string_equal (self->reply->next, "");
    self->req->limit = TS_PROTO_IDS_PAGE + 1;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
}

static void
api_ids_ls_without_paging_answers_413_past_one_page (void **state)
{
    fixture_t *self = *state;
    //  One page fits, so a client that predates paging sees every id.
    char names [TS_PROTO_IDS_PAGE + 1][16];
    const char *ids [TS_PROTO_IDS_PAGE + 1];
    for (int i = 0; i <= TS_PROTO_IDS_PAGE; i++) {
        snprintf (names [i], sizeof names [i], "i%05d", i);
        ids [i] = names [i];
    }
    assert_int_equal (ts_store_ids_add (self->base->store, ids,
                                        TS_PROTO_IDS_PAGE, NULL, NULL), 0);
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, TS_PROTO_IDS_PAGE);
    assert_string_equal (self->reply->next, "");
    //  One more: never a silently partial list.
    assert_int_equal (ts_store_ids_add (self->base->store,
                                        ids + TS_PROTO_IDS_PAGE, 1, NULL,
                                        NULL), 0);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 413);
    assert_string_equal (self->reply->error, "too_big");
    assert_non_null (strstr (self->reply->detail, "a page at a time"));
    self->req->limit = TS_PROTO_IDS_PAGE;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_string_equal (self->reply->next, "i09999");
}

//  bad is refused as a new id, and as any other that is not registered;
//  old, of the same kind but registered before the rule, is listed,
//  served and removed.
static void
s_refuse_new_serve_stored (fixture_t *self, const char *bad, const char *old)
{
    char expected [TS_ERRLEN];
    snprintf (expected, sizeof expected, "invalid id '%s': use "
              TS_NAME_RULE, bad);
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    ts_strlist_append (self->req->ids, bad);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_string_equal (self->reply->detail, expected);
    //  Not registered: invalid wherever it is named.
    ts_msg_reset (self->req, TS_OP_QUERY);
    ts_strlcpy (self->req->id, bad, sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, bad, sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_string_equal (self->reply->detail, expected);

    //  Registered before the rule (written by the backend itself).
    ts_store_destroy (&self->base->store);
    char err [TS_ERRLEN] = "";
    void *raw = ts_store_lmdb_ops.open (self->base->cfg, err);
    assert_non_null (raw);
    assert_int_equal (ts_store_lmdb_ops.ids_add (raw, &old, 1, NULL, err), 0);
    ts_store_lmdb_ops.close (raw);
    self->base->store = ts_store_new (self->base->cfg, err);
    assert_non_null (self->base->store);
    ts_api_destroy (&self->api);
    self->api = ts_api_new (self->base->cfg, self->base->store, err);

    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 1);
    assert_string_equal (self->reply->ids->items [0], old);
    s_query (self, old, 0, HOUR_MS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, old, sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
}

static void
api_refuses_new_ids_with_a_leading_dash_but_serves_stored_ones (void **state)
{
    s_refuse_new_serve_stored (*state, "-x", "-old");
}

//  "." and "..": a browser or curl resolves them away in a URL path.
static void
api_refuses_new_dot_ids_but_serves_stored_ones (void **state)
{
    s_refuse_new_serve_stored (*state, "..", "..");
    s_refuse_new_serve_stored (*state, ".", ".");
}

static void
api_ids_rm_deletes_the_data_and_counts_one (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    ts_points_t *history = ts_points_new ();
    ts_points_append (history, 1000, "value", 1);
    assert_int_equal (ts_store_history_put (self->base->store, "a", history,
                                            NULL), 0);
    ts_msg_reset (self->req, TS_OP_IDS_RM);
    ts_strlcpy (self->req->id, "a", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 1);
    //  Registered again, the id has nothing stored.
    s_register (self, "a");
    s_query (self, "a", 0, 5000);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->series.history->n, 0);
    ts_points_destroy (&history);
}

//  With sources configured: ids_add registers to the source named (none:
//  the first, kept as ""), refuses an unknown one naming the known ones,
//  moves an id added again; ids_ls names each id's source.
static void
api_ids_add_registers_to_a_source_and_ls_names_it (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (
        "gateway: {broker_endpoint: " BROKER "}\n"
        "security: {mode: plain}\n"
        "sources:\n"
        "  - name: weather\n"
        "  - name: prices\n", "sources.yaml", err);
    if (!cfg)
        fail_msg ("%s", err);
    ts_api_t *api = ts_api_new (cfg, self->base->store, err);
    assert_non_null (api);
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    ts_strlist_append (self->req->ids, "p1");
    ts_strlcpy (self->req->source, "gas", sizeof self->req->source);
    assert_int_equal (ts_api_handle (api, self->req, self->reply), 400);
    assert_string_equal (self->reply->error, "unknown_source");
    assert_string_equal (self->reply->detail, "unknown source 'gas' "
                         "(configured: weather, prices)");
    ts_strlcpy (self->req->source, "prices", sizeof self->req->source);
    assert_int_equal (ts_api_handle (api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 1);
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    ts_strlist_append (self->req->ids, "w1");
    assert_int_equal (ts_api_handle (api, self->req, self->reply), 200);
    char source [TS_NAME_MAX + 1];
    assert_int_equal (ts_store_ids_source (self->base->store, "w1", source,
                                           err), 0);
    assert_string_equal (source, "");

    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (api, self->req, self->reply), 200);
    assert_int_equal (self->reply->ids->n, 2);
    assert_int_equal (self->reply->sources->n, 2);
    assert_string_equal (self->reply->ids->items [0], "p1");
    assert_string_equal (self->reply->sources->items [0], "prices");
    assert_string_equal (self->reply->sources->items [1], "weather");

    //  Added again with another source: moved.
    ts_msg_reset (self->req, TS_OP_IDS_ADD);
    ts_strlist_append (self->req->ids, "p1");
    ts_strlcpy (self->req->source, "weather", sizeof self->req->source);
    assert_int_equal (ts_api_handle (api, self->req, self->reply), 200);
    assert_int_equal (self->reply->count, 0);
    assert_int_equal (ts_store_ids_source (self->base->store, "p1", source,
                                           err), 0);
    assert_string_equal (source, "weather");
    ts_api_destroy (&api);
    ts_config_destroy (&cfg);
}

static void
api_ids_show_answers_source_and_fetch_status (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    s_register (self, "a");
    ts_msg_reset (self->req, TS_OP_IDS_SHOW);
    ts_strlcpy (self->req->id, "a", sizeof self->req->id);
    //  Never fetched: registered, the first source, nothing else.
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_true (self->reply->has_fetch);
    assert_string_equal (self->reply->id, "a");
    assert_true (self->reply->source [0]);
    assert_int_equal (self->reply->fetch.ok_ms, 0);
    ts_json_t *json = ts_json_new ();
    assert_non_null (json);
    assert_int_equal (ts_json_answer (json, self->req, self->reply), 0);
    assert_non_null (strstr (ts_json_data (json), "\"fetched_at\":null,"
                             "\"last_attempt\":null,\"last_error\":null,"
                             "\"not_found_until\":null,"
                             "\"stale\":true,\"age\":null}"));
    assert_true (self->reply->has_fresh && self->reply->fresh.stale);
    //  Fetched, then failed with a 404.
    ts_store_mark_t ok = { .id = "a", .at_ms = 1732406400000, .ok = true };
    assert_int_equal (ts_store_ids_mark (self->base->store, &ok, 1, err), 0);
    assert_int_equal (ts_store_ids_failed (self->base->store, "a",
                                           1732406460000, "http_404",
                                           "id=a: upstream HTTP 404",
                                           1732406760000, err), 0);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->fetch.ok_ms, 1732406400000);
    assert_int_equal (self->reply->fetch.error_ms, 1732406460000);
    assert_string_equal (self->reply->fetch.kind, "http_404");
    ts_json_reset (json);
    assert_int_equal (ts_json_answer (json, self->req, self->reply), 0);
    assert_non_null (strstr (ts_json_data (json),
        "\"fetched_at\":\"2024-11-24T00:00:00.000Z\","
        "\"last_attempt\":\"2024-11-24T00:01:00.000Z\","
        "\"last_error\":{\"at\":\"2024-11-24T00:01:00.000Z\","
        "\"kind\":\"http_404\",\"detail\":\"id=a: upstream HTTP 404\"},"
        "\"not_found_until\":\"2024-11-24T00:06:00.000Z\","
        "\"stale\":true,\"age\":"));
    //  Failing since its last success: stale (ts_fresh), with the error.
    assert_true (self->reply->fresh.stale);
    assert_int_equal (self->reply->fresh.error_ms, 1732406460000);
    //  A fresh success of now: not stale, by its source's schedule.
    ok.at_ms = ts_now_ms ();
    assert_int_equal (ts_store_ids_mark (self->base->store, &ok, 1, err), 0);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_false (self->reply->fresh.stale);
    ts_json_reset (json);
    assert_int_equal (ts_json_answer (json, self->req, self->reply), 0);
    assert_non_null (strstr (ts_json_data (json), "\"stale\":false,"
                             "\"age\":0}"));
    ts_json_destroy (&json);
    //  Unknown: 404; not a name: 400.
    ts_strlcpy (self->req->id, "ghost", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
    ts_strlcpy (self->req->id, "a b", sizeof self->req->id);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
}

//  ids_ls with fetch: each id's fetch status with the page, stale by
//  its source; the JSON answer's fetches; without fetch, none.
static void
api_ids_ls_with_fetch_answers_each_ids_status (void **state)
{
    fixture_t *self = *state;
    char err [TS_ERRLEN] = "";
    s_register (self, "a");
    s_register (self, "b");
    ts_store_mark_t ok = { .id = "b", .at_ms = ts_now_ms (), .ok = true };
    assert_int_equal (ts_store_ids_mark (self->base->store, &ok, 1, err), 0);
    assert_int_equal (ts_store_ids_failed (self->base->store, "a",
                                           1732406460000, "http_503",
                                           "id=a: upstream HTTP 503", 0,
                                           err), 0);
    ts_msg_reset (self->req, TS_OP_IDS_LS);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_false (self->reply->has_fetches);
    self->req->with_fetch = true;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_true (self->reply->has_fetches);
    assert_int_equal (self->reply->ids->n, 2);
    assert_int_equal (self->reply->fetches_n, 2);
    const ts_id_status_t *a = &self->reply->fetches [0];
    const ts_id_status_t *b = &self->reply->fetches [1];
    assert_int_equal (a->ok_ms, 0);
    assert_int_equal (a->error_ms, 1732406460000);
    assert_string_equal (a->kind, "http_503");
    assert_true (a->stale);
    assert_int_equal (b->ok_ms, ok.at_ms);
    assert_false (b->stale);
    ts_json_t *json = ts_json_new ();
    assert_non_null (json);
    assert_int_equal (ts_json_answer (json, self->req, self->reply), 0);
    assert_non_null (strstr (ts_json_data (json),
        "\"fetches\":[{\"stale\":true,\"fetched_at\":null,"
        "\"last_attempt\":\"2024-11-24T00:01:00.000Z\","
        "\"last_error\":{\"at\":\"2024-11-24T00:01:00.000Z\","
        "\"kind\":\"http_503\",\"detail\":\"id=a: upstream HTTP 503\"},"
        "\"not_found_until\":null},{\"stale\":false,\"fetched_at\":\""));
    ts_json_destroy (&json);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (api_ids_add_counts_only_new_ids),
        T (api_ids_add_rejects_invalid_and_empty_lists),
        T (api_ids_rm_answers_404_for_unknown_id),
        T (api_ids_ls_answers_pages_with_a_cursor),
        T (api_ids_ls_without_paging_answers_413_past_one_page),
        T (api_refuses_new_ids_with_a_leading_dash_but_serves_stored_ones),
        T (api_refuses_new_dot_ids_but_serves_stored_ones),
        T (api_ids_ls_with_fetch_answers_each_ids_status),
        T (api_ids_rm_deletes_the_data_and_counts_one),
        T (api_ids_add_registers_to_a_source_and_ls_names_it),
        T (api_ids_show_answers_source_and_fetch_status),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_api_ids", tests, NULL, NULL);
}
