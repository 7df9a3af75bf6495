"""tscache_bench_query - the query figures of make bench that issue 18
added (bench/bench runs them; docs/benchmarks.md):

  7. The cache-miss path beside the hit path, HTTP: wrk -t2 -c50 on
     GET /v1/series/{id}?from=&to= rotating over 100 ids, once with the
     same range every time (after the first round every answer comes from
     the answer cache: the hit path) and once with a new `from` on every
     request (each a few ms earlier than the last, never the same twice,
     so every request misses the cache and reads the store, merges and
     encodes: what dashboards with relative times cause), vs nginx
     serving one of those miss answers as a static file (the same bytes).
     Target: misses at >= 0.5x nginx.
  8. An aggregated query: GET /v1/series/{id}?from=&to=&step=1h&agg=avg
     over the 288-point series (epoch-aligned hour buckets: 24, or 25
     when the range does not start on the hour) vs InfluxDB's
     SELECT mean(value) ... GROUP BY time(1h) on the same points (wrk on
     both, -t2 -c50): computed, with a new `from` on every request (as
     figure 7's misses: every answer read from the store and aggregated,
     as InfluxDB does), and cached (the same range every time). Both
     answers are checked first: the same buckets, the same means.

The figures take what bench/bench started (the pipeline, the peers) and
a loader for new ids; they start nothing of their own but an nginx."""

import json
import math
import os
import urllib.parse
import urllib.request

from tscache_bench import cpu_run, fmt, log, wrk

MISS_IDS = 100
MISS_PREFIX = "miss-"

# wrk scripts. Each thread numbers its requests k and knows its thread
# number tid; a `from` that no request of the run used before (threads
# interleave: thread t uses offsets t, t + threads, ...) is less than one
# step (5 min) before the series' first point, so every answer holds the
# same points.
LUA_THREADS = """local counter = 0
function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
end
local k = 0
"""

# Figure 7: id k % n of the run's ids; with miss, a new `from`.
LUA_IDS = LUA_THREADS + """request = function()
    local from = %(from)d
    if %(miss)s then
        from = from - 1 - ((k * %(threads)d + tid) %% 299998)
    end
    local path = string.format("/v1/series/%(prefix)s%%03d?from=%%.0f&to=%(to)d",
                               k %% %(n)d, from)
    k = k + 1
    return wrk.format(nil, path)
end
"""

# Figure 8: one id's aggregated query, a new `from` every time.
LUA_AGG = LUA_THREADS + """request = function()
    local from = %(from)d - 1 - ((k * %(threads)d + tid) %% 299998)
    k = k + 1
    return wrk.format(nil, string.format(
        "/v1/series/%(id)s?from=%%.0f&to=%(to)d&step=1h&agg=avg", from))
end
"""


def _script(tmp, name, frm, to, miss, threads):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(LUA_IDS % {"from": frm, "to": to, "n": MISS_IDS,
                           "prefix": MISS_PREFIX, "threads": threads,
                           "miss": "true" if miss else "false"})
    return path


def _get(url, headers):
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


def figure7(p, peers, res, seconds, frm, to, load):
    """load(ids): registers and hydrates ids until each answers its 288
    history points."""
    ids = ["%s%03d" % (MISS_PREFIX, k) for k in range(MISS_IDS)]
    log("figure 7: cache misses vs hits over %d ids; loading them ..."
        % MISS_IDS)
    load(ids)
    token = {"x-security-token": p.api_key}
    base = "http://127.0.0.1:%d" % p.http_port
    st, body = _get("%s/v1/series/%s?from=%d&to=%d"
                    % (base, ids[0], frm - 1, to), token)
    if st != 200:
        raise RuntimeError("GET a miss answered %d" % st)
    static = peers.start_nginx(body, name="nginx-miss")
    log("  nginx serves one miss answer, %d bytes" % len(body))
    hdr = ["x-security-token: " + p.api_key]
    threads, conns = 2, 50
    hit_lua = _script(peers.tmp, "hit.lua", frm, to, False, threads)
    miss_lua = _script(peers.tmp, "miss.lua", frm, to, True, threads)
    wrk(base + "/", 1, 4, 1, headers=hdr, script=hit_lua)     # warm-up
    wrk(static, 1, 4, 1)
    gateway = p.procs["gateway"].pid
    nginx = peers.procs["nginx-miss"].pid
    hit = wrk(base + "/", threads, conns, seconds, headers=hdr,
              script=hit_lua)
    miss, miss_cpu = cpu_run(gateway, lambda: wrk(
        base + "/", threads, conns, seconds, headers=hdr, script=miss_lua))
    n, n_cpu = cpu_run(nginx, lambda: wrk(static, threads, conns, seconds))
    res["miss", conns] = (miss, hit, n)
    #  Server CPU per request (us): steadier than req/s on shared cores,
    #  where the other tenants' load moves both rates from run to run.
    if miss.get("requests") and n.get("requests"):
        res["miss_cpu_us"] = (1e6 * miss_cpu / miss["requests"],
                              1e6 * n_cpu / n["requests"])
    res["miss_bytes"] = len(body)
    log("  c%d: misses %.0f req/s (p50 %.3f, p99 %.3f ms, %d errors), "
        "hits %.0f req/s (p50 %.3f, p99 %.3f ms, %d errors), nginx %.0f "
        "req/s (p50 %.3f, p99 %.3f ms)"
        % (conns, miss["rps"], miss["p50"], miss["p99"], miss["errors"],
           hit["rps"], hit["p50"], hit["p99"], hit["errors"], n["rps"],
           n["p50"], n["p99"]))


def _influx_buckets(doc):
    series = (((doc or {}).get("results") or [{}])[0].get("series")
              or [{}])[0].get("values") or []
    return [(t, v) for t, v in series if v is not None]


def figure8(p, peers, res, seconds, series, frm, to):
    """Needs peers.influx_url holding series (figure 2 loads it)."""
    log("figure 8: aggregated query (step=1h agg=avg) vs InfluxDB GROUP "
        "BY time(1h)")
    path = "/v1/series/%s?from=%d&to=%d&step=1h&agg=avg" % (series, frm, to)
    url = "http://127.0.0.1:%d%s" % (p.http_port, path)
    token = {"x-security-token": p.api_key}
    st, body = _get(url, token)
    doc = json.loads(body) if st == 200 else {}
    ours = [(pt["time"], pt["value"]) for pt in doc.get("points", [])
            if pt.get("source") == "history"]
    q = ("SELECT mean(value) FROM m WHERE id='%s' AND time >= %dms AND "
         "time <= %dms GROUP BY time(1h)" % (series, frm, to))
    params = {"db": "bench", "epoch": "ms", "q": q}
    theirs = _influx_buckets(peers.influx("/query", params))
    same = len(ours) == len(theirs) and all(
        a[0] == b[0] and math.isclose(a[1], b[1], rel_tol=1e-9)
        for a, b in zip(ours, theirs))
    if st != 200 or not same or not ours:
        res["agg_error"] = (
            "GET %s answered %d with %d buckets, InfluxDB %d (%s)"
            % (path, st, len(ours), len(theirs),
               body[:200].decode("utf-8", "replace") if st != 200
               else "different buckets"))
        log("  not run: " + res["agg_error"])
        return
    influx_url = peers.influx_url + "/query?" + urllib.parse.urlencode(params)
    hdr = ["x-security-token: " + p.api_key]
    wrk(url, 1, 4, 1, headers=hdr)
    wrk(influx_url, 1, 4, 1)
    lua = os.path.join(peers.tmp, "agg.lua")
    with open(lua, "w") as f:
        f.write(LUA_AGG % {"from": frm, "to": to, "id": series,
                           "threads": 2})
    base = "http://127.0.0.1:%d/" % p.http_port
    c = wrk(base, 2, 50, seconds, headers=hdr, script=lua)
    g = wrk(url, 2, 50, seconds, headers=hdr)
    i = wrk(influx_url, 2, 50, seconds)
    res["agg", 50] = (c, g, i)
    res["agg_buckets"] = len(ours)
    log("  c50: tscache computed %.0f req/s (p50 %.3f, p99 %.3f ms, %d "
        "errors), cached %.0f req/s (p50 %.3f, p99 %.3f ms, %d errors), %d "
        "buckets; influxdb %.0f req/s (p50 %.3f, p99 %.3f ms, %d errors)"
        % (c["rps"], c["p50"], c["p99"], c["errors"], g["rps"], g["p50"],
           g["p99"], g["errors"], len(ours), i["rps"], i["p50"], i["p99"],
           i["errors"]))


def rows(res, ratio_row, lat_row, out):
    """Appends figure 7 and 8's table rows (bench/bench's helpers)."""
    if ("miss", 50) in res:
        miss, hit, n = res["miss", 50]
        ratio_row("7", "HTTP cache misses c50 (a new from per request, 100 "
                  "ids), req/s (tscache vs nginx static, %s-byte answer)"
                  % fmt(res["miss_bytes"]), miss["rps"], n["rps"], 0.5)
        ratio_row("7", "HTTP cache misses vs hits c50 (same 100 ids, same "
                  "range), req/s", miss["rps"], hit["rps"], None)
        ratio_row("7", "HTTP cache hits c50, 100 ids, req/s (tscache vs "
                  "nginx static)", hit["rps"], n["rps"], None)
        if "miss_cpu_us" in res:
            mine, theirs = res["miss_cpu_us"]
            #  As a rate: requests per server CPU second, so that the
            #  ratio reads as the req/s one does.
            ratio_row("7", "HTTP cache misses c50, requests per server CPU "
                      "second (tscache gateway vs nginx master + workers; "
                      "%.1f vs %.1f us a request)" % (mine, theirs),
                      1e6 / mine, 1e6 / theirs, None)
        lat_row("7", "misses c50, p50 ms (tscache vs nginx)", miss["p50"],
                n["p50"])
        lat_row("7", "misses c50, p99 ms (tscache vs nginx)", miss["p99"],
                n["p99"])
    if "agg_error" in res:
        out.append(("8", "aggregated query: not run (see the notes)", "-",
                    "-", "-", "-", "-"))
    if ("agg", 50) in res:
        c, g, i = res["agg", 50]
        ratio_row("8", "HTTP aggregated query c50, 288 points -> %d buckets, "
                  "computed (a new from per request; step=1h agg=avg vs "
                  "InfluxDB GROUP BY time(1h)), req/s" % res["agg_buckets"],
                  c["rps"], i["rps"], None)
        ratio_row("8", "HTTP aggregated query c50, cached (the same range) "
                  "vs InfluxDB, req/s", g["rps"], i["rps"], None)
        lat_row("8", "aggregated computed c50, p50 ms (tscache vs "
                "InfluxDB)", c["p50"], i["p50"])
        lat_row("8", "aggregated computed c50, p99 ms (tscache vs "
                "InfluxDB)", c["p99"], i["p99"])
