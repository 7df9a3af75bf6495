#!/bin/bash
#  run.sh - run every tscache test and print one summary line.
#
#    tests/run.sh                 unit, contract, integration, end-to-end,
#                                 fuzz
#    tests/run.sh unit|contract|integration|e2e|fuzz
#
#  Unit tests are the cmocka binaries build/tests/test_* (run one test of
#  one: build/tests/test_ts_map NAME). Contract tests are cmocka binaries
#  build/tests/contract/test_*: the same tests run against every backend of
#  a seam (tests/contract/README.md). Integration and end-to-end tests are
#  scripts in tests/integration and tests/e2e that print a line per check:
#  "PASS: name" or "FAIL: name". Fuzz runs each libFuzzer target of
#  build-fuzz/fuzz (make fuzz-build) for FUZZ_SECONDS (default 20) over
#  its seed corpus (fuzz/run.sh); each target is one test. The last line
#  is "tests: N passed, N failed".
#  Run from anywhere; exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
export TSCACHE_BIN=${TSCACHE_BIN:-bin}
#  No test may ask the EC2 instance metadata service (a link-local
#  address, off this machine): an AWS client that finds no credentials
#  elsewhere would. Tests that play it point it at loopback.
export AWS_EC2_METADATA_DISABLED=${AWS_EC2_METADATA_DISABLED:-true}
TESTS_DIR=${TSCACHE_TESTS:-build/tests}
which=${1:-all}
passed=0
failed=0
failures=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/tscache-tests.XXXXXX")

#  count WORD LOG: the sum of cmocka's "[  WORD  ] N test(s)" lines in LOG
#  (a contract suite runs one group of tests per backend).
count () {
    sed -n "s/^\[  $1  \] \([0-9]*\) test.*/\1/p" "$2" |
        awk '{ s += $1 } END { print s + 0 }'
}

run_unit () {    # run_unit DIR
    for t in "$1"/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        out="$logdir/$name.log"
        timeout 300 "$t" >"$out" 2>&1
        rc=$?
        p=$(count PASSED "$out"); f=$(count FAILED "$out")
        if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed or timed out
        passed=$((passed + p)); failed=$((failed + f))
        if [ "$f" != 0 ]; then
            failures+=("$name")
            echo "--- $name failed (exit $rc):"; grep -E 'FAIL|ERROR|error|Assert|assert' "$out" | head -20
        fi
        printf '%-28s %3d passed, %d failed\n' "$name" "$p" "$f"
    done
}

run_scripts () {    # run_scripts DIR
    for t in "$1"/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        out="$logdir/$name.log"
        echo "== $1/$name"
        timeout 600 "$t" 2>"$out.err" | tee "$out"
        rc=${PIPESTATUS[0]}
        p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out")
        if [ $rc -ne 0 ] && [ "$f" = 0 ]; then
            f=1; echo "FAIL: $name exited $rc"; tail -20 "$out.err"
        elif [ "$f" != 0 ]; then
            tail -30 "$out.err"
        fi
        passed=$((passed + p)); failed=$((failed + f))
        [ "$f" != 0 ] && failures+=("$name")
    done
}

run_fuzz () {
    if [ ! -d "${FUZZ_BIN:-build-fuzz/fuzz}" ] && [ -z "${CI:-}" ]; then
        echo "fuzz: SKIP: no fuzz targets built (make fuzz-build needs clang;" \
             "tools/install-deps.sh test installs it)"
        return
    fi
    local targets
    targets=${FUZZ_TARGETS:-$(ls fuzz/fuzz_*.c | sed 's|fuzz/fuzz_\(.*\)\.c|\1|')}
    echo "== fuzz: each target ${FUZZ_SECONDS:-20} s"
    local out="$logdir/fuzz.log"
    fuzz/run.sh "${FUZZ_SECONDS:-20}" $targets | tee "$out"
    local rc=${PIPESTATUS[0]}
    local p f
    p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out")
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    [ "$f" != 0 ] && failures+=("fuzz")
}

case $which in
    unit)        run_unit "$TESTS_DIR" ;;
    contract)    run_unit "$TESTS_DIR/contract" ;;
    integration) run_scripts tests/integration ;;
    e2e)         run_scripts tests/e2e ;;
    fuzz)        run_fuzz ;;
    all)         run_unit "$TESTS_DIR"; run_unit "$TESTS_DIR/contract"
                 run_scripts tests/integration; run_scripts tests/e2e
                 run_fuzz ;;
    *)           echo "usage: tests/run.sh [unit|contract|integration|e2e|fuzz]" >&2
                 exit 2 ;;
esac

[ ${#failures[@]} -gt 0 ] && echo "failing: ${failures[*]} (logs in $logdir)"
[ $failed -eq 0 ] && rm -rf "$logdir"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
