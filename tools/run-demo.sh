#!/bin/bash
#  run-demo.sh - what `make run` starts: the demo upstream, the broker, two
#  workers and the gateway on the embedded store (config/demo.yaml), with a
#  sample id hydrated. Ctrl-C stops everything.
#
#  Ports and endpoints are the config's: config/demo.yaml, then any
#  TSCACHE_* override (TSCACHE_GATEWAY_HTTP_PORT=9090 make run). The
#  effective values are read back from the daemons themselves
#  (--print-config), so this script cannot disagree with them. Moving a
#  bind moves what connects to it unless that is overridden too: a new
#  broker.control_bind becomes gateway.broker_endpoint, broker.worker_bind
#  worker.broker_endpoint, broker.notice_bind gateway.notice_endpoint,
#  gateway.zmq_bind the CLI's endpoint. The demo
#  upstream is started when upstream.url points at this machine.
#
#  The HTTP API key is $TSCACHE_API_KEY, or "demo-key" when unset: a demo
#  default only; set your own outside the demo. Logs go to $DEMO_LOGS
#  (default var/demo).
#
#  Exit status: 0 after Ctrl-C (or SIGTERM), 1 if the pipeline could not
#  start or one of its processes stopped on its own.
set -u
cd "$(dirname "$0")/.."
BIN=${TSCACHE_BIN:-bin}
export TSCACHE_CONFIG=${TSCACHE_CONFIG:-config/demo.yaml}
export TSCACHE_API_KEY=${TSCACHE_API_KEY:-demo-key}
SAMPLE_ID=${SAMPLE_ID:-demo-station}
LOGS=${DEMO_LOGS:-var/demo}
mkdir -p "$LOGS"
pids=()
names=()

say () { echo "make run: $*" >&2; }

stop () {     # stop STATUS
    trap - INT TERM EXIT
    if [ ${#pids[@]} -gt 0 ]; then
        echo; echo "stopping..."
        kill -TERM "${pids[@]}" 2>/dev/null
        wait 2>/dev/null
        echo "stopped."
    fi
    exit "$1"
}
trap 'stop 0' INT TERM
trap 'stop 1' EXIT

#  The effective value of a config key (file, then environment).
config=$("$BIN/tscache-gateway" --print-config) || {
    say "cannot read the config $TSCACHE_CONFIG (see above)"; exit 1; }
key () { sed -n "s/^$1: //p" <<<"$config" | sed 's/^"\(.*\)"$/\1/'; }

#  The TCP port of a ZeroMQ endpoint or URL ("" if it has none).
port_of () { sed -n 's#^[a-z]*://\(\[[^]]*\]\|[^/:]*\):\([0-9][0-9]*\).*#\2#p' <<<"$1"; }
host_of () { sed -n 's#^[a-z]*://\(\[[^]]*\]\|[^/:]*\).*#\1#p' <<<"$1"; }

#  A bind moved by an override carries what connects to it along.
follow () {    # follow BIND_KEY ENDPOINT_VAR
    local bind_var=TSCACHE_$(tr 'a-z.' 'A-Z_' <<<"$1")
    if [ -n "${!bind_var:-}" ] && [ -z "${!2:-}" ]; then
        local port
        port=$(port_of "${!bind_var}")
        [ -n "$port" ] && export "$2=tcp://127.0.0.1:$port"
    fi
}
follow broker.control_bind TSCACHE_GATEWAY_BROKER_ENDPOINT
follow broker.worker_bind TSCACHE_WORKER_BROKER_ENDPOINT
follow broker.notice_bind TSCACHE_GATEWAY_NOTICE_ENDPOINT
follow gateway.zmq_bind TSCACHE_ENDPOINT
config=$("$BIN/tscache-gateway" --print-config) || exit 1

HTTP_PORT=$(key gateway.http_port)
HTTP_HOST=$(key gateway.http_bind)
case $HTTP_HOST in ""|0.0.0.0|::) HTTP_HOST=127.0.0.1 ;; esac
case $HTTP_HOST in *:*) HTTP=http://[$HTTP_HOST]:$HTTP_PORT ;;
                   *)   HTTP=http://$HTTP_HOST:$HTTP_PORT ;; esac
ZMQ_BIND=$(key gateway.zmq_bind)
CONTROL_BIND=$(key broker.control_bind)
WORKER_BIND=$(key broker.worker_bind)
NOTICE_BIND=$(key broker.notice_bind)
UPSTREAM_URL=$(key upstream.url)
UPSTREAM_PORT=""
case $(host_of "$UPSTREAM_URL") in
    127.0.0.1|localhost) UPSTREAM_PORT=$(port_of "$UPSTREAM_URL") ;;
esac
if [ "$HTTP_PORT" = 0 ]; then
    say "gateway.http_port is 0 (HTTP off): make run needs the HTTP API"
    exit 1
fi

#  Every port this pipeline listens on must be free. Named with the key
#  that sets it and the variable that overrides it.
check_port () {    # check_port PORT KEY
    [ -n "$1" ] || return 0
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        local var=TSCACHE_$(tr 'a-z.' 'A-Z_' <<<"$2")
        say "port $1 ($2) on 127.0.0.1 is in use (another tscache running?);"
        say "stop what uses it, or pick another port: $var=..."
        return 1
    fi
}
check_port "$UPSTREAM_PORT" upstream.url &&
check_port "$(port_of "$CONTROL_BIND")" broker.control_bind &&
check_port "$(port_of "$WORKER_BIND")" broker.worker_bind &&
check_port "$(port_of "$NOTICE_BIND")" broker.notice_bind &&
check_port "$(port_of "$ZMQ_BIND")" gateway.zmq_bind &&
check_port "$HTTP_PORT" gateway.http_port || exit 1

#  CURVE keys (security.mode: curve, the default): every key pair of the
#  config that is missing is made at the first start, and this host's
#  public keys go into its allow-lists (tscache keys init; ./var/keys).
if [ "$(key security.mode)" = curve ]; then
    "$BIN/tscache" keys init >/dev/null || {
        say "cannot make the CURVE keys (tscache keys init, see above)"; exit 1; }
fi

start () {     # start NAME COMMAND...
    local name=$1
    shift
    "$@" >>"$LOGS/$name.log" 2>&1 &
    pids+=($!)
    names+=("$name")
}
#  The name of the first process that is no longer running, if any.
dead () {
    local i
    for i in "${!pids[@]}"; do
        kill -0 "${pids[$i]}" 2>/dev/null || { echo "${names[$i]}"; return; }
    done
}
failed () {    # failed NAME: says why and shows the end of its log
    say "$1 stopped; the end of $LOGS/$1.log:"
    tail -n 8 "$LOGS/$1.log" >&2
    exit 1
}

[ -n "$UPSTREAM_PORT" ] &&
    start tscache-demo-upstream "$BIN/tscache-demo-upstream" --port "$UPSTREAM_PORT"
start tscache-broker "$BIN/tscache-broker"
start tscache-worker-1 "$BIN/tscache-worker"
start tscache-worker-2 "$BIN/tscache-worker"
start tscache-gateway "$BIN/tscache-gateway"

up=""
for _ in $(seq 100); do
    name=$(dead)
    [ -n "$name" ] && failed "$name"
    if curl -fs -o /dev/null "$HTTP/healthz"; then up=yes; break; fi
    sleep 0.1
done
if [ -z "$up" ]; then
    say "the gateway did not answer $HTTP/healthz within 10 s; logs in $LOGS/:"
    tail -n 5 "$LOGS"/*.log >&2
    exit 1
fi
auth=(-H "x-security-token: $TSCACHE_API_KEY" -H "Content-Type: application/json")
if ! curl -fsS -o /dev/null "${auth[@]}" -d "{\"ids\":[\"$SAMPLE_ID\"]}" "$HTTP/v1/ids" ||
   ! curl -fsS -o /dev/null "${auth[@]}" -d "{\"ids\":[\"$SAMPLE_ID\"]}" "$HTTP/v1/hydrate"; then
    say "could not register and hydrate $SAMPLE_ID; logs in $LOGS/"
    exit 1
fi

cli=$BIN/tscache
[ -n "${TSCACHE_ENDPOINT:-}" ] && cli="$cli -e $TSCACHE_ENDPOINT"
cat <<TXT

tscache is running (logs in $LOGS/, store in $(key store.lmdb.path)).

  web page        $HTTP/#/series/$SAMPLE_ID (docs/ui.md; it asks for the key)
  HTTP API        $HTTP           (key: TSCACHE_API_KEY=$TSCACHE_API_KEY)
  ZeroMQ API      $ZMQ_BIND    (msgpack, docs/protocol.md)
  broker          $CONTROL_BIND (control), $WORKER_BIND (workers),
                  ${NOTICE_BIND:-no} (change notices)
  upstream        $UPSTREAM_URL

Try:

  curl -H 'x-security-token: $TSCACHE_API_KEY' '$HTTP/v1/series/$SAMPLE_ID'
  curl -H 'x-security-token: $TSCACHE_API_KEY' '$HTTP/timeSeries-data?identifier=$SAMPLE_ID&startDate='\$(( (\$(date +%s) - 86400) * 1000 ))'&endDate='\$(( \$(date +%s) * 1000 ))
  curl -H 'x-security-token: $TSCACHE_API_KEY' -d '{"ids":["another-id"]}' $HTTP/v1/ids
  $cli query $SAMPLE_ID
  $cli ids ls

Ctrl-C stops everything.
TXT

#  Serve until Ctrl-C; a process that stops on its own ends the demo.
while true; do
    wait -n
    name=$(dead)
    [ -n "$name" ] && failed "$name"
done
