#!/usr/bin/env bash
# Integration test of the idempotency key the fundflow CLI derives from a write's content: the
# same command run twice with the same --date records one event, and the second run says
# "already recorded as event N" and exits 0; a distinct --reference, a distinct --date or a
# --key of the caller's own records a second event, and a --key reused for a different command
# is refused.
#
# Usage: test_cli_idempotent.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW
# Each check prints what it checks; the first that fails stops the script. The server runs on a
# free loopback port in a scratch directory and is stopped, by its PID, however the script ends.
# Needs python3.
set -euo pipefail
command -v python3 >/dev/null || { echo "$0: python3 is needed; run tools/setup.sh" >&2; exit 2; }

if [[ $# -ne 2 || ! -x "$1" || ! -x "$2" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW" >&2
    exit 2
fi
fundflowd=$1
cli=$2

# fail, check, run, expect_status, expect_output, expect_errors, server_launch, server_stop and
# server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin idempotent

# A "label: value" line of $output.
# The contract's paid total in pence, as GetContractPosition answers it. Needs python3.
paid_pence() {
    expect_status 0 --json contract show QUE-BLK-1
    printf '%s' "$output" | python3 -c 'import json, sys
contract = json.load(sys.stdin)["contract"]
print(contract.get("paid_pence", contract.get("paidPence", 0)))'
}

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data"
export FUNDFLOW_SERVER="http://$server_address"

check "a small ledger: NHS England, an ICB, a trust, a revenue limit, an allocation and a block contract"
expect_status 0 org add X24 --kind nhse --name "NHS England" --date 2024-04-01
expect_status 0 org add QUE --kind icb --name "Test ICB" --date 2024-04-01
expect_status 0 org add RGT --kind trust --name "Test trust" --date 2024-04-01
# NHS England allocates only within the revenue limit set for the stream and year (event 4).
expect_status 0 limit set --funder X24 --stream core_services --year 2024/25 --amount 1,000,000.00 \
    --date 2024-04-01
expect_output "recorded as event 4"
expect_status 0 allocate --from X24 --to QUE --stream core_services --year 2024/25 \
    --amount 1,000,000.00 --date 2024-04-01
expect_status 0 contract agree QUE-BLK-1 --commissioner QUE --provider RGT --type block \
    --year 2024/25 --stream core_services --value 120,000.00 --category mental_health \
    --date 2024-04-01
expect_output "recorded as event 6"

check "the first payment of £10,000.00 for M1 is recorded as event 7 under a derived key"
expect_status 0 pay QUE-BLK-1 --month M1 --amount 10,000.00 --date 2024-04-30
expect_output "recorded as event 7"
key=$(field "idempotency key")
[[ $key =~ ^cli-[0-9a-f]{32}$ ]] || fail "the key is not cli- and 32 hex digits: $key"

check "the same pay run again records nothing and says it is already event 7, exiting 0"
expect_status 0 pay QUE-BLK-1 --month M1 --amount 10,000.00 --date 2024-04-30
expect_output "already recorded as event 7"
[[ $(field "idempotency key") == "$key" ]] || fail "the second run derived another key:"$'\n'"$output"
[[ $(head_sequence) == 7 ]] || fail "the head moved past event 7"
# One payment of £10,000.00, not two.
[[ $(paid_pence) == 1000000 ]] || fail "paid is not £10,000.00"

check "flags in another order, and the amount written another way, are the same command"
expect_status 0 pay --date 2024-04-30 --amount 10000 QUE-BLK-1 --month 1
expect_output "already recorded as event 7"

check "a distinct --reference records a second identical payment, event 8, once"
expect_status 0 pay QUE-BLK-1 --month M1 --amount 10,000.00 --date 2024-04-30 --reference INV-2
expect_output "recorded as event 8"
[[ $(field "idempotency key") != "$key" ]] || fail "the reference did not change the key"
expect_status 0 pay QUE-BLK-1 --month M1 --amount 10,000.00 --date 2024-04-30 --reference INV-2
expect_output "already recorded as event 8"
# £10,000.00 + £10,000.00 = £20,000.00.
[[ $(paid_pence) == 2000000 ]] || fail "paid is not £20,000.00"

check "another --date is another command: event 9"
expect_status 0 pay QUE-BLK-1 --month M1 --amount 10,000.00 --date 2024-05-01
expect_output "recorded as event 9"

check "--key sets the key as before: event 10 once, then a replay; a new key records event 11"
expect_status 0 pay QUE-BLK-1 --month M1 --amount 10,000.00 --date 2024-04-30 --key pay-m1-extra
expect_output "recorded as event 10"
[[ $(field "idempotency key") == pay-m1-extra ]] || fail "--key was not used:"$'\n'"$output"
expect_status 0 pay QUE-BLK-1 --month M1 --amount 10,000.00 --date 2024-04-30 --key pay-m1-extra
expect_output "already recorded as event 10"
expect_status 0 pay QUE-BLK-1 --month M1 --amount 10,000.00 --date 2024-04-30 --key pay-m1-more
expect_output "recorded as event 11"
# Events 7, 8, 9, 10 and 11: 5 × £10,000.00 = £50,000.00.
[[ $(paid_pence) == 5000000 ]] || fail "paid is not £50,000.00"

check "a --key used for a different command is refused with idempotency_conflict, exit 1"
expect_status 1 pay QUE-BLK-1 --month M1 --amount 20,000.00 --date 2024-04-30 --key pay-m1-extra
expect_errors "idempotency_conflict"
[[ $(head_sequence) == 11 ]] || fail "the head moved past event 11"

check "an org add run twice is one registration, not a refusal"
expect_status 0 org add RWH --kind trust --name "Second trust" --date 2024-04-01
expect_output "recorded as event 12"
expect_status 0 org add RWH --kind trust --name "Second trust" --date 2024-04-01
expect_output "already recorded as event 12"

check "every write's --help says how a re-run is a no-op and how to record the same again"
for write in "org add" "limit set" allocate budget pay "contract agree" outcome reverse; do
    # shellcheck disable=SC2086
    expect_status 0 $write --help
    expect_output "re-running the same command on the same"
    expect_output "distinct"
done

server_stop
echo "all $checks checks passed"
