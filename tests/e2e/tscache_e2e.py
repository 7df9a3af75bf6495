"""Helpers for tscache end-to-end tests: start the whole pipeline on
loopback with free ports and a temporary store, talk to it over HTTP and
ZeroMQ, and report checks as "PASS: name" / "FAIL: name" lines that
tests/run.sh counts.

The ZeroMQ client here is written from docs/protocol.md alone (pyzmq and
msgpack from Debian), as a client in another language would be."""

import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import msgpack
import zmq

#  The raw HTTP client (Conn) and its bound live in tscache_rawhttp;
#  tests reach them as e2e.Conn, e2e.Answer, e2e.is_json_error.
from tscache_rawhttp import BOUND_S, Answer, Conn, is_json_error  # noqa: F401

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, os.environ.get("TSCACHE_BIN", "bin"))
#  A command every daemon start_process starts runs under, e.g. valgrind
#  and its options (tests/run.sh memcheck:SUITE sets it); empty: none.
WRAP = shlex.split(os.environ.get("TSCACHE_WRAP", ""))
#  How much longer than plain a test may wait for work to finish: a
#  sanitizer build runs about twice as slow (tests/run.sh sets it for
#  asan:SUITE and memcheck:SUITE).
TIME_SCALE = float(os.environ.get("TSCACHE_TEST_TIME_SCALE", "1"))
#  How long a daemon may take to start or to stop, in s: valgrind starts a
#  process in seconds, not milliseconds, and checks its leaks at exit.
START_S, STOP_S = (60, 60) if WRAP else (10, 10)
STEP_MS = 300000
failures = 0


def check(name, ok, detail=""):
    """Print one PASS/FAIL line; remember failures."""
    global failures
    if ok:
        print("PASS: " + name, flush=True)
    else:
        failures += 1
        print("FAIL: " + name + (" -- " + str(detail) if detail else ""),
              flush=True)
    return ok


_ports_given = set()


def free_port():
    """A port free now that this test has not been given before: the
    kernel may hand a just-released port out again, and two of a
    pipeline's endpoints on one port make its second process fail to
    bind."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise RuntimeError("no free port left that was not given before")


def clean_env(**extra):
    """os.environ without any TSCACHE_* variable (so the machine's own
    settings cannot leak into a test), plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TSCACHE_")}
    env.update(extra)
    return env


def start_upstream(logdir, name, *args, prefix=()):
    """Starts the demo upstream on a free port with its stderr in
    logdir/NAME.log; returns (process, base URL "http://ADDR:PORT"), ADDR
    being 127.0.0.1 unless args has --bind. prefix: a command it runs
    under, e.g. ["ip", "netns", "exec", NS] (which execs: the process is
    the upstream itself)."""
    log = open(os.path.join(logdir, name + ".log"), "w")
    proc = subprocess.Popen(
        list(prefix)
        + [os.path.join(BIN, "tscache-demo-upstream"), "--port", "0"]
        + [str(a) for a in args],
        stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    if not line.startswith("listening on http://"):
        proc.kill()
        raise RuntimeError("demo upstream did not start: %r" % line)
    return proc, line.split()[-1]


def start_process(logdir, name, binary, config, env, prefix=()):
    """Starts BIN/binary -c config with its output in logdir/NAME.log;
    prefix as for start_upstream; under WRAP if set."""
    log = open(os.path.join(logdir, name + ".log"), "w")
    return subprocess.Popen(list(prefix) + WRAP
                            + [os.path.join(BIN, binary), "-c", config],
                            stdout=log, stderr=subprocess.STDOUT, env=env)


class Dynalite:
    """dynalite (an in-memory DynamoDB, npm, tests/node) on a free
    loopback port, its output in logdir/dynalite.log; or, if
    TSCACHE_TEST_DYNAMODB_ENDPOINT is set, that endpoint (DynamoDB Local,
    real AWS with the machine's credentials), and nothing is started.
    host, port, prefix: where it listens (port None: a free one) and the
    command it runs under (start_upstream).
    call() sends one DynamoDB request unsigned: for dynalite, which checks
    no signature, and the test's own checks only."""

    def __init__(self, logdir, host="127.0.0.1", port=None, prefix=()):
        self.proc = None
        self.endpoint = os.environ.get("TSCACHE_TEST_DYNAMODB_ENDPOINT", "")
        if self.endpoint:
            return
        module = os.path.join(ROOT, "tests", "node", "node_modules",
                              "dynalite", "package.json")
        if not os.path.exists(module):
            raise RuntimeError("dynalite missing: run tools/install-deps.sh "
                               "test (npm ci in tests/node)")
        self.proc, port = start_node(logdir, "dynalite",
                                     [port or free_port(), host],
                                     prefix=prefix)
        self.endpoint = "http://%s:%d" % (host, port)

    def env(self):
        """Environment of a tscache process using it: dummy credentials
        for dynalite (kept from the environment otherwise)."""
        if not self.proc:
            return {}
        return {"AWS_ACCESS_KEY_ID": "tscache-e2e",
                "AWS_SECRET_ACCESS_KEY": "tscache-e2e",
                "AWS_REGION": "us-east-1"}

    def call(self, op, body):
        """One DynamoDB call; returns (HTTP status, JSON answer)."""
        req = urllib.request.Request(
            self.endpoint + "/", data=json.dumps(body).encode(),
            method="POST", headers={
                "X-Amz-Target": "DynamoDB_20120810." + op,
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Date": "20260101T000000Z",
                "Authorization": "AWS4-HMAC-SHA256 Credential=e2e/20260101/"
                "us-east-1/dynamodb/aws4_request, SignedHeaders=host, "
                "Signature=0"})
        try:
            with urllib.request.urlopen(req, timeout=BOUND_S) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def scan(self, table):
        """Every item of table (paginated Scan)."""
        items, start = [], None
        while True:
            body = {"TableName": table}
            if start:
                body["ExclusiveStartKey"] = start
            status, answer = self.call("Scan", body)
            if status != 200:
                raise RuntimeError("Scan %s: %s" % (table, answer))
            items += answer.get("Items", [])
            start = answer.get("LastEvaluatedKey")
            if not start:
                return items

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start_node(logdir, name, args, env=None, prefix=()):
    """Starts node tests/node/NAME.js ARGS, its stderr in logdir/NAME.log;
    returns (process, port) once it prints "listening PORT" (10 s at
    most). prefix as for start_upstream."""
    log = open(os.path.join(logdir, name + ".log"), "w")
    proc = subprocess.Popen(
        list(prefix) + ["node", os.path.join(ROOT, "tests", "node", name + ".js")]
        + [str(a) for a in args], stdout=subprocess.PIPE, stderr=log,
        text=True, env=env)
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("listening "):
        proc.kill()
        proc.wait()
        raise RuntimeError("%s did not start: %r" % (name, line))
    return proc, int(line.split()[1])


class TimestreamFixture:
    """The loopback Timestream for LiveAnalytics of the tests
    (tests/node/timestream/fixture.js, docs/timestream.md) on a free port,
    its output in logdir/timestream/fixture.log. It checks every
    signature against the credentials env() gives. records() and
    requests() read its control endpoints. host, port, prefix as for
    Dynalite (port 0: a free one)."""

    def __init__(self, logdir, host="127.0.0.1", port=0, prefix=()):
        os.makedirs(os.path.join(logdir, "timestream"), exist_ok=True)
        self.proc, port = start_node(logdir, "timestream/fixture",
                                     [port, "--host", host], prefix=prefix)
        self.endpoint = "http://%s:%d" % (host, port)

    def env(self):
        return {"AWS_ACCESS_KEY_ID": "AKIDFIXTURE",
                "AWS_SECRET_ACCESS_KEY": "fixture-secret",
                "AWS_REGION": "us-east-1"}

    def _get(self, path):
        with urllib.request.urlopen(self.endpoint + path,
                                    timeout=BOUND_S) as r:
            return json.loads(r.read())

    def records(self):
        """Every stored record, as the fixture lists them."""
        return self._get("/fixture/records")

    def requests(self):
        """Requests received per op."""
        return self._get("/fixture/requests")

    def counts(self, dimension):
        """{value: records} of one dimension, e.g. "identifier"."""
        return self._get("/fixture/counts?dimension="
                         + urllib.parse.quote(dimension))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Influxd:
    """A real InfluxDB 1.x for the tests: Debian's influxd on free
    loopback ports with a generated config in logdir/influxd (meta, data
    and wal there, reporting off), never the system's service; ready when
    /ping answers 204 (20 s at most). query() and write() are bare
    requests, as a client other than tscache would send them. host, port
    and prefix as for Dynalite (port 0: a free one; the RPC port is then
    port + 1 on host)."""

    def __init__(self, logdir, host="127.0.0.1", port=0, prefix=()):
        self.dir = os.path.join(logdir, "influxd")
        self.prefix = list(prefix)
        os.makedirs(self.dir, exist_ok=True)
        port, rpc = (port, port + 1) if port else (free_port(), free_port())
        self.url = "http://%s:%d" % (host, port)
        conf = os.path.join(self.dir, "influxd.conf")
        with open(conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "{host}:{rpc}"
[meta]
  dir = "{self.dir}/meta"
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "{host}:{port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
""")
        log = open(os.path.join(self.dir, "influxd.log"), "w")
        self.proc = subprocess.Popen(list(prefix) + ["influxd", "-config",
                                                     conf],
                                     stdout=subprocess.DEVNULL, stderr=log)
        if not wait_for(self._ping, 20):
            self.stop()
            raise RuntimeError("influxd did not answer /ping")

    def _ping(self):
        if self.prefix:     # another namespace: ask from inside it
            r = subprocess.run(self.prefix + [
                "curl", "-s", "-o", "/dev/null", "-m", "1", "-w",
                "%{http_code}", self.url + "/ping"],
                capture_output=True, text=True)
            return r.stdout == "204"
        try:
            with urllib.request.urlopen(self.url + "/ping", timeout=1) as r:
                return r.status == 204
        except Exception:
            return False

    def query(self, q, db=None):
        """The JSON answer of InfluxQL q (epoch=ms)."""
        params = {"q": q, "epoch": "ms"}
        if db:
            params["db"] = db
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(self.url + "/query", data=data,
                                    timeout=BOUND_S) as r:
            return json.loads(r.read())

    def rows(self, q, db):
        """The rows of q's first series, as dicts by column."""
        series = (self.query(q, db)["results"][0].get("series") or [{}])[0]
        cols = series.get("columns", [])
        return [dict(zip(cols, v)) for v in series.get("values", [])]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ProxiedDynalite:
    """dynalite behind tests/node/ddbproxy.js (which counts the requests,
    records them and plays throttling and expired tokens when told):
    a store for Pipeline(dynamodb=...), in its own temporary directory
    self.tmp. The pipeline talks to the proxy (endpoint); scan() reads
    dynalite directly; proxy(PATH, BODY) is one control request."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="tscache-e2e-ddb-")
        self.procs = []
        self.dynalite = Dynalite(self.tmp)
        try:
            proc, port = start_node(self.tmp, "ddbproxy",
                                    [0, self.dynalite.endpoint])
        except Exception:
            self.dynalite.stop()
            raise
        self.procs.append(proc)
        self.endpoint = "http://127.0.0.1:%d" % port

    def env(self):
        return self.dynalite.env()

    def proxy(self, path, body=None):
        """GET path, or POST body (JSON) to it; the JSON answer."""
        req = urllib.request.Request(
            self.endpoint + path, method="GET" if body is None else "POST",
            data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(req, timeout=BOUND_S) as r:
            return json.loads(r.read())

    def scan(self, table):
        return self.dynalite.scan(table)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.dynalite.stop()


def http_request(url, method, body=None, headers=None, raw=None):
    """One HTTP request: body as JSON (or raw bytes), headers added.
    Returns (status, parsed JSON or None, raw bytes)."""
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, payload = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, payload = e.code, e.read()
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = None
    return status, parsed, payload


def wait_for(predicate, timeout_s, interval_s=0.1):
    """Poll predicate until it returns a true value or timeout_s passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)


class Pipeline:
    """The demo upstream, a broker, workers and a gateway on loopback."""

    def __init__(self, workers=2, api_key="e2e-key", now_ms=None,
                 extra_config="", upstream_args=(), env=None, url_extra="",
                 dynamodb=False, timestream=False, influxdb=False,
                 security="curve"):
        """upstream_args: extra options of the demo upstream, e.g.
        ("--latency-ms", "100"); extra_config: YAML appended to the
        config, "{upstream_port}" in it replaced by the demo upstream's
        port; env: config overrides, e.g.
        {"TSCACHE_WORKER_CONCURRENCY": "16"} (a value may use {tmp},
        the pipeline's temporary directory); url_extra: text appended to
        upstream.url, e.g. "&apikey={api_key}"; dynamodb: registry and
        forecast on DynamoDB (self.dynamodb, a Dynalite, with tables
        self.tables made by `tscache store init`, whose run is
        self.store_init), history on LMDB; dynamodb may also be a store
        the test started itself, with Dynalite's endpoint, env(), scan()
        and stop() (e.g. a proxy in front of dynalite); timestream:
        history on the Timestream fixture (self.timestream, a
        TimestreamFixture; its database and table made by store init as
        well, named self.ts_table = (database, table)), whose credentials
        every process then uses (dynalite takes any); influxdb: history
        on a real influxd (self.influxdb, an Influxd; its database
        self.influx_db made by store init); influxdb may also be a store
        the test started itself, with Influxd's url and stop() (e.g. a
        proxy in front of influxd); security: security.mode, "curve" (the
        default: every key made by `tscache keys init` in self.keys, the
        allow-lists of one host, so self.zmq_request and self.control
        connect with the CLI's key) or "plain" (for tests that connect
        raw sockets of their own)."""
        self.tmp = tempfile.mkdtemp(prefix="tscache-e2e-")
        self.api_key = api_key
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.procs = {}
        # api_key None: no TSCACHE_API_KEY at all.
        self.env = clean_env(**({} if api_key is None
                                else {"TSCACHE_API_KEY": api_key}))
        self.dynamodb, self.timestream, store_extra = None, None, ""
        self.influxdb = None
        if dynamodb:
            self.dynamodb = Dynalite(self.tmp) if dynamodb is True \
                else dynamodb
            tag = os.path.basename(self.tmp)
            self.tables = (tag + "-registry", tag + "-forecast")
            self.env.update(self.dynamodb.env())
            store_extra = f"""  registry:
    backend: dynamodb
  forecast:
    backend: dynamodb
  dynamodb:
    endpoint: {self.dynamodb.endpoint}
    registry_table: {self.tables[0]}
    forecast_table: {self.tables[1]}
"""
        if timestream:
            try:
                self.timestream = TimestreamFixture(self.tmp)
            except Exception:
                if self.dynamodb:
                    self.dynamodb.stop()
                raise
            tag = os.path.basename(self.tmp)
            self.ts_table = (tag + "-db", tag + "-history")
            self.env.update(self.timestream.env())
            store_extra += f"""  history:
    backend: timestream
  timestream:
    endpoint: {self.timestream.endpoint}
    discovery: "on"
    database: {self.ts_table[0]}
    table: {self.ts_table[1]}
"""
        if influxdb:
            try:
                self.influxdb = Influxd(self.tmp) if influxdb is True \
                    else influxdb
            except Exception:
                if self.dynamodb:
                    self.dynamodb.stop()
                raise
            self.influx_db = os.path.basename(self.tmp)
            store_extra += f"""  history:
    backend: influxdb
  influxdb:
    url: {self.influxdb.url}
    database: {self.influx_db}
"""
        for k, v in (env or {}).items():
            self.env[k] = str(v).replace("{tmp}", self.tmp)
        self.upstream_args = list(upstream_args)
        self.upstream_port = self._start_upstream()
        self.http_port = free_port()
        self.zmq_endpoint = "tcp://127.0.0.1:%d" % free_port()
        control = "tcp://127.0.0.1:%d" % free_port()
        work = "tcp://127.0.0.1:%d" % free_port()
        self.notice_endpoint = "tcp://127.0.0.1:%d" % free_port()
        self.control_endpoint = control
        self.worker_endpoint = work
        # The workers' window, each way from now (upstream.past_s and
        # future_s): a little over the demo's 24 h, so no point falls off.
        self.window_s = 90000
        self.config = os.path.join(self.tmp, "tscache.yaml")
        self.security = security
        self.keys = os.path.join(self.tmp, "keys")
        with open(self.config, "w") as f:
            f.write(f"""log:
  level: debug
{security_yaml(security, self.keys)}store:
  lmdb:
    path: {self.tmp}/data
    map_size_mb: 256
{store_extra}broker:
  schedule: "off"
  queue_path: {self.tmp}/queue
  worker_bind: {work}
  control_bind: {control}
  notice_bind: {self.notice_endpoint}
worker:
  broker_endpoint: {work}
  concurrency: 4
gateway:
  zmq_bind: {self.zmq_endpoint}
  http_port: {self.http_port}
  broker_endpoint: {control}
  notice_endpoint: {self.notice_endpoint}
cli:
  endpoint: {self.zmq_endpoint}
upstream:
  url: "http://127.0.0.1:{self.upstream_port}/rows/{{id}}?from={{from}}&to={{to}}{url_extra}"
  past_s: {self.window_s}
  future_s: {self.window_s}
{extra_config.replace("{upstream_port}", str(self.upstream_port))}""")
        if security == "curve":
            made = subprocess.run(
                [os.path.join(BIN, "tscache"), "-c", self.config, "keys",
                 "init"], env=self.env, capture_output=True, text=True,
                timeout=30)
            if made.returncode != 0:
                raise RuntimeError("keys init: %s" % made.stderr)
        if self.dynamodb or self.timestream or self.influxdb:
            # The tables, as an operator makes them: tscache store init
            # (which runs tscache-worker --store-init).
            self.store_init = subprocess.run(
                [os.path.join(BIN, "tscache"), "store", "init", "-c",
                 self.config], env=self.env, capture_output=True, text=True,
                timeout=30)
            if self.store_init.returncode != 0:
                self._stop_stores()
                raise RuntimeError("store init: %s" % self.store_init.stderr)
        self.start("broker", "tscache-broker")
        for i in range(workers):
            self.start("worker%d" % (i + 1), "tscache-worker")
        self.start("gateway", "tscache-gateway")
        if not wait_for(self._healthy, START_S):
            self.dump_logs()
            self.stop()             #  the daemons too, not only the stores
            raise RuntimeError("gateway did not become healthy")

    def _stop_stores(self):
        for store in (self.dynamodb, self.timestream, self.influxdb):
            if store:
                store.stop()

    def _start_upstream(self):
        proc, url = start_upstream(self.tmp, "upstream", "--now", self.now_ms,
                                   *self.upstream_args)
        self.procs["upstream"] = proc
        return int(url.rsplit(":", 1)[1])

    def start(self, name, binary):
        self.procs[name] = start_process(self.tmp, name, binary, self.config,
                                         self.env)

    def kill(self, name, sig=signal.SIGKILL):
        """Sends sig (default SIGKILL) to one process started here and
        waits for it; returns its exit code. The process stays listed in
        procs (stop() skips it). SIGSTOP and SIGCONT are only sent (None
        is returned): the process goes on being a pipeline process."""
        proc = self.procs[name]
        if sig in (signal.SIGSTOP, signal.SIGCONT):
            # Pauses and resumes: nothing to wait for.
            if proc.poll() is None:
                proc.send_signal(sig)
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def control(self, message, timeout_ms=5000):
        """One request to the broker's control socket (not through the
        gateway), with the CLI's key; returns the decoded reply map or
        None."""
        return zmq_request(self.control_endpoint, message, None, timeout_ms,
                           self.curve("cli", "broker"))

    def curve(self, client, server):
        """(client key file, server key file) of self.keys, e.g.
        curve("cli", "gateway"), for zmq_request and curve_apply; None
        in plain mode."""
        if self.security != "curve":
            return None
        return (os.path.join(self.keys, client + ".key"),
                os.path.join(self.keys, server + ".key"))

    def _healthy(self):
        try:
            return self.http("GET", "/healthz", auth=False)[0] == 200
        except OSError:
            return False

    def http(self, method, path, body=None, auth=True, headers=None,
             raw=None):
        """Returns (status, parsed JSON or None, raw bytes)."""
        sent = {"x-security-token": self.api_key} if auth else {}
        sent.update(headers or {})
        return http_request("http://127.0.0.1:%d%s" % (self.http_port, path),
                            method, body, sent, raw)

    def http_oversized(self, path, size):
        """Sends a body of size bytes on a raw socket and returns the
        status the gateway answers, or None. The gateway may answer (and
        close) before the whole body is sent; that is the point."""
        with socket.create_connection(("127.0.0.1", self.http_port), 10) as s:
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\n"
                       "x-security-token: %s\r\nContent-Length: %d\r\n"
                       "Content-Type: application/json\r\n\r\n"
                       % (path, self.api_key, size)).encode())
            try:
                chunk = b"x" * 65536
                for _ in range(size // len(chunk)):
                    s.sendall(chunk)
            except OSError:
                pass
            try:
                head = s.recv(64).decode("latin-1")
            except OSError:
                return None
        parts = head.split(" ")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() \
            else None

    def upstream(self, path):
        url = "http://127.0.0.1:%d%s" % (self.upstream_port, path)
        with urllib.request.urlopen(url, timeout=10) as resp:
            return json.loads(resp.read())

    def upstream_control(self, **settings):
        url = "http://127.0.0.1:%d/control" % self.upstream_port
        req = urllib.request.Request(url, data=json.dumps(settings).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status

    def zmq_request(self, message, endpoint=None, raw=None, timeout_ms=5000,
                    raw_reply=False):
        """One REQ round trip to the gateway (or endpoint, a socket of
        the gateway's keys) with the CLI's key; returns the decoded reply
        map (its bytes if raw_reply) or None."""
        return zmq_request(endpoint or self.zmq_endpoint, message, raw,
                           timeout_ms, self.curve("cli", "gateway"),
                           raw_reply)

    def cli(self, *args):
        return subprocess.run([os.path.join(BIN, "tscache"), "-c",
                               self.config] + list(args),
                              capture_output=True, text=True, timeout=30,
                              env=self.env)

    def log_text(self, name):
        with open(os.path.join(self.tmp, name + ".log")) as f:
            return f.read()

    def dump_logs(self):
        for name in self.procs:
            path = os.path.join(self.tmp, name + ".log")
            if os.path.exists(path):
                with open(path) as f:
                    tail = f.read()[-3000:]
                print("---- %s.log\n%s" % (name, tail), file=sys.stderr)

    def stop(self):
        """SIGTERM everything; returns {name: exit code}."""
        codes = {}
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = "killed"
        self._stop_stores()
        return codes


def security_yaml(mode, keys):
    """The security section of a test config: mode, and every key file
    and allow-list under the directory keys."""
    return f"""security:
  mode: {mode}
  broker_cert: {keys}/broker.key
  gateway_cert: {keys}/gateway.key
  worker_cert: {keys}/worker.key
  cli_cert: {keys}/cli.key
  workers_dir: {keys}/workers
  broker_clients_dir: {keys}/broker-clients
  read_clients_dir: {keys}/clients-read
  admin_clients_dir: {keys}/clients-admin
"""


def cert_keys(path):
    """(public, secret) Z85 keys of a czmq certificate: path and, if it
    exists, path_secret (secret None without it)."""
    found = {}
    for name in (path, path + "_secret"):
        if not os.path.exists(name):
            continue
        with open(name) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k.strip() in ("public-key", "secret-key"):
                    found[k.strip()] = v.strip().strip('"').encode()
    return found.get("public-key"), found.get("secret-key")


def curve_apply(sock, curve):
    """Makes sock a CURVE client: curve is (client key file, server key
    file), e.g. Pipeline.curve("cli", "gateway"); None leaves it plain.
    Call before connect."""
    if curve is None:
        return
    public, secret = cert_keys(curve[0])
    sock.curve_publickey = public
    sock.curve_secretkey = secret
    sock.curve_serverkey = cert_keys(curve[1])[0]


def zmq_request(endpoint, message, raw=None, timeout_ms=5000, curve=None,
                raw_reply=False):
    """One REQ round trip to endpoint: message (packed) or raw bytes,
    as a CURVE client if curve (curve_apply) is given; returns the
    decoded reply map (its bytes if raw_reply) or None."""
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    curve_apply(sock, curve)
    sock.connect(endpoint)
    try:
        sock.send(raw if raw is not None else msgpack.packb(message))
        if not sock.poll(timeout_ms):
            return None
        data = sock.recv()
        return data if raw_reply else msgpack.unpackb(data, raw=False)
    finally:
        sock.close()


def reply_columns(reply):
    """A query reply's history and forecast as {"t", "m", "v"} columns
    (every time, every measure index; null values None), whatever its
    encoding (docs/protocol.md 6.3): "columns" as they are, "compact"
    expanded (the first time, then deltas or [delta, count] runs, added
    modulo 2^64 as signed 64-bit; "m" all 0 when absent)."""
    out = {}
    for name in ("history", "forecast"):
        cols = reply[name]
        if reply.get("enc", "columns") == "columns":
            out[name] = cols
            continue
        times = []
        if cols["t"]:
            at = cols["t"][0]
            times.append(at)
            for item in cols["t"][1:]:
                delta, count = item if isinstance(item, list) else (item, 1)
                for _ in range(count):
                    at = (at + delta + 2 ** 63) % 2 ** 64 - 2 ** 63
                    times.append(at)
        out[name] = {"t": times, "m": cols.get("m", [0] * len(cols["v"])),
                     "v": cols["v"]}
    return out


def demo_base(now_ms):
    """The demo upstream's grid origin: points at base -/+ k * 5 min."""
    return now_ms // STEP_MS * STEP_MS
