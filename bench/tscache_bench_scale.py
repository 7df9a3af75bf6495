"""tscache_bench_scale - the scale figure of make bench that issue 19
asked for (bench/bench runs it; docs/benchmarks.md):

 12. 100,000 ids x 576 points hydrated in one go, by a pipeline of its
     own (the demo upstream, a broker, two workers at
     worker.concurrency 32, a gateway; an 8 GB store map, log level
     warn): the ids registered (POST /v1/ids, 1,000 a request), then
     hydrated (POST /v1/hydrate, 1,000 a request) until the broker counts
     them all done. Reported: ids/s from the first hydrate; the store's
     bytes on disk per point stored (the blocks its files take, du's
     figure, over 100,000 x 576 points); every process's peak resident
     set (VmHWM, which counts the store's map pages it touched) and peak
     RssAnon (its own memory, sampled every 0.1 s). Three ids are
     checked to answer their 288 history points afterwards. Targets: at
     most 16 bytes a point; a worker's memory at most 20 MB, the
     gateway's at most 64 MB, at every store size.

The figure starts and stops everything it uses."""

import os
import shutil

from tscache_bench import (AnonSampler, fmt, log, register, run_hydration,
                           status_kb)
from tscache_e2e import Pipeline

IDS = 100000
DOC_POINTS = 576
HISTORY_POINTS = 288
BOUND_S = 900
BYTES_TARGET = 16
WORKER_MB = 20
GATEWAY_MB = 64


def _disk_bytes(path):
    """Bytes of disk the files under path take (their blocks)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def figure12(res):
    """Runs the scale figure into res["scale"] or raises RuntimeError."""
    ids = IDS
    log("figure 12: scale, %d ids x %d points in one go, a pipeline of its "
        "own ..." % (ids, DOC_POINTS))
    p = Pipeline(workers=2, security="plain", env={
        "TSCACHE_LOG_LEVEL": "warn",
        "TSCACHE_WORKER_CONCURRENCY": "32",
        "TSCACHE_STORE_LMDB_MAP_SIZE_MB": "8192"})
    ok = False
    names = ["gateway", "broker", "worker1", "worker2"]
    sampler = AnonSampler({n: p.procs[n].pid for n in names})
    sampler.start()
    try:
        names_ids = ["sc-%06d" % k for k in range(ids)]
        register(p, names_ids)
        seconds, error = run_hydration(p, names_ids, BOUND_S)
        sampler.stop()
        if error:
            raise RuntimeError(error)
        # A few ids answer their whole day of history.
        frm, to = p.now_ms - 86400000 - 1, p.now_ms - 1
        for k in (0, ids // 2, ids - 1):
            st, body, _ = p.http("GET", "/v1/series/%s?from=%d&to=%d"
                                 % (names_ids[k], frm, to))
            got = sum(1 for pt in (body or {}).get("points", [])
                      if pt.get("source") == "history") if st == 200 else 0
            if got < HISTORY_POINTS - 1:
                raise RuntimeError("%s answers %d history points"
                                   % (names_ids[k], got))
        disk = _disk_bytes(os.path.join(p.tmp, "data"))
        res["scale"] = {
            "ids": ids, "seconds": seconds,
            "disk": disk, "per_point": disk / (ids * DOC_POINTS),
            "hwm": {n: status_kb(p.procs[n].pid, "VmHWM") for n in names},
            "anon": dict(sampler.peak)}
        log("  %d ids in %.1f s (%.0f ids/s); store %.0f MB on disk, %.1f "
            "bytes a point; VmHWM %s" % (
                ids, seconds, ids / seconds, disk / 1e6,
                res["scale"]["per_point"],
                ", ".join("%s %s MB" % (n, fmt((kb or 0) / 1024, 1))
                          for n, kb in res["scale"]["hwm"].items())))
        ok = True
    finally:
        sampler.stop()
        p.stop()
        if ok and not os.environ.get("TSCACHE_KEEP_LOGS"):
            shutil.rmtree(p.tmp, ignore_errors=True)
        else:
            log("  logs kept in %s" % p.tmp)


def rows(res, out):
    """Appends figure 12's rows: (figure, what, tscache, peer, ratio,
    target, verdict)."""
    if "scale_error" in res:
        out.append(("12", "scale: not run (see the notes)", "-", "-", "-",
                    "-", "-"))
    sc = res.get("scale")
    if not sc:
        return
    out.append(("12", "scale: %s ids x %d points hydrated in one go, ids/s "
                "(2 workers x 32)" % (fmt(sc["ids"]), DOC_POINTS),
                fmt(sc["ids"] / sc["seconds"]), "-", "-", "-", "-"))
    out.append(("12", "scale: store bytes on disk per point (%s MB for %s "
                "points)" % (fmt(sc["disk"] / 1e6), fmt(sc["ids"]
                                                        * DOC_POINTS)),
                fmt(sc["per_point"], 1), "-", "-",
                "<= %d" % BYTES_TARGET,
                "met" if sc["per_point"] <= BYTES_TARGET else "MISSED"))
    for name in sorted(sc["hwm"]):
        want = WORKER_MB if name.startswith("worker") else \
            GATEWAY_MB if name == "gateway" else None
        hwm = (sc["hwm"][name] or 0) / 1024
        anon = (sc["anon"].get(name) or 0) / 1024
        out.append(("12", "scale: %s peak VmHWM, MB (peak RssAnon, its own "
                    "memory: %s MB)" % (name, fmt(anon, 1)), fmt(hwm, 1),
                    "-", "-", "<= %d MB" % want if want else "-",
                    "-" if want is None else
                    "met" if hwm <= want else "MISSED"))
