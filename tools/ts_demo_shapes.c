/*  ts_demo_shapes - the demo upstream's /local and /positional documents
    and its null markers. See ts_demo_shapes.h. */

#include "ts_demo_shapes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
ts_demo_shapes_route (const char *url, const char **id)
{
    if (strncmp (url, "/local/", 7) == 0) {
        *id = url + 7;
        return TS_DEMO_LOCAL;
    }
    if (strncmp (url, "/positional/", 12) == 0) {
        *id = url + 12;
        return TS_DEMO_POSITIONAL;
    }
    return 0;
}

//  Writes one value: a number, or with null markers a string, "n/a" for
//  every 5th humidity and "" for every 7th value.
static void
s_value (FILE *f, const ts_demo_shapes_t *opts, double v,
         const char *measure, size_t i)
{
    if (!opts->null_markers)
        fprintf (f, "%.4f", v);
    else
    if (strcmp (measure, "humidity") == 0 && i % 5 == 4)
        fputs ("\"n/a\"", f);
    else
    if (strcmp (measure, "value") == 0 && i % 7 == 6)
        fputs ("\"\"", f);
    else
        fprintf (f, "\"%.4f\"", v);
}

//  "2024-11-24T01:05": time_ms as the wall clock at offset_s, no zone.
static void
s_local (int64_t time_ms, int64_t offset_s, char *buf, size_t size)
{
    int64_t secs = time_ms / 1000 + offset_s;
    if (time_ms < 0 && time_ms % 1000)
        secs--;
    time_t t = (time_t) secs;
    struct tm tm;
    if (!gmtime_r (&t, &tm) || !strftime (buf, size, "%Y-%m-%dT%H:%M", &tm))
        snprintf (buf, size, "1970-01-01T00:00");
}

char *
ts_demo_shapes_document (int shape, const ts_demo_shapes_t *opts,
                         ts_demo_value_fn *value, const char *id,
                         const int64_t *times, size_t n, size_t *len)
{
    static const char *const measures [] = { "value", "humidity" };
    char *buf = NULL;
    FILE *f = open_memstream (&buf, len);
    if (!f)
        return NULL;
    if (shape == TS_DEMO_POSITIONAL) {
        fputc ('[', f);
        for (size_t i = 0; i < n; i++) {
            fprintf (f, "%s[%lld", i? ",": "", (long long) times [i]);
            for (size_t m = 0; m < 2; m++) {
                fputc (',', f);
                s_value (f, opts, value (id, measures [m], times [i]),
                         measures [m], i);
            }
            fputc (']', f);
        }
        fputc (']', f);
    }
    else {
        int64_t off = opts->local_offset_s;
        fputs ("{\"latitude\":0,\"longitude\":0,", f);
        if (opts->local_offset_field)
            fprintf (f, "\"utc_offset_seconds\":%lld,", (long long) off);
        fprintf (f, "\"timezone\":\"Etc/GMT%+lld\",\"hourly_units\":{"
                 "\"time\":\"iso8601\",\"value\":\"unit\",\"humidity\":"
                 "\"%%\"},\"hourly\":{\"time\":[",
                 (long long) (-off / 3600));
        char local [32];
        for (size_t i = 0; i < n; i++) {
            s_local (times [i], off, local, sizeof local);
            fprintf (f, "%s\"%s\"", i? ",": "", local);
        }
        for (size_t m = 0; m < 2; m++) {
            fprintf (f, "],\"%s\":[", measures [m]);
            for (size_t i = 0; i < n; i++) {
                if (i)
                    fputc (',', f);
                s_value (f, opts, value (id, measures [m], times [i]),
                         measures [m], i);
            }
        }
        fputs ("]}}", f);
    }
    if (fclose (f) != 0) {
        free (buf);
        return NULL;
    }
    return buf;
}

const char *
ts_demo_shapes_control (json_t *body, ts_demo_shapes_t *opts)
{
    json_t *item;
    if ((item = json_object_get (body, "local_offset_s"))) {
        if (!json_is_integer (item) || json_integer_value (item) < -64800
        ||  json_integer_value (item) > 64800
        ||  json_integer_value (item) % 60)
            return "local_offset_s must be whole minutes in seconds, from "
                   "-64800 to 64800";
        opts->local_offset_s = json_integer_value (item);
    }
    if ((item = json_object_get (body, "local_offset_field"))) {
        if (!json_is_boolean (item))
            return "local_offset_field must be true or false";
        opts->local_offset_field = json_is_true (item);
    }
    if ((item = json_object_get (body, "null_markers"))) {
        if (!json_is_boolean (item))
            return "null_markers must be true or false";
        opts->null_markers = json_is_true (item);
    }
    return NULL;
}

void
ts_demo_shapes_state (json_t *state, const ts_demo_shapes_t *opts)
{
    json_object_set_new (state, "local_offset_s",
                         json_integer (opts->local_offset_s));
    json_object_set_new (state, "local_offset_field",
                         json_boolean (opts->local_offset_field));
    json_object_set_new (state, "null_markers",
                         json_boolean (opts->null_markers));
}
