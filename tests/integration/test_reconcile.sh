#!/usr/bin/env bash
# Integration test of fundflow reconcile against a live fundflowd holding the demo, with the
# sample files of tools/samples: a community trust's receipts reconciled against payments show
# exactly the one missing payment; NHS England's allocation schedule shows exactly its two
# differences; both export as a table, CSV, JSON and an XLSX workbook that carry the same figures
# (export_compare.py); --fail-on difference exits 5, a tolerance that covers the differences
# exits 0, --as-at an earlier event changes the result as the ledger then stood, and a bad
# amount, an .xlsx file, a mapping for another kind and a missing year are refused.
#
# Usage: test_reconcile.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN SAMPLES_DIR
# Each check prints what it checks; the first that fails stops the script with a message and a
# non-zero exit code. The server runs on a free loopback port in a scratch directory and is
# stopped, by its PID, however the script ends. Needs python3.
set -euo pipefail

if [[ $# -ne 4 || ! -x "$1" || ! -x "$2" || ! -x "$3" || ! -d "$4" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN SAMPLES_DIR" >&2
    exit 2
fi
fundflowd=$1
cli=$2
admin=$3
samples=$4
compare="$(dirname "${BASH_SOURCE[0]}")/export_compare.py"
command -v python3 >/dev/null || { echo "$0: python3 is needed; run tools/setup.sh" >&2; exit 2; }

# fail, check, run, expect_status, expect_output, expect_errors, server_launch and server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin reconcile

receipts=("$samples/rocc_receipts_m1-m6.csv" --against payments --mapping "$samples/rocc_receipts.map")
schedule=("$samples/nhse_allocations_2024-25.csv" --against allocations
          --mapping "$samples/nhse_allocations.map")

# Exports one reconciliation four ways into $scratch/NAME.{txt,csv,json,xlsx}, has
# export_compare.py check that they carry the same tables, rows and totals (and the CSV and the
# workbook their provenance), and leaves the tables read in $tables (JSON).
export_four_ways() {
    local name=$1
    shift
    expect_status 0 reconcile "$@"
    cp "$scratch/stdout" "$scratch/$name.txt"
    expect_status 0 reconcile "$@" --format csv --provenance --output "$scratch/$name.csv"
    [[ -z $output ]] || fail "--output still wrote to stdout:"$'\n'"$output"
    expect_status 0 reconcile "$@" --format json
    cp "$scratch/stdout" "$scratch/$name.json"
    expect_status 0 reconcile "$@" --format xlsx --output "$scratch/$name.xlsx"
    tables=$(python3 "$compare" "$scratch/$name.txt" "$scratch/$name.csv" "$scratch/$name.json" \
        "$scratch/$name.xlsx" "$head_hash") || fail "$name: the four formats differ (above)"
}

# Prints what a reconciliation's JSON holds, one line per fact, for exact comparison: each
# section's line count and totals in pence, then every line not matched with its keys and amounts.
# Reads the JSON export ($1) as cli_reconcile.c writes it: tables Comparison, Summary, then the
# four sections.
sections_of() {
    python3 - "$1" <<'PY'
import json, sys
tables = {t["title"]: t for t in json.load(open(sys.argv[1]))["tables"]}
def pence(text):
    whole, _, part = text.lstrip("-").partition(".")
    value = int(whole) * 100 + int(part)
    return -value if text.startswith("-") else value
for row in tables["Summary"]["rows"]:
    print("%s: %d lines, file %d, ledger %d, difference %d" % (
        row["section"], row["lines"], pence(row["file"]), pence(row["ledger"]),
        pence(row["difference"])))
for title in ("Matched with a difference", "In the file only", "In the ledger only"):
    table = tables[title]
    keys = [c["name"] for c in table["columns"] if c["type"] == "text"][:-2]
    for row in table["rows"]:
        print("%s: %s file %d ledger %d difference %d" % (
            title, " ".join(row[k] for k in keys), pence(row["file"]), pence(row["ledger"]),
            pence(row["difference"])))
PY
}

# The demo ----------------------------------------------------------------------------------------

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data"
export FUNDFLOW_SERVER="http://$server_address"
echo "fundflowd is listening on $server_address (pid $server_pid)"

check "the demo loads through fundflow-admin demo --ndjson and fundflow submit"
"$admin" demo --ndjson "$scratch/demo.ndjson" 2>"$scratch/admin.err" \
    || fail "demo --ndjson failed:"$'\n'"$(cat "$scratch/admin.err")"
sanitizer_check "fundflow-admin demo --ndjson" "$(cat "$scratch/admin.err")"
expect_status 0 submit "$scratch/demo.ndjson"
expect_status 0 info
head_hash=$(sed -n 's/^head hash:[[:space:]]*//p' <<<"$output")
head_sequence=$(sed -n 's/^head sequence:[[:space:]]*//p' <<<"$output")
[[ $head_hash =~ ^[0-9a-f]{64}$ && $head_sequence -gt 100 ]] || fail "info:"$'\n'"$output"

# The receipts -------------------------------------------------------------------------------------

# ROCC's receipts from QOC, M1 to M6 of 2024/25, under QOC-2024-RC (£3,389,488.65 a month) and
# QOC-2024-OUT (£2,158,370.07 a month, £2,158,370.06 in M6), less RC's M4, which the sample leaves
# out. The mapping narrows the ledger to QOC's contracts with ROCC and to months M1-M6 (its date
# window), so the ledger holds 12 payments and the file 11 of them:
#   matched      11 lines: RC 5 x 3,389,488.65 = 16,947,443.25; OUT 5 x 2,158,370.07 +
#                2,158,370.06 = 12,950,220.41; together 29,897,663.66 on both sides
#   ledger only  QOC-2024-RC M4, ledger 3,389,488.65, file 0, difference -3,389,488.65
check "receipts against payments: 11 matched, and exactly one line in the ledger only: QOC-2024-RC M4 £3,389,488.65"
export_four_ways receipts "${receipts[@]}"
found=$(sections_of "$scratch/receipts.json")
expected="Matched: 11 lines, file 2989766366, ledger 2989766366, difference 0
Matched with a difference: 0 lines, file 0, ledger 0, difference 0
In the file only: 0 lines, file 0, ledger 0, difference 0
In the ledger only: 1 lines, file 0, ledger 338948865, difference -338948865
In the ledger only: QOC-2024-RC M4 file 0 ledger 338948865 difference -338948865"
[[ $found == "$expected" ]] || fail "receipts:"$'\n'"$found"$'\n'"expected:"$'\n'"$expected"

check "the receipts' table shows the four sections, the missing payment in pounds, and the as-at sequence and hash"
text=$(cat "$scratch/receipts.txt")
for wanted in "Matched with a difference" "In the file only" "In the ledger only" \
    "as at sequence" "$head_hash" "contract, month" "2024-04-01 to 2024-09-30" \
    "commissioner QOC, provider ROCC"; do
    [[ $text == *"$wanted"* ]] || fail "the table lacks \"$wanted\":"$'\n'"$text"
done
grep -Eq "^QOC-2024-RC +M4 +£0\.00 +£3,389,488\.65 +-£3,389,488\.65" <<<"$text" \
    || fail "the table does not show QOC-2024-RC M4 in the ledger only:"$'\n'"$text"
grep -Eq "^In the ledger only +1 +£0\.00 +£3,389,488\.65 +-£3,389,488\.65" <<<"$text" \
    || fail "the summary does not total the ledger only:"$'\n'"$text"
# The receipt numbers come back against each matched line: RC M1 is the sample's line 2.
grep -Eq "^QOC-2024-RC +M1 +£3,389,488\.65 +£3,389,488\.65 +£0\.00 +2 +RCP040212" <<<"$text" \
    || fail "the matched line does not carry its file line and receipt number:"$'\n'"$text"

check "the receipts' workbook is a zip with a worksheet per section, a Summary, the Comparison and About"
python3 - "$scratch/receipts.xlsx" <<'PY' || fail "the receipts workbook is not as expected"
import re, sys, zipfile
book = zipfile.ZipFile(sys.argv[1])
assert book.testzip() is None
names = re.findall(r'<sheet name="([^"]+)"', book.read("xl/workbook.xml").decode())
assert names == ["Comparison", "Summary", "Matched", "Matched with a difference",
                 "In the file only", "In the ledger only", "About"], names
PY

check "--fail-on difference exits 5 on the missing payment, once the result is written"
expect_status 5 reconcile "${receipts[@]}" --fail-on difference
expect_output "QOC-2024-RC"

# The allocation schedule ---------------------------------------------------------------------------

# The schedule's 150 rows agree with the demo's 150 allocations for 2024/25 but two:
#   QOC running cost allowance  file 45,061,765.44  ledger 45,063,000.00  difference -1,234.56
#   QWE core services           file 3,455,107,185.63  ledger 3,454,857,185.63  difference 250,000.00
# so the differences total file 3,500,168,951.07, ledger 3,499,920,185.63, difference 248,765.44.
check "the allocation schedule: exactly two differences, QOC running costs -£1,234.56 and QWE core £250,000.00"
export_four_ways schedule "${schedule[@]}"
found=$(sections_of "$scratch/schedule.json")
matched=$(sed -n 's/^Matched: \([0-9]*\) lines, file \([0-9]*\), ledger \([0-9]*\), .*/\1 \2 \3/p' <<<"$found")
read -r matched_lines matched_file matched_ledger <<<"$matched"
[[ $matched_lines == 148 && $matched_file == "$matched_ledger" ]] || fail "schedule:"$'\n'"$found"
expected="Matched with a difference: 2 lines, file 350016895107, ledger 349992018563, difference 24876544
In the file only: 0 lines, file 0, ledger 0, difference 0
In the ledger only: 0 lines, file 0, ledger 0, difference 0
Matched with a difference: QOC running_cost_allowance file 4506176544 ledger 4506300000 difference -123456
Matched with a difference: QWE core_services file 345510718563 ledger 345485718563 difference 25000000"
[[ $(sed 1d <<<"$found") == "$expected" ]] \
    || fail "schedule:"$'\n'"$found"$'\n'"expected (after Matched):"$'\n'"$expected"
grep -Eq "^QWE +core_services +£3,455,107,185\.63 +£3,454,857,185\.63 +£250,000\.00" \
    "$scratch/schedule.txt" || fail "the table does not show QWE's difference:"$'\n'"$(cat "$scratch/schedule.txt")"

check "--fail-on difference exits 5 on the schedule; a --tolerance of £250,000.00 matches all 150 and exits 0"
expect_status 5 reconcile "${schedule[@]}" --fail-on difference
expect_status 0 reconcile "${schedule[@]}" --fail-on difference --tolerance 250,000.00 --format json
cp "$scratch/stdout" "$scratch/tolerant.json"
grep -q '^Matched: 150 lines' <<<"$(sections_of "$scratch/tolerant.json")" \
    || fail "with the tolerance:"$'\n'"$(sections_of "$scratch/tolerant.json")"
# A penny less leaves QWE's £250,000.00 a difference, and QOC's £1,234.56 matched.
expect_status 5 reconcile "${schedule[@]}" --fail-on difference --tolerance 249999.99 --format json
cp "$scratch/stdout" "$scratch/tolerant.json"
grep -q '^Matched with a difference: 1 lines, file 345510718563, ledger 345485718563, difference 25000000$' \
    <<<"$(sections_of "$scratch/tolerant.json")" \
    || fail "a tolerance of £249,999.99:"$'\n'"$(sections_of "$scratch/tolerant.json")"

# As at an earlier event --------------------------------------------------------------------------

# As the ledger stood just before QOC-2024-RC's M6 payment was recorded (the demo records each
# month's payments contract by contract), the ledger held 10 of the file's 11 payments: RC's M6
# £3,389,488.65 is then in the file only, and RC's M4 still in the ledger only.
check "--as-at the event before QOC-2024-RC's M6 payment: RC M6 moves to the file only"
expect_status 0 events --contract QOC-2024-RC --json
m6=$(python3 -c 'import json, sys
events = json.loads(sys.argv[1])["events"]
print([e["sequence"] for e in events if e["idempotency_key"] == "demo-payment-QOC-2024-RC-M06"][0])' "$output")
expect_status 0 reconcile "${receipts[@]}" --as-at $((m6 - 1)) --format json
cp "$scratch/stdout" "$scratch/earlier.json"
found=$(sections_of "$scratch/earlier.json")
expected="Matched: 10 lines, file 2650817501, ledger 2650817501, difference 0
Matched with a difference: 0 lines, file 0, ledger 0, difference 0
In the file only: 1 lines, file 338948865, ledger 0, difference 338948865
In the ledger only: 1 lines, file 0, ledger 338948865, difference -338948865
In the file only: QOC-2024-RC M6 file 338948865 ledger 0 difference 338948865
In the ledger only: QOC-2024-RC M4 file 0 ledger 338948865 difference -338948865"
[[ $found == "$expected" ]] || fail "as at $((m6 - 1)):"$'\n'"$found"$'\n'"expected:"$'\n'"$expected"
python3 -c 'import json, sys
rows = {r["item"]: r["value"] for r in json.load(open(sys.argv[1]))["tables"][0]["rows"]}
assert rows["as at sequence"] == sys.argv[2], rows' "$scratch/earlier.json" "$((m6 - 1))" \
    || fail "the comparison does not name as-at sequence $((m6 - 1))"
expect_status 1 reconcile "${receipts[@]}" --as-at $((head_sequence + 1))

# Every section at once: the receipts with RC's M2 receipt keyed as £3,389,400.00 (line 4), as at
# the same event. By hand:
#   matched      9 lines: the 10 above less RC M2: 26,508,175.01 - 3,389,488.65 = 23,118,686.36
#   difference   QOC-2024-RC M2: file 3,389,400.00, ledger 3,389,488.65, difference -88.65
#   file only    QOC-2024-RC M6 3,389,488.65;  ledger only  QOC-2024-RC M4 3,389,488.65
#   all together the file holds 23,118,686.36 + 3,389,400.00 + 3,389,488.65 = 29,897,575.01
#   and the ledger 23,118,686.36 + 3,389,488.65 + 3,389,488.65 = 29,897,663.66.
check "every section non-empty: a mistyped receipt, as at the same event; totals worked by hand"
sed '4s/"£3,389,488.65"/"£3,389,400.00"/' "$samples/rocc_receipts_m1-m6.csv" >"$scratch/typo.csv"
expect_status 5 reconcile "$scratch/typo.csv" --against payments \
    --mapping "$samples/rocc_receipts.map" --as-at $((m6 - 1)) --fail-on difference --format json
cp "$scratch/stdout" "$scratch/typo.json"
found=$(sections_of "$scratch/typo.json")
expected="Matched: 9 lines, file 2311868636, ledger 2311868636, difference 0
Matched with a difference: 1 lines, file 338940000, ledger 338948865, difference -8865
In the file only: 1 lines, file 338948865, ledger 0, difference 338948865
In the ledger only: 1 lines, file 0, ledger 338948865, difference -338948865
Matched with a difference: QOC-2024-RC M2 file 338940000 ledger 338948865 difference -8865
In the file only: QOC-2024-RC M6 file 338948865 ledger 0 difference 338948865
In the ledger only: QOC-2024-RC M4 file 0 ledger 338948865 difference -338948865"
[[ $found == "$expected" ]] || fail "every section:"$'\n'"$found"$'\n'"expected:"$'\n'"$expected"
python3 -c 'import json, sys
summary = json.load(open(sys.argv[1]))["tables"][1]
assert summary["totals"] == {"file": "29897575.01", "ledger": "29897663.66",
                             "difference": "-88.65"}, summary["totals"]' "$scratch/typo.json" \
    || fail "the summary's TOTAL is not the whole file and the whole ledger"

# Refusals -----------------------------------------------------------------------------------------

check "a bad amount is refused naming the file, line and column, and nothing is sent (exit 2)"
sed '3s/"£2,158,370.07"/"£2,158,370.075"/' "$samples/rocc_receipts_m1-m6.csv" >"$scratch/bad.csv"
grep -q '2,158,370.075' "$scratch/bad.csv" || fail "the bad sample was not made"
expect_status 2 reconcile "$scratch/bad.csv" --against payments --mapping "$samples/rocc_receipts.map"
expect_errors 'bad.csv line 3, column Amount: "£2,158,370.075"'
expect_errors "two decimal places"
sed '6s/"£3,389,488.65"/1e3/' "$samples/rocc_receipts_m1-m6.csv" >"$scratch/exponent.csv"
expect_status 2 reconcile "$scratch/exponent.csv" --against payments --mapping "$samples/rocc_receipts.map"
expect_errors 'exponent.csv line 6, column Amount: "1e3"'

check "a date that is not a date, and a date outside the year, are refused naming line and column"
sed '3s#16/04/2024#31/04/2024#' "$samples/rocc_receipts_m1-m6.csv" >"$scratch/date.csv"
expect_status 2 reconcile "$scratch/date.csv" --against payments --mapping "$samples/rocc_receipts.map"
expect_errors 'date.csv line 3, column Date Received: "31/04/2024"'
sed '3s#16/04/2024#16/04/2025#' "$samples/rocc_receipts_m1-m6.csv" >"$scratch/year.csv"
expect_status 2 reconcile "$scratch/year.csv" --against payments --mapping "$samples/rocc_receipts.map"
expect_errors 'year.csv line 3, column Date Received: "2025-04-16" is outside 2024/25'

check "an .xlsx file is refused with the advice to save it as CSV; a mapping for another kind is refused"
expect_status 2 reconcile "$scratch/receipts.xlsx" --against payments --mapping "$samples/rocc_receipts.map"
expect_errors "CSV UTF-8"
expect_status 2 reconcile "${receipts[0]}" --against allocations --mapping "$samples/rocc_receipts.map"
expect_errors "--against allocations, but"
expect_status 2 reconcile "${receipts[@]}" --fail-on warn
expect_status 2 reconcile "${receipts[@]}" --format xlsx

check "reconcile --help explains the four sections and the mapping, and points to docs/RECONCILE.md"
expect_status 0 reconcile --help
for wanted in "in the file only" "in the ledger only" "matched with a difference" \
    "date window" "docs/RECONCILE.md" "--fail-on"; do
    expect_output "$wanted"
done

echo "test_reconcile: all $checks checks passed"
