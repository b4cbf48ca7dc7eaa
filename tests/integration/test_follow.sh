#!/usr/bin/env bash
# Integration test of `fundflow events --follow`: against a real fundflowd it prints the writes
# made after it started, one line each in order (text and JSON), goes on after a restart of the
# server, and exits 0 on SIGTERM and SIGINT; against a stand-in server (python3) that drops a connection and then sends an event
# whose previous_hash is not the hash before it, it resumes after its last event and then says
# where the chain broke and exits 1.
#
# Usage: test_follow.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW
# Nothing waits for time: the follower is known to be waiting by fundflow_watchers_parked, and
# its output is read line by line until the expected event, a bounded number of times. Needs
# python3 and curl.
set -euo pipefail
command -v python3 >/dev/null || { echo "$0: python3 is needed; run tools/setup.sh" >&2; exit 2; }

if [[ $# -ne 2 || ! -x "$1" || ! -x "$2" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW" >&2
    exit 2
fi
fundflowd=$1
cli=$2

# fail, check, run, expect_status, http_get, server_launch, server_stop and server_reap.
source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin follow

# Every follower and stand-in started here (started_pids) is stopped by PID however the script
# ends.
trap started_reap EXIT

# True when the server has N (the argument) WatchEvents requests waiting.
watchers_parked() {
    http_get /metrics ""
    [[ $http_body == *$'\n'"fundflow_watchers_parked $1"* ]]
}

# True when the file $1 has a line starting with $2.
has_line() {
    grep -q -- "^$2" "$1"
}

# Sends SIGNAL ($2) to the follower PID ($1) and expects it to exit 0, without a sanitizer report.
follower_stop() {
    local pid=$1 signal=$2 exit_status=0
    kill "-$signal" "$pid"
    wait "$pid" || exit_status=$?
    [[ $exit_status -eq 0 ]] || fail "the follower exited $exit_status on SIG$signal: $(cat "$scratch/follow.err")"
    sanitizer_check "the follower" "$(cat "$scratch/follow.err")"
}

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data"
export FUNDFLOW_SERVER="http://$server_address"

check "events --follow, started on an empty ledger, prints each write made after it started"
"$cli" events --follow >"$scratch/follow.out" 2>"$scratch/follow.err" &
follower=$!
started_pids+=("$follower")
poll_until "watchers_parked 1"
expect_status 0 org add X24 --kind nhse --name "NHS England" --date 2024-04-01
poll_until 'has_line "$scratch/follow.out" "1  2024-04-01  org_registered"'
expect_status 0 org add QUE --kind icb --name "NHS Cambridgeshire and Peterborough ICB" \
    --parent X24 --date 2024-04-01
expect_status 0 limit set --funder X24 --stream core-services --year 2024/25 --amount 10000 \
    --date 2024-04-01
poll_until 'has_line "$scratch/follow.out" "3  2024-04-01  revenue_limit_set"'
lines=$(wc -l <"$scratch/follow.out")
[[ $lines -eq 3 ]] || fail "expected 3 lines, got: $(cat "$scratch/follow.out")"
sed -n 2p "$scratch/follow.out" | grep -q '^2  2024-04-01  org_registered  register QUE (icb)' \
    || fail "line 2 is not event 2: $(cat "$scratch/follow.out")"

check "it exits 0 on SIGTERM while waiting, printing nothing more"
poll_until "watchers_parked 1"
follower_stop "$follower" TERM
[[ $(wc -l <"$scratch/follow.out") -eq 3 ]] || fail "more lines after SIGTERM"

check "--after 1 --format json: one EventRecord per line from event 2, whose chain is checked against event 1"
"$cli" events --follow --after 1 --format json >"$scratch/follow.out" 2>"$scratch/follow.err" &
follower=$!
started_pids+=("$follower")
poll_until 'has_line "$scratch/follow.out" "{\"sequence\":\"3\""'
head -n 1 "$scratch/follow.out" | python3 -c 'import json, sys
record = json.loads(sys.stdin.read())
assert record["sequence"] == "2", record
assert record["event"]["org_registered"]["code"] == "QUE", record
assert len(record["previous_hash"]) == 44 and len(record["hash"]) == 44, record' \
    || fail "the first JSON line is not event 2: $(head -n 1 "$scratch/follow.out")"
# £1.00 from X24 to QUE, event 4, written while it waits.
poll_until "watchers_parked 1"
expect_status 0 allocate --from X24 --to QUE --stream core-services --year 2024/25 --amount 1 \
    --date 2024-04-02
poll_until 'has_line "$scratch/follow.out" "{\"sequence\":\"4\""'
follower_stop "$follower" INT

check "--follow refuses a filter and a file format"
expect_status 2 events --follow --org X24
expect_status 2 events --follow --format csv

check "across a restart of the server on its address, it reconnects and goes on after event 4, printing nothing twice"
"$cli" events --follow --after 3 >"$scratch/follow.out" 2>"$scratch/follow.err" &
follower=$!
started_pids+=("$follower")
poll_until 'has_line "$scratch/follow.out" "4  2024-04-02  allocation_issued"'
address=$server_address
server_stop
server_launch "$fundflowd" --listen "$address" --data-dir "$scratch/data"
poll_until "watchers_parked 1"
# £2.00 more from X24 to QUE, event 5.
expect_status 0 allocate --from X24 --to QUE --stream core-services --year 2024/25 --amount 2 \
    --date 2024-04-02
poll_until 'has_line "$scratch/follow.out" "5  2024-04-02  allocation_issued"'
[[ $(wc -l <"$scratch/follow.out") -eq 2 ]] || fail "expected events 4 and 5 once: $(cat "$scratch/follow.out")"
follower_stop "$follower" TERM
server_stop

check "against a stand-in server: a dropped connection is resumed after the last event, and a broken link is named with exit 1"
cat >"$scratch/stand_in.py" <<'PYTHON'
# Answers WatchEvents in JSON: events 1 and 2, chained; then drops one connection; then, asked
# for what follows 2 (the resume), event 3 whose previous_hash is not event 2's hash.
import base64, http.server, json, sys

def hash_of(n):
    return base64.b64encode(bytes([n]) * 32).decode()

def record(n, previous):
    return {"sequence": str(n), "effective_date": 20240401, "actor": "stand-in",
            "event": {"org_registered": {"code": "X%d" % n, "name": "Org %d" % n, "kind": "NHSE"}},
            "previous_hash": previous, "hash": hash_of(n)}

calls = []

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        calls.append(body)
        with open(sys.argv[2], "a") as log:
            log.write(json.dumps(body) + "\n")
        if len(calls) == 2:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        after = int(body.get("after_sequence", 0))
        if after == 0:
            events = [record(1, base64.b64encode(bytes(32)).decode()), record(2, hash_of(1))]
        elif after == 2:
            events = [record(3, hash_of(9))]
        else:
            events = []
        reply = json.dumps({"events": events, "head_sequence": "3",
                            "next_after_sequence": str(events[-1]["sequence"] if events else after)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as out:
    out.write("%d\n" % server.server_address[1])
server.serve_forever()
PYTHON
python3 "$scratch/stand_in.py" "$scratch/stand_in.port" "$scratch/stand_in.calls" &
started_pids+=("$!")
poll_until '[[ -s "$scratch/stand_in.port" ]]'
run --server "http://127.0.0.1:$(cat "$scratch/stand_in.port")" --json events --follow
[[ $status -eq 1 ]] || fail "exit $status, expected 1: $errors"
[[ $errors == *"the hash chain is broken at event 3: its previous_hash is not the hash of event 2"* ]] \
    || fail "no word of the broken link: $errors"
[[ $(printf '%s\n' "$output" | grep -c '"sequence":"[12]"') -eq 2 ]] \
    || fail "events 1 and 2 were not printed once each: $output"
[[ $output != *'"sequence":"3"'* ]] || fail "the broken event 3 was printed: $output"
# The call after the dropped one resumed after event 2.
sed -n 3p "$scratch/stand_in.calls" | grep -q '"after_sequence": "2"' \
    || fail "the reconnect did not resume after event 2: $(cat "$scratch/stand_in.calls")"

echo "ok: $checks checks"
