"""tscache_bench_dispatch - the dispatch figure of make bench that issue
19 added (bench/bench runs it; docs/benchmarks.md):

  9. Dispatch: a broker of its own (plain sockets, schedule off, its own
     queue and store in a temporary directory, change notices on as by
     default) and build/bench/dispatchload playing 64 workers that
     acknowledge every job at once (no upstream, no store behind them),
     16 slots each; 100,000 ids queued by hydrate (10 requests of
     10,000, the protocol's limit), one job each (broker.ids_per_job 1).
     Jobs/s from the first hydrate to the broker's stats counting the
     last job done, and the broker's CPU per job (its utime + stime over
     the run, divided by the jobs). Three runs, new ids each; the table
     shows the median run by jobs/s. Targets: at least 50,000 jobs/s,
     at most 0.02 ms (20 us) of broker CPU per job.

The figure starts and stops everything it uses; it needs only the
broker binary and build/bench/dispatchload."""

import os
import shutil
import subprocess
import tempfile
import time

from tscache_bench import cpu_s, fmt, log
from tscache_e2e import clean_env, free_port, start_process, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DISPATCHLOAD = os.path.join(ROOT, os.environ.get(
    "TSCACHE_DISPATCHLOAD", "build/bench/dispatchload"))
IDS = 100000
WORKERS = 64
CREDIT = 16
RUNS = 3
JOBS_TARGET = 50000                 # jobs/s
CPU_TARGET_US = 20                  # broker CPU per job


def _parse(line):
    words = line.split()
    return {words[i]: words[i + 1] for i in range(1, len(words) - 1, 2)}


def figure9(res):
    """Runs the dispatch figure into res["dispatch"] (a list of runs, each
    a dict: jobs_s, seconds, cpu_us) or res["dispatch_error"]."""
    if not os.access(DISPATCHLOAD, os.X_OK):
        raise RuntimeError("%s not built: run make bench" % DISPATCHLOAD)
    tmp = tempfile.mkdtemp(prefix="tscache-dispatch-")
    worker, control = free_port(), free_port()
    config = os.path.join(tmp, "tscache.yaml")
    with open(config, "w") as f:
        f.write(f"""log:
  level: warn
security:
  mode: plain
store:
  lmdb:
    path: {tmp}/data
    map_size_mb: 256
broker:
  schedule: "off"
  queue_path: {tmp}/queue
  worker_bind: tcp://127.0.0.1:{worker}
  control_bind: tcp://127.0.0.1:{control}
  notice_bind: tcp://127.0.0.1:{free_port()}
""")
    log("figure 9: dispatch, %d ids to %d workers x %d slots, %d runs ..."
        % (IDS, WORKERS, CREDIT, RUNS))
    broker = start_process(tmp, "broker", "tscache-broker", config,
                           clean_env())
    runs = []
    try:
        if not wait_for(lambda: os.path.exists(os.path.join(tmp, "queue")),
                        10):
            raise RuntimeError("the broker did not start")
        for k in range(RUNS):
            before = cpu_s(broker.pid)
            out = subprocess.run(
                [DISPATCHLOAD, "--broker", "tcp://127.0.0.1:%d" % worker,
                 "--control", "tcp://127.0.0.1:%d" % control,
                 "--workers", str(WORKERS), "--credit", str(CREDIT),
                 "--ids", str(IDS), "--prefix", "d%d-" % k],
                capture_output=True, text=True, timeout=300)
            used = cpu_s(broker.pid) - before
            if out.returncode != 0:
                raise RuntimeError("dispatchload: %s%s" % (
                    out.stdout.strip(), out.stderr.strip()))
            got = _parse(out.stdout.strip())
            run = {"jobs_s": float(got["jobs_s"]),
                   "seconds": float(got["seconds"]),
                   "cpu_us": 1e6 * used / IDS}
            runs.append(run)
            log("  run %d: %.0f jobs/s (%.2f s), broker %.1f us CPU a job"
                % (k + 1, run["jobs_s"], run["seconds"], run["cpu_us"]))
            if broker.poll() is not None:
                raise RuntimeError("the broker exited during the run")
            time.sleep(0.5)
        res["dispatch"] = runs
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            broker.kill()
        if os.environ.get("TSCACHE_KEEP_LOGS"):
            log("  logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


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
