/*  ts_cli_args - the command line of the tscache CLI, parsed into the
    request it sends and the options that shape what it prints.

    The grammar is getopt's, with permutation: options may come before,
    between or after the operands (tscache --json ids ls, tscache ids add
    x1 --json), "--" ends the options so that every argument after it is
    an operand, and any other argument that starts with '-' and is not a
    known option is a usage error naming it, never an id. Options that
    take a value take the next argument whatever it looks like
    (--from -1000), or the rest of the same argument (--from=-1000,
    -t500). An option given twice keeps its last value, but for
    --measure and dlq redrive's --job, which add one each time.

    Ids are checked here with ts_name_valid, so an id that starts with
    '-' is refused even after "--" (ids add -- -x). The one exception is
    ids rm, which takes any name ts_name_existing accepts: an id
    registered before the first-character rule can be removed with
    "tscache ids rm -- -old".

    Pure: no I/O, no sockets. The CLI's main (gateway/tscache.c) prints
    the usage and the errors and runs the request. */

#ifndef TS_CLI_ARGS_H_INCLUDED
#define TS_CLI_ARGS_H_INCLUDED

#include "ts_common.h"
#include "ts_proto.h"

#include <stdio.h>

#define TS_CLI_TIMEOUT_MS       5000        //  -t default: wait per answer
#define TS_CLI_TIMEOUT_MAX_MS   3600000     //  -t largest
#define TS_CLI_WAIT_MS          600000      //  --timeout default (--wait)
#define TS_CLI_WAIT_MAX_MS      86400000    //  --timeout largest

typedef struct {
    const char *config_path;    //  -c FILE, or NULL; borrowed from argv
    const char *endpoint;       //  -e ENDPOINT, or NULL; borrowed
    int         timeout_ms;     //  -t: how long to wait for each answer
    bool        json;           //  --json: print the HTTP API's JSON
    bool        help;           //  --help, -h or the help command
    bool        version;        //  --version
    bool        wait;           //  hydrate --wait: until the ids are stored
    int64_t     wait_ms;        //  --timeout S, in ms: how long --wait
                                //  waits in all
    bool        store_init;     //  store init: run tscache-worker
                                //  --store-init (-c the only option)
    const char *key;            //  -k FILE: own CURVE key pair, or NULL
    const char *server_key;     //  --server-key FILE: the server's public
                                //  key, or NULL
    const char *keygen;         //  keygen PATH: write a key pair, or NULL
    bool        keys_init;      //  keys init: every key of the config
    bool        source_ls;      //  source ls: the config's sources (-c
                                //  and --json its only options)
    bool        source_test;    //  source test NAME ID: fetch one id now
                                //  (-c, --json, --from, --to)
    const char *test_source;    //  its NAME (borrowed), checked by
                                //  ts_name_valid; known to the config?
                                //  the caller checks
    const char *test_id;        //  its ID (borrowed), ts_name_valid
    bool        has_from;       //  source test --from T: the window's
    int64_t     from_ms;        //  start (else now - upstream.past_s)
    bool        has_to;         //  source test --to T: its end (else
    int64_t     to_ms;          //  now + upstream.future_s)
} ts_cli_args_t;

//  Parses argv [1..argc) into args and req. "source ls" sets
//  args->source_ls (and json with --json) and sends nothing; "source
//  test NAME ID" sets args->source_test, test_source, test_id and, with
//  --from/--to, the window (--from after --to is an error), and sends
//  nothing. "keygen PATH" sets
//  args->keygen, "keys init" args->keys_init (-c the only option of
//  both), and send nothing. "store init" sets
//  args->store_init and sends nothing (req left as it is); it takes -c
//  only. Otherwise req is reset to the op of the
//  command (TS_OP_PING, TS_OP_IDS_ADD, ... ; ids ls is TS_OP_IDS_LS with
//  no cursor) and filled with its ids, id, range, measure and jobs
//  (dlq redrive --job). Returns 0,
//  with args->help or args->version set if one of those was asked for
//  (then req is left as it is and nothing after it was checked), or
//  TS_EINVAL with a one-line usage error in err, e.g. "ids add: unknown
//  option '-x'", "invalid id '-x': use 1 to 128 characters ...", or
//  TS_ENOMEM.
int ts_cli_args_parse (ts_cli_args_t *args, ts_msg_t *req, int argc,
                       char *const argv [], char *err);

//  Prints the usage text (commands, options, exit codes) to out.
void ts_cli_args_usage (FILE *out);

#endif
