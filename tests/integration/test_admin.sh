#!/usr/bin/env bash
# Integration test of fundflow-admin: demo, positions, verify, rebuild, head, principals and exit
# codes.
#
# The first checks read the demo's commands from demo --ndjson and replay them through a model of
# the ledger's rules written here in Python, so they need no ledger. The rest apply the demo to a
# ledger and need the core to accept every event kind the demo plans.
#
# Usage: test_admin.sh PATH_TO_FUNDFLOW_ADMIN
# Each check prints what it checks; the first that fails stops the script with a message and a
# non-zero exit code.
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOW_ADMIN (an executable file)" >&2
    exit 2
fi
admin=$1

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-admin-test-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# verify replays into a scratch store under $TMPDIR; keep that inside our own directory too.
export TMPDIR=$scratch
unset FUNDFLOW_DATA_DIR

# fail, check, sanitizer_check, run and expect_status, shared with the other shell tests. run
# runs $cli, here fundflow-admin, with stderr merged into $output in the order written, since
# these checks read the tool's messages and results as one text; a sanitizer report in either
# stream fails the test, whatever the exit code.
cli=$admin
cli_name=fundflow-admin
run_merges_streams=1
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"

# Prints one column (3 received, 4 passed on, 5 held, 6 contract value, 7 uncommitted headroom)
# of the positions TOTAL row. Columns
# are separated by at least two spaces; names hold single spaces only.
total_column() {
    printf '%s\n' "$output" | awk -F '  +' -v column="$1" '$1 == "TOTAL" { print $column }'
}

# Prints an amount such as "£1,234.56" as whole pence: 123456.
pence() {
    printf '%s' "$1" | sed 's/[^0-9]//g'
}

# Replays an NDJSON file of demo commands through a model of the ledger's rules: every reference
# registered first, code formats by kind, invented bodies labelled illustrative, headroom for
# every budget, contract and increase in its own year, delegations that cite retained lines or
# overlap, contracts under delegation, payments within value less pot and dated in their month of
# their contract's year, outcome reports, statements, and nothing posting into a closed month.
# Fails naming the first bad command; otherwise prints "name value" lines of counts and totals,
# with the Mental Health Investment Standard worked out as the mhis plugin does.
rules_model() {
    python3 - "$1" <<'PY'
# Replays the demo's NDJSON through a model of the ledger's rules, failing on the first command
# the ledger should refuse, then prints "name value" lines of counts and totals.
import collections, datetime, json, re, sys

def fail(key, message):
    print(f"FAIL: {key}: {message}", file=sys.stderr)
    sys.exit(1)

CODE_FORMATS = {
    "NHSE": r"X[A-Z0-9]{2}", "REGION": r"Y[0-9]{2}", "ICB": r"Q[A-Z0-9]{2}",
    # Sub-ICB location codes are 3 characters, or 5 for those made when CCGs merged in 2022.
    "PLACE": r"[A-Z0-9]{3,5}", "TRUST": r"R[A-Z0-9]{2,4}", "PRIMARY_CARE": r"[A-Z][A-Z0-9]{5}",
    "INDEPENDENT_PROVIDER": r"[A-Z][A-Z0-9]{2,4}", "LOCAL_AUTHORITY": r"E[0-9]{8}",
    "PROVIDER_COLLABORATIVE": r"[A-Z0-9]{2,12}", "JOINT_COMMITTEE": r"[A-Z0-9]{2,12}",
}
REAL_KINDS = {"NHSE", "REGION", "ICB", "PLACE"}
PROVIDER_KINDS = {"TRUST", "PRIMARY_CARE", "INDEPENDENT_PROVIDER", "LOCAL_AUTHORITY",
                  "PROVIDER_COLLABORATIVE"}
COMMISSIONER_KINDS = {"ICB", "PLACE", "JOINT_COMMITTEE"}
IDENTIFIER = r"[A-Z0-9-]{2,32}"
WHOLE = 10000

YEARS = (2023, 2024)
orgs, lines, delegations, contracts = {}, {}, {}, {}
headroom = collections.defaultdict(int)
closed, keys = set(), set()
kinds = collections.Counter()
totals = collections.Counter()
paid_between = collections.Counter()
statements = {}
allocated = collections.Counter()   # (recipient, stream, year) -> pence
limits = {}                         # (funder, stream, year) -> NHS England's revenue limit
mental_health = collections.Counter()  # (ICB, year) -> the mhis plugin's spend
received = collections.Counter()    # (org, stream, year) -> allocations and budgets received
plans = {}                          # (org, stream, year) -> twelve monthly amounts
paid_by_month = collections.Counter()  # (commissioner, stream, year, month) -> paid

def year_month(date):
    """(financial year, month 1 to 12) of a date in 2023/24 or 2024/25; None otherwise."""
    try:
        day = datetime.date(date // 10000, date // 100 % 100, date % 100)
    except ValueError:
        return None
    year = day.year if day.month >= 4 else day.year - 1
    if year not in YEARS:
        return None
    return year, (day.month - 4) % 12 + 1

def in_year(key, date, year):
    if year not in YEARS or year_month(date)[0] != year:
        fail(key, f"financial_year {year} is not the demo's, or {date} is outside it")

def org(key, code, field, allowed=None):
    if code not in orgs:
        fail(key, f"{field} {code} is not registered yet")
    if allowed is not None and orgs[code]["kind"] not in allowed:
        fail(key, f"{field} {code} is a {orgs[code]['kind']}, not one of {sorted(allowed)}")
    return orgs[code]

def post(key, date, *codes):
    for code in codes:
        if (code, *year_month(date)) in closed:
            fail(key, f"{code} has closed the month of {date}")

def take(key, code, stream, year, amount):
    if headroom[code, stream, year] < amount:
        fail(key, f"{code} holds {headroom[code, stream, year]} in {stream} {year}, not {amount}")
    headroom[code, stream, year] -= amount

def org_registered(key, date, e):
    code, kind = e["code"], e["kind"]
    if code in orgs or not re.fullmatch(CODE_FORMATS[kind], code):
        fail(key, f"code {code} is taken or not a {kind} code")
    if not e["name"] or len(e["name"].encode()) > 160:
        fail(key, "name is empty or longer than 160 bytes")
    if kind not in REAL_KINDS and "(illustrative)" not in e["name"]:
        fail(key, f"the invented {code} is not labelled illustrative: {e['name']}")
    if e.get("parent_code"):
        org(key, e["parent_code"], "parent_code")
    members = e.get("member_codes", [])
    if kind == "PROVIDER_COLLABORATIVE":
        for member in members:
            org(key, member, "member", PROVIDER_KINDS - {"PROVIDER_COLLABORATIVE"})
        if not 3 <= len(members) <= 5 or e.get("lead_provider_code") not in members:
            fail(key, "a collaborative needs 3 to 5 members and a lead among them")
    if kind == "JOINT_COMMITTEE":
        region = org(key, e["parent_code"], "parent_code", {"REGION"})
        icbs = sorted(c for c, o in orgs.items() if o["kind"] == "ICB" and o["parent"] == e["parent_code"])
        if sorted(members) != icbs:
            fail(key, "a joint committee's members must be its region's ICBs")
    orgs[code] = {"kind": kind, "parent": e.get("parent_code", ""), "members": members}

def service_line_registered(key, date, e):
    if e["code"] in lines or not re.fullmatch(r"[A-Z0-9]{2,12}", e["code"]):
        fail(key, "bad or repeated service line code")
    if "(illustrative)" not in e["name"]:
        fail(key, "an invented service line is not labelled illustrative")
    lines[e["code"]] = bool(e.get("retained_nationally"))

def delegation_granted(key, date, e):
    ident = e["delegation_id"]
    if ident in delegations or not re.fullmatch(IDENTIFIER, ident):
        fail(key, "bad or repeated delegation id")
    org(key, e["delegate_code"], "delegate_code", {"ICB", "JOINT_COMMITTEE"})
    for code in e["population_codes"]:
        org(key, code, "population_codes", {"ICB"})
    for code in e["service_line_codes"]:
        if code not in lines or lines[code]:
            fail(key, f"line {code} is unknown or retained nationally")
    start, end = e["effective_from"], e.get("effective_to", 0) or 99991231
    if e["mode"] not in ("DELEGATION_FULL", "DELEGATION_JOINT_COMMITTEE") or start > end:
        fail(key, "bad mode or dates")
    for other in delegations.values():
        if (set(e["service_line_codes"]) & other["lines"] and set(e["population_codes"]) & other["population"]
                and start <= other["to"] and other["from"] <= end):
            fail(key, "overlaps another delegation of a line for an ICB")
    delegations[ident] = {"delegate": e["delegate_code"], "lines": set(e["service_line_codes"]),
                          "population": set(e["population_codes"]), "mode": e["mode"],
                          "from": start, "to": end}

def delegation_revoked(key, date, e):
    delegation = delegations.get(e["delegation_id"])
    if delegation is None:
        fail(key, "revokes an unknown delegation")
    end = e["effective_to"]
    if not delegation["from"] <= end <= delegation["to"] or end < date:
        fail(key, "a revocation must end the delegation within its term, on or after its date")
    delegation["to"] = end
    totals["revocations"] += 1

def revenue_limit_set(key, date, e):
    funder = e["funder_code"]
    org(key, funder, "funder_code", {"NHSE"})
    limit, year = int(e.get("limit_pence", 0)), e["financial_year"]
    in_year(key, date, year)
    # The limit is a whole: setting it again posts the difference, never below what is allocated.
    previous = limits.get((funder, e["stream"], year), 0)
    if limit < previous:
        take(key, funder, e["stream"], year, previous - limit)
    else:
        headroom[funder, e["stream"], year] += limit - previous
    limits[funder, e["stream"], year] = limit
    totals[f"limit.{year}.{e['stream']}"] = limit

def allocation_issued(key, date, e):
    org(key, e["funder_code"], "funder_code", {"NHSE"})
    recipient = e["recipient_code"]
    kind = org(key, recipient, "recipient_code", {"ICB", "JOINT_COMMITTEE"})["kind"]
    amount, year = int(e["amount_pence"]), e["financial_year"]
    in_year(key, date, year)
    # NHS England allocates only out of the limit it has left, like any budget passed on.
    take(key, e["funder_code"], e["stream"], year, amount)
    if e["stream"] == "SPECIALISED":
        delegation = delegations.get(e.get("delegation_id", ""))
        if delegation is None or delegation["delegate"] != recipient:
            fail(key, "a specialised allocation must cite a delegation the recipient holds")
    # The published range is 2024/25's; 2023/24's allowances are cut from them.
    if (e["stream"] == "RUNNING_COST_ALLOWANCE" and year == 2024
            and not 1550000000 <= amount <= 4830000000):
        totals["running_cost.out_of_range"] += 1
    post(key, date, e["funder_code"], recipient)
    headroom[recipient, e["stream"], year] += amount
    received[recipient, e["stream"], year] += amount
    allocated[recipient, e["stream"], year] += amount
    totals[f"allocated.{year}.{e['stream']}.{kind}"] += amount

def budget_delegated(key, date, e):
    source = e["from_code"]
    org(key, source, "from_code", {"ICB"})
    target = org(key, e["to_code"], "to_code",
                 {"PLACE", "PROVIDER_COLLABORATIVE", "JOINT_COMMITTEE", "LOCAL_AUTHORITY"})
    if target["kind"] == "PLACE" and target["parent"] != source:
        fail(key, "a place's budget comes from its own ICB")
    amount, year = int(e["amount_pence"]), e["financial_year"]
    in_year(key, date, year)
    post(key, date, source, e["to_code"])
    take(key, source, e["stream"], year, amount)
    headroom[e["to_code"], e["stream"], year] += amount
    received[e["to_code"], e["stream"], year] += amount
    totals[f"budget.{year}.{e['stream']}.{target['kind']}"] += amount

def contract_metrics(key, e, value, pot):
    metrics = e.get("metrics", [])
    if e["type"] != "OUTCOME_BASED":
        if pot or metrics:
            fail(key, "only an outcome-based contract has a pot or metrics")
        return {}
    codes = [m["code"] for m in metrics]
    if not 0 < pot <= value or not 1 <= len(metrics) <= 16 or len(set(codes)) != len(codes):
        fail(key, "an outcome-based contract needs a pot and 1 to 16 distinct metrics")
    if sum(m["weight_bp"] for m in metrics) != WHOLE:
        fail(key, "metric weights do not add to 10000")
    totals["metrics"] += len(metrics)
    return {m["code"]: m["weight_bp"] for m in metrics}

def contract_agreed(key, date, e):
    ident = e["contract_id"]
    if ident in contracts or not re.fullmatch(IDENTIFIER, ident):
        fail(key, "bad or repeated contract id")
    commissioner, provider, year = e["commissioner_code"], e["provider_code"], e["financial_year"]
    in_year(key, date, year)
    org(key, commissioner, "commissioner_code", COMMISSIONER_KINDS)
    org(key, provider, "provider_code", PROVIDER_KINDS)
    value, fixed = int(e["annual_value_pence"]), int(e.get("fixed_value_pence", "0"))
    pot = int(e.get("withheld_pot_pence", "0"))
    if value <= 0 or not 0 <= fixed <= value or e.get("cquin_share_bp", 0) > WHOLE:
        fail(key, "bad value, fixed element or CQUIN share")
    if fixed and e["type"] != "AIP":
        fail(key, "only an aligned payment and incentive contract has a fixed element")
    metrics = contract_metrics(key, e, value, pot)
    if e["stream"] == "SPECIALISED":
        line = e.get("service_line_code", "")
        if line not in lines or lines[line]:
            fail(key, f"service line {line} is unknown or retained nationally")
        if not any(d["delegate"] == commissioner and line in d["lines"] and d["from"] <= date <= d["to"]
                   for d in delegations.values()):
            fail(key, f"{commissioner} holds no delegation of {line} on {date}")
    post(key, date, commissioner)
    take(key, commissioner, e["stream"], year, value)
    contracts[ident] = {"commissioner": commissioner, "provider": provider, "stream": e["stream"],
                        "year": year, "value": value, "pot": pot, "paid": 0, "metrics": metrics,
                        "reported": set(), "months": set()}
    totals[f"type.{e['type']}"] += 1
    # The mhis plugin's spend: mental health contracts of an ICB or its places, leaving out the
    # specialised and service development funding streams. None of the demo's is varied.
    if e["service_category"] == "MENTAL_HEALTH" and e["stream"] not in ("SPECIALISED", "SERVICE_DEVELOPMENT_FUNDING"):
        icb = commissioner if orgs[commissioner]["kind"] == "ICB" else orgs[commissioner]["parent"]
        if orgs.get(icb, {}).get("kind") == "ICB":
            mental_health[icb, year] += value

def contract_varied(key, date, e):
    contract = contracts.get(e["contract_id"]) or fail(key, "unknown contract")
    change = int(e["change_pence"])
    if change == 0 or contract["value"] + change < contract["paid"] + contract["pot"]:
        fail(key, "a variation must change the value and leave it above paid plus pot")
    post(key, date, contract["commissioner"])
    if change > 0:
        take(key, contract["commissioner"], contract["stream"], contract["year"], change)
    else:
        headroom[contract["commissioner"], contract["stream"], contract["year"]] -= change
    contract["value"] += change

def payment_made(key, date, e):
    contract = contracts.get(e["contract_id"]) or fail(key, "unknown contract")
    amount, month = int(e["amount_pence"]), e["month"]
    if not 1 <= month <= 12 or year_month(date) != (contract["year"], month) or amount <= 0:
        fail(key, f"a month {month} payment of a {contract['year']} contract dated {date}, or a non-positive amount")
    if contract["paid"] + amount > contract["value"] - contract["pot"]:
        fail(key, "the payment takes the contract past its value less its pot")
    post(key, date, contract["commissioner"], contract["provider"])
    contract["paid"] += amount
    contract["months"].add(month)
    paid_by_month[contract["commissioner"], contract["stream"], contract["year"], month] += amount
    if contract["year"] == 2024 and month <= 6:
        paid_between[contract["commissioner"], contract["provider"]] += amount

def outcome_reported(key, date, e):
    contract = contracts.get(e["contract_id"]) or fail(key, "unknown contract")
    metric, achievement = e["metric_code"], e["achievement_bp"]
    if metric not in contract["metrics"] or metric in contract["reported"] or not 0 <= achievement <= WHOLE:
        fail(key, "unknown or repeated metric, or achievement out of range")
    post(key, date, contract["commissioner"], contract["provider"])
    contract["reported"].add(metric)
    if achievement < WHOLE:
        totals["outcomes.partial"] += 1

def statement_submitted(key, date, e):
    org(key, e["org_code"], "org_code")
    org(key, e["counterparty_code"], "counterparty_code")
    if e["org_code"] == e["counterparty_code"] or not 1 <= e["month"] <= 12 or int(e["amount_pence"]) < 0:
        fail(key, "a statement between one body, or a bad month or amount")
    statements[e["org_code"], e["counterparty_code"], e["kind"]] = int(e["amount_pence"])

def plan_set(key, date, e):
    org(key, e["org_code"], "org_code", COMMISSIONER_KINDS)
    in_year(key, date, e["financial_year"])
    amounts = [int(a) for a in e["month_amounts_pence"]]
    if len(amounts) != 12 or min(amounts) < 0:
        fail(key, "a plan needs twelve monthly amounts, none negative")
    plans[e["org_code"], e["stream"], e["financial_year"]] = amounts

def period_closed(key, date, e):
    org(key, e["org_code"], "org_code")
    period = (e["org_code"], e["financial_year"], e["month"])
    if not 1 <= e["month"] <= 12 or e["financial_year"] not in YEARS or period in closed:
        fail(key, "a bad year or month, or one already closed")
    closed.add(period)

for number, text in enumerate(open(sys.argv[1]), 1):
    command = json.loads(text)
    key, date = command["idempotency_key"], command["effective_date"]
    if key in keys or not key.startswith("demo-") or year_month(date) is None:
        fail(f"line {number}", f"key {key} repeated or not demo-, or date {date} outside 2023/24 and 2024/25")
    keys.add(key)
    (kind, event), = command["event"].items()
    kinds[kind] += 1
    globals()[kind](key, date, event)

def agreed(icb, trust, mine, theirs):
    return statements.get((icb, trust, mine)) == statements.get((trust, icb, theirs))

icbs = [code for code, o in orgs.items() if o["kind"] == "ICB"]
pairs = sorted({(a, b) for a, b, kind in statements if orgs[a]["kind"] == "ICB"})
for name in sorted(kinds):
    print(f"kind.{name} {kinds[name]}")
for name in sorted(totals):
    print(f"{name} {totals[name]}")
print("providers", sum(o["kind"] in PROVIDER_KINDS - {"PROVIDER_COLLABORATIVE"} for o in orgs.values()))
print("delegations.full", sum(d["mode"] == "DELEGATION_FULL" for d in delegations.values()))
print("delegations.joint_committee", sum(d["mode"] == "DELEGATION_JOINT_COMMITTEE" for d in delegations.values()))
for mode in ("DELEGATION_FULL", "DELEGATION_JOINT_COMMITTEE"):
    regions = {orgs[d["delegate"]]["parent"] for d in delegations.values() if d["mode"] == mode}
    print(f"regions.{mode}", ",".join(sorted(regions)))
print("contract.types", sum(name.startswith("type.") for name in totals))
for year in YEARS:
    print(f"icbs.without_mental_health.{year}", sum(mental_health[code, year] == 0 for code in icbs))
print("contracts.2024.not_paid_m1_to_m6",
      sum(c["months"] != set(range(1, 7)) for c in contracts.values() if c["year"] == 2024))
print("contracts.2023", sum(c["year"] == 2023 for c in contracts.values()))
print("contracts.2023.not_paid_in_full",
      sum(c["months"] != set(range(1, 13)) or c["paid"] != c["value"] - c["pot"]
          for c in contracts.values() if c["year"] == 2023))
# How far below 2024/25 each ICB's 2023/24 allocations are, against 4% to 6%.
for stream in ("CORE_SERVICES", "PRIMARY_MEDICAL_CARE", "RUNNING_COST_ALLOWANCE"):
    outside = [code for code in icbs
               if not 0.94 * allocated[code, stream, 2024] <= allocated[code, stream, 2023] <= 0.96 * allocated[code, stream, 2024]]
    print(f"previous.{stream}.outside_4_to_6_percent", ",".join(sorted(outside)) or "none")
# The Mental Health Investment Standard for 2024/25, decided on exact fractions as mhis does:
# spend growth at least core services allocation growth.
missed = []
for code in icbs:
    spend = [mental_health[code, year] for year in YEARS]
    core = [allocated[code, "CORE_SERVICES", year] for year in YEARS]
    if spend[0] <= 0 or core[0] <= 0 or (spend[1] - spend[0]) * core[0] < (core[1] - core[0]) * spend[0]:
        missed.append(code)
print("mhis.met", len(icbs) - len(missed))
print("mhis.missed", ",".join(sorted(missed)) or "none")
print("statements.pairs", len(pairs))
print("statements.income_disagreed", sum(not agreed(a, b, "EXPENDITURE", "INCOME") for a, b in pairs))
print("statements.balance_disagreed", sum(not agreed(a, b, "PAYABLE", "RECEIVABLE") for a, b in pairs))
print("statements.expenditure_not_paid", sum(statements[a, b, "EXPENDITURE"] != paid_between[a, b] for a, b in pairs))
print("closed", len(closed))
# Places: the least share of its 2024/25 budget any place has put under contract, in basis points.
places = [code for code, o in orgs.items() if o["kind"] == "PLACE"]
def contracted(code, stream, year):
    return sum(c["value"] for c in contracts.values()
               if c["commissioner"] == code and c["stream"] == stream and c["year"] == year)
funded = [code for code in places if received[code, "CORE_SERVICES", 2024] > 0]
print("places.funded", len(funded))
print("places.contracted_min_bp",
      min(contracted(code, "CORE_SERVICES", 2024) * WHOLE // received[code, "CORE_SERVICES", 2024]
          for code in funded))
# Running costs: ICBs with nothing paid from the allowance by M6, and the range of the share of
# the allowance committed for the year (the running_costs report warns above 95%).
rca = [(sum(paid_by_month[code, "RUNNING_COST_ALLOWANCE", 2024, m] for m in range(1, 7)),
        contracted(code, "RUNNING_COST_ALLOWANCE", 2024), received[code, "RUNNING_COST_ALLOWANCE", 2024])
       for code in icbs]
print("running_costs.unspent", sum(paid == 0 for paid, _, _ in rca))
print("running_costs.committed_bp", f"{min(c * WHOLE // a for _, c, a in rca)}-{max(c * WHOLE // a for _, c, a in rca)}")
print("running_costs.paid_m6_half", sum(2 * paid * 100 // c in range(98, 101) for paid, c, _ in rca))
# The system_balance plugin's 2024/25 surplus of each ICB's system: what the ICB and its places
# still hold of every revenue stream (received less passed on beyond the system less contract
# values), less whatever a body's full-year plan for a stream runs beyond its contract value
# (its forecast expenditure is the larger of the two), against the ICB's income, in basis points
# rounded towards minus infinity.
REVENUE = ("CORE_SERVICES", "PRIMARY_MEDICAL_CARE", "SPECIALISED", "RUNNING_COST_ALLOWANCE",
           "SERVICE_DEVELOPMENT_FUNDING")
balance = {}
for code in icbs:
    members = [code] + [p for p in places if orgs[p]["parent"] == code]
    surplus = sum(headroom[m, stream, 2024] - max(0, sum(plans.get((m, stream, 2024), [])) -
                                                     contracted(m, stream, 2024))
                  for m in members for stream in REVENUE)
    income = sum(received[code, stream, 2024] for stream in REVENUE)
    balance[code] = surplus * WHOLE // income
print("systems.deficit", sum(bp < 0 for bp in balance.values()))
print("systems.break_even", sum(0 <= bp < 100 for bp in balance.values()))
print("systems.surplus", sum(bp >= 100 for bp in balance.values()))
print("systems.surplus_max_bp", max(balance.values()))
print("systems.deficit_codes", ",".join(code for code, bp in sorted(balance.items()) if bp < 0))
print("systems.deficit_bp", f"{min(balance.values())}-{max(bp for bp in balance.values() if bp < 0)}"
      if min(balance.values()) < 0 else "none")
# Plans against actuals: each ICB's M1-M6 core services payments against its plan's M1-M6, in
# basis points over plan, rounded towards minus infinity.
print("plans.icbs_without", sum((code, "CORE_SERVICES", 2024) not in plans for code in icbs))
print("plans.places_without", sum((code, "CORE_SERVICES", 2024) not in plans for code in places))
over = {}
for code in icbs:
    planned = sum(plans[code, "CORE_SERVICES", 2024][:6])
    actual = sum(paid_by_month[code, "CORE_SERVICES", 2024, m] for m in range(1, 7))
    over[code] = (actual - planned) * WHOLE // planned
on_plan = [bp for bp in over.values() if -100 < bp < 200]
under = [bp for bp in over.values() if bp <= -100]
print("plans.on_plan_bp", f"{min(on_plan)}-{max(on_plan)}")
print("plans.underspent", len(under))
print("plans.underspent_codes", ",".join(code for code, bp in sorted(over.items()) if bp <= -100))
print("plans.underspent_bp", f"{min(under)}-{max(under)}" if under else "none")
print("plans.overspent", sum(200 <= bp <= 500 for bp in over.values()))
print("plans.overspent_bp", f"{min(bp for bp in over.values() if bp >= 200)}-{max(bp for bp in over.values() if bp >= 200)}")
PY
}

# Prints the value the model printed for name.
model_value() {
    sed -n "s/^$1 //p" "$scratch/model.txt"
}

# The demo's commands, checked without a ledger ------------------------------------------------

check "demo --ndjson writes the demo, saying its figures are illustrative"
"$admin" demo --ndjson "$scratch/demo.ndjson" 2>"$scratch/ndjson.err" ||
    fail "demo --ndjson failed:"$'\n'"$(cat "$scratch/ndjson.err")"
lines=$(wc -l <"$scratch/demo.ndjson")
grep -q illustrative "$scratch/ndjson.err" || fail "demo --ndjson does not say its figures are illustrative"

check "the same seed writes byte-identical commands; another seed other amounts under the same keys"
"$admin" demo --ndjson "$scratch/again.ndjson" 2>/dev/null || fail "the second demo --ndjson failed"
cmp -s "$scratch/demo.ndjson" "$scratch/again.ndjson" || fail "seed 2024 wrote different commands twice"
"$admin" demo --ndjson "$scratch/seed-7.ndjson" --seed 7 2>/dev/null || fail "demo --ndjson --seed 7 failed"
! cmp -s "$scratch/demo.ndjson" "$scratch/seed-7.ndjson" || fail "seed 7 wrote the same commands as seed 2024"
keys() { sed 's/^{"idempotency_key":"\([^"]*\)".*/\1/' "$1"; }
[[ $(keys "$scratch/demo.ndjson") == "$(keys "$scratch/seed-7.ndjson")" ]] ||
    fail "seeds 2024 and 7 planned different commands, not just different amounts"

check "every command of seeds 2024, 7 and 0 passes the model of the ledger's rules"
rules_model "$scratch/seed-7.ndjson" >"$scratch/model-7.txt" || fail "seed 7 breaks a rule (above)"
"$admin" demo --ndjson "$scratch/seed-0.ndjson" --seed 0 2>/dev/null || fail "demo --ndjson --seed 0 failed"
rules_model "$scratch/seed-0.ndjson" >"$scratch/model-0.txt" || fail "seed 0 breaks a rule (above)"
rules_model "$scratch/demo.ndjson" >"$scratch/model.txt" || fail "seed 2024 breaks a rule (above)"

# The number of commands of each kind the demo plans from the reference files, for any seed:
# 2024/25's, and 2023/24's 126 allocations, 42 mental health blocks and their 504 payments;
# NHS England's revenue limits: four streams in 2024/25 and three in 2023/24. Contracts: 444
# before system balance, then 251 block contracts that bring each system near break-even (one
# per place, 106; running cost, primary medical care and urgent care blocks per ICB, 3 x 42 =
# 126; and a third specialised contract for each of the 20 fully delegated ICBs bar the revoked
# one, 19), each paid M1-M6: 2916 + 251 x 6 = 4422 payments. A core services plan for each of the
# 42 ICBs and 106 places: 148.
declare -A expected_kinds=(
    [org_registered]=365 [service_line_registered]=12 [delegation_granted]=24 [delegation_revoked]=1
    [allocation_issued]=276 [budget_delegated]=148 [contract_agreed]=695 [payment_made]=4422
    [period_closed]=6 [contract_varied]=13 [statement_submitted]=168 [outcome_reported]=32
    [revenue_limit_set]=7 [plan_set]=148
)
check "the demo plans 695 contracts, 24 delegations (1 revoked), 148 plans and the other kinds as expected"
expected_total=0
for kind in "${!expected_kinds[@]}"; do
    [[ $(model_value "kind.$kind") == "${expected_kinds[$kind]}" ]] ||
        fail "$kind: planned $(model_value "kind.$kind"), expected ${expected_kinds[$kind]}"
    expected_total=$((expected_total + expected_kinds[$kind]))
done
[[ $lines -eq $expected_total ]] || fail "demo --ndjson wrote $lines lines, expected $expected_total"

check "the 2024/25 allocations sum exactly to the national totals"
[[ $(model_value allocated.2024.CORE_SERVICES.ICB) == 10760000000000 ]] || fail "core services: $(model_value allocated.2024.CORE_SERVICES.ICB)"
[[ $(model_value allocated.2024.PRIMARY_MEDICAL_CARE.ICB) == 1120000000000 ]] || fail "primary medical care: $(model_value allocated.2024.PRIMARY_MEDICAL_CARE.ICB)"
[[ $(model_value allocated.2024.SPECIALISED.ICB) == 530000000000 ]] || fail "specialised to ICBs: $(model_value allocated.2024.SPECIALISED.ICB)"
[[ $(model_value allocated.2024.SPECIALISED.JOINT_COMMITTEE) == 580000000000 ]] || fail "specialised to joint committees: $(model_value allocated.2024.SPECIALISED.JOINT_COMMITTEE)"
[[ -z $(model_value running_cost.out_of_range) ]] || fail "$(model_value running_cost.out_of_range) running cost allowances are out of range"

check "NHS England's revenue limits are the published totals, and exactly what each stream allocates"
limit_is() { # YEAR STREAM PENCE
    [[ $(model_value "limit.$1.$2") == "$3" ]] || fail "the $1 $2 limit is $(model_value "limit.$1.$2"), not $3"
}
limit_is 2024 CORE_SERVICES 10760000000000
limit_is 2024 PRIMARY_MEDICAL_CARE 1120000000000
limit_is 2024 SPECIALISED $((530000000000 + 580000000000))
limit_is 2024 RUNNING_COST_ALLOWANCE "$(model_value allocated.2024.RUNNING_COST_ALLOWANCE.ICB)"
limit_is 2023 CORE_SERVICES 10222000000000
limit_is 2023 PRIMARY_MEDICAL_CARE 1064000000000
limit_is 2023 RUNNING_COST_ALLOWANCE "$(model_value allocated.2023.RUNNING_COST_ALLOWANCE.ICB)"

check "2023/24: core services exactly £102,220,000,000.00 and primary medical care £10,640,000,000.00"
[[ $(model_value allocated.2023.CORE_SERVICES.ICB) == 10222000000000 ]] || fail "2023/24 core services: $(model_value allocated.2023.CORE_SERVICES.ICB)"
[[ $(model_value allocated.2023.PRIMARY_MEDICAL_CARE.ICB) == 1064000000000 ]] || fail "2023/24 primary medical care: $(model_value allocated.2023.PRIMARY_MEDICAL_CARE.ICB)"
[[ -n $(model_value allocated.2023.RUNNING_COST_ALLOWANCE.ICB) && -z $(model_value allocated.2023.SPECIALISED.ICB) ]] ||
    fail "2023/24 should hold running cost allowances and no specialised allocations"

check "for seeds 2024, 7 and 0, each ICB's 2023/24 allocations are 4% to 6% below its 2024/25 ones"
for seed in "" -7 -0; do
    for stream in CORE_SERVICES PRIMARY_MEDICAL_CARE RUNNING_COST_ALLOWANCE; do
        outside=$(sed -n "s/^previous.$stream.outside_4_to_6_percent //p" "$scratch/model$seed.txt")
        [[ $outside == none ]] || fail "seed ${seed#-}: $stream for 2023/24 is not 4% to 6% below 2024/25 at $outside"
    done
done

check "Mental Health Investment Standard for 2024/25: 40 ICBs meet it, QOQ and QSL miss it, for seeds 2024, 7 and 0"
for seed in "" -7 -0; do
    met=$(sed -n 's/^mhis.met //p' "$scratch/model$seed.txt")
    missed=$(sed -n 's/^mhis.missed //p' "$scratch/model$seed.txt")
    [[ $met == 40 && $missed == QOQ,QSL ]] || fail "seed ${seed#-}: $met ICBs meet the standard; missed by $missed"
done

check "for seeds 2024, 7 and 0: every place contracts at least 98.5% of its budget; every ICB spends running costs"
# A place puts 98.5% to 99.5% of its budget under contract (the rounding down of the draw can
# take a penny off, hence 9849). Each ICB commits 90% to 94% of its running cost allowance in
# one block contract and pays six twelfths of it by M6, half to within the pennies of rounding.
for seed in "" -7 -0; do
    model_is() { [[ $(sed -n "s/^$1 //p" "$scratch/model$seed.txt") == "$2" ]] ||
        fail "seed ${seed#-}: $1 is $(sed -n "s/^$1 //p" "$scratch/model$seed.txt"), expected $2"; }
    model_is places.funded 106
    (($(sed -n 's/^places.contracted_min_bp //p' "$scratch/model$seed.txt") >= 9849)) ||
        fail "seed ${seed#-}: a place contracts only $(sed -n 's/^places.contracted_min_bp //p' "$scratch/model$seed.txt") bp of its budget"
    model_is running_costs.unspent 0
    model_is running_costs.paid_m6_half 42
    committed=$(sed -n 's/^running_costs.committed_bp //p' "$scratch/model$seed.txt")
    ((${committed%-*} >= 9000 && ${committed#*-} <= 9400)) ||
        fail "seed ${seed#-}: running cost commitments run $committed bp of the allowance, not 9000-9400"
done

check "for seeds 2024, 7 and 0: 36 systems within 1% of break-even, 3 in surplus, 3 in deficit (QK1, QNC, QOC)"
# Break-even systems keep 0.2% to 0.8% of their income; QR1 and QHG are drawn 1.5% to 3%, and
# QYG, whose specialised delegation is revoked, keeps the rest of its specialised allocation
# uncontracted. The ledger refuses any commitment beyond headroom, but not a plan: QK1, QNC and
# QOC plan core services of what their systems hold plus 1.5% to 2% of their core income, so
# their systems forecast deficits; their other streams keep a little, which leaves each 1% to 2%
# of its whole income in deficit.
for seed in "" -7 -0; do
    model_is systems.deficit 3
    model_is systems.deficit_codes QK1,QNC,QOC
    model_is systems.break_even 36
    model_is systems.surplus 3
    deficit=$(sed -n 's/^systems.deficit_bp //p' "$scratch/model$seed.txt")
    [[ $deficit =~ ^-([0-9]+)--([0-9]+)$ ]] && ((BASH_REMATCH[1] <= 200 && BASH_REMATCH[2] >= 100)) ||
        fail "seed ${seed#-}: deficit systems run $deficit bp of their income, not -200 to -100"
    (($(sed -n 's/^systems.surplus_max_bp //p' "$scratch/model$seed.txt") <= 400)) ||
        fail "seed ${seed#-}: a system keeps more than 4% of its income"
done

check "for seeds 2024, 7 and 0: every ICB and place has a core plan; ICBs' M1-M6 actuals within 0.5% of it, bar 4 ICBs 2.5% to 4.5% over and 3 2% to 6% under"
# The plan is each month's twelfth of the ICB's core contracts' payable value; actuals differ by
# the activity drawn on aligned payment and incentive and activity-based contracts (92% to 104%
# of plan), a fraction of a percent overall. QWO, QOX, QMJ and QJM planned 3% to 4% less; QK1,
# QNC and QOC, the deficit systems, planned more than they hold, so their actuals run under plan.
for seed in "" -7 -0; do
    model_is plans.icbs_without 0
    model_is plans.places_without 0
    model_is plans.overspent 4
    model_is plans.underspent 3
    model_is plans.underspent_codes QK1,QNC,QOC
    under=$(sed -n 's/^plans.underspent_bp //p' "$scratch/model$seed.txt")
    [[ $under =~ ^-([0-9]+)--([0-9]+)$ ]] && ((BASH_REMATCH[1] <= 600 && BASH_REMATCH[2] >= 200)) ||
        fail "seed ${seed#-}: underspending ICBs run $under bp under plan, not 200-600"
    on=$(sed -n 's/^plans.on_plan_bp //p' "$scratch/model$seed.txt")
    over=$(sed -n 's/^plans.overspent_bp //p' "$scratch/model$seed.txt")
    [[ $on =~ ^(-?[0-9]+)-(-?[0-9]+)$ ]] && ((BASH_REMATCH[1] >= -50 && BASH_REMATCH[2] <= 50)) ||
        fail "seed ${seed#-}: on-plan ICBs run $on bp from plan, not within 50"
    [[ $over =~ ^([0-9]+)-([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 250 && BASH_REMATCH[2] <= 450)) ||
        fail "seed ${seed#-}: overspending ICBs run $over bp over plan, not 250-450"
done

check "full delegation in the East of England, Midlands and North West; joint committees elsewhere"
[[ $(model_value delegations.full) == 20 && $(model_value regions.DELEGATION_FULL) == Y60,Y61,Y62 ]] ||
    fail "full delegations: $(model_value delegations.full) in $(model_value regions.DELEGATION_FULL)"
[[ $(model_value delegations.joint_committee) == 4 && $(model_value regions.DELEGATION_JOINT_COMMITTEE) == Y56,Y58,Y59,Y63 ]] ||
    fail "joint committees: $(model_value delegations.joint_committee) in $(model_value regions.DELEGATION_JOINT_COMMITTEE)"

check "about 200 invented providers; contracts of all 7 types; a mental health contract for every ICB in both years"
[[ $(model_value providers) == 204 ]] || fail "$(model_value providers) providers"
[[ $(model_value contract.types) == 7 ]] || fail "contracts of $(model_value contract.types) types"
for year in 2023 2024; do
    [[ $(model_value icbs.without_mental_health.$year) == 0 ]] ||
        fail "$(model_value icbs.without_mental_health.$year) ICBs have no mental health contract in $year"
done
[[ $(model_value metrics) -gt 0 && $(model_value outcomes.partial) == "${expected_kinds[outcome_reported]}" ]] ||
    fail "outcome reports: $(model_value outcomes.partial) partial of ${expected_kinds[outcome_reported]}"

check "every 2024/25 contract is paid for months 1 to 6, every 2023/24 one in full, and month 1 of 2024/25 is closed for 6 bodies"
[[ $(model_value contracts.2024.not_paid_m1_to_m6) == 0 ]] || fail "$(model_value contracts.2024.not_paid_m1_to_m6) contracts miss a month"
[[ $(model_value contracts.2023) == 42 ]] || fail "$(model_value contracts.2023) contracts in 2023/24"
[[ $(model_value contracts.2023.not_paid_in_full) == 0 ]] || fail "$(model_value contracts.2023.not_paid_in_full) 2023/24 contracts are not paid in full"
[[ $(model_value closed) == 6 ]] || fail "$(model_value closed) months closed"

check "month 6 statements: 42 ICB and trust pairs, 4 disagreeing on income and 4 on balances"
[[ $(model_value statements.pairs) == 42 ]] || fail "$(model_value statements.pairs) pairs"
[[ $(model_value statements.expenditure_not_paid) == 0 ]] || fail "expenditure differs from payments for $(model_value statements.expenditure_not_paid) pairs"
[[ $(model_value statements.income_disagreed) == 4 ]] || fail "$(model_value statements.income_disagreed) pairs disagree on income"
[[ $(model_value statements.balance_disagreed) == 4 ]] || fail "$(model_value statements.balance_disagreed) pairs disagree on balances"

# The demo applied to a ledger: these need the core to accept and check every event kind ------


first=$scratch/first
check "demo on a fresh directory exits 0, refuses nothing and records every planned command"
expect_status 0 demo --data-dir "$first"
recorded=$(field "Events recorded")
hash=$(field "Head hash")
[[ $(field "Commands refused") == 0 ]] || fail "the ledger refused commands:"$'\n'"$output"
[[ $recorded == "$lines" ]] || fail "demo recorded \"$recorded\" events of the $lines planned"
[[ $hash =~ ^[0-9a-f]{64}$ ]] || fail "demo printed head hash \"$hash\""
[[ $(field "Events already present") == 0 ]] || fail "a fresh demo found events present"
[[ $output == *illustrative* ]] || fail "demo does not say its figures are illustrative"
# fundflow-admin prints the count of each kind once it calls demo_summary_kinds_write.
if [[ $output == *"Commands of kind"* ]]; then
    for kind in "${!expected_kinds[@]}"; do
        [[ $(field "Commands of kind $kind") == "${expected_kinds[$kind]}" ]] ||
            fail "the summary counts $kind as \"$(field "Commands of kind $kind")\""
    done
fi

check "positions for core_services totals exactly £107,600,000,000.00 received"
expect_status 0 positions --data-dir "$first" --stream core_services
received=$(total_column 3)
[[ $received == "£107,600,000,000.00" ]] || fail "TOTAL received is \"$received\":"$'\n'"$output"

check "NHS England received its £107,600,000,000.00 core services limit, allocated it all and has £0.00 headroom"
expect_status 0 positions --data-dir "$first" --stream core_services --kind nhse
[[ $(total_column 3) == "£107,600,000,000.00" ]] || fail "NHS England's limit (received) is $(total_column 3):"$'\n'"$output"
[[ $(total_column 4) == "£107,600,000,000.00" ]] || fail "NHS England allocated $(total_column 4):"$'\n'"$output"
[[ $(total_column 5) == "£0.00" ]] || fail "NHS England's headroom is $(total_column 5):"$'\n'"$output"
expect_status 0 positions --data-dir "$first" --stream specialised --kind nhse
[[ $(total_column 3) == "£11,100,000,000.00" && $(total_column 5) == "£0.00" ]] ||
    fail "NHS England's specialised limit or headroom is wrong:"$'\n'"$output"

check "positions for primary_medical_care, named in upper case, totals £11,200,000,000.00"
expect_status 0 positions --data-dir "$first" --stream PRIMARY_MEDICAL_CARE --year 2024/25
received=$(total_column 3)
[[ $received == "£11,200,000,000.00" ]] || fail "TOTAL received is \"$received\":"$'\n'"$output"

check "positions for 2023/24 total exactly £102,220,000,000.00 of core services and £10,640,000,000.00 of primary medical care"
expect_status 0 positions --data-dir "$first" --stream core_services --year 2023/24
received=$(total_column 3)
[[ $received == "£102,220,000,000.00" ]] || fail "2023/24 core services TOTAL received is \"$received\":"$'\n'"$output"
expect_status 0 positions --data-dir "$first" --stream primary_medical_care --year 2023/24
received=$(total_column 3)
[[ $received == "£10,640,000,000.00" ]] || fail "2023/24 primary medical care TOTAL received is \"$received\":"$'\n'"$output"

check "every ICB's running cost allowance lies between £15.5m and £48.3m"
expect_status 0 positions --data-dir "$first" --stream running_cost_allowance --kind ICB
out_of_range=$(printf '%s\n' "$output" | awk -F '  +' '
    /^Q/ { amount = $3; gsub(/[£,.]/, "", amount);
           if (amount + 0 < 1550000000 || amount + 0 > 4830000000) print $1 }')
[[ -z $out_of_range ]] || fail "running cost allowances out of range for: $out_of_range"

check "the ICBs passed on exactly what places and local authorities were budgeted"
expect_status 0 positions --data-dir "$first" --kind icb
passed_on=$(pence "$(total_column 4)")
places=$(model_value budget.2024.CORE_SERVICES.PLACE)
authorities=$(model_value budget.2024.CORE_SERVICES.LOCAL_AUTHORITY)
[[ $passed_on == $((places + authorities)) ]] || fail "ICBs passed on $passed_on pence, not $places + $authorities"
expect_status 0 positions --data-dir "$first" --kind place
[[ $(pence "$(total_column 3)") == "$places" ]] || fail "places received $(total_column 3), not $places pence"

check "positions add up on every row of the demo: received - passed on = held, held - contract value = uncommitted headroom"
for kind in nhse icb place joint_committee trust; do
    for stream in core_services specialised running_cost_allowance; do
        expect_status 0 positions --data-dir "$first" --kind "$kind" --stream "$stream"
        wrong=$(printf '%s\n' "$output" | awk -F '  +' '
            function pence(text) { gsub(/[£,.]/, "", text); return text + 0 }
            $1 ~ /^[A-Z0-9]+$/ && NF >= 7 && $3 ~ /£/ {
                if (pence($3) - pence($4) != pence($5) || pence($5) - pence($6) != pence($7)) print $1 }')
        [[ -z $wrong ]] || fail "$kind $stream rows that do not add up: $wrong"$'\n'"$output"
    done
done
expect_status 0 positions --help
[[ $output == *"held                  = received - passed on"* && \
   $output == *"uncommitted headroom  = held - contract value"* ]] || fail "positions --help:"$'\n'"$output"

check "specialised: the delegated ICBs received exactly £5.3bn and the joint committees £5.8bn"
expect_status 0 positions --data-dir "$first" --stream specialised --kind icb
[[ $(total_column 3) == "£5,300,000,000.00" ]] || fail "ICBs received $(total_column 3):"$'\n'"$output"
expect_status 0 positions --data-dir "$first" --stream specialised --kind joint_committee
[[ $(total_column 3) == "£5,800,000,000.00" ]] || fail "joint committees received $(total_column 3):"$'\n'"$output"

check "running demo again records 0 new events and keeps the head hash"
expect_status 0 demo --data-dir "$first"
[[ $(field "Events recorded") == 0 ]] || fail "the second demo recorded events:"$'\n'"$output"
[[ $(field "Events already present") == "$recorded" ]] || fail "the second demo did not replay every event"
[[ $(field "Head hash") == "$hash" ]] || fail "the head hash changed on the second run"

check "head prints the same sequence and hash"
expect_status 0 head --data-dir "$first"
[[ $output == *"sequence $recorded"* && $output == *"hash $hash"* ]] || fail "head printed:"$'\n'"$output"

check "a second fresh directory with the same seed gives the same head hash"
expect_status 0 demo --data-dir "$scratch/same" --seed 2024
[[ $(field "Head hash") == "$hash" ]] || fail "the same seed gave another hash"

check "a different seed gives a different head hash"
expect_status 0 demo --data-dir "$scratch/other" --seed 7
[[ $(field "Head hash") != "$hash" ]] || fail "seed 7 gave the same hash as seed 2024"

check "a different seed into the same directory is refused with exit 1"
expect_status 1 demo --data-dir "$first" --seed 7
[[ $output == *idempotency_conflict* ]] || fail "the refusal does not name the error:"$'\n'"$output"

check "verify prints OK"
expect_status 0 verify --data-dir "$first"
# The second line is the Merkle tree's check; no server has signed a head of this directory.
[[ $output == "OK: $recorded events, head $recorded, hash $hash"$'\n'"OK: the Merkle tree matches the log's $recorded events; no signed head is stored yet" ]] ||
    fail "verify printed:"$'\n'"$output"

check "rebuild, then verify prints OK"
expect_status 0 rebuild --data-dir "$first"
expect_status 0 verify --data-dir "$first"
[[ $output == OK:* ]] || fail "verify after rebuild printed:"$'\n'"$output"

check "positions --as-at 1 shows zero received"
expect_status 0 positions --data-dir "$first" --as-at 1
received=$(total_column 3)
[[ $received == "£0.00" ]] || fail "TOTAL received as at 1 is \"$received\":"$'\n'"$output"

check "the data directory can come from FUNDFLOW_DATA_DIR"
status=0
output=$(FUNDFLOW_DATA_DIR=$first "$admin" head 2>&1) || status=$?
[[ $status -eq 0 && $output == *"hash $hash"* ]] || fail "head through FUNDFLOW_DATA_DIR gave $status:"$'\n'"$output"

check "an unknown flag exits 2 and names the flag"
expect_status 2 positions --data-dir "$first" --no-such-flag
[[ $output == *--no-such-flag* ]] || fail "the message does not name the flag: $output"

check "a nonexistent subcommand exits 2"
expect_status 2 no-such-subcommand --data-dir "$first"

check "a flag without its value, or with a bad number, year or name, exits 2 naming the flag"
expect_status 2 positions --data-dir
[[ $output == *--data-dir* ]] || fail "the message does not name --data-dir: $output"
expect_status 2 positions --data-dir "$first" --as-at twelve
[[ $output == *--as-at* ]] || fail "the message does not name --as-at: $output"
expect_status 2 positions --data-dir "$first" --year 2024
[[ $output == *--year* ]] || fail "the message does not name --year: $output"
expect_status 2 positions --data-dir "$first" --stream nonsense
[[ $output == *--stream* ]] || fail "the message does not name --stream: $output"
expect_status 2 demo --data-dir "$scratch/never" --seed -1
[[ $output == *--seed* ]] || fail "the message does not name --seed: $output"
expect_status 2 head

check "a directory that cannot be opened exits 4 and names the directory"
expect_status 4 head --data-dir "$scratch/missing"
[[ $output == *"$scratch/missing"* ]] || fail "the message does not name the directory: $output"
[[ ! -e $scratch/missing ]] || fail "head created the directory it was asked to read"
touch "$scratch/a-file"
expect_status 4 demo --data-dir "$scratch/a-file"

check "a malformed reference file is refused with its name and line"
mkdir "$scratch/reference"
cp "$(dirname "$0")/../../tools/admin/data/"*.csv "$scratch/reference/" 2>/dev/null ||
    fail "cannot copy the reference files next to this script"
printf 'QZZ,E54999999,"NHS Unclosed ICB,Y60\n' >> "$scratch/reference/icbs.csv"
expect_status 1 demo --data-dir "$scratch/bad-reference" --reference-dir "$scratch/reference"
[[ $output == *"icbs.csv line 44"* ]] || fail "the message does not name the file and line: $output"

check "--help explains every flag and the exit codes, and exits 0"
expect_status 0 positions --help
for flag in --data-dir --map-bytes --year --stream --as-at --kind; do
    [[ $output == *"$flag"* ]] || fail "positions --help does not explain $flag"
done
[[ $output == *"Exit codes"* ]] || fail "positions --help does not list the exit codes"

check "principal add creates a ledger and prints a token alone on the last line"
principals=$scratch/principals
expect_status 0 principal add root --role admin --data-dir "$principals"
token=$(printf '%s\n' "$output" | tail -n 1)
[[ $token =~ ^ff_[0-9a-f]{64}$ ]] || fail "the last line is not a token:"$'\n'"$output"

check "principal add --json prints the name and a new token"
expect_status 0 principal add ops.reader@example --role reader --data-dir "$principals" --json
json_token=$(printf '%s' "$output" | python3 -c '
import json, sys
reply = json.load(sys.stdin)
assert reply["name"] == "ops.reader@example", reply
print(reply["token"])') || fail "--json printed:"$'\n'"$output"
[[ $json_token =~ ^ff_[0-9a-f]{64}$ && $json_token != "$token" ]] ||
    fail "--json gave token \"$json_token\""

check "a name is granted once, a scope must be registered, and a role is required"
expect_status 1 principal add root --role reader --data-dir "$principals"
[[ $output == *principal_exists* ]] || fail "a second root was not refused as principal_exists: $output"
expect_status 1 principal add scoped --role writer --org QZZ --data-dir "$principals"
[[ $output == *org_unknown* && $output == *scope_org_code* ]] || fail "an unknown scope gave: $output"
expect_status 2 principal add norole --data-dir "$principals"
[[ $output == *--role* ]] || fail "the message does not name --role: $output"
expect_status 2 principal add bad --role nonsense --data-dir "$principals"
[[ $output == *--role* ]] || fail "the message does not name --role: $output"
expect_status 2 principal --data-dir "$principals"

check "principal list shows both principals, never a token or its hash, and verify passes"
expect_status 0 principal list --data-dir "$principals"
[[ $output == *root*ADMIN* && $output == *ops.reader@example*READER* ]] ||
    fail "principal list printed:"$'\n'"$output"
[[ $output != *"${token:3:16}"* ]] || fail "principal list shows the token"
expect_status 0 principal list --data-dir "$principals" --json
printf '%s' "$output" | python3 -c '
import json, sys
names = [p["name"] for p in json.load(sys.stdin)["principals"]]
assert names == ["ops.reader@example", "root"], names' || fail "--json list printed:"$'\n'"$output"
[[ $output != *"${token:3:16}"* ]] || fail "principal list --json shows the token"
expect_status 0 verify --data-dir "$principals"
[[ $output == "OK: 2 events, head 2, hash "* ]] || fail "verify printed:"$'\n'"$output"

check "principal list does not create a ledger"
expect_status 4 principal list --data-dir "$scratch/no-principals"
[[ ! -e $scratch/no-principals ]] || fail "principal list created the directory"

echo "PASS: all $checks checks"
