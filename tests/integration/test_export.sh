#!/usr/bin/env bash
# Integration test of the fundflow client's exports against a live fundflowd on a small ledger:
# each listing (positions, position, flows, contract list, contract show, events, history and
# delegation who) is written as a table, CSV, JSON and an XLSX workbook, and export_compare.py
# checks that the four carry the same rows and totals, that the CSV and the workbook carry their
# provenance, and that every XML part of the workbook is well formed. Then --sort, the figures
# worked by hand, and the usage errors.
#
# Usage: test_export.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW
# Each check prints what it checks; the first that fails stops the script with a message and a
# non-zero exit code. The server runs on a free loopback port in a scratch directory and is
# stopped, by its PID, however the script ends. Needs python3.
set -euo pipefail

if [[ $# -ne 2 || ! -x "$1" || ! -x "$2" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW" >&2
    exit 2
fi
fundflowd=$1
cli=$2
compare="$(dirname "${BASH_SOURCE[0]}")/export_compare.py"
command -v python3 >/dev/null || { echo "$0: python3 is needed; run tools/setup.sh" >&2; exit 2; }

# fail, check, run, expect_status, expect_output, expect_errors, server_launch and server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin export

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data"
export FUNDFLOW_SERVER="http://$server_address"
echo "fundflowd is listening on $server_address (pid $server_pid)"

# The ledger, worked by hand:
#   NHS England's 2024/25 core services limit is £10,000,000.00, all of it allocated to QUE.
#   QUE receives £10,000,000.00 of core services from X24 and budgets £1,000,000.00 to 06H.
#   Outcome-based OBC-1 with RGT: value £1,200,000.00, withheld pot £120,000.00, paid M1
#   £90,000.00. Outcome-based OBC-2 with RWH: value £800,000.00, pot £200,000.00, paid M1
#   £50,000.00. Block BLK-1 with RWH: value £300,000.00, paid M1 £25,000.00.
#   contract list --type outcome_based --sort withheld: OBC-2 (£200,000.00) before OBC-1
#   (£120,000.00); totals value £2,000,000.00, paid £140,000.00, withheld £320,000.00.
#   Every contract: value £2,300,000.00 and paid £165,000.00.
check "a small ledger: NHS England, a region, an ICB and its place, two trusts, three contracts"
expect_status 0 org add X24 --kind nhse --name "NHS England" --date 2024-04-01
expect_status 0 org add Y61 --kind region --name "East of England" --parent X24 --date 2024-04-01
expect_status 0 org add QUE --kind icb --name "NHS Cambridgeshire and Peterborough ICB" \
    --parent Y61 --date 2024-04-01
expect_status 0 org add 06H --kind place --name "Cambridgeshire, \"Peterborough\"" --parent QUE \
    --date 2024-04-01
expect_status 0 org add RGT --kind trust --name "Cambridge University Hospitals" --date 2024-04-01
expect_status 0 org add RWH --kind trust --name "Royal Papworth Hospital" --date 2024-04-01
expect_status 0 service-line add SL101 --name "Adult critical care" --category acute-care \
    --date 2024-04-01
expect_status 0 delegation grant DEL-QUE-24 --to QUE --lines SL101 --population QUE \
    --mode full --from 2024-07-01 --date 2024-06-01
expect_status 0 limit set --funder X24 --stream core_services --year 2024/25 \
    --amount 10,000,000.00 --date 2024-04-01
expect_status 0 allocate --from X24 --to QUE --stream core_services --year 2024/25 \
    --amount 10,000,000.00 --date 2024-04-01
expect_status 0 budget --from QUE --to 06H --stream core_services --year 2024/25 \
    --amount 1,000,000.00 --date 2024-04-01
expect_status 0 contract agree OBC-1 --commissioner QUE --provider RGT --type outcome-based \
    --year 2024/25 --stream core_services --value 1,200,000.00 --category mental_health \
    --pot 120,000.00 --metric ACCESS:10000 --date 2024-04-01
expect_status 0 contract agree OBC-2 --commissioner QUE --provider RWH --type outcome-based \
    --year 2024/25 --stream core_services --value 800,000.00 --category mental_health \
    --pot 200,000.00 --metric ACCESS:10000 --date 2024-04-01
expect_status 0 contract agree BLK-1 --commissioner QUE --provider RWH --type block \
    --year 2024/25 --stream core_services --value 300,000.00 --category mental_health \
    --date 2024-04-01
expect_status 0 pay OBC-1 --month 1 --amount 90,000.00 --date 2024-04-30
expect_status 0 pay OBC-2 --month 1 --amount 50,000.00 --date 2024-04-30
expect_status 0 pay BLK-1 --month 1 --amount 25,000.00 --date 2024-04-30
expect_status 0 info
head_hash=$(sed -n 's/^head hash:[[:space:]]*//p' <<<"$output")
[[ $head_hash =~ ^[0-9a-f]{64}$ ]] || fail "info gives no head hash:"$'\n'"$output"

# Exports one listing four ways into $scratch/NAME.{txt,csv,json,xlsx} and compares them; leaves
# the tables read in $tables (JSON).
export_four_ways() {
    local name=$1
    shift
    expect_status 0 "$@"
    cp "$scratch/stdout" "$scratch/$name.txt"
    expect_status 0 "$@" --format csv --provenance --output "$scratch/$name.csv"
    [[ -z $output ]] || fail "--output still wrote to stdout:"$'\n'"$output"
    expect_status 0 "$@" --format json
    cp "$scratch/stdout" "$scratch/$name.json"
    expect_status 0 "$@" --format xlsx --output "$scratch/$name.xlsx"
    tables=$(python3 "$compare" "$scratch/$name.txt" "$scratch/$name.csv" "$scratch/$name.json" \
        "$scratch/$name.xlsx" "$head_hash") || fail "$name: the four formats differ (above)"
}

# Prints a cell of the tables export_four_ways read: TABLE ROW COLUMN, or TABLE totals COLUMN.
cell() {
    python3 -c 'import json, sys
tables = json.loads(sys.argv[1]); t = tables[int(sys.argv[2])]
if sys.argv[3] == "totals": print(t["totals"][sys.argv[4]])
else: print(t["rows"][int(sys.argv[3])][t["names"].index(sys.argv[4])])' "$tables" "$@"
}

check "contract list: table, CSV, JSON and XLSX agree; totals £2,300,000.00 value, £165,000.00 paid"
export_four_ways contracts contract list
[[ $(cell 0 totals value) == 230000000 && $(cell 0 totals paid) == 16500000 ]] \
    || fail "contract list totals: $tables"

check "contract list --type outcome_based --sort withheld: OBC-2 withholds the most"
export_four_ways outcome contract list --type outcome_based --sort withheld
[[ $(cell 0 0 contract) == OBC-2 && $(cell 0 1 contract) == OBC-1 ]] \
    || fail "--sort withheld order: $tables"
[[ $(cell 0 totals withheld) == 32000000 && $(cell 0 totals value) == 200000000 ]] \
    || fail "outcome totals: $tables"
[[ $(cell 0 totals paid) == 14000000 ]] || fail "outcome paid total: $tables"
grep -Eq '^OBC-2 .*£200,000\.00' "$scratch/outcome.txt" || fail "the table is not sorted"

check "positions of every ICB, position QUE and flows agree in every format"
export_four_ways positions positions --kind icb --stream core_services --year 2024/25
[[ $(cell 0 0 code) == QUE && $(cell 0 totals received) == 1000000000 ]] \
    || fail "positions: $tables"
export_four_ways position position QUE --stream core_services --year 2024/25
[[ $(cell 0 0 received) == 1000000000 && $(cell 0 0 "passed on") == 100000000 ]] \
    || fail "position: $tables"
grep -q '^received: *£10,000,000.00$' "$scratch/position.txt" || fail "position's table"
# Flows from NHS England: X24 -> QUE £10,000,000.00 and QUE -> 06H £1,000,000.00, then payments
# to RGT £90,000.00 and RWH £50,000.00 + £25,000.00: £11,165,000.00 in all.
export_four_ways flows flows --year 2024/25
[[ $(cell 0 totals amount) == 1116500000 ]] || fail "flows total: $tables"

check "contract show exports its terms, metrics and months; events, history and delegation who"
export_four_ways contract contract show OBC-1
[[ $(cell 0 0 "withheld pot") == 12000000 && $(cell 2 totals paid) == 9000000 ]] \
    || fail "contract show: $tables"
[[ $(cell 2 0 month) == M1 && $(cell 2 0 paid) == 9000000 ]] || fail "contract show months: $tables"
export_four_ways events events
[[ $(cell 0 0 event) == 1 && $(cell 0 0 date) == 2024-04-01 ]] || fail "events: $tables"
# QUE's budget account: a debit of £10,000,000.00 received; credits of £1,000,000.00 (the
# budget to 06H) and the three contracts £1,200,000.00 + £800,000.00 + £300,000.00: £3,300,000.00.
export_four_ways history history QUE --stream core_services --year 2024/25
[[ $(cell 0 totals debit) == 1000000000 && $(cell 0 totals credit) == 330000000 ]] \
    || fail "history: $tables"
export_four_ways delegations delegation who --line SL101 --icb QUE --on 2024-08-01
[[ $(cell 0 0 delegation) == DEL-QUE-24 && $(cell 0 0 from) == 2024-07-01 ]] \
    || fail "delegation who: $tables"

check "names with commas and quotes survive CSV quoting; the workbook names its sheets in full"
expect_status 0 positions --kind place --stream core_services --year 2024/25 --format csv
python3 -c 'import csv, io, sys
rows = list(csv.reader(io.StringIO(sys.stdin.read().lstrip("\ufeff"))))
assert rows[1][1] == "Cambridgeshire, \"Peterborough\"", rows' <<<"$output" \
    || fail "the place's name in CSV:"$'\n'"$output"
python3 -c 'import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).read("xl/workbook.xml").decode()
assert "name=\"Payments by month\"" in names and "name=\"About\"" in names, names' \
    "$scratch/contract.xlsx" || fail "contract show's sheet names"

check "usage errors: --sort of no column, --json with --format, xlsx without --output"
expect_status 2 contract list --sort nope
expect_errors "no column \"nope\""
expect_status 2 contract list --json --format csv
expect_status 2 contract list --json --sort value
expect_status 2 events --format xlsx
expect_errors "--format xlsx needs --output FILE"
expect_status 2 org list --format csv
[[ $(ls "$scratch" | grep -c 'tmp-') -eq 0 ]] || fail "a temporary file was left: $(ls "$scratch")"

echo "all $checks checks passed"
