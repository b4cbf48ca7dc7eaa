#!/bin/sh
# Runs the server benchmarks of issue 14's target table against one fundflowd build, on a fresh
# data directory on 127.0.0.1, and prints fundflow-bench's tables labelled with the build:
#   64 connections, one command per request; 8 connections, batches of 1,000;
#   GetPosition on 16 connections and on one (after the writes, so the position has history);
# and after each, fundflowd's CPU time (user + system) per request.
# Usage: tools/bench/server_suite.sh BIN_DIR [LABEL] [SECONDS]
#   BIN_DIR holds fundflowd and fundflow-bench (a Release build's bin/); LABEL names the build in
#   the output (default: BIN_DIR); SECONDS per setting (default 5). Alternate two builds' runs to
#   compare them in one session (see docs/BENCHMARKS.md, "Group commit and kept read
#   transactions"). Exit 0, or 1 if the server did not start or a setting failed.
set -u
BIN_DIR=${1:?usage: server_suite.sh BIN_DIR [LABEL] [SECONDS]}
LABEL=${2:-$BIN_DIR}
SECONDS_EACH=${3:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-suite.XXXXXX") || exit 1
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
# A signal (or a closed pipe: `| head`) ends the script through exit, so EXIT cleans up.
trap 'exit 1' INT TERM HUP PIPE

"$BIN_DIR/fundflowd" --data-dir "$WORK/data" --listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=
tries=0
while [ -z "$PORT" ] && [ $tries -lt 200 ]; do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    tries=$((tries + 1))
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "server_suite: $LABEL: fundflowd did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi
SERVER=http://127.0.0.1:$PORT
status=0
# fundflowd's CPU time so far (user + system, in clock ticks): on a shared machine its CPU per
# request moves less than the wall-clock rates do.
server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
TICKS_PER_SECOND=$(getconf CLK_TCK)
run() {
    echo "== $LABEL: $*"
    before=$(server_ticks)
    "$BIN_DIR/fundflow-bench" --server "$SERVER" --seconds "$SECONDS_EACH" "$@" >"$WORK/bench.out" || status=1
    after=$(server_ticks)
    tail -n +3 "$WORK/bench.out"
    awk -v ticks=$((after - before)) -v hz="$TICKS_PER_SECOND" \
        '$1 ~ /^([0-9]+|read)$/ && $3 > 0 { printf "   server CPU: %.1f us per request\n", ticks / hz * 1e6 / $3 }' \
        "$WORK/bench.out"
}
run --connections 64 --batch-sizes 1
run --connections 8 --batch-sizes 1000
run --connections 16 --reads
run --connections 1 --reads
exit $status
