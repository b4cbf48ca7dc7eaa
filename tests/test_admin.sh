#!/usr/bin/env bash
# Integration test of fundflow-admin: demo, positions, verify, rebuild, head and exit codes.
#
# Usage: test_admin.sh PATH_TO_FUNDFLOW_ADMIN
# Each check prints what it checks; the first that fails stops the script with a message and a
# non-zero exit code.
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOW_ADMIN (an executable file)" >&2
    exit 2
fi
admin=$1

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-admin-test-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# verify replays into a scratch store under $TMPDIR; keep that inside our own directory too.
export TMPDIR=$scratch
unset FUNDFLOW_DATA_DIR

checks=0

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

check() {
    checks=$((checks + 1))
    echo "check $checks: $*"
}

# Runs fundflow-admin, keeping its output in $output and its exit code in $status, without
# letting set -e end the script when the code is not zero.
run() {
    status=0
    output=$("$admin" "$@" 2>&1) || status=$?
    # A sanitizer build reports into the same output; any report fails the test, whatever the
    # exit code, since a report on an error path may share that path's code.
    if [[ $output == *Sanitizer* || $output == *"runtime error:"* ]]; then
        fail "fundflow-admin $* made a sanitizer report:"$'\n'"$output"
    fi
}

expect_status() {
    local expected=$1
    shift
    run "$@"
    if [[ $status -ne $expected ]]; then
        fail "fundflow-admin $* exited $status, expected $expected; output:"$'\n'"$output"
    fi
}

# Prints the value after "label" on the line of the demo summary that starts with it.
summary_field() {
    printf '%s\n' "$output" | sed -n "s/^$1:[[:space:]]*//p"
}

# Prints one column (3 received, 4 passed on, 5 headroom) of the positions TOTAL row. Columns
# are separated by at least two spaces; names hold single spaces only.
total_column() {
    printf '%s\n' "$output" | awk -F '  +' -v column="$1" '$1 == "TOTAL" { print $column }'
}

first=$scratch/first
check "demo on a fresh directory exits 0 and records every event"
expect_status 0 demo --data-dir "$first"
recorded=$(summary_field "Events recorded")
hash=$(summary_field "Head hash")
[[ $recorded =~ ^[0-9]+$ && $recorded -gt 0 ]] || fail "demo recorded \"$recorded\" events"
[[ $hash =~ ^[0-9a-f]{64}$ ]] || fail "demo printed head hash \"$hash\""
[[ $(summary_field "Events already present") == 0 ]] || fail "a fresh demo found events present"
[[ $output == *illustrative* ]] || fail "demo does not say its figures are illustrative"

check "positions for core_services totals exactly £107,600,000,000.00 received"
expect_status 0 positions --data-dir "$first" --stream core_services
received=$(total_column 3)
[[ $received == "£107,600,000,000.00" ]] || fail "TOTAL received is \"$received\":"$'\n'"$output"

check "positions for primary_medical_care, named in upper case, totals £11,200,000,000.00"
expect_status 0 positions --data-dir "$first" --stream PRIMARY_MEDICAL_CARE --year 2024/25
received=$(total_column 3)
[[ $received == "£11,200,000,000.00" ]] || fail "TOTAL received is \"$received\":"$'\n'"$output"

check "every ICB's running cost allowance lies between £15.5m and £48.3m"
expect_status 0 positions --data-dir "$first" --stream running_cost_allowance --kind ICB
out_of_range=$(printf '%s\n' "$output" | awk -F '  +' '
    /^Q/ { amount = $3; gsub(/[£,.]/, "", amount);
           if (amount + 0 < 1550000000 || amount + 0 > 4830000000) print $1 }')
[[ -z $out_of_range ]] || fail "running cost allowances out of range for: $out_of_range"

check "places received exactly what the ICBs passed on"
expect_status 0 positions --data-dir "$first" --kind icb
passed_on=$(total_column 4)
expect_status 0 positions --data-dir "$first" --kind place
[[ $(total_column 3) == "$passed_on" ]] || fail "places received $(total_column 3), ICBs passed on $passed_on"

check "running demo again records 0 new events and keeps the head hash"
expect_status 0 demo --data-dir "$first"
[[ $(summary_field "Events recorded") == 0 ]] || fail "the second demo recorded events:"$'\n'"$output"
[[ $(summary_field "Events already present") == "$recorded" ]] || fail "the second demo did not replay every event"
[[ $(summary_field "Head hash") == "$hash" ]] || fail "the head hash changed on the second run"

check "head prints the same sequence and hash"
expect_status 0 head --data-dir "$first"
[[ $output == *"sequence $recorded"* && $output == *"hash $hash"* ]] || fail "head printed:"$'\n'"$output"

check "a second fresh directory with the same seed gives the same head hash"
expect_status 0 demo --data-dir "$scratch/same" --seed 2024
[[ $(summary_field "Head hash") == "$hash" ]] || fail "the same seed gave another hash"

check "a different seed gives a different head hash"
expect_status 0 demo --data-dir "$scratch/other" --seed 7
[[ $(summary_field "Head hash") != "$hash" ]] || fail "seed 7 gave the same hash as seed 2024"

check "a different seed into the same directory is refused with exit 1"
expect_status 1 demo --data-dir "$first" --seed 7
[[ $output == *idempotency_conflict* ]] || fail "the refusal does not name the error:"$'\n'"$output"

check "verify prints OK"
expect_status 0 verify --data-dir "$first"
[[ $output == "OK: $recorded events, head $recorded, hash $hash" ]] || fail "verify printed:"$'\n'"$output"

check "rebuild, then verify prints OK"
expect_status 0 rebuild --data-dir "$first"
expect_status 0 verify --data-dir "$first"
[[ $output == OK:* ]] || fail "verify after rebuild printed:"$'\n'"$output"

check "positions --as-at 1 shows zero received"
expect_status 0 positions --data-dir "$first" --as-at 1
received=$(total_column 3)
[[ $received == "£0.00" ]] || fail "TOTAL received as at 1 is \"$received\":"$'\n'"$output"

check "the data directory can come from FUNDFLOW_DATA_DIR"
status=0
output=$(FUNDFLOW_DATA_DIR=$first "$admin" head 2>&1) || status=$?
[[ $status -eq 0 && $output == *"hash $hash"* ]] || fail "head through FUNDFLOW_DATA_DIR gave $status:"$'\n'"$output"

check "an unknown flag exits 2 and names the flag"
expect_status 2 positions --data-dir "$first" --no-such-flag
[[ $output == *--no-such-flag* ]] || fail "the message does not name the flag: $output"

check "a nonexistent subcommand exits 2"
expect_status 2 no-such-subcommand --data-dir "$first"

check "a flag without its value, or with a bad number, year or name, exits 2 naming the flag"
expect_status 2 positions --data-dir
[[ $output == *--data-dir* ]] || fail "the message does not name --data-dir: $output"
expect_status 2 positions --data-dir "$first" --as-at twelve
[[ $output == *--as-at* ]] || fail "the message does not name --as-at: $output"
expect_status 2 positions --data-dir "$first" --year 2024
[[ $output == *--year* ]] || fail "the message does not name --year: $output"
expect_status 2 positions --data-dir "$first" --stream nonsense
[[ $output == *--stream* ]] || fail "the message does not name --stream: $output"
expect_status 2 demo --data-dir "$scratch/never" --seed -1
[[ $output == *--seed* ]] || fail "the message does not name --seed: $output"
expect_status 2 head

check "a directory that cannot be opened exits 4 and names the directory"
expect_status 4 head --data-dir "$scratch/missing"
[[ $output == *"$scratch/missing"* ]] || fail "the message does not name the directory: $output"
[[ ! -e $scratch/missing ]] || fail "head created the directory it was asked to read"
touch "$scratch/a-file"
expect_status 4 demo --data-dir "$scratch/a-file"

check "a malformed reference file is refused with its name and line"
mkdir "$scratch/reference"
cp "$(dirname "$0")/../tools/data/"*.csv "$scratch/reference/" 2>/dev/null ||
    fail "cannot copy the reference files next to this script"
printf 'QZZ,E54999999,"NHS Unclosed ICB,Y60\n' >> "$scratch/reference/icbs.csv"
expect_status 1 demo --data-dir "$scratch/bad-reference" --reference-dir "$scratch/reference"
[[ $output == *"icbs.csv line 44"* ]] || fail "the message does not name the file and line: $output"

check "--help explains every flag and the exit codes, and exits 0"
expect_status 0 positions --help
for flag in --data-dir --map-bytes --year --stream --as-at --kind; do
    [[ $output == *"$flag"* ]] || fail "positions --help does not explain $flag"
done
[[ $output == *"Exit codes"* ]] || fail "positions --help does not list the exit codes"

echo "PASS: all $checks checks"
