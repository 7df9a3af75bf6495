/*  ts_cli_args - the tscache CLI's command line: options anywhere, "--",
    commands, and their operands checked. See ts_cli_args.h.

    Two passes. The first walks argv once, sorting arguments into options
    (looked up in one table, with their values) and operands, so that an
    option is recognised wherever it stands and the command is known
    before any option is applied. The second reads the command from the
    operands, applies the options (refusing those that belong to another
    command) and checks the command's own operands. */

#include "ts_cli_args.h"
#include "ts_query.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

//  Every option. only: the op it belongs to, TS_OP_REPLY for every op.
typedef enum {
    S_OPT_CONFIG, S_OPT_ENDPOINT, S_OPT_TIMEOUT_MS, S_OPT_JSON, S_OPT_HELP,
    S_OPT_HELP_SHORT, S_OPT_VERSION, S_OPT_FROM, S_OPT_TO, S_OPT_MEASURE,
    S_OPT_WAIT, S_OPT_WAIT_TIMEOUT, S_OPT_KEY, S_OPT_SERVER_KEY,
    S_OPT_SOURCE, S_OPT_COMPACT, S_OPT_STEP, S_OPT_AGG, S_OPT_MAX_POINTS,
    S_OPT_FILL, S_OPT_LIMIT, S_OPT_NEXT, S_OPT_JOB, S_OPT_FETCH,
    S_OPT_COUNT_
} s_opt_t;

static const struct {
    const char *name;
    bool        value;          //  takes a value
    ts_op_t     only;           //  TS_OP_REPLY: any command
} s_options [S_OPT_COUNT_] = {
    { "-c",        true,  TS_OP_REPLY },
    { "-e",        true,  TS_OP_REPLY },
    { "-t",        true,  TS_OP_REPLY },
    { "--json",    false, TS_OP_REPLY },
    { "--help",    false, TS_OP_REPLY },
    { "-h",        false, TS_OP_REPLY },
    { "--version", false, TS_OP_REPLY },
    { "--from",    true,  TS_OP_QUERY },
    { "--to",      true,  TS_OP_QUERY },
    { "--measure", true,  TS_OP_QUERY },
    { "--wait",    false, TS_OP_HYDRATE },
    { "--timeout", true,  TS_OP_HYDRATE },
    { "-k",        true,  TS_OP_REPLY },
    { "--server-key", true, TS_OP_REPLY },
    { "--source",  true,  TS_OP_IDS_ADD },
    { "--compact", false, TS_OP_QUERY },
    //  The query parameters of protocol.md 5.2, read by ts_query_param.
    { "--step",    true,  TS_OP_QUERY },
    { "--agg",     true,  TS_OP_QUERY },
    { "--max-points", true, TS_OP_QUERY },
    { "--fill",    true,  TS_OP_QUERY },
    { "--limit",   true,  TS_OP_QUERY },
    { "--next",    true,  TS_OP_QUERY },
    { "--job",     true,  TS_OP_DLQ_REDRIVE },
    { "--fetch",   false, TS_OP_IDS_LS },
};

//  An option as found in argv.
typedef struct {
    s_opt_t     opt;
    const char *value;          //  NULL for an option without one
} s_found_t;

//  The arguments sorted by the first pass.
typedef struct {
    s_found_t   *found;         //  options, in order
    size_t       found_n;
    const char **operands;      //  operands, in order
    size_t       operands_n;
} s_split_t;

void
ts_cli_args_usage (FILE *out)
{
    fprintf (out,
        "Usage: tscache [OPTION]... COMMAND [ARG]... [OPTION]...\n"
        "\n"
        "Commands (each but store init takes --json: the HTTP API's JSON\n"
        "for the same answer):\n"
        "  ping                    check that the gateway answers\n"
        "  ids add ID... [--source NAME]\n"
        "                          register ids to a source of the config\n"
        "                          (default: the first); an id already\n"
        "                          registered moves to NAME\n"
        "  ids rm ID               unregister an id and delete its data\n"
        "  ids show ID             an id's source and fetch status: last\n"
        "                          successful fetch, last attempt, last\n"
        "                          error, not-found-until (as GET\n"
        "                          /v1/ids/{id})\n"
        "  ids ls [--fetch]        list every registered id and its source,\n"
        "                          one a line (asked for a page at a time;\n"
        "                          --json: one document {\"ids\":[...],\n"
        "                          \"sources\":[...],\"next\":null}); with\n"
        "                          --fetch also its last fetch (or never),\n"
        "                          fresh or stale, and the last error's kind\n"
        "                          (--json: \"fetches\":[...])\n"
        "  hydrate ID... [--wait [--timeout S]]\n"
        "                          fetch ids now (through the broker); with\n"
        "                          --wait, until every id is stored again\n"
        "                          (progress done/total on a terminal, a\n"
        "                          line per stored id otherwise), one fails\n"
        "                          for good (exit 1) or S seconds pass\n"
        "                          (default 600; exit 3)\n"
        "  query ID [--from T] [--to T] [--measure M]... [--compact]\n"
        "        [--step D] [--agg A] [--max-points N] [--fill F]\n"
        "        [--limit N] [--next TOKEN]\n"
        "                          print a series: history, then forecast\n"
        "                          after the newest history point; T is\n"
        "                          epoch ms or RFC 3339 (default: now -/+\n"
        "                          24 h); --measure may repeat; --step D\n"
        "                          (5m, 1h) or --max-points N aggregate into\n"
        "                          buckets by --agg (avg min max sum count\n"
        "                          first last), empty ones by --fill (none\n"
        "                          null previous); --limit N pages, and the\n"
        "                          last line names the --next TOKEN of the\n"
        "                          following page; --compact: the answer\n"
        "                          travels in the compact encoding (same\n"
        "                          output)\n"
        "  stats                   the broker's counters and its workers\n"
        "                          (NAME, CREDIT, LEASED)\n"
        "  dlq ls                  dead-lettered jobs: JOB, IDS, RECEIVES,\n"
        "                          DEAD AT, ERROR\n"
        "  dlq redrive [ID...] [--job N]...\n"
        "                          queue dead-lettered jobs again (receives\n"
        "                          reset); with IDs only the jobs holding\n"
        "                          one of them, with --job (may repeat)\n"
        "                          only job N (dlq ls's JOB), else every\n"
        "                          job\n"
        "  dlq purge               delete every dead-lettered job\n"
        "  store init              create what the configured store\n"
        "                          backends need (tables, a database) or\n"
        "                          find them, printing one line for each;\n"
        "                          runs tscache-worker --store-init, with\n"
        "                          -c FILE (or $TSCACHE_CONFIG) and the\n"
        "                          AWS credentials of the environment\n"
        "  keygen PATH             write a new CURVE key pair: the public\n"
        "                          key to PATH, the secret one to\n"
        "                          PATH_secret (mode 0600); named after\n"
        "                          PATH's file name less .key\n"
        "  keys init               make every key pair the config names\n"
        "                          (security.*_cert) that is missing, and\n"
        "                          put the public keys into the allow-lists\n"
        "                          of one host: worker -> workers_dir,\n"
        "                          gateway and cli -> broker_clients_dir,\n"
        "                          cli -> admin_clients_dir\n"
        "  source ls               the sources of the config (-c FILE):\n"
        "                          NAME, LAYOUT, SCHEDULE, RATE LIMIT and\n"
        "                          URL template (secrets shown as ***);\n"
        "                          read from the file, no daemon asked\n"
        "  source test NAME ID [--from T] [--to T]\n"
        "                          fetch ID from source NAME now, as a\n"
        "                          worker would (API key, OAuth2 token,\n"
        "                          every page), without storing it: prints\n"
        "                          the request (secrets shown as ***),\n"
        "                          HTTP status, bytes and time of each page,\n"
        "                          the mapped points (TIME, ROLE history or\n"
        "                          forecast, a column per measure) and the\n"
        "                          mapping report and warnings; window: now\n"
        "                          - upstream.past_s .. now + future_s, or\n"
        "                          T (epoch ms or RFC 3339). Exit 1 if the\n"
        "                          fetch or the mapping fails (the detail a\n"
        "                          worker would put in the DLQ), 2 for an\n"
        "                          unknown source or a bad id or config\n"
        "  help                    show this help\n"
        "\n"
        "Options may come before or after the command and its arguments;\n"
        "\"--\" ends them (what follows is an argument even if it starts\n"
        "with '-'). An id is " TS_NAME_RULE ";\n"
        "only \"ids rm -- -ID\" names one that starts with '-' (an id\n"
        "registered before that rule).\n"
        "  -c FILE        config file (default: $TSCACHE_CONFIG); used for\n"
        "                 cli.endpoint\n"
        "  -e ENDPOINT    gateway endpoint (default: $TSCACHE_ENDPOINT, else\n"
        "                 cli.endpoint, tcp://127.0.0.1:5555)\n"
        "  -k FILE        own CURVE key pair: FILE and FILE_secret (default:\n"
        "                 security.cli_cert)\n"
        "  --server-key FILE\n"
        "                 the server's public key (default:\n"
        "                 security.gateway_cert; the broker's,\n"
        "                 security.broker_cert, to ask its control socket)\n"
        "  -t TIMEOUT_MS  how long to wait for each answer (default 5000)\n"
        "  --json         print JSON instead of text\n"
        "  --help, -h     show this help\n"
        "  --version      show the version of tscache and its libraries\n"
        "\n"
        "Exit status:\n"
        "  0  ok\n"
        "  1  error reply (or a hydrated id failed; source test: the fetch,\n"
        "     token or mapping failed)\n"
        "  2  usage or config error (source test: an unknown source)\n"
        "  3  no answer in time (or --wait timed out)\n"
        "\n"
        "Environment:\n"
        "  TSCACHE_CONFIG        the config file when -c is not given\n"
        "  TSCACHE_ENDPOINT      the gateway endpoint when -e is not given\n"
        "  TSCACHE_CLI_ENDPOINT  overrides cli.endpoint (TSCACHE_ + any key,\n"
        "                        upper case with '.' as '_')\n"
        "The CLI speaks ZeroMQ to the gateway and needs no API key: with\n"
        "security.mode curve (the default) its key must be in the\n"
        "gateway's security.read_clients_dir or admin_clients_dir. store\n"
        "init needs the AWS credentials of the backends it sets up\n"
        "(tscache-worker(1), \"Environment\").\n"
        "\n"
        "Files:\n"
        "  /etc/tscache/tscache.yaml  the config of a host install (make\n"
        "                             install); pass it with -c or\n"
        "                             $TSCACHE_CONFIG\n");
}

//  Looks arg up as an option. Sets *value to an attached value
//  ("--from=5", "-t500"), else NULL. Returns the option or S_OPT_COUNT_.
static s_opt_t
s_lookup (const char *arg, const char **value)
{
    *value = NULL;
    for (int o = 0; o < S_OPT_COUNT_; o++) {
        const char *name = s_options [o].name;
        size_t len = strlen (name);
        if (strcmp (arg, name) == 0)
            return (s_opt_t) o;
        if (!s_options [o].value || strncmp (arg, name, len) != 0)
            continue;
        if (name [1] == '-' && arg [len] == '=') {
            *value = arg + len + 1;
            return (s_opt_t) o;
        }
        if (name [1] != '-' && arg [len]) {
            *value = arg + len;
            return (s_opt_t) o;
        }
    }
    return S_OPT_COUNT_;
}

//  First pass: options and operands. Stops early, returning 0, at --help
//  or --version (setting args). Returns 0 or TS_EINVAL with err.
static int
s_split (ts_cli_args_t *args, int argc, char *const argv [],
         s_split_t *split, char *err)
{
    bool ended = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        if (!ended && strcmp (arg, "--") == 0) {
            ended = true;
            continue;
        }
        if (ended || arg [0] != '-' || arg [1] == 0) {
            split->operands [split->operands_n++] = arg;
            continue;
        }
        const char *value;
        s_opt_t opt = s_lookup (arg, &value);
        if (opt == S_OPT_COUNT_) {
            ts_errf (err, "unknown option '%.64s' (an argument that starts "
                     "with '-' goes after --)", arg);
            return TS_EINVAL;
        }
        if (opt == S_OPT_HELP || opt == S_OPT_HELP_SHORT) {
            args->help = true;
            return 0;
        }
        if (opt == S_OPT_VERSION) {
            args->version = true;
            return 0;
        }
        if (s_options [opt].value && !value) {
            if (i + 1 >= argc) {
                ts_errf (err, "%s needs a value", arg);
                return TS_EINVAL;
            }
            value = argv [++i];
        }
        split->found [split->found_n].opt = opt;
        split->found [split->found_n++].value = value;
    }
    return 0;
}

//  The op of the command at operands [0] (and [1]); sets *first to the
//  index of its first own operand. TS_OP_REPLY with err if there is no
//  such command.
static ts_op_t
s_command (const s_split_t *split, size_t *first, char *err)
{
    static const struct {
        const char *name, *sub;
        ts_op_t     op;
    } commands [] = {
        { "ping", NULL, TS_OP_PING },
        { "hydrate", NULL, TS_OP_HYDRATE },
        { "query", NULL, TS_OP_QUERY },
        { "stats", NULL, TS_OP_STATS },
        { "ids", "add", TS_OP_IDS_ADD },
        { "ids", "rm", TS_OP_IDS_RM },
        { "ids", "ls", TS_OP_IDS_LS },
        { "ids", "show", TS_OP_IDS_SHOW },
        { "dlq", "ls", TS_OP_DLQ_LS },
        { "dlq", "redrive", TS_OP_DLQ_REDRIVE },
        { "dlq", "purge", TS_OP_DLQ_PURGE },
    };
    const char *name = split->operands [0];
    const char *sub = split->operands_n > 1? split->operands [1]: "";
    bool known = false;
    for (size_t c = 0; c < sizeof commands / sizeof commands [0]; c++) {
        if (strcmp (name, commands [c].name) != 0)
            continue;
        known = true;
        if (!commands [c].sub) {
            *first = 1;
            return commands [c].op;
        }
        if (strcmp (sub, commands [c].sub) == 0) {
            *first = 2;
            return commands [c].op;
        }
    }
    if (!known)
        ts_errf (err, "unknown command '%.64s'", name);
    else
        ts_errf (err, "%s: expected %s, got '%.64s'", name,
                 strcmp (name, "ids") == 0? "add, rm or ls"
                                          : "ls, redrive or purge", sub);
    return TS_OP_REPLY;
}

//  Reads an integer of min..max from text. Returns 0 or TS_EINVAL.
static int
s_int (const char *text, long long min, long long max, long long *value)
{
    char *end = NULL;
    long long n = strtoll (text, &end, 10);
    if (!*text || *end || n < min || n > max)
        return TS_EINVAL;
    *value = n;
    return 0;
}

//  --from T or --to T (found) into *has_from and *from_ms, or *has_to
//  and *to_ms: a query's window or source test's. Returns 0 or TS_EINVAL.
static int
s_time_option (const s_found_t *found, bool *has_from, int64_t *from_ms,
               bool *has_to, int64_t *to_ms, char *err)
{
    int64_t ms = 0;
    if (ts_time_parse (found->value, &ms)) {
        ts_errf (err, "%s: bad time '%.64s': use epoch ms or RFC 3339",
                 s_options [found->opt].name, found->value);
        return TS_EINVAL;
    }
    bool from = found->opt == S_OPT_FROM;
    *(from? has_from: has_to) = true;
    *(from? from_ms: to_ms) = ms;
    return 0;
}

//  Applies one option to args and req (op known). Returns 0 or TS_EINVAL.
static int
s_apply (ts_cli_args_t *args, ts_msg_t *req, const char *command,
         const s_found_t *found, char *err)
{
    const char *name = s_options [found->opt].name;
    const char *value = found->value;
    ts_op_t only = s_options [found->opt].only;
    if (only != TS_OP_REPLY && only != req->op) {
        //  The command as typed: the op's wire name with ' ' for '_'
        //  (dlq_redrive is "dlq redrive").
        char owner [32];
        ts_strlcpy (owner, ts_op_name (only), sizeof owner);
        for (char *c = owner; *c; c++)
            if (*c == '_')
                *c = ' ';
        ts_errf (err, "%s: %s is an option of %s only", command, name, owner);
        return TS_EINVAL;
    }
    long long n;
    switch (found->opt) {
        case S_OPT_CONFIG:
            args->config_path = value;
            break;
        case S_OPT_ENDPOINT:
            args->endpoint = value;
            break;
        case S_OPT_KEY:
            args->key = value;
            break;
        case S_OPT_SERVER_KEY:
            args->server_key = value;
            break;
        case S_OPT_TIMEOUT_MS:
            if (s_int (value, 1, TS_CLI_TIMEOUT_MAX_MS, &n)) {
                ts_errf (err, "-t: '%.64s' is not a timeout in ms (1 to %d)",
                         value, TS_CLI_TIMEOUT_MAX_MS);
                return TS_EINVAL;
            }
            args->timeout_ms = (int) n;
            break;
        case S_OPT_JSON:
            args->json = true;
            break;
        case S_OPT_FROM:
        case S_OPT_TO:
            return s_time_option (found, &req->has_from, &req->from_ms,
                                  &req->has_to, &req->to_ms, err);
        case S_OPT_MEASURE:
            if (!ts_name_existing (value)) {
                ts_name_errf (err, "measure", value, strlen (value));
                return TS_EINVAL;
            }
            //  Repeated: every one (ts_query_add_measure keeps measure
            //  set while there is one).
            if (ts_query_add_measure (req, value, strlen (value), err))
                return TS_EINVAL;
            break;
        case S_OPT_STEP:
        case S_OPT_AGG:
        case S_OPT_MAX_POINTS:
        case S_OPT_FILL:
        case S_OPT_LIMIT:
        case S_OPT_NEXT: {
            //  The parameter's name: the option's without "--", '-' as
            //  '_' (max-points).
            char param [16];
            ts_strlcpy (param, name + 2, sizeof param);
            for (char *c = param; *c; c++)
                if (*c == '-')
                    *c = '_';
            if (!*value) {
                ts_errf (err, "%s: %s needs a value", command, name);
                return TS_EINVAL;
            }
            return ts_query_param (req, param, value, err)? TS_EINVAL: 0;
        }
        case S_OPT_JOB: {
            //  A job number as dlq ls prints it: decimal digits only
            //  (strtoull would take "-1" and " 1").
            char *end = NULL;
            errno = 0;
            unsigned long long job = strtoull (value, &end, 10);
            if (!*value || !isdigit ((unsigned char) *value) || *end
            ||  errno == ERANGE || job == 0) {
                ts_errf (err, "%s: --job: '%.64s' is not a job number "
                         "(as dlq ls prints it)", command, value);
                return TS_EINVAL;
            }
            if (req->jobs_n >= TS_PROTO_MAX_JOBS) {
                ts_errf (err, "%s: more than %d --job in one command",
                         command, TS_PROTO_MAX_JOBS);
                return TS_EINVAL;
            }
            if (ts_msg_add_job (req, (uint64_t) job)) {
                ts_errf (err, "out of memory");
                return TS_ENOMEM;
            }
            break;
        }
        case S_OPT_WAIT:
            args->wait = true;
            break;
        case S_OPT_FETCH:
            req->with_fetch = true;
            break;
        case S_OPT_COMPACT:
            req->enc = TS_ENC_COMPACT;
            break;
        case S_OPT_SOURCE:
            if (!ts_name_valid (value)) {
                ts_name_errf (err, "source", value, strlen (value));
                return TS_EINVAL;
            }
            ts_strlcpy (req->source, value, sizeof req->source);
            break;
        case S_OPT_WAIT_TIMEOUT: {
            char *end = NULL;
            double s = strtod (value, &end);
            if (!*value || *end || !(s > 0)
            ||  s * 1000 > TS_CLI_WAIT_MAX_MS) {
                ts_errf (err, "--timeout: '%.64s' is not a number of "
                         "seconds (over 0, at most %d)", value,
                         TS_CLI_WAIT_MAX_MS / 1000);
                return TS_EINVAL;
            }
            args->wait_ms = (int64_t) ceil (s * 1000);
            break;
        }
        default:
            break;
    }
    return 0;
}

//  Checks the command's operands and puts them in req.
static int
s_operands (ts_msg_t *req, const char *command, const char *const *ops,
            size_t n, char *err)
{
    ts_op_t op = req->op;
    bool ids = op == TS_OP_IDS_ADD || op == TS_OP_HYDRATE
            || op == TS_OP_DLQ_REDRIVE;
    bool one = op == TS_OP_IDS_RM || op == TS_OP_QUERY
            || op == TS_OP_IDS_SHOW;
    if (!ids && !one && n > 0) {
        ts_errf (err, "%s: unexpected '%.64s'", command, ops [0]);
        return TS_EINVAL;
    }
    bool needed = one || (ids && op != TS_OP_DLQ_REDRIVE);
    if (needed && n == 0) {
        ts_errf (err, "%s: give %s ID", command, one? "an": "at least one");
        return TS_EINVAL;
    }
    if (one && n > 1) {
        ts_errf (err, "%s: one ID only, '%.64s' is extra", command, ops [1]);
        return TS_EINVAL;
    }
    if (op == TS_OP_DLQ_REDRIVE && n > 0 && req->jobs_n > 0) {
        ts_errf (err, "%s: give IDs or --job, not both", command);
        return TS_EINVAL;
    }
    if (n > TS_PROTO_MAX_IDS) {
        ts_errf (err, "%s: %zu ids, at most %d in one command", command, n,
                 TS_PROTO_MAX_IDS);
        return TS_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        //  Only a removal may name an id from before the '-' rule.
        bool valid = op == TS_OP_IDS_RM || op == TS_OP_IDS_SHOW
                   ? ts_name_existing (ops [i]): ts_name_valid (ops [i]);
        if (!valid) {
            ts_name_errf (err, "id", ops [i], strlen (ops [i]));
            return TS_EINVAL;
        }
        if (one)
            ts_strlcpy (req->id, ops [i], sizeof req->id);
        else
        if (ts_strlist_append (req->ids, ops [i])) {
            ts_errf (err, "out of memory");
            return TS_ENOMEM;
        }
    }
    return 0;
}

//  A command the CLI runs itself, "WORD ARG" (store init, keys init,
//  keygen PATH): the second operand must be arg (NULL: any, returned in
//  *operand), nothing follows, -c the only option (the gateway is not
//  asked). Returns 0 or TS_EINVAL.
static int
s_local (ts_cli_args_t *args, const s_split_t *split, const char *arg,
         const char **operand, char *err)
{
    const char *word = split->operands [0];
    const char *sub = split->operands_n > 1? split->operands [1]: "";
    if (arg? strcmp (sub, arg) != 0: !*sub) {
        ts_errf (err, "%s: expected %s, got '%.64s'", word,
                 arg? arg: "PATH", sub);
        return TS_EINVAL;
    }
    char command [80];
    snprintf (command, sizeof command, "%s%s%s", word, arg? " ": "",
              arg? arg: "");
    if (split->operands_n > 2) {
        ts_errf (err, "%s: unexpected '%.64s'", command,
                 split->operands [2]);
        return TS_EINVAL;
    }
    //  source ls prints what it reads: it takes --json too.
    bool json_ok = strcmp (word, "source") == 0;
    for (size_t i = 0; i < split->found_n; i++) {
        if (json_ok && split->found [i].opt == S_OPT_JSON) {
            args->json = true;
            continue;
        }
        if (split->found [i].opt != S_OPT_CONFIG) {
            ts_errf (err, "%s: %s is not an option of %s (it takes -c "
                     "FILE)", command, s_options [split->found [i].opt].name,
                     command);
            return TS_EINVAL;
        }
        args->config_path = split->found [i].value;
    }
    if (operand)
        *operand = sub;
    return 0;
}

//  source test NAME ID: two operands, each a valid name; -c, --json,
//  --from and --to its options. Returns 0 or TS_EINVAL.
static int
s_source_test (ts_cli_args_t *args, const s_split_t *split, char *err)
{
    const char *command = "source test";
    if (split->operands_n != 4) {
        if (split->operands_n < 4)
            ts_errf (err, "%s: give NAME ID (a source of the config and an "
                     "id)", command);
        else
            ts_errf (err, "%s: unexpected '%.64s'", command,
                     split->operands [4]);
        return TS_EINVAL;
    }
    args->test_source = split->operands [2];
    args->test_id = split->operands [3];
    if (!ts_name_valid (args->test_source)) {
        ts_name_errf (err, "source", args->test_source,
                      strlen (args->test_source));
        return TS_EINVAL;
    }
    if (!ts_name_valid (args->test_id)) {
        ts_name_errf (err, "id", args->test_id, strlen (args->test_id));
        return TS_EINVAL;
    }
    for (size_t i = 0; i < split->found_n; i++) {
        const s_found_t *found = &split->found [i];
        switch (found->opt) {
            case S_OPT_CONFIG:
                args->config_path = found->value;
                break;
            case S_OPT_JSON:
                args->json = true;
                break;
            case S_OPT_FROM:
            case S_OPT_TO:
                if (s_time_option (found, &args->has_from, &args->from_ms,
                                   &args->has_to, &args->to_ms, err))
                    return TS_EINVAL;
                break;
            default:
                ts_errf (err, "%s: %s is not an option of %s (it takes -c "
                         "FILE, --json, --from T and --to T)", command,
                         s_options [found->opt].name, command);
                return TS_EINVAL;
        }
    }
    if (args->has_from && args->has_to && args->from_ms > args->to_ms) {
        ts_errf (err, "%s: --from is after --to", command);
        return TS_EINVAL;
    }
    return 0;
}

int
ts_cli_args_parse (ts_cli_args_t *args, ts_msg_t *req, int argc,
                   char *const argv [], char *err)
{
    memset (args, 0, sizeof *args);
    args->timeout_ms = TS_CLI_TIMEOUT_MS;
    args->wait_ms = TS_CLI_WAIT_MS;
    s_split_t split = { 0 };
    size_t slots = argc > 0? (size_t) argc: 1;
    split.found = calloc (slots, sizeof (s_found_t));
    split.operands = calloc (slots, sizeof (char *));
    int rc = split.found && split.operands? 0: TS_ENOMEM;
    if (rc)
        ts_errf (err, "out of memory");
    if (rc == 0)
        rc = s_split (args, argc, argv, &split, err);
    if (rc == 0 && !args->help && !args->version) {
        ts_op_t op = TS_OP_REPLY;
        size_t first = 0;
        if (split.operands_n == 0) {
            ts_errf (err, "give a COMMAND");
            rc = TS_EINVAL;
        }
        else
        if (strcmp (split.operands [0], "help") == 0)
            args->help = true;
        else
        if (strcmp (split.operands [0], "store") == 0) {
            rc = s_local (args, &split, "init", NULL, err);
            args->store_init = rc == 0;
        }
        else
        if (strcmp (split.operands [0], "keys") == 0) {
            rc = s_local (args, &split, "init", NULL, err);
            args->keys_init = rc == 0;
        }
        else
        if (strcmp (split.operands [0], "keygen") == 0)
            rc = s_local (args, &split, NULL, &args->keygen, err);
        else
        if (strcmp (split.operands [0], "source") == 0
        &&  split.operands_n > 1
        &&  strcmp (split.operands [1], "test") == 0) {
            rc = s_source_test (args, &split, err);
            args->source_test = rc == 0;
        }
        else
        if (strcmp (split.operands [0], "source") == 0) {
            rc = s_local (args, &split, "ls", NULL, err);
            args->source_ls = rc == 0;
        }
        else
        if ((op = s_command (&split, &first, err)) == TS_OP_REPLY)
            rc = TS_EINVAL;
        if (rc == 0 && !args->help && !args->store_init && !args->keys_init
        &&  !args->keygen && !args->source_ls && !args->source_test) {
            char command [32];
            snprintf (command, sizeof command, "%s%s%s",
                      split.operands [0], first > 1? " ": "",
                      first > 1? split.operands [1]: "");
            ts_msg_reset (req, op);
            bool wait_timeout = false;
            for (size_t i = 0; rc == 0 && i < split.found_n; i++) {
                rc = s_apply (args, req, command, &split.found [i], err);
                wait_timeout |= split.found [i].opt == S_OPT_WAIT_TIMEOUT;
            }
            if (rc == 0)
                rc = s_operands (req, command, split.operands + first,
                                 split.operands_n - first, err);
            //  --agg or --fill without --step or --max-points.
            if (rc == 0 && op == TS_OP_QUERY && ts_query_check (req, err)) {
                char detail [TS_ERRLEN];
                ts_strlcpy (detail, err, sizeof detail);
                ts_errf (err, "%s: %s", command, detail);
                rc = TS_EINVAL;
            }
            if (rc == 0 && wait_timeout && !args->wait) {
                ts_errf (err, "%s: --timeout needs --wait", command);
                rc = TS_EINVAL;
            }
        }
    }
    free (split.found);
    free (split.operands);
    return rc;
}
