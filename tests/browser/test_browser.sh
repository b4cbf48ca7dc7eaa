#!/usr/bin/env bash
# The web view in a real browser: starts fundflowd on 127.0.0.1:0 with --ui-dir and the report
# plugins, records a small known ledger through the fundflow CLI (figures worked by hand below),
# and runs test_browser.mjs (playwright-core driving Debian's headless chromium) against it:
# first with no principals (the loopback demo needs no token), then with a provider-scoped
# reader's token. Screenshots land in SHOT_DIR.
#
# Usage: test_browser.sh FUNDFLOWD FUNDFLOW UI_DIR PLUGIN_DIR NODE_MODULES SHOT_DIR
# Exits 77 (CTest's skip) naming what is missing when chromium, node or node_modules is absent.
set -euo pipefail

if [[ $# -ne 6 ]]; then
    echo "usage: $0 FUNDFLOWD FUNDFLOW UI_DIR PLUGIN_DIR NODE_MODULES SHOT_DIR" >&2
    exit 2
fi
fundflowd=$1
cli=$2
ui_dir=$3
plugin_dir=$4
node_modules=$5
shot_dir=$6
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

skip() {
    echo "SKIP: $* (bash tools/setup.sh installs chromium and runs npm ci in tools/web)"
    exit 77
}
[[ -x /usr/bin/chromium ]] || skip "/usr/bin/chromium is not installed"
command -v node >/dev/null 2>&1 || skip "node is not installed"
[[ -d $node_modules/playwright-core && -d $node_modules/axe-core ]] || skip "$node_modules lacks playwright-core or axe-core"
[[ -f $ui_dir/index.html ]] || skip "the web view is not built in $ui_dir (configure again after npm ci)"

source "$here/../support/cli_test_lib.sh"
scratch_begin browser

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/ledger" --ui-dir "$ui_dir" \
    --plugin-dir "$plugin_dir"
export FUNDFLOW_SERVER="http://$server_address"

# The ledger (every date 2024-04-01 unless given), as test_positions.sh's, with one more
# provider's contract:
#   X24's limits: core £4,450.00, primary care £500.00, running costs £100.00
#   X24 -> QUE core £3,450.00; X24 -> QJG core £1,000.00; X24 -> QUE primary care £500.00;
#   X24 -> QUE running cost allowance £100.00 (so running_costs passes QUE and warns of QJG, QMJ)
#   QUE -> 06H core £1,350.00; QJG -> 07K core £200.00; QUE -> PCEAST core £100.00
#   QUE-C1 QUE -> RGT core, outcome based, £1,200.00 with a £100.00 pot (metric MA)
#   06H-C2 06H -> RGT core, block, £600.00; QUE-C3 QUE -> RGT primary care, block, £400.00
#   QJG-C4 QJG -> RWH core, block, £300.00 (RWH's: an RGT reader must not see it)
#   QUE-C1 M1 paid £300.00, M2 paid £250.00; 06H-C2 M1 paid £50.00;
#   MA achieved 50% on 2024-08-01: earned £50.00, released £50.00.
check "record the ledger"
d=(--date 2024-04-01)
y=(--year 2024/25)
expect_status 0 org add X24 --kind nhse --name "NHS England" "${d[@]}"
expect_status 0 org add Y61 --kind region --name "East of England" --parent X24 "${d[@]}"
expect_status 0 org add Y62 --kind region --name "London" --parent X24 "${d[@]}"
expect_status 0 org add QUE --kind icb --name "ICB one" --parent Y61 "${d[@]}"
expect_status 0 org add QJG --kind icb --name "ICB two" --parent Y61 "${d[@]}"
expect_status 0 org add QMJ --kind icb --name "ICB three" --parent Y62 "${d[@]}"
expect_status 0 org add 06H --kind place --name "Place one" --parent QUE "${d[@]}"
expect_status 0 org add 07K --kind place --name "Place two" --parent QJG "${d[@]}"
expect_status 0 org add RGT --kind trust --name "Trust one" "${d[@]}"
expect_status 0 org add RWH --kind trust --name "Trust two" "${d[@]}"
expect_status 0 org add PCEAST --kind provider-collaborative --name "Collaborative" \
    --member RGT --member RWH --lead RGT "${d[@]}"
expect_status 0 limit set --funder X24 --stream core_services "${y[@]}" --amount 4450 "${d[@]}"
expect_status 0 limit set --funder X24 --stream primary_medical_care "${y[@]}" --amount 500 "${d[@]}"
expect_status 0 limit set --funder X24 --stream running_cost_allowance "${y[@]}" --amount 100 "${d[@]}"
expect_status 0 allocate --from X24 --to QUE --stream running_cost_allowance "${y[@]}" --amount 100 "${d[@]}"
expect_status 0 allocate --from X24 --to QUE --stream core_services "${y[@]}" --amount 3450 "${d[@]}"
expect_status 0 allocate --from X24 --to QJG --stream core_services "${y[@]}" --amount 1000 "${d[@]}"
expect_status 0 allocate --from X24 --to QUE --stream primary_medical_care "${y[@]}" --amount 500 "${d[@]}"
expect_status 0 budget --from QUE --to 06H --stream core_services "${y[@]}" --amount 1350 "${d[@]}"
expect_status 0 budget --from QJG --to 07K --stream core_services "${y[@]}" --amount 200 "${d[@]}"
expect_status 0 budget --from QUE --to PCEAST --stream core_services "${y[@]}" --amount 100 "${d[@]}"
expect_status 0 contract agree QUE-C1 --commissioner QUE --provider RGT --type outcome-based "${y[@]}" \
    --stream core_services --value 1200 --category mental_health --pot 100 --metric MA:10000 "${d[@]}"
expect_status 0 contract agree 06H-C2 --commissioner 06H --provider RGT --type block "${y[@]}" \
    --stream core_services --value 600 --category mental_health "${d[@]}"
expect_status 0 contract agree QUE-C3 --commissioner QUE --provider RGT --type block "${y[@]}" \
    --stream primary_medical_care --value 400 --category mental_health "${d[@]}"
expect_status 0 contract agree QJG-C4 --commissioner QJG --provider RWH --type block "${y[@]}" \
    --stream core_services --value 300 --category acute_care "${d[@]}"
expect_status 0 pay QUE-C1 --month M1 --amount 300 --date 2024-04-30
expect_status 0 pay QUE-C1 --month M2 --amount 250 --date 2024-05-31
expect_status 0 pay 06H-C2 --month M1 --amount 50 --date 2024-04-30
expect_status 0 outcome QUE-C1 --metric MA --achievement 50 --date 2024-08-01

check "the pages in a browser with no principals (the loopback demo)"
export FF_BROWSER_PHASE=open
node "$here/test_browser.mjs" "$FUNDFLOW_SERVER" "$node_modules" "$shot_dir"

check "a provider-scoped reader's token"
expect_status 0 principal add web-admin --role admin
admin=${output##*$'\n'}
[[ $admin =~ ^ff_[0-9a-f]{64}$ ]] || fail "no admin token: $output"
FUNDFLOW_TOKEN=$admin expect_status 0 principal add rgt-reader --role reader --org RGT
reader=${output##*$'\n'}
[[ $reader =~ ^ff_[0-9a-f]{64}$ ]] || fail "no reader token: $output"
export FF_BROWSER_PHASE=scoped FF_READER_TOKEN=$reader FF_ADMIN_TOKEN=$admin
node "$here/test_browser.mjs" "$FUNDFLOW_SERVER" "$node_modules" "$shot_dir"

server_stop
echo "test_browser: $checks checks passed"
