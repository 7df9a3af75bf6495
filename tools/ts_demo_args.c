/*  ts_demo_args - the demo upstream's command line and --help text.
    See ts_demo_args.h. */

#include "ts_demo_args.h"
#include "ts_demo_auth.h"
#include "ts_demo_series.h"
#include "ts_version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
"Usage: tscache-demo-upstream [options]\n"
"\n"
"A demo upstream API serving deterministic five-minute series for any id.\n"
"\n"
"  --port N                 TCP port (default 8090; 0 picks a free one)\n"
"  --bind ADDR              address to listen on (default 127.0.0.1)\n"
"  --now MS                 pin the clock to epoch ms (default: real time)\n"
"  --latency-ms N           sleep N ms before each data answer\n"
"  --history-days D         serve D days of past (1..3660, default 1)\n"
"  --fail-rate P            answer 500 to a fraction P (0..1) of data requests\n"
"  --require-key-env NAME   data requests need header x-api-key equal to $NAME\n"
"  --key-param P            ... and query parameter P equal to it too; a wrong\n"
"                           one is quoted back in the 401 answer\n"
"  --help, -h               this text\n"
"  --version                the version of tscache and its libraries\n"
"\n"
"Prints 'listening on http://ADDR:PORT' once ready; SIGINT/SIGTERM stop it.\n"
"\n"
"Endpoints:\n"
"  GET  /rows/{id}?from=&to=     [{\"time\": ms, \"value\": v, \"humidity\": h}, ...]\n"
"  GET  /columns/{id}?from=&to=  {\"hourly\": {\"time\": [ISO 8601 Z], \"value\": [..],\n"
"                                \"humidity\": [..]}, ...}\n"
"  GET  /local/{id}?from=&to=    /columns with local times, no zone, and\n"
"                                \"utc_offset_seconds\" (Open-Meteo &timezone=)\n"
"  GET  /positional/{id}?from=&to=  [[ms, value, humidity], ...]\n"
"  GET  /healthz                 ok\n"
"  GET  /control                 current behaviour and data request count\n"
"  POST /control                 {\"latency_ms\": N, \"fail_rate\": P, \"now_ms\": N|null,\n"
"                                 \"mode\": \"ok|500|429|404|401|timeout|malformed|\n"
"                                 truncated|oversized\", \"history_days\": D,\n"
"                                 \"rate_limit\": N (per 1 s\n"
"                                 window, 429 past it; 0 off), \"retry_after_s\": S\n"
"                                 (of every 429; 0 none), \"reset_log\": true}\n"
"                                 GET /control's \"rate\" has the requests per\n"
"                                 second and the peak in any 1 s window\n"
"                                (401: answer as if the key were wrong)\n"
"                                \"local_offset_s\": N (/local, default 3600),\n"
"                                \"local_offset_field\": false (/local without it),\n"
"                                \"null_markers\": true|false (/local and\n"
"                                /positional values as strings, every 5th\n"
"                                humidity \"n/a\", every 7th value \"\")\n"
"                                \"pages\": {\"style\": \"off|page|offset|cursor|next|link\",\n"
"                                 \"size\": N, \"fail_page\": N, \"host\": ORIGIN|null}:\n"
"                                serve the series in pages of size (default 100);\n"
"                                page: ?page=&per_page=, offset: ?offset=&limit=,\n"
"                                cursor: \"next_cursor\" -> ?cursor=, next: relative\n"
"                                \"links.next\", link: absolute Link rel=\"next\"; rows\n"
"                                then come as {\"data\": [...], ...} (link: as without\n"
"                                pages); page fail_page gets 500; host: the origin\n"
"                                next links name instead of this server's\n"
"\n"
"Series: base = floor(now / 300000) * 300000; times base - k * 300000 for\n"
"k = 288 * D..1 (D = history_days, default 1) and base + k * 300000 for\n"
"k = 1..288 (576 points for D = 1, base itself excluded), kept within [from, to] (epoch ms or RFC 3339) if given. Value:\n"
"  slot   = floor(time / 300000) mod 288\n"
"  phase  = 2 pi * (fnv1a(id \"/\" measure) mod 1000) / 1000\n"
"  offset = (fnv1a(id) mod 100) / 10\n"
"  v      = round4(20 + 10 * sin(2 pi * slot / 288 + phase) + offset)\n"
"fnv1a is 64-bit FNV-1a; values are printed with %%.4f.\n"
"\n"
"With fail rate P, data request k (counted since start or the last fail_rate\n"
"change) gets 500 when floor(k * P) > floor((k - 1) * P).\n"
"\n"
"  POST /rows/{id}, /columns/{id}  the same, from/to in a JSON or form body\n"
"\n");
    ts_demo_auth_usage (out);
    fprintf (out,
"\n"
"Environment:\n"
"  $NAME of --require-key-env  the key data requests must carry\n"
"  $NAME of --oauth2-*-env     the OAuth2 client id and secret accepted\n"
"\n"
"Exit status:\n"
"  0  stopped by SIGINT or SIGTERM, or after --help or --version\n"
"  2  usage error, or the address cannot be listened on\n");
}

int
ts_demo_args_die (const char *what, const char *arg)
{
    fprintf (stderr, "tscache-demo-upstream: %s%s%s\n", what,
             arg? ": ": "", arg? arg: "");
    return 2;
}

//  Reads an integer option value in [min, max]. Returns 0 or -1.
static int
s_int_arg (const char *text, int64_t min, int64_t max, int64_t *value)
{
    char *end = NULL;
    long long n = strtoll (text, &end, 10);
    if (!*text || *end || n < min || n > max)
        return -1;
    *value = n;
    return 0;
}

int
ts_demo_args_parse (int argc, char *argv [], ts_demo_args_t *args)
{
    for (int i = 1; i < argc; i++) {
        const char *opt = argv [i];
        if (strcmp (opt, "--help") == 0 || strcmp (opt, "-h") == 0) {
            s_usage (stdout);
            return 0;
        }
        if (strcmp (opt, "--version") == 0) {
            static char libs [96];
            snprintf (libs, sizeof libs, "libmicrohttpd %s, jansson %s",
                      MHD_get_version (), jansson_version_str ());
            ts_version_use (libs);
            ts_version_print (stdout, "tscache-demo-upstream");
            return 0;
        }
        int taken = ts_demo_auth_option (opt, i + 1 < argc? argv [i + 1]
                                                       : NULL);
        if (taken < 0)
            return ts_demo_args_die ("bad value or unset variable for", opt);
        if (taken > 0) {
            i += taken == 1? 1: 0;
            continue;
        }
        static const char *known [] = { "--port", "--bind", "--now",
            "--latency-ms", "--history-days", "--fail-rate",
            "--require-key-env", "--key-param", NULL };
        size_t o = 0;
        while (known [o] && strcmp (opt, known [o]) != 0)
            o++;
        if (!known [o]) {
            s_usage (stderr);
            return ts_demo_args_die ("unknown option", opt);
        }
        const char *arg = i + 1 < argc? argv [i + 1]: NULL;
        if (!arg)
            return ts_demo_args_die ("missing value for", opt);
        i++;
        int rc = 0;
        if (strcmp (opt, "--port") == 0)
            rc = s_int_arg (arg, 0, 65535, &args->port);
        else
        if (strcmp (opt, "--bind") == 0)
            args->bind_addr = arg;
        else
        if (strcmp (opt, "--now") == 0)
            rc = s_int_arg (arg, 0, INT64_MAX / 2, &args->now_ms);
        else
        if (strcmp (opt, "--latency-ms") == 0)
            rc = s_int_arg (arg, 0, 600000, &args->latency_ms);
        else
        if (strcmp (opt, "--history-days") == 0)
            rc = s_int_arg (arg, 1, TS_DEMO_HISTORY_DAYS_MAX,
                            &args->history_days);
        else
        if (strcmp (opt, "--fail-rate") == 0) {
            char *end = NULL;
            args->fail_rate = strtod (arg, &end);
            rc = (*end || end == arg || !(args->fail_rate >= 0
                  && args->fail_rate <= 1))? -1: 0;
        }
        else
        if (strcmp (opt, "--key-param") == 0)
            args->key_param = arg;
        else
        if (strcmp (opt, "--require-key-env") == 0) {
            const char *key = getenv (arg);
            if (!key || !*key)
                return ts_demo_args_die ("environment variable is not set", arg);
            args->api_key = strdup (key);
            if (!args->api_key)
                return ts_demo_args_die ("out of memory", NULL);
        }
        if (rc != 0)
            return ts_demo_args_die ("bad value for", opt);
    }
    return -1;
}
