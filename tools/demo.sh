#!/usr/bin/env bash
# Installs what is missing, builds fundflow, starts fundflowd on an embedded LMDB data directory,
# loads the illustrative 2024/25 demo through the RPC, serves the web view (build/release/ui) and
# prints its URL, and serves until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
data_dir=${FUNDFLOW_DATA_DIR:-$root/demo-data}
listen=${FUNDFLOW_LISTEN:-127.0.0.1:7460}

bash "$root/tools/setup.sh"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build/release" -j "$jobs" >/dev/null
build="$root/build/release"
bin="$build/bin"

mkdir -p "$data_dir"
log="$data_dir/fundflowd.log"
port_file=$(mktemp)
# The web view, built from tools/web when setup.sh could install its npm packages.
ui=()
[[ -f $build/ui/index.html ]] && ui=(--ui-dir "$build/ui")
"$bin/fundflowd" --listen "$listen" --data-dir "$data_dir" --plugin-dir "$build/plugins" \
  "${ui[@]}" >"$port_file" 2>>"$log" &
server_pid=$!
# On the way out the server is stopped by its PID and waited for, so a demo started again at once
# never opens the data directory while the last server still holds it.
trap 'kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -f "$port_file"' EXIT INT TERM

# Wait (at most 10 s) for the server to say where it listens.
for _ in $(seq 100); do
  grep -q '^listening on ' "$port_file" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "fundflowd did not start; see $log" >&2; exit 1; }
  sleep 0.1
done
address=$(sed -n 's/^listening on //p' "$port_file")
[[ -n "$address" ]] || { echo "fundflowd did not report its address; see $log" >&2; exit 1; }
export FUNDFLOW_SERVER="http://$address"

echo "fundflowd is serving $data_dir at $FUNDFLOW_SERVER (log: $log)"
commands=$(mktemp)
"$bin/fundflow-admin" demo --ndjson "$commands"
"$bin/fundflow" submit "$commands"
rm -f "$commands"
echo
"$bin/fundflow" positions --stream core_services --year 2024/25
cat <<TEXT

Every figure in this demo is illustrative. Try, in another terminal:

  export FUNDFLOW_SERVER=$FUNDFLOW_SERVER
  $bin/fundflow position QWE --stream core_services --year 2024/25 --rollup
  $bin/fundflow flows --year 2024/25 --root X24 --depth 1
  $bin/fundflow contract list --collaborative PCMH01
  $bin/fundflow contract show QJM-2024-PCMH
  $bin/fundflow delegation who --line SPCARD --icb QUE --on 2024-06-01
  $bin/fundflow events --org QWE --limit 10
  $bin/fundflow plugins
  $bin/fundflow report mhis --year 2024/25
  $bin/fundflow report aob --year 2024/25 --format csv
  $bin/fundflow report outcomes --year 2024/25 --format xlsx --output outcomes.xlsx
  $bin/fundflow verify
  $bin/fundflow --help

or with curl (JSON):

  curl -s -X POST -H 'Content-Type: application/json' \\
    -d '{"org_code":"QWE","stream":"CORE_SERVICES","financial_year":2024}' \\
    $FUNDFLOW_SERVER/twirp/fundflow.v1.Ledger/GetPosition
  curl -s $FUNDFLOW_SERVER/metrics

fundflowd keeps serving until you press Ctrl-C.
TEXT
if [[ ${#ui[@]} -gt 0 ]]; then
  echo
  echo "The web view: open $FUNDFLOW_SERVER/ui/ in a browser (docs/WEB.md tours it)."
else
  echo
  echo "The web view is not built: run bash tools/setup.sh (it runs npm ci in tools/web), then this again."
fi
wait "$server_pid"
