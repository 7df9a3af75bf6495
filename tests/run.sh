#!/bin/bash
#  run.sh - run every tscache test and print one summary line.
#
#    tests/run.sh                 unit, contract, integration, end-to-end,
#                                 fuzz
#    tests/run.sh SUITE...        some of them, in that order: unit,
#                                 contract, integration, e2e, fuzz; each
#                                 may be asan:SUITE or memcheck:SUITE
#                                 (below), and SUITE/TEST,TEST... only
#                                 those tests of it; all is the five
#    TSCACHE_ONLY="test_a test_b" tests/run.sh ...   only the tests so named
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
#
#  asan:SUITE runs the suite against the sanitizer build (make asan-build:
#  TSCACHE_ASAN_BIN, default build-asan/bin, and TSCACHE_ASAN_TESTS,
#  default build-asan/tests) with AddressSanitizer, LeakSanitizer and
#  UBSan set to stop at the first report. memcheck:SUITE runs it with each
#  daemon a script starts under valgrind (TSCACHE_WRAP, read by
#  tests/e2e/tscache_e2e.py). Either way every report goes to a file of
#  the test's own directory, not to stderr: a daemon's report would reach
#  no test's output, and its exit code not every test's check. A test
#  that leaves a report there fails, whatever its own checks said, and
#  the report is printed (docs/robustness.md, "Sanitizers", "Memcheck";
#  what is suppressed and why: tests/sanitizers/).
#  Run from anywhere; exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
top=$PWD
export TSCACHE_BIN=${TSCACHE_BIN:-bin}
#  No test may ask the EC2 instance metadata service (a link-local
#  address, off this machine): an AWS client that finds no credentials
#  elsewhere would. Tests that play it point it at loopback.
export AWS_EC2_METADATA_DISABLED=${AWS_EC2_METADATA_DISABLED:-true}
TESTS_DIR=${TSCACHE_TESTS:-build/tests}
ASAN_BIN=${TSCACHE_ASAN_BIN:-build-asan/bin}
ASAN_TESTS=${TSCACHE_ASAN_TESTS:-build-asan/tests}
SUPP=$top/tests/sanitizers
passed=0
failed=0
failures=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/tscache-tests.XXXXXX")
#  The suite being run: its mode (plain, asan, memcheck), the name it is
#  reported under, and the environment and command prefix of its tests.
mode=plain
label=""
run_env=()
wrap=()
sandir=""

#  count WORD LOG: the sum of cmocka's "[  WORD  ] N test(s)" lines in LOG
#  (a contract suite runs one group of tests per backend).
count () {
    sed -n "s/^\[  $1  \] \([0-9]*\) test.*/\1/p" "$2" |
        awk '{ s += $1 } END { print s + 0 }'
}

#  selected NAME: NAME is in TSCACHE_ONLY (or that is unset) and in the
#  suite's own list (SUITE/TEST,..., in only; or that is empty).
only=""
selected () {
    { [ -z "${TSCACHE_ONLY:-}" ] || [[ " $TSCACHE_ONLY " == *" $1 "* ]]; } &&
        { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }
}

#  Scripts that check the build itself rather than what its processes
#  do, so run only against the plain one: test_install runs make install
#  over the build, which would rebuild a sanitizer build with the plain
#  flags; test_compose compares the libraries the binaries link with the
#  image's packages, and a sanitizer build links more (libgcc_s).
SAN_SKIP="test_install test_compose"
sanitized_skip () {    # sanitized_skip NAME: true (and says so) if skipped
    [ "$mode" != plain ] && [[ " $SAN_SKIP " == *" $1 "* ]] || return 1
    echo "== $1: SKIP under $mode (checks the build, not its processes)"
}

#  checker_begin NAME: run_env and wrap for one test in the current mode,
#  its reports going to sandir.
#  ASan: halt_on_error (the first report ends the process), exitcode 1,
#  leaks checked at exit. UBSan: built with -fno-sanitize-recover, so any
#  report ends the process; the options add the stack.
checker_begin () {
    sandir=""
    wrap=()
    case $mode in
        plain) run_env=() ;;
        asan)
            sandir="$logdir/reports/$1"
            mkdir -p "$sandir"
            run_env=(TSCACHE_BIN="$ASAN_BIN" TSCACHE_TESTS="$ASAN_TESTS"
                TSCACHE_TEST_TIME_SCALE=3
                ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:exitcode=1:log_path=$sandir/report"
                LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
                UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$sandir/report")
            ;;
        memcheck)
            sandir="$logdir/reports/$1"
            mkdir -p "$sandir"
            #  -q: a log file stays empty unless valgrind found something.
            local vg="valgrind -q --leak-check=full --errors-for-leak-kinds=definite"
            vg="$vg --error-exitcode=97 --suppressions=$SUPP/valgrind.supp"
            vg="$vg --log-file=$sandir/valgrind.%p"
            run_env=(TSCACHE_WRAP="$vg" TSCACHE_TEST_TIME_SCALE=3)
            read -r -a wrap <<<"$vg"
            ;;
    esac
}

#  checker_end: 1 (and the reports printed) if the test left any report.
checker_end () {
    [ -n "$sandir" ] || return 0
    local reports
    reports=$(find "$sandir" -type f -size +0 | sort)
    [ -z "$reports" ] && return 0
    local r
    for r in $reports; do
        echo "--- $mode report $r:"
        head -60 "$r"
    done
    return 1
}

run_unit () {    # run_unit DIR
    if [ "$mode" != plain ] && [ ! -d "$1" ]; then
        echo "FAIL: $arg: $1 is not built"
        failed=$((failed + 1)); failures+=("$arg")
        return
    fi
    for t in "$1"/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        selected "$name" || continue
        out="$logdir/$label-$name.log"
        checker_begin "$label-$name"
        env "${run_env[@]}" timeout 300 "${wrap[@]}" "$t" >"$out" 2>&1
        rc=$?
        p=$(count PASSED "$out"); f=$(count FAILED "$out")
        if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed or timed out
        if ! checker_end && [ "$f" = 0 ]; then f=1; fi
        passed=$((passed + p)); failed=$((failed + f))
        [ "$mode" = plain ] || name="$mode:$name"
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
        selected "$name" || continue
        sanitized_skip "$name" && continue
        out="$logdir/$label-$name.log"
        [ "$mode" = plain ] || name="$mode:$name"
        echo "== $1/$name"
        checker_begin "$label-$(basename "$t")"
        #  Sanitized, a script may wait up to 3 times as long for work.
        env "${run_env[@]}" timeout $([ "$mode" = plain ] && echo 600 || echo 1200) \
            "$t" 2>"$out.err" | tee "$out"
        rc=${PIPESTATUS[0]}
        if ! checker_end; then
            echo "FAIL: $name: a process left a $mode report (above)" | tee -a "$out"
        fi
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

usage () {
    echo "usage: tests/run.sh [[asan:|memcheck:]unit|contract|integration|e2e|fuzz|all[/TEST,...]]..." >&2
    exit 2
}

#  Every argument is checked before anything runs.
[ $# -eq 0 ] && set -- all
suites=()
for arg in "$@"; do
    case ${arg%%/*} in
        all) suites+=(unit contract integration e2e fuzz) ;;
        unit|contract|integration|e2e|fuzz) suites+=("$arg") ;;
        asan:unit|asan:contract|asan:integration|asan:e2e) suites+=("$arg") ;;
        memcheck:unit|memcheck:contract|memcheck:integration|memcheck:e2e)
            suites+=("$arg") ;;
        *) usage ;;
    esac
done

for arg in "${suites[@]}"; do
    suite=${arg%%/*}
    only=""
    [ "$suite" = "$arg" ] || only=${arg#*/}
    label=${suite/:/-}
    case $suite in
        asan:*) mode=asan; dir=$ASAN_TESTS ;;
        memcheck:*) mode=memcheck; dir=$TESTS_DIR ;;
        *) mode=plain; dir=$TESTS_DIR ;;
    esac
    #  As for fuzz: outside CI a missing valgrind is said and skipped.
    if [ "$mode" = memcheck ] && ! command -v valgrind >/dev/null; then
        if [ -z "${CI:-}" ]; then
            echo "$arg: SKIP: valgrind is missing (tools/install-deps.sh test)"
        else
            echo "FAIL: $arg: valgrind is missing (tools/install-deps.sh test)"
            failed=$((failed + 1)); failures+=("$arg")
        fi
        continue
    fi
    start=$SECONDS
    before=$((passed + failed))
    case ${suite#*:} in
        unit)        run_unit "$dir" ;;
        contract)    run_unit "$dir/contract" ;;
        integration) run_scripts tests/integration ;;
        e2e)         run_scripts tests/e2e ;;
        fuzz)        run_fuzz ;;
    esac
    echo "suite $arg: $((passed + failed - before)) tests, $((SECONDS - start)) s"
done

[ ${#failures[@]} -gt 0 ] && echo "failing: ${failures[*]} (logs in $logdir)"
[ $failed -eq 0 ] && rm -rf "$logdir"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
