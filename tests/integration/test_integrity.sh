#!/usr/bin/env bash
# Integration test of signed tree heads (docs/INTEGRITY.md) against the three attacks of issue
# 15, each against a head a client saved before it, on real servers on 127.0.0.1:0 in fresh
# directories:
#   truncation - the newest five events dropped and the projections rebuilt: a shorter tree;
#   forgery    - event 35's amount changed, the chain recomputed, rebuilt: the saved head's root
#                does not match the consistency proof;
#   rollback   - an older copy of the data directory put back: a shorter tree, and without the
#                old key a head signed by a different key.
# Also: the signing key is made 0600, a readable configured key is refused, head save, prove,
# fundflow info's key, the head in SubmitCommands' reply, a doctored saved head, and
# fundflow-admin verify's check of the stored signed head.
#
# Usage: test_integrity.sh FUNDFLOWD FUNDFLOW FUNDFLOW_ADMIN LEDGER_TAMPER
set -euo pipefail

if [[ $# -ne 4 ]]; then
    echo "usage: $0 FUNDFLOWD FUNDFLOW FUNDFLOW_ADMIN LEDGER_TAMPER" >&2
    exit 2
fi
fundflowd=$1
cli=$2
admin=$3
tamper=$4

source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin integrity

start() {
    server_launch "$fundflowd" --data-dir "$1" --listen 127.0.0.1:0 "${@:2}"
    export FUNDFLOW_SERVER="http://$server_address"
}

# Allocations of £N.00 from XTN to QTI, one event each, for every N given (keys name N).
allocate() {
    local n
    for n in "$@"; do
        expect_status 0 allocate --from XTN --to QTI --stream core_services --year 2024/25 \
            --amount "$n.00" --date 2024-05-01 --key "alloc-$n"
    done
}

admin_run() {
    admin_status=0
    admin_output=$("$admin" "$@" 2>&1) || admin_status=$?
    sanitizer_check "fundflow-admin $*" "$admin_output"
}

# A ledger of 40 events: NHS England, an ICB and its core limit (events 1 to 3), then
# allocations of £4.00 to £40.00 as events 4 to 40, so event N allocates £N.00. The data
# directory is copied, server stopped, when it holds 30 events (the rollback's older copy).
check "the server makes its signing key 0600 in a new data directory and publishes it"
start "$scratch/live"
[[ $(stat -c %a "$scratch/live/signing_key.pem") == 600 ]] ||
    fail "signing_key.pem has mode $(stat -c %a "$scratch/live/signing_key.pem"), not 600"
expect_errors_log=$(cat "$server_err")
[[ $expect_errors_log == *"created the signing key"* ]] || fail "no log line for the new key"
expect_status 0 info
key_id=$(field "signing key ID")
[[ ${#key_id} -eq 64 ]] || fail "info shows no signing key ID:"$'\n'"$output"
expect_status 0 org add XTN --name "Test NHS England" --kind nhse --date 2024-04-01
expect_status 0 org add QTI --name "Test ICB" --kind ICB --date 2024-04-01
expect_status 0 limit set --funder XTN --stream core_services --year 2024/25 \
    --amount '£1,000,000.00' --date 2024-04-01
allocate $(seq 4 30)
server_stop
cp -a "$scratch/live" "$scratch/older"
start "$scratch/live"
allocate $(seq 31 39)

check "the head signed after a write comes back in SubmitCommands' reply"
expect_status 0 --json allocate --from XTN --to QTI --stream core_services --year 2024/25 \
    --amount 40.00 --date 2024-05-01 --key alloc-40
[[ $output == *'"signed_head"'* && $output == *'"tree_size":"40"'* ]] ||
    fail "the reply carries no signed head of 40 events:"$'\n'"$output"

check "head save keeps the signed head of 40 events with its key; verify --since says OK"
expect_status 0 head save "$scratch/head40"
expect_output "saved the signed head of 40 events"
grep -q "^public_key " "$scratch/head40" || fail "the saved head has no public key"
expect_status 0 verify --since "$scratch/head40"
expect_output "OK: the log has only grown since the saved head: 40 events then, 40 now"

check "prove checks event 35's inclusion against the pinned key"
expect_status 0 prove 35 --since "$scratch/head40"
expect_output "OK: event 35 is in the signed tree of 40 events"
expect_status 0 prove 35 --key "$scratch/head40"
expect_status 1 prove 41 --since "$scratch/head40"

check "a saved head doctored to claim fewer events fails its signature"
sed 's/^tree_size 40$/tree_size 39/' "$scratch/head40" >"$scratch/doctored"
expect_status 1 verify --since "$scratch/doctored"
expect_output "FAILED: the saved head's signature does not verify with the pinned key"

check "verify --since with another pinned key names the other key"
other_key=$(printf '%064d' 7)
printf '%s\n' "$other_key" >"$scratch/other.key"
expect_status 1 verify --since "$scratch/head40" --key "$scratch/other.key"
expect_output "FAILED: the saved head is signed by a different key"

check "the log grows: verify --since still says OK"
allocate 41 42
expect_status 0 verify --since "$scratch/head40"
expect_output "40 events then, 42 now"
server_stop

check "fundflow-admin verify recomputes the tree and checks the stored signed head"
admin_run verify --data-dir "$scratch/live"
[[ $admin_status -eq 0 && $admin_output == *"stored signed head of 42 events matches it and verifies"* ]] ||
    fail "fundflow-admin verify: $admin_status"$'\n'"$admin_output"
cp -a "$scratch/live" "$scratch/base"

check "truncation: the newest five events dropped and rebuilt is a shorter tree"
cp -a "$scratch/base" "$scratch/truncated"
"$tamper" truncate "$scratch/truncated" 5
admin_run rebuild --data-dir "$scratch/truncated"
[[ $admin_status -eq 0 ]] || fail "the attacker's rebuild failed:"$'\n'"$admin_output"
admin_run verify --data-dir "$scratch/truncated"
[[ $admin_status -eq 1 && $admin_output == *"37 events, fewer than the 42 of the signed head stored"* ]] ||
    fail "fundflow-admin verify did not catch the truncation: $admin_status"$'\n'"$admin_output"
start "$scratch/truncated"
expect_status 1 verify --since "$scratch/head40"
expect_output "FAILED: the log is shorter than the saved head: 37 events now, 40 when it was saved"
server_stop

check "forgery: event 35's amount changed and the chain recomputed fails the consistency proof"
cp -a "$scratch/base" "$scratch/forged"
"$tamper" forge "$scratch/forged" 35 3400
admin_run rebuild --data-dir "$scratch/forged"
[[ $admin_status -eq 0 ]] || fail "the attacker's rebuild failed:"$'\n'"$admin_output"
admin_run verify --data-dir "$scratch/forged"
[[ $admin_status -eq 1 && $admin_output == *"is not the one the stored signed head signed"* ]] ||
    fail "fundflow-admin verify did not catch the forgery: $admin_status"$'\n'"$admin_output"
start "$scratch/forged"
expect_status 0 event 35
expect_output "34.00"
expect_status 1 verify --since "$scratch/head40"
expect_output "FAILED: the saved head's root does not match the consistency proof"
server_stop

check "rollback: the copy of 30 events put back is a shorter tree"
cp -a "$scratch/older" "$scratch/rolled"
start "$scratch/rolled"
expect_status 1 verify --since "$scratch/head40"
expect_output "FAILED: the log is shorter than the saved head: 30 events now, 40 when it was saved"
server_stop

check "rollback without the old key: the server's head is signed by a different key"
cp -a "$scratch/older" "$scratch/rekeyed"
rm "$scratch/rekeyed/signing_key.pem"
start "$scratch/rekeyed"
expect_status 1 verify --since "$scratch/head40"
expect_output "FAILED: the server's current head is signed by a different key"
server_stop

check "a configured signing key others may read is refused, naming the file and its mode"
cp "$scratch/base/signing_key.pem" "$scratch/loose.pem"
chmod 644 "$scratch/loose.pem"
status=0
"$fundflowd" --data-dir "$scratch/base" --listen 127.0.0.1:0 --signing-key "$scratch/loose.pem" \
    >"$scratch/loose.out" 2>"$scratch/loose.err" || status=$?
[[ $status -ne 0 ]] || fail "fundflowd started with a world-readable key"
grep -q "loose.pem has mode 644" "$scratch/loose.err" ||
    fail "the refusal does not name the file and mode:"$'\n'"$(cat "$scratch/loose.err")"

check "a configured 0600 key signs: verify --since a head of the same key passes"
chmod 600 "$scratch/loose.pem"
start "$scratch/base" --signing-key "$scratch/loose.pem"
expect_status 0 verify --since "$scratch/head40"
server_stop

echo "OK: $checks checks"
