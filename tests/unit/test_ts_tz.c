/*  test_ts_tz - time zones read from the tz database without the
    process's TZ (common/ts_tz.c), and the durations and time bounds of
    config (common/ts_duration.c): offsets across summer time in both
    hemispheres, the POSIX rule past a file's last transition, local
    times that occur twice or never, fixed offsets, names that are not
    zones (no path outside the tz directory), a TZDIR without the zone,
    threads sharing the cache. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ts_duration.h"
#include "ts_tz.h"

#define H 3600

static const ts_tz_t *
s_zone (const char *name)
{
    char err [TS_ERRLEN] = "";
    const ts_tz_t *tz = ts_tz_get (name, strlen (name), err);
    if (!tz)
        fail_msg ("%s: %s", name, err);
    return tz;
}

static void
tz_gives_berlin_offsets_by_season (void **state)
{
    const ts_tz_t *tz = s_zone ("Europe/Berlin");
    assert_string_equal (ts_tz_name (tz), "Europe/Berlin");
    assert_int_equal (ts_tz_offset (tz, 1732406400), H);         //  Nov 2024
    assert_int_equal (ts_tz_offset (tz, 1719835200), 2 * H);     //  Jul 2024
    //  2024-03-31T01:00Z the clocks go 02:00 -> 03:00
    assert_int_equal (ts_tz_offset (tz, 1711846800 - 1), H);
    assert_int_equal (ts_tz_offset (tz, 1711846800), 2 * H);
    //  Past 2037, the rule of the file's footer
    assert_int_equal (ts_tz_offset (tz, 3802593600), 2 * H);     //  Jul 2090
    assert_int_equal (ts_tz_offset (tz, 3815812800), H);         //  Dec 2090
    //  Before the first transition: the zone's local mean time
    assert_int_equal (ts_tz_offset (tz, -5000000000LL), 3208);
}

static void
tz_gives_southern_summer_time_past_the_transitions (void **state)
{
    const ts_tz_t *tz = s_zone ("Australia/Sydney");
    assert_int_equal (ts_tz_offset (tz, 1704067200), 11 * H);    //  Jan 2024
    assert_int_equal (ts_tz_offset (tz, 1719835200), 10 * H);    //  Jul 2024
    assert_int_equal (ts_tz_offset (tz, 4102444800), 11 * H);    //  Jan 2100
    assert_int_equal (ts_tz_offset (tz, 4118083200), 10 * H);    //  Jul 2100
}

static void
tz_converts_local_times_in_gaps_and_folds (void **state)
{
    const ts_tz_t *tz = s_zone ("Europe/Berlin");
    const int64_t mar31 = 1711843200, oct27 = 1729987200;
    assert_int_equal (ts_tz_to_utc (tz, mar31 + 1 * H), mar31);
    assert_int_equal (ts_tz_to_utc (tz, mar31 + 3 * H), mar31 + H);
    //  02:30 never happens: read with CET, the offset before the gap
    assert_int_equal (ts_tz_to_utc (tz, mar31 + 2 * H + 1800),
                      mar31 + H + 1800);
    //  02:30 happens twice: the first, CEST
    assert_int_equal (ts_tz_to_utc (tz, oct27 + 2 * H + 1800), oct27 + 1800);
    assert_int_equal (ts_tz_to_utc (tz, oct27 + 3 * H), oct27 + 2 * H);
}

static void
tz_reads_fixed_offsets_and_utc (void **state)
{
    const char *names [] = { "UTC", "", "Z", "+01:00", "-0530", "+05",
                             "UTC+02:00", "GMT-03" };
    const int32_t offsets [] = { 0, 0, 0, H, -(5 * H + 1800), 5 * H,
                                 2 * H, -3 * H };
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++) {
        const ts_tz_t *tz = s_zone (names [i]);
        assert_int_equal (ts_tz_offset (tz, 1732406400), offsets [i]);
        assert_int_equal (ts_tz_to_utc (tz, 1732406400),
                          1732406400 - offsets [i]);
    }
    assert_ptr_equal (s_zone ("+01:00"), s_zone ("+01:00"));
}

static void
tz_refuses_names_that_are_not_zones (void **state)
{
    const char *bad [] = { "../../etc/passwd", "/etc/localtime",
                           "Europe/../../x", "Europe//Berlin", "+25:00",
                           "+01:", "Europe/Berlin/", ".hidden", "a b" };
    char reason [TS_ERRLEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        if (ts_tz_check_name (bad [i], strlen (bad [i]), reason,
                              sizeof reason) == 0)
            fail_msg ("'%s' passed as a zone name", bad [i]);
        char err [TS_ERRLEN] = "";
        assert_null (ts_tz_get (bad [i], strlen (bad [i]), err));
        assert_non_null (strstr (err, "is not a time zone"));
    }
    char err [TS_ERRLEN] = "";
    assert_null (ts_tz_get ("Nowhere/Special", 15, err));
    assert_string_equal (err, "unknown time zone 'Nowhere/Special' (no such "
                         "file in /usr/share/zoneinfo)");
    //  A file that is not TZif
    assert_null (ts_tz_get ("leapseconds", 11, err));
    assert_non_null (strstr (err, "is not a tz database file"));
}

static void
tz_reads_the_zone_directory_of_tzdir (void **state)
{
    setenv ("TZDIR", "/nonexistent", 1);
    char err [TS_ERRLEN] = "";
    assert_null (ts_tz_get ("Asia/Tokyo", 10, err));
    assert_string_equal (err, "unknown time zone 'Asia/Tokyo' (no such file "
                         "in /nonexistent)");
    unsetenv ("TZDIR");
    assert_int_equal (ts_tz_offset (s_zone ("Asia/Tokyo"), 0), 9 * H);
}

static void *
s_worker (void *arg)
{
    const char *names [] = { "America/New_York", "Europe/Paris",
                             "Asia/Kolkata", "America/Sao_Paulo" };
    long bad = 0;
    for (int i = 0; i < 400; i++) {
        char err [TS_ERRLEN];
        const char *name = names [i % 4];
        const ts_tz_t *tz = ts_tz_get (name, strlen (name), err);
        bad += !tz || ts_tz_offset (tz, 1719835200) == 12345;
    }
    return (void *) bad;
}

static void
tz_cache_is_shared_by_threads (void **state)
{
    ts_tz_cache_clear ();
    pthread_t threads [4];
    for (int i = 0; i < 4; i++)
        assert_int_equal (pthread_create (&threads [i], NULL, s_worker,
                                          NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        pthread_join (threads [i], &bad);
        assert_null (bad);
    }
    assert_int_equal (ts_tz_offset (s_zone ("Asia/Kolkata"), 0),
                      5 * H + 1800);
    ts_tz_cache_clear ();
}

static void
duration_reads_units (void **state)
{
    int64_t ms;
    assert_int_equal (ts_duration_parse ("30s", &ms, NULL), 0);
    assert_int_equal (ms, 30000);
    assert_int_equal (ts_duration_parse ("90m", &ms, NULL), 0);
    assert_int_equal (ms, 5400000);
    assert_int_equal (ts_duration_parse ("3650d", &ms, NULL), 0);
    assert_int_equal (ms, 3650LL * 86400000);
    assert_int_equal (ts_duration_parse ("2w", &ms, NULL), 0);
    assert_int_equal (ms, 14LL * 86400000);
    assert_int_equal (ts_duration_parse ("100y", &ms, NULL), 0);
    assert_int_equal (ms, 36500LL * 86400000);
    const char *bad [] = { "", "d", "10", "10x", "-1d", "1.5d", "1 d",
                           "999y" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (ts_duration_parse (bad [i], &ms, NULL),
                          TS_EINVAL);
}

static void
bound_reads_relative_and_absolute_forms (void **state)
{
    ts_time_bound_t b;
    char reason [TS_ERRLEN] = "";
    assert_int_equal (ts_time_bound_parse ("off", 1, &b, reason, 256), 0);
    assert_false (b.set);
    assert_int_equal (ts_time_bound_parse ("", -1, &b, reason, 256), 0);
    assert_false (b.set);
    assert_int_equal (ts_time_bound_parse ("365d", 1, &b, reason, 256), 0);
    assert_string_equal (b.text, "now+365d");
    assert_int_equal (ts_time_bound_at (&b, 1000), 1000 + 365 * 86400000LL);
    assert_int_equal (ts_time_bound_parse ("3650d", -1, &b, reason, 256), 0);
    assert_string_equal (b.text, "now-3650d");
    assert_int_equal (ts_time_bound_at (&b, 0), -3650 * 86400000LL);
    assert_int_equal (ts_time_bound_parse ("now+1h", -1, &b, reason, 256), 0);
    assert_int_equal (ts_time_bound_at (&b, 0), 3600000);
    assert_int_equal (ts_time_bound_parse ("now", 1, &b, reason, 256), 0);
    assert_int_equal (ts_time_bound_at (&b, 77), 77);
    assert_int_equal (ts_time_bound_parse ("2024-11-24", 1, &b, reason, 256),
                      0);
    assert_false (b.relative);
    assert_int_equal (ts_time_bound_at (&b, 5), 1732406400000LL);
    assert_int_equal (ts_time_bound_parse ("2024-11-24T01:00:00+01:00", 1,
                                           &b, reason, 256), 0);
    assert_int_equal (b.ms, 1732406400000LL);
    const char *bad [] = { "nowish", "now+", "soon", "2024-13-01", "1e3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_int_equal (ts_time_bound_parse (bad [i], 1, &b, reason, 256),
                          TS_EINVAL);
        assert_non_null (strstr (reason, "must be off"));
    }
}

int
main (int argc, char *argv [])
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (tz_gives_berlin_offsets_by_season),
        cmocka_unit_test (tz_gives_southern_summer_time_past_the_transitions),
        cmocka_unit_test (tz_converts_local_times_in_gaps_and_folds),
        cmocka_unit_test (tz_reads_fixed_offsets_and_utc),
        cmocka_unit_test (tz_refuses_names_that_are_not_zones),
        cmocka_unit_test (tz_reads_the_zone_directory_of_tzdir),
        cmocka_unit_test (tz_cache_is_shared_by_threads),
        cmocka_unit_test (duration_reads_units),
        cmocka_unit_test (bound_reads_relative_and_absolute_forms),
    };
    if (argc > 1)
        cmocka_set_test_filter (argv [1]);
    int rc = cmocka_run_group_tests_name ("ts_tz", tests, NULL, NULL);
    ts_tz_cache_clear ();
    return rc;
}
