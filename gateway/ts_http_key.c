/*  ts_http_key - the API keys of the gateway's HTTP front end: read, or
    generated for the run when none is set and gateway.api_key_generate
    is on. See ts_http_key.h. */

#include "ts_http_key.h"
#include "ts_log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

//  No key is set and gateway.api_key_generate is on: makes one of
//  S_KEY_BYTES random bytes from getrandom(2), written in hex, and logs it
//  in one WARN line, the only place it is ever shown (the one secret the
//  gateway logs, on purpose: whoever reads the log of a fresh deployment
//  is its operator). A new key on every start. Returns 0 with the key in
//  *secret, or TS_EINVAL with the reason in err.
#define S_KEY_BYTES 32
static int
s_generate (char **secret, const char *env_name, char *err)
{
    unsigned char raw [S_KEY_BYTES];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom (raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ts_errf (err, "gateway.api_key_generate: getrandom: %s",
                     strerror (errno));
            return TS_EINVAL;
        }
        got += (size_t) n;
    }
    char *key = malloc (2 * sizeof raw + 1);
    if (!key) {
        ts_errf (err, "gateway.api_key_generate: out of memory");
        return TS_EINVAL;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (key + 2 * i, 3, "%02x", raw [i]);
    explicit_bzero (raw, sizeof raw);
    ts_warn ("http: no API key set, generated one for this run (shown "
             "only here, a new one on each start; set your own in %s or "
             "gateway.api_key_file): %s",
             env_name [0]? env_name: "TSCACHE_API_KEY", key);
    *secret = key;
    return 0;
}

int
ts_http_key_read (const ts_config_t *cfg, char **keys, char *err)
{
    return ts_http_key_read_as (cfg, true, keys, err);
}

int
ts_http_key_read_as (const ts_config_t *cfg, bool generate, char **keys,
                     char *err)
{
    assert (keys);
    const char *env_name = ts_config_str (cfg, "gateway.api_key_env");
    const char *file = ts_config_str (cfg, "gateway.api_key_file");
    char detail [TS_ERRLEN] = "";
    int rc = ts_config_secret (env_name, file, keys, detail);
    if (rc == TS_ENOTFOUND && generate
    &&  ts_config_bool (cfg, "gateway.api_key_generate"))
        return s_generate (keys, env_name, err);
    if (rc == TS_ENOTFOUND) {
        ts_errf (err, "no API key: set %s or gateway.api_key_file",
                 env_name [0]? env_name: "TSCACHE_API_KEY");
        return TS_ENOTFOUND;
    }
    if (rc) {
        ts_errf (err, "gateway.api_key_file: %s", detail);
        return TS_EINVAL;
    }
    return 0;
}
