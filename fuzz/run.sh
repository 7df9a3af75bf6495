#!/bin/bash
#  run.sh - run libFuzzer targets for a while each, over a copy of their
#  seed corpora, and say which found a crash, leak or timeout.
#
#    fuzz/run.sh SECONDS NAME...     (make fuzz calls it: see the Makefile)
#
#  NAME is a target without fuzz_ (http, proto, ...): FUZZ_BIN/fuzz_NAME
#  (default build-fuzz/fuzz) runs for SECONDS over a temporary copy of
#  fuzz/corpus/NAME (the committed corpus is never written), with its
#  dictionary from fuzz/dict, FUZZ_JOBS targets at a time (default: the
#  number of CPUs). Prints one line per target, "PASS: fuzz_NAME ..."
#  with its figures or "FAIL: fuzz_NAME ..." with the reproducer's path
#  and the command that replays it, then the end of its log; the logs
#  and reproducers stay in FUZZ_OUT (default a new directory under
#  TMPDIR, removed if every target passed). FUZZ_KEEP=DIR keeps each
#  target's grown corpus in DIR/NAME. Exits non-zero if any target
#  failed or, with CI set, was not built.
set -u
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run.sh SECONDS NAME...}
shift
bin=${FUZZ_BIN:-build-fuzz/fuzz}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tscache-fuzz.XXXXXX")}
mkdir -p "$out"
#  UBSan: stop at the first report, with the stack (a crash for libFuzzer).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

#  The dictionary of a target: the JSON readers share one.
dict_of () {
    case $1 in
        map|dynamodb|timestream|influxdb|aws_creds|pages) echo fuzz/dict/json.dict ;;
        *) [ -f "fuzz/dict/$1.dict" ] && echo "fuzz/dict/$1.dict" ;;
    esac
}

#  run_one NAME: fuzzes one target, writes $out/NAME.result (one line).
run_one () {
    local name=$1 exe="$bin/fuzz_$1" log="$out/$1.log" result="$out/$1.result"
    if [ ! -x "$exe" ]; then
        if [ -n "${CI:-}" ]; then
            echo "FAIL: fuzz_$name: $exe is not built" >"$result"
        else
            echo "SKIP: fuzz_$name: $exe is not built (make fuzz-build)" >"$result"
        fi
        return
    fi
    local corpus
    corpus=$(mktemp -d "$out/corpus-$name.XXXXXX")
    cp -r "fuzz/corpus/$name/." "$corpus/" 2>/dev/null
    local dict
    dict=$(dict_of "$name")
    #  -timeout: an input that takes over 10 s is a hang. The outer
    #  timeout is a last resort if libFuzzer itself does not stop.
    timeout $((seconds * 2 + 120)) "$exe" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/$name-" ${dict:+-dict="$dict"} \
        "$corpus" >"$log" 2>&1
    local rc=$?
    local artifact
    artifact=$(ls "$out/$name-"* 2>/dev/null | head -1)
    if [ $rc -eq 0 ] && [ -z "$artifact" ]; then
        local done_line execs
        done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        printf 'PASS: fuzz_%s (%s s, %s execs, %s)\n' "$name" "$seconds" \
            "${execs:-?}" "$(echo "$done_line" |
            sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [^ ]+).*(exec\/s: [0-9]+).*/\1 \2/')" \
            >"$result"
        if [ -n "${FUZZ_KEEP:-}" ]; then
            mkdir -p "$FUZZ_KEEP/$name"
            cp -r "$corpus/." "$FUZZ_KEEP/$name/"
        fi
        rm -rf "$corpus"
    else
        local what
        what=$(grep -m1 -E '^SUMMARY: |ERROR: libFuzzer|ERROR: AddressSanitizer|runtime error' "$log")
        {
            echo "FAIL: fuzz_$name: exit $rc: ${what:-see $log}"
            echo "  reproducer: ${artifact:-none written}"
            [ -n "$artifact" ] && echo "  replay: $exe $artifact"
            echo "  log: $log"
        } >"$result"
    fi
}

for name in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    run_one "$name" &
done
wait

failed=0
for name in "$@"; do
    cat "$out/$name.result"
    if grep -q '^FAIL' "$out/$name.result"; then
        failed=$((failed + 1))
        [ -f "$out/$name.log" ] && tail -30 "$out/$name.log" | sed 's/^/    /'
    fi
done
if [ $failed -eq 0 ]; then
    rm -rf "$out"
else
    echo "fuzz: $failed of $# targets failed (logs and reproducers in $out)"
fi
[ $failed -eq 0 ]
