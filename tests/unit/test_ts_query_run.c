/*  test_ts_query_run - the query engine through ts_api_handle: step and
    agg (each aggregate), boundaries, empty buckets, fill modes, the
    bucket straddling history and forecast, several measures, max_points,
    and paging (every point once, pages never empty, tokens checked).
    Every aggregated answer is checked against a straightforward
    computation over the raw points (s_expect), written without the
    engine's code: merge, group, aggregate, fill, by brute force. */

#include "ts_api_fixture.h"
#include "ts_agg.h"
#include "ts_query.h"

#include <math.h>

//  The raw series of the tests: history and forecast of id "a".
typedef struct {
    ts_points_t *history;
    ts_points_t *forecast;
} s_raw_t;

static void
s_raw_put (fixture_t *self, s_raw_t *raw)
{
    assert_int_equal (ts_store_history_put (self->base->store, "a",
                                            raw->history, NULL), 0);
    assert_int_equal (ts_store_forecast_replace (self->base->store, "a",
                                                 raw->forecast, ts_now_ms (),
                                                 NULL), 0);
}

//  Floor division bucket, written out.
static int64_t
s_bucket (int64_t t, int64_t step)
{
    int64_t b = (t / step) * step;
    return b > t? b - step: b;
}

//  Aggregate of the values v [0..n) by agg.
static double
s_agg (ts_agg_t agg, const double *v, size_t n)
{
    double r = v [0];
    for (size_t i = 1; i < n; i++)
        switch (agg) {
            case TS_AGG_MIN: r = v [i] < r? v [i]: r; break;
            case TS_AGG_MAX: r = v [i] > r? v [i]: r; break;
            case TS_AGG_LAST: r = v [i]; break;
            case TS_AGG_FIRST: break;
            default: r += v [i]; break;
        }
    if (agg == TS_AGG_AVG)
        r /= (double) n;
    if (agg == TS_AGG_COUNT)
        r = (double) n;
    return r;
}

//  The expected answer, computed the long way: the merged points (the
//  seed's rule), then for every bucket of [from, to] and measure of
//  names, the aggregate of its points, or the fill.
static void
s_expect (const s_raw_t *raw, const char *const *names, size_t m,
          int64_t from, int64_t to, int64_t step, ts_agg_t agg,
          ts_fill_mode_t fill, const double *before, ts_points_t *eh,
          ts_points_t *ef)
{
    bool has_base = false;
    int64_t base = 0;
    for (size_t i = 0; i < raw->history->n; i++) {
        int64_t t = raw->history->time_ms [i];
        if (t >= from && t <= to && (!has_base || t > base)) {
            has_base = true;
            base = t;
        }
    }
    double prev [8];
    for (size_t k = 0; k < m; k++)
        prev [k] = before? before [k]: NAN;
    for (int64_t b = s_bucket (from, step); b <= to; b += step) {
        double value [8];
        int where [8];              //  0 none, 1 history, 2 forecast
        for (size_t k = 0; k < m; k++) {
            double v [4096];
            size_t n = 0;
            bool hist = false;
            for (int l = 0; l < 2; l++) {
                const ts_points_t *pts = l? raw->forecast: raw->history;
                for (size_t i = 0; i < pts->n; i++) {
                    int64_t t = pts->time_ms [i];
                    if (t < from || t > to || t < b || t >= b + step
                    ||  strcmp (ts_points_measure (pts, i), names [k]))
                        continue;
                    if (l && has_base && t <= base)
                        continue;
                    v [n++] = pts->value [i];
                    hist |= !l;
                }
            }
            if (n) {
                value [k] = s_agg (agg, v, n);
                where [k] = hist? 1: 2;
            }
            else {
                value [k] = fill == TS_FILL_PREVIOUS? prev [k]: NAN;
                where [k] = fill == TS_FILL_NONE? 0
                          : has_base && b <= base? 1: 2;
            }
            prev [k] = value [k];
        }
        for (size_t k = 0; k < m; k++)
            if (where [k])
                assert_int_equal (ts_points_append (where [k] == 1? eh: ef,
                                                    b, names [k], value [k]),
                                  0);
    }
}

static void
s_assert_points (const ts_points_t *got, const ts_points_t *want)
{
    assert_int_equal (got->n, want->n);
    for (size_t i = 0; i < got->n; i++) {
        assert_int_equal (got->time_ms [i], want->time_ms [i]);
        assert_string_equal (ts_points_measure (got, i),
                             ts_points_measure (want, i));
        if (isnan (want->value [i]))
            assert_true (isnan (got->value [i]));
        else
            assert_true (fabs (got->value [i] - want->value [i]) < 1e-9);
    }
}

//  History of "x" at 0, 3, 6, ... 297 (value i % 7 - 2), "y" at every
//  fifth of those times; forecast of both from 290 to 400 by 4.
static void
s_raw_new (s_raw_t *raw)
{
    raw->history = ts_points_new ();
    raw->forecast = ts_points_new ();
    for (int64_t i = 0; i < 100; i++) {
        ts_points_append (raw->history, i * 3, "x", (double) (i % 7 - 2));
        if (i % 5 == 0)
            ts_points_append (raw->history, i * 3, "y", (double) i);
    }
    for (int64_t t = 290; t <= 400; t += 4) {
        ts_points_append (raw->forecast, t, "x", t / 10.0);
        ts_points_append (raw->forecast, t, "y", -t / 10.0);
    }
}

//  Registers "a" and stores the series of s_raw_new.
static void
s_given (fixture_t *self, s_raw_t *raw)
{
    s_register (self, "a");
    s_raw_new (raw);
    s_raw_put (self, raw);
}

static void
s_raw_destroy (s_raw_t *raw)
{
    ts_points_destroy (&raw->history);
    ts_points_destroy (&raw->forecast);
}

//  Asks for id a over [from, to] with step, agg, fill and the measures.
static void
s_ask (fixture_t *self, int64_t from, int64_t to, int64_t step, ts_agg_t agg,
       ts_fill_mode_t fill, const char *const *names, size_t m)
{
    s_query (self, "a", from, to);
    self->req->step_ms = step;
    self->req->agg = agg;
    self->req->fill = fill;
    for (size_t k = 0; k < m; k++)
        assert_int_equal (ts_query_add_measure (self->req, names [k],
                                                strlen (names [k]), NULL), 0);
}

static void
query_aggregates_match_the_raw_points (void **state)
{
    fixture_t *self = *state;
    s_raw_t raw;
    s_given (self, &raw);
    const char *both [] = { "x", "y" };
    //  Ranges: on bucket edges, inside buckets, the straddling bucket
    //  (history ends at 297, forecast goes on from 298 in the bucket of
    //  step 25 starting at 275), before any point.
    const struct { int64_t from, to, step; } ranges [] = {
        { 0, 299, 100 }, { 7, 281, 25 }, { 250, 400, 25 }, { 290, 330, 7 },
        { -40, 20, 9 }, { 150, 380, 60 },
    };
    int compared = 0, refused = 0;
    for (size_t r = 0; r < sizeof ranges / sizeof ranges [0]; r++)
        for (int agg = TS_AGG_AVG; agg < TS_AGG_COUNT_; agg++)
            for (int fill = TS_FILL_NONE; fill <= TS_FILL_NULL; fill++) {
                int64_t from = ranges [r].from, to = ranges [r].to;
                if (fill && (to - from) / ranges [r].step > 10)
                    continue;           //  max_points 20, two measures
                s_ask (self, from, to, ranges [r].step, agg, fill, both, 2);
                int status = ts_api_handle (self->api, self->req,
                                            self->reply);
                ts_points_t *eh = ts_points_new (), *ef = ts_points_new ();
                s_expect (&raw, both, 2, from, to, ranges [r].step, agg, fill,
                          NULL, eh, ef);
                if (eh->n + ef->n > 20) {
                    assert_int_equal (status, 413);
                    refused++;
                    ts_points_destroy (&eh);
                    ts_points_destroy (&ef);
                    continue;
                }
                if (status != 200)
                    fail_msg ("range %zu agg %d fill %d: %d %s", r, agg, fill,
                              status, self->reply->detail);
                assert_int_equal (self->reply->step_ms, ranges [r].step);
                assert_int_equal (self->reply->agg, agg);
                s_assert_points (self->reply->series.history, eh);
                s_assert_points (self->reply->series.forecast, ef);
                compared++;
                ts_points_destroy (&eh);
                ts_points_destroy (&ef);
            }
    assert_true (compared >= 50);
    assert_true (refused >= 1);
    s_raw_destroy (&raw);
}

static void
query_fill_previous_reads_the_value_from_before_the_range (void **state)
{
    fixture_t *self = *state;
    s_register (self, "a");
    s_raw_t raw = { ts_points_new (), ts_points_new () };
    ts_points_append (raw.history, 5, "x", 42);
    ts_points_append (raw.history, 1000, "x", 7);
    ts_points_append (raw.history, 1290, "x", 9);
    ts_points_append (raw.forecast, 1700, "x", 1.5);
    s_raw_put (self, &raw);
    const char *x [] = { "x" };
    double before = 42;
    s_ask (self, 900, 1900, 100, TS_AGG_LAST, TS_FILL_PREVIOUS, x, 1);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    ts_points_t *eh = ts_points_new (), *ef = ts_points_new ();
    s_expect (&raw, x, 1, 900, 1900, 100, TS_AGG_LAST, TS_FILL_PREVIOUS,
              &before, eh, ef);
    s_assert_points (self->reply->series.history, eh);
    s_assert_points (self->reply->series.forecast, ef);
    assert_true (self->reply->series.history->value [0] == 42);
    assert_int_equal (self->reply->series.history->n, 4);  //  900..1200
    ts_points_destroy (&eh);
    ts_points_destroy (&ef);
    s_raw_destroy (&raw);
}

static void
query_max_points_picks_a_nice_step (void **state)
{
    fixture_t *self = *state;
    s_raw_t raw;
    s_given (self, &raw);
    s_query (self, "a", 0, 299);
    self->req->max_points = 6;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->step_ms, 50);     //  20 would make 15
    assert_int_equal (self->reply->agg, TS_AGG_AVG);
    assert_int_equal (ts_query_auto_step (0, 10, 0, 86400000 - 1),
                      3 * 3600000);
    assert_int_equal (ts_query_auto_step (3600000, 1000, 0, 60000), 3600000);
    s_raw_destroy (&raw);
}

//  Pages through a query with limit, checking each page is not empty,
//  and returns every point of all pages in got.
static void
s_pages (fixture_t *self, uint32_t limit, ts_points_t *got)
{
    char next [TS_NAME_MAX + 1] = "";
    int pages = 0;
    do {
        ts_msg_t *req = self->req;
        int64_t step = req->step_ms;
        ts_agg_t agg = req->agg;
        ts_fill_mode_t fill = req->fill;
        bool named = req->measures->n == 2;
        s_query (self, "a", -50, 500);
        req->step_ms = step;
        req->agg = agg;
        req->fill = fill;
        if (named) {
            ts_query_add_measure (req, "x", 1, NULL);
            ts_query_add_measure (req, "y", 1, NULL);
        }
        req->limit = limit;
        ts_strlcpy (req->next, next, sizeof req->next);
        assert_int_equal (ts_api_handle (self->api, req, self->reply), 200);
        size_t n = self->reply->series.history->n
                 + self->reply->series.forecast->n;
        if (n == 0 || n > limit)
            fail_msg ("page %d of %u (step %lld agg %d fill %d): %zu points,"
                      " token '%s'", pages, (unsigned) limit,
                      (long long) step, agg, fill, n, next);
        for (int l = 0; l < 2; l++) {
            ts_points_t *list = l? self->reply->series.forecast
                                 : self->reply->series.history;
            for (size_t i = 0; i < list->n; i++)
                ts_points_append_from (got, list, i);
        }
        ts_strlcpy (next, self->reply->next, sizeof next);
        assert_true (++pages < 1000);
    } while (next [0]);
}

static void
query_pages_return_every_point_once (void **state)
{
    fixture_t *self = *state;
    s_raw_t raw;
    s_given (self, &raw);
    //  The whole answer, raw then aggregated with each fill (previous
    //  aggregates the range again for each page, the others start at the
    //  token's bucket), in pages of each size.
    //  The last: measures named, so that a page of fill=null starts at
    //  its token's bucket.
    const ts_agg_t aggs [] = { TS_AGG_NONE, TS_AGG_SUM, TS_AGG_AVG,
                               TS_AGG_COUNT, TS_AGG_MIN };
    const ts_fill_mode_t fills [] = { TS_FILL_NONE, TS_FILL_PREVIOUS,
                                      TS_FILL_NONE, TS_FILL_NULL,
                                      TS_FILL_NULL };
    for (int aggregated = 0; aggregated < 5; aggregated++)
        for (uint32_t limit = 1; limit <= 20; limit += 3) {
            ts_points_t *all = ts_points_new (), *got = ts_points_new ();
            const char *both [] = { "x", "y" };
            ts_points_t *eh = ts_points_new (), *ef = ts_points_new ();
            if (aggregated)
                s_expect (&raw, both, 2, -50, 500, 10, aggs [aggregated],
                          fills [aggregated], NULL, eh, ef);
            else {
                int64_t base = 297;
                for (size_t i = 0; i < raw.history->n; i++)
                    ts_points_append_from (eh, raw.history, i);
                for (size_t i = 0; i < raw.forecast->n; i++)
                    if (raw.forecast->time_ms [i] > base)
                        ts_points_append_from (ef, raw.forecast, i);
            }
            for (size_t i = 0; i < eh->n; i++)
                ts_points_append_from (all, eh, i);
            for (size_t i = 0; i < ef->n; i++)
                ts_points_append_from (all, ef, i);
            ts_msg_reset (self->req, TS_OP_QUERY);
            self->req->step_ms = aggregated? 10: 0;
            self->req->agg = aggs [aggregated];
            self->req->fill = fills [aggregated];
            if (aggregated == 4) {
                ts_query_add_measure (self->req, "x", 1, NULL);
                ts_query_add_measure (self->req, "y", 1, NULL);
            }
            s_pages (self, limit, got);
            s_assert_points (got, all);
            ts_points_destroy (&all);
            ts_points_destroy (&got);
            ts_points_destroy (&eh);
            ts_points_destroy (&ef);
        }
    s_raw_destroy (&raw);
}

static void
query_paging_is_asked_for_else_413 (void **state)
{
    fixture_t *self = *state;
    s_raw_t raw;
    s_given (self, &raw);
    s_query (self, "a", 0, 400);
    self->req->step_ms = 1;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 413);
    assert_non_null (strstr (self->reply->detail, "page with limit"));
    s_query (self, "a", 0, 400);
    self->req->step_ms = 1;
    self->req->limit = 1000;        //  over max_points: pages of 20
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->series.history->n, 20);
    assert_true (self->reply->next [0]);
    //  A fill over the whole int64 range by the millisecond: refused.
    const char *x [] = { "x" };
    s_ask (self, INT64_MIN, INT64_MAX, 1, TS_AGG_AVG, TS_FILL_NULL, x, 1);
    self->req->limit = 10;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 413);
    assert_non_null (strstr (self->reply->detail, "fill=null"));
    s_raw_destroy (&raw);
}

static void
query_refuses_a_token_of_another_query (void **state)
{
    fixture_t *self = *state;
    s_raw_t raw;
    s_given (self, &raw);
    s_query (self, "a", 0, 400);
    self->req->limit = 5;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    char next [TS_NAME_MAX + 1];
    ts_strlcpy (next, self->reply->next, sizeof next);
    //  Another step, another range, a made-up token.
    s_query (self, "a", 0, 400);
    self->req->step_ms = 10;
    ts_strlcpy (self->req->next, next, sizeof self->req->next);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_non_null (strstr (self->reply->detail, "another query"));
    s_query (self, "a", 0, 401);
    ts_strlcpy (self->req->next, next, sizeof self->req->next);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    s_query (self, "a", 0, 400);
    ts_strlcpy (self->req->next, "q1.zz", sizeof self->req->next);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 400);
    assert_non_null (strstr (self->reply->detail, "not a page token"));
    //  The same query without from and to: the token's range.
    ts_msg_reset (self->req, TS_OP_QUERY);
    ts_strlcpy (self->req->id, "a", sizeof self->req->id);
    ts_strlcpy (self->req->next, next, sizeof self->req->next);
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 200);
    assert_int_equal (self->reply->to_ms, 400);
    s_raw_destroy (&raw);
}

static void
query_with_options_of_an_unknown_id_is_404 (void **state)
{
    fixture_t *self = *state;
    s_query (self, "nobody", 0, 400);
    self->req->step_ms = 10;
    assert_int_equal (ts_api_handle (self->api, self->req, self->reply), 404);
}

//  The answer of the query in self->req through ts_api_query (msgpack,
//  the answer cache on), decoded into self->reply; and the cache's hits.
static uint64_t
s_cached (fixture_t *self)
{
    char *data = NULL;
    size_t size = 0;
    assert_int_equal (ts_api_query (self->api, self->req, 'm', ts_msg_encode,
                                    self->reply, &data, &size), 200);
    assert_int_equal (ts_msg_decode (self->reply, data, size, 1 << 24, NULL),
                      0);
    free (data);
    ts_cache_stats_t stats;
    ts_api_cache_stats (self->api, &stats);
    return stats.hits;
}

static void
query_options_are_part_of_the_cache_key (void **state)
{
    fixture_t *self = *state;
    s_raw_t raw;
    s_given (self, &raw);
    const char *x [] = { "x" }, *both [] = { "x", "y" };
    s_ask (self, 0, 299, 100, TS_AGG_SUM, TS_FILL_NONE, x, 1);
    uint64_t hits = s_cached (self);
    s_ask (self, 0, 299, 100, TS_AGG_SUM, TS_FILL_NONE, x, 1);
    assert_int_equal (s_cached (self), ++hits);         //  the same: a hit
    //  Each option changed: a miss, and its own answer.
    s_ask (self, 0, 299, 50, TS_AGG_SUM, TS_FILL_NONE, x, 1);
    assert_int_equal (s_cached (self), hits);
    assert_int_equal (self->reply->step_ms, 50);
    s_ask (self, 0, 299, 100, TS_AGG_MAX, TS_FILL_NONE, x, 1);
    assert_int_equal (s_cached (self), hits);
    assert_int_equal (self->reply->agg, TS_AGG_MAX);
    s_ask (self, 0, 299, 100, TS_AGG_SUM, TS_FILL_NULL, x, 1);
    assert_int_equal (s_cached (self), hits);
    s_ask (self, 0, 299, 100, TS_AGG_SUM, TS_FILL_NONE, both, 2);
    assert_int_equal (s_cached (self), hits);
    assert_int_equal (self->reply->series.history->n, 6);
    s_ask (self, 0, 299, 100, TS_AGG_SUM, TS_FILL_NONE, x, 1);
    self->req->limit = 1;
    assert_int_equal (s_cached (self), hits);
    assert_int_equal (self->reply->series.history->n, 1);
    s_ask (self, 0, 299, 100, TS_AGG_SUM, TS_FILL_NONE, x, 1);
    self->req->max_points = 2;
    assert_int_equal (s_cached (self), hits);
    assert_int_equal (self->reply->step_ms, 200);
    //  A relative range is never kept.
    for (int i = 0; i < 2; i++) {
        s_query (self, "a", -1000, 0);
        self->req->from_rel = self->req->to_rel = true;
        assert_int_equal (s_cached (self), hits);
    }
    s_raw_destroy (&raw);
}

int
main (int argc, char *argv [])
{
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    ts_log_set_level (TS_LOG_ERROR);
    const struct CMUnitTest tests [] = {
#define T(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        T (query_aggregates_match_the_raw_points),
        T (query_fill_previous_reads_the_value_from_before_the_range),
        T (query_max_points_picks_a_nice_step),
        T (query_pages_return_every_point_once),
        T (query_paging_is_asked_for_else_413),
        T (query_refuses_a_token_of_another_query),
        T (query_with_options_of_an_unknown_id_is_404),
        T (query_options_are_part_of_the_cache_key),
#undef T
    };
    return cmocka_run_group_tests_name ("ts_query_run", tests, NULL, NULL);
}
