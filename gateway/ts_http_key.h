/*  ts_http_key - the API keys of the gateway's HTTP front end.

    The keys come from ts_config_secret: the variable named by
    gateway.api_key_env (TSCACHE_API_KEY), else the file
    gateway.api_key_file, a comma- or newline-separated list: admin keys
    named "default" in logs. Named keys with a role come from
    gateway.api_keys_file, a line each "NAME ROLE KEY" (ROLE read or
    admin; '#' starts a comment line). With no key from any of them and
    gateway.api_key_generate on, one key is made for the
    run: 32 random bytes from getrandom(2) in hex (64 characters), shown
    once in a WARN line of the log - the one secret the gateway logs, on
    purpose, so that a first start (docker-compose up) works without a
    key set and its operator can read the key. Part of ts_http, which
    hands the keys to ts_route. */

#ifndef TS_HTTP_KEY_H_INCLUDED
#define TS_HTTP_KEY_H_INCLUDED

#include "ts_config.h"

//  Reads (or generates) the API keys. Returns 0 with the key text in
//  *keys (ts_route_new's format: the unnamed keys' line, then a line
//  "NAME ROLE KEY" per named key), which the caller wipes and frees;
//  else TS_ENOTFOUND (no key: "no API key: set TSCACHE_API_KEY,
//  gateway.api_key_file or gateway.api_keys_file") or
//  TS_EINVAL (unreadable key file, getrandom failed), with the reason in
//  err (TS_ERRLEN bytes), which never holds a key.
int ts_http_key_read (const ts_config_t *cfg, char **keys, char *err);

//  Same, but with generate false a missing key is TS_ENOTFOUND even with
//  gateway.api_key_generate on: a reload keeps the key made at start
//  rather than make (and log) another.
int ts_http_key_read_as (const ts_config_t *cfg, bool generate, char **keys,
                         char *err);

#endif
