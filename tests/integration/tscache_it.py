"""Helpers shared by the crash tests (test_worker_crash, test_broker_crash)
and bench/bench-scale: the pipeline itself comes from
tests/e2e/tscache_e2e.py; this adds broker stats and DLQ over the broker's
control socket, registering and hydrating ids in batches, waiting for the
queue to drain, and comparing every stored point with the demo upstream's
own answer."""

import concurrent.futures
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
from tscache_e2e import Pipeline, check, wait_for, demo_base  # noqa: E402
import tscache_e2e  # noqa: E402

DAY_MS = 86400000
BATCH = 500                     # ids per register/hydrate request


def start_pipeline(**kwargs):
    """Pipeline(**kwargs), stopping whatever it started if it fails."""
    p = Pipeline.__new__(Pipeline)
    try:
        p.__init__(**kwargs)
    except BaseException:
        if getattr(p, "procs", None):
            p.stop()
        raise
    return p


def info(text):
    """A line for the reader; tests/run.sh counts only PASS/FAIL lines."""
    print("  " + text, flush=True)


def failed():
    return tscache_e2e.failures


def stats(p, timeout_ms=2000):
    """The broker's stats map (docs/protocol.md), or None."""
    reply = p.control({"v": 1, "op": "stats"}, timeout_ms=timeout_ms)
    if reply and reply.get("status") == 200 and isinstance(
            reply.get("stats"), dict):
        return reply["stats"]
    return None


def dlq(p):
    """The broker's dead-letter entries (a list), or None."""
    reply = p.control({"v": 1, "op": "dlq_ls"})
    if reply and reply.get("status") == 200:
        return reply.get("dlq") or []
    return None


def backlog(s):
    """Jobs not finished yet: queued, waiting out a backoff, or leased."""
    return s.get("queued", 0) + s.get("delayed", 0) + s.get("leased", 0)


def workers_connected(p, n):
    s = stats(p, 500)
    return s is not None and len(s.get("workers") or []) >= n


def wait_drained(p, timeout_s):
    """Waits until the broker holds no queued, delayed or leased job;
    returns its last stats (None if it never answered)."""
    last = [None]

    def drained():
        s = stats(p, 1000)
        if s is not None:
            last[0] = s
        return s is not None and backlog(s) == 0
    wait_for(drained, timeout_s, 0.1)
    return last[0]


def register(p, ids):
    """POST /v1/ids in batches; returns True if every batch got 200."""
    ok = True
    for i in range(0, len(ids), BATCH):
        status, body, _ = p.http("POST", "/v1/ids", {"ids": ids[i:i + BATCH]})
        ok = ok and status == 200
    return ok


def hydrate(p, ids):
    """POST /v1/hydrate in batches; returns (every batch got 202, jobs
    queued in total)."""
    ok, jobs = True, 0
    for i in range(0, len(ids), BATCH):
        status, body, _ = p.http("POST", "/v1/hydrate",
                                 {"ids": ids[i:i + BATCH]})
        ok = ok and status == 202
        if status == 202 and isinstance(body, dict):
            jobs += body.get("queued", body.get("count", 0))
    return ok, jobs


def upstream_rows(p, ids, threads=8):
    """{id: {time: value}} as the demo upstream serves it over its full
    range. Sets the upstream's latency to 0 first (the answers do not
    depend on it)."""
    p.upstream_control(latency_ms=0)

    def one(ident):
        return ident, {r["time"]: r["value"]
                       for r in p.upstream("/rows/" + ident)}
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one, ids))


def stored_points(p, ident):
    """[(time, measure, value)] the gateway answers for ident over the
    demo's whole range, or None if the query fails."""
    base = demo_base(p.now_ms)
    status, body, _ = p.http("GET", "/v1/series/%s?from=%d&to=%d"
                             % (ident, base - DAY_MS, base + DAY_MS))
    if status != 200 or not isinstance(body, dict):
        return None
    return [(x.get("time"), x.get("measure"), x.get("value"))
            for x in body.get("points", [])]


def verify(p, ids, threads=4):
    """Compares each id's stored points with the upstream's answer.
    Prints two checks: exact points, and no duplicate points."""
    expected = upstream_rows(p, ids)

    def one(ident):
        return ident, stored_points(p, ident)
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        stored = dict(pool.map(one, ids))
    wrong, dups = [], []
    for ident in ids:
        pts = stored[ident]
        want = expected[ident]
        if pts is None:
            wrong.append((ident, "query failed"))
            continue
        keys = [(t, m) for t, m, _ in pts]
        if len(set(keys)) != len(keys):
            dups.append((ident, len(keys) - len(set(keys))))
        got = {t: v for t, m, v in pts if m == "value"}
        if len(want) != 576:
            wrong.append((ident, "upstream served %d points" % len(want)))
        elif len(pts) != 576 or got != want:
            missing = len(set(want) - set(got))
            diff = sum(1 for t in want if t in got and got[t] != want[t])
            wrong.append((ident, "%d points, %d missing, %d differ"
                          % (len(pts), missing, diff)))
    check("every one of %d ids has exactly the upstream's 576 points"
          % len(ids), not wrong, "%d ids wrong, e.g. %s"
          % (len(wrong), wrong[:5]))
    check("no id has duplicate points", not dups,
          "%d ids, e.g. %s" % (len(dups), dups[:5]))
    return not wrong and not dups


def check_dlq_empty(p, what):
    s = stats(p)
    entries = dlq(p)
    check("the DLQ is empty " + what,
          s is not None and s.get("dlq") == 0 and entries == [],
          "stats dlq=%s, dlq_ls=%s" % (s and s.get("dlq"),
                                       (entries or [])[:5]))
    return entries


def show_stats(label, s):
    if s is None:
        info("%s: broker stats unavailable" % label)
        return
    info("%s: queued=%s delayed=%s leased=%s done=%s failed=%s retried=%s "
         "dead_lettered=%s dlq=%s workers=%d"
         % (label, s.get("queued"), s.get("delayed"), s.get("leased"),
            s.get("done"), s.get("failed"), s.get("retried"),
            s.get("dead_lettered"), s.get("dlq"),
            len(s.get("workers") or [])))


def finish(p, killed=()):
    """Stops every process (SIGTERM); checks that those not killed on
    purpose exit 0; removes the temporary directory unless something
    failed or TSCACHE_KEEP_LOGS is set. Returns the exit status."""
    codes = p.stop()
    alive = {n: c for n, c in codes.items() if n not in killed}
    check("every process still running exits 0 on SIGTERM",
          all(c == 0 for c in alive.values()), alive)
    if failed():
        p.dump_logs()
        print("logs kept in %s" % p.tmp, flush=True)
    elif os.environ.get("TSCACHE_KEEP_LOGS"):
        print("logs kept in %s" % p.tmp, flush=True)
    else:
        shutil.rmtree(p.tmp, ignore_errors=True)
    return 1 if failed() else 0


def rng():
    """A seeded random generator; the seed is printed so that a failing
    run can be replayed with TSCACHE_TEST_SEED."""
    seed = os.environ.get("TSCACHE_TEST_SEED")
    seed = int(seed) if seed else random.randrange(1 << 30)
    info("random seed %d (TSCACHE_TEST_SEED)" % seed)
    return random.Random(seed)
