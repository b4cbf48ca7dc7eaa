#!/usr/bin/env bash
# Integration test, through the command line, of what stops a typo passing for a clean bill of
# health: on the demo, an unknown organisation in a report, a flow map or a contract filter is
# refused not_found naming the field and the code; an event beyond the head is refused, naming
# the head; a year with no money events gets one WARN instead of a PASS for every body; report
# --fail-on exits 5 when a finding reaches the level and findings come worst first in JSON and
# CSV. Also --version on every program, and a second fundflowd on a port already in use.
#
# Usage: test_filters.sh FUNDFLOWD FUNDFLOW FUNDFLOW_ADMIN FUNDFLOW_BENCH PLUGIN_DIR VERSION
# Each check prints what it checks; the first that fails stops the script with a message and a
# non-zero exit code. Servers run on free loopback ports in a scratch directory and are stopped,
# by their PIDs, however the script ends. Needs python3.
set -euo pipefail

if [[ $# -ne 6 || ! -x "$1" || ! -x "$2" || ! -x "$3" || ! -x "$4" || ! -d "$5" ]]; then
    echo "usage: $0 FUNDFLOWD FUNDFLOW FUNDFLOW_ADMIN FUNDFLOW_BENCH PLUGIN_DIR VERSION" >&2
    exit 2
fi
fundflowd=$1
cli=$2
admin=$3
bench=$4
plugin_dir=$5
version=$6
command -v python3 >/dev/null || { echo "$0: python3 is needed; run tools/setup.sh" >&2; exit 2; }

# fail, check, run, expect_status, expect_output, expect_errors, server_launch, server_stop and
# server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin filters

# Fails unless a refusal went to stderr with every one of the words given.
expect_refusal() {
    local word
    for word in "$@"; do expect_errors "$word"; done
    [[ -z $output ]] || fail "a refusal printed on stdout:"$'\n'"$output"
}

# The finding levels of a report in JSON on stdin, one a line, in the order given.
json_levels() {
    python3 -c 'import json, sys
for finding in json.load(sys.stdin).get("findings", []):
    print(finding["level"])'
}

# Fails unless the levels on stdin never get better down the list: FAIL, then WARN, then PASS.
expect_worst_first() {
    local what=$1
    python3 -c 'import sys
rank = {"FAIL": 3, "WARN": 2, "PASS": 1}
levels = [rank[line.strip()] for line in sys.stdin if line.strip()]
sys.exit(0 if levels == sorted(levels, reverse=True) and levels else 1)' \
        || fail "$what: the findings are not worst first"
}

# --version -------------------------------------------------------------------------------------

check "--version prints NAME $version and exits 0 for fundflow, fundflow-admin, fundflowd and fundflow-bench"
for program in "$cli:fundflow" "$admin:fundflow-admin" "$fundflowd:fundflowd" "$bench:fundflow-bench"; do
    path=${program%%:*} name=${program##*:}
    text=$("$path" --version 2>"$scratch/version.err") \
        || fail "$name --version exited $?: $(cat "$scratch/version.err")"
    [[ $text == "$name $version" ]] || fail "$name --version printed \"$text\", not \"$name $version\""
done

# A server with the demo and the plugins ---------------------------------------------------------

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" --plugin-dir "$plugin_dir"
export FUNDFLOW_SERVER="http://$server_address"
echo "fundflowd is listening on $server_address (pid $server_pid)"
"$admin" demo --ndjson "$scratch/demo.ndjson" 2>"$scratch/admin.err" \
    || fail "demo --ndjson failed:"$'\n'"$(cat "$scratch/admin.err")"
expect_status 0 submit "$scratch/demo.ndjson"
expect_status 0 --json info
head=$(printf '%s' "$output" | python3 -c 'import json, sys; print(json.load(sys.stdin)["head_sequence"])')
beyond=$((head + 1))
echo "the demo's head is event $head"

# Unknown codes ---------------------------------------------------------------------------------

check "report mhis --org NOPE exits 1 with not_found naming org_code and NOPE, not 0 FAIL, 0 WARN, 0 PASS"
expect_status 1 report mhis --year 2024/25 --org NOPE
expect_refusal "not_found" "org_code" "NOPE"

check "flows --root NOPE names the code"
expect_status 1 flows --year 2024/25 --root NOPE
expect_refusal "not_found" "root_code" "NOPE"

check "contract list --commissioner NOPE and events --org NOPE are not_found, not empty lists"
expect_status 1 contract list --commissioner NOPE
expect_refusal "not_found" "commissioner_code" "NOPE"
expect_status 1 events --org NOPE
expect_refusal "not_found" "NOPE"

# As at beyond the head -------------------------------------------------------------------------

check "--as-at $beyond, beyond the head, is refused naming as_at_sequence and the head, in report, position and contract show"
expect_status 1 report mhis --year 2024/25 --as-at "$beyond"
expect_refusal "failed_precondition" "as_at_beyond_head" "as_at_sequence" "event $head"
expect_status 1 position QWE --stream core_services --year 2024/25 --as-at "$beyond"
expect_refusal "as_at_beyond_head" "event $head"
contract=$(sed -n 's/.*"contract_id":"\([^"]*\)".*/\1/p;T;q' "$scratch/demo.ndjson")
[[ -n $contract ]] || fail "the demo's NDJSON names no contract"
expect_status 0 contract show "$contract" --as-at "$head"
expect_status 1 contract show "$contract" --as-at "$beyond"
expect_refusal "as_at_beyond_head" "event $head"

# A year without money --------------------------------------------------------------------------

# The demo holds 2023/24 and 2024/25 only. From 2026/27 system_balance judges every body: 42 ICBs
# and 106 places, each with rows of £0.00, which used to be 148 passes. Now one WARN, no PASS.
check "report system_balance --year 2026/27 warns that the year holds no money and passes nothing"
expect_status 0 report system_balance --year 2026/27
expect_output "findings: 0 FAIL, 1 WARN, 0 PASS"
expect_output "no money events recorded for 2026/27 as at event $head"
expect_status 0 --json report system_balance --year 2026/27
levels=$(printf '%s' "$output" | json_levels | paste -sd ' ' -)
[[ $levels == "WARN" ]] || fail "the 2026/27 findings are \"$levels\", not one WARN"

check "report --fail-on warn exits 5 on that WARN, having written the report; --fail-on fail exits 0"
expect_status 5 report system_balance --year 2026/27 --fail-on warn
expect_output "findings: 0 FAIL, 1 WARN, 0 PASS"
expect_errors "1 finding at WARN or FAIL (--fail-on warn)"
expect_status 0 report system_balance --year 2026/27 --fail-on fail

# A year with money -----------------------------------------------------------------------------

# mhis on 2024/25 finds the standard missed by some ICBs (FAIL) and met by the rest (PASS).
check "report mhis 2024/25 lists its findings worst first in JSON and CSV, and --fail-on fail exits 5"
expect_status 0 --json report mhis --year 2024/25
printf '%s' "$output" | json_levels >"$scratch/levels.json"
grep -qx FAIL "$scratch/levels.json" || fail "mhis 2024/25 has no FAIL to order"
grep -qx PASS "$scratch/levels.json" || fail "mhis 2024/25 has no PASS to order"
expect_worst_first "JSON" <"$scratch/levels.json"
expect_status 0 report mhis --year 2024/25 --format csv
printf '%s\n' "$output" | tr -d '\r' | sed -n '/^# findings/,$p' | sed '1,2d' | cut -d, -f1 \
    | expect_worst_first "CSV"
expect_status 5 report mhis --year 2024/25 --fail-on fail
expect_errors "at FAIL (--fail-on fail)"
expect_status 0 report bcf --year 2024/25 --fail-on warn

check "--fail-on takes fail or warn only"
expect_status 2 report mhis --year 2024/25 --fail-on pass
expect_errors "--fail-on"

# A port already in use -------------------------------------------------------------------------

check "a second fundflowd on $server_address fails, naming the address and that it is in use"
cli_saved=$cli
cli=$fundflowd cli_name=fundflowd
expect_status 1 --listen "$server_address" --data-dir "$scratch/second"
cli=$cli_saved cli_name=fundflow
expect_errors "cannot listen on $server_address: the address is already in use"
[[ $errors != *"a file could not be read or written"* ]] || fail "the old message is still there:"$'\n'"$errors"

server_stop
echo "all $checks checks passed"
