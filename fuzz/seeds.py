#!/usr/bin/python3
"""seeds.py - writes the seed corpora of fuzz/corpus/ from the unit tests'
fixtures and the protocol's examples, so that each target starts from
inputs that reach deep into its parser instead of from nothing.

    fuzz/seeds.py          (re)writes fuzz/corpus/NAME/seed-*

Files named seed-* are this script's; other files in a corpus (crash-*
regressions, inputs a longer run found) are kept. JSON and cron texts
are the C string literals of the named tests (adjacent literals joined,
escapes decoded); HTTP requests and msgpack messages are written here
from docs/http-api.md and docs/protocol.md. A target whose first input
byte picks a mode (see each fuzz_NAME.c) gets that byte in front."""

import hashlib
import os
import re
import struct
import sys

import msgpack

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(TOP, "fuzz", "corpus")


def c_strings(path):
    """The string literals of a C file, adjacent ones joined, decoded."""
    text = open(os.path.join(TOP, path), encoding="utf-8").read()
    out = []
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*',
                         text):
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0))
        raw = "".join(parts).encode("utf-8")
        out.append(raw.decode("unicode_escape").encode("latin-1"))
    return out


def write(target, seeds):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.remove(os.path.join(d, f))
    seen = set()
    for data in seeds:
        h = hashlib.sha1(data).hexdigest()[:12]
        if h in seen:
            continue
        seen.add(h)
        with open(os.path.join(d, "seed-" + h), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seen)} seeds")


def json_like(s):
    return s[:1] in (b"{", b"[") and len(s) > 2


def cron():
    exprs = [s for s in c_strings("tests/unit/test_ts_cron.c")
             if 0 < len(s) < 80 and not s.startswith(b"field")
             and re.fullmatch(rb"[-0-9a-zA-Z*/, ]+", s)]
    write("cron", exprs)


def proto():
    def pk(dialogue, msg):
        return bytes([dialogue]) + msgpack.packb(msg)
    CLIENT, REPLIES, WORKER, BROKER, NOTICE = range(5)
    series = {"v": 1, "status": 200, "id": "test-run",
              "from": 1732406400000, "to": 1732492800000,
              "baseline": 1732406400000, "measures": ["temp", "wind"],
              "history": {"t": [1732406400000, 1732406400000], "m": [0, 1],
                          "v": [21.5, 3.0]},
              "forecast": {"t": [1732410000000], "m": [0], "v": [22.0]}}
    seeds = [
        pk(CLIENT, {"v": 1, "op": "ping"}),
        pk(CLIENT, {"v": 1, "op": "query", "id": "test-run",
                    "from": 1732406400000, "to": 1732492800000}),
        pk(CLIENT, {"v": 1, "op": "query", "id": "a", "measure": "temp"}),
        pk(CLIENT, {"v": 1, "op": "ids_add", "ids": ["a", "b"]}),
        pk(CLIENT, {"v": 1, "op": "ids_rm", "id": "a"}),
        pk(CLIENT, {"v": 1, "op": "ids_ls", "after": "b", "limit": 2}),
        pk(CLIENT, {"v": 1, "op": "hydrate", "ids": ["test-run"]}),
        pk(CLIENT, {"v": 1, "op": "stats"}),
        pk(CLIENT, {"v": 1, "op": "dlq_ls"}),
        pk(CLIENT, {"v": 1, "op": "dlq_redrive", "ids": ["test-run"]}),
        pk(CLIENT, {"v": 1, "op": "dlq_purge"}),
        pk(CLIENT, {"v": 1, "op": "job_state", "jobs": [7, 5]}),
        pk(CLIENT, {"v": 1, "op": "job", "job": 1, "ids": ["a"]}),
        pk(REPLIES, {"v": 1, "status": 200}),
        pk(REPLIES, series),
        pk(REPLIES, {"v": 1, "status": 400, "error": "bad_range",
                     "detail": "from > to"}),
        pk(REPLIES, {"v": 1, "status": 200, "count": 2, "ids": ["c", "d"],
                     "next": "d"}),
        pk(REPLIES, {"v": 1, "status": 202, "count": 1, "jobs": [7, 5]}),
        pk(REPLIES, {"v": 1, "status": 200, "stats": {
            "queued": 3, "delayed": 1, "leased": 2, "dlq": 1, "done": 40,
            "failed": 6, "retried": 4, "dead_lettered": 1,
            "oldest_age_ms": 1500, "workers": [
                {"name": "00e3ab12f4", "credit": 15, "leased": 1}]}}),
        pk(REPLIES, {"v": 1, "status": 200, "dlq": [
            {"job": 42, "ids": ["test-run"], "receives": 3,
             "dead_at": 1732406400000, "error": "HTTP 503"}]}),
        pk(REPLIES, {"v": 1, "status": 200, "states": [
            {"job": 7, "state": "done", "receives": 1, "error": ""},
            {"job": 5, "state": "dead", "receives": 3,
             "error": "HTTP 503"}]}),
        pk(WORKER, {"v": 1, "op": "ready", "credit": 16}),
        pk(WORKER, {"v": 1, "op": "done", "job": 42}),
        pk(WORKER, {"v": 1, "op": "done", "job": 42, "written": ["a"]}),
        pk(WORKER, {"v": 1, "op": "failed", "job": 42, "detail": "HTTP 429",
                    "retry": True, "retry_after_ms": 30000}),
        pk(WORKER, {"v": 1, "op": "heartbeat"}),
        pk(BROKER, {"v": 1, "op": "job", "job": 42, "ids": ["test-run"]}),
        pk(BROKER, {"v": 1, "op": "heartbeat", "boot": 1311768467463790320}),
        pk(NOTICE, {"v": 1, "op": "notice", "boot": 1311768467463790320,
                    "seq": 42, "ids": ["test-run", "b"]}),
        pk(NOTICE, {"v": 1, "op": "notice", "boot": 1, "seq": 43}),
        #  Request ids (section 3.7), release (5.19), stats' staleness
        #  (5.17).
        pk(CLIENT, {"v": 1, "op": "hydrate", "ids": ["a"],
                    "rid": "req-7f3a.1:x"}),
        pk(REPLIES, {"v": 1, "status": 202, "count": 1, "jobs": [7],
                     "rid": "req-7f3a.1:x"}),
        pk(BROKER, {"v": 1, "op": "job", "job": 42, "ids": ["a"],
                    "rid": "req-7f3a.1:x"}),
        pk(WORKER, {"v": 1, "op": "release", "jobs": [42, 43]}),
        pk(WORKER, {"v": 1, "op": "release", "jobs": []}),
        pk(REPLIES, {"v": 1, "status": 200, "stats": {
            "queued": 0, "delayed": 0, "leased": 0, "dlq": 0, "done": 5,
            "failed": 0, "retried": 0, "dead_lettered": 0,
            "oldest_age_ms": 0, "workers": [],
            "staleness": {"at": 1732406400000, "registered": 5,
                          "never": 1, "max_age_ms": 90000,
                          "le_ms": [60000, 300000, 900000],
                          "counts": [2, 4, 4]}}}),
        #  The compact encoding (6.3): the query key, one measure (no
        #  "m", a run, a gap, nil, float32), two measures (duplicate
        #  times: deltas of 0), a negative delta and a run of 0.
        pk(CLIENT, {"v": 1, "op": "query", "id": "a", "enc": "compact"}),
        pk(CLIENT, {"v": 1, "op": "query", "id": "a", "enc": "zip"}),
        pk(REPLIES, dict(series, enc="compact", measures=["temp"],
                         history={"t": [1732406400000, [300000, 3], 900000],
                                  "v": [21.5, None, 0.1,
                                        struct.unpack(">f", b"\x41\xac"
                                                      b"\x00\x00")[0],
                                        2.0]},
                         forecast={"t": [], "v": []})),
        pk(REPLIES, dict(series, enc="compact",
                         history={"t": [1732406400000, 0, [3600000, 2], -5],
                                  "m": [0, 1, 0, 1], "v": [21.5, 3.0, 1, 2]},
                         forecast={"t": [1732410000000, [0, 0]], "m": [0],
                                   "v": [22.0]})),
    ]
    write("proto", seeds)


def map_():
    specs = {b"rows_default": 0, b"rows_two": 1, b"open_meteo": 2,
             b"rows_seconds": 3, b"nested": 4, b"columns_ms": 5}
    text = open(os.path.join(TOP, "tests/unit/test_ts_map_parse.c"),
                encoding="utf-8").read()
    seeds = []
    #  s_parse_ok (s_SPEC, "doc") and s_parse_fails (s_SPEC, "doc", ...)
    for m in re.finditer(r"s_parse_(?:ok|fails) \(s_(\w+),((?:\s*\"(?:[^\"\\\n]|\\.)*\")+)",
                         text):
        spec = specs.get(m.group(1).encode())
        if spec is None:
            continue
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(2))
        doc = "".join(parts).encode("utf-8").decode("unicode_escape")
        seeds.append(bytes([spec]) + doc.encode("latin-1"))
    write("map", seeds)


def config():
    seeds = []
    for d in ("tests/data/config", "config"):
        for f in sorted(os.listdir(os.path.join(TOP, d))):
            if f.endswith(".yaml"):
                data = open(os.path.join(TOP, d, f), "rb").read()
                if len(data) <= 16384:
                    seeds.append(data)
    seeds += [s for s in c_strings("tests/unit/test_ts_config_yaml.c")
              if b":" in s and b"\n" in s]
    write("config", seeds)


def http():
    K = b"x-security-token: demo\r\n"
    reqs = [
        b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /v1/series/a?from=1732406400000&to=1732492800000&measure=value"
        b" HTTP/1.1\r\nHost: a\r\n" + K + b"\r\n",
        b"GET /v1/series/a?from=2024-11-24T00:00:00Z&to=2024-11-25T00:00:00%2B01:00"
        b" HTTP/1.1\r\n" + K + b"\r\n",
        b"GET /v1/ids?after=b&limit=2 HTTP/1.1\r\nAuthorization: Bearer demo\r\n\r\n",
        b"POST /v1/ids HTTP/1.1\r\nHost: a\r\n" + K +
        b"Content-Length: 17\r\n\r\n{\"ids\":[\"a\",\"b\"]}",
        b"POST /v1/hydrate HTTP/1.1\r\n" + K +
        b"Transfer-Encoding: chunked\r\n\r\n8\r\n{\"ids\":[\r\n5\r\n\"a\"]}\r\n0\r\n\r\n",
        b"DELETE /v1/ids/a%2Eb HTTP/1.1\r\n" + K + b"\r\n",
        b"GET /v1/stats HTTP/1.1\r\n" + K + b"\r\n"
        b"GET /v1/dlq HTTP/1.1\r\n" + K + b"\r\n"
        b"POST /v1/dlq/redrive HTTP/1.1\r\n" + K + b"Content-Length: 2\r\n\r\n{}"
        b"DELETE /v1/dlq HTTP/1.1\r\n" + K + b"Connection: close\r\n\r\n",
        b"GET /timeSeries-data?identifier=a&startDate=1732406400000"
        b"&endDate=1732492800000&measure=cpu HTTP/1.1\r\n" + K + b"\r\n",
        b"GET /prod/timeSeries-data?identifier=a&startDate=2024-11-24T00:00:00Z"
        b"&endDate=2024-11-25T00:00:00Z HTTP/1.0\r\n" + K +
        b"Connection: keep-alive\r\n\r\n",
        b"HEAD /v1/ids HTTP/1.1\r\n" + K + b"Expect: 100-continue\r\n\r\n",
        b"PUT /v1/ids HTTP/1.1\r\n" + K + b"\r\n",
        b"\r\nGET /v1/ids?x=1&x=2&a+b=%41 HTTP/1.1\r\nx-security-token:\r\n\r\n",
        b"GET /v1/series/a?format=csv HTTP/1.1\r\n" + K +
        b"Accept: text/csv;q=0.9, application/json;q=0.5\r\n"
        b"Accept: */*;q=0.1\r\n\r\n",
        b"GET /grafana/ HTTP/1.1\r\nAuthorization: Bearer demo\r\n\r\n",
        b"POST /grafana/search HTTP/1.1\r\n" + K +
        b"Content-Length: 15\r\n\r\n{\"target\":\"a:\"}",
        b"POST /grafana/query HTTP/1.1\r\n" + K + b"Content-Length: 173\r\n\r\n"
        b"{\"range\":{\"from\":\"2024-11-24T00:00:00.000Z\",\"to\":"
        b"\"2024-11-25T00:00:00.000Z\"},\"intervalMs\":60000,\"maxDataPoints\":"
        b"500,\"targets\":[{\"target\":\"a:value\",\"payload\":{\"agg\":\"max\"}}]}",
    ]
    #  Step byte: 0 feeds all at once, 7 in reads of 7 bytes.
    write("http", [bytes([0]) + r for r in reqs] +
                  [bytes([7]) + r for r in reqs[1:6]])


def dynamodb():
    s = c_strings("tests/unit/test_ts_store_dynamodb.c")
    items = [x for x in s if json_like(x) and b'"N"' in x]
    seeds = [b"\x00" + b'{"Items":[' + i + b'],"Count":1}' for i in items]
    seeds += [b"\x00" + b'{"Item":' + i + b'}' for i in items[:3]]
    seeds += [b"\x01" + b'{"__type":"com.amazonaws.dynamodb.v20120810#'
              b'ProvisionedThroughputExceededException","message":"slow down"}',
              b"\x01<html>502 Bad Gateway</html>"]
    nums = [b"2.0001", b"-1E+100", b"1654152221", b"1.5e3", b"-0.000",
            b"99999999999999999999999999999999999999"]
    seeds += [b"\x02" + n for n in nums]
    write("dynamodb", seeds)


def timestream():
    s = c_strings("tests/unit/test_ts_store_timestream.c") + \
        c_strings("tests/unit/test_ts_store_timestream_calls.c")
    seeds = []
    for x in s:
        if not json_like(x):
            continue
        if b"ColumnInfo" in x:
            seeds.append(b"\x00" + x)
        if b"RejectedRecords" in x:
            seeds.append(b"\x01" + x)
        if b"Endpoints" in x:
            seeds.append(b"\x02" + x)
    scalars = [(1, b"abc"), (2, b"true"), (3, b"-9223372036854775808"),
               (4, b"2147483647"), (5, b"-Infinity"), (5, b"1.5e-3"),
               (6, b"2024-11-24 00:00:00.123456789"), (7, b"2024-02-29"),
               (8, b"23:59:59.5"), (9, b"-1 02:03:04.000000001"),
               (10, b"-1-11")]
    seeds += [b"\x03" + bytes([t]) + v for t, v in scalars]
    write("timestream", seeds)


def influxdb():
    s = c_strings("tests/unit/test_ts_store_influxdb.c")
    seeds = []
    for x in s:
        if json_like(x) and b"results" in x:
            seeds.append(b"\x00" + x)
        elif json_like(x) and (b"error" in x or b"message" in x):
            seeds.append(b"\x01" + x)
    seeds += [b"\x01partial write: field type conflict: input field",
              b"\x02a b,c=d", b"\x02it's \"q\"", b"\x02caf\xc3\xa9"]
    write("influxdb", seeds)


def aws_creds():
    s = c_strings("tests/unit/test_ts_aws_creds.c")
    seeds = []
    for x in s:
        if json_like(x) and b"AccessKeyId" in x:
            seeds.append(b"\x00" + x)
        elif x.startswith((b"http://", b"https://", b"HTTPS://", b"ftp:",
                           b"file:")):
            seeds.append(b"\x01" + x)
        elif x.startswith(b"[") and b"\n" in x:
            seeds.append(b"\x02" + x)
    seeds += [b"\x02[default]\naws_access_key_id = AKID\n"
              b"aws_secret_access_key = s\n\x00[profile default]\n"
              b"region = eu-west-1\n",
              b"\x02\x00[default]\naws_access_key_id=A\n"
              b"aws_secret_access_key=B\naws_session_token=C\nregion=us-east-1"]
    write("aws_creds", seeds)


def main():
    cron()
    proto()
    map_()
    config()
    http()
    dynamodb()
    timestream()
    influxdb()
    aws_creds()


if __name__ == "__main__":
    sys.exit(main())
