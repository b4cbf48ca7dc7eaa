#!/usr/bin/env bash
# Integration test of what fundflow does with a cluster: a request a stand-in follower refuses
# with not_leader and meta.leader is sent once more, to the leader named (a real fundflowd), and
# it says so on stderr; two stand-ins that name each other as leader do not send it round and
# round (followed once, then the refusal is reported, exit 1); --min-sequence sends
# Fundflow-Min-Sequence, and a head that does not reach it in time is refused naming both;
# cluster status renders a stand-in's GetClusterStatus as a table and as CSV; a single fundflowd
# says it is not part of a cluster.
#
# Usage: test_cluster_cli.sh PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW
# Nothing waits for time but the server's own min_sequence_wait_ms (100 ms here). Needs python3.
set -euo pipefail
command -v python3 >/dev/null || { echo "$0: python3 is needed; run tools/setup.sh" >&2; exit 2; }

if [[ $# -ne 2 || ! -x "$1" || ! -x "$2" ]]; then
    echo "usage: $0 PATH_TO_FUNDFLOWD PATH_TO_FUNDFLOW" >&2
    exit 2
fi
fundflowd=$1
cli=$2

source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin cluster-cli

# Every stand-in started here (started_pids) is stopped by PID however the script ends.
trap started_reap EXIT

cat >"$scratch/stand_in.py" <<'PYTHON'
# A stand-in node. "refuse": every call is refused as a follower refuses a write: 503,
# not_leader, meta.leader read from LEADER_FILE at each call ("" leaves it out). "status":
# GetClusterStatus answers a three-node cluster, ServerInfo a head of 5, in the request's
# encoding (protobuf encoded here by hand). Each call's method and Fundflow-Min-Sequence header
# go to CALLS_FILE, one line each.
import http.server, json, sys

port_file, calls_file, mode, leader_file = sys.argv[1:5]

STATUS = {"self_id": "1", "role": "CLUSTER_ROLE_LEADER", "term": "7", "leader_id": "1",
          "leader_url": "http://127.0.0.1:8001", "commit_index": "9", "applied_index": "9",
          "last_index": "10",
          "nodes": [{"id": "1", "raft_address": "127.0.0.1:9001", "url": "http://127.0.0.1:8001",
                     "voter": True, "role": "CLUSTER_ROLE_LEADER", "match_index": "10",
                     "behind": "0"},
                    {"id": "2", "raft_address": "127.0.0.1:9002", "url": "http://127.0.0.1:8002",
                     "voter": True, "role": "CLUSTER_ROLE_FOLLOWER", "match_index": "10",
                     "behind": "0"},
                    {"id": "3", "raft_address": "127.0.0.1:9003", "url": "http://127.0.0.1:8003",
                     "voter": False, "role": "CLUSTER_ROLE_FOLLOWER", "match_index": "6",
                     "behind": "4"}]}

def varint(n):
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out

ROLES = {"CLUSTER_ROLE_LEADER": 4, "CLUSTER_ROLE_FOLLOWER": 2}

def encode(fields):
    """fields: (number, value) pairs; ints as varints, str, bytes and lists of pairs nested."""
    out = b""
    for number, value in fields:
        if isinstance(value, bool) or isinstance(value, int):
            out += varint(number << 3) + varint(int(value))
        else:
            data = value.encode() if isinstance(value, str) else encode(value)
            out += varint(number << 3 | 2) + varint(len(data)) + data
    return out

def status_protobuf():
    s = STATUS
    fields = [(1, int(s["self_id"])), (2, ROLES[s["role"]]), (3, int(s["term"])),
              (4, int(s["leader_id"])), (5, s["leader_url"]), (6, int(s["commit_index"])),
              (7, int(s["applied_index"])), (8, int(s["last_index"]))]
    for node in s["nodes"]:
        fields.append((9, [(1, int(node["id"])), (2, node["raft_address"]), (3, node["url"]),
                           (4, node["voter"]), (5, ROLES[node["role"]]),
                           (6, int(node["match_index"])), (7, int(node["behind"]))]))
    return encode(fields)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def reply(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        method = self.path.rsplit("/", 1)[-1]
        with open(calls_file, "a") as log:
            log.write("%s %s\n" % (method, self.headers.get("Fundflow-Min-Sequence", "-")))
        if mode == "status" and self.headers.get("Content-Type") == "application/protobuf":
            # ServerInfo: head 5, plugin aob 1.2.0, node 1 leading, applied index 9.
            info = encode([(2, 5), (9, [(1, "aob"), (2, "1.2.0")]), (10, 1), (11, 4), (13, 9)])
            body = status_protobuf() if method == "GetClusterStatus" else info
            self.send_response(200)
            self.send_header("Content-Type", "application/protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if mode == "status":
            if method == "GetClusterStatus":
                self.reply(200, STATUS)
            else:
                self.reply(200, {"version": "stand-in", "head_sequence": "5"})
            return
        leader = open(leader_file).read().strip()
        meta = {"error": "not_leader"}
        if leader:
            meta["leader"] = leader
        self.reply(503, {"code": "unavailable", "msg": "this node does not lead the cluster",
                         "meta": meta})

server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as out:
    out.write("%d\n" % server.server_address[1])
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PYTHON

# Starts stand-in NAME ($1) in MODE ($2); its URL is then in $scratch/NAME.url, its leader is
# what $scratch/NAME.leader holds, and its calls are in $scratch/NAME.calls.
stand_in_start() {
    local name=$1 mode=$2
    : >"$scratch/$name.calls"
    : >"$scratch/$name.leader"
    python3 "$scratch/stand_in.py" "$scratch/$name.port" "$scratch/$name.calls" "$mode" \
        "$scratch/$name.leader" &
    started_pids+=("$!")
    poll_until "[[ -s \"$scratch/$name.port\" ]]"
    echo "http://127.0.0.1:$(cat "$scratch/$name.port")" >"$scratch/$name.url"
}

calls_count() {
    wc -l <"$scratch/$1.calls" | tr -d ' '
}

printf 'min_sequence_wait_ms = 100\n' >"$scratch/fundflowd.conf"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/data" \
    --config "$scratch/fundflowd.conf"
leader_url="http://$server_address"

check "a write refused by a follower with not_leader goes once more to the leader it names"
stand_in_start follower refuse
echo "$leader_url" >"$scratch/follower.leader"
follower_url=$(cat "$scratch/follower.url")
expect_status 0 --server "$follower_url" org add X24 --kind nhse --name "NHS England" \
    --date 2024-04-01
expect_output "recorded as event 1"
expect_errors "$follower_url does not lead the cluster; sending the request to the leader, $leader_url"
[[ $(calls_count follower) -eq 1 ]] || fail "the follower was asked $(calls_count follower) times"
expect_status 0 --server "$leader_url" info
[[ $(field "head sequence") == 1 ]] || fail "the leader's head is not 1: $output"

check "a read is followed the same way, with --json"
expect_status 0 --server "$follower_url" --json event 1
expect_output '"sequence":"1"'

check "a refusal naming no leader is reported, not followed"
: >"$scratch/follower.leader"
expect_status 1 --server "$follower_url" info
expect_errors "error: unavailable: this node does not lead the cluster"
[[ $errors != *"sending the request"* ]] || fail "followed a refusal that named no leader: $errors"

check "two stand-ins that name each other: followed once, then the refusal is reported (exit 1)"
stand_in_start left refuse
stand_in_start right refuse
cat "$scratch/right.url" >"$scratch/left.leader"
cat "$scratch/left.url" >"$scratch/right.leader"
expect_status 1 --server "$(cat "$scratch/left.url")" org add QUE --kind icb \
    --name "NHS Cambridgeshire and Peterborough ICB" --parent X24 --date 2024-04-01
[[ $(calls_count left) -eq 1 && $(calls_count right) -eq 1 ]] \
    || fail "asked left $(calls_count left) and right $(calls_count right) times, not once each"
[[ $(grep -c "sending the request to the leader" <<<"$errors") -eq 1 ]] \
    || fail "not followed exactly once: $errors"
expect_errors "leader: $(cat "$scratch/left.url")"

check "--min-sequence sends Fundflow-Min-Sequence, to the leader it follows too"
echo "$leader_url" >"$scratch/follower.leader"
: >"$scratch/follower.calls"
expect_status 0 --server "$follower_url" --min-sequence 1 event 1
grep -qx "GetEvent 1" "$scratch/follower.calls" \
    || fail "the follower did not get Fundflow-Min-Sequence 1: $(cat "$scratch/follower.calls")"
expect_output "org_registered"

check "a head that does not reach --min-sequence in min_sequence_wait_ms is refused naming both"
expect_status 1 --server "$leader_url" --min-sequence 9 event 1
expect_errors "error: unavailable: this node's head is at 1, below the Fundflow-Min-Sequence 9"
expect_errors "error: sequence_not_reached"
expect_errors "head_sequence: 1"
expect_errors "min_sequence: 9"
expect_status 2 --min-sequence -3 info
expect_errors "--min-sequence"

check "cluster status: a table of the nodes, and CSV"
stand_in_start status status
status_url=$(cat "$scratch/status.url")
expect_status 0 --server "$status_url" cluster status
expect_output "this node"
expect_output "1 (leader)"
printf '%s\n' "$output" | grep -Eq '^ *3 +follower +standby +127\.0\.0\.1:9003 +http://127\.0\.0\.1:8003 +6 +4 *$' \
    || fail "no row for node 3, a standby 4 entries behind:"$'\n'"$output"
expect_status 0 --server "$status_url" cluster status --format csv
printf '%s\n' "$output" | tr -d '\r' | grep -q '^3,follower,standby,127.0.0.1:9003,http://127.0.0.1:8003,6,4$' \
    || fail "no CSV row for node 3:"$'\n'"$output"
expect_status 0 --server "$status_url" --json cluster status
expect_output '"behind": "4"'

check "info shows the plugins and this node's place in the cluster"
expect_status 0 --server "$status_url" info
[[ $(field "plugins") == "aob 1.2.0" ]] || fail "no plugin aob 1.2.0:"$'\n'"$output"
[[ $(field "cluster node") == "1 (leader)" ]] || fail "no cluster node 1, leading:"$'\n'"$output"
[[ $(field "applied index") == 9 ]] || fail "no applied index 9:"$'\n'"$output"

check "a single fundflowd is not part of a cluster"
expect_status 1 --server "$leader_url" cluster status
expect_errors "failed_precondition"
expect_errors "this server is not part of a cluster"
expect_status 1 --server "$leader_url" cluster transfer 2
expect_errors "not_in_cluster"
expect_status 0 --server "$leader_url" info
[[ $output != *"cluster node"* ]] || fail "a single node shows a cluster:"$'\n'"$output"

server_stop
echo "test_cluster_cli: $checks checks passed"
