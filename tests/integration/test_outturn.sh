#!/usr/bin/env bash
# Integration test of plans and outturns through the real programs: fundflowd and the fundflow
# CLI. An ICB (QUE) with a place (06H) and two trusts; the ICB passes a budget to its place (a
# flow inside the group), each plans and contracts and pays M1 to M6, and the ICB revises its
# plan. "fundflow outturn" then prints plan against actual, the forecast outturn and its variance,
# worked by hand below, before and after the revision and rolled up; "plan set" and "outturn"
# refuse what they should, with the exit codes the README gives.
#
# Usage: test_outturn.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW
# Each check prints what it checks; the first that fails stops the script. The server runs on a
# free loopback port in a scratch directory and is stopped, by its PID, however the script ends.
# Needs python3.
set -euo pipefail

if [[ $# -ne 2 || ! -x "$1" || ! -x "$2" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW" >&2
    exit 2
fi
fundflowd=$1
cli=$2
command -v python3 >/dev/null || { echo "$0: python3 is needed; run tools/setup.sh" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin outturn

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data"
export FUNDFLOW_SERVER="http://$server_address"

# The cells of the outturn table's row whose first cell is $1, split by runs of spaces.
row() {
    printf '%s\n' "$output" | awk -v name="$1" '$1 == name { $1 = $1; print }'
}

# The sequence "recorded as event N" names.
recorded() {
    [[ $output =~ recorded\ as\ event\ ([0-9]+) ]] || fail "no event recorded:"$'\n'"$output"
    echo "${BASH_REMATCH[1]}"
}

core=(--stream core_services --year 2024/25)

check "a small ledger: QUE passes £3,000 to its place 06H; both plan, contract and pay"
expect_status 0 org add X24 --name "NHS England" --kind nhse --date 2024-04-01
expect_status 0 org add QUE --name "Cambridgeshire ICB" --kind icb --parent X24 --date 2024-04-01
expect_status 0 org add 06H --name "Cambridgeshire place" --kind place --parent QUE --date 2024-04-01
expect_status 0 org add RGT --name "Acute trust" --kind trust --date 2024-04-01
expect_status 0 org add RGM --name "Community trust" --kind trust --date 2024-04-01
# NHS England allocates only within the revenue limit it has set for the stream and year.
expect_status 0 limit set --funder X24 "${core[@]}" --amount 12000 --date 2024-04-01
expect_status 0 allocate --from X24 --to QUE "${core[@]}" --amount 12000 --date 2024-04-01
expect_status 0 budget --from QUE --to 06H "${core[@]}" --amount 3000 --date 2024-04-01
expect_status 0 plan set QUE "${core[@]}" --amount-each 800 --date 2024-04-01
first_plan=$(recorded)
expect_status 0 plan set 06H "${core[@]}" --date 2024-04-01 \
    --month-amounts 200,200,200,200,200,200,200,200,200,200,200,200
expect_status 0 contract agree C-QUE --commissioner QUE --provider RGT --type block \
    "${core[@]}" --value 8100.05 --date 2024-04-01
expect_status 0 contract agree C-06H --commissioner 06H --provider RGM --type block \
    "${core[@]}" --value 2700 --date 2024-04-01
que_paid=(750 750 750 900 750 600 750)
for month in 1 2 3 4 5 6 7; do
    calendar_month=$((month + 3))
    expect_status 0 pay C-QUE --month "$month" --amount "${que_paid[month - 1]}" \
        --date "2024-$(printf %02d "$calendar_month")-15"
    if ((month <= 6)); then
        expect_status 0 pay C-06H --month "$month" --amount 225 \
            --date "2024-$(printf %02d "$calendar_month")-15"
    fi
done
before_revision=$(recorded)

check "plan set revises QUE's plan: £800 a month to M6, £700 after; the event describes it"
expect_status 0 plan set QUE "${core[@]}" --date 2024-09-15 --reason "mid-year review" \
    --month-amounts 800,800,800,800,800,800,700,700,700,700,700,700
revision=$(recorded)
expect_status 0 event "$revision"
[[ $(field organisation) == QUE && $(field M7) == "£700.00" && $(field total) == "£9,000.00" ]] \
    || fail "event $revision does not show the plan:"$'\n'"$output"
[[ $(field reason) == "mid-year review" ]] || fail "no reason:"$'\n'"$output"
expect_status 0 events --org QUE
expect_output "plan QUE core_services 2024/25: £9,000.00 for the year: mid-year review"

# QUE to M6 now. Actual 750, 750, 750, 900, 750, 600 = £4,500.00 against £4,800.00 of plan
# (YTD variance -£300.00). Remaining commitment 8,100.05 - 4,500.00 = £3,600.05 (the M7 payment
# is in it), spread £600.00 a month, £600.05 in M12. Each month after M6 forecasts the larger of
# plan (£700) and commitment: £4,200.00, of which 6 x 700 - 3,600.05 = £599.95 is plan beyond
# commitment. Forecast outturn 4,500 + 4,200 = £8,700.00; against £9,000.00, -£300.00.
check "outturn QUE to M6: plan, actual, variance and YTD by month, forecast £8,700.00"
expect_status 0 outturn QUE --year 2024/25 --to M6 --stream core_services
[[ $(row M1) == "M1 £800.00 £750.00 -£50.00 £800.00 £750.00 -£50.00 - £750.00" ]] \
    || fail "M1 row: $(row M1)"$'\n'"$output"
[[ $(row M4) == "M4 £800.00 £900.00 £100.00 £3,200.00 £3,150.00 -£50.00 - £900.00" ]] \
    || fail "M4 row: $(row M4)"$'\n'"$output"
[[ $(row M6) == "M6 £800.00 £600.00 -£200.00 £4,800.00 £4,500.00 -£300.00 - £600.00" ]] \
    || fail "M6 row: $(row M6)"$'\n'"$output"
[[ $(row M7) == "M7 £700.00 - - - - - £600.00 £700.00" ]] || fail "M7 row: $(row M7)"$'\n'"$output"
[[ $(row M12) == "M12 £700.00 - - - - - £600.05 £700.00" ]] || fail "M12 row: $(row M12)"$'\n'"$output"
[[ $(row TOTAL) == "TOTAL £9,000.00 £4,500.00 -£300.00 £4,800.00 £4,500.00 -£300.00 £3,600.05 £8,700.00" ]] \
    || fail "TOTAL row: $(row TOTAL)"$'\n'"$output"
[[ $(field "forecast outturn") == "£8,700.00 = actual to M6 £4,500.00 + remaining commitment £3,600.05 + plan beyond commitment £599.95" ]] \
    || fail "forecast outturn:"$'\n'"$output"
[[ $(field "forecast variance") == "-£300.00 (under plan) against the full-year plan of £9,000.00" ]] \
    || fail "forecast variance:"$'\n'"$output"
[[ $(field plans) == "event $revision" ]] || fail "plans: $(field plans)"

# The same outturn as CSV: a row per month with the table's figures, as plain pounds, where "-"
# (no actual or year to date after M6, no commitment to M6) is 0.00; and a totals row that sums
# plan, actual, variance, committed and forecast to the table's TOTAL (9,000.00, 4,500.00,
# -300.00, 3,600.05 = 5 x 600.00 + 600.05, and 8,700.00 = 4,500.00 + 6 x 700.00), the running
# year-to-date columns left without a total.
check "outturn --format csv carries the table's figures, month by month and in total"
table_output=$output
expect_status 0 outturn QUE --year 2024/25 --to M6 --stream core_services --format csv
python3 - "$table_output" "$output" <<'EOF' || fail "the CSV is not the table:"$'\n'"$output"
import csv, io, re, sys
table_text, csv_text = sys.argv[1:3]
assert csv_text.startswith("\ufeff"), "no byte order mark"
rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
assert rows[0] == ["month", "plan", "actual", "variance", "YTD plan", "YTD actual",
                   "YTD variance", "committed", "forecast"], rows[0]
assert rows[-1] == ["TOTAL", "9000.00", "4500.00", "-300.00", "", "", "", "3600.05", "8700.00"], \
    rows[-1]
def plain(cell):
    if cell == "-":
        return "0.00"
    assert re.fullmatch(r"-?£[\d,]+\.\d\d", cell), cell
    return cell.replace("£", "").replace(",", "")
table = {}
for line in table_text.splitlines():
    cells = line.split()
    if cells and re.fullmatch(r"M\d+|TOTAL", cells[0]):
        table[cells[0]] = cells
assert len(rows) == 14 and len(table) == 13, (len(rows), sorted(table))
for row in rows[1:13]:
    shown = table[row[0]]
    assert row == [row[0]] + [plain(cell) for cell in shown[1:]], (row, shown)
summed = [0, 1, 2, 3, 7, 8]
assert [rows[13][i] for i in summed] == \
    [table["TOTAL"][0]] + [plain(table["TOTAL"][i]) for i in summed[1:]], table["TOTAL"]
EOF

# As at the event before the revision: £800 every month (£9,600.00), so each month after M6
# forecasts £800: 4,500 + 4,800 = £9,300.00; variance 9,300 - 9,600 = -£300.00.
check "outturn --as-at before the revision reads the first plan: forecast £9,300.00"
expect_status 0 outturn QUE --year 2024/25 --to 6 --stream core_services --as-at "$before_revision"
[[ $(row M7) == "M7 £800.00 - - - - - £600.00 £800.00" ]] || fail "M7 row: $(row M7)"$'\n'"$output"
[[ $(field "forecast outturn") == "£9,300.00 = "* ]] || fail "forecast outturn:"$'\n'"$output"
[[ $(field "forecast variance") == "-£300.00 (under plan) against the full-year plan of £9,600.00" ]] \
    || fail "forecast variance:"$'\n'"$output"
[[ $(field plans) == "event $first_plan" ]] || fail "plans: $(field plans)"

# As at 2024-09-14, an effective date: the revision (dated 2024-09-15) and the M6 payments
# (dated 2024-09-15) are not yet there. So the first plan, £800 a month (£9,600.00), and QUE's
# actual to M6 is 750 + 750 + 750 + 900 + 750 = £3,900.00 with M6 £0.00: YTD plan £4,800.00,
# variance 3,900 - 4,800 = -£900.00.
check "outturn --as-at-date 2024-09-14 leaves out the revision and the M6 payment"
expect_status 0 outturn QUE --year 2024/25 --to 6 --stream core_services --as-at-date 2024-09-14
[[ $(field "as at date") == "2024-09-14" ]] || fail "as at date:"$'\n'"$output"
[[ $(row M6) == "M6 £800.00 £0.00 -£800.00 £4,800.00 £3,900.00 -£900.00 - £0.00" ]] \
    || fail "M6 row: $(row M6)"$'\n'"$output"
[[ $(field "forecast variance") == *"against the full-year plan of £9,600.00" ]] \
    || fail "forecast variance:"$'\n'"$output"
expect_status 0 outturn QUE --year 2024/25 --to 6 --stream core_services --as-at-date 2024-09-15
[[ $(row M6) == "M6 £800.00 £600.00 -£200.00 £4,800.00 £4,500.00 -£300.00 - £600.00" ]] \
    || fail "M6 row as at 2024-09-15: $(row M6)"$'\n'"$output"
expect_status 2 outturn QUE --year 2024/25 --to 6 --as-at-date 2024-02-30

# Rolled up with 06H. The £3,000 budget between them is no one's spending. Plan £1,000 a month to
# M6 and £900 after (£11,400.00); actual 4,500 + 1,350 = £5,850.00 (YTD -£150.00); commitment
# 3,600.05 + 1,350 = £4,950.05, £825.00 a month and £825.05 in M12, under the £900 plan each month:
# forecast 5,850 + 5,400 = £11,250.00; variance -£150.00.
check "outturn --rollup adds 06H; the budget QUE passed it is counted nowhere: £11,250.00"
expect_status 0 outturn QUE --year 2024/25 --to M6 --stream core_services --rollup
[[ $(field "rollup of") == "QUE, 06H" ]] || fail "rollup of:"$'\n'"$output"
[[ $(row M6) == "M6 £1,000.00 £825.00 -£175.00 £6,000.00 £5,850.00 -£150.00 - £825.00" ]] \
    || fail "M6 row: $(row M6)"$'\n'"$output"
[[ $(row TOTAL) == "TOTAL £11,400.00 £5,850.00 -£150.00 £6,000.00 £5,850.00 -£150.00 £4,950.05 £11,250.00" ]] \
    || fail "TOTAL row: $(row TOTAL)"$'\n'"$output"
[[ $(field "forecast variance") == "-£150.00 (under plan) against the full-year plan of £11,400.00" ]] \
    || fail "forecast variance:"$'\n'"$output"
[[ $(field internal) == "£0.00" ]] || fail "internal:"$'\n'"$output"

check "outturn --json prints the server's reply with the same figures"
expect_status 0 outturn QUE --year 2024/25 --to M6 --stream core_services --rollup --json
python3 - "$output" <<'EOF' || fail "the JSON reply is not as worked:"$'\n'"$output"
import json, sys
reply = json.loads(sys.argv[1])
assert reply["forecast_outturn_pence"] == "1125000", reply["forecast_outturn_pence"]
assert reply["forecast_variance_pence"] == "-15000"
assert reply["ytd_actual_pence"] == "585000"
assert len(reply["months"]) == 12 and reply["months"][11]["committed_pence"] == "82505"
assert reply["included_codes"] == ["QUE", "06H"]
EOF

check "outturn refuses usage errors with 2 and an unknown organisation with 1"
expect_status 2 outturn QUE --year 2024/25
expect_errors "--to"
expect_status 2 outturn QUE --year 2024/25 --to M13
expect_errors "--to"
expect_status 1 outturn NOPE --year 2024/25 --to M6
expect_errors "org_unknown"
expect_status 0 outturn --help
expect_output "forecast outturn"

check "plan set refuses bad amounts with 2, a plan reversal with 1, and nothing is recorded"
expect_status 0 info
head_before=$(field "head sequence")
[[ -n $head_before ]] || fail "info shows no head sequence:"$'\n'"$output"
expect_status 2 plan set QUE "${core[@]}" --amount-each 1 --month-amounts 1,2,3,4,5,6,7,8,9,10,11,12 --date 2024-04-01
expect_errors "one of --month-amounts"
expect_status 2 plan set QUE "${core[@]}" --month-amounts 1,2,3,4,5,6,7,8,9,10,11 --date 2024-04-01
expect_errors "12 amounts"
expect_status 2 plan set QUE "${core[@]}" --month-amounts 1,000,2,3,4,5,6,7,8,9,10,11,12 --date 2024-04-01
expect_errors "thousands separators"
expect_status 2 plan set QUE "${core[@]}" --amount-each -5 --date 2024-04-01
expect_status 1 plan set QUE "${core[@]}" --amount-each 5 --date 2025-04-01
expect_errors "date_outside_year"
expect_status 1 reverse "$revision" --reason "undo the plan"
expect_errors "event_not_reversible"
expect_status 0 info
[[ $(field "head sequence") == "$head_before" ]] || fail "the head moved:"$'\n'"$output"
expect_status 0 plan set --help
expect_output "--month-amounts"

server_stop
echo "all $checks checks passed"
