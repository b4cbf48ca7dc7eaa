#!/usr/bin/env bash
# Integration test of principals, roles and scopes through the real programs: fundflowd and the
# fundflow CLI. A small ledger (two ICBs with a place each, two trusts, allocations and a
# contract each) is loaded by the loopback bootstrap; then an admin is made, and by it a reader
# scoped to a trust, a writer scoped to an ICB and an auditor. Each may do what its role and scope
# allow and is refused the rest; a revoked token is refused at once; every event's actor is the
# principal that sent it; once a principal exists, a loopback client without a token is refused;
# /metrics with metrics_role refuses other roles; admin_token is a bootstrap only.
#
# Usage: test_access.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN
# Each check prints what it checks; the first that fails stops the script. Servers run on free
# loopback ports in a scratch directory and are stopped, by their PIDs, however the script ends.
# Needs python3 and curl.
set -euo pipefail

if [[ $# -ne 3 || ! -x "$1" || ! -x "$2" || ! -x "$3" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW PATH_TO_FUNDFLOW_ADMIN" >&2
    exit 2
fi
fundflowd=$1
cli=$2
admin_tool=$3
for tool in python3 curl; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is needed; run tools/setup.sh" >&2; exit 2; }
done

# fail, check, run, expect_status, expect_output, expect_errors, server_launch, server_stop,
# server_reap, http_post, expect_http, http_get, expect_http_get and log_wait.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin access

server_start() {
    server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" "$@"
    export FUNDFLOW_SERVER="http://$server_address"
}

# Runs the CLI as a principal: as NAME TOKEN ARGS...; "" for no token.
as() {
    local token=$1
    shift
    if [[ -n $token ]]; then
        FUNDFLOW_TOKEN=$token run "$@"
    else
        run "$@"
    fi
}

expect_as() {
    local expected=$1 token=$2
    shift 2
    as "$token" "$@"
    [[ $status -eq $expected ]] \
        || fail "fundflow $* exited $status, expected $expected; stdout:"$'\n'"$output"$'\n'"stderr:"$'\n'"$errors"
}

# principal add --json as the admin (or the bootstrap), printing the token.
principal_token() {
    local token=$1 name=$2
    shift 2
    expect_as 0 "$token" --json principal add "$name" "$@"
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["name"] == sys.argv[2]; print(d["token"])' \
        "$output" "$name"
}

# The ledger ------------------------------------------------------------------------------------

server_start
year=(--stream core_services --year 2024/25)
# Writes for 2024/25 need a date inside it: today is not.
write_year=("${year[@]}" --date 2024-05-01)

check "the loopback bootstrap (no principal yet) loads a small ledger as local-admin"
expect_status 0 org add X24 --name "NHS England" --kind nhse --date 2024-04-01
expect_status 0 org add QUE --name "Cambridgeshire ICB" --kind icb --parent X24 --date 2024-04-01
expect_status 0 org add 06H --name "Cambridgeshire place" --kind place --parent QUE --date 2024-04-01
expect_status 0 org add QF7 --name "South Yorkshire ICB" --kind icb --parent X24 --date 2024-04-01
expect_status 0 org add 02P --name "Barnsley place" --kind place --parent QF7 --date 2024-04-01
expect_status 0 org add RGT --name "Cambridge University Hospitals" --kind trust --date 2024-04-01
expect_status 0 org add RHQ --name "Sheffield Teaching Hospitals" --kind trust --date 2024-04-01
expect_status 0 limit set --funder X24 "${year[@]}" --amount 2000000 --date 2024-04-01
expect_status 0 allocate --from X24 --to QUE "${year[@]}" --amount 1000000 --date 2024-04-01
expect_status 0 allocate --from X24 --to QF7 "${year[@]}" --amount 1000000 --date 2024-04-01
expect_status 0 contract agree QUE-C1 --commissioner QUE --provider RGT --type block \
    "${year[@]}" --value 100000 --date 2024-04-01
expect_status 0 contract agree QF7-C1 --commissioner QF7 --provider RHQ --type block \
    "${year[@]}" --value 100000 --date 2024-04-01

check "the first principal, an admin, is made by the loopback bootstrap; its token is the last line"
expect_status 0 principal add boss --role admin
[[ $output == *"name:"*"boss"* && $output == *"national"* ]] || fail "no details:"$'\n'"$output"
admin=${output##*$'\n'}
[[ $admin =~ ^ff_[0-9a-f]{64}$ ]] || fail "the last line is not a token: $admin"

check "once a principal exists, a loopback client without a token is refused (fail closed)"
expect_status 1 info
expect_errors "unauthenticated"
expect_status 1 principal add sneaky --role admin
expect_errors "unauthenticated"

check "the admin's token works, from FUNDFLOW_TOKEN and from --token"
expect_as 0 "$admin" info
expect_status 0 --token "$admin" info

check "the admin makes a reader scoped to a trust, a writer scoped to an ICB and an auditor"
reader=$(principal_token "$admin" rgt-reader --role reader --org RGT)
writer=$(principal_token "$admin" que-writer --role writer --org QUE)
auditor=$(principal_token "$admin" auditor1 --role auditor)
expect_as 0 "$admin" principal list
for name in boss rgt-reader que-writer auditor1; do
    grep -Eq "^$name " <<<"$output" || fail "principal list lacks $name:"$'\n'"$output"
done
grep -Eq '^rgt-reader +reader +RGT +[0-9]{4}-[0-9]{2}-[0-9]{2} +boss +-$' <<<"$output" \
    || fail "the reader's row is not name, role, scope, created, by, revoked:"$'\n'"$output"
grep -Eq '^auditor1 +auditor +national ' <<<"$output" || fail "the auditor is not national:"$'\n'"$output"

check "a non-admin may not make principals"
expect_as 1 "$writer" principal add helper --role reader --org 06H
expect_errors "permission_denied"

# Reads in scope ---------------------------------------------------------------------------------

check "the trust's reader sees its own contract's position"
expect_as 0 "$reader" contract show QUE-C1
expect_output "RGT"

check "the trust's reader is refused another provider's contract"
expect_as 1 "$reader" contract show QF7-C1
expect_errors "permission_denied"

check "the trust's reader is refused an ICB's position"
expect_as 1 "$reader" position QF7 "${year[@]}"
expect_errors "permission_denied"

check "the trust's reader may not write"
expect_as 1 "$reader" budget --from QUE --to 06H "${write_year[@]}" --amount 10
expect_errors "permission_denied"

# Writes in scope --------------------------------------------------------------------------------

check "the ICB's writer passes budget to its own place"
expect_as 0 "$writer" budget --from QUE --to 06H "${write_year[@]}" --amount 250
expect_as 0 "$writer" position 06H "${year[@]}"
expect_output "£250.00"

check "the ICB's writer may not allocate as NHS England"
expect_as 1 "$writer" allocate --from X24 --to QUE "${write_year[@]}" --amount 10
expect_errors "permission_denied"

check "the ICB's writer may not set or vary NHS England's revenue limit"
expect_as 1 "$writer" limit set --funder X24 "${write_year[@]}" --amount 3000000
expect_errors "permission_denied"

check "the ICB's writer may not act as another ICB"
expect_as 1 "$writer" budget --from QF7 --to 02P "${write_year[@]}" --amount 10
expect_errors "permission_denied"

check "the ICB's writer sees its ICB but not the other"
expect_as 0 "$writer" position QUE "${year[@]}"
expect_as 1 "$writer" position QF7 "${year[@]}"
expect_errors "permission_denied"

# Actors -----------------------------------------------------------------------------------------

check "history --actor lists the writer's events, each with the writer as its actor"
expect_as 0 "$auditor" --json history --actor que-writer
python3 -c '
import json, sys
events = json.loads(sys.argv[1])["events"]
assert len(events) == 1, events
assert all(e["actor"] == "que-writer" for e in events), events
assert "budget_delegated" in events[0]["event"], events[0]
' "$output" || fail "history --actor que-writer is not the writer's one budget:"$'\n'"$output"
expect_as 0 "$auditor" history --actor que-writer
expect_output "que-writer"

check "the admin's events are its grants, each with boss as its actor"
expect_as 0 "$auditor" --json history --actor boss
python3 -c '
import json, sys
events = json.loads(sys.argv[1])["events"]
assert len(events) == 3, events
assert all(e["actor"] == "boss" for e in events), events
' "$output" || fail "history --actor boss is not three grants by boss:"$'\n'"$output"

check "the ledger's first events were recorded by the bootstrap as local-admin"
expect_as 0 "$auditor" --json event 1
[[ $output == *'"actor":"local-admin"'* ]] || fail "event 1's actor:"$'\n'"$output"

check "a reader may not read another principal's history"
expect_as 1 "$reader" history --actor que-writer
expect_errors "permission_denied"

# Revocation ----------------------------------------------------------------------------------

check "the reader's token works until it is revoked, and is refused on the next request"
expect_as 0 "$reader" contract show QUE-C1
expect_as 0 "$admin" principal revoke rgt-reader --reason "left the trust"
expect_output "revoked"
expect_as 1 "$reader" contract show QUE-C1
expect_errors "unauthenticated"

check "principal list shows the revocation's date, and --json lists every principal"
expect_as 0 "$auditor" principal list
grep -Eq '^rgt-reader +reader +RGT +[0-9-]{10} +boss +[0-9]{4}-[0-9]{2}-[0-9]{2}$' <<<"$output" \
    || fail "the revoked reader's row:"$'\n'"$output"
expect_as 0 "$auditor" --json principal list
python3 -c '
import json, sys
names = [p["name"] for p in json.loads(sys.argv[1])["principals"]]
assert names == sorted(["boss", "rgt-reader", "que-writer", "auditor1"]), names
' "$output" || fail "principal list --json:"$'\n'"$output"

check "a revoked name is never granted again"
expect_as 1 "$admin" principal add rgt-reader --role reader --org RGT
server_stop

# /metrics by role ----------------------------------------------------------------------------

check "with --metrics-role auditor, /metrics refuses no token and a writer, and serves the auditor and an admin"
server_start --metrics-role auditor
expect_http_get 401 /metrics ""
expect_http_get 403 /metrics "$writer"
expect_http_get 200 /metrics "$auditor"
[[ $http_body == *fundflow_* ]] || fail "/metrics is not the metrics: ${http_body:0:300}"
expect_http_get 200 /metrics "$admin"
expect_http_get 200 /healthz ""
server_stop

# admin_token is a bootstrap --------------------------------------------------------------------

check "admin_token is accepted as admin while no principal exists, and then refused"
printf 'admin_token = bootstrap-secret\n' >"$scratch/fresh.conf"
chmod 600 "$scratch/fresh.conf"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/fresh" \
    --config "$scratch/fresh.conf"
export FUNDFLOW_SERVER="http://$server_address"
expect_status 1 info
expect_errors "unauthenticated"
first=$(principal_token bootstrap-secret first-admin --role admin)
expect_as 1 bootstrap-secret info
expect_errors "unauthenticated"
expect_as 0 "$first" info

check "a reload while principals exist warns that admin_token is ignored"
kill -HUP "$server_pid"
log_wait 'level=warn msg="admin_token is ignored: principals exist; remove it"' 1
server_stop

check "and so does the next start"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/fresh" \
    --config "$scratch/fresh.conf"
log_wait 'level=warn msg="admin_token is ignored: principals exist; remove it"' 1
server_stop

# The first admin made offline ---------------------------------------------------------------

check "an admin made offline by fundflow-admin before the first start: loopback without a token is refused"
"$admin_tool" principal add offline-admin --role admin --data-dir "$scratch/offline" \
    >"$scratch/offline.out" 2>"$scratch/offline.err" \
    || fail "fundflow-admin principal add failed:"$'\n'"$(cat "$scratch/offline.err")"
offline=$(tail -n 1 "$scratch/offline.out")
[[ $offline =~ ^ff_[0-9a-f]{64}$ ]] || fail "fundflow-admin printed no token: $offline"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/offline"
export FUNDFLOW_SERVER="http://$server_address"
expect_status 1 info
expect_errors "unauthenticated"
expect_as 0 "$offline" principal add second --role reader
expect_as 0 "$offline" principal list
grep -Eq '^second +reader +national +[0-9-]{10} +offline-admin +-$' <<<"$output" \
    || fail "the second principal was not granted by offline-admin:"$'\n'"$output"
server_stop

echo "all $checks checks passed"
