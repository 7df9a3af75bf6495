#!/bin/sh
#  install-deps.sh - install what tscache needs, and only what is missing.
#
#    tools/install-deps.sh build   compiler, make, pkg-config, -dev libraries,
#                                  help2man (make install's man pages)
#    tools/install-deps.sh run     build + curl (make run: the demo's health
#                                  check and the commands it prints)
#    tools/install-deps.sh test    build + cmocka, python3 (zmq, msgpack, yaml, jsonschema), curl, groff,
#                                  clang, llvm-symbolizer and libFuzzer (make fuzz, make
#                                  test-asan), valgrind (make memcheck),
#                                  prometheus (its promtool checks the
#                                  /metrics exposition),
#                                  docker-compose (test_compose, no engine
#                                  needed), iproute2, influxdb (tests start their own
#                                  influxd), nodejs and npm, then the npm test tools,
#                                  each by npm ci from its committed lock file
#                                  into its node_modules: tests/node
#                                  (dynalite), tests/node/sigv4 (AWS's JS
#                                  signer), tests/node/timestream (AWS's JS
#                                  Timestream SDK clients for the fixture's
#                                  checks), tests/node/openapi
#                                  (swagger-parser: test_openapi checks
#                                  docs/openapi.yaml), tests/node/browser
#                                  (puppeteer-core: test_ui drives
#                                  chromium, also installed, headless)
#    tools/install-deps.sh bench   build + python3 (zmq, msgpack) and the peers
#                                  of make bench (make soak needs wrk of
#                                  them): wrk, nginx-light,
#                                  redis-server, redis-tools, influxdb,
#                                  victoria-metrics, varnish,
#                                  nodejs and npm, and dynalite as for test
#
#  Each library is looked up with pkg-config first; apt-get runs only when
#  something is missing (as root, or through sudo).
set -eu
what=${1:-build}
case $what in
    build|run|test|bench) ;;
    *) echo "usage: tools/install-deps.sh build|run|test|bench" >&2; exit 2 ;;
esac
missing=""

need_cmd () {     # need_cmd COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need_pc () {      # need_pc PKG-CONFIG-NAME PACKAGE
    if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists "$1"; then
        missing="$missing $2"
    fi
}
need_sbin () {    # need_sbin COMMAND PACKAGE (also looked up in the sbin dirs)
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] \
        || [ -x "/usr/bin/$1" ] || missing="$missing $2"
}
need_py () {      # need_py MODULE PACKAGE
    if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c "import $1" >/dev/null 2>&1; then
        missing="$missing $2"
    fi
}

need_cmd cc gcc
need_cmd make make
need_cmd pkg-config pkg-config
need_cmd help2man help2man
need_pc libzmq libzmq3-dev
need_pc libczmq libczmq-dev
need_pc msgpack libmsgpack-dev
need_pc libcurl libcurl4-openssl-dev
need_pc openssl libssl-dev
need_pc yaml-0.1 libyaml-dev
need_pc lmdb liblmdb-dev
need_pc zlib zlib1g-dev
need_pc jansson libjansson-dev
need_pc yajl libyajl-dev
need_pc libmicrohttpd libmicrohttpd-dev
need_pc libxxhash libxxhash-dev
if [ "$what" = run ] || [ "$what" = test ]; then
    need_cmd curl curl
fi
#  http-parser ships no pkg-config file: look for its header.
[ -f /usr/include/http_parser.h ] || missing="$missing libhttp-parser-dev"
if [ "$what" = test ]; then
    need_pc cmocka libcmocka-dev
    [ -x /usr/bin/python3 ] || missing="$missing python3"
    need_py zmq python3-zmq
    need_py msgpack python3-msgpack
    need_py yaml python3-yaml
    #  jsonschema: test_openapi checks real answers against the spec's
    #  schemas (JSON Schema 2020-12, as OpenAPI 3.1 has them).
    need_py jsonschema python3-jsonschema
    need_cmd docker-compose docker-compose
    #  groff: test_install renders the man pages.
    need_cmd groff groff-base
    need_cmd node nodejs
    need_cmd npm npm
    #  ip: the hosts (network namespaces) of tests/e2e/test_multihost.
    need_sbin ip iproute2
    #  The InfluxDB history backend's tests start their own influxd.
    need_sbin influxd influxdb
    #  tests/integration/test_tls_proxy: deploy/nginx/tscache-tls.conf
    #  in a real nginx, a certificate made with openssl, curl over TLS.
    need_sbin nginx nginx-light
    need_cmd openssl openssl
    #  promtool check metrics: the /metrics tests. Debian ships promtool
    #  only in the prometheus package (the server comes with it, about
    #  96 MB installed; no service is started, see policy-rc.d below).
    need_sbin promtool prometheus
    #  make fuzz: clang, and its runtime libraries (libFuzzer, ASan,
    #  UBSan), Debian's default version of both.
    need_cmd clang clang
    #  ASan's and LeakSanitizer's reports name functions through
    #  llvm-symbolizer (Debian's llvm package): without it a report has
    #  addresses only, and tests/sanitizers/lsan.supp, which names
    #  functions, matches nothing.
    need_cmd llvm-symbolizer llvm
    #  make memcheck: the daemons of the pipeline test under valgrind.
    need_cmd valgrind valgrind
    #  tests/e2e/test_ui: the built-in page in a real browser, headless.
    need_cmd chromium chromium
    ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 \
        || missing="$missing libclang-rt-dev"
fi
if [ "$what" = bench ]; then
    [ -x /usr/bin/python3 ] || missing="$missing python3"
    need_py zmq python3-zmq
    need_py msgpack python3-msgpack
    need_sbin wrk wrk
    need_sbin nginx nginx-light
    need_sbin redis-server redis-server
    need_sbin redis-cli redis-tools
    need_sbin redis-benchmark redis-tools
    need_sbin influxd influxdb
    #  Figure 10, the peers a user would pick instead: VictoriaMetrics
    #  and Varnish (varnishd and varnishstat).
    need_sbin victoria-metrics victoria-metrics
    need_sbin varnishd varnish
    need_sbin varnishstat varnish
    #  The DynamoDB figure: dynalite (npm, tests/node).
    need_cmd node nodejs
    need_cmd npm npm
fi

#  The npm test tools, each from its committed lock file, when missing or
#  older than the lock file (npm records what it installed in
#  node_modules/.package-lock.json).
node_tools () {
    [ "$what" = test ] || [ "$what" = bench ] || return 0
    top=$(cd "$(dirname "$0")/.." && pwd)
    for dir in tests/node tests/node/sigv4 tests/node/timestream \
               tests/node/openapi tests/node/browser; do
        stamp="$top/$dir/node_modules/.package-lock.json"
        if [ -f "$stamp" ] && [ ! "$top/$dir/package-lock.json" -nt "$stamp" ]; then
            continue
        fi
        echo "install-deps: npm ci in $dir"
        (cd "$top/$dir" && npm ci --no-audit --no-fund --loglevel=error)
    done
}

[ -z "$missing" ] && { node_tools; exit 0; }
# Python modules are checked in Debian's /usr/bin/python3, which the tests
# run with (another python3 earlier on PATH would not see them).
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
echo "install-deps: installing:$missing"
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# The bench and test peers are servers: make bench and the tests start its own instances, so
# their packages must not start system services on install. Debian's
# invoke-rc.d asks /usr/sbin/policy-rc.d; one that exits 101 denies every
# start. It is put in place only if none exists, and removed afterwards.
policy=""
if { [ "$what" = bench ] || [ "$what" = test ]; } && [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends $missing
node_tools
