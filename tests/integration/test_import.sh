#!/usr/bin/env bash
# Integration test of fundflow import against a real fundflowd: every kind of file with a mapping,
# checked against the ledger afterwards; re-imports that record nothing; an all-or-nothing import
# with a bad row that records nothing and names the line; --independent recording the good rows;
# --dry-run recording nothing yet saying what would happen; and hostile files (a huge field,
# quotes and line breaks in a cell, formula-like cells, a byte order mark, CRLF, UTF-16,
# Windows-1252, an XLSX), each refused clearly or imported correctly.
#
# Usage: test_import.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW
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

source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin import

expect_head_unchanged() {
    [[ $(head_sequence) == "$1" ]] || fail "the head moved from $1"
}

# A figure of a JSON reply in $output, under either of protobuf's JSON names.
json_figure() {
    printf '%s' "$output" | python3 -c 'import json, sys
document = json.load(sys.stdin)
for name in sys.argv[1:]:
    for part in name.split("."):
        document = document.get(part, {}) if isinstance(document, dict) else {}
    if document != {}:
        print(document)
        break
else:
    print(0)' "$@"
}

# A figure of an organisation's core services position in 2024/25 (received or passed_on), in
# pence.
position_pence() {
    expect_status 0 --json position "$1" --stream core_services --year 2024/25
    json_figure "$2_pence" "$(sed 's/_o/O/' <<<"$2")Pence"
}

paid_pence() {
    expect_status 0 --json contract show "$1"
    json_figure "contract.paid_pence" "contract.paidPence"
}

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data"
export FUNDFLOW_SERVER="http://$server_address"

check "a small ledger: NHS England (limit £10,000,000.00), an ICB, a place and a trust (events 1 to 5)"
expect_status 0 org add X24 --kind nhse --name "NHS England" --date 2024-04-01
expect_status 0 org add QUE --kind icb --name "Test ICB" --date 2024-04-01
expect_status 0 org add 06H --kind place --name "Test place" --parent QUE --date 2024-04-01
expect_status 0 org add RGT --kind trust --name "Test trust" --date 2024-04-01
expect_status 0 limit set --funder X24 --stream core_services --year 2024/25 \
    --amount 10,000,000.00 --date 2024-04-01
expect_output "recorded as event 5"

check "import --help lists the kinds and each kind's fields"
expect_status 0 import --help
expect_output "payments (as pay): contract*, amount*, reference, month*, date"
expect_output "allocations (as allocate): from*, to*"
expect_output "plans (as plan set): org*"

# Allocations -----------------------------------------------------------------------------------

cat >"$scratch/allocations.map" <<'EOF'
# NHS England's allocation schedule, dates as DD/MM/YYYY.
kind = allocations
date format = DD/MM/YYYY
set from = X24
Recipient = to
Stream = stream
Year = year
Amount = amount
Date = date
reference = Schedule Ref
EOF
printf '%s\r\n' 'Recipient,Stream,Year,Amount,Date,Schedule Ref' \
    'QUE,core_services,2024/25,"1,000,000.00",01/04/2024,ALLOC-1' \
    'QUE,core_services,2024/25,"£1,234.50",02/04/2024,ALLOC-2' >"$scratch/allocations.csv"

check "allocations: two rows (CRLF line ends) recorded as events 6 and 7, the reference kept"
expect_status 0 import "$scratch/allocations.csv" --mapping "$scratch/allocations.map"
expect_output "recorded"
expect_output "2 rows: 2 recorded, 0 already recorded, 0 refused"
# £1,000,000.00 + £1,234.50 = £1,001,234.50 = 100,123,450p.
[[ $(position_pence QUE received) == 100123450 ]] || fail "QUE received:"$'\n'"$output"
expect_status 0 event 7
expect_output "ALLOC-2"
[[ $(head_sequence) == 7 ]] || fail "the head is not event 7"

check "the same file again records nothing: both rows already recorded, exit 0"
expect_status 0 import "$scratch/allocations.csv" --kind allocations \
    --mapping "$scratch/allocations.map"
expect_output "2 rows: 0 recorded, 2 already recorded, 0 refused"
expect_head_unchanged 7

check "--kind that disagrees with the mapping's kind is a usage error"
expect_status 2 import "$scratch/allocations.csv" --kind budgets --mapping "$scratch/allocations.map"
expect_errors "kind = allocations"

# Budgets ---------------------------------------------------------------------------------------

cat >"$scratch/budgets.map" <<'EOF'
From = from
To = to
set stream = core_services
set year = 2024/25
Amount = amount
amount format = pence
Date = date
reference = Ref
EOF
printf '%s\n' 'From,To,Amount,Date,Ref' 'QUE,06H,20000000,2024-04-03,BUD-1' >"$scratch/budgets.csv"

check "budgets in pence: 20000000p is £200,000.00 passed from QUE to 06H (event 8)"
expect_status 0 import "$scratch/budgets.csv" --kind budgets --mapping "$scratch/budgets.map"
expect_output "1 rows: 1 recorded"
[[ $(position_pence 06H received) == 20000000 ]] || fail "06H received:"$'\n'"$output"
[[ $(position_pence QUE passed_on) == 20000000 ]] || fail "QUE passed on:"$'\n'"$output"

# Contracts, payments, outcomes ------------------------------------------------------------------

cat >"$scratch/contracts.map" <<'EOF'
Contract = id
set commissioner = QUE
Provider = provider
Type = type
set year = 2024/25
set stream = core_services
Value = value
Pot = pot
Metric = metric
Date = date
EOF
cat >"$scratch/contracts.csv" <<'EOF'
Contract,Provider,Type,Value,Pot,Metric,Date
QUE-BLK-1,RGT,block,"120,000.00",,,2024-04-01
QUE-OBC-1,RGT,outcome-based,"60,000.00","6,000.00",ACCESS:10000:Seen in 18 weeks,2024-04-01
EOF

check "contracts: a block contract of £120,000.00 and an outcome-based one with a £6,000.00 pot"
expect_status 0 import "$scratch/contracts.csv" --kind contracts --mapping "$scratch/contracts.map"
expect_output "2 rows: 2 recorded"
expect_status 0 --json contract show QUE-BLK-1
[[ $(json_figure contract.value_pence contract.valuePence) == 12000000 ]] \
    || fail "QUE-BLK-1's value:"$'\n'"$output"
expect_status 0 --json contract show QUE-OBC-1
[[ $(json_figure contract.withheld_pot_pence contract.withheldPotPence) == 600000 ]] \
    || fail "QUE-OBC-1's pot:"$'\n'"$output"

cat >"$scratch/payments.map" <<'EOF'
kind = payments
Contract Ref = contract
Period = month
Amount Paid = amount
Paid On = date
date format = DD-MON-YYYY
reference = Invoice
EOF
cat >"$scratch/payments.csv" <<'EOF'
Contract Ref,Period,Amount Paid,Paid On,Invoice
QUE-BLK-1,M1,"10,000.00",30-APR-2024,INV-0401
QUE-BLK-1,M2,"10,000.00",31-may-2024,INV-0501
EOF

check "payments: two of £10,000.00 under QUE-BLK-1, Oracle's dates, paid £20,000.00"
expect_status 0 import "$scratch/payments.csv" --mapping "$scratch/payments.map"
expect_output "2 rows: 2 recorded"
[[ $(paid_pence QUE-BLK-1) == 2000000 ]] || fail "QUE-BLK-1 paid:"$'\n'"$output"

cat >"$scratch/outcomes.map" <<'EOF'
kind = outcomes
Contract = contract
Metric = metric
Achieved = achievement
Date = date
EOF
printf '%s\n' 'Contract,Metric,Achieved,Date' 'QUE-OBC-1,ACCESS,50%,2024-07-15' >"$scratch/outcomes.csv"

check "outcomes: ACCESS at 50% of the £6,000.00 pot earns £3,000.00"
expect_status 0 import "$scratch/outcomes.csv" --mapping "$scratch/outcomes.map"
expect_output "1 rows: 1 recorded"
expect_status 0 --json contract show QUE-OBC-1
[[ $(json_figure contract.earned_pence contract.earnedPence) == 300000 ]] \
    || fail "QUE-OBC-1 earned:"$'\n'"$output"

# Statements and plans --------------------------------------------------------------------------

cat >"$scratch/statements.map" <<'EOF'
kind = statements
Body = org
Counterparty = counterparty
Month = month
set year = 2024/25
Type = kind
Balance = amount
Date = date
EOF
printf '%s\n' 'Body,Counterparty,Month,Type,Balance,Date' \
    'QUE,RGT,M2,payable,"20,000.00",2024-06-05' >"$scratch/statements.csv"

check "statements: QUE's payable to RGT for M2 of £20,000.00"
expect_status 0 import "$scratch/statements.csv" --mapping "$scratch/statements.map"
expect_output "1 rows: 1 recorded"
sequence=$(head_sequence)
expect_status 0 event "$sequence"
expect_output "RGT"
expect_output "20,000.00"

cat >"$scratch/plans.map" <<'EOF'
kind = plans
Organisation = org
set stream = core_services
set year = 2024/25
Monthly = amount-each
Date = date
EOF
printf '%s\n' 'Organisation,Monthly,Date' 'QUE,"10,000.00",2024-04-01' >"$scratch/plans.csv"

check "plans: QUE plans £10,000.00 a month; the outturn's plan totals £120,000.00"
expect_status 0 import "$scratch/plans.csv" --mapping "$scratch/plans.map"
expect_output "1 rows: 1 recorded"
expect_status 0 outturn QUE --year 2024/25 --to M2 --format csv
# 12 x £10,000.00 = £120,000.00 in the TOTAL row's plan column.
[[ $output == *"TOTAL,120000.00"* ]] || fail "outturn plan total:"$'\n'"$output"

# All or nothing, independent, dry run -------------------------------------------------------------

cat >"$scratch/bad.csv" <<'EOF'
Contract Ref,Period,Amount Paid,Paid On,Invoice
QUE-BLK-1,M3,"1,000.00",30-JUN-2024,INV-0601
QUE-BLK-1,M3,1e3,30-JUN-2024,INV-0602
QUE-BLK-1,M3,1.234,30-JUN-2024,INV-0603
QUE-BLK-1,M3,"£1,234.50",30-JUN-2024,INV-0604
EOF
before=$(head_sequence)

check "a linked import with bad amounts records nothing and names the lines and column"
expect_status 1 import "$scratch/bad.csv" --mapping "$scratch/payments.map" --format csv
expect_output 'line 3, column ""Amount Paid"": ""1e3""'
expect_output 'line 4, column ""Amount Paid"": ""1.234""'
expect_output "not recorded"
expect_errors "4 rows: 0 recorded, 0 already recorded, 2 refused"
expect_head_unchanged "$before"

check "--independent records the good rows (lines 2 and 5) and reports the bad ones"
expect_status 1 import "$scratch/bad.csv" --mapping "$scratch/payments.map" --independent
expect_output "4 rows: 2 recorded, 0 already recorded, 2 refused"
# £20,000.00 + £1,000.00 + £1,234.50 = £22,234.50.
[[ $(paid_pence QUE-BLK-1) == 2223450 ]] || fail "QUE-BLK-1 paid:"$'\n'"$output"

cat >"$scratch/over.csv" <<'EOF'
Contract Ref,Period,Amount Paid,Paid On,Invoice
QUE-BLK-1,M4,"1,000.00",31-JUL-2024,INV-0701
QUE-BLK-1,M4,"100,000.00",31-JUL-2024,INV-0702
EOF
before=$(head_sequence)

check "the server refuses line 3 (paid would pass the value); the linked import records nothing"
# £22,234.50 + £1,000.00 + £100,000.00 = £123,234.50 > £120,000.00.
expect_status 1 import "$scratch/over.csv" --mapping "$scratch/payments.map"
expect_output "line 3: "
expect_output "the row at line 3 was refused"
expect_head_unchanged "$before"

check "--dry-run reports what would happen and records nothing"
expect_status 1 import "$scratch/over.csv" --mapping "$scratch/payments.map" --dry-run \
    --independent
expect_output "would record"
expect_output "refused"
expect_head_unchanged "$before"
printf '%s\n' 'Contract Ref,Period,Amount Paid,Paid On,Invoice' \
    'QUE-BLK-1,M4,"1,000.00",31-JUL-2024,INV-0701' >"$scratch/good.csv"
expect_status 0 import "$scratch/good.csv" --mapping "$scratch/payments.map" --dry-run --format csv
# The row would be the next event, one past the head.
expect_output "2,INV-0701,would record,$((before + 1)),,"
expect_errors "1 rows: 1 would be recorded (dry run: nothing was)"
expect_head_unchanged "$before"

# Hostile files -------------------------------------------------------------------------------------

check "a formula-like amount is refused naming line and column"
printf '%s\n' 'Contract Ref,Period,Amount Paid,Paid On,Invoice' \
    "QUE-BLK-1,M4,=cmd|' /C calc'!A0,31-JUL-2024,INV-X" >"$scratch/formula.csv"
expect_status 1 import "$scratch/formula.csv" --mapping "$scratch/payments.map"
expect_output "line 2, column \"Amount Paid\""
expect_head_unchanged "$before"

check "a formula-like reference is recorded as text and exported with a ' before it in CSV"
printf '%s\n' 'Contract Ref,Period,Amount Paid,Paid On,Invoice' \
    "QUE-BLK-1,M4,1.00,31-JUL-2024,=cmd|' /C calc'!A0" >"$scratch/formula_ref.csv"
expect_status 0 import "$scratch/formula_ref.csv" --mapping "$scratch/payments.map" --format csv
expect_output "'=cmd|' /C calc'!A0"
sequence=$(head_sequence)
expect_status 0 event "$sequence"
expect_output "=cmd|' /C calc'!A0"

check "a BOM, quotes and a line break in a reference: the line break is refused, naming the line"
printf '\xef\xbb\xbf%s\n' 'Contract Ref,Period,Amount Paid,Paid On,Invoice' >"$scratch/quoted.csv"
printf '%s\n' 'QUE-BLK-1,M4,2.00,31-JUL-2024,"INV ""A"" 7"' \
    'QUE-BLK-1,M4,3.00,31-JUL-2024,"INV' 'B"' >>"$scratch/quoted.csv"
expect_status 1 import "$scratch/quoted.csv" --mapping "$scratch/payments.map" --independent
expect_output 'recorded'
expect_output 'line 3'
expect_status 0 event "$(head_sequence)"
expect_output 'INV "A" 7'

check "a huge field is refused clearly"
python3 -c 'import sys
print("Contract Ref,Period,Amount Paid,Paid On,Invoice")
print("QUE-BLK-1,M4,4.00,31-JUL-2024," + "X" * 200000)' >"$scratch/huge.csv"
before=$(head_sequence)
run import "$scratch/huge.csv" --mapping "$scratch/payments.map"
[[ $status -eq 1 || $status -eq 2 ]] || fail "a huge field exited $status"
[[ "$output$errors" == *"line 2"* ]] || fail "the huge field's line is not named:"$'\n'"$output$errors"
expect_head_unchanged "$before"

check "UTF-16 and Windows-1252 files and an XLSX are refused with a clear reason, exit 2"
printf '\xff\xfeC\x00o\x00' >"$scratch/utf16.csv"
expect_status 2 import "$scratch/utf16.csv" --mapping "$scratch/payments.map"
expect_errors "UTF-16"
printf '%s\n' 'Contract Ref,Period,Amount Paid,Paid On,Invoice' >"$scratch/cp1252.csv"
printf 'QUE-BLK-1,M4,\xa35.00,31-JUL-2024,INV-9\n' >>"$scratch/cp1252.csv"
expect_status 2 import "$scratch/cp1252.csv" --mapping "$scratch/payments.map"
expect_errors "UTF-8"
expect_errors "line 2"
printf 'PK\x03\x04\x14\x00\x00\x00\x08\x00' >"$scratch/sheet.xlsx"
expect_status 2 import "$scratch/sheet.xlsx" --mapping "$scratch/payments.map"
expect_errors "CSV UTF-8"
expect_head_unchanged "$before"

check "a mapping with a field the kind lacks names its line and lists the kind's fields"
printf '%s\n' 'Contract Ref = contract' 'Period = month' 'Amount Paid = amount' \
    'Paid On = colour' >"$scratch/wrong.map"
expect_status 2 import "$scratch/good.csv" --kind payments --mapping "$scratch/wrong.map"
expect_errors "wrong.map line 4: \"colour\" is not a field of payments; its fields are: contract"

check "a mapping missing a field every row needs is a usage error naming it"
printf '%s\n' 'Contract Ref = contract' 'Amount Paid = amount' >"$scratch/short.map"
expect_status 2 import "$scratch/good.csv" --kind payments --mapping "$scratch/short.map"
expect_errors "month"

# Five thousand rows -------------------------------------------------------------------------------

check "5,000 payments of £1.00 in one linked batch, and again (all already recorded)"
python3 -c 'print("Contract Ref,Period,Amount Paid,Paid On,Invoice")
for i in range(5000): print("QUE-BLK-1,M5,1.00,31-AUG-2024,BULK-%d" % i)' >"$scratch/bulk.csv"
paid_before=$(paid_pence QUE-BLK-1)
started=$(date +%s%N)
expect_status 0 import "$scratch/bulk.csv" --mapping "$scratch/payments.map" --format csv \
    --output "$scratch/bulk-result.csv"
finished=$(date +%s%N)
echo "  5,000 rows imported in $(( (finished - started) / 1000000 )) ms"
expect_errors "5000 rows: 5000 recorded"
# 5,000 x £1.00 = £5,000.00 = 500,000p more.
[[ $(paid_pence QUE-BLK-1) == $((paid_before + 500000)) ]] || fail "bulk paid:"$'\n'"$output"
expect_status 0 import "$scratch/bulk.csv" --mapping "$scratch/payments.map" --format json \
    --output "$scratch/bulk-again.json"
expect_errors "5000 rows: 0 recorded, 5000 already recorded"

server_stop
echo "all $checks checks passed"
