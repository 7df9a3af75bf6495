#!/bin/bash
#  run-demo.sh - what `make run` starts: the demo upstream, the broker, two
#  workers and the gateway on the embedded store (config/demo.yaml), with a
#  sample id hydrated. Ctrl-C stops everything.
#
#  The HTTP API key is $TSCACHE_API_KEY, or "demo-key" when unset: a demo
#  default only; set your own outside the demo.
set -u
cd "$(dirname "$0")/.."
BIN=${TSCACHE_BIN:-bin}
export TSCACHE_CONFIG=${TSCACHE_CONFIG:-config/demo.yaml}
export TSCACHE_API_KEY=${TSCACHE_API_KEY:-demo-key}
SAMPLE_ID=${SAMPLE_ID:-demo-station}
HTTP=http://127.0.0.1:8080
mkdir -p var/demo
pids=()

stop () {
    trap - INT TERM EXIT
    echo; echo "stopping..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    wait 2>/dev/null
    echo "stopped."
    exit 0
}
trap stop INT TERM EXIT

for port in 8090 5555 5556 5557 8080; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "make run: port $port on 127.0.0.1 is in use (another tscache running?)" >&2
        trap - EXIT; exit 1
    fi
done

start () {     # start NAME COMMAND...
    local name=$1
    shift
    "$@" >>"var/demo/$name.log" 2>&1 &
    pids+=($!)
}
start tscache-demo-upstream "$BIN/tscache-demo-upstream" --port 8090
start tscache-broker "$BIN/tscache-broker"
start tscache-worker "$BIN/tscache-worker"
start tscache-worker "$BIN/tscache-worker"
start tscache-gateway "$BIN/tscache-gateway"

for _ in $(seq 50); do
    curl -fs "$HTTP/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
if ! curl -fs "$HTTP/healthz" >/dev/null 2>&1; then
    echo "make run: the gateway did not start; see var/demo/*.log" >&2
    tail -n 5 var/demo/*.log >&2
    exit 1
fi
auth=(-H "x-security-token: $TSCACHE_API_KEY" -H "Content-Type: application/json")
curl -fs "${auth[@]}" -d "{\"ids\":[\"$SAMPLE_ID\"]}" "$HTTP/v1/ids" >/dev/null
curl -fs "${auth[@]}" -d "{\"ids\":[\"$SAMPLE_ID\"]}" "$HTTP/v1/hydrate" >/dev/null

cat <<TXT

tscache is running (logs in var/demo/, store in var/demo/data).

  HTTP API        $HTTP           (key: TSCACHE_API_KEY=$TSCACHE_API_KEY)
  ZeroMQ API      tcp://127.0.0.1:5555    (msgpack, docs/protocol.md)
  broker          tcp://127.0.0.1:5556 (control), tcp://127.0.0.1:5557 (workers)
  demo upstream   http://127.0.0.1:8090/rows/{id}

Try:

  curl -H 'x-security-token: $TSCACHE_API_KEY' '$HTTP/v1/series/$SAMPLE_ID'
  curl -H 'x-security-token: $TSCACHE_API_KEY' '$HTTP/timeSeries-data?identifier=$SAMPLE_ID&startDate='\$(( (\$(date +%s) - 86400) * 1000 ))'&endDate='\$(( \$(date +%s) * 1000 ))
  curl -H 'x-security-token: $TSCACHE_API_KEY' -d '{"ids":["another-id"]}' $HTTP/v1/ids
  $BIN/tscache query $SAMPLE_ID
  $BIN/tscache ids ls

Ctrl-C stops everything.
TXT
wait
