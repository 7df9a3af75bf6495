/*  ts_keys - the API keys of the gateway's HTTP front end, as a set the
    routes check requests against: each key with its name and role.

    The key text comes from ts_http_key (gateway.api_key_env,
    gateway.api_key_file, gateway.api_keys_file); ts_route owns the set,
    finds the key a request carries (x-security-token or "Authorization:
    Bearer") and asks the set who it is. A reload (SIGHUP) builds a new
    set from the new text and swaps it in whole under a rwlock: the HTTP
    loops look keys up under the read lock, so a lookup sees the old set
    or the new one, never a mix. Keys are wiped from memory when a set is
    freed. Not the ZeroMQ front end's keys (CURVE certificates and their
    allow-lists: ts_curve).

    The key text, a line each (lines end at "\n"):
        NAME ROLE KEY     a key named NAME (1 to 64 bytes, no comma) with
                          ROLE read or admin (ts_role_parse); KEY is the
                          rest of the line, trailing blanks, tabs and CR
                          dropped (fields are separated by white space)
        K1, K2, ...       any other line: admin keys separated by commas,
                          each trimmed of blanks, tabs and CR, empty ones
                          skipped, named "default", "default-2", ... in
                          the order of the whole text
    A name is logged (the access log, 403s); a key never is. The same key
    may be listed twice: the first listed gives its name and role.

    Lookups compare in constant time: the key a request carries is
    compared with every key of the set, whole and with its length
    (ts_secure_equal), with no early exit, so timing tells nothing about
    which key matched or how much of one did. */

#ifndef TS_KEYS_H_INCLUDED
#define TS_KEYS_H_INCLUDED

#include "ts_common.h"
#include "ts_curve.h"

//  Key names are at most 64 bytes; a buffer of this size holds one and
//  its NUL.
#define TS_KEYS_NAME 65

typedef struct _ts_keys_t ts_keys_t;

//  Reads the keys of text (format above; NULL or "" hold none). Returns
//  the set, which may hold no key (see ts_keys_size), or NULL if out of
//  memory.
ts_keys_t *ts_keys_new (const char *text);

//  Wipes the keys and frees the set; sets *self_p to NULL. Safe on NULL.
//  No lookup may be running.
void ts_keys_destroy (ts_keys_t **self_p);

//  Number of keys in the set (each listing counts, duplicates too).
//  Thread-safe against ts_keys_set.
size_t ts_keys_size (ts_keys_t *self);

//  Replaces the keys by those of text (format above): the lookups from
//  now on use the new ones; the old are wiped. Thread-safe against
//  ts_keys_lookup and ts_keys_size of other threads. Sets *changed if
//  the keys, their names, roles or order differ. Returns 0, TS_ENOTFOUND
//  (text holds no key: nothing changed, *changed untouched) or TS_ENOMEM
//  (nothing changed).
int ts_keys_set (ts_keys_t *self, const char *text, bool *changed);

//  True if key (len bytes, NUL bytes included: "KEY\0" is not KEY) is
//  in the set, compared in constant time with every key (above). If
//  found, its role goes to *role and its name to name (size bytes,
//  truncated to fit), when they are not NULL: copied before the lock is
//  released, as a reload may free the set. A NULL key is never found.
//  Thread-safe against ts_keys_set.
bool ts_keys_lookup (ts_keys_t *self, const char *key, size_t len,
                     ts_role_t *role, char *name, size_t size);

#endif
