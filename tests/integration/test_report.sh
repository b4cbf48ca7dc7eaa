#!/usr/bin/env bash
# Integration test of the fundflow client's plugin subcommands against a live fundflowd with its
# plugins loaded: plugins (and --reload) lists them; report renders one report as a table, CSV and
# JSON that carry the same contracts, totals and findings, and as an XLSX workbook; an unknown
# plugin exits 1 with not_found and leaves no file behind.
#
# Usage: test_report.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN PLUGIN_DIR
# Each check prints what it checks; the first that fails stops the script with a message and a
# non-zero exit code. The server runs on a free loopback port in a scratch directory and is
# stopped, by its PID, however the script ends. Needs python3 and unzip (tools/setup.sh).
set -euo pipefail

if [[ $# -ne 4 || ! -x "$1" || ! -x "$2" || ! -x "$3" || ! -d "$4" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN PLUGIN_DIR" >&2
    exit 2
fi
fundflowd=$1
cli=$2
admin=$3
plugin_dir=$4
for tool in python3 unzip; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is needed; run tools/setup.sh" >&2; exit 2; }
done

# fail, check, run, expect_status, expect_output, expect_errors, server_launch, server_stop and
# server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin report

# Fails unless $output has a line starting with the plugin's name as the first column.
expect_plugin_listed() {
    local name=$1
    grep -Eq "^$name( |$)" <<<"$output" \
        || fail "the plugins table does not list $name:"$'\n'"$output"
}

# Starting the server ---------------------------------------------------------------------------

# Starts fundflowd on $scratch/data with the plugins, and exports FUNDFLOW_SERVER. Each start
# logs to fresh files ($server_err names this one's stderr) and waits for this server's own
# "listening on" line: the restarts below reuse the data directory, and reading the previous
# server's line would point the client at a closed port ("cannot connect"). server_stop waits
# for the server to exit before the next one opens the same data directory.
server_start() {
    server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" --plugin-dir "$plugin_dir"
    address=$server_address
    export FUNDFLOW_SERVER="http://$address"
}

server_start
echo "fundflowd is listening on $address (pid $server_pid), plugins from $plugin_dir"

check "the demo loads through fundflow-admin demo --ndjson and fundflow submit"
"$admin" demo --ndjson "$scratch/demo.ndjson" 2>"$scratch/admin.err" \
    || fail "demo --ndjson failed:"$'\n'"$(cat "$scratch/admin.err")"
sanitizer_check "fundflow-admin demo --ndjson" "$(cat "$scratch/admin.err")"
expect_status 0 submit "$scratch/demo.ndjson"
head=$("$cli" info --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["head_sequence"])')
[[ $head -gt 100 ]] || fail "the head is $head after loading the demo"

# The demo's systems finish near break-even (test_admin.sh works the figures: 36 within 1% of
# their income, 3 in surplus, and 3 in deficit: QK1, QNC and QOC plan core services beyond what
# their systems hold, and system_balance forecasts each body's spending at the larger of contract
# value and plan), and every ICB has spent from its running cost allowance, committing 90% to 94%
# of it. A deficit FAILs, but the report itself still exits 0 without --fail-on.
check "on the demo, system_balance fails the 3 deficit systems and passes 39; running_costs finds every ICB spending"
check "report --as-at-date reads the ledger as at an effective date: the figures are earlier ones"
expect_status 0 report system_balance --year 2024/25 --format csv
now_csv=$output
expect_status 0 report system_balance --year 2024/25 --format csv --as-at-date 2024-04-01
[[ $output != "$now_csv" ]] || fail "the report as at 2024-04-01 is the report now:"$'\n'"$output"
expect_status 2 report system_balance --year 2024/25 --as-at-date 2024-13-01

expect_status 0 report system_balance --year 2024/25
[[ $output == *"findings: 3 FAIL, 0 WARN, 39 PASS"* ]] || fail "system_balance:"$'\n'"$output"
for icb in QK1 QNC QOC; do
    [[ $output == *"$icb system (the ICB with its places) for 2024/25 forecasts a deficit of -£"* ]] ||
        fail "system_balance does not name $icb's deficit:"$'\n'"$output"
done
[[ $(grep -c "forecasts a deficit" <<<"$output") == 3 ]] ||
    fail "system_balance names other than 3 deficits:"$'\n'"$output"
expect_status 5 report system_balance --year 2024/25 --fail-on fail
expect_status 0 report running_costs --year 2024/25
[[ $output == *"findings: 0 FAIL, 0 WARN, 42 PASS"* && $output != *"has used £0.00"* ]] ||
    fail "running_costs:"$'\n'"$output"

# Plugins ---------------------------------------------------------------------------------------

check "plugins lists outcomes and aob with their versions, ABI, years and hooks"
expect_status 0 plugins
grep -Eq '^name +version +ABI +years +hooks +projection +description' <<<"${output%%$'\n'*}" \
    || fail "the plugins table has no heading line:"$'\n'"$output"
expect_plugin_listed outcomes
expect_plugin_listed aob
[[ $output == *"2024/25"* ]] || fail "no plugin knows 2024/25:"$'\n'"$output"

check "plugins --json prints the ListPlugins reply, naming outcomes and aob"
expect_status 0 --json plugins
printf '%s' "$output" | python3 -c '
import json, sys
names = {plugin["name"] for plugin in json.load(sys.stdin)["plugins"]}
missing = {"outcomes", "aob"} - names
sys.exit("missing: %s; listed: %s" % (sorted(missing), sorted(names)) if missing else 0)' \
    || fail "plugins --json lacks a plugin:"$'\n'"$output"

check "plugins --reload reloads the plugin directory and lists the same plugins"
expect_status 0 plugins --reload
expect_plugin_listed outcomes
expect_plugin_listed aob

# Report in every format ------------------------------------------------------------------------

report=(report outcomes --year 2024/25 --as-at "$head")

check "report outcomes renders as a table, CSV and JSON, each read as at event $head"
expect_status 0 "${report[@]}"
cp "$scratch/stdout" "$scratch/report.txt"
[[ $output == "report outcomes "*" for 2024/25 as at event $head, every organisation"* ]] \
    || fail "the table's first line does not name the report:"$'\n'"$output"
expect_status 0 "${report[@]}" --format csv
cp "$scratch/stdout" "$scratch/report.csv"
expect_status 0 "${report[@]}" --format json
cp "$scratch/stdout" "$scratch/report.json"

check "--json is --format json, and both print the server's reply as it came"
expect_status 0 --json "${report[@]}"
cmp -s "$scratch/stdout" "$scratch/report.json" || fail "--json and --format json differ"

# Compares the three renderings: each table's contract ids and money totals, and the findings.
# Contract ids are the cells of TEXT columns named like "contract"; if a table has no such column,
# its TEXT cells shaped like the demo's contract ids (QUE-2024-RGT). The table rendering is read
# by its sections ("NAME: N rows", headings, rows), summing every £ amount in the rows.
cat >"$scratch/compare.py" <<'PYTHON'
import csv, decimal, io, json, re, sys

table_path, csv_path, json_path = sys.argv[1:4]
ID_SHAPE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)+$")
MONEY = re.compile(r"-?£[0-9][0-9,]*\.[0-9]{2}")

def fail(message):
    sys.exit("FAIL: " + message)

def pence(text):
    value = decimal.Decimal(text.replace("£", "").replace(",", "")) * 100
    if value != value.to_integral_value():
        fail("%r is not a whole number of pence" % text)
    return int(value)

def contract_columns(columns):
    named = [i for i, c in enumerate(columns)
             if c["type"] == "TEXT" and "contract" in c["name"].lower()]
    return named, bool(named)

def ids_of(rows, columns, texts):
    named, by_name = contract_columns(columns)
    found = set()
    for row in rows:
        for i, column in enumerate(columns):
            if column["type"] != "TEXT":
                continue
            text = texts(row, i)
            if (by_name and i in named) or (not by_name and ID_SHAPE.match(text)):
                if text:
                    found.add(text)
    return found

with open(json_path, encoding="utf-8") as f:
    report = json.load(f)
expected = []
for table in report.get("tables", []):
    columns = table["columns"]
    rows = table.get("rows", [])
    money = [i for i, c in enumerate(columns) if c["type"] == "MONEY"]
    expected.append({
        "name": table["name"], "columns": columns, "rows": len(rows),
        "money_cells": len(rows) * len(money),
        "total": sum(int(row["cells"][i]["number"]) for row in rows for i in money),
        "ids": ids_of(rows, columns, lambda row, i: row["cells"][i]["text"]),
    })
levels = [f["level"] for f in report.get("findings", [])]
all_ids = set().union(*(t["ids"] for t in expected)) if expected else set()
if not all_ids:
    fail("the JSON report names no contract")

# CSV: sections "# table NAME" and "# findings", RFC 4180 with CRLF line ends.
with open(csv_path, "rb") as f:
    raw = f.read()
if not raw.startswith(b"\xef\xbb\xbf"):
    fail("the CSV does not start with a UTF-8 byte order mark")
text = raw[3:].decode("utf-8")
if "\n" in text.replace("\r\n", "") and '"' not in text:
    fail("the CSV has a line not ended by CRLF")
sections, current = [], None
for record in csv.reader(io.StringIO(text, newline="")):
    if len(record) == 1 and record[0].startswith("# table "):
        current = {"name": record[0][len("# table "):], "records": []}
        sections.append(current)
    elif record == ["# findings"]:
        current = {"name": None, "records": []}
        sections.append(current)
    elif current is None:
        fail("the CSV starts with %r, not a section line" % record)
    else:
        current["records"].append(record)
if len(sections) != len(expected) + 1 or sections[-1]["name"] is not None:
    fail("the CSV has %d sections for %d tables and the findings" % (len(sections), len(expected)))
for want, got in zip(expected, sections):
    if got["name"] != want["name"]:
        fail("CSV table %r where the JSON has %r" % (got["name"], want["name"]))
    heading, rows = got["records"][0], got["records"][1:]
    if heading != [c["name"] for c in want["columns"]] or len(rows) != want["rows"]:
        fail("CSV table %r: headings %r, %d rows" % (got["name"], heading, len(rows)))
    money = [i for i, c in enumerate(want["columns"]) if c["type"] == "MONEY"]
    total = sum(pence(row[i]) for row in rows for i in money)
    if total != want["total"]:
        fail("CSV table %r totals %d pence, JSON %d" % (got["name"], total, want["total"]))
    ids = ids_of(rows, want["columns"], lambda row, i: row[i])
    if ids != want["ids"]:
        fail("CSV table %r contracts differ: %s" % (got["name"], sorted(ids ^ want["ids"])))
findings = sections[-1]["records"]
# Findings come worst first in every format: FAIL, WARN, PASS, each level in the server's order.
worst_first = sorted(levels, key=lambda level: {"FAIL": 0, "WARN": 1, "PASS": 2}.get(level, 3))
if findings[0] != ["level", "org_code", "message"] or [r[0] for r in findings[1:]] != worst_first:
    fail("CSV findings differ from the JSON's: %r" % findings[:3])

# Table: a first line, then per table "NAME: N row(s)", the headings and N rows; then findings.
with open(table_path, encoding="utf-8") as f:
    lines = f.read().split("\n")
position = 1
for want in expected:
    while position < len(lines) and not lines[position]:
        position += 1
    title = "%s: %d row%s" % (want["name"], want["rows"], "" if want["rows"] == 1 else "s")
    if position >= len(lines) or lines[position] != title:
        fail("the table shows %r where %r was expected" % (lines[position:position + 1], title))
    rows = lines[position + 2:position + 2 + want["rows"]]
    position += 2 + want["rows"]
    amounts = [pence(m) for row in rows for m in MONEY.findall(row)]
    if len(amounts) != want["money_cells"] or sum(amounts) != want["total"]:
        fail("table %r shows %d amounts totalling %d pence; the JSON has %d totalling %d"
             % (want["name"], len(amounts), sum(amounts), want["money_cells"], want["total"]))
    words = set(re.split(r"\s+", " ".join(rows)))
    if not want["ids"] <= words:
        fail("table %r lacks contracts %s" % (want["name"], sorted(want["ids"] - words)))
counts = "findings: %d FAIL, %d WARN, %d PASS" % tuple(levels.count(l) for l in ("FAIL", "WARN", "PASS"))
if not any(line.startswith(counts) for line in lines[position:]):
    fail("the table lacks %r" % counts)

print("  %d tables, %d contracts, totals %s pence, %d findings: the same in all three"
      % (len(expected), len(all_ids), [t["total"] for t in expected], len(levels)))
PYTHON

check "table, CSV and JSON carry the same contract ids, totals and findings"
python3 "$scratch/compare.py" "$scratch/report.txt" "$scratch/report.csv" "$scratch/report.json" \
    || fail "the renderings differ (files above)"

check "--output writes the same CSV to a file, and leaves no temporary file"
mkdir "$scratch/out"
expect_status 0 "${report[@]}" --format csv --output "$scratch/out/report.csv"
[[ -z $output ]] || fail "--output still wrote to stdout:"$'\n'"$output"
cmp -s "$scratch/out/report.csv" "$scratch/report.csv" || fail "--output's CSV differs from stdout's"
[[ $(ls "$scratch/out") == report.csv ]] || fail "the output directory holds: $(ls "$scratch/out")"

check "--provenance starts the CSV with rows naming the command, the as-at sequence and the head"
expect_status 0 "${report[@]}" --format csv --provenance
head -c 3 "$scratch/stdout" | od -An -tx1 | grep -q 'ef bb bf' || fail "no byte order mark"
expect_output "# command,fundflow report"
expect_output "# head hash,"
grep -q $'^# table ' "$scratch/stdout" || fail "the tables do not follow the provenance"

check "--format xlsx --output f.xlsx writes a workbook with a worksheet per table and Findings"
expect_status 0 "${report[@]}" --format xlsx --output "$scratch/out/f.xlsx"
unzip -l "$scratch/out/f.xlsx" >"$scratch/unzip.txt" 2>&1 || fail "unzip -l failed:"$'\n'"$(cat "$scratch/unzip.txt")"
grep -q 'xl/worksheets/sheet1.xml' "$scratch/unzip.txt" \
    || fail "the workbook has no sheet1:"$'\n'"$(cat "$scratch/unzip.txt")"
unzip -p "$scratch/out/f.xlsx" xl/workbook.xml >"$scratch/workbook.xml" 2>&1 \
    || fail "unzip -p failed:"$'\n'"$(cat "$scratch/workbook.xml")"
grep -q 'name="Findings"' "$scratch/workbook.xml" \
    || fail "the workbook has no Findings worksheet"
grep -q 'name="About"' "$scratch/workbook.xml" || fail "the workbook has no About worksheet"
unzip -p "$scratch/out/f.xlsx" xl/sharedStrings.xml | grep -q 'head hash' \
    || fail "the workbook's About sheet names no head hash"
[[ $(ls "$scratch/out") == $'f.xlsx\nreport.csv' ]] || fail "the output directory holds: $(ls "$scratch/out")"

check "--format xlsx without --output is a usage error"
expect_status 2 "${report[@]}" --format xlsx
expect_errors "needs --output"

# A plugin with a projection --------------------------------------------------------------------

check "delegation lists a project hook, and its projected data reaches event $head"
expect_status 0 plugins
grep -Eq '^delegation .* report, project +up to date ' <<<"$output" \
    || fail "the plugins table does not show delegation's projection up to date:"$'\n'"$output"
expect_status 0 --json plugins
printf '%s' "$output" | python3 -c '
import json, sys
head = sys.argv[1]
plugin = next(p for p in json.load(sys.stdin)["plugins"] if p["name"] == "delegation")
if "project" not in plugin["hooks"] or str(plugin.get("projected_through_sequence")) != head:
    sys.exit("hooks %s, projected through %s" % (plugin["hooks"], plugin.get("projected_through_sequence")))' "$head" \
    || fail "delegation's projection is not listed up to the head:"$'\n'"$output"

# Prints "ROWS FAILS" for a delegation report in JSON, and checks each failure is QYG's M6.
delegation_failures() {
    python3 -c '
import json, sys
report = json.load(sys.stdin)
table = next(t for t in report["tables"] if t["name"] == "specialised spend without a delegation")
fails = [f for f in report.get("findings", []) if f["level"] == "FAIL"]
for f in fails:
    if f["org_code"] != "QYG" or "15 September 2024" not in f["message"] or "M6)" not in f["message"]:
        sys.exit("unexpected failure: %r" % f)
print(len(table.get("rows", [])), len(fails))'
}

check "report delegation fails QYG's two September payments made after its delegation ended"
expect_status 0 --json report delegation --year 2024/25
[[ $(printf '%s' "$output" | delegation_failures) == "2 2" ]] \
    || fail "the delegation report does not flag two payments:"$'\n'"$output"
expect_status 0 report delegation --year 2024/25
[[ $output == *"held no delegation of it in force on that date"* ]] \
    || fail "the table form does not explain the failure:"$'\n'"$output"

check "as at the event before the revocation, the same report flags nothing"
expect_status 0 --json report delegation --year 2024/25 --as-at $((head - 1))
[[ $(printf '%s' "$output" | delegation_failures) == "0 0" ]] \
    || fail "payments are flagged before the revocation:"$'\n'"$output"

# Refusals --------------------------------------------------------------------------------------

check "an unknown plugin exits 1 with not_found, in people's form and in JSON"
expect_status 1 report no_such_plugin --year 2024/25
expect_errors "error: not_found:"
expect_status 1 --json report no_such_plugin --year 2024/25
[[ $(printf '%s' "$output" | python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])') == not_found ]] \
    || fail "--json did not print a not_found error:"$'\n'"$output"

check "a refused report leaves no --output file behind"
expect_status 1 report no_such_plugin --year 2024/25 --output "$scratch/out/none.csv"
[[ $(ls "$scratch/out") == $'f.xlsx\nreport.csv' ]] || fail "the output directory holds: $(ls "$scratch/out")"

server_stop

# Rebuilding a plugin's projection offline ----------------------------------------------------

check "rebuild --plugin-dir replays the log into delegation's data, so fundflowd need not"
expect_admin() {
    "$admin" "$@" --data-dir "$scratch/data" >"$scratch/admin.out" 2>"$scratch/admin.err" \
        || fail "fundflow-admin $* failed:"$'\n'"$(cat "$scratch/admin.err")"
    sanitizer_check "fundflow-admin $1" "$(cat "$scratch/admin.err")"
}
expect_admin rebuild --plugin-dir "$plugin_dir"
grep -q "^Replayed the log into 1 projecting plugin from $plugin_dir$" "$scratch/admin.out" \
    || fail "rebuild did not replay into delegation:"$'\n'"$(cat "$scratch/admin.out")"
server_start
! grep -q "catching up" "$server_err" \
    || fail "fundflowd replayed again after rebuild --plugin-dir:"$'\n'"$(cat "$server_err")"
expect_status 0 --json report delegation --year 2024/25
[[ $(printf '%s' "$output" | delegation_failures) == "2 2" ]] || fail "the rebuilt projection differs"
server_stop

check "rebuild alone drops the plugins' data, and fundflowd replays it on starting"
expect_admin rebuild
server_start
grep -q "plugin projection catching up\" plugin=delegation from=1 to=$head" "$server_err" \
    || fail "fundflowd did not replay delegation's projection:"$'\n'"$(cat "$server_err")"
expect_status 0 --json report delegation --year 2024/25
[[ $(printf '%s' "$output" | delegation_failures) == "2 2" ]] || fail "the replayed projection differs"
server_stop

echo "all $checks checks passed"
