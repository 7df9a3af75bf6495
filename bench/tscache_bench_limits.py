"""tscache_bench_limits - the physical limits beside figure 4, which
issue 19 asked for (bench/bench runs it; docs/benchmarks.md):

 11. The parts of a document's ingest, each alone: one document fetched
     from the pipeline's demo upstream exactly as a worker fetches it in
     figure 4 (the same URL and window), then build/bench/ingestload in
     a store of its own: the mapping alone (the worker's ts_ingest_map,
     2,000 times over the same bytes), the store write alone (its points
     split at the fetch time and written for 2,000 new ids, 12 documents
     per transaction as a worker batches), the write of those ids' next
     fetch (the window one step later: the same value at each time and
     one new time, merged into the history blocks the first write
     stored, as every fetch but an id's first is)
     and both as the worker does them (ts_ingest_add and the flush,
     2,000 other ids). CPU per
     document (user + system: the write's syscalls and syncs included).
     With figure 4 in the same run, the fetch alone is the CPU wrk spent
     per document on the upstream (figure 4's fetch limit: the client's
     side of an HTTP fetch), and the table sets the sum of the parts
     beside what the workers and the broker spent per document.

The figure starts only ingestload; it needs the pipeline's upstream."""

import os
import subprocess
import time
import urllib.request

from tscache_bench import fields, fmt, log

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
INGESTLOAD = os.path.join(ROOT, os.environ.get(
    "TSCACHE_INGESTLOAD", "build/bench/ingestload"))
DOCS = 2000
BATCH = 12                          # a worker's documents per transaction


def figure11(p, res):
    """Runs the parts into res["limits"] (a dict of ingestload's figures)
    or raises RuntimeError."""
    if not os.access(INGESTLOAD, os.X_OK):
        raise RuntimeError("%s not built: run make bench" % INGESTLOAD)
    now = int(time.time() * 1000)
    url = "http://127.0.0.1:%d/rows/limits-doc?from=%d&to=%d" % (
        p.upstream_port, now - p.window_s * 1000, now + p.window_s * 1000)
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = r.read()
    path = os.path.join(p.tmp, "limits-doc.json")
    with open(path, "wb") as f:
        f.write(doc)
    log("figure 11: the parts of a document's ingest (%d bytes), each "
        "alone ..." % len(doc))
    env = dict(p.env, TSCACHE_STORE_LMDB_PATH=os.path.join(p.tmp,
                                                           "limits-store"),
               TSCACHE_LOG_LEVEL="warn")
    out = subprocess.run(
        [INGESTLOAD, "-c", p.config, "--doc", path, "--now", str(now),
         "--parse", str(DOCS), "--docs", str(DOCS), "--batch", str(BATCH)],
        capture_output=True, text=True, timeout=300, env=env)
    if out.returncode != 0:
        raise RuntimeError("ingestload: %s%s" % (out.stdout.strip(),
                                                 out.stderr.strip()[-500:]))
    got = res["limits"] = fields(out.stdout, (
        "bytes", "points", "parse_us", "write_us", "rewrite_us", "ingest_us",
        "write_wall_s", "step_ms"))
    log("  %d points: parse %.1f us, write %.1f us (the next fetch's %.1f "
        "us), both %.1f us of CPU a document" % (
            got["points"], got["parse_us"], got["write_us"],
            got["rewrite_us"], got["ingest_us"]))


def rows(res, out):
    """Appends figure 11's rows: (figure, what, tscache, peer, ratio,
    target, verdict)."""
    if "limits_error" in res:
        out.append(("11", "parts of an ingest: not run (see the notes)",
                    "-", "-", "-", "-", "-"))
    lim = res.get("limits")
    if not lim:
        return
    out.append(("11", "parse alone: mapping one %s-byte document of %d "
                "points, CPU us per document" % (fmt(lim["bytes"]),
                                                 lim["points"]),
                fmt(lim["parse_us"], 1), "-", "-", "-", "-"))
    out.append(("11", "store write alone: its points for %s new ids, %d "
                "per transaction (LMDB), CPU us per document"
                % (fmt(DOCS), BATCH), fmt(lim["write_us"], 1), "-", "-",
                "-", "-"))
    out.append(("11", "store write of the next fetch of those ids (the "
                "window %s ms later: the same values, one new time; merged "
                "into what is stored), CPU us per document"
                % fmt(lim["step_ms"]),
                fmt(lim["rewrite_us"], 1), "-", "-", "-", "-"))
    out.append(("11", "parse + write as the worker does them (ts_ingest_add "
                "and the flush), CPU us per document",
                fmt(lim["ingest_us"], 1), "-", "-", "-", "-"))
    tp = res.get("throughput")
    if not tp or not tp.get("pipeline_ms") or not tp["limit"]["documents"]:
        return
    fetch_us = 1e6 * tp["limit"]["cpu_wrk"] / tp["limit"]["documents"]
    pipeline_us = 1000 * tp["pipeline_ms"]
    parts = lim["ingest_us"] + fetch_us
    out.append(("11", "fetch alone: wrk's CPU us per document on the "
                "upstream (figure 4's fetch limit, the client side)",
                fmt(fetch_us, 1), "-", "-", "-", "-"))
    out.append(("11", "the sum of the parts (fetch + parse + write) vs "
                "workers + broker CPU us per document in figure 4",
                fmt(parts, 1), fmt(pipeline_us, 1),
                "%.2fx" % (parts / pipeline_us) if pipeline_us else "-",
                "-", "-"))
