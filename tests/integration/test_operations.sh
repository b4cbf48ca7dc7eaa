#!/usr/bin/env bash
# Integration test of fundflowd's operations: --check-config on the default configuration and on
# bad ones (exit 0 or 2, naming the setting, touching nothing); log_file reopened on SIGHUP as
# logrotate needs (move the file, HUP, the next lines go to a new file at the path); and
# /healthz answering 503 with the reason when the data directory is not writable and when the
# data file fills over 90% of map_bytes_max, and 200 again once the directory is back.
#
# Usage: test_operations.sh FUNDFLOWD FUNDFLOW FUNDFLOW_BENCH DEFAULT_CONFIG
set -euo pipefail

if [[ $# -ne 4 ]]; then
    echo "usage: $0 FUNDFLOWD FUNDFLOW FUNDFLOW_BENCH DEFAULT_CONFIG" >&2
    exit 2
fi
fundflowd=$1
cli=$2
bench=$3
default_config=$4

source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin operations

# Runs fundflowd --check-config with the arguments given; sets status and output (both streams).
check_config() {
    status=0
    output=$("$fundflowd" --check-config "$@" 2>&1) || status=$?
    sanitizer_check "fundflowd --check-config" "$output"
}

# Polls (bounded) until FILE holds a line with PATTERN; fails naming what was awaited.
file_wait() {
    local file=$1 pattern=$2
    for ((polls = 0; polls < server_wait_seconds * 20; polls++)); do
        grep -qF -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "$file never got a line with $pattern: $(cat "$file" 2>/dev/null)"
}

check "--check-config accepts the default configuration, with its paths made local"
mkdir "$scratch/backups"
sed -e "s|^data_dir = .*|data_dir = $scratch/never-made|" \
    -e "s|^backup_dir = .*|backup_dir = $scratch/backups|" "$default_config" >"$scratch/good.conf"
chmod 600 "$scratch/good.conf"
check_config "$scratch/good.conf"
[[ $status -eq 0 ]] || fail "the default configuration was refused ($status): $output"
[[ $output == "configuration OK: $scratch/good.conf" ]] || fail "unexpected: $output"
[[ ! -e $scratch/never-made ]] || fail "--check-config made the data directory"

check "--check-config refuses bad settings with exit 2, naming each"
cp -p "$scratch/good.conf" "$scratch/bad.conf"
echo "max_connections = 0" >>"$scratch/bad.conf"
check_config "$scratch/bad.conf"
[[ $status -eq 2 && $output == *"is not a valid value for max_connections"* ]] \
    || fail "max_connections = 0: exit $status: $output"
printf 'data_dir = %s\nlistne = 127.0.0.1:1\n' "$scratch/d" >"$scratch/typo.conf"
check_config "$scratch/typo.conf"
[[ $status -eq 2 && $output == *"typo.conf line 2: unknown setting 'listne'"* ]] \
    || fail "a typo: exit $status: $output"
check_config --config "$scratch/good.conf" --backup-dir "$scratch/nowhere"
[[ $status -eq 2 && $output == *"backup_dir: $scratch/nowhere is not a directory"* ]] \
    || fail "a missing backup_dir: exit $status: $output"
check_config "$scratch/missing.conf"
[[ $status -eq 2 && $output == *"cannot read $scratch/missing.conf"* ]] \
    || fail "a missing file: exit $status: $output"

check "SIGHUP reopens log_file: after a move, new lines go to a new file"
log="$scratch/fundflowd.log"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" --log-file "$log"
export FUNDFLOW_SERVER="http://$server_address"
expect_status 0 org list
file_wait "$log" "method=ListOrgs"
[[ ! -s $server_err ]] || fail "lines went to stderr with a log file: $(cat "$server_err")"
mv "$log" "$log.1"
kill -HUP "$server_pid"
file_wait "$log" "configuration not re-read"
expect_status 0 info
file_wait "$log" "method=ServerInfo"
grep -qF "method=ServerInfo" "$log.1" && fail "a line after the HUP went to the moved file"
grep -qF "method=ListOrgs" "$log" && fail "a line from before the move is in the new file"

check "/healthz is 503 while the data directory is not writable, naming it, and 200 after"
expect_http_get 200 /healthz ""
[[ $http_body == "ok" ]] || fail "healthy /healthz said: $http_body"
# Renamed away: root may write anywhere it can reach, so a chmod would not do.
mv "$scratch/data" "$scratch/data.away"
expect_http_get 503 /healthz ""
[[ $http_body == "unhealthy: data directory $scratch/data is not writable: No such file or directory" ]] \
    || fail "unhealthy /healthz said: $http_body"
mv "$scratch/data.away" "$scratch/data"
expect_http_get 200 /healthz ""
server_stop

check "/healthz is 503 once the data file fills over 90% of map_bytes_max"
# 512 KiB at most: the bench's allocations (about 1 KiB each with their projections) fill it
# within a few hundred events.
printf 'map_bytes = 524288\nmap_bytes_max = 524288\n' >"$scratch/small.conf"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/small" \
    --config "$scratch/small.conf"
export FUNDFLOW_SERVER="http://$server_address"
expect_http_get 200 /healthz ""
for ((round = 0; round < 100; round++)); do
    "$bench" --connections 1 --batch-sizes 20 --requests-max 1 --seconds 60 >/dev/null 2>&1 || true
    http_get /healthz ""
    [[ $http_status == 503 ]] && break
done
[[ $http_status == 503 ]] || fail "/healthz stayed $http_status after $round rounds of writes"
[[ $http_body =~ ^unhealthy:\ the\ data\ file\ fills\ (9[1-9]|100)%\ of\ the\ largest\ map\ \([0-9]+\ of\ 524288\ bytes ]] \
    || fail "unhealthy /healthz said: $http_body"
echo "  after $round rounds: $http_body"
server_stop

echo "test_operations: $checks checks passed"
