#!/usr/bin/env bash
# Integration test of the fundflow client against a live fundflowd: writes, reads, refusals,
# idempotent retries, JSON output, submit of the demo's NDJSON, and every exit code.
#
# Usage: test_cli.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN
# Each check prints what it checks; the first that fails stops the script with a message and a
# non-zero exit code. The server runs on a free loopback port in a scratch directory and is
# stopped, by its PID, however the script ends.
set -euo pipefail

if [[ $# -ne 3 || ! -x "$1" || ! -x "$2" || ! -x "$3" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN (executables)" >&2
    exit 2
fi
fundflowd=$1
cli=$2
admin=$3

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-cli-test-XXXXXX")
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT
unset FUNDFLOW_SERVER FUNDFLOW_TOKEN FUNDFLOW_DATA_DIR

checks=0

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

check() {
    checks=$((checks + 1))
    echo "check $checks: $*"
}

# A sanitizer build reports into stderr; any report fails the test, whatever the exit code.
sanitizer_check() {
    local what=$1 text=$2
    if [[ $text == *Sanitizer* || $text == *"runtime error:"* ]]; then
        fail "$what made a sanitizer report:"$'\n'"$text"
    fi
}

# Runs fundflow, keeping stdout in $output, stderr in $errors and the exit code in $status,
# without letting set -e end the script when the code is not zero.
run() {
    status=0
    "$cli" "$@" >"$scratch/stdout" 2>"$scratch/stderr" || status=$?
    output=$(cat "$scratch/stdout")
    errors=$(cat "$scratch/stderr")
    sanitizer_check "fundflow $*" "$errors"
}

expect_status() {
    local expected=$1
    shift
    run "$@"
    if [[ $status -ne $expected ]]; then
        fail "fundflow $* exited $status, expected $expected; stdout:"$'\n'"$output"$'\n'"stderr:"$'\n'"$errors"
    fi
}

expect_output() {
    local pattern=$1
    [[ $output == *"$pattern"* ]] || fail "stdout lacks \"$pattern\":"$'\n'"$output"
}

expect_errors() {
    local pattern=$1
    [[ $errors == *"$pattern"* ]] || fail "stderr lacks \"$pattern\":"$'\n'"$errors"
}

# Prints the value after "label:" on the key/value line that starts with it.
field() {
    printf '%s\n' "$output" | sed -n "s/^$1:[[:space:]]*//p"
}

# Prints a field of the JSON document in $output, failing if it is not JSON.
json_field() {
    printf '%s' "$output" | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" \
        || fail "stdout is not a JSON object with \"$1\":"$'\n'"$output"
}

head_sequence() {
    "$cli" info --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["head_sequence"])'
}

# Fails unless the head is still what it was before a refused command.
expect_head_unchanged() {
    local before=$1 now
    now=$(head_sequence)
    [[ $now == "$before" ]] || fail "the head moved from $before to $now after a refusal"
}

# Starting the server -------------------------------------------------------------------------

: >"$scratch/server.out"
"$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" >"$scratch/server.out" \
    2>"$scratch/server.err" &
server_pid=$!
address=""
for ((attempt = 0; attempt < 200; attempt++)); do
    address=$(sed -n 's/^listening on //p' "$scratch/server.out")
    [[ -n $address ]] && break
    kill -0 "$server_pid" 2>/dev/null || fail "fundflowd exited:"$'\n'"$(cat "$scratch/server.err")"
    sleep 0.05
done
[[ -n $address ]] || fail "fundflowd did not print \"listening on\" within 10 s"
export FUNDFLOW_SERVER="http://$address"
echo "fundflowd is listening on $address (pid $server_pid)"

# Writes and positions --------------------------------------------------------------------------

check "info on an empty ledger shows head sequence 0 and a hash of zeros"
expect_status 0 info
[[ $(field "head sequence") == 0 ]] || fail "head sequence is not 0:"$'\n'"$output"
[[ $(field "head hash") =~ ^0{64}$ ]] || fail "head hash is not zeros:"$'\n'"$output"
expect_output "version:"
expect_output "uptime:"

check "org add registers an NHSE, an ICB and a place, printing each sequence and key"
expect_status 0 org add XTN --name "Test NHS England" --kind nhse --date 2024-04-01
expect_output "recorded as event 1"
[[ $(field "idempotency key") =~ ^[0-9a-f]{32}$ ]] || fail "no random key printed:"$'\n'"$output"
expect_status 0 --json org add QTI --name "Test ICB" --kind ICB --date 2024-04-01
expect_status 0 org add T9P --kind Place --parent QTI --name "Test place" --date=2024-04-01
expect_output "recorded as event 3"

check "allocate records £1,000,000.00 of core services from XTN to QTI"
expect_status 0 allocate --from XTN --to QTI --stream core_services --year 2024/25 \
    --amount '£1,000,000.00' --date 2024-04-01 --reference "letter 1"
expect_output "recorded as event 4"

check "budget passes £250,000.50 on from QTI to T9P"
expect_status 0 budget --from QTI --to T9P --stream CORE_SERVICES --year 2024/25 \
    --amount 250000.5 --date 2024-05-01
expect_output "recorded as event 5"

check "position shows exact figures for the ICB and the place"
expect_status 0 position QTI --stream core_services --year 2024/25
[[ $(field received) == "£1,000,000.00" ]] || fail "QTI received:"$'\n'"$output"
[[ $(field "passed on") == "£250,000.50" ]] || fail "QTI passed on:"$'\n'"$output"
[[ $(field headroom) == "£749,999.50" ]] || fail "QTI headroom:"$'\n'"$output"
[[ $(field year) == "2024/25" ]] || fail "QTI year:"$'\n'"$output"
expect_status 0 position T9P --stream core_services --year 2024/25
[[ $(field received) == "£250,000.50" ]] || fail "T9P received:"$'\n'"$output"
[[ $(field headroom) == "£250,000.50" ]] || fail "T9P headroom:"$'\n'"$output"

check "position --as-at 4 and --as-at-date 2024-04-30 show the ICB before the budget"
expect_status 0 position QTI --stream core_services --year 2024/25 --as-at 4
[[ $(field headroom) == "£1,000,000.00" ]] || fail "QTI headroom as at 4:"$'\n'"$output"
expect_status 0 position QTI --stream core_services --year 2024/25 --as-at-date 2024-04-30
[[ $(field "passed on") == "£0.00" ]] || fail "QTI passed on as at 2024-04-30:"$'\n'"$output"

# Refusals ----------------------------------------------------------------------------------

check "over-allocation exits 1 with failed_precondition and the headroom; the head stays"
before=$(head_sequence)
expect_status 1 budget --from QTI --to T9P --stream core_services --year 2024/25 \
    --amount 800000
expect_errors "error: failed_precondition:"
expect_errors "headroom: £749,999.50"
expect_errors "account:"
expect_head_unchanged "$before"

check "an unknown organisation exits 1 with not_found; the head stays"
expect_status 1 allocate --from XTN --to TNOBODY --stream core_services --year 2024/25 \
    --amount 1
expect_errors "error: not_found:"
expect_head_unchanged "$before"
expect_status 1 org show TNOBODY
expect_errors "not_found"

# Reads -------------------------------------------------------------------------------------

check "org show prints the ICB"
expect_status 0 org show QTI
[[ $(field name) == "Test ICB" ]] || fail "org show name:"$'\n'"$output"
[[ $(field kind) == "icb" ]] || fail "org show kind:"$'\n'"$output"
[[ $(field "registered date") == "2024-04-01" ]] || fail "org show date:"$'\n'"$output"

check "org list shows all three organisations, filters by kind, and stops at --limit"
expect_status 0 org list
for code in XTN QTI T9P; do
    printf '%s\n' "$output" | grep -q "^$code " || fail "org list lacks $code:"$'\n'"$output"
done
expect_status 0 org list --kind place
[[ $(printf '%s\n' "$output" | tail -n +2 | wc -l) -eq 1 ]] || fail "org list --kind place:"$'\n'"$output"
expect_output "T9P"
expect_status 0 org list --limit 2
[[ $(printf '%s\n' "$output" | tail -n +2 | wc -l) -eq 2 ]] || fail "org list --limit 2:"$'\n'"$output"

check "history lists the ICB's budget postings with running balances"
expect_status 0 history QTI --stream core_services --year 2024/25
printf '%s\n' "$output" | grep -Eq '^ +4 +2024-04-01 .*£1,000,000.00 *$' \
    || fail "history lacks event 4:"$'\n'"$output"
printf '%s\n' "$output" | grep -Eq '^ +5 +2024-05-01 .*£250,000.50 +£749,999.50 *$' \
    || fail "history lacks event 5:"$'\n'"$output"

check "events lists every event, and event 4 shows the allocation in full"
expect_status 0 events
[[ $(printf '%s\n' "$output" | tail -n +2 | wc -l) -eq 5 ]] || fail "events:"$'\n'"$output"
expect_output "allocate XTN -> QTI core_services 2024/25 £1,000,000.00"
expect_status 0 events --after 3 --limit 1
[[ $(printf '%s\n' "$output" | tail -n +2 | wc -l) -eq 1 ]] || fail "events --limit:"$'\n'"$output"
expect_output "allocation_issued"
expect_status 0 event 4
[[ $(field amount) == "£1,000,000.00" ]] || fail "event 4 amount:"$'\n'"$output"
[[ $(field reference) == "letter 1" ]] || fail "event 4 reference:"$'\n'"$output"
[[ $(field hash) =~ ^[0-9a-f]{64}$ ]] || fail "event 4 hash:"$'\n'"$output"
expect_status 1 event 999
expect_errors "not_found"

# Reversals and idempotency -------------------------------------------------------------------

check "reverse undoes the budget; reversing it again is refused and the head stays"
expect_status 0 reverse 5 --reason "entered in error"
expect_output "recorded as event 6"
expect_status 0 position QTI --stream core_services --year 2024/25
[[ $(field headroom) == "£1,000,000.00" ]] || fail "QTI headroom after reversal:"$'\n'"$output"
before=$(head_sequence)
expect_status 1 reverse 5 --reason "again"
expect_errors "failed_precondition"
expect_errors "event_already_reversed"
expect_head_unchanged "$before"

check "a retry with the same --key prints \"already recorded\" and records nothing"
expect_status 0 allocate --from XTN --to QTI --stream primary_medical_care --year 2024/25 \
    --amount 10.01 --key test-retry-1 --non-recurrent
expect_output "recorded as event 7"
before=$(head_sequence)
expect_status 0 allocate --from XTN --to QTI --stream primary_medical_care --year 2024/25 \
    --amount 10.01 --key test-retry-1 --non-recurrent
expect_output "already recorded as event 7"
expect_head_unchanged "$before"

check "the same --key for a different command is refused and the head stays"
expect_status 1 allocate --from XTN --to QTI --stream primary_medical_care --year 2024/25 \
    --amount 99 --key test-retry-1
expect_errors "idempotency_conflict"
expect_head_unchanged "$before"

check "info shows the head; verify says OK"
expect_status 0 info
[[ $(field "head sequence") == 7 ]] || fail "info head sequence:"$'\n'"$output"
[[ $(field events) == 7 ]] || fail "info events:"$'\n'"$output"
[[ $(field "head hash") =~ ^[0-9a-f]{64}$ ]] || fail "info head hash:"$'\n'"$output"
expect_status 0 verify
expect_output "OK: 7 events checked"

# JSON --------------------------------------------------------------------------------------

check "--json output is one JSON document with int64 fields as strings"
expect_status 0 info --json
printf '%s' "$output" | python3 -m json.tool >/dev/null || fail "info --json:"$'\n'"$output"
[[ $output == *'"head_sequence":"7"'* ]] || fail "head_sequence is not a string:"$'\n'"$output"
expect_status 0 --json position QTI --stream core_services --year 2024/25
[[ $(json_field headroom_pence) == 100000000 ]] || fail "headroom_pence:"$'\n'"$output"
[[ $output == *'"headroom_pence":"100000000"'* ]] || fail "headroom_pence not a string"
expect_status 0 events --json --limit 3
printf '%s' "$output" | python3 -m json.tool >/dev/null || fail "events --json:"$'\n'"$output"
[[ $(printf '%s' "$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))') == 3 ]] \
    || fail "events --json --limit 3:"$'\n'"$output"

check "--json prints a refusal as the server's JSON error on stdout, with exit 1"
before=$(head_sequence)
expect_status 1 budget --json --from QTI --to T9P --stream core_services --year 2024/25 \
    --amount 2000000
[[ $(json_field code) == failed_precondition ]] || fail "--json error code:"$'\n'"$output"
[[ $output == *'"headroom_pence":"100000000"'* ]] || fail "--json error meta:"$'\n'"$output"
expect_head_unchanged "$before"

# Submit ------------------------------------------------------------------------------------

check "fundflow-admin demo --ndjson writes the demo without a data directory"
"$admin" demo --ndjson "$scratch/demo.ndjson" 2>"$scratch/admin.err" \
    || fail "demo --ndjson failed:"$'\n'"$(cat "$scratch/admin.err")"
sanitizer_check "fundflow-admin demo --ndjson" "$(cat "$scratch/admin.err")"
lines=$(wc -l <"$scratch/demo.ndjson")
[[ $lines -gt 100 ]] || fail "demo --ndjson wrote $lines lines"

check "submit loads the demo: every command recorded, none refused"
before=$(head_sequence)
expect_status 0 submit "$scratch/demo.ndjson" --batch-size 100
[[ $(field sent) == "$lines" ]] || fail "submit sent:"$'\n'"$output"
[[ $(field recorded) == "$lines" ]] || fail "submit recorded:"$'\n'"$output"
[[ $(field refused) == 0 ]] || fail "submit refused:"$'\n'"$output"
[[ $(head_sequence) == $((before + lines)) ]] || fail "the head did not move by $lines"

check "a second submit, from stdin, records 0 new: every command is already present"
before=$(head_sequence)
run submit - <"$scratch/demo.ndjson"
[[ $status -eq 0 ]] || fail "second submit exited $status:"$'\n'"$output"$'\n'"$errors"
[[ $(field recorded) == 0 ]] || fail "second submit recorded:"$'\n'"$output"
[[ $(field "already present") == "$lines" ]] || fail "second submit present:"$'\n'"$output"
expect_head_unchanged "$before"

check "submit lists a refused command by line number and exits 1"
cat >"$scratch/mixed.ndjson" <<'NDJSON'
{"idempotency_key":"mixed-1","effective_date":20240601,"event":{"allocation_issued":{"funder_code":"XTN","recipient_code":"QTI","stream":"CAPITAL","financial_year":2024,"amount_pence":"500"}}}

{"idempotency_key":"mixed-2","effective_date":20240601,"event":{"budget_delegated":{"from_code":"QTI","to_code":"T9P","stream":"CAPITAL","financial_year":2024,"amount_pence":"501"}}}
NDJSON
before=$(head_sequence)
expect_status 1 submit "$scratch/mixed.ndjson"
[[ $(field recorded) == 1 ]] || fail "mixed submit recorded:"$'\n'"$output"
[[ $(field refused) == 1 ]] || fail "mixed submit refused:"$'\n'"$output"
expect_output "line 3: insufficient_headroom (failed_precondition), field amount_pence"
[[ $(head_sequence) == $((before + 1)) ]] || fail "the mixed submit did not record exactly one"

check "submit --json prints one document with every result"
expect_status 1 submit --json "$scratch/mixed.ndjson"
[[ $(printf '%s' "$output" | python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; print(len(r), r[0]["idempotent_replay"], r[1]["code"])') == "2 True insufficient_headroom" ]] \
    || fail "submit --json:"$'\n'"$output"

check "a bad NDJSON line exits 2, naming its line, and sends nothing"
printf '%s\n' '{"idempotency_key":"bad-1","effective_date":20240601,"event":{"reversal":{"reversed_sequence":"4","reason":"x"}}}' \
    '{"idempotency_key": 12, "effective_date": "soon"' >"$scratch/bad.ndjson"
before=$(head_sequence)
expect_status 2 submit "$scratch/bad.ndjson"
expect_errors "line 2"
expect_head_unchanged "$before"
expect_status 2 submit "$scratch/missing.ndjson"

check "verify is still OK after the demo"
expect_status 0 verify
expect_output "OK:"

# Usage errors and connection failures -------------------------------------------------------

check "usage errors exit 2 and name the flag"
expect_status 2 allocate --from XTN --to QTI --year 2024/25 --amount 1
expect_errors "--stream"
expect_status 2 allocate --from XTN --to QTI --stream core_services --year 2024/25 --amount 1.234
expect_errors "--amount"
expect_status 2 budget --from QTI --to T9P --stream core_services --year 2024/26 --amount 1
expect_errors "--year"
expect_status 2 position QTI --stream nonsense --year 2024/25
expect_errors "--stream"
expect_status 2 org add TX --name X --kind icb --date 2024-02-30
expect_errors "--date"
expect_status 2 events --frobnicate
expect_errors "--frobnicate"
expect_status 2 org show QTI --amount 5
expect_errors "--amount"
expect_status 2 frobnicate
expect_status 2 reverse --reason x
expect_errors "SEQUENCE"
expect_status 2 event 4 5
expect_status 2 submit "$scratch/demo.ndjson" --batch-size 0
expect_errors "--batch-size"
expect_status 2
expect_status 2 --server ftp://example info
expect_errors "--server"

check "--help explains the subcommands, flags and exit codes, and exits 0"
expect_status 0 --help
expect_output "Exit codes:"
expect_output "submit FILE"
expect_status 0 budget --help
expect_output "--amount POUNDS"
expect_output "  3  cannot connect"
expect_status 0 help org add
expect_output "--kind KIND"

check "a server URL with nothing listening exits 3, naming the URL"
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    >"$scratch/port"
dead="http://127.0.0.1:$(cat "$scratch/port")"
expect_status 3 --server "$dead" info
expect_errors "cannot connect to $dead"
expect_status 3 allocate --server "$dead" --from XTN --to QTI --stream core_services \
    --year 2024/25 --amount 1

# Stopping the server -------------------------------------------------------------------------

check "fundflowd stops cleanly on SIGTERM with no sanitizer report"
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
sanitizer_check "fundflowd" "$(cat "$scratch/server.err")"
[[ $server_status -eq 0 ]] || fail "fundflowd exited $server_status:"$'\n'"$(tail -n 20 "$scratch/server.err")"

echo "all $checks checks passed"
