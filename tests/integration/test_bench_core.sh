#!/usr/bin/env bash
# Integration test of fundflow-bench-core's fixed-count mode, the one docs/BENCHMARKS.md counts
# instructions with: it applies exactly the allocations asked for, each batch one commit, prints
# its row and the raw-LMDB anchor's, and leaves (with --keep) a ledger that fundflow-admin opens
# and verifies with the expected head. Figures are never checked here: only that the benchmark
# still does the work its figures describe.
#
# Usage: test_bench_core.sh PATH_TO_FUNDFLOW_BENCH_CORE PATH_TO_FUNDFLOW_ADMIN
set -euo pipefail

if [[ $# -ne 2 || ! -x "$1" || ! -x "$2" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOW_BENCH_CORE PATH_TO_FUNDFLOW_ADMIN" >&2
    exit 2
fi
bench=$1
admin=$2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-bench-core-test-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
check() { printf '== %s\n' "$*"; }

check "300 allocations in batches of 100: three commits, the anchor's row, the kept directory"
output=$("$bench" "$scratch" --commands 300 --batch 100 --keep) || fail "exit $?: $output"
# The ledger's row: batch 100, 3 batches, 300 commands; then the anchor's: batch 100, 300.
printf '%s\n' "$output" | awk '$1 == 100 && $2 == 3 && $3 == 300 { found = 1 } END { exit !found }' ||
    fail "no row of 3 batches of 100 making 300 commands:"$'\n'"$output"
[[ $output == *"raw LMDB appends of"*"the ledger reached"* ]] ||
    fail "no anchor row:"$'\n'"$output"
kept=$(printf '%s\n' "$output" | sed -n 's/^data directory kept: //p')
[[ -n $kept && -f $kept/data.mdb ]] || fail "no kept data directory:"$'\n'"$output"

check "the kept ledger holds the 3 set-up events and the 300 allocations, and verifies"
head=$("$admin" head --data-dir "$kept") || fail "head exit $?: $head"
[[ $head == "sequence 303"* ]] || fail "head is not 303:"$'\n'"$head"
verify=$("$admin" verify --data-dir "$kept") || fail "verify exit $?: $verify"
[[ $verify == "OK: 303 events, head 303"* ]] || fail "verify did not say OK for 303:"$'\n'"$verify"

check "as NHS England's writer (X24, the allocations' payer) the same allocations are accepted (exit 0)"
output=$("$bench" "$scratch" --commands 200 --batch 100 --principal writer:X24) ||
    fail "exit $?: $output"
printf '%s\n' "$output" | awk '$1 == 100 && $2 == 2 && $3 == 200 { found = 1 } END { exit !found }' ||
    fail "no row of 2 batches of 100 making 200 commands:"$'\n'"$output"

check "usage errors exit 2 and name what is wrong"
# usage_error EXPECTED ARGS...: exits 2, the first line of stderr is EXPECTED, then the usage.
usage_error() {
    local expected=$1 status=0 errors
    shift
    errors=$("$bench" "$scratch" "$@" 2>&1 >/dev/null) || status=$?
    [[ $status -eq 2 ]] || fail "$* exited $status, not 2"
    [[ $(head -1 <<<"$errors") == "fundflow-bench-core: $expected" ]] ||
        fail "$* said, not \"$expected\":"$'\n'"$errors"
    [[ $errors == *"usage: fundflow-bench-core"* ]] || fail "$* printed no usage"
}
usage_error "--commands and --batch go together" --batch 100
usage_error "--commands 0 is not a whole number in the range below" --commands 0 --batch 100
usage_error "unknown option --bogus" --bogus 1
usage_error "--batch needs a value" --commands 10 --batch
usage_error "--principal nobody is not writer or admin[:ORG]" --principal nobody
echo "all bench-core checks passed"
