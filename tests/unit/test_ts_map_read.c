/*  test_ts_map_read - reading one value of a document
    (common/ingest/ts_map_read.c): times in epoch seconds, milliseconds
    and ISO 8601 (as ts_time_parse_iso reads them), numbers exactly as
    strtod reads them, numeric strings and nulls, and the faults of a
    value (a time of the wrong type, missing or out of range, a measure
    that is an object or a string that is not a number, a number too
    large), each named where it is. Helpers in ts_map_fixture.h. */

#include "ts_map_fixture.h"

#include <math.h>

//  ---------------------------------------------------------------------
//  Values and times

static void
map_reads_epoch_seconds_including_fractions (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_seconds,
        "[{\"ts\": 1732406400, \"value\": 1},"
        " {\"ts\": 1732406400.25, \"value\": 2},"
        " {\"ts\": \"1732410000\", \"value\": 3}]");
    assert_int_equal (pts->n, 3);
    s_assert_point (pts, 0, NOV24, "value", 1.0);
    s_assert_point (pts, 1, NOV24 + 250, "value", 2.0);
    s_assert_point (pts, 2, NOV24 + HOUR, "value", 3.0);
    ts_points_destroy (&pts);
}

static void
map_rounds_fractional_epoch_milliseconds (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_default,
        "[{\"time\": 1732406400000.6, \"value\": 1},"
        " {\"time\": 1732406400000.4, \"value\": 2}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24 + 1, "value", 1.0);
    s_assert_point (pts, 1, NOV24, "value", 2.0);
    ts_points_destroy (&pts);
}

static void
map_accepts_numeric_strings (void **state)
{
    ts_points_t *pts = s_parse_ok (s_rows_default,
        "[{\"time\": \"1732406400000\", \"value\": \"1.25\"},"
        " {\"time\": 1732410000000, \"value\": \" -3e2 \"}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "value", 1.25);
    s_assert_point (pts, 1, NOV24 + HOUR, "value", -300.0);
    ts_points_destroy (&pts);
}

//  Values and times are read exactly as strtod and strtoll read them, on
//  the fast paths (short decimals, integers) and off them (exponents, 16+
//  digits, long times).
static void
map_reads_numbers_exactly_as_strtod (void **state)
{
    const char *tokens [] = {
        "0", "-0", "0.0", "-0.000", "1.5", "-2", "21.1234", "0.0012",
        "1.500", "123456789012345", "1234567890123456", "0.1", "0.3",
        "9007199254740993", "1e5", "-1.5E-3", "2.675", "1e-310",
        "0.000000000000000000001", "0.00000000000000000000001",
        "99999999999999.95", "3.14159265358979", "-7.000000000000001"
    };
    size_t n = sizeof tokens / sizeof tokens [0];
    //  Plus generated decimals of 0 to 8 places and 1 to 17 digits.
    char generated [2000][40];
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (size_t i = 0; i < 2000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int places = (int) (x % 9);
        unsigned long long digits = (x >> 8) % 100000000000000000ULL;
        digits >>= (x >> 3) % 40;
        //  The digits with a point before the last places of them, and
        //  leading zeros where there are fewer digits than that.
        char body [40];
        snprintf (body, sizeof body, "%0*llu", places + 1, digits);
        size_t whole = strlen (body) - (size_t) places;
        snprintf (generated [i], sizeof generated [i], "%s%.*s%s%s",
                  (x & 4)? "-": "", (int) whole, body, places? ".": "",
                  body + whole);
    }
    //  One document: each token as a value, and as a time where integer.
    size_t cap = 64 * (n + 2000) + 16;
    char *doc = malloc (cap);
    size_t used = 0;
    used += (size_t) snprintf (doc + used, cap - used, "[");
    for (size_t i = 0; i < n + 2000; i++) {
        const char *t = i < n? tokens [i]: generated [i - n];
        used += (size_t) snprintf (doc + used, cap - used,
                                   "%s{\"time\": %zu, \"value\": %s}",
                                   i? ",": "", 1000 + i, t);
    }
    snprintf (doc + used, cap - used, "]");
    ts_points_t *pts = s_parse_ok (s_rows_unbounded, doc);
    assert_int_equal (pts->n, n + 2000);
    for (size_t i = 0; i < n + 2000; i++) {
        const char *t = i < n? tokens [i]: generated [i - n];
        double want = strtod (t, NULL);
        if (memcmp (&want, &pts->value [i], sizeof want) != 0)
            fail_msg ("%s read as %.17g, strtod reads %.17g", t,
                      pts->value [i], want);
        assert_int_equal (pts->time_ms [i], 1000 + (int64_t) i);
    }
    ts_points_destroy (&pts);
    free (doc);

    //  Times: 18 digits take the digit loop, 19 strtoll; both exact.
    pts = s_parse_ok (s_rows_unbounded,
        "[{\"time\": -1732406400000, \"value\": 1},"
        " {\"time\": 0, \"value\": 2}]");
    assert_int_equal (pts->time_ms [0], -1732406400000LL);
    assert_int_equal (pts->time_ms [1], 0);
    ts_points_destroy (&pts);
}

//  A document of one row per token: as_time, the token is the time and
//  the value 1; else the time is 1000 + the row's index and the token
//  the value. The caller frees it.
static char *
s_rows_of_tokens (char (*tokens) [48], size_t n, bool as_time)
{
    size_t cap = 80 * n + 16;
    char *doc = malloc (cap);
    assert_non_null (doc);
    size_t used = (size_t) snprintf (doc, cap, "[");
    for (size_t i = 0; i < n; i++)
        if (as_time)
            used += (size_t) snprintf (doc + used, cap - used,
                                       "%s{\"time\": %s, \"value\": 1}",
                                       i? ",": "", tokens [i]);
        else
            used += (size_t) snprintf (doc + used, cap - used,
                                       "%s{\"time\": %zu, \"value\": %s}",
                                       i? ",": "", 1000 + i, tokens [i]);
    snprintf (doc + used, cap - used, "]");
    return doc;
}

//  One more pseudo-random number (xorshift64).
static uint64_t
s_next (uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

//  The fast decimal path takes up to 19 digits worth at most 2^53 and
//  leaves the rest to strtod: either way a value is strtod's, bit for
//  bit, around that bound too (16 to 20 digits, leading zeros, -0).
static void
map_reads_long_decimals_exactly_as_strtod (void **state)
{
    static const char *const fixed [] = {
        "9007199254740992", "9007199254740993", "9007199254740991",
        "-9007199254740993", "900719925474099.2", "900719925474099.3",
        "90071992547409.93", "0.9007199254740993", "9.007199254740993",
        "0.0000000000000000001", "0.00000000000000000001",
        "0.0000000000000000000001", "0.00000000000000000000001",
        "1234567890123456789", "12345678901234567890", "-0.0000000000",
        "12345678", "-12345678", "1234567.8", "12345678.25",
        "9999999999999999999", "0.9999999999999999999",
        "18446744073709551615", "18446744073709551616", "1e22", "1e23",
        "123456781234e-5", "-0", "0.00000000"
    };
    size_t nfixed = sizeof fixed / sizeof fixed [0];
    size_t n = nfixed + 3000;
    char (*tokens) [48] = calloc (n, sizeof *tokens);
    assert_non_null (tokens);
    for (size_t i = 0; i < nfixed; i++)
        snprintf (tokens [i], sizeof tokens [i], "%s", fixed [i]);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = nfixed; i < n; i++) {
        //  14 to 20 digits, half of them an integer below 2^53 + 2^11
        int ndigits = 14 + (int) (s_next (&x) % 7);
        char body [32];
        if (s_next (&x) & 1)
            snprintf (body, sizeof body, "%0*llu", ndigits,
                      (unsigned long long) (s_next (&x)
                                            % ((1ULL << 53) + 2048)));
        else {
            for (int d = 0; d < ndigits; d++)
                body [d] = (char) ('0' + s_next (&x) % 10);
            body [ndigits] = 0;
        }
        //  A point after some of them (none after all of them), the
        //  whole part without the leading zeros JSON forbids
        int point = (int) (s_next (&x) % (unsigned) (ndigits + 1));
        int zeros = 0;
        while (zeros < point && body [zeros] == '0')
            zeros++;
        snprintf (tokens [i], sizeof tokens [i], "%s%s%.*s%s%s",
                  (s_next (&x) & 1)? "-": "", zeros == point? "0": "",
                  point - zeros, body + zeros, point < ndigits? ".": "",
                  body + point);
    }
    char *doc = s_rows_of_tokens (tokens, n, false);
    ts_points_t *pts = s_parse_ok (s_rows_unbounded, doc);
    assert_int_equal (pts->n, n);
    for (size_t i = 0; i < n; i++) {
        double want = strtod (tokens [i], NULL);
        if (memcmp (&want, &pts->value [i], sizeof want) != 0)
            fail_msg ("%s read as %.17g, strtod reads %.17g", tokens [i],
                      pts->value [i], want);
    }
    ts_points_destroy (&pts);
    free (doc);
    free (tokens);
}

//  Integer times of 1 to 19 digits, either sign, are read exactly as
//  strtoll reads them (18 digits by the SWAR path, 19 by strtoll), in ms
//  and in s; times with a fraction or exponent after eight or more
//  digits leave that path and are rounded from strtod's double.
static void
map_reads_integer_times_exactly_as_strtoll (void **state)
{
    static const char *const s_seconds_unbounded =
        "upstream:\n"
        "  format:\n"
        "    time_unit: s\n"
        "    time_min: \"off\"\n"
        "    time_max: \"off\"\n";
    static const char *const fixed [] = {
        "0", "-0", "1", "-1", "12345678", "-12345678", "123456789",
        "1234567812345678", "123456781234567812", "999999999999999999",
        "-999999999999999999", "8999999999999999999", "1000000000000000000",
        "9000000000000000", "-9000000000000000", "12345678.5",
        "1234567812e2", "-123456781234.25E1", "12345678E+3", "1e15"
    };
    size_t nfixed = sizeof fixed / sizeof fixed [0];
    size_t n = nfixed + 2000;
    char (*tokens) [48] = calloc (n, sizeof *tokens);
    assert_non_null (tokens);
    for (int unit_s = 0; unit_s <= 1; unit_s++) {
        //  In s, 16 digits of 9 would be out of range: 15 at most
        size_t count = 0;
        for (size_t i = 0; i < nfixed; i++)
            if (!unit_s || strlen (fixed [i]) < 17)
                snprintf (tokens [count++], sizeof tokens [0], "%s",
                          fixed [i]);
        uint64_t x = 0x2545f4914f6cdd1dULL + (uint64_t) unit_s;
        for (size_t i = 0; i < 2000; i++) {
            int ndigits = 1 + (int) (s_next (&x) % (unit_s? 15: 18));
            char *t = tokens [count++];
            size_t at = 0;
            if (s_next (&x) & 1)
                t [at++] = '-';
            t [at++] = (char) ('1' + s_next (&x) % 9);
            for (int d = 1; d < ndigits; d++)
                t [at++] = (char) ('0' + s_next (&x) % 10);
            t [at] = 0;
        }
        char *doc = s_rows_of_tokens (tokens, count, true);
        ts_points_t *pts = s_parse_ok (unit_s? s_seconds_unbounded
                                             : s_rows_unbounded, doc);
        assert_int_equal (pts->n, count);
        for (size_t i = 0; i < count; i++) {
            int64_t want;
            if (strpbrk (tokens [i], ".eE"))
                want = llround (strtod (tokens [i], NULL)
                                * (unit_s? 1000: 1));
            else
                want = strtoll (tokens [i], NULL, 10) * (unit_s? 1000: 1);
            if (pts->time_ms [i] != want)
                fail_msg ("time %s read as %lld ms, want %lld", tokens [i],
                          (long long) pts->time_ms [i], (long long) want);
        }
        ts_points_destroy (&pts);
        free (doc);
    }
    free (tokens);
}

//  ISO times of the shapes a series repeats (YYYY-MM-DDTHH:MM, :SS or
//  not, Z or z or no zone: the spec's, UTC) and their near misses, the
//  date repeating over runs of rows as in a series: each read as
//  ts_time_parse_iso reads it, and each it refuses is a bad time, also
//  right after a good time of the same date.
static void
map_reads_iso_times_as_ts_time_parse_iso (void **state)
{
    static const char *const iso_rows =
        "upstream:\n"
        "  format:\n"
        "    time_unit: iso8601\n"
        "    time_min: \"off\"\n"
        "    time_max: \"off\"\n";
    static const char *const dates [] = {
        "2024-11-24", "2024-02-29", "2023-02-29", "2024-04-31", "2024-13-01",
        "2024-00-10", "1969-12-31", "0000-01-01", "9999-12-31", "2024-1x-01"
    };
    static const char *const tails [] = { "", "Z", "z", ":SS", ":SSZ", ":SSz" };
    size_t n = 3000;
    char (*good) [48] = calloc (n, sizeof *good);
    int64_t *want = calloc (n, sizeof *want);
    assert_non_null (good);
    assert_non_null (want);
    size_t ngood = 0, nbad = 0;
    char last_good [48] = "";
    uint64_t x = 0x853c49e6748fea9bULL;
    for (size_t i = 0; i < n; i++) {
        //  The date changes every few rows
        const char *date = dates [(i / 5 + s_next (&x) % 2 * (i % 7 == 0))
                                  % (sizeof dates / sizeof dates [0])];
        int hour = (int) (s_next (&x) % 26), minute = (int) (s_next (&x) % 62);
        int second = (int) (s_next (&x) % 62);
        const char *tail = tails [s_next (&x) % 6];
        char text [48];
        int at = snprintf (text, sizeof text, "%s%c%02d:%02d", date,
                           (s_next (&x) % 20)? 'T': 't', hour, minute);
        if (tail [0] == ':')
            at += snprintf (text + at, sizeof text - (size_t) at, ":%02d%s",
                            second, tail + 3);
        else
            snprintf (text + at, sizeof text - (size_t) at, "%s", tail);
        int64_t ms;
        if (ts_time_parse_iso (text, strlen (text), &ms) == 0) {
            snprintf (good [ngood], sizeof good [0], "%s", text);
            want [ngood++] = ms;
            snprintf (last_good, sizeof last_good, "%s", text);
            continue;
        }
        //  A bad one: alone, and after the last good one
        char doc [256], detail [128];
        snprintf (doc, sizeof doc, "[{\"time\": \"%s\", \"value\": 1}]", text);
        snprintf (detail, sizeof detail,
                  "document[0].time: bad ISO 8601 time '%s'", text);
        s_parse_fails (iso_rows, doc, detail);
        if (*last_good) {
            snprintf (doc, sizeof doc, "[{\"time\": \"%s\", \"value\": 1},"
                      " {\"time\": \"%s\", \"value\": 2}]", last_good, text);
            snprintf (detail, sizeof detail,
                      "document[1].time: bad ISO 8601 time '%s'", text);
            s_parse_fails (iso_rows, doc, detail);
        }
        nbad++;
    }
    assert_true (ngood > 500 && nbad > 500);
    size_t cap = 64 * ngood + 16;
    char *doc = malloc (cap);
    assert_non_null (doc);
    size_t used = (size_t) snprintf (doc, cap, "[");
    for (size_t i = 0; i < ngood; i++)
        used += (size_t) snprintf (doc + used, cap - used,
                                   "%s{\"time\": \"%s\", \"value\": 1}",
                                   i? ",": "", good [i]);
    snprintf (doc + used, cap - used, "]");
    ts_points_t *pts = s_parse_ok (iso_rows, doc);
    assert_int_equal (pts->n, ngood);
    for (size_t i = 0; i < ngood; i++)
        if (pts->time_ms [i] != want [i])
            fail_msg ("%s read as %lld ms, ts_time_parse_iso reads %lld",
                      good [i], (long long) pts->time_ms [i],
                      (long long) want [i]);
    ts_points_destroy (&pts);
    free (doc);
    free (want);
    free (good);
}

static void
map_skips_null_values (void **state)
{
    ts_points_t *pts = s_parse_ok (s_open_meteo,
        "{\"hourly\": {"
        "   \"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00\"],"
        "   \"temperature_2m\": [null, 2.8],"
        "   \"relative_humidity_2m\": [88, null]}}");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, NOV24, "humidity", 88.0);
    s_assert_point (pts, 1, NOV24 + HOUR, "temperature", 2.8);
    ts_points_destroy (&pts);

    pts = s_parse_ok (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": null},"
        " {\"time\": 1732410000000, \"value\": 7}]");
    assert_int_equal (pts->n, 1);
    s_assert_point (pts, 0, NOV24 + HOUR, "value", 7.0);
    ts_points_destroy (&pts);
}

static void
map_reads_numbers_as_strtod_does (void **state)
{
    const char *texts [] = {
        "0.1", "-0.0", "1.7976931348623157e308", "2.2250738585072014e-308",
        "4.9e-324", "123456789012345678901", "9007199254740993",
        "0.30000000000000004", "1e-400", "3.14159265358979323846264338"
    };
    for (size_t i = 0; i < sizeof (texts) / sizeof (texts [0]); i++) {
        char doc [256];
        snprintf (doc, sizeof (doc),
                  "[{\"time\": 1732406400000, \"value\": %s}]", texts [i]);
        ts_points_t *pts = s_parse_ok (s_rows_default, doc);
        assert_int_equal (pts->n, 1);
        assert_true (pts->value [0] == strtod (texts [i], NULL));
        ts_points_destroy (&pts);
    }
}

static void
map_reads_large_integer_times_exactly (void **state)
{
    //  Beyond 2^53: a double would round these
    ts_points_t *pts = s_parse_ok (s_rows_unbounded,
        "[{\"time\": 8999999999999999999, \"value\": 1},"
        " {\"time\": -9007199254740993, \"value\": 2}]");
    assert_int_equal (pts->n, 2);
    s_assert_point (pts, 0, 8999999999999999999LL, "value", 1.0);
    s_assert_point (pts, 1, -9007199254740993LL, "value", 2.0);
    ts_points_destroy (&pts);
}

//  ---------------------------------------------------------------------
//  Bad values

static void
map_rejects_time_of_wrong_type (void **state)
{
    s_parse_fails (s_rows_default,
        "[{\"time\": 1732406400000, \"value\": 1}, {\"time\": true, \"value\": 1}]",
        "document[1].time: expected an epoch number, got true");
    s_parse_fails (s_rows_default, "[{\"time\": \"yesterday\", \"value\": 1}]",
        "document[0].time: expected an epoch number, got string 'yesterday'");
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [1732406400], \"temperature_2m\": [1],"
        " \"relative_humidity_2m\": [2]}}",
        "hourly.time[0]: expected an ISO 8601 string, got integer");
}

static void
map_rejects_missing_or_null_time (void **state)
{
    s_parse_fails (s_rows_default, "[{\"value\": 1}]",
                   "document[0].time: missing");
    s_parse_fails (s_rows_default, "[{\"time\": null, \"value\": 1}]",
                   "document[0].time: time is null");
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\", null],"
        " \"temperature_2m\": [1, 2], \"relative_humidity_2m\": [3, 4]}}",
        "hourly.time[1]: time is null");
}

static void
map_rejects_bad_iso_time (void **state)
{
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\", \"2024-13-45T99:00\"],"
        " \"temperature_2m\": [1, 2], \"relative_humidity_2m\": [3, 4]}}",
        "hourly.time[1]: bad ISO 8601 time '2024-13-45T99:00'");
}

static void
map_rejects_object_as_value (void **state)
{
    s_parse_fails (s_open_meteo,
        "{\"hourly\": {\"time\": [\"2024-11-24T00:00\", \"2024-11-24T01:00\","
        " \"2024-11-24T02:00\", \"2024-11-24T03:00\"],"
        " \"temperature_2m\": [1, 2, 3, {\"c\": 4}],"
        " \"relative_humidity_2m\": [1, 2, 3, 4]}}",
        "hourly.temperature_2m[3]: expected a number, got object");
    s_parse_fails (s_rows_two,
        "[{\"time\": 1732406400000, \"value\": 1, \"hum\": [1]}]",
        "document[0].hum: expected a number, got array");
}

static void
map_rejects_strings_that_are_not_numbers (void **state)
{
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": \"n/a\"}]",
                   "document[0].value: expected a number, got string 'n/a'");
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": \"nan\"}]",
                   "expected a number");
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": \"1.5x\"}]",
                   "expected a number");
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": \"\"}]",
                   "expected a number");
}

static void
map_rejects_times_out_of_range (void **state)
{
    s_parse_fails (s_rows_seconds, "[{\"ts\": 1e300, \"value\": 1}]",
                   "document[0].ts: time out of range");
    s_parse_fails (s_rows_seconds, "[{\"ts\": 9000000000000000000, \"value\": 1}]",
                   "document[0].ts: time 9000000000000000000 out of range");
    s_parse_fails (s_rows_seconds, "[{\"ts\": 9000000000000001, \"value\": 1}]",
                   "document[0].ts: time 9000000000000001 out of range");
    s_parse_fails (s_rows_seconds, "[{\"ts\": -900000000000000001, \"value\": 1}]",
                   "document[0].ts: time -900000000000000001 out of range");
    s_parse_fails (s_rows_default, "[{\"time\": 9000000000000010000, \"value\": 1}]",
                   "document[0].time: time 9000000000000010000 out of range");
}

static void
map_rejects_huge_numbers (void **state)
{
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": 1e400}]",
                   "document[0].value: number 1e400 out of range");
    s_parse_fails (s_rows_default, "[{\"time\": 1732406400000, \"value\": -2E+999}]",
                   "document[0].value: number -2E+999 out of range");
    s_parse_fails (s_rows_default, "[{\"time\": 99999999999999999999, \"value\": 1}]",
                   "document[0].time: time 99999999999999999999 out of range");
    s_parse_fails (s_rows_default, "[{\"time\": -1e999, \"value\": 1}]",
                   "document[0].time: time out of range");
    char doc [512] = "[{\"time\": 1732406400000, \"value\": 1";
    size_t len = strlen (doc);
    memset (doc + len, '0', 200);
    snprintf (doc + len + 200, sizeof (doc) - len - 200, "}]");
    s_parse_fails (s_rows_default, doc, "document[0].value: number too long");
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (map_reads_epoch_seconds_including_fractions),
        cmocka_unit_test (map_rounds_fractional_epoch_milliseconds),
        cmocka_unit_test (map_accepts_numeric_strings),
        cmocka_unit_test (map_reads_numbers_exactly_as_strtod),
        cmocka_unit_test (map_reads_long_decimals_exactly_as_strtod),
        cmocka_unit_test (map_reads_integer_times_exactly_as_strtoll),
        cmocka_unit_test (map_reads_iso_times_as_ts_time_parse_iso),
        cmocka_unit_test (map_skips_null_values),
        cmocka_unit_test (map_rejects_time_of_wrong_type),
        cmocka_unit_test (map_rejects_missing_or_null_time),
        cmocka_unit_test (map_rejects_bad_iso_time),
        cmocka_unit_test (map_rejects_object_as_value),
        cmocka_unit_test (map_rejects_strings_that_are_not_numbers),
        cmocka_unit_test (map_rejects_times_out_of_range),
        cmocka_unit_test (map_reads_numbers_as_strtod_does),
        cmocka_unit_test (map_reads_large_integer_times_exactly),
        cmocka_unit_test (map_rejects_huge_numbers),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    return cmocka_run_group_tests_name ("ts_map_read", tests, NULL, NULL);
}
