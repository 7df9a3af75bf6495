"""tscache_bench_dispatch - the dispatch figure of make bench that issue
19 added (bench/bench runs it; docs/benchmarks.md):

  9. Dispatch: a pipeline of its own without workers (tests/e2e's
     Pipeline: plain sockets, schedule off, its own queue and store,
     change notices on as by default) and build/bench/dispatchload
     playing 64 workers that acknowledge every job at once (no upstream,
     no store behind them), 16 slots each; 100,000 ids queued by hydrate
     (10 requests of 10,000, the protocol's limit), one job each
     (broker.ids_per_job 1). Jobs/s from the first hydrate to the
     broker's stats counting the last job done, and the broker's CPU per
     job (its utime + stime over the run, divided by the jobs). Three
     runs, new ids each; the table shows the median run by jobs/s.
     Targets: at least 50,000 jobs/s, at most 0.02 ms (20 us) of broker
     CPU per job.
     Then a fourth run, apart from the median, counts the broker's heap
     allocations per job on the dispatch path (lease, send, done, ack):
     the broker runs with build/bench/alloccount.so preloaded (it counts
     calls to malloc, calloc, realloc and the aligned ones: an atomic add
     each, well under 1 ns a job once the main loop does not allocate),
     and dispatchload --allocs queues all the ids first, then gives the
     workers their credit, so queueing (a bulk request) is not counted.
     By the main thread (tscache's code and the libraries it calls:
     libzmq copies each message it sends of more than 33 bytes, LMDB
     allocates a page list per write batch) and by its other threads
     (libzmq's I/O thread, the metrics server if on), apart. The same run gives the dispatch rate without queueing.

The figure starts and stops everything it uses; it needs the binaries,
build/bench/dispatchload and build/bench/alloccount.so."""

import os
import shutil
import subprocess
import time

from tscache_bench import cpu_s, fields, fmt, log
from tscache_e2e import Pipeline

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DISPATCHLOAD = os.path.join(ROOT, os.environ.get(
    "TSCACHE_DISPATCHLOAD", "build/bench/dispatchload"))
IDS = 100000
WORKERS = 64
CREDIT = 16
ALLOCCOUNT = os.path.join(ROOT, os.environ.get(
    "TSCACHE_ALLOCCOUNT", "build/bench/alloccount.so"))
RUNS = 3
JOBS_TARGET = 50000                 # jobs/s
CPU_TARGET_US = 20                  # broker CPU per job
# Heap allocations per job on the dispatch path: libzmq's copy of each
# job message it sends, and LMDB's page lists (one per write batch, a
# batch holding several jobs); none of tscache's own.
ALLOCS_TARGET = 1.1


def figure9(res):
    """Runs the dispatch figure into res["dispatch"] (a list of runs, each
    a dict: jobs_s, seconds, cpu_us) or raises RuntimeError."""
    if not os.access(DISPATCHLOAD, os.X_OK):
        raise RuntimeError("%s not built: run make bench" % DISPATCHLOAD)
    log("figure 9: dispatch, %d ids to %d workers x %d slots, %d runs ..."
        % (IDS, WORKERS, CREDIT, RUNS))
    if not os.path.exists(ALLOCCOUNT):
        raise RuntimeError("%s not built: run make bench" % ALLOCCOUNT)
    p = Pipeline(workers=0, security="plain",
                 env={"TSCACHE_LOG_LEVEL": "warn", "LD_PRELOAD": ALLOCCOUNT,
                      "ALLOCCOUNT_DIR": "{tmp}"})
    broker = p.procs["broker"]
    counts = os.path.join(p.tmp, "tscache-broker")
    runs = []
    try:
        for k in range(RUNS):
            before = cpu_s(broker.pid)
            out = subprocess.run(
                [DISPATCHLOAD, "--broker", p.worker_endpoint,
                 "--control", p.control_endpoint,
                 "--workers", str(WORKERS), "--credit", str(CREDIT),
                 "--ids", str(IDS), "--prefix", "d%d-" % k],
                capture_output=True, text=True, timeout=300)
            used = cpu_s(broker.pid) - before
            if out.returncode != 0:
                raise RuntimeError("dispatchload: %s%s" % (
                    out.stdout.strip(), out.stderr.strip()))
            got = fields(out.stdout, ("jobs_s", "seconds"))
            run = {"jobs_s": got["jobs_s"], "seconds": got["seconds"],
                   "cpu_us": 1e6 * used / IDS}
            runs.append(run)
            log("  run %d: %.0f jobs/s (%.2f s), broker %.1f us CPU a job"
                % (k + 1, run["jobs_s"], run["seconds"], run["cpu_us"]))
            if broker.poll() is not None:
                raise RuntimeError("the broker exited during the run")
            time.sleep(0.5)
        res["dispatch"] = runs
        if not os.path.exists(counts):
            raise RuntimeError("no allocation counts from the broker in "
                               "%s: was %s preloaded?" % (counts, ALLOCCOUNT))
        out = subprocess.run(
            [DISPATCHLOAD, "--broker", p.worker_endpoint,
             "--control", p.control_endpoint,
             "--workers", str(WORKERS), "--credit", str(CREDIT),
             "--ids", str(IDS), "--prefix", "d%d-" % RUNS,
             "--allocs", counts],
            capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError("dispatchload --allocs: %s%s" % (
                out.stdout.strip(), out.stderr.strip()))
        res["dispatch_allocs"] = fields(
            out.stdout, ("dispatch_jobs_s", "allocs_main", "allocs_io"))
        log("  allocations: %.0f jobs/s dispatching queued jobs, %.2f heap "
            "allocations a job by the broker's main thread, %.2f by its "
            "other threads" % (res["dispatch_allocs"]["dispatch_jobs_s"],
                            res["dispatch_allocs"]["allocs_main"],
                            res["dispatch_allocs"]["allocs_io"]))
    finally:
        p.stop()
        if os.environ.get("TSCACHE_KEEP_LOGS"):
            log("  logs kept in %s" % p.tmp)
        else:
            shutil.rmtree(p.tmp, ignore_errors=True)


def rows(res, out):
    """Appends figure 9's table rows: (figure, what, tscache, peer, ratio,
    target, verdict)."""
    if "dispatch_error" in res:
        out.append(("9", "dispatch: not run (see the notes)", "-", "-", "-",
                    "-", "-"))
    runs = res.get("dispatch")
    if not runs:
        return
    runs = sorted(runs, key=lambda r: r["jobs_s"])
    mid = runs[len(runs) // 2]
    every = ", ".join(fmt(r["jobs_s"]) for r in runs)
    out.append(("9", "dispatch: jobs/s, %s ids queued by hydrate to the last "
                "done, %d workers x %d slots acking at once (median of %d "
                "runs: %s)" % (fmt(IDS), WORKERS, CREDIT, len(runs), every),
                fmt(mid["jobs_s"]), "-", "-", ">= %s" % fmt(JOBS_TARGET),
                "met" if mid["jobs_s"] >= JOBS_TARGET else "MISSED"))
    out.append(("9", "dispatch: broker CPU per job, us (the same run)",
                fmt(mid["cpu_us"], 1), "-", "-", "<= %d" % CPU_TARGET_US,
                "met" if mid["cpu_us"] <= CPU_TARGET_US else "MISSED"))
    allocs = res.get("dispatch_allocs")
    if allocs:
        out.append(("9", "dispatch of queued jobs (a fourth run, the ids "
                    "queued first): jobs/s", fmt(allocs["dispatch_jobs_s"]),
                    "-", "-", "-", "-"))
        out.append(("9", "dispatch: broker heap allocations per job, main "
                    "thread (the fourth run; its other threads, libzmq's I/O thread: %s)"
                    % fmt(allocs["allocs_io"], 2),
                    fmt(allocs["allocs_main"], 2), "-", "-",
                    "<= %s" % fmt(ALLOCS_TARGET, 1),
                    "met" if allocs["allocs_main"] <= ALLOCS_TARGET
                    else "MISSED"))
