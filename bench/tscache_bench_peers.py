"""tscache_bench_peers - figure 10 of make bench, the peers a user would
pick instead of tscache today, both from Debian (issue 19; bench/bench
runs it; docs/benchmarks.md):

 10. VictoriaMetrics and Varnish beside the gateway's HTTP query of the
     same 288-point series, wrk -t2 -c50 on each side, one after the
     other; also the server CPU each request cost (the process and its
     children over the wrk run).
     - VictoriaMetrics (victoria-metrics, the single-node server): the
       288 points imported through /api/v1/import (one JSON line, metric
       m, label id), flushed (/internal/force_flush) and read back by
       /api/v1/export, every time and value, before any timing.
       Raw points: /api/v1/export?match[]=m{id="ID"}&start=&end= vs
       GET /v1/series/{id}?from=&to=. Aggregated: /api/v1/query_range
       ?query=avg_over_time(m{id="ID"}[1h])&start=&end=&step=3600 vs the
       gateway's step=1h&agg=avg (figure 8's query), computed (a new
       `from` per request, figure 8's wrk script) and cached (the same
       range); VictoriaMetrics gets the same range every request, and
       the hits of its rollup result cache over the run are counted (none
       so far: it computes every answer). The two do not cut the same
       buckets: VictoriaMetrics' step T averages the points in (T-1h, T]
       with T = start + k hours, the gateway's bucket t the points in
       [t, t+1h) with t on the hour. So checked first: each of
       VictoriaMetrics' steps holds the mean of the imported points in
       its own window; and the same query with `offset 1ms` and start on
       the hour after the gateway's first bucket (windows [T-1h, T))
       answers the gateway's buckets, one step later, mean for mean.
     - Varnish (varnishd) in front of the demo upstream, with a generated
       VCL that keeps the upstream's answer an hour whatever its headers
       say: GET /rows/{id}?from=&to= for the query's range, the
       upstream's own document (the same 288 points, with a second
       measure, in the upstream's layout) vs the gateway's query: two
       different documents, both sizes shown. Checked first: Varnish's
       second answer is a hit (X-Varnish names two requests), byte for
       byte what the upstream serves, with the gateway's 288 times and
       values.

It starts victoria-metrics and varnishd through bench/bench's Peers,
which stops them, and nothing else."""

import json
import math
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from tscache_bench import cpu_run, fmt, log, which, wrk
from tscache_bench_query import LUA_AGG
from tscache_e2e import free_port, wait_for

HOUR_MS = 3600000
THREADS, CONNS = 2, 50
METRIC = 'm{id="%s"}'
AVG = "avg_over_time(%s[1h]%s)"

# Every answer is cached an hour: the upstream's headers (it sends no
# Cache-Control) and the request's would otherwise decide.
VCL = """vcl 4.1;
backend upstream {
    .host = "127.0.0.1";
    .port = "%(port)d";
}
sub vcl_recv {
    unset req.http.Cookie;
    return (hash);
}
sub vcl_backend_response {
    set beresp.ttl = 1h;
    set beresp.grace = 0s;
    unset beresp.http.Set-Cookie;
    return (deliver);
}
"""


def _get(url, headers=None):
    """(status, headers, body) of one GET; HTTP errors are answers."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _seconds(ms):
    """Milliseconds as VictoriaMetrics' start and end take them."""
    return "%d.%03d" % divmod(ms, 1000)


def _up(peers, name, url):
    def answers():
        peers.alive(name)
        try:
            return _get(url)[0] == 200
        except OSError:
            return False
    if not wait_for(answers, 30, 0.1):
        raise RuntimeError("%s did not answer: %s" % (name,
                                                      peers.log_tail(name)))


def start_victoria(peers):
    """victoria-metrics on a free port, its data in the peers' directory;
    returns its base URL once /health answers."""
    d = os.path.join(peers.tmp, "victoria-metrics")
    os.makedirs(d)
    port = free_port()
    # 100y: whatever `now` the demo runs at, its points are kept.
    peers.spawn("victoria-metrics", [
        which("victoria-metrics"), "-httpListenAddr=127.0.0.1:%d" % port,
        "-storageDataPath=" + d, "-retentionPeriod=100y",
        "-loggerLevel=WARN"])
    url = "http://127.0.0.1:%d" % port
    _up(peers, "victoria-metrics", url + "/health")
    return url


def start_varnish(peers, upstream_port, path):
    """varnishd in the foreground (-F: the peers own the process; the
    child drops to the package's vcache user) in front of the upstream,
    64 MB of malloc storage; returns (its base URL, its -n directory)
    once path answers (that first request fills the cache)."""
    d = os.path.join(peers.tmp, "varnish")
    os.makedirs(d)
    os.chmod(d, 0o755)
    vcl = os.path.join(d, "bench.vcl")
    with open(vcl, "w") as f:
        f.write(VCL % {"port": upstream_port})
    os.chmod(vcl, 0o644)
    port = free_port()
    peers.spawn("varnish", [which("varnishd"), "-F", "-n",
                            os.path.join(d, "work"), "-a",
                            "127.0.0.1:%d" % port, "-f", vcl, "-s",
                            "malloc,64m", "-T", "none"])
    url = "http://127.0.0.1:%d" % port
    _up(peers, "varnish", url + path)
    return url, os.path.join(d, "work")


def varnish_fetches(workdir):
    """Requests Varnish (-n workdir) has made to the upstream so far
    (varnishstat's MAIN.backend_req), or None if it does not say."""
    r = subprocess.run([which("varnishstat"), "-n", workdir, "-1", "-t",
                        "5", "-f", "MAIN.backend_req"],
                       capture_output=True, text=True, timeout=30)
    for line in r.stdout.splitlines():
        words = line.split()
        if len(words) > 1 and words[0] == "MAIN.backend_req" \
                and words[1].isdigit():
            return int(words[1])
    return None


def _vm_points(body):
    """(time ms, value) pairs of an /api/v1/export answer of one
    series."""
    try:
        lines = body.decode().splitlines()
        if len(lines) != 1:
            raise RuntimeError("%d series exported, expected 1" % len(lines))
        one = json.loads(lines[0])
        return list(zip(one["timestamps"], one["values"]))
    except (ValueError, KeyError, TypeError) as e:
        raise RuntimeError("VictoriaMetrics' export not understood: %s" % e)


def _vm_steps(body):
    """(time ms, value) pairs of a /api/v1/query_range answer of one
    series."""
    try:
        doc = json.loads(body)
        result = doc["data"]["result"]
        if len(result) != 1:
            raise RuntimeError("%d series in a query_range answer, "
                               "expected 1" % len(result))
        return [(round(float(t) * 1000), float(v))
                for t, v in result[0]["values"]]
    except (ValueError, KeyError, TypeError) as e:
        raise RuntimeError("VictoriaMetrics' query_range not understood: "
                           "%s" % e)


def _mean(points, lo, hi, closed_left):
    """Mean of the values with lo < time <= hi ([lo, hi) if
    closed_left); None if none."""
    vals = [v for t, v in points
            if (lo <= t < hi if closed_left else lo < t <= hi)]
    return sum(vals) / len(vals) if vals else None


def _same(a, b):
    return len(a) == len(b) and all(
        x[0] == y[0] and x[1] is not None and y[1] is not None
        and math.isclose(x[1], y[1], rel_tol=1e-9) for x, y in zip(a, b))


def _load_victoria(vm, series, frm, to, points):
    """Imports points as series and checks that the export answers them
    all; returns (the export URL of the range, its answer's bytes)."""
    line = json.dumps({"metric": {"__name__": "m", "id": series},
                       "values": [v for _, v in points],
                       "timestamps": [t for t, _ in points]})
    req = urllib.request.Request(vm + "/api/v1/import",
                                 data=(line + "\n").encode(), method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status not in (200, 204):
            raise RuntimeError("VictoriaMetrics' import answered %d"
                               % r.status)
    st, _, body = _get(vm + "/internal/force_flush")
    if st != 200:
        raise RuntimeError("VictoriaMetrics' force_flush answered %d" % st)
    url = vm + "/api/v1/export?" + urllib.parse.urlencode({
        "match[]": METRIC % series, "start": _seconds(frm),
        "end": _seconds(to)})
    st, _, body = _get(url)
    got = _vm_points(body) if st == 200 else []
    if got != points:
        raise RuntimeError("VictoriaMetrics exports %d points (status %d), "
                           "not the %d imported" % (len(got), st,
                                                    len(points)))
    return url, len(body)


def _query_range(vm, series, start, end, offset=""):
    return vm + "/api/v1/query_range?" + urllib.parse.urlencode({
        "query": AVG % (METRIC % series, offset), "start": _seconds(start),
        "end": _seconds(end), "step": "3600"})


def _check_aggregates(vm, series, frm, to, points, buckets):
    """Checks VictoriaMetrics' avg_over_time against its own windows and,
    shifted, against the gateway's buckets (see the module's comment);
    returns (the timed query_range URL, its answer's bytes, its steps)."""
    url = _query_range(vm, series, frm, to)
    st, _, body = _get(url)
    steps = _vm_steps(body) if st == 200 else []
    want = [(t, _mean(points, t - HOUR_MS, t, False))
            for t in range(frm, to + 1, HOUR_MS)]
    if not _same(steps, want):
        raise RuntimeError("VictoriaMetrics' avg_over_time answered %d "
                           "steps (status %d), not the means of its %d "
                           "windows" % (len(steps), st, len(want)))
    first, last = buckets[0][0], buckets[-1][0]
    st, _, shifted = _get(_query_range(vm, series, first + HOUR_MS,
                                       last + HOUR_MS, " offset 1ms"))
    moved = [(t - HOUR_MS, v)
             for t, v in (_vm_steps(shifted) if st == 200 else [])]
    if not _same(moved, buckets):
        raise RuntimeError("VictoriaMetrics' windows [T-1h, T) are not the "
                           "gateway's %d buckets one step later (%d steps)"
                           % (len(buckets), len(moved)))
    return url, len(body), len(steps)


def _check_varnish(varnish, upstream, path, points):
    """Checks Varnish's cached answer; returns its bytes."""
    st, _, direct = _get(upstream + path)
    if st != 200:
        raise RuntimeError("the upstream answered %d" % st)
    st, headers, cached = _get(varnish + path)
    hit = len((headers.get("X-Varnish") or "").split()) == 2
    if st != 200 or not hit or cached != direct:
        raise RuntimeError("Varnish answered %d, %s, %s the upstream's "
                           "%d bytes" % (st, "a hit" if hit else "a miss",
                                         "with" if cached == direct
                                         else "not", len(direct)))
    try:
        theirs = [(pt["time"], pt["value"]) for pt in json.loads(cached)]
    except (ValueError, KeyError, TypeError) as e:
        raise RuntimeError("the upstream's document not understood: %s" % e)
    if theirs != points:
        raise RuntimeError("the upstream's document holds %d points, not "
                           "the gateway's %d" % (len(theirs), len(points)))
    return len(cached)


def _vm_cache_hits(vm):
    """Full and partial hits of VictoriaMetrics' rollup result cache so
    far (its /metrics), or None if it does not say."""
    st, _, body = _get(vm + "/metrics")
    hits = None
    for line in body.decode("utf-8", "replace").splitlines() \
            if st == 200 else []:
        words = line.split()
        if len(words) == 2 and words[0] in (
                "vm_rollup_result_cache_full_hits_total",
                "vm_rollup_result_cache_partial_hits_total"):
            try:
                hits = (hits or 0) + int(float(words[1]))
            except ValueError:
                pass
    return hits


def _timed(pid, url, seconds, headers=(), script=None):
    """wrk -t2 -c50 on url for seconds, with the server CPU (process pid
    and its children) per request in "cpu_us"."""
    r, cpu = cpu_run(pid, lambda: wrk(url, THREADS, CONNS, seconds,
                                      headers=headers, script=script))
    r["cpu_us"] = 1e6 * cpu / r["requests"] if r.get("requests") else None
    return r


def _log(what, a, b):
    log("  %s: tscache %.0f req/s (p50 %.3f, p99 %.3f ms, %d errors), "
        "peer %.0f req/s (p50 %.3f, p99 %.3f ms, %d errors)"
        % (what, a["rps"], a["p50"], a["p99"], a["errors"], b["rps"],
           b["p50"], b["p99"], b["errors"]))


def figure10(p, peers, res, seconds, series, frm, to, points):
    """p: the pipeline holding series, whose gateway answers its history
    points (time, value) for [frm, to]."""
    log("figure 10: VictoriaMetrics and Varnish, the peers a user would "
        "pick instead; loading them ...")
    base = "http://127.0.0.1:%d" % p.http_port
    token = {"x-security-token": p.api_key}
    hdr = ["x-security-token: " + p.api_key]
    raw_url = "%s/v1/series/%s?from=%d&to=%d" % (base, series, frm, to)
    agg_url = raw_url + "&step=1h&agg=avg"
    st, _, raw = _get(raw_url, token)
    st2, _, agg = _get(agg_url, token)
    if st != 200 or st2 != 200:
        raise RuntimeError("the gateway answered %d and %d" % (st, st2))
    try:
        buckets = [(pt["time"], pt["value"])
                   for pt in json.loads(agg).get("points", [])
                   if pt.get("source") == "history"]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise RuntimeError("the gateway's aggregated answer not "
                           "understood: %s" % e)
    if not buckets:
        raise RuntimeError("the gateway's aggregated answer has no buckets")
    vm = start_victoria(peers)
    export_url, export_bytes = _load_victoria(vm, series, frm, to, points)
    log("  VictoriaMetrics: %d points imported and exported back, %s "
        "bytes" % (len(points), fmt(export_bytes)))
    range_url, range_bytes, steps = _check_aggregates(vm, series, frm, to,
                                                      points, buckets)
    log("  VictoriaMetrics: avg_over_time, %d steps, each its window's "
        "mean; with offset 1ms the gateway's %d buckets" % (steps,
                                                            len(buckets)))
    upstream = "http://127.0.0.1:%d" % p.upstream_port
    path = "/rows/%s?from=%d&to=%d" % (series, frm, to)
    varnish, workdir = start_varnish(peers, p.upstream_port, path)
    doc_bytes = _check_varnish(varnish, upstream, path, points)
    log("  Varnish: a hit, the upstream's %s-byte document byte for byte"
        % fmt(doc_bytes))
    for url in (raw_url, agg_url):
        wrk(url, 1, 4, 1, headers=hdr)              # warm-up
    for url in (export_url, range_url, varnish + path):
        wrk(url, 1, 4, 1)
    gateway = p.procs["gateway"].pid
    vm_pid = peers.procs["victoria-metrics"].pid
    varnish_pid = peers.procs["varnish"].pid
    g = _timed(gateway, raw_url, seconds, hdr)
    v = _timed(vm_pid, export_url, seconds)
    _log("raw points c%d" % CONNS, g, v)
    # The gateway's aggregate cached (the same range) and computed (a new
    # `from` per request: figure 8's script); VictoriaMetrics is asked
    # the same range every time, and its rollup result cache's hits
    # over the run say whether it computed.
    lua = os.path.join(peers.tmp, "agg-peers.lua")
    with open(lua, "w") as f:
        f.write(LUA_AGG % {"from": frm, "to": to, "id": series,
                           "threads": THREADS})
    ga = _timed(gateway, agg_url, seconds, hdr)
    gc = _timed(gateway, base + "/", seconds, hdr, lua)
    hits = _vm_cache_hits(vm)
    va = _timed(vm_pid, range_url, seconds)
    after = _vm_cache_hits(vm)
    hits = after - hits if hits is not None and after is not None \
        else None
    _log("aggregated c%d, cached" % CONNS, ga, va)
    _log("aggregated c%d, computed" % CONNS, gc, va)
    log("  VictoriaMetrics' rollup result cache: %s hits over its run"
        % fmt(hits))
    # The gateway's raw query again, just before Varnish rather than the
    # first run's figure: the two sides of a ratio back to back, as the
    # machine's load drifts.
    gv = _timed(gateway, raw_url, seconds, hdr)
    n = _timed(varnish_pid, varnish + path, seconds)
    _log("vs Varnish c%d" % CONNS, gv, n)
    fetches = varnish_fetches(workdir)
    log("  Varnish fetched from the upstream %s time(s) in all"
        % fmt(fetches))
    res["vm", CONNS] = (g, v, ga, gc, va)
    res["varnish", CONNS] = (gv, n)
    res["peers"] = {"raw_bytes": (len(raw), export_bytes),
                    "agg_bytes": (len(agg), range_bytes),
                    "buckets": (len(buckets), steps), "vm_hits": hits,
                    "doc_bytes": (len(raw), doc_bytes),
                    "varnish_fetches": fetches}


def rows(res, ratio_row, lat_row, out):
    """Appends figure 10's table rows (bench/bench's helpers)."""
    if "peers_error" in res:
        out.append(("10", "VictoriaMetrics and Varnish: not run (see the "
                    "notes)", "-", "-", "-", "-", "-"))
    info = res.get("peers")
    if not info:
        return

    def cpu_row(what, ours, theirs):
        mine, other = ours.get("cpu_us"), theirs.get("cpu_us")
        if mine and other:
            #  As a rate, so that the ratio reads as the req/s one does.
            ratio_row("10", "%s c%d, requests per server CPU second (%.1f "
                      "vs %.1f us a request)" % (what, CONNS, mine, other),
                      1e6 / mine, 1e6 / other, None)

    def latency(what, ours, theirs):
        lat_row("10", "%s c%d, p50 ms" % (what, CONNS), ours["p50"],
                theirs["p50"])
        lat_row("10", "%s c%d, p99 ms" % (what, CONNS), ours["p99"],
                theirs["p99"])

    g, v, ga, gc, va = res["vm", CONNS]
    ratio_row("10", "HTTP raw points c%d, 288 points, req/s (tscache GET "
              "/v1/series, %s bytes JSON, vs VictoriaMetrics "
              "/api/v1/export, %s bytes JSON line)"
              % ((CONNS,) + tuple(fmt(b) for b in info["raw_bytes"])),
              g["rps"], v["rps"], None)
    cpu_row("raw points, tscache vs VictoriaMetrics", g, v)
    latency("raw points, tscache vs VictoriaMetrics", g, v)
    vm_query = ("VictoriaMetrics query_range avg_over_time [1h] step 3600, "
                "%d steps, %s bytes, the same range every request, %s "
                "rollup result cache hits" % (
                    info["buckets"][1], fmt(info["agg_bytes"][1]),
                    fmt(info["vm_hits"])))
    ratio_row("10", "HTTP aggregated c%d, computed, req/s (tscache "
              "step=1h agg=avg with a new from per request, %d buckets, %s "
              "bytes, vs %s)" % (CONNS, info["buckets"][0],
                                 fmt(info["agg_bytes"][0]), vm_query),
              gc["rps"], va["rps"], None)
    cpu_row("aggregated computed, tscache vs VictoriaMetrics", gc, va)
    latency("aggregated computed, tscache vs VictoriaMetrics", gc, va)
    ratio_row("10", "HTTP aggregated c%d, cached (tscache the same range "
              "every request) vs VictoriaMetrics, req/s" % CONNS,
              ga["rps"], va["rps"], None)
    cpu_row("aggregated cached, tscache vs VictoriaMetrics", ga, va)
    gv, n = res["varnish", CONNS]
    ratio_row("10", "HTTP c%d, req/s (tscache GET /v1/series, %s bytes, vs "
              "Varnish serving the upstream's cached document, %s bytes: "
              "different documents, the same 288 points; Varnish fetched "
              "it %s time(s) in all)"
              % ((CONNS,) + tuple(fmt(b) for b in info["doc_bytes"])
                 + (fmt(info["varnish_fetches"]),)),
              gv["rps"], n["rps"], None)
    cpu_row("tscache vs Varnish (master + child)", gv, n)
    latency("tscache vs Varnish", gv, n)
