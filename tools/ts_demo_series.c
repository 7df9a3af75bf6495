/*  ts_demo_series - the demo upstream's series and its /rows and
    /columns documents. See ts_demo_series.h; the series and the value
    formula are documented at the top of tools/tscache-demo-upstream.c. */

#include "ts_demo_series.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_OVERSIZED     (20 * 1024 * 1024)  //  bytes of the oversized answer
#define S_PI            3.14159265358979323846

static pthread_once_t s_oversized_once = PTHREAD_ONCE_INIT;
static char *s_oversized = NULL;           //  the 20 MiB answer, built once
static size_t s_oversized_len = 0;

static uint64_t
s_fnv1a (const char *s, uint64_t hash)
{
    for (; *s; s++) {
        hash ^= (unsigned char) *s;
        hash *= 1099511628211ULL;
    }
    return hash;
}

#define S_FNV_BASIS 14695981039346656037ULL

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0))? q - 1: q;
}

//  The value of (id, measure, time), as documented at the top of
//  tools/tscache-demo-upstream.c.
double
ts_demo_series_value (const char *id, const char *measure,
                      int64_t time_ms)
{
    uint64_t h = s_fnv1a (measure, s_fnv1a ("/", s_fnv1a (id, S_FNV_BASIS)));
    double phase = 2 * S_PI * (double) (h % 1000) / 1000;
    double offset = (double) (s_fnv1a (id, S_FNV_BASIS) % 100) / 10;
    int64_t slot = s_floor_div (time_ms, TS_DEMO_STEP_MS) % TS_DEMO_SLOTS;
    if (slot < 0)
        slot += TS_DEMO_SLOTS;
    double v = 20 + 10 * sin (2 * S_PI * (double) slot / TS_DEMO_SLOTS + phase) + offset;
    return round (v * 10000) / 10000;
}

//  Fills times [] (room for (days + 1) * TS_DEMO_SLOTS) with the served times
//  in [from, to], ascending: days of past, one of future. Returns how
//  many.
size_t
ts_demo_series_times (int64_t now_ms, int64_t days, int64_t from_ms,
                      int64_t to_ms, int64_t *times)
{
    int64_t base = s_floor_div (now_ms, TS_DEMO_STEP_MS) * TS_DEMO_STEP_MS;
    size_t n = 0;
    for (int64_t k = -TS_DEMO_SLOTS * days; k <= TS_DEMO_SLOTS; k++) {
        int64_t t = base + (int64_t) k * TS_DEMO_STEP_MS;
        if (k != 0 && t >= from_ms && t <= to_ms)
            times [n++] = t;
    }
    return n;
}

static void
s_iso (int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t) s_floor_div (ms, 1000);
    struct tm tm;
    if (!gmtime_r (&secs, &tm) || !strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf (buf, size, "1970-01-01T00:00:00Z");
}

//  Writes the document for id into a heap buffer (caller frees).
char *
ts_demo_series_document (bool columns, const char *id,
                         const int64_t *times, size_t n, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream (&buf, len);
    if (!f)
        return NULL;
    if (!columns) {
        fputc ('[', f);
        for (size_t i = 0; i < n; i++)
            fprintf (f, "%s{\"time\":%lld,\"value\":%.4f,\"humidity\":%.4f}",
                     i? ",": "", (long long) times [i],
                     ts_demo_series_value (id, "value", times [i]),
                     ts_demo_series_value (id, "humidity", times [i]));
        fputc (']', f);
    }
    else {
        fputs ("{\"latitude\":0,\"longitude\":0,\"utc_offset_seconds\":0,"
               "\"timezone\":\"GMT\",\"hourly_units\":{\"time\":\"iso8601\","
               "\"value\":\"unit\",\"humidity\":\"%\"},\"hourly\":{\"time\":[", f);
        char iso [64];
        for (size_t i = 0; i < n; i++) {
            s_iso (times [i], iso, sizeof (iso));
            fprintf (f, "%s\"%s\"", i? ",": "", iso);
        }
        const char *measures [] = { "value", "humidity" };
        for (size_t m = 0; m < 2; m++) {
            fprintf (f, "],\"%s\":[", measures [m]);
            for (size_t i = 0; i < n; i++)
                fprintf (f, "%s%.4f", i? ",": "",
                         ts_demo_series_value (id, measures [m], times [i]));
        }
        fputs ("]}}", f);
    }
    if (fclose (f) != 0) {
        free (buf);
        return NULL;
    }
    return buf;
}

static void
s_build_oversized (void)
{
    size_t len = 0;
    FILE *f = open_memstream (&s_oversized, &len);
    if (!f)
        return;
    //  Counts what it writes (len is only brought up to date by fflush).
    size_t written = (size_t) (fputc ('[', f) != EOF);
    for (int64_t i = 0; written < S_OVERSIZED; i++) {
        int k = fprintf (f, "%s{\"time\":%lld,\"value\":1.0000}", i? ",": "",
                         (long long) (1732406400000LL + i * TS_DEMO_STEP_MS));
        if (k < 0)
            break;
        written += (size_t) k;
    }
    fputc (']', f);
    if (fclose (f) != 0) {
        free (s_oversized);
        s_oversized = NULL;
        return;
    }
    s_oversized_len = len;
}

const char *
ts_demo_series_oversized (size_t *len)
{
    pthread_once (&s_oversized_once, s_build_oversized);
    *len = s_oversized_len;
    return s_oversized;
}

void
ts_demo_series_free (void)
{
    free (s_oversized);
    s_oversized = NULL;
    s_oversized_len = 0;
}
