#!/usr/bin/env bash
# Installs fundflow into a scratch prefix, builds the example plugin outside the tree against the
# installed header alone, loads it into a running fundflowd and runs its report over HTTP.
# Arguments: the build directory, and the example plugin's source.
set -euo pipefail
build_dir=$1
source_file=$2

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-plugin-test-XXXXXX")
cleanup() {
  server_reap
  rm -rf "$scratch"
}
trap cleanup EXIT

# fail, server_launch (which waits for this server's own "listening on" line), server_stop and
# server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"

echo "check 1: cmake --install puts the plugin header and fundflowd under the prefix"
# Under DESTDIR, so that the absolute /etc/fundflow of the install lands in the scratch tree too.
DESTDIR="$scratch/root" cmake --install "$build_dir" --prefix /prefix >/dev/null
ln -s root/prefix "$scratch/prefix"
[[ -f "$scratch/prefix/include/fundflow/plugin.h" ]] || fail "no installed plugin.h"
[[ -x "$scratch/prefix/bin/fundflowd" ]] || fail "no installed fundflowd"
[[ -f "$scratch/root/etc/fundflow/fundflowd.conf" ]] || fail "no configuration under DESTDIR"

echo "check 2: the example builds with only the installed include directory"
mkdir -p "$scratch/plugins"
cc -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
   -I "$scratch/prefix/include" -o "$scratch/plugins/contract_count.so" "$source_file" \
   || fail "the example did not build against the installed header"
# Captured first: grep -q on a pipe under pipefail can fail a passing check by SIGPIPE.
symbols=$(nm -D --defined-only "$scratch/plugins/contract_count.so") || fail "nm failed"
grep -q fundflow_plugin_entry <<<"$symbols" || fail "the entry symbol is not exported"

echo "check 3: a running fundflowd loads it and runs its report"
server_launch "$scratch/prefix/bin/fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" \
   --plugin-dir "$scratch/plugins"
address=$server_address
twirp() { curl -s --max-time 60 -X POST -H 'Content-Type: application/json' -d "$2" "http://$address/twirp/fundflow.v1.Ledger/$1"; }
plugins=$(twirp ListPlugins '{}') || fail "ListPlugins failed"
grep -q '"name":"contract_count"' <<<"$plugins" || fail "ListPlugins lacks contract_count: $plugins"
twirp SubmitCommands '{"linked":true,"commands":[
 {"idempotency_key":"o1","effective_date":20240401,"event":{"org_registered":{"code":"X24","name":"NHS England","kind":"NHSE"}}},
 {"idempotency_key":"o2","effective_date":20240401,"event":{"org_registered":{"code":"QUE","name":"An ICB","kind":"ICB","parent_code":"X24"}}},
 {"idempotency_key":"o3","effective_date":20240401,"event":{"org_registered":{"code":"RGT","name":"A trust","kind":"TRUST","parent_code":"QUE"}}},
 {"idempotency_key":"l1","effective_date":20240401,"event":{"revenue_limit_set":{"funder_code":"X24","stream":"CORE_SERVICES","financial_year":2024,"limit_pence":"1000000"}}},
 {"idempotency_key":"a1","effective_date":20240401,"event":{"allocation_issued":{"funder_code":"X24","recipient_code":"QUE","stream":"CORE_SERVICES","financial_year":2024,"amount_pence":"1000000"}}},
 {"idempotency_key":"c1","effective_date":20240401,"event":{"contract_agreed":{"contract_id":"C-1","commissioner_code":"QUE","provider_code":"RGT","type":"BLOCK","financial_year":2024,"stream":"CORE_SERVICES","annual_value_pence":"250000"}}},
 {"idempotency_key":"c2","effective_date":20240401,"event":{"contract_agreed":{"contract_id":"C-2","commissioner_code":"QUE","provider_code":"RGT","type":"BLOCK","financial_year":2024,"stream":"CORE_SERVICES","annual_value_pence":"125050"}}}]}' >/dev/null
report=$(twirp RunReport '{"plugin":"contract_count","financial_year":2024}')
echo "$report" | python3 -c '
import json, sys
report = json.load(sys.stdin)
rows = report["tables"][0]["rows"]
assert len(rows) == 1, rows
cells = rows[0]["cells"]
assert cells[0]["text"] == "QUE", cells
assert cells[1]["number"] == "2", cells
assert cells[2]["number"] == "375050", cells
assert report["findings"][0]["level"] == "PASS", report["findings"]
' || fail "unexpected report: $report"
server_stop
echo "PASS: all 3 checks"
