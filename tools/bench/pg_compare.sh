#!/bin/sh
# Measures fundflowd's GetPosition against a PostgreSQL balance lookup, side by side in one run on
# 127.0.0.1, both at 16 clients over TCP: issue 14's read target (GetPosition at least 1.5 times
# PostgreSQL's lookup). Not part of CTest: it needs PostgreSQL and takes about a minute.
#
# Usage: tools/bench/pg_compare.sh BIN_DIR [SECONDS] [CLIENTS]
#   BIN_DIR holds fundflowd and fundflow-bench (a Release build's bin/); SECONDS per measurement
#   (default 10); CLIENTS (default 16).
#
# PostgreSQL: Debian's packages. If no /usr/lib/postgresql/*/bin is found the script installs
# `postgresql` with apt-get (as root only; Debian's package makes and may start its own cluster,
# which this script never touches). It then makes a throwaway cluster with initdb in a temporary
# directory, starts it with pg_ctl on a free port on 127.0.0.1 (its socket in that directory
# too), and removes it at the end. initdb refuses to run as root, so as root the cluster belongs
# to the `postgres` user the package created; otherwise to the current user.
#
# The lookup: a table of 1,000 positions (one row per account, its balances already summed, as a
# double-entry design keeps them), primary key on the account; pgbench with a custom script
# reading one random account's row per transaction, prepared statements (-M prepared), 16
# clients on 2 threads. GetPosition: fundflow-bench --reads, 16 connections, after a few seconds
# of batched writes so that the position has history.
#
# Besides the rates, it prints each side's CPU time per lookup (user + system): the server's
# (fundflowd's from /proc/PID/stat; PostgreSQL's postmaster with its exited backends, which it
# reaped) and the client's (fundflow-bench, pgbench, under /usr/bin/time). On a shared machine the
# rates move with the load; the CPU per lookup moves far less, and it is what two cores can give:
# at most 2 s of CPU a second, shared by server and client.
#
# Every step is bounded by `timeout`; the whole run by about 4 × SECONDS + 90 seconds.
# Exit codes: 0 measured; 1 a step failed; 2 usage; 3 PostgreSQL is missing and cannot be
# installed.
set -u
BIN_DIR=${1:-}
SECONDS_EACH=${2:-10}
CLIENTS=${3:-16}
if [ -z "$BIN_DIR" ] || [ ! -x "$BIN_DIR/fundflowd" ] || [ ! -x "$BIN_DIR/fundflow-bench" ]; then
    echo "usage: tools/bench/pg_compare.sh BIN_DIR [SECONDS] [CLIENTS]" >&2
    echo "  BIN_DIR must hold fundflowd and fundflow-bench" >&2
    exit 2
fi
STEP_LIMIT=$((SECONDS_EACH + 60))

pg_bin_find() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
PG_BIN=$(pg_bin_find)
if [ -z "$PG_BIN" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "pg_compare: PostgreSQL is not installed; as root: apt-get install postgresql" >&2
        exit 3
    fi
    echo "pg_compare: installing Debian's postgresql package"
    timeout 600 apt-get install -y --no-install-recommends postgresql >/dev/null || exit 3
    PG_BIN=$(pg_bin_find)
    [ -n "$PG_BIN" ] || exit 3
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fundflow-pg.XXXXXX") || exit 1
chmod 755 "$WORK"
PG_RUN=$WORK/pg           # the cluster's owner's: its data, log and socket
PG_DATA=$PG_RUN/data
SERVER_PID=
as_pg_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    if [ -f "$PG_DATA/postmaster.pid" ]; then
        as_pg_user timeout 60 "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
    fi
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
# A signal (or a closed pipe: `| head`) ends the script through exit, so EXIT cleans up.
trap 'exit 1' INT TERM HUP PIPE

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- PostgreSQL ----
PG_PORT=$(free_port)
mkdir "$PG_RUN" || exit 1
if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_RUN" || exit 1; fi
as_pg_user timeout "$STEP_LIMIT" "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U bench --no-sync \
    >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
as_pg_user timeout "$STEP_LIMIT" "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 30 -l "$PG_RUN/log" \
    -o "-p $PG_PORT -k $PG_RUN -c listen_addresses=127.0.0.1 -c shared_buffers=128MB" start \
    >/dev/null || { cat "$PG_RUN/log" >&2; exit 1; }
PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $PG_PORT -U bench -d postgres"
timeout "$STEP_LIMIT" $PSQL <<'SQL' || exit 1
CREATE TABLE positions (
    account_id integer PRIMARY KEY,
    org_code text NOT NULL,
    stream text NOT NULL,
    financial_year integer NOT NULL,
    received_pence bigint NOT NULL,
    passed_on_pence bigint NOT NULL,
    as_at_sequence bigint NOT NULL
);
INSERT INTO positions
SELECT g, 'Q' || lpad(g::text, 4, '0'), 'CORE_SERVICES', 2024, g * 100, g * 10, g
FROM generate_series(1, 1000) AS g;
VACUUM ANALYZE positions;
SQL
cat >"$WORK/lookup.sql" <<'SQL'
\set aid random(1, 1000)
SELECT received_pence, passed_on_pence, as_at_sequence FROM positions WHERE account_id = :aid;
SQL
chmod 644 "$WORK/lookup.sql"

# ---- fundflowd ----
"$BIN_DIR/fundflowd" --data-dir "$WORK/data" --listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=
tries=0
while [ $tries -lt 300 ]; do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -n 1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    tries=$((tries + 1))
    sleep 0.1
done
[ -n "$PORT" ] || { echo "pg_compare: fundflowd did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
BENCH="timeout $STEP_LIMIT $BIN_DIR/fundflow-bench --server http://127.0.0.1:$PORT"
$BENCH --connections 2 --batch-sizes 1000 --seconds 3 >/dev/null || exit 1

# A process's CPU time in clock ticks: user + system, and with "children" its reaped children's.
process_ticks() {
    awk -v children="${2:-}" '{ print $14 + $15 + (children ? $16 + $17 : 0) }' "/proc/$1/stat"
}
TICKS_PER_SECOND=$(getconf CLK_TCK)
# Microseconds of CPU per request: ticks over requests.
per_request() { awk -v t="$1" -v n="$2" -v hz="$TICKS_PER_SECOND" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "?" }'; }
# A client's user + system seconds, as /usr/bin/time -f "%U %S" wrote them, per request.
client_per_request() { awk -v n="$2" '{ if (n > 0) printf "%.1f", ($1 + $2) * 1e6 / n; else print "?" }' "$1"; }

# ---- the two measurements, one after the other in the same run ----
echo "== fundflowd GetPosition, $CLIENTS connections, $SECONDS_EACH s"
FF_TICKS=$(process_ticks "$SERVER_PID")
/usr/bin/time -f "%U %S" -o "$WORK/ff.time" $BENCH --reads --connections "$CLIENTS" \
    --seconds "$SECONDS_EACH" >"$WORK/ff.out" || exit 1
FF_TICKS=$(( $(process_ticks "$SERVER_PID") - FF_TICKS ))
tail -n +3 "$WORK/ff.out"
FF_RATE=$(awk '$1 == "read" { print $5 }' "$WORK/ff.out")
FF_COUNT=$(awk '$1 == "read" { print $3 }' "$WORK/ff.out")
echo "== PostgreSQL $(basename "$(dirname "$PG_BIN")") balance lookup, $CLIENTS clients, $SECONDS_EACH s"
PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
PG_TICKS=$(process_ticks "$PG_PID" children)
/usr/bin/time -f "%U %S" -o "$WORK/pg.time" timeout "$STEP_LIMIT" "$PG_BIN/pgbench" -n \
    -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -h 127.0.0.1 -p "$PG_PORT" -U bench \
    -f "$WORK/lookup.sql" postgres >"$WORK/pg.out" 2>&1 || { cat "$WORK/pg.out" >&2; exit 1; }
# pgbench has ended, so every backend has exited and the postmaster has reaped it.
PG_TICKS=$(( $(process_ticks "$PG_PID" children) - PG_TICKS ))
grep -E "latency average|^tps" "$WORK/pg.out"
PG_RATE=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/pg.out" | head -n 1)
PG_COUNT=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pg.out")
echo "== CPU per lookup (us): fundflowd $(per_request "$FF_TICKS" "$FF_COUNT"), fundflow-bench" \
    "$(client_per_request "$WORK/ff.time" "$FF_COUNT"); PostgreSQL $(per_request "$PG_TICKS" \
    "$PG_COUNT"), pgbench $(client_per_request "$WORK/pg.time" "$PG_COUNT")"
echo "== GetPosition ${FF_RATE}/s, PostgreSQL ${PG_RATE}/s: $(awk -v f="$FF_RATE" -v p="$PG_RATE" \
    'BEGIN { if (p > 0) printf "%.2f", f / p; else print "?" }') times PostgreSQL's (target: 1.5)"
