/*  ts_cli_sources - `tscache source ls` (ts_cli_sources.h). */

#include "ts_cli_sources.h"
#include "ts_json.h"
#include "ts_redact.h"

#include <stdlib.h>
#include <string.h>

#define S_SHOW_MAX      512         //  longest value shown
#define S_RATE_PREFIX   "upstream.rate_limit."

//  True if the config has a key called name (keys other engineers add:
//  a per-source schedule and rate limit).
static bool
s_has_key (const char *name)
{
    for (size_t i = 0; i < ts_config_key_count (); i++)
        if (strcmp (ts_config_key_name (i), name) == 0)
            return true;
    return false;
}

//  Writes key's value as ts_config_show does, without the quotes YAML
//  needs around some text.
static void
s_show (const ts_config_t *source, const char *key, char *buf, size_t size)
{
    ts_config_show (source, key, buf, size);
    size_t len = strlen (buf);
    if (len >= 2 && buf [0] == '"' && buf [len - 1] == '"') {
        memmove (buf, buf + 1, len - 2);
        buf [len - 2] = '\0';
    }
}

//  The source's schedule: its upstream.schedule if that key exists and
//  is set, else broker.schedule.
static void
s_schedule (const ts_config_t *source, char *buf, size_t size)
{
    if (s_has_key ("upstream.schedule")) {
        s_show (source, "upstream.schedule", buf, size);
        if (*buf)
            return;
    }
    s_show (source, "broker.schedule", buf, size);
}

//  "rate_limit.KEY=VALUE ..." of the source's upstream.rate_limit.* keys
//  (text), or as JSON members into json; "-" if there are none.
static void
s_rate_limit (const ts_config_t *source, char *buf, size_t size,
              ts_json_t *json)
{
    size_t len = 0, prefix = strlen (S_RATE_PREFIX);
    if (buf)
        buf [0] = '\0';
    bool first = true;
    for (size_t i = 0; i < ts_config_key_count (); i++) {
        const char *key = ts_config_key_name (i);
        if (strncmp (key, S_RATE_PREFIX, prefix) != 0)
            continue;
        char value [S_SHOW_MAX];
        s_show (source, key, value, sizeof value);
        if (json) {
            ts_json_raw (json, first? "": ",");
            ts_json_str (json, key + prefix);
            ts_json_raw (json, ":");
            ts_json_str (json, value);
        }
        else
        if (len < size) {
            int n = snprintf (buf + len, size - len, "%s%s=%s",
                              first? "": " ", key + prefix, value);
            len += n > 0? (size_t) n: 0;
        }
        first = false;
    }
    if (!json && first)
        snprintf (buf, size, "-");
}

static int
s_print_json (const ts_config_t *cfg, FILE *out)
{
    ts_json_t *json = ts_json_new ();
    if (!json)
        return -1;
    ts_json_raw (json, "[");
    for (size_t i = 0; i < ts_config_source_count (cfg); i++) {
        const ts_config_t *source = ts_config_source_at (cfg, i);
        char url [4096], schedule [S_SHOW_MAX];
        ts_redact_url (ts_config_str (source, "upstream.url"), NULL, url,
                       sizeof url);
        s_schedule (source, schedule, sizeof schedule);
        ts_json_raw (json, i? ",{\"name\":": "{\"name\":");
        ts_json_str (json, ts_config_source_name (source));
        ts_json_raw (json, ",\"url\":");
        ts_json_str (json, url);
        ts_json_raw (json, ",\"layout\":");
        ts_json_str (json, ts_config_str (source, "upstream.format.layout"));
        ts_json_raw (json, ",\"time_unit\":");
        ts_json_str (json, ts_config_str (source,
                                          "upstream.format.time_unit"));
        ts_json_raw (json, ",\"schedule\":");
        ts_json_str (json, schedule);
        ts_json_raw (json, ",\"rate_limit\":{");
        s_rate_limit (source, NULL, 0, json);
        ts_json_raw (json, "}}");
    }
    ts_json_raw (json, "]\n");
    int rc = ts_json_failed (json)? -1: 0;
    if (rc == 0)
        fwrite (ts_json_data (json), 1, ts_json_size (json), out);
    ts_json_destroy (&json);
    return rc;
}

int
ts_cli_sources_print (const ts_config_t *cfg, bool json, FILE *out)
{
    if (json)
        return s_print_json (cfg, out);
    fprintf (out, "%-16s  %-8s  %-14s  %-12s  %s\n", "NAME", "LAYOUT",
             "SCHEDULE", "RATE LIMIT", "URL");
    for (size_t i = 0; i < ts_config_source_count (cfg); i++) {
        const ts_config_t *source = ts_config_source_at (cfg, i);
        char url [4096], schedule [S_SHOW_MAX], rate [S_SHOW_MAX];
        ts_redact_url (ts_config_str (source, "upstream.url"), NULL, url,
                       sizeof url);
        s_schedule (source, schedule, sizeof schedule);
        s_rate_limit (source, rate, sizeof rate, NULL);
        fprintf (out, "%-16s  %-8s  %-14s  %-12s  %s\n",
                 ts_config_source_name (source),
                 ts_config_str (source, "upstream.format.layout"), schedule,
                 rate, url);
    }
    return ferror (out)? -1: 0;
}
