#!/usr/bin/env bash
# Integration test of the fundflow client against a live fundflowd: writes, reads, refusals,
# idempotent retries, JSON output, submit of the demo's NDJSON, and every exit code; then, on a
# ledger holding only the demo, positions across every ICB, with a stand-in server for the limits
# no real ledger reaches; then, on a fresh ledger, the funding-flow domain: collaboratives, service lines, delegations,
# contracts with outcome pots, payments, outcomes, variations, closed months, rollups and flows.
#
# Usage: test_cli.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN
# Each check prints what it checks; the first that fails stops the script with a message and a
# non-zero exit code. Each server runs on a free loopback port in a scratch directory and is
# stopped, by its PID, however the script ends; so is the stand-in server.
set -euo pipefail

if [[ $# -ne 3 || ! -x "$1" || ! -x "$2" || ! -x "$3" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN (executables)" >&2
    exit 2
fi
fundflowd=$1
cli=$2
admin=$3

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-cli-test-XXXXXX")
helper_pid=""
cleanup() {
    server_reap
    if [[ -n $helper_pid ]]; then
        kill "$helper_pid" 2>/dev/null || true
        wait "$helper_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT
unset FUNDFLOW_SERVER FUNDFLOW_TOKEN FUNDFLOW_DATA_DIR

# fail, check, run, expect_status, expect_output, expect_errors, server_launch, server_stop and
# server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"

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

# Starting and stopping servers ----------------------------------------------------------------

# Starts fundflowd on a free loopback port with a fresh data directory named $1 in the scratch
# directory, waits for its own "listening on" line (server_launch in cli_test_lib.sh), and points
# the client at it. server_stop (also from the lib) stops it and waits for it to exit.
server_start() {
    local name=$1
    server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/$name"
    export FUNDFLOW_SERVER="http://$server_address"
    echo "fundflowd is listening on $server_address (pid $server_pid)"
}

# Starts a helper process whose first line of stdout is a port, writing to the files $1.out and
# $1.err in the scratch directory, and waits (bounded) for that whole line; sets helper_pid and
# helper_port. Fails with the helper's stderr if it exits first or the line never comes.
helper_start() {
    local name=$1 line polls=$((server_wait_seconds * 20)) deadline=$((SECONDS + server_wait_seconds))
    shift
    : >"$scratch/$name.out"
    "$@" >"$scratch/$name.out" 2>"$scratch/$name.err" &
    helper_pid=$!
    helper_port=""
    while ((polls-- > 0 && SECONDS <= deadline)); do
        if IFS= read -r line <"$scratch/$name.out" && [[ $line =~ ^[0-9]+$ ]]; then
            helper_port=$line
            return 0
        fi
        kill -0 "$helper_pid" 2>/dev/null || fail "$name exited:"$'\n'"$(cat "$scratch/$name.err")"
        sleep 0.05
    done
    fail "$name printed no port within $server_wait_seconds s:"$'\n'"$(cat "$scratch/$name.err")"
}

# Stops the helper started by helper_start, by its PID, and waits for it.
helper_stop() {
    kill "$helper_pid" 2>/dev/null || true
    wait "$helper_pid" 2>/dev/null || true
    helper_pid=""
}

server_start data

# Writes and positions --------------------------------------------------------------------------

check "info on an empty ledger shows head sequence 0 and a hash of zeros"
expect_status 0 info
[[ $(field "head sequence") == 0 ]] || fail "head sequence is not 0:"$'\n'"$output"
[[ $(field "head hash") =~ ^0{64}$ ]] || fail "head hash is not zeros:"$'\n'"$output"
expect_output "version:"
expect_output "uptime:"

check "org add registers an NHSE, an ICB and a place, printing each sequence and the key derived from it"
expect_status 0 org add XTN --name "Test NHS England" --kind nhse --date 2024-04-01
expect_output "recorded as event 1"
[[ $(field "idempotency key") =~ ^cli-[0-9a-f]{32}$ ]] || fail "no derived key printed:"$'\n'"$output"
expect_status 0 --json org add QTI --name "Test ICB" --kind ICB --date 2024-04-01
expect_status 0 org add T9P --kind Place --parent QTI --name "Test place" --date=2024-04-01
expect_output "recorded as event 3"

check "limit set records NHS England's limits for a stream and year as events 4 to 6"
expect_status 0 limit set --funder XTN --stream core_services --year 2024/25 --amount '£1,000,000.00' \
    --date 2024-04-01 --reference "limit letter 1"
expect_output "recorded as event 4"
expect_status 0 limit set --funder XTN --stream primary_medical_care --year 2024/25 --amount 1000 \
    --date 2024-04-01
expect_status 0 limit set --funder XTN --stream capital --year 2024/25 --amount 5 --date 2024-04-01
expect_output "recorded as event 6"
expect_status 0 event 4
[[ $(field limit) == "£1,000,000.00" ]] || fail "event 4 limit:"$'\n'"$output"
[[ $(field funder) == XTN && $(field stream) == core_services ]] || fail "event 4:"$'\n'"$output"

check "an allocation beyond the limit, or with no limit set, exits 1 naming NHS England's headroom"
before=$(head_sequence)
expect_status 1 allocate --from XTN --to QTI --stream core_services --year 2024/25 \
    --amount 1000000.01 --date 2024-04-01
expect_errors "error: failed_precondition:"
expect_errors "headroom: £1,000,000.00"
expect_errors "account: XTN 2024/25 CORE_SERVICES budget"
expect_status 1 allocate --from XTN --to QTI --stream specialised --year 2024/25 --amount 1 \
    --date 2024-04-01
expect_errors "headroom: £0.00"
expect_errors "set or raise the limit first"
expect_head_unchanged "$before"

check "allocate records £1,000,000.00 of core services from XTN to QTI"
expect_status 0 allocate --from XTN --to QTI --stream core_services --year 2024/25 \
    --amount '£1,000,000.00' --date 2024-04-01 --reference "letter 1"
expect_output "recorded as event 7"

check "budget passes £250,000.50 on from QTI to T9P"
expect_status 0 budget --from QTI --to T9P --stream CORE_SERVICES --year 2024/25 \
    --amount 250000.5 --date 2024-05-01
expect_output "recorded as event 8"

check "position shows exact figures for the ICB and the place"
expect_status 0 position QTI --stream core_services --year 2024/25
[[ $(field received) == "£1,000,000.00" ]] || fail "QTI received:"$'\n'"$output"
[[ $(field "passed on") == "£250,000.50" ]] || fail "QTI passed on:"$'\n'"$output"
[[ $(field "uncommitted headroom") == "£749,999.50" ]] || fail "QTI headroom:"$'\n'"$output"
[[ $(field year) == "2024/25" ]] || fail "QTI year:"$'\n'"$output"
expect_status 0 position T9P --stream core_services --year 2024/25
[[ $(field received) == "£250,000.50" ]] || fail "T9P received:"$'\n'"$output"
[[ $(field "uncommitted headroom") == "£250,000.50" ]] || fail "T9P headroom:"$'\n'"$output"

check "position --as-at 7 and --as-at-date 2024-04-30 show the ICB before the budget"
expect_status 0 position QTI --stream core_services --year 2024/25 --as-at 7
[[ $(field "uncommitted headroom") == "£1,000,000.00" ]] || fail "QTI headroom as at 7:"$'\n'"$output"
expect_status 0 position QTI --stream core_services --year 2024/25 --as-at-date 2024-04-30
[[ $(field "passed on") == "£0.00" ]] || fail "QTI passed on as at 2024-04-30:"$'\n'"$output"

# Refusals ----------------------------------------------------------------------------------

check "over-allocation exits 1 with failed_precondition and the headroom; the head stays"
before=$(head_sequence)
expect_status 1 budget --from QTI --to T9P --stream core_services --year 2024/25 --date 2024-05-01 \
    --amount 800000
expect_errors "error: failed_precondition:"
expect_errors "headroom: £749,999.50"
expect_errors "account:"
expect_head_unchanged "$before"

check "an unknown organisation exits 1 with not_found; the head stays"
expect_status 1 allocate --from XTN --to TNOBODY --stream core_services --year 2024/25 --date 2024-05-01 \
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
    grep -q "^$code " <<<"$output" || fail "org list lacks $code:"$'\n'"$output"
done
expect_status 0 org list --kind place
[[ $(printf '%s\n' "$output" | tail -n +2 | wc -l) -eq 1 ]] || fail "org list --kind place:"$'\n'"$output"
expect_output "T9P"
expect_status 0 org list --limit 2
[[ $(printf '%s\n' "$output" | tail -n +2 | wc -l) -eq 2 ]] || fail "org list --limit 2:"$'\n'"$output"

check "history lists the ICB's budget postings with running balances"
expect_status 0 history QTI --stream core_services --year 2024/25
grep -Eq '^ +7 +2024-04-01 .*£1,000,000.00 *$' <<<"$output" \
    || fail "history lacks event 7:"$'\n'"$output"
grep -Eq '^ +8 +2024-05-01 .*£250,000.50 +£749,999.50 *$' <<<"$output" \
    || fail "history lacks event 8:"$'\n'"$output"

check "events lists every event, and event 7 shows the allocation in full"
expect_status 0 events
[[ $(printf '%s\n' "$output" | tail -n +2 | wc -l) -eq 8 ]] || fail "events:"$'\n'"$output"
expect_output "allocate XTN -> QTI core_services 2024/25 £1,000,000.00"
expect_status 0 events --after 6 --limit 1
[[ $(printf '%s\n' "$output" | tail -n +2 | wc -l) -eq 1 ]] || fail "events --limit:"$'\n'"$output"
expect_output "allocation_issued"
expect_status 0 event 7
[[ $(field amount) == "£1,000,000.00" ]] || fail "event 7 amount:"$'\n'"$output"
[[ $(field reference) == "letter 1" ]] || fail "event 7 reference:"$'\n'"$output"
[[ $(field hash) =~ ^[0-9a-f]{64}$ ]] || fail "event 7 hash:"$'\n'"$output"
expect_status 1 event 999
expect_errors "not_found"

# Reversals and idempotency -------------------------------------------------------------------

check "reverse undoes the budget; reversing it again is refused and the head stays"
expect_status 0 reverse 8 --reason "entered in error"
expect_output "recorded as event 9"
expect_status 0 position QTI --stream core_services --year 2024/25
[[ $(field "uncommitted headroom") == "£1,000,000.00" ]] || fail "QTI headroom after reversal:"$'\n'"$output"
before=$(head_sequence)
expect_status 1 reverse 8 --reason "again"
expect_errors "failed_precondition"
expect_errors "event_already_reversed"
expect_head_unchanged "$before"

check "a retry with the same --key prints \"already recorded\" and records nothing"
expect_status 0 allocate --from XTN --to QTI --stream primary_medical_care --year 2024/25 --date 2024-05-01 \
    --amount 10.01 --key test-retry-1 --non-recurrent
expect_output "recorded as event 10"
before=$(head_sequence)
expect_status 0 allocate --from XTN --to QTI --stream primary_medical_care --year 2024/25 --date 2024-05-01 \
    --amount 10.01 --key test-retry-1 --non-recurrent
expect_output "already recorded as event 10"
expect_head_unchanged "$before"

check "the same --key for a different command is refused and the head stays"
expect_status 1 allocate --from XTN --to QTI --stream primary_medical_care --year 2024/25 --date 2024-05-01 \
    --amount 99 --key test-retry-1
expect_errors "idempotency_conflict"
expect_head_unchanged "$before"

check "info shows the head; verify says OK"
expect_status 0 info
[[ $(field "head sequence") == 10 ]] || fail "info head sequence:"$'\n'"$output"
[[ $(field events) == 10 ]] || fail "info events:"$'\n'"$output"
[[ $(field "head hash") =~ ^[0-9a-f]{64}$ ]] || fail "info head hash:"$'\n'"$output"
expect_status 0 verify
expect_output "OK: 10 events checked"

# JSON --------------------------------------------------------------------------------------

check "--json output is one JSON document with int64 fields as strings"
expect_status 0 info --json
printf '%s' "$output" | python3 -m json.tool >/dev/null || fail "info --json:"$'\n'"$output"
[[ $output == *'"head_sequence":"10"'* ]] || fail "head_sequence is not a string:"$'\n'"$output"
expect_status 0 --json position QTI --stream core_services --year 2024/25
[[ $(json_field headroom_pence) == 100000000 ]] || fail "headroom_pence:"$'\n'"$output"
[[ $output == *'"headroom_pence":"100000000"'* ]] || fail "headroom_pence not a string"
expect_status 0 events --json --limit 3
printf '%s' "$output" | python3 -m json.tool >/dev/null || fail "events --json:"$'\n'"$output"
[[ $(printf '%s' "$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))') == 3 ]] \
    || fail "events --json --limit 3:"$'\n'"$output"

check "--json prints a refusal as the server's JSON error on stdout, with exit 1"
before=$(head_sequence)
expect_status 1 budget --json --from QTI --to T9P --stream core_services --year 2024/25 --date 2024-05-01 \
    --amount 2000000
[[ $(json_field code) == failed_precondition ]] || fail "--json error code:"$'\n'"$output"
[[ $output == *'"headroom_pence":"100000000"'* ]] || fail "--json error meta:"$'\n'"$output"
expect_head_unchanged "$before"

# Revenue limits ----------------------------------------------------------------------------

check "NHS England's position shows its limit received, all of it allocated and £0.00 headroom"
expect_status 0 position XTN --stream core_services --year 2024/25
[[ $(field received) == "£1,000,000.00" ]] || fail "XTN received:"$'\n'"$output"
[[ $(field "passed on") == "£1,000,000.00" ]] || fail "XTN passed on:"$'\n'"$output"
[[ $(field held) == "£0.00" ]] || fail "XTN held:"$'\n'"$output"
[[ $(field "uncommitted headroom") == "£0.00" ]] || fail "XTN headroom:"$'\n'"$output"

check "limit set may not lower a limit below what is allocated; raising it adds headroom"
before=$(head_sequence)
expect_status 1 limit set --funder XTN --stream core_services --year 2024/25 --amount 999999.99 \
    --date 2024-06-01
expect_errors "failed_precondition"
expect_errors "limit_pence"
expect_errors "£1,000,000.00 of it is allocated"
expect_head_unchanged "$before"
expect_status 0 limit set --funder XTN --stream core_services --year 2024/25 --amount 1500000 \
    --date 2024-06-01
expect_status 0 position XTN --stream core_services --year 2024/25
[[ $(field received) == "£1,500,000.00" ]] || fail "XTN received after raising:"$'\n'"$output"
[[ $(field held) == "£500,000.00" ]] || fail "XTN held after raising:"$'\n'"$output"
[[ $(field "uncommitted headroom") == "£500,000.00" ]] || fail "XTN headroom after raising:"$'\n'"$output"

check "limit set asks for --date outside its year and refuses a negative amount"
expect_status 2 limit set --funder XTN --stream core_services --year 2019/20 --amount 1
expect_errors "--date"
expect_status 2 limit set --stream core_services --year 2024/25 --amount -1 --date 2024-06-01
expect_errors "--amount"
expect_status 0 limit set --help
expect_output "whole limit"

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
# The port stays bound, never listening, until the checks end: a port merely found free could be
# taken meanwhile by another test's server on 127.0.0.1:0, and then something would answer.
helper_start port python3 -c '
import signal, socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
signal.pause()'
dead="http://127.0.0.1:$helper_port"
expect_status 3 --server "$dead" info
expect_errors "cannot connect to $dead"
expect_status 3 allocate --server "$dead" --from XTN --to QTI --stream core_services \
    --year 2024/25 --date 2024-05-01 --amount 1
helper_stop

# Stopping the server -------------------------------------------------------------------------

check "fundflowd stops cleanly on SIGTERM with no sanitizer report"
server_stop

# Positions over the demo -----------------------------------------------------------------------
#
# A fresh ledger holding only the demo, since the first ledger's own ICB QTI would make 43 ICBs.
# The demo allocates its 42 ICBs £107,600,000,000.00 of core services in 2024/25 between them.

check "fundflowd starts on a fresh ledger and submit loads the demo into it"
server_start demo
expect_status 0 submit "$scratch/demo.ndjson"
[[ $(field refused) == 0 ]] || fail "demo submit refused:"$'\n'"$output"
demo_head=$(head_sequence)

# Prints the amount in column $1 of the TOTAL row of the positions table in $output.
positions_total() {
    printf '%s\n' "$output" | awk -v column="$1" '$1 == "TOTAL" { print $column }'
}

check "positions lists the 42 ICBs with a TOTAL received of exactly £107,600,000,000.00"
expect_status 0 positions --stream core_services --year 2024/25
[[ $(grep -Ec '^Q[0-9A-Z]{2} ' <<<"$output") -eq 42 ]] \
    || fail "positions does not list 42 ICBs:"$'\n'"$output"
[[ $(positions_total 2) == "£107,600,000,000.00" ]] || fail "TOTAL received:"$'\n'"$output"
[[ $(field "as at sequence") == "$demo_head" ]] || fail "positions as at:"$'\n'"$output"
expect_output "core_services 2024/25 positions of every icb"
grep -Eq '^QE1 +NHS Lancashire and South Cumb\.\.\. +£' <<<"$output" \
    || fail "positions does not cut a long name to fit:"$'\n'"$output"

check "positions --json is one document holding the 42 replies, all as at the head"
expect_status 0 positions --stream core_services --year 2024/25 --json
printf '%s' "$output" | python3 -m json.tool >/dev/null || fail "positions --json:"$'\n'"$output"
python3 -c '
import json, sys
positions = json.loads(sys.argv[1])["positions"]
received = sum(int(p.get("received_pence", 0)) for p in positions)
sequences = {p.get("as_at_sequence") for p in positions}
if len(positions) != 42 or received != 10760000000000 or sequences != {sys.argv[2]}:
    sys.exit("%d positions, received %d pence, as at %s" % (len(positions), received, sequences))
' "$output" "$demo_head" || fail "positions --json:"$'\n'"$output"

check "positions --as-at 1 reads every ICB before any money moved; --rollup adds in the places"
expect_status 0 positions --stream core_services --year 2024/25 --as-at 1
[[ $(field "as at sequence") == 1 ]] || fail "positions --as-at 1:"$'\n'"$output"
[[ $(positions_total 2) == "£0.00" ]] || fail "positions --as-at 1 TOTAL:"$'\n'"$output"
expect_status 0 positions --stream core_services --year 2024/25 --kind place --json
places_json=$output
expect_status 0 positions --stream core_services --year 2024/25 --rollup --json
python3 -c '
import json, sys
places, rollup = (json.loads(text)["positions"] for text in sys.argv[1:3])
def total(rows, name): return sum(int(p.get(name, 0)) for p in rows)
# A place receives only from its ICB, so a rollup (a consolidation) receives what the ICBs do
# and shows what the places received as internal, not received again.
if len(rollup) != 42 or total(rollup, "received_pence") != 10760000000000 or \
        total(rollup, "internal_transfers_pence") != total(places, "received_pence"):
    sys.exit("the rollup is not the ICBs with their budgets to their places internal")
# Every row adds up under the definitions.
for p in rollup + places:
    f = lambda name: int(p.get(name, 0))
    if f("received_pence") + f("funding_drawn_pence") - f("passed_on_pence") != f("held_pence") or \
            f("paid_pence") + f("committed_pence") + f("withheld_pence") + f("earned_pence") != \
            f("contract_value_pence") or \
            f("held_pence") - f("contract_value_pence") != f("headroom_pence"):
        sys.exit("%s does not add up: %s" % (p["org_code"], p))
' "$places_json" "$output" || fail "positions --rollup"

check "positions refuses bad flags with exit 2 and an unreachable server with exit 3"
expect_status 2 positions --year 2024/25
expect_errors "--stream"
expect_status 2 positions --stream core_services --year 2024/25 --kind nonsense
expect_errors "--kind"
expect_status 2 positions --stream core_services --year 2024/25 --limit 5
expect_errors "--limit"
expect_status 3 --server "$dead" positions --stream core_services --year 2024/25
expect_errors "cannot connect to $dead"
expect_status 0 positions --help
expect_output "--as-at SEQUENCE"
expect_output "Default: icb."

check "the demo's fundflowd stops cleanly on SIGTERM with no sanitizer report"
server_stop

# A stand-in server for what no real ledger reaches. In JSON it lists 10,001 ICBs over pages; in
# protobuf it lists two ICBs and says each received 2^62 pence, so their total overflows int64.
cat >"$scratch/fake_server.py" <<'PYTHON'
import http.server, json

ORGS = 10001

def varint(number):
    number &= (1 << 64) - 1
    out = bytearray()
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)

def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    value = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(value)) + value

def org(code):
    return field(1, code) + field(2, "Stand-in ICB " + code) + field(3, 3)

def json_reply(method, request):
    if method != "ListOrgs":
        return {}
    token = request.get("page_token", "")
    first = int(token[1:]) + 1 if token else 0
    last = min(first + int(request.get("page_size", 100) or 100), ORGS)
    reply = {"orgs": [{"code": "Q%05d" % i, "kind": "ICB"} for i in range(first, last)]}
    if last < ORGS:
        reply["next_page_token"] = "Q%05d" % (last - 1)
    return reply

def protobuf_reply(method):
    if method == "ListOrgs":
        return field(1, org("QOVER1")) + field(1, org("QOVER2"))
    return field(1, "QOVER") + field(2, 1) + field(3, 2024) + field(4, 7) + field(6, 1 << 62)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *arguments):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        method = self.path.rsplit("/", 1)[-1]
        content_type = self.headers["Content-Type"]
        if content_type == "application/json":
            reply = json.dumps(json_reply(method, json.loads(body))).encode()
        else:
            reply = protobuf_reply(method)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PYTHON

check "positions exits 1 past 10000 organisations, and when a total overflows, printing nothing"
helper_start fake python3 "$scratch/fake_server.py"
fake="http://127.0.0.1:$helper_port"
expect_status 1 --server "$fake" --json positions --stream core_services --year 2024/25
expect_errors "more than 10000 organisations of kind icb"
[[ -z $output ]] || fail "positions printed past the limit:"$'\n'"$output"
expect_status 1 --server "$fake" positions --stream core_services --year 2024/25
expect_errors "the total received overflows 64-bit pence at QOVER2"
[[ -z $output ]] || fail "positions printed an overflowing total:"$'\n'"$output"
helper_stop

# The funding-flow domain -----------------------------------------------------------------------
#
# A fresh ledger, since the demo registers the real codes used here. The scenario, all in 2024/25:
# NHS England X24, region Y61, ICB QUE with its place 06H, trusts RGT and RWH, and the provider
# collaborative PCEAST of both, led by RGT. Service lines SL101 and SL102 are delegated in full to
# QUE from 2024-07-01; SLNAT is retained nationally. X24 allocates QUE £10,000,000.00 of core
# services and £2,000,000.00 of specialised funding citing the delegation; QUE passes
# £1,000,000.00 of core services on to 06H.
#
# QUE-OBC-1 is an outcome-based contract with RGT for core services, worth £1,200,000.00, of which
# a pot of £120,000.01 is withheld. Metric shares are floor(pot × weight / 10000) and the last
# metric takes the rest:
#   ACCESS   (6000 bp): floor(12,000,001p × 6000 / 10000) = floor(7,200,000.6p) = £72,000.00
#   OUTCOMES (4000 bp): 12,000,001p − 7,200,000p                            = £48,000.01
# Payments M1 £90,000.00, M2 £90,000.00 and M3 £90,000.33: paid £270,000.33.
# OUTCOMES is reported at 75.5% (7550 bp): earned floor(4,800,001p × 7550 / 10000) =
# floor(3,624,000.755p) = £36,240.00, and released £48,000.01 − £36,240.00 = £11,760.01.
# A variation of −£1,000.00 leaves the value at £1,199,000.00. Then:
#   variable element = £1,199,000.00 − fixed £0.00                          = £1,199,000.00
#   pot pending      = £120,000.01 − £36,240.00 − £11,760.01                = £72,000.00
#   outstanding      = £1,199,000.00 − £270,000.33 − £36,240.00 − £11,760.01 = £880,999.66
#   payable in all   = value − pot = £1,199,000.00 − £120,000.01             = £1,078,999.99
#   still payable    = £1,078,999.99 − £270,000.33                           = £808,999.66
# so a payment of £808,999.67 is one penny too many. For QUE's core services:
#   headroom  = £10,000,000.00 − £1,000,000.00 − £1,200,000.00 + £1,000.00 + £11,760.01
#             = £7,812,760.01
#   committed = value − pot − paid = £1,199,000.00 − £120,000.01 − £270,000.33 = £808,999.66
#   withheld  = pot pending = £72,000.00
# QUE-SPEC-1 is a block contract with RWH for specialised service line SL102, worth £500,000.00,
# paid £41,666.67 for M4. Money flows to RGT as payments and earnings: £270,000.33 + £36,240.00
# = £306,240.33.

check "fundflowd starts on a fresh ledger for the funding-flow domain"
server_start domain
expect_status 0 info
[[ $(field "head sequence") == 0 ]] || fail "the domain ledger is not empty:"$'\n'"$output"

check "org add registers NHS England, a region, an ICB, a place, two trusts and a collaborative"
expect_status 0 org add X24 --kind nhse --name "NHS England" --date 2024-04-01
expect_status 0 org add Y61 --kind region --name "East of England" --parent X24 --date 2024-04-01
expect_status 0 org add QUE --kind icb --name "NHS Cambridgeshire and Peterborough ICB" \
    --parent Y61 --date 2024-04-01
expect_status 0 org add 06H --kind place --name "Cambridgeshire and Peterborough" --parent QUE \
    --date 2024-04-01
expect_status 0 org add RGT --kind trust --name "Cambridge University Hospitals" --date 2024-04-01
expect_status 0 org add RWH --kind trust --name "Royal Papworth Hospital" --date 2024-04-01
expect_status 0 org add PCEAST --kind provider-collaborative --name "East provider collaborative" \
    --member RGT --member RWH --lead RGT --date 2024-04-01
expect_output "recorded as event 7"
expect_status 0 org show PCEAST
[[ $(field members) == "RGT, RWH" ]] || fail "PCEAST members:"$'\n'"$output"
[[ $(field "lead provider") == RGT ]] || fail "PCEAST lead:"$'\n'"$output"

check "codes of the wrong form for their kind, and a lead that is not a member, are refused"
before=$(head_sequence)
expect_status 1 org add TRG --kind trust --name "Not a trust code" --date 2024-04-01
expect_errors "code_invalid"
expect_status 1 org add PCWEST --kind provider_collaborative --name "West" --member RGT \
    --lead RWH --date 2024-04-01
expect_errors "member_invalid"
expect_head_unchanged "$before"

check "service-line add registers two lines and one retained nationally"
expect_status 0 service-line add SL101 --name "Adult critical care" --category acute-care \
    --date 2024-04-01
expect_status 0 service-line add SL102 --name "Cardiac surgery" --category CARDIAC --date 2024-04-01
expect_status 0 service-line add SLNAT --name "Rare diseases" --category other_services --retained \
    --date 2024-04-01
expect_status 0 event 10
[[ $(field retained) == "yes, nationally" ]] || fail "SLNAT retained:"$'\n'"$output"

check "delegation grant delegates SL101 and SL102 to QUE in full from 2024-07-01"
expect_status 0 delegation grant DEL-QUE-24 --to QUE --lines SL101,SL102 --population QUE \
    --mode full --from 2024-07-01 --date 2024-06-01
expect_output "recorded as event 11"
before=$(head_sequence)
expect_status 1 delegation grant DEL-NAT --to QUE --lines SLNAT --population QUE \
    --mode full --from 2024-07-01 --date 2024-06-01
expect_errors "service_line_retained"
expect_head_unchanged "$before"

check "allocate core services, and specialised funding citing the delegation; budget to the place"
expect_status 0 limit set --stream core_services --year 2024/25 --amount 100,000,000.00 \
    --date 2024-04-01
expect_status 0 limit set --stream specialised --year 2024/25 --amount 2,000,000.00 \
    --date 2024-04-01
expect_output "recorded as event 13"
expect_status 0 allocate --from X24 --to QUE --stream core_services --year 2024/25 \
    --amount 10,000,000.00 --date 2024-04-01
expect_status 0 allocate --from X24 --to QUE --stream specialised --year 2024/25 \
    --amount 2,000,000.00 --delegation DEL-QUE-24 --date 2024-07-01
expect_status 0 event 15
[[ $(field delegation) == DEL-QUE-24 ]] || fail "event 15 delegation:"$'\n'"$output"
expect_status 0 budget --from QUE --to 06H --stream core_services --year 2024/25 \
    --amount 1,000,000.00 --date 2024-04-01
expect_output "recorded as event 16"

check "contract agree records an outcome-based contract with two metrics and a specialised one"
expect_status 0 contract agree QUE-OBC-1 --commissioner QUE --provider RGT --type outcome-based \
    --year 2024/25 --stream core_services --value 1,200,000.00 --category mental_health \
    --pot 120,000.01 --metric "ACCESS:6000:Seen within 18 weeks: all ages" --metric OUTCOMES:4000 \
    --cquin-bp 125 --date 2024-04-01
expect_output "recorded as event 17"
before=$(head_sequence)
expect_status 1 contract agree QUE-SPEC-0 --commissioner QUE --provider RWH --type block \
    --year 2024/25 --stream specialised --value 500000 --category cardiac --line SL102 \
    --date 2024-06-30
expect_errors "not_delegated"
expect_head_unchanged "$before"
expect_status 0 contract agree QUE-SPEC-1 --commissioner QUE --provider RWH --type block \
    --year 2024/25 --stream specialised --value 500000 --category cardiac --line SL102 \
    --date 2024-07-01
expect_output "recorded as event 18"

check "pay M1 to M3, report one outcome and vary the contract down by £1,000.00"
expect_status 0 pay QUE-OBC-1 --month 1 --amount 90,000.00 --reference INV-0401 --date 2024-04-30
m1_event=$(printf '%s\n' "$output" | sed -n 's/^recorded as event //p')
expect_status 0 pay QUE-OBC-1 --month M2 --amount 90000 --date 2024-05-31
expect_status 0 pay QUE-OBC-1 --month m3 --amount 90000.33 --date 2024-06-28
expect_status 0 outcome QUE-OBC-1 --metric OUTCOMES --achievement 75.5 --date 2024-07-15
expect_status 0 event "$(printf '%s\n' "$output" | sed -n 's/^recorded as event //p')"
[[ $(field achievement) == "75.50% (7550 bp)" ]] || fail "outcome achievement:"$'\n'"$output"
expect_status 0 contract vary QUE-OBC-1 --change -1000 --reason "Activity lower than planned" \
    --date 2024-07-20
expect_output "recorded as event 23"

check "contract show prints the contract's figures to the penny"
expect_status 0 contract show QUE-OBC-1
[[ $(field "original value") == "£1,200,000.00" ]] || fail "original value:"$'\n'"$output"
[[ $(field variations) == "-£1,000.00" ]] || fail "variations:"$'\n'"$output"
[[ $(field value) == "£1,199,000.00" ]] || fail "value:"$'\n'"$output"
[[ $(field "fixed element") == "£0.00" ]] || fail "fixed element:"$'\n'"$output"
[[ $(field "variable element") == "£1,199,000.00" ]] || fail "variable element:"$'\n'"$output"
[[ $(field "withheld pot") == "£120,000.01" ]] || fail "withheld pot:"$'\n'"$output"
[[ $(field "pot pending") == "£72,000.00" ]] || fail "pot pending:"$'\n'"$output"
[[ $(field "paid to date") == "£270,000.33" ]] || fail "paid to date:"$'\n'"$output"
[[ $(field earned) == "£36,240.00" ]] || fail "earned:"$'\n'"$output"
[[ $(field released) == "£11,760.01" ]] || fail "released:"$'\n'"$output"
[[ $(field outstanding) == "£880,999.66" ]] || fail "outstanding:"$'\n'"$output"
[[ $(field "CQUIN share") == "1.25%" ]] || fail "CQUIN share:"$'\n'"$output"
grep -Eq '^ACCESS +60\.00% +£72,000\.00 +not yet ' <<<"$output" \
    || fail "contract show lacks the ACCESS metric:"$'\n'"$output"
grep -Eq '^OUTCOMES +40\.00% +£48,000\.01 +event 22 on 2024-07-15 +75\.50% +£36,240\.00 +£11,760\.01 ' <<<"$output" \
    || fail "contract show lacks the OUTCOMES metric:"$'\n'"$output"
for row in "M1 +April +£90,000\.00" "M2 +May +£90,000\.00" "M3 +June +£90,000\.33" \
    "M4 +July +£0\.00" "M12 +March +£0\.00" "total +£270,000\.33"; do
    grep -Eq "^$row\$" <<<"$output" || fail "contract show lacks \"$row\":"$'\n'"$output"
done

check "contract show --as-at the M1 payment shows the contract as it stood then"
expect_status 0 contract show QUE-OBC-1 --as-at "$m1_event"
[[ $(field "paid to date") == "£90,000.00" ]] || fail "paid as at M1:"$'\n'"$output"
[[ $(field value) == "£1,200,000.00" ]] || fail "value as at M1:"$'\n'"$output"
[[ $(field outstanding) == "£1,110,000.00" ]] || fail "outstanding as at M1:"$'\n'"$output"

# As at 2024-05-31 (an effective date): the M1 and M2 payments (dated 2024-04-30 and 2024-05-31)
# count; M3 (2024-06-28), the outcome (2024-07-15) and the variation (2024-07-20) do not.
check "contract show --as-at-date counts only what took effect by then"
expect_status 0 contract show QUE-OBC-1 --as-at-date 2024-05-31
[[ $(field "paid to date") == "£180,000.00" ]] || fail "paid as at 2024-05-31:"$'\n'"$output"
[[ $(field value) == "£1,200,000.00" ]] || fail "value as at 2024-05-31:"$'\n'"$output"
[[ $(field earned) == "£0.00" ]] || fail "earned as at 2024-05-31:"$'\n'"$output"
expect_status 0 contract show QUE-OBC-1 --json
[[ $output == *'"value_pence":"119900000"'* ]] || fail "contract show --json value:"$'\n'"$output"
[[ $(json_field outstanding_pence) == 88099966 ]] || fail "contract show --json:"$'\n'"$output"

check "contract list --collaborative finds the contracts of every member"
expect_status 0 contract list --collaborative PCEAST
[[ $(printf '%s\n' "$output" | tail -n +2 | grep -vc '^TOTAL ') -eq 2 ]] || fail "contract list:"$'\n'"$output"
grep -Eq '^QUE-OBC-1 +QUE +RGT +outcome_based +2024/25 +core_services +£1,199,000\.00 +£270,000\.33 ' <<<"$output" \
    || fail "contract list lacks QUE-OBC-1:"$'\n'"$output"
grep -Eq '^QUE-SPEC-1 +QUE +RWH +block +2024/25 +specialised +£500,000\.00 +£0\.00 ' <<<"$output" \
    || fail "contract list lacks QUE-SPEC-1:"$'\n'"$output"
expect_status 0 contract list --provider RWH --type BLOCK --year 2024/25
[[ $(printf '%s\n' "$output" | tail -n +2 | grep -vc '^TOTAL ') -eq 1 ]] || fail "contract list --provider:"$'\n'"$output"
expect_status 0 contract list --limit 1
[[ $(printf '%s\n' "$output" | tail -n +2 | grep -vc '^TOTAL ') -eq 1 ]] || fail "contract list --limit:"$'\n'"$output"
expect_status 0 contract list --stream capital
expect_output "no contracts match"

check "position shows the ICB's contract figures, and --rollup adds up the ICB and its place"
expect_status 0 position QUE --stream core_services --year 2024/25
[[ $(field "uncommitted headroom") == "£7,812,760.01" ]] || fail "QUE headroom:"$'\n'"$output"
[[ $(field "unpaid commitment") == "£808,999.66" ]] || fail "QUE unpaid commitment:"$'\n'"$output"
[[ $(field paid) == "£270,000.33" ]] || fail "QUE paid:"$'\n'"$output"
[[ $(field withheld) == "£72,000.00" ]] || fail "QUE withheld:"$'\n'"$output"
[[ $(field earned) == "£36,240.00" ]] || fail "QUE earned:"$'\n'"$output"
[[ $(field released) == "£11,760.01" ]] || fail "QUE released:"$'\n'"$output"
expect_status 0 --json position QUE --stream core_services --year 2024/25
icb_json=$output
expect_status 0 --json position 06H --stream core_services --year 2024/25
place_json=$output
expect_status 0 --json position QUE --stream core_services --year 2024/25 --rollup
rollup_json=$output
python3 -c '
import json, sys
icb, place, rollup = (json.loads(text) for text in sys.argv[1:4])
# The £1,000,000.00 budget from QUE to 06H is inside the group: neither received nor passed on.
internal = 100000000
figures = ["received_pence", "passed_on_pence", "headroom_pence", "committed_pence",
           "paid_pence", "withheld_pence", "earned_pence", "released_pence"]
taken_out = {"received_pence": internal, "passed_on_pence": internal}
wrong = [f for f in figures if int(rollup.get(f, 0)) !=
         int(icb.get(f, 0)) + int(place.get(f, 0)) - taken_out.get(f, 0)]
if int(rollup.get("internal_transfers_pence", 0)) != internal:
    wrong.append("internal_transfers_pence")
if wrong or sorted(rollup.get("included_codes", [])) != ["06H", "QUE"]:
    sys.exit("the rollup is not QUE plus 06H in %s: %s" % (wrong, rollup))
' "$icb_json" "$place_json" "$rollup_json" || fail "position --rollup"
expect_status 0 position QUE --stream core_services --year 2024/25 --rollup
[[ $(field "rollup of") == "QUE, 06H" ]] || fail "position --rollup:"$'\n'"$output"
[[ $(field "uncommitted headroom") == "£8,812,760.01" ]] || fail "rollup headroom:"$'\n'"$output"

check "positions --rollup shows QUE's rolled-up figures; a kind with no organisations says so"
expect_status 0 positions --stream core_services --year 2024/25 --rollup
# The group QUE + 06H received £10,000,000.00 from outside and passed nothing outside; its
# contract value is £270,000.33 paid + £808,999.66 unpaid + £72,000.00 withheld + £36,240.00
# earned = £1,187,239.99, so its uncommitted headroom is £10,000,000.00 - £1,187,239.99; the
# last column is the internal £1,000,000.00.
grep -Eq '^QUE +NHS Cambridgeshire and Peterb\.\.\. +£10,000,000\.00 +£0\.00 +£10,000,000\.00 +£1,187,239\.99 +£270,000\.33 +£808,999\.66 +£72,000\.00 +£36,240\.00 +£8,812,760\.01 +£11,760\.01 +£1,000,000\.00$' <<<"$output" \
    || fail "positions --rollup lacks QUE:"$'\n'"$output"
[[ $(positions_total 10) == "£8,812,760.01" ]] || fail "positions TOTAL headroom:"$'\n'"$output"
expect_status 0 positions --stream core_services --year 2024/25 --kind joint_committee
expect_output "no organisations of kind joint_committee"
expect_status 0 positions --stream core_services --year 2024/25 --kind joint_committee --json
[[ $output == '{"positions":[]}' ]] || fail "positions --json of no organisations:"$'\n'"$output"

check "delegation who: NHS England before the start date, QUE from it, NHS England for SLNAT"
expect_status 0 delegation who --line SL101 --icb QUE --on 2024-06-30
[[ $(field commissioner) == X24 ]] || fail "who before the start:"$'\n'"$output"
expect_output "none: NHS England commissions the line"
expect_output "DEL-QUE-24  QUE"
expect_status 0 delegation who --line SL101 --icb QUE --on 2024-07-01
[[ $(field commissioner) == QUE ]] || fail "who from the start:"$'\n'"$output"
[[ $(field delegation) == "DEL-QUE-24 (full)" ]] || fail "who delegation:"$'\n'"$output"
expect_status 0 delegation who --line SLNAT --icb QUE --on 2024-07-01
[[ $(field commissioner) == X24 ]] || fail "who for SLNAT:"$'\n'"$output"
[[ $(field retained) == "yes, nationally" ]] || fail "SLNAT retained:"$'\n'"$output"
expect_status 0 --json delegation who --line SL102 --icb QUE --on 2024-12-01
[[ $(json_field delegation_id) == DEL-QUE-24 ]] || fail "who --json:"$'\n'"$output"

check "pay M4 of the specialised contract; flows show the tree from NHS England"
expect_status 0 pay QUE-SPEC-1 --month 4 --amount 41,666.67 --date 2024-07-31
expect_status 0 flows --year 2024/25
for row in "1 +X24 -> QUE +core_services +£10,000,000\.00" "1 +X24 -> QUE +specialised +£2,000,000\.00" \
    "2 +QUE -> 06H +core_services +£1,000,000\.00" "2 +QUE -> RGT +core_services +£306,240\.33" \
    "2 +QUE -> RWH +specialised +£41,666\.67"; do
    grep -Eq "^ +$row\$" <<<"$output" || fail "flows lacks \"$row\":"$'\n'"$output"
done
expect_output "truncated: no"
expect_status 0 flows --year 2024/25 --root QUE --depth 1 --stream specialised
[[ $(grep -Ec '^ +[0-9]+ ' <<<"$output") -eq 1 ]] || fail "flows --root QUE:"$'\n'"$output"
expect_output "QUE -> RWH  specialised  £41,666.67"
# The M4 payment is dated 2024-07-31, so as at the day before nothing has flowed to RWH yet.
expect_status 0 flows --year 2024/25 --root QUE --depth 1 --stream specialised --as-at-date 2024-07-30
[[ $output != *"QUE -> RWH"* ]] || fail "flows --as-at-date 2024-07-30 shows RWH:"$'\n'"$output"

check "events --contract lists the contract's own events, paged with --after and --limit"
expect_status 0 events --contract QUE-OBC-1
[[ $(printf '%s\n' "$output" | tail -n +2 | awk '{print $1}' | tr '\n' ' ') == "17 19 20 21 22 23 " ]] \
    || fail "events --contract:"$'\n'"$output"
expect_output "vary QUE-OBC-1 by -£1,000.00: Activity lower than planned"
expect_status 0 events --contract QUE-OBC-1 --after 19 --limit 2
[[ $(printf '%s\n' "$output" | tail -n +2 | awk '{print $1}' | tr '\n' ' ') == "20 21 " ]] \
    || fail "events --contract --after --limit:"$'\n'"$output"
expect_status 0 events --org PCEAST
expect_output "register PCEAST (provider_collaborative)"

check "one penny more than the contract may still pay is refused; the head stays"
before=$(head_sequence)
expect_status 1 pay QUE-OBC-1 --month 4 --amount 808,999.67 --date 2024-07-31
expect_errors "error: failed_precondition:"
expect_errors "overpayment"
expect_head_unchanged "$before"
expect_status 1 --json pay QUE-OBC-1 --month 4 --amount 808,999.67 --date 2024-07-31
[[ $(json_field code) == failed_precondition ]] || fail "--json overpayment:"$'\n'"$output"
expect_head_unchanged "$before"

check "close-period closes August for QUE; a payment dated in it is refused"
expect_status 0 close-period QUE --year 2024/25 --month 5 --date 2024-09-01
before=$(head_sequence)
expect_status 1 pay QUE-OBC-1 --month M5 --amount 1,000.00 --date 2024-08-15
expect_errors "period_closed"
expect_head_unchanged "$before"
expect_status 1 close-period QUE --year 2024/25 --month 5 --date 2024-09-02
expect_errors "period_already_closed"
expect_head_unchanged "$before"

check "statement, org update and delegation revoke are recorded"
expect_status 0 statement --org QUE --counterparty RGT --year 2024/25 --month 3 --kind payable \
    --amount 90,000.33 --date 2024-07-05
expect_status 0 statement --org RGT --counterparty QUE --year 2024/25 --month 3 \
    --kind receivable --amount 0 --date 2024-07-05
expect_status 0 org update PCEAST --lead RWH --date 2024-10-01
expect_status 0 org show PCEAST
[[ $(field "lead provider") == RWH ]] || fail "org update --lead:"$'\n'"$output"
expect_status 0 org update PCEAST --members RGT,RWH --name "East collaborative" --date 2024-10-02
expect_status 0 delegation revoke DEL-QUE-24 --until 2025-03-31 --date 2024-10-01
expect_status 0 delegation who --line SL101 --icb QUE --on 2025-04-01
[[ $(field commissioner) == X24 ]] || fail "who after the revocation:"$'\n'"$output"
expect_output "2025-03-31"

check "verify is OK after the domain's events"
expect_status 0 verify
expect_output "OK:"

check "the domain's flags refuse bad values with exit 2"
expect_status 2 outcome QUE-OBC-1 --metric ACCESS --achievement 75.555
expect_errors "--achievement"
expect_status 2 outcome QUE-OBC-1 --metric ACCESS --achievement 100.01
expect_errors "--achievement"
expect_status 2 outcome QUE-OBC-1 --metric ACCESS
expect_errors "--achievement-bp"
expect_status 2 outcome QUE-OBC-1 --metric ACCESS --achievement 50 --achievement-bp 5000
expect_status 2 pay QUE-OBC-1 --month 13 --amount 1
expect_errors "--month"
expect_status 2 pay QUE-OBC-1 --month M0 --amount 1
expect_errors "--month"
expect_status 2 contract vary QUE-OBC-1 --change 0 --reason x
expect_errors "--change"
expect_status 2 contract agree QUE-X --commissioner QUE --provider RGT --type outcome_based \
    --year 2024/25 --stream core_services --value 10 --pot 1 --metric ACCESS
expect_errors "--metric"
expect_status 2 contract agree QUE-X --commissioner QUE --provider RGT --type outcome_based \
    --year 2024/25 --stream core_services --value 10 --pot 1
expect_errors "--metric"
expect_status 2 delegation grant DEL-X --to QUE --lines SL101 --population QUE --mode partial \
    --from 2024-07-01
expect_errors "--mode"
expect_status 2 org update PCEAST --members RGT --no-members
expect_status 2 org update PCEAST
expect_status 2 events --org QUE --contract QUE-OBC-1
expect_status 2 statement --org QUE --counterparty RGT --year 2024/25 --month 3 --kind owed \
    --amount 1
expect_errors "--kind"
expect_status 2 contract show QUE-OBC-1 --rollup
expect_errors "--rollup"

check "--help explains the domain's subcommands and every flag"
expect_status 0 contract agree --help
expect_output "--metric CODE:WEIGHT_BP[:DESCRIPTION]"
expect_output "One of: aip, block"
expect_status 0 delegation grant --help
expect_output "--mode MODE"
expect_output "joint-committee"
expect_status 0 help outcome
expect_output "--achievement PERCENT"
expect_status 0 contract --help
expect_output "agree  ID"
expect_status 2 contract
expect_errors "list"
expect_status 0 --help
expect_output "service-line add CODE"
expect_output "close-period CODE"

check "the domain's fundflowd stops cleanly on SIGTERM with no sanitizer report"
server_stop

echo "all $checks checks passed"
