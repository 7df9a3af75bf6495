/*  ts_cli_keys - the CLI's key commands: `tscache keygen PATH` and
    `tscache keys init`, which make CURVE key pairs (ts_curve_keygen) and
    file public keys into the allow-lists of one host, so that make run,
    a host install and the tests get working keys in one command. They
    print what they made to stdout and what failed to stderr; no key is
    ever printed. */

#ifndef TS_CLI_KEYS_H_INCLUDED
#define TS_CLI_KEYS_H_INCLUDED

#include "ts_config.h"

//  keygen PATH: a new key pair, the public key at PATH and the secret one
//  at PATH_secret (0600), named after PATH's file name less ".key".
//  Returns 0, or -1 with the reason on stderr.
int ts_cli_keys_gen (const char *path);

//  keys init: makes every key pair of cfg's security.*_cert whose secret
//  file is missing (directories too), and files the public keys of one
//  host's processes where its servers read them: worker into
//  security.workers_dir, gateway and cli into security.broker_clients_dir,
//  cli into security.admin_clients_dir (a file of the same name already
//  there is kept); makes security.read_clients_dir, empty. Idempotent.
//  Returns 0, or -1 with the reason on stderr.
int ts_cli_keys_init (const ts_config_t *cfg);

#endif
