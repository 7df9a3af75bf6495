/*  ts_config_keys - the key table of ts_config and the checks of its keys.

    ts_config_keys below is the only list of keys: name, type, default,
    bounds and allowed values, plus a check function for keys with rules
    of their own (upstream.url must hold {id}, a credential header must
    take its value from {api_key}, ...). Defaults are written as override
    text and go through the same parser and checks as environment values,
    so a default can not drift from what the loader accepts.

    The checks live here next to the table; the type rules every value
    goes through are in ts_config_value.c. Part of the ts_config module:
    see ts_config_keys.h. */

#include "ts_config_keys.h"
#include "ts_cron.h"
#include "ts_ratelimit.h"
#include "ts_duration.h"
#include "ts_redact.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <regex.h>
#include <string.h>
#include <strings.h>

#define S_INT_OPEN      2147483647LL    //  upper bound of "n.." keys

static ts_config_check_fn s_check_url, s_check_headers, s_check_header_name,
                  s_check_measures, s_check_path_prefix,
                  s_check_endpoint_or_off, s_check_timestream_name,
                  s_check_influxdb_name, s_check_influxdb_url,
                  s_check_nonempty, s_check_rate, s_check_body_path,
                  s_check_query_name, s_check_body, s_check_token_url;
static ts_config_check_fn s_check_duration, s_check_backfill_window,
                          s_check_regex;

static const char *const s_log_levels [] = {
    "error", "warn", "info", "debug", NULL };
static const char *const s_log_formats [] = { "text", "logfmt", "json", NULL };
static const char *const s_backends [] = { "lmdb", "dynamodb", NULL };
//  A role's backend: "" means the one store.backend names.
static const char *const s_role_backends [] = { "", "lmdb", "dynamodb",
                                                 "timestream", "influxdb", NULL };
//  Line protocol times: milliseconds only (tscache's points are ms).
static const char *const s_precisions [] = { "ms", NULL };
static const char *const s_discovery [] = { "auto", "on", "off", NULL };
static const char *const s_queue_backends [] = { "lmdb", NULL };
static const char *const s_time_units [] = { "ms", "s", "iso8601", NULL };
static const char *const s_layouts [] = { "rows", "columns", "positional",
                                          NULL };
static const char *const s_out_of_bounds [] = { "reject_document",
                                                "drop_point", NULL };
static const char *const s_stamp_uses [] = { "use", "ignore", NULL };
static const char *const s_admits [] = { "first", "second", NULL };
static const char *const s_read_through [] = { "off", "registered", "any",
                                                NULL };
static const char *const s_security_modes [] = { "curve", "plain", NULL };
static const char *const s_page_modes [] = { "none", "next_url",
    "link_header", "cursor", "page", "offset", NULL };
static const char *const s_page_caps [] = { "fail", "keep", NULL };
static const char *const s_methods [] = { "GET", "POST", NULL };
static const char *const s_body_types [] = { "json", "form", NULL };
static const char *const s_oauth2_styles [] = { "client_secret_basic",
                                                "client_secret_post", NULL };

const ts_config_key_t ts_config_keys [] = {
    { "log.level", TS_CONFIG_ENUM, "info", 0, 0, s_log_levels, NULL },
    { "log.format", TS_CONFIG_ENUM, "text", 0, 0, s_log_formats, NULL },

    { "store.backend", TS_CONFIG_ENUM, "lmdb", 0, 0, s_backends, NULL },
    { "store.registry.backend", TS_CONFIG_ENUM, "", 0, 0, s_role_backends,
      NULL },
    { "store.history.backend", TS_CONFIG_ENUM, "", 0, 0, s_role_backends,
      NULL },
    { "store.forecast.backend", TS_CONFIG_ENUM, "", 0, 0, s_role_backends,
      NULL },
    { "store.forecast_ttl_s", TS_CONFIG_INT, "604800",
      1, S_INT_OPEN, NULL, NULL },
    { "store.lmdb.path", TS_CONFIG_STR, "./var/data", 0, 0, NULL, NULL },
    { "store.lmdb.map_size_mb", TS_CONFIG_INT, "4096",
      1, 1048576, NULL, NULL },
    { "store.dynamodb.endpoint", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.dynamodb.region", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.dynamodb.registry_table", TS_CONFIG_STR, "identifierRegistry",
      0, 0, NULL, NULL },
    { "store.dynamodb.forecast_table", TS_CONFIG_STR, "identifierForecast",
      0, 0, NULL, NULL },
    { "store.dynamodb.timeout_ms", TS_CONFIG_INT, "5000",
      100, 600000, NULL, NULL },
    { "store.dynamodb.retries", TS_CONFIG_INT, "4", 0, 20, NULL, NULL },
    { "store.timestream.database", TS_CONFIG_STR, "TimeSeriesDB",
      0, 0, NULL, s_check_timestream_name },
    { "store.timestream.table", TS_CONFIG_STR, "identifierTimeSeriesHistory",
      0, 0, NULL, s_check_timestream_name },
    { "store.timestream.region", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.timestream.endpoint", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.timestream.discovery", TS_CONFIG_ENUM, "auto",
      0, 0, s_discovery, NULL },
    { "store.timestream.timeout_ms", TS_CONFIG_INT, "5000",
      100, 600000, NULL, NULL },
    { "store.timestream.retries", TS_CONFIG_INT, "4", 0, 20, NULL, NULL },
    { "store.timestream.memory_retention_hours", TS_CONFIG_INT, "720",
      1, 8766, NULL, NULL },
    { "store.timestream.magnetic_retention_days", TS_CONFIG_INT, "730",
      1, 73000, NULL, NULL },
    { "store.timestream.magnetic_writes", TS_CONFIG_BOOL, "true",
      0, 0, NULL, NULL },
    { "store.influxdb.url", TS_CONFIG_STR, "http://127.0.0.1:8086",
      0, 0, NULL, s_check_influxdb_url },
    { "store.influxdb.database", TS_CONFIG_STR, "tscache",
      0, 0, NULL, s_check_influxdb_name },
    { "store.influxdb.org", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.influxdb.bucket", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.influxdb.retention_policy", TS_CONFIG_STR, "",
      0, 0, NULL, NULL },
    { "store.influxdb.measurement", TS_CONFIG_STR, "history",
      0, 0, NULL, s_check_influxdb_name },
    { "store.influxdb.token_env", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.influxdb.token_file", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.influxdb.user_env", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.influxdb.password_env", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "store.influxdb.precision", TS_CONFIG_ENUM, "ms",
      0, 0, s_precisions, NULL },
    { "store.influxdb.timeout_ms", TS_CONFIG_INT, "5000",
      100, 600000, NULL, NULL },
    { "store.influxdb.retries", TS_CONFIG_INT, "4", 0, 20, NULL, NULL },
    { "store.influxdb.batch_points", TS_CONFIG_INT, "5000",
      1, 1000000, NULL, NULL },
    { "store.influxdb.gzip", TS_CONFIG_BOOL, "true", 0, 0, NULL, NULL },

    { "broker.schedule", TS_CONFIG_CRON, "*/5 * * * *", 0, 0, NULL, NULL },
    { "broker.schedule_offset_s", TS_CONFIG_INT, "0", 0, 604800, NULL, NULL },
    { "broker.schedule_jitter_s", TS_CONFIG_INT, "0", 0, 604800, NULL, NULL },
    { "broker.ids_per_job", TS_CONFIG_INT, "1", 1, 1000, NULL, NULL },
    { "broker.worker_bind", TS_CONFIG_ENDPOINT, "tcp://127.0.0.1:5557",
      0, 0, NULL, NULL },
    { "broker.control_bind", TS_CONFIG_ENDPOINT, "tcp://127.0.0.1:5556",
      0, 0, NULL, NULL },
    { "broker.notice_bind", TS_CONFIG_STR, "tcp://127.0.0.1:5558",
      0, 0, NULL, s_check_endpoint_or_off },
    { "broker.visibility_timeout_s", TS_CONFIG_INT, "120",
      1, 43200, NULL, NULL },
    { "broker.max_receives", TS_CONFIG_INT, "3", 1, 1000, NULL, NULL },
    { "broker.retry_base_ms", TS_CONFIG_INT, "1000", 1, 3600000, NULL, NULL },
    { "broker.retry_max_ms", TS_CONFIG_INT, "300000",
      1, 86400000, NULL, NULL },
    { "broker.dlq_retention_s", TS_CONFIG_INT, "1209600",
      60, 31536000, NULL, NULL },
    { "broker.queue_backend", TS_CONFIG_ENUM, "lmdb",
      0, 0, s_queue_backends, NULL },
    { "broker.queue_path", TS_CONFIG_STR, "./var/queue", 0, 0, NULL, NULL },
    { "broker.queue_map_size_mb", TS_CONFIG_INT, "1024",
      1, 1048576, NULL, NULL },
    { "broker.queue_sync_ms", TS_CONFIG_INT, "20", 0, 10000, NULL, NULL },
    { "broker.staleness_ids_per_s", TS_CONFIG_INT, "10000", 0, 10000,
      NULL, NULL },
    { "broker.metrics_port", TS_CONFIG_INT, "0", 0, 65535, NULL, NULL },
    { "broker.metrics_bind", TS_CONFIG_STR, "127.0.0.1", 0, 0, NULL,
      s_check_nonempty },

    { "worker.broker_endpoint", TS_CONFIG_ENDPOINT, "tcp://127.0.0.1:5557",
      0, 0, NULL, NULL },
    { "worker.concurrency", TS_CONFIG_INT, "16", 1, 1024, NULL, NULL },
    { "worker.drain_timeout_ms", TS_CONFIG_INT, "8000",
      0, 3600000, NULL, NULL },
    { "worker.metrics_port", TS_CONFIG_INT, "0", 0, 65535, NULL, NULL },
    { "worker.metrics_bind", TS_CONFIG_STR, "127.0.0.1", 0, 0, NULL,
      s_check_nonempty },

    { "gateway.zmq_bind", TS_CONFIG_ENDPOINT, "tcp://127.0.0.1:5555",
      0, 0, NULL, NULL },
    { "gateway.http_bind", TS_CONFIG_STR, "127.0.0.1", 0, 0, NULL, NULL },
    { "gateway.http_port", TS_CONFIG_INT, "8080", 0, 65535, NULL, NULL },
    { "gateway.http_threads", TS_CONFIG_INT, "2", 1, 64, NULL, NULL },
    { "gateway.http_max_connections", TS_CONFIG_INT, "1024",
      1, 1000000, NULL, NULL },
    { "gateway.http_max_connections_per_client", TS_CONFIG_INT, "256",
      0, 1000000, NULL, NULL },
    { "gateway.http_idle_timeout_s", TS_CONFIG_INT, "30",
      1, 3600, NULL, NULL },
    { "gateway.http_request_timeout_s", TS_CONFIG_INT, "10",
      1, 3600, NULL, NULL },
    { "gateway.broker_endpoint", TS_CONFIG_ENDPOINT, "tcp://127.0.0.1:5556",
      0, 0, NULL, NULL },
    { "gateway.broker_timeout_ms", TS_CONFIG_INT, "3000",
      10, 600000, NULL, NULL },
    { "gateway.broker_ready_ms", TS_CONFIG_INT, "3000",
      300, 600000, NULL, NULL },
    { "gateway.drain_timeout_ms", TS_CONFIG_INT, "5000",
      0, 600000, NULL, NULL },
    { "gateway.api_key_env", TS_CONFIG_STR, "TSCACHE_API_KEY",
      0, 0, NULL, NULL },
    { "gateway.api_key_file", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "gateway.api_key_generate", TS_CONFIG_BOOL, "false", 0, 0, NULL, NULL },
    { "gateway.api_keys_file", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "gateway.max_points", TS_CONFIG_INT, "1000000",
      1, 10000000, NULL, NULL },
    { "gateway.cache_mb", TS_CONFIG_INT, "32", 0, 65536, NULL, NULL },
    { "gateway.cache_stale_ms", TS_CONFIG_INT, "2000", 0, 3600000, NULL,
      NULL },
    { "gateway.cache_ttl_s", TS_CONFIG_INT, "300", 1, 86400, NULL, NULL },
    { "gateway.cache_stamps", TS_CONFIG_ENUM, "use", 0, 0, s_stamp_uses,
      NULL },
    { "gateway.cache_admit", TS_CONFIG_ENUM, "second", 0, 0, s_admits,
      NULL },
    { "gateway.notice_endpoint", TS_CONFIG_STR, "tcp://127.0.0.1:5558",
      0, 0, NULL, s_check_endpoint_or_off },
    { "gateway.read_through", TS_CONFIG_ENUM, "registered", 0, 0,
      s_read_through, NULL },
    { "gateway.read_through_pattern", TS_CONFIG_STR, "", 0, 0, NULL,
      s_check_regex },
    { "gateway.read_through_wait_ms", TS_CONFIG_INT, "3000", 0, 60000, NULL,
      NULL },
    { "gateway.seed_path_prefix", TS_CONFIG_STR, "", 0, 0, NULL,
      s_check_path_prefix },
    { "gateway.metrics_auth", TS_CONFIG_BOOL, "false", 0, 0, NULL, NULL },
    //  The built-in page at / (gateway/ts_ui.h, docs/ui.md).
    { "gateway.ui", TS_CONFIG_BOOL, "true", 0, 0, NULL, NULL },
    //  Freshness (gateway/ts_fresh.h): grace after a due refresh before
    //  an answer is stale, and the two stale-serving windows (0: off).
    { "gateway.stale_grace_s", TS_CONFIG_INT, "60", 0, 604800, NULL, NULL },
    { "gateway.stale_while_revalidate_s", TS_CONFIG_INT, "0", 0, 604800,
      NULL, NULL },
    { "gateway.stale_if_error_s", TS_CONFIG_INT, "0", 0, 604800, NULL,
      NULL },

    { "cli.endpoint", TS_CONFIG_ENDPOINT, "tcp://127.0.0.1:5555",
      0, 0, NULL, NULL },

    { "security.mode", TS_CONFIG_ENUM, "curve", 0, 0, s_security_modes,
      NULL },
    { "security.broker_cert", TS_CONFIG_STR, "./var/keys/broker.key",
      0, 0, NULL, s_check_nonempty },
    { "security.gateway_cert", TS_CONFIG_STR, "./var/keys/gateway.key",
      0, 0, NULL, s_check_nonempty },
    { "security.worker_cert", TS_CONFIG_STR, "./var/keys/worker.key",
      0, 0, NULL, s_check_nonempty },
    { "security.cli_cert", TS_CONFIG_STR, "./var/keys/cli.key",
      0, 0, NULL, s_check_nonempty },
    { "security.workers_dir", TS_CONFIG_STR, "./var/keys/workers",
      0, 0, NULL, s_check_nonempty },
    { "security.broker_clients_dir", TS_CONFIG_STR,
      "./var/keys/broker-clients", 0, 0, NULL, s_check_nonempty },
    { "security.read_clients_dir", TS_CONFIG_STR, "./var/keys/clients-read",
      0, 0, NULL, s_check_nonempty },
    { "security.admin_clients_dir", TS_CONFIG_STR,
      "./var/keys/clients-admin", 0, 0, NULL, s_check_nonempty },

    { "upstream.url", TS_CONFIG_STR,
      "http://127.0.0.1:8090/rows/{id}?from={from}&to={to}",
      0, 0, NULL, s_check_url },
    { "upstream.headers", TS_CONFIG_LIST, "", 0, 0, NULL, s_check_headers },
    { "upstream.api_key_env", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "upstream.api_key_file", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "upstream.api_key_header", TS_CONFIG_STR, "x-api-key", 0, 0, NULL,
      s_check_header_name },
    //  "" follows broker.schedule; -1 takes the broker.* value
    { "upstream.schedule", TS_CONFIG_CRON, "", 0, 0, NULL, NULL },
    { "upstream.schedule_offset_s", TS_CONFIG_INT, "-1", -1, 604800,
      NULL, NULL },
    { "upstream.schedule_jitter_s", TS_CONFIG_INT, "-1", -1, 604800,
      NULL, NULL },
    { "upstream.past_s", TS_CONFIG_INT, "86400", 0, S_INT_OPEN, NULL, NULL },
    { "upstream.future_s", TS_CONFIG_INT, "86400", 0, S_INT_OPEN, NULL, NULL },
    //  Fetch status (workers/ts_worker_status.c): {last_fetched} = the
    //  id's last successful fetch - refetch_recent_s; a 404 is
    //  negative-cached for not_found_ttl_s (0: not at all).
    { "upstream.refetch_recent_s", TS_CONFIG_INT, "3600", 0, S_INT_OPEN,
      NULL, NULL },
    { "upstream.not_found_ttl_s", TS_CONFIG_INT, "300", 0, S_INT_OPEN,
      NULL, NULL },
    //  Gap tracking and backfill (broker/ts_backfill.h): durations.
    { "upstream.backfill", TS_CONFIG_STR, "0", 0, 0, NULL, s_check_duration },
    { "upstream.backfill_window", TS_CONFIG_STR, "1d", 0, 0, NULL,
      s_check_backfill_window },
    { "upstream.backfill_queued", TS_CONFIG_INT, "2", 1, 64, NULL, NULL },
    { "upstream.time_param", TS_CONFIG_ENUM, "ms", 0, 0, s_time_units, NULL },
    { "upstream.connect_timeout_ms", TS_CONFIG_INT, "5000", 1, S_INT_OPEN,
      NULL, NULL },
    { "upstream.timeout_ms", TS_CONFIG_INT, "30000",
      1, S_INT_OPEN, NULL, NULL },
    { "upstream.max_body_bytes", TS_CONFIG_INT, "16777216", 1, S_INT_OPEN,
      NULL, NULL },
    //  The source's rate limit, metered by the broker (ts_ratelimit.h).
    { "upstream.rate_limit.rate", TS_CONFIG_STR, "off", 0, 0, NULL,
      s_check_rate },
    { "upstream.rate_limit.burst", TS_CONFIG_INT, "0", 0, 1000000,
      NULL, NULL },
    { "upstream.rate_limit.max_pause_s", TS_CONFIG_INT, "300", 1, 86400,
      NULL, NULL },
    { "upstream.method", TS_CONFIG_ENUM, "GET", 0, 0, s_methods, NULL },
    { "upstream.body", TS_CONFIG_STR, "", 0, 0, NULL, s_check_body },
    { "upstream.body_type", TS_CONFIG_ENUM, "json", 0, 0, s_body_types,
      NULL },
    { "upstream.oauth2.token_url", TS_CONFIG_STR, "", 0, 0, NULL,
      s_check_token_url },
    { "upstream.oauth2.client_id_env", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "upstream.oauth2.client_id_file", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "upstream.oauth2.client_secret_env", TS_CONFIG_STR, "", 0, 0, NULL,
      NULL },
    { "upstream.oauth2.client_secret_file", TS_CONFIG_STR, "", 0, 0, NULL,
      NULL },
    { "upstream.oauth2.scope", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "upstream.oauth2.auth_style", TS_CONFIG_ENUM, "client_secret_basic",
      0, 0, s_oauth2_styles, NULL },
    { "upstream.format.layout", TS_CONFIG_ENUM, "rows",
      0, 0, s_layouts, NULL },
    { "upstream.format.path", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "upstream.format.time_field", TS_CONFIG_STR, "time", 0, 0, NULL,
      s_check_nonempty },
    { "upstream.format.time_unit", TS_CONFIG_ENUM, "ms",
      0, 0, s_time_units, NULL },
    { "upstream.format.measures", TS_CONFIG_MAP, "value=value", 0, 0, NULL,
      s_check_measures },
    //  Document shapes (common/ingest/ts_map.h): zones of times without
    //  one, positional rows, null markers, plausible times.
    { "upstream.format.zone", TS_CONFIG_STR, "UTC", 0, 0, NULL,
      ts_config_check_zone },
    { "upstream.format.offset_field", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "upstream.format.zone_field", TS_CONFIG_STR, "", 0, 0, NULL, NULL },
    { "upstream.format.time_index", TS_CONFIG_INT, "0", 0, 999999, NULL,
      NULL },
    { "upstream.format.null_values", TS_CONFIG_LIST, "", 0, 0, NULL, NULL },
    { "upstream.format.time_min", TS_CONFIG_STR, "1971-01-01", 0, 0, NULL,
      ts_config_check_time_min },
    { "upstream.format.time_max", TS_CONFIG_STR, "100y", 0, 0, NULL,
      ts_config_check_time_max },
    { "upstream.format.out_of_bounds", TS_CONFIG_ENUM, "reject_document",
      0, 0, s_out_of_bounds, NULL },
    //  Pagination (workers/ts_pages.h; rules between these keys are
    //  checked by ts_pages_spec_from_config).
    { "upstream.pagination.mode", TS_CONFIG_ENUM, "none",
      0, 0, s_page_modes, NULL },
    { "upstream.pagination.next_path", TS_CONFIG_STR, "", 0, 0, NULL,
      s_check_body_path },
    { "upstream.pagination.cursor_path", TS_CONFIG_STR, "", 0, 0, NULL,
      s_check_body_path },
    { "upstream.pagination.cursor_param", TS_CONFIG_STR, "cursor", 0, 0,
      NULL, s_check_query_name },
    { "upstream.pagination.page_param", TS_CONFIG_STR, "page", 0, 0, NULL,
      s_check_query_name },
    { "upstream.pagination.page_start", TS_CONFIG_INT, "1", 0, 1000000,
      NULL, NULL },
    { "upstream.pagination.offset_param", TS_CONFIG_STR, "offset", 0, 0,
      NULL, s_check_query_name },
    { "upstream.pagination.size_param", TS_CONFIG_STR, "", 0, 0, NULL,
      s_check_query_name },
    { "upstream.pagination.page_size", TS_CONFIG_INT, "0", 0, 1000000,
      NULL, NULL },
    { "upstream.pagination.total_path", TS_CONFIG_STR, "", 0, 0, NULL,
      s_check_body_path },
    { "upstream.pagination.stop_on_empty", TS_CONFIG_BOOL, "true",
      0, 0, NULL, NULL },
    { "upstream.pagination.max_pages", TS_CONFIG_INT, "100", 1, 100000,
      NULL, NULL },
    { "upstream.pagination.at_max_pages", TS_CONFIG_ENUM, "fail",
      0, 0, s_page_caps, NULL },
    { "upstream.pagination.allowed_hosts", TS_CONFIG_LIST, "", 0, 0, NULL,
      NULL },
};

const size_t ts_config_nkeys = sizeof ts_config_keys
                             / sizeof ts_config_keys [0];

//  ---------------------------------------------------------------------
//  Table lookup

int
ts_config_key_find (const char *key)
{
    for (size_t i = 0; i < ts_config_nkeys; i++)
        if (strcmp (ts_config_keys [i].name, key) == 0)
            return (int) i;
    return -1;
}

size_t
ts_config_key_count (void)
{
    return ts_config_nkeys;
}

const char *
ts_config_key_name (size_t i)
{
    assert (i < ts_config_nkeys);
    return ts_config_keys [i].name;
}

//  True if some key lives below prefix ("upstream" or "upstream.format").
bool
ts_config_key_is_section (const char *prefix)
{
    size_t len = strlen (prefix);
    for (size_t i = 0; i < ts_config_nkeys; i++)
        if (strncmp (ts_config_keys [i].name, prefix, len) == 0
        &&  ts_config_keys [i].name [len] == '.')
            return true;
    return false;
}

bool
ts_config_type_is_string (ts_config_type_t type)
{
    return type == TS_CONFIG_STR || type == TS_CONFIG_ENUM
        || type == TS_CONFIG_CRON
        || type == TS_CONFIG_ENDPOINT;
}


//  An endpoint, or "" to turn the socket off (change notices).
static int
s_check_endpoint_or_off (const ts_config_value_t *value, char *reason,
                         size_t size, size_t *bad)
{
    (void) bad;
    if (!*value->str || ts_config_endpoint_ok (value->str))
        return 0;
    snprintf (reason, size, "must be \"\" (off) or a ZeroMQ endpoint "
              "(tcp://, ipc:// or inproc://)");
    return -1;
}

//  Every time placeholder with a format - {from:F}, {to:F},
//  {last_fetched:F} - names a known one: ms, s, rfc3339, iso8601 or a
//  strftime pattern (it holds a '%'), and ends with '}'. The worker's
//  ts_url writes them (workers/ts_url.h).
static int
s_check_time_formats (const char *tmpl, char *reason, size_t size)
{
    static const char *const names [] = { "{from:", "{to:",
                                          "{last_fetched:" };
    for (int k = 0; k < 3; k++)
        for (const char *p = strstr (tmpl, names [k]); p;
             p = strstr (p + 1, names [k])) {
            const char *fmt = p + strlen (names [k]);
            size_t len = strcspn (fmt, "}");
            bool ok = fmt [len] == '}' && len > 0 && len < 64
                   && (!strstr (fmt, "%s") || strstr (fmt, "%s") > fmt + len)
                   && (memchr (fmt, '%', len)
                   ||  (len == 2 && !strncmp (fmt, "ms", 2))
                   ||  (len == 1 && *fmt == 's')
                   ||  (len == 7 && !strncmp (fmt, "rfc3339", 7))
                   ||  (len == 7 && !strncmp (fmt, "iso8601", 7)));
            if (!ok) {
                snprintf (reason, size, "%.*s...}: unknown time format "
                          "(ms, s, rfc3339, iso8601 or a strftime pattern "
                          "such as %%Y-%%m-%%d, not %%s)",
                          (int) strlen (names [k]) - 1, names [k]);
                return -1;
            }
        }
    return 0;
}

static int
s_check_url (const ts_config_value_t *value, char *reason, size_t size,
             size_t *bad)
{
    if (!strstr (value->str, "{id}")) {
        snprintf (reason, size, "must contain {id}");
        return -1;
    }
    return s_check_time_formats (value->str, reason, size);
}

static int
s_check_body (const ts_config_value_t *value, char *reason, size_t size,
              size_t *bad)
{
    return s_check_time_formats (value->str, reason, size);
}

//  "" (no OAuth2) or an http(s) URL with no user, password or
//  placeholder in it: the client's credentials come from
//  upstream.oauth2.client_*_env/_file only.
static int
s_check_token_url (const ts_config_value_t *value, char *reason,
                   size_t size, size_t *bad)
{
    const char *u = value->str;
    if (!*u)
        return 0;
    if (strncmp (u, "http://", 7) && strncmp (u, "https://", 8)) {
        snprintf (reason, size, "must start with http:// or https://");
        return -1;
    }
    if (strchr (u, '@') || strchr (u, '{')) {
        snprintf (reason, size, "must hold no user, password or "
                  "placeholder (the client id and secret come from "
                  "upstream.oauth2.client_id_env/_file and "
                  "client_secret_env/_file)");
        return -1;
    }
    return 0;
}

//  Length of the HTTP token (a header name) that s starts with.
static size_t
s_token_len (const char *s)
{
    return strspn (s, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789!#$%&'*+-.^_`|~");
}

//  "Name: value": an HTTP token, a colon, no line breaks. A header whose
//  name says it carries a credential (ts_redact_is_credential) takes its
//  secret from {api_key}: written into config text, it would be a secret
//  in the config. The entry itself is never echoed, only its name.
static int
s_check_headers (const ts_config_value_t *value, char *reason, size_t size,
                 size_t *bad)
{
    for (size_t i = 0; i < value->list->n; i++) {
        const char *h = value->list->items [i];
        size_t name_len = s_token_len (h);
        bool ok = name_len > 0 && h [name_len] == ':';
        for (const char *p = h; ok && *p; p++)
            if (*p == '\r' || *p == '\n')
                ok = false;
        if (!ok) {
            *bad = i;
            snprintf (reason, size, "entry %zu must look like "
                      "\"Name: value\"", i + 1);
            return -1;
        }
        if (ts_redact_is_credential (h, name_len)
        &&  !strstr (h + name_len, "{api_key}")) {
            *bad = i;
            snprintf (reason, size, "entry %zu: %.*s carries a credential, "
                      "which is never written in the config: write "
                      "{api_key} in its value and set upstream.api_key_env "
                      "or upstream.api_key_file", i + 1,
                      (int) (name_len < 64? name_len: 64), h);
            return -1;
        }
    }
    return 0;
}

//  Any text but "" (a field name: the mapping reads no field called "").
static int
s_check_nonempty (const ts_config_value_t *value, char *reason, size_t size,
                  size_t *bad)
{
    if (!*value->str) {
        snprintf (reason, size, "must not be empty");
        return -1;
    }
    return 0;
}

//  A duration (ts_duration_parse): "30d", "12h", "0" for none.
static int
s_check_duration (const ts_config_value_t *value, char *reason, size_t size,
                  size_t *bad)
{
    int64_t ms;
    char err [TS_ERRLEN];
    if (ts_duration_parse (value->str, &ms, err) != 0) {
        snprintf (reason, size, "%s", err);
        return -1;
    }
    return 0;
}

//  "" or a dotted path of JSON object keys ("links.next"): no empty
//  component.
static int
s_check_body_path (const ts_config_value_t *value, char *reason,
                   size_t size, size_t *bad)
{
    const char *p = value->str;
    if (*p && (*p == '.' || p [strlen (p) - 1] == '.' || strstr (p, ".."))) {
        snprintf (reason, size, "must be a dotted path of object keys, "
                  "e.g. links.next (no empty component)");
        return -1;
    }
    return 0;
}

//  A backfill chunk: from one minute (shorter chunks only multiply
//  requests) to 366 days (longer ones make documents few upstreams
//  answer whole).
static int
s_check_backfill_window (const ts_config_value_t *value, char *reason,
                         size_t size, size_t *bad)
{
    int64_t ms = 0;
    if (s_check_duration (value, reason, size, bad) != 0)
        return -1;
    ts_duration_parse (value->str, &ms, NULL);
    if (ms < 60000 || ms > INT64_C (366) * 86400000) {
        snprintf (reason, size, "'%s': must be from 1m to 366d",
                  value->str);
        return -1;
    }
    return 0;
}

//  upstream.rate_limit.rate: N/s, N/min, N/h, N, "" or off.
static int
s_check_rate (const ts_config_value_t *value, char *reason, size_t size,
              size_t *bad)
{
    double per_s;
    char err [TS_ERRLEN];
    if (ts_ratelimit_parse (value->str, &per_s, err) != 0) {
        snprintf (reason, size, "%s", err);
        return -1;
    }
    return 0;
}

//  "" or a query parameter name sent as it is: A-Z a-z 0-9 - . _ ~, the
//  brackets of page[number] (JSON:API) and the $ of $skip (OData) and
//  $offset (Socrata).
static int
s_check_query_name (const ts_config_value_t *value, char *reason,
                    size_t size, size_t *bad)
{
    if (value->str [strspn (value->str, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~[]$")]) {
        snprintf (reason, size, "must be a query parameter name (letters, "
                  "digits, -._~$ and [])");
        return -1;
    }
    return 0;
}

static int
s_check_header_name (const ts_config_value_t *value, char *reason, size_t size,
                     size_t *bad)
{
    if (!*value->str || value->str [s_token_len (value->str)]) {
        snprintf (reason, size, "must be a header name (letters, digits "
                  "and !#$%%&'*+-.^_`|~)");
        return -1;
    }
    return 0;
}

//  A Timestream database or table name: 3 to 256 of A-Z a-z 0-9 _ . -
//  (Timestream's rule), so that it can be double-quoted in SQL as it is.
static int
s_check_timestream_name (const ts_config_value_t *value, char *reason,
                         size_t size, size_t *bad)
{
    size_t len = strlen (value->str);
    if (len < 3 || len > 256
    ||  strspn (value->str, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len) {
        snprintf (reason, size, "must be 3 to 256 characters of A-Z a-z "
                  "0-9 _ . - (a Timestream name)");
        return -1;
    }
    return 0;
}

//  An InfluxDB name (database, measurement): 1 to 256 bytes without
//  control characters; quoted or escaped wherever it is used.
static int
s_check_influxdb_name (const ts_config_value_t *value, char *reason,
                       size_t size, size_t *bad)
{
    size_t len = strlen (value->str);
    bool ok = len >= 1 && len <= 256;
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char) value->str [i] >= 0x20 && value->str [i] != 0x7f;
    if (!ok) {
        snprintf (reason, size, "must be 1 to 256 characters, no control "
                  "characters (an InfluxDB name)");
        return -1;
    }
    return 0;
}

//  The InfluxDB server: http:// or https://, nothing secret in it.
static int
s_check_influxdb_url (const ts_config_value_t *value, char *reason,
                      size_t size, size_t *bad)
{
    const char *u = value->str;
    if (strncmp (u, "http://", 7) && strncmp (u, "https://", 8)) {
        snprintf (reason, size, "must start with http:// or https://");
        return -1;
    }
    if (strchr (u, '@') || strchr (u, '?')) {
        snprintf (reason, size, "must hold no user, password or query "
                  "(secrets come from store.influxdb.token_env/_file or "
                  "user_env/password_env)");
        return -1;
    }
    return 0;
}

//  "" or "/seg[/seg...]": segments of RFC 3986 path characters without
//  '%' (so the prefix matches the decoded path as written), no empty or
//  dot segment, no trailing '/', and not a first segment the gateway's
//  own routes use.
#define S_PREFIX_MAX 256
//  "" or a POSIX extended regular expression (regcomp).
static int
s_check_regex (const ts_config_value_t *value, char *reason, size_t size,
               size_t *bad)
{
    (void) bad;
    if (!value->str [0])
        return 0;
    regex_t re;
    int rc = regcomp (&re, value->str, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char text [128];
        regerror (rc, &re, text, sizeof text);
        snprintf (reason, size, "not a POSIX extended regular expression: "
                  "%s", text);
        return -1;
    }
    regfree (&re);
    return 0;
}

static int
s_check_path_prefix (const ts_config_value_t *value, char *reason, size_t size,
                     size_t *bad)
{
    //  The first segment of every gateway route (gateway/ts_route.c),
    //  which a prefix would shadow, and the replaced service's path;
    //  tests/e2e/test_openapi checks the list against the route table.
    static const char *const taken [] = {
        "v1", "healthz", "readyz", "metrics", "ui", "grafana",
        "timeSeries-data", NULL };
    const char *p = value->str;
    if (!*p)
        return 0;
    size_t len = strlen (p);
    if (p [0] != '/' || len > S_PREFIX_MAX || p [len - 1] == '/') {
        snprintf (reason, size, "must be \"\" or start with '/', not end "
                  "with '/', and be at most %d characters (e.g. /prod)",
                  S_PREFIX_MAX);
        return -1;
    }
    const char *seg = p + 1;
    for (size_t index = 1; seg <= p + len; index++) {
        size_t seg_len = strcspn (seg, "/");
        size_t ok_len = strspn (seg, "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-._~!$&'()*+,;=:@");
        bool dots = seg [0] == '.' && (seg_len == 1
                                    || (seg_len == 2 && seg [1] == '.'));
        if (seg_len == 0 || ok_len < seg_len || dots) {
            snprintf (reason, size, "segment %zu must be 1 or more of "
                      "A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @, "
                      "not . or ..", index);
            return -1;
        }
        for (int i = 0; index == 1 && taken [i]; i++)
            if (strlen (taken [i]) == seg_len
            &&  memcmp (seg, taken [i], seg_len) == 0) {
                snprintf (reason, size, "/%s is a route of the gateway; "
                          "choose another prefix", taken [i]);
                return -1;
            }
        seg += seg_len + 1;
    }
    return 0;
}

static int
s_check_measures (const ts_config_value_t *value, char *reason, size_t size,
                  size_t *bad)
{
    if (value->list->n == 0) {
        snprintf (reason, size, "must name at least one measure");
        return -1;
    }
    for (size_t i = 0; i < value->list->n; i++) {
        *bad = i;
        if (!ts_name_valid (value->list->items [i])) {
            snprintf (reason, size, "measure name \"%.64s\" must be "
                      TS_NAME_RULE, value->list->items [i]);
            return -1;
        }
        if (!*value->values->items [i]) {
            snprintf (reason, size, "measure \"%.64s\" needs a field name",
                      value->list->items [i]);
            return -1;
        }
    }
    return 0;
}

