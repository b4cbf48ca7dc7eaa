#!/usr/bin/env bash
# Integration test of fundflowd's hardening against a real process: a SIGHUP reload that would
# remove the admin token, or whose file does not parse, is refused with a level=error line and
# the old token still rules; a configuration file open to group or others is warned about at
# start and on reload; and a batch refused because the file system has no room answers
# resource_exhausted (429) with storage_full, and the log names the data directory.
#
# Usage: test_hardening_config.sh PATH_TO_FUNDFLOWD
# Every wait polls the server's own log or output, bounded in count and in time; each server
# runs on a free loopback port in the scratch directory and is stopped, by its PID, however the
# script ends.
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD (executable)" >&2
    exit 2
fi
fundflowd=$1

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-hardening-test-XXXXXX")
cleanup() {
    server_reap
    rm -rf "$scratch"
}
trap cleanup EXIT

# fail, check, server_launch, server_stop, server_reap, http_post, expect_http and log_wait.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"

log_lacks() {
    local pattern=$1
    ! grep -qF -- "$pattern" "$server_err" || fail "the server logged \"$pattern\":"$'\n'"$(cat "$server_err")"
}

config=$scratch/fundflowd.conf
write_config() {
    printf '%s\n' "$@" >"$config.new"
    chmod 600 "$config.new"
    mv "$config.new" "$config"
}

refused='level=error msg="configuration reload refused"'
open_warning='level=warn msg="configuration file is readable or writable by other users"'

# 1. A reload never lowers security ----------------------------------------------------------

write_config "admin_token = first-token"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" --config "$config"

check "a private configuration file draws no warning at start"
log_lacks "$open_warning"

check "with the token set, a request without it is 401 and one with it 200"
expect_http 401 ServerInfo "" "{}"
expect_http 200 ServerInfo first-token "{}"

check "a reload from a file without admin_token is refused with a level=error line"
write_config "# the token was removed"
kill -HUP "$server_pid"
log_wait "$refused" 1
grep -F -- "$refused" "$server_err" | grep -qF "has no admin_token" \
    || fail "the refusal does not say why:"$'\n'"$(cat "$server_err")"

check "after the refused reload the old token still rules"
expect_http 401 ServerInfo "" "{}"
expect_http 200 ServerInfo first-token "{}"

check "a reload from a file that does not parse is refused and the old token kept"
write_config "admin_token = other-token" "this line is not a setting"
kill -HUP "$server_pid"
log_wait "$refused" 2
expect_http 401 ServerInfo other-token "{}"
expect_http 200 ServerInfo first-token "{}"

check "a rejected token value is never written to the log"
write_config "admin_token = $(printf 'k%.0s' {1..300})"
kill -HUP "$server_pid"
log_wait "$refused" 3
log_lacks "kkkkkkkk"

check "a reload may change metrics_role but not clear it"
write_config "admin_token = first-token" "metrics_role = reader"
kill -HUP "$server_pid"
log_wait 'level=info msg="configuration re-read"' 1
expect_http_get 401 /metrics ""
expect_http_get 200 /metrics first-token
write_config "admin_token = first-token" "metrics_role = auditor"
kill -HUP "$server_pid"
log_wait 'level=info msg="configuration re-read"' 2
write_config "admin_token = first-token"
kill -HUP "$server_pid"
log_wait "$refused" 4
grep -F -- "$refused" "$server_err" | grep -qF "has no metrics_role" \
    || fail "the refusal does not say why:"$'\n'"$(cat "$server_err")"
expect_http_get 401 /metrics ""
expect_http_get 200 /healthz ""

# 2. A configuration file open to others is warned about -------------------------------------

check "a reload that rotates the token works, and warns that the file is open to others"
write_config "admin_token = second-token" "metrics_role = auditor"
chmod 640 "$config"
kill -HUP "$server_pid"
log_wait 'level=info msg="configuration re-read"' 3
log_wait "$open_warning" 1
grep -F -- "$open_warning" "$server_err" | grep -qF "path=\"$config\" mode=0640" \
    || fail "the warning does not name the file and its mode:"$'\n'"$(cat "$server_err")"
expect_http 200 ServerInfo second-token "{}"
expect_http 401 ServerInfo first-token "{}"
server_stop

check "a configuration file open to others is warned about at start"
chmod 604 "$config"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" --config "$config"
grep -F -- "$open_warning" "$server_err" | grep -qF "mode=0604" \
    || fail "no warning at start:"$'\n'"$(cat "$server_err")"
expect_http 200 ServerInfo second-token "{}"
server_stop

# 3. A full file system is storage_full, and the log names the data directory ----------------

# An organisation's registration: $1 the idempotency key, $2 its code, $3 its kind.
organisation() {
    printf '{"idempotency_key":"%s","effective_date":20240401,"event":{"org_registered":' "$1"
    printf '{"code":"%s","name":"Organisation %s","kind":"%s"}}}' "$2" "$2" "$3"
}

check "a ledger is made with one organisation, by a server with room"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/full"
expect_http 200 SubmitCommands "" "{\"commands\":[$(organisation first X24 NHSE)]}"
server_stop

# The server runs with a file-size limit of zero, so every write to its data file fails with
# EFBIG as on a full disk; SIGXFSZ is ignored (an ignored signal stays ignored across exec) so
# that the write fails instead of the process dying. Its output goes through pipes to cat
# processes started before the limit, since the limit would stop its writes to log files too.
# The ledger already exists, so opening it writes nothing.
no_room='exec > >(cat) 2> >(cat >&2); ulimit -f 0; trap "" XFSZ; exec "$@"'
server_launch bash -c "$no_room" no-room "$fundflowd" --listen 127.0.0.1:0 \
    --data-dir "$scratch/full"

check "a batch refused for want of room is resource_exhausted (429) with storage_full"
batch=""
digits=(0 1 2 3 4 5 6 7 8 9 A B C D E F G H J K)
for i in $(seq 0 199); do
    code="R${digits[i / 20]}${digits[i % 20]}"
    batch+="${batch:+,}$(organisation "big-$i" "$code" TRUST)"
done
expect_http 429 SubmitCommands "" "{\"commands\":[$batch]}"
[[ $http_body == *'"code":"resource_exhausted"'* && $http_body == *'"error":"storage_full"'* ]] \
    || fail "the refusal is not resource_exhausted with storage_full: $http_body"
[[ $http_body == *'storage is full'* ]] || fail "the refusal does not say storage is full: $http_body"

check "the log says storage is full at level=error and names the data directory"
log_wait "level=error msg=\"storage full\" data_dir=\"$scratch/full\"" 1

check "nothing of the batch was recorded, and reads still answer"
expect_http 200 ServerInfo "" "{}"
[[ $http_body == *'"head_sequence":"1"'* || $http_body == *'"headSequence":"1"'* ]] \
    || fail "the head moved: $http_body"
server_stop

echo "all $checks checks passed"
