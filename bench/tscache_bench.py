"""tscache_bench - what the benchmark scripts share (bench/bench,
bench/bench-dynamodb, bench/bench-influxdb): finding the peers' tools,
running wrk and reading its figures, the CPU a process (and its
children) used, hydrating ids through a pipeline
(tests/e2e/tscache_e2e.py) until the broker counts them done, table
numbers, and replacing a results block between two markers in
docs/benchmarks.md.

It starts nothing itself: each script owns what it starts and stops."""

import os
import re
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DOCS = os.path.join(ROOT, "docs", "benchmarks.md")


def log(msg):
    print(msg, flush=True)


def which(name):
    """Full path of a command, also looked up in the sbin directories."""
    found = shutil.which(name)
    for d in ("/usr/sbin", "/usr/bin", "/sbin"):
        if not found and os.access(os.path.join(d, name), os.X_OK):
            found = os.path.join(d, name)
    if not found:
        raise RuntimeError("%s not found: run tools/install-deps.sh bench"
                           % name)
    return found


def parse_ms(text):
    """'456.00us', '1.23ms', '1.00s', '2.00m' -> milliseconds."""
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        return None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]
    return float(m.group(1)) * scale


def wrk(url, threads, conns, seconds, headers=(), script=None):
    """Runs wrk; returns {"rps", "p50", "p99", "errors"} (latencies in
    ms; errors: non-2xx/3xx answers plus socket errors), and the parts:
    "requests" (answers read), "non2xx", "socket" ({"connect", "read",
    "write", "timeout"}), and "statuses" ({status: count}) from the lines
    "status NNN: COUNT" a script's done() may print."""
    cmd = [which("wrk"), "-t%d" % threads, "-c%d" % conns,
           "-d%ds" % seconds, "--latency", "--timeout", "5s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=seconds + 30)
    out = r.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if r.returncode != 0 or not rps:
        raise RuntimeError("wrk failed: %s %s" % (out[-500:], r.stderr[-500:]))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    non2xx = int(bad.group(1)) if bad else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), "
                     r"write (\d+), timeout (\d+)", out)
    socket = dict(zip(("connect", "read", "write", "timeout"),
                      (int(x) for x in sock.groups()) if sock
                      else (0, 0, 0, 0)))
    done = re.search(r"(\d+) requests in", out)
    return {"rps": float(rps.group(1)), "p50": parse_ms(lat.get("50", "")),
            "p99": parse_ms(lat.get("99", "")),
            "errors": non2xx + sum(socket.values()),
            "requests": int(done.group(1)) if done else None,
            "non2xx": non2xx, "socket": socket,
            "statuses": {int(a): int(b) for a, b in re.findall(
                r"^status (\d+): (\d+)$", out, re.M)}}


def machine():
    """This machine for a results table: CPUs, model, memory, kernel,
    date and time (UTC)."""
    def first(path, key):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"
    mem_kb = first("/proc/meminfo", "MemTotal").split()[0]
    try:
        mem = "%.0f GB memory" % (int(mem_kb) / 1024 / 1024)
    except ValueError:
        mem = "? memory"
    return "%d CPUs (`nproc`), %s, %s, Linux %s; run on %s" % (
        os.cpu_count(), first("/proc/cpuinfo", "model name"), mem,
        os.uname().release, time.strftime("%Y-%m-%d at %H:%M UTC",
                                          time.gmtime()))


def cpu_s(pid):
    """CPU seconds (user + system) process pid has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid):
    """CPU seconds of process pid and its children (nginx's workers,
    varnishd's child)."""
    total = cpu_s(pid)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                total += cpu_s(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return total


def cpu_run(pid, run):
    """run() (a wrk result) and the CPU seconds pid's process tree used
    meanwhile."""
    before = tree_cpu_s(pid)
    result = run()
    return result, tree_cpu_s(pid) - before


def status_kb(pid, key):
    """A kB field of /proc/PID/status ("VmHWM", "RssAnon"); None if the
    process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class AnonSampler(threading.Thread):
    """Samples RssAnon (private memory: heap, stacks; not the LMDB map,
    which VmHWM also counts) of some processes every interval_s seconds
    and keeps the peak of each."""

    def __init__(self, pids, interval_s=0.1):
        super().__init__(daemon=True)
        self.pids = pids
        self.interval_s = interval_s
        self.peak = {name: 0 for name in pids}
        self.halt = threading.Event()

    def run(self):
        while not self.halt.wait(self.interval_s):
            for name, pid in self.pids.items():
                kb = status_kb(pid, "RssAnon")
                if kb is not None and kb > self.peak[name]:
                    self.peak[name] = kb

    def stop(self):
        self.halt.set()
        self.join()


def fields(line, keys):
    """The numbers of keys in a loader's one line of "NAME key value ..."
    pairs (bench/dispatchload, bench/ingestload), as floats; RuntimeError
    if one is missing or not a number."""
    words = line.split()
    pairs = dict(zip(words[1::2], words[2::2]))
    try:
        return {k: float(pairs[k]) for k in keys}
    except (KeyError, ValueError):
        raise RuntimeError("unexpected output %r: expected %s"
                           % (line.strip()[:200], ", ".join(keys)))


def fmt(x, digits=0):
    """x with thousands separators and digits decimals; "-" for None."""
    return "-" if x is None else ("{:,.%df}" % digits).format(x)


def broker_stats(p):
    """The broker's stats map (pipeline p), or None if it does not
    answer."""
    s = p.control({"v": 1, "op": "stats"}, timeout_ms=2000)
    return s["stats"] if s and s.get("status") == 200 else None


def register(p, ids):
    """POST /v1/ids in requests of 1,000 ids."""
    for k in range(0, len(ids), 1000):
        st, body, _ = p.http("POST", "/v1/ids", {"ids": ids[k:k + 1000]})
        if st != 200:
            raise RuntimeError("POST /v1/ids answered %d %r" % (st, body))


def run_hydration(p, ids, bound_s, before=None):
    """Hydrates ids (registered already; before() is called first);
    returns (seconds from the first hydrate request until the broker
    counts them all done, None) or (None, the error)."""
    s0 = broker_stats(p)
    if s0 is None:
        raise RuntimeError("the broker does not answer stats")
    if before:
        before()
    t0 = time.monotonic()
    for k in range(0, len(ids), 1000):
        st, body, _ = p.http("POST", "/v1/hydrate", {"ids": ids[k:k + 1000]})
        if st != 202:
            raise RuntimeError("POST /v1/hydrate answered %d %r"
                               % (st, body))
    while True:
        s = broker_stats(p)
        t = time.monotonic() - t0
        if s and s["done"] - s0["done"] >= len(ids):
            return t, None
        if s and s["dlq"] > s0["dlq"]:
            return None, "%d jobs dead-lettered" % (s["dlq"] - s0["dlq"])
        if t > bound_s:
            return None, "aborted after %.0f s, %d of %d done" % (
                t, (s or s0)["done"] - s0["done"], len(ids))
        time.sleep(0.02)


def write_docs(begin, end, text, heading=""):
    """Replaces what stands between the markers begin and end in
    docs/benchmarks.md with text; without the markers, appends them with
    text (under heading, if given)."""
    try:
        with open(DOCS) as f:
            doc = f.read()
    except OSError:
        doc = "# tscache benchmarks\n"
    block = begin + "\n" + text.rstrip("\n") + "\n" + end
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        doc = head + block + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n" + (heading + "\n\n" if heading
                                           else "") + block + "\n"
    with open(DOCS, "w") as f:
        f.write(doc)


def hydration_args(ap, seconds, bound):
    """The options every hydration figure takes: --ids, --workers,
    --concurrency, --seconds (default seconds), --bound (default bound),
    --no-docs."""
    ap.add_argument("--ids", type=int, default=1000,
                    help="ids hydrated in B (at most 3000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=32,
                    help="worker.concurrency of each worker")
    ap.add_argument("--seconds", type=int, default=seconds,
                    help="longest ddbload run (C)")
    ap.add_argument("--bound", type=int, default=bound,
                    help="longest hydration (B), seconds")
    ap.add_argument("--no-docs", action="store_true",
                    help="do not write docs/benchmarks.md")


def run_main(name, main):
    """Exits with main()'s code, or 2 with "NAME: cannot run: ..." on
    stderr if it raised RuntimeError, OSError or SubprocessError."""
    try:
        sys.exit(main())
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        print("%s: cannot run: %s" % (name, e), file=sys.stderr)
        sys.exit(2)


def report(name, lines, started, docs, begin, end, heading=""):
    """Prints a figure's table lines and how long NAME took since
    started (time.monotonic()); if docs, writes them, dated, between the
    markers begin and end (write_docs)."""
    log("")
    for line in lines:
        log(line)
    log("")
    log("%s took %.0f s" % (name, time.monotonic() - started))
    if docs:
        text = "\n".join(["Run on %s UTC, %d CPUs." % (
            time.strftime("%Y-%m-%d at %H:%M", time.gmtime()),
            os.cpu_count()), ""] + lines)
        write_docs(begin, end, text + "\n", heading)
        log("written to docs/benchmarks.md")
