/*  fuzz_config - the YAML config loader (common/ts_config*.c: libyaml
    events, the key table, bounds, the cron and map checks) on any text,
    as ts_config_load reads a file's bytes (ts_config_load_text is the
    same loader over a buffer, so no file is written).

    A config the loader accepts is the worker's promise that its
    upstream.format.* make a mapping: ts_map_spec_from_config and
    ts_map_new must then succeed (ts_map.h), so that a worker never
    starts on a config it cannot use. One refusal is by design: the
    loader checks a zone's name, not that the tz database has it (a host
    that does not fetch need not have the database, see
    common/ts_config_format.c), so the mapping may refuse an unknown
    zone, and a file of the database that is not a zone. */

#include <stdio.h>

#include "fuzz.h"
#include "ts_config.h"
#include "ts_log.h"
#include "ts_map.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    ts_log_set_level (TS_LOG_ERROR);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > 16384)
        return -1;                  //  beyond any real config; keeps it fast
    char *text = fuzz_cstr (data, size);
    if (!text)
        return 0;
    char err [TS_ERRLEN] = "";
    ts_config_t *cfg = ts_config_load_text (text, "fuzz.yaml", err);
    if (cfg) {
        char where [TS_ERRLEN];
        ts_config_where (cfg, "upstream.format.measures", where, sizeof where);
        ts_map_spec_t spec;
        int rc = ts_map_spec_from_config (&spec, cfg, err);
        bool zone_file = rc != 0 && strstr (err, "format.zone: ")
                      && (strstr (err, "unknown time zone")
                      ||  strstr (err, "is not a tz database file"));
        if (rc != 0 && !zone_file) {
            fprintf (stderr, "accepted config, refused spec: %s\n", err);
            abort ();
        }
        ts_map_t *map = rc == 0? ts_map_new (&spec, err): NULL;
        if (rc == 0 && !map && strcmp (err, "out of memory") != 0) {
            fprintf (stderr, "accepted config, refused mapping: %s\n", err);
            abort ();
        }
        ts_map_destroy (&map);
        ts_config_destroy (&cfg);
    }
    free (text);
    return 0;
}
