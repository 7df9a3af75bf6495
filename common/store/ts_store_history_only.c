/*  ts_store_history_only - the operations of the roles a history-only
    backend (Timestream, InfluxDB) does not serve. ts_store.c never calls
    them (it routes by role); each fails with TS_EBACKEND in case it is.
    And the check, at open and store init, that no other role is put on
    such a backend.
    Declared in ts_store_backend.h. */

#include <stdio.h>
#include <string.h>

#include "ts_store_backend.h"

int
ts_store_history_only_roles (const ts_config_t *cfg, const char *name,
                             char *err)
{
    const char *roles [] = { "registry", "forecast" };
    for (int i = 0; i < 2; i++) {
        char key [64];
        snprintf (key, sizeof key, "store.%s.backend", roles [i]);
        const char *value = ts_config_str (cfg, key);
        if (!*value) {
            snprintf (key, sizeof key, "store.backend");
            value = ts_config_str (cfg, key);
        }
        if (strcmp (value, name) == 0) {
            ts_errf (err, "%s: %s serves the history role only "
                     "(store.history.backend)", key, name);
            return TS_ECONFIG;
        }
    }
    return 0;
}

static int
s_not_served (char *err)
{
    ts_errf (err, "store: this backend serves the history role only");
    return TS_EBACKEND;
}

int
ts_store_history_only_ids_add (void *state, const char *const *ids,
                               size_t n, size_t *added, char *err)
{
    return s_not_served (err);
}

int
ts_store_history_only_ids_remove (void *state, const char *id, char *err)
{
    return s_not_served (err);
}

int
ts_store_history_only_ids_page (void *state, const char *after, size_t limit,
                                ts_strlist_t *out, bool *more, char *err)
{
    return s_not_served (err);
}

int
ts_store_history_only_ids_exists (void *state, const char *id, bool *exists,
                                  char *err)
{
    return s_not_served (err);
}

int
ts_store_history_only_forecast_replace (void *state, const char *id,
                                        const ts_points_t *pts,
                                        int64_t expires_ms, char *err)
{
    return s_not_served (err);
}

int
ts_store_history_only_forecast_range (void *state, const char *id,
                                      const char *measure, int64_t from_ms,
                                      int64_t to_ms, int64_t now_ms,
                                      ts_points_t *out, char *err)
{
    return s_not_served (err);
}

int
ts_store_history_only_expire (void *state, int64_t now_ms, size_t *removed,
                              char *err)
{
    return s_not_served (err);
}
