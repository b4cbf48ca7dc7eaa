#!/usr/bin/env bash
# Integration test of hot backup and restore: BackupLedger (fundflow backup) refused without a
# backup directory and to non-admins; a backup taken while fundflow-bench writes over four
# connections restores (fundflow-admin restore) to a ledger that verifies and equals the source
# at the backup's head, event log bytes and positions alike; the head file's signed tree head
# (checked by the CLI's own verifier against the source server); the offline backup; and the
# refusals of restore: a corrupted backup (naming the sequence), a head file that does not match
# the copy, a non-empty target, a backup older than a head the operator kept, a signed head whose
# root or signature was altered, a head signed by another key than the pinned one; and a
# backup's head file from before signed heads, restored with a warning.
#
# Usage: test_backup.sh FUNDFLOWD FUNDFLOW FUNDFLOW_ADMIN FUNDFLOW_BENCH
set -euo pipefail

if [[ $# -ne 4 ]]; then
    echo "usage: $0 FUNDFLOWD FUNDFLOW FUNDFLOW_ADMIN FUNDFLOW_BENCH" >&2
    exit 2
fi
fundflowd=$1
cli=$2
admin=$3
bench=$4
command -v mdb_dump >/dev/null || { echo "FAIL: mdb_dump is missing (lmdb-utils; tools/setup.sh)" >&2; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/../support/cli_test_lib.sh"
scratch_begin backup
# verify's scratch replays go under $TMPDIR: keep them inside our own directory.
export TMPDIR=$scratch
mkdir "$scratch/backups"

# Runs fundflow-admin instead of fundflow, with the same capture as run, and its stderr (where
# refusals go) after its stdout in $output.
admin_run() {
    local saved=$cli
    cli=$admin
    run "$@"
    cli=$saved
    output+=$errors
}

# A positions listing without its title's "(head N)", which names each ledger's own head.
positions_body() {
    printf '%s\n' "$output" | sed 's/ (head [0-9]*)//'
}

# The log's key and value lines, in order, from mdb_dump (one pair per event).
log_lines() {
    mdb_dump -s log "$1" | sed -n '/^HEADER=END$/,/^DATA=END$/p' | sed '1d;$d'
}

check "fundflowd refuses a backup directory that is not one, naming the setting"
status=0
"$fundflowd" --data-dir "$scratch/nothing" --listen 127.0.0.1:0 \
    --backup-dir "$scratch/missing" >"$scratch/out" 2>&1 || status=$?
[[ $status -eq 2 ]] || fail "fundflowd with a missing backup dir exited $status, expected 2"
grep -q "backup_dir: $scratch/missing is not a directory" "$scratch/out" \
    || fail "the error does not name backup_dir: $(cat "$scratch/out")"

check "without a backup directory BackupLedger is refused as backup_not_configured"
server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/source"
export FUNDFLOW_SERVER="http://$server_address"
expect_status 1 backup
expect_errors "backup_not_configured"
server_stop

server_launch "$fundflowd" --listen 127.0.0.1:0 --data-dir "$scratch/source" \
    --backup-dir "$scratch/backups"
export FUNDFLOW_SERVER="http://$server_address"

# An event whose name appears nowhere else, to corrupt in a copy of the backup later.
expect_status 0 org add RZZ9 --name "Corruptible Trust" --kind trust
[[ $output =~ recorded\ as\ event\ ([0-9]+) ]] || fail "no sequence in: $output"
corrupt_sequence=${BASH_REMATCH[1]}

check "a backup during a write load over four connections"
"$bench" --server "$FUNDFLOW_SERVER" --connections 4 --batch-sizes 5 --seconds 120 \
    --requests-max 4000 >"$scratch/bench.out" 2>&1 &
bench_pid=$!
# The load is under way once the head has moved on by a few hundred events (bounded polls).
for ((polls = 0; polls < 1200; polls++)); do
    [[ $(head_sequence) -ge 500 ]] && break
    kill -0 "$bench_pid" 2>/dev/null || break
    sleep 0.05
done
head_before=$(head_sequence)
expect_status 0 backup
backup_name=$(field backup)
backup_sequence=$(field "head sequence")
backup_hash=$(field "head hash")
kill -0 "$bench_pid" 2>/dev/null || fail "the load had ended before the backup did; make it longer"
# Writes go on past the backup's snapshot (bounded polls while the load runs).
for ((polls = 0; polls < 1200; polls++)); do
    [[ $(head_sequence) -gt $backup_sequence ]] && break
    kill -0 "$bench_pid" 2>/dev/null || break
    sleep 0.05
done
kill -TERM "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
head_after=$(head_sequence)
echo "  head $head_before before, backup holds $backup_sequence, head $head_after after"
((backup_sequence >= head_before)) || fail "the backup holds $backup_sequence, less than the head $head_before before it"
((head_after > backup_sequence)) || fail "no write came in after the backup's snapshot ($head_after)"
backup="$scratch/backups/$backup_name"
[[ -f $backup && -f $backup.head ]] || fail "$backup or its .head is missing"
grep -qx "sequence $backup_sequence" "$backup.head" || fail "the head file says $(cat "$backup.head")"
grep -qx "hash $backup_hash" "$backup.head" || fail "the head file says $(cat "$backup.head")"

check "the backup's head file holds a signed tree head of exactly its events, which the CLI checks"
grep -qx "tree_size $backup_sequence" "$backup.head" || fail "the head file says $(cat "$backup.head")"
for line in timestamp_us root_hash key_id signature public_key; do
    grep -q "^$line [0-9a-f]*\$" "$backup.head" || fail "no $line line in $(cat "$backup.head")"
done
# fundflow verify --since trusts only the public key in the file: it checks the signature, then a
# consistency proof from the backup's size to the source's head, which holds only if the signed
# root is the source's own root at that size.
expect_status 0 verify --since "$backup.head"
expect_output "OK: the log has only grown since the saved head: $backup_sequence events then"

check "a writer's token may not back up; an admin's may"
expect_status 0 principal add boss --role admin
boss=$(printf '%s\n' "$output" | tail -n 1)
expect_status 0 principal add scribe --role writer --token "$boss"
scribe=$(printf '%s\n' "$output" | tail -n 1)
expect_status 1 backup --token "$scribe"
expect_errors "permission_denied"
expect_status 0 backup --token "$boss"
server_stop

check "the backup restores, verified, to the source's log and positions at its head"
admin_run restore "$backup" "$scratch/restored"
[[ $status -eq 0 ]] || fail "restore exited $status: $output $errors"
expect_output "head $backup_sequence, hash $backup_hash"
[[ ! -e $scratch/restored.restore-tmp ]] || fail "restore left its scratch directory"
admin_run verify --data-dir "$scratch/restored"
[[ $status -eq 0 ]] || fail "the restored ledger does not verify: $output"
expect_output "head $backup_sequence, hash $backup_hash"
# One key line and one value line per event: the source's first events are the restored log.
log_lines "$scratch/restored" >"$scratch/restored.log"
log_lines "$scratch/source" >"$scratch/source.all.log"
head -n $((2 * backup_sequence)) "$scratch/source.all.log" >"$scratch/source.log"
[[ $(wc -l <"$scratch/restored.log") -eq $((2 * backup_sequence)) ]] \
    || fail "the restored log holds $(wc -l <"$scratch/restored.log") lines, not 2 x $backup_sequence"
cmp -s "$scratch/source.log" "$scratch/restored.log" \
    || fail "the restored log's bytes differ from the source's first $backup_sequence events"
for kind in nhse icb trust; do
    admin_run positions --data-dir "$scratch/source" --kind "$kind" --as-at "$backup_sequence"
    source_positions=$(positions_body)
    admin_run positions --data-dir "$scratch/restored" --kind "$kind" --as-at "$backup_sequence"
    output=$(positions_body)
    [[ $output == *"£"* && $output == "$source_positions" ]] \
        || fail "$kind positions differ:"$'\n'"$source_positions"$'\n'"restored:"$'\n'"$output"
done

check "restore refuses a non-empty directory without --force, and moves it aside with it"
admin_run restore "$backup" "$scratch/restored"
[[ $status -eq 2 ]] || fail "restore into a ledger exited $status, expected 2"
expect_output "restore_target_not_empty"
admin_run restore "$backup" "$scratch/restored" --force
[[ $status -eq 0 ]] || fail "restore --force exited $status: $output"
expect_output "Moved the old $scratch/restored aside to $scratch/restored.replaced-"

check "restore refuses a backup older than a head kept, or of another history"
admin_run head --data-dir "$scratch/source"
printf '%s\n' "$output" >"$scratch/source.head"
source_head=$(sed -n 's/^sequence //p' "$scratch/source.head")
admin_run restore "$backup" "$scratch/old" --not-before "$scratch/source.head"
[[ $status -eq 1 ]] || fail "an old backup restored (exit $status): $output"
expect_output "backup_too_old"
expect_output "older than the head $source_head"
[[ ! -e $scratch/old ]] || fail "a refused restore left $scratch/old"
zeros=$(printf '0%.0s' {1..64})
admin_run restore "$backup" "$scratch/other" --not-before "$corrupt_sequence:$zeros"
[[ $status -eq 1 ]] || fail "another history restored (exit $status): $output"
expect_output "event $corrupt_sequence has another hash"
admin_run restore "$backup" "$scratch/same" --not-before "$backup_sequence:$backup_hash"
[[ $status -eq 0 ]] || fail "the backup's own head refused it: $output"

check "a corrupted backup is refused, naming the sequence, and nothing is put in place"
cp "$backup" "$scratch/corrupt.mdb"
cp "$backup.head" "$scratch/corrupt.mdb.head"
offsets=$(grep -obUaF "Corruptible Trust" "$scratch/corrupt.mdb" | cut -d: -f1)
[[ -n $offsets ]] || fail "the event's text is not in the backup"
for offset in $offsets; do
    printf 'X' | dd of="$scratch/corrupt.mdb" bs=1 seek="$offset" conv=notrunc status=none
done
admin_run restore "$scratch/corrupt.mdb" "$scratch/bad"
[[ $status -eq 1 ]] || fail "a corrupted backup restored (exit $status): $output"
expect_output "fails verification at sequence $corrupt_sequence"
[[ ! -e $scratch/bad && ! -e $scratch/bad.restore-tmp ]] || fail "a refused restore left files"

check "a head file that does not match the copy is refused"
cp "$backup.head" "$backup.head.saved"
printf 'sequence %s\nhash %s\n' "$((backup_sequence - 1))" "$backup_hash" >"$backup.head"
admin_run restore "$backup" "$scratch/mismatch"
[[ $status -eq 1 ]] || fail "a mismatched head restored (exit $status): $output"
expect_output "backup_head_mismatch"
rm "$backup.head"
admin_run restore "$backup" "$scratch/headless"
[[ $status -eq 4 ]] || fail "a backup without its head file exited $status, expected 4: $output"

# Byte strings from hex and back, for the signed head's message.
hex_to_bytes() {
    printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"
}
bytes_to_hex() {
    od -An -v -tx1 | tr -d ' \n'
}
head_value() {
    sed -n "s/^$1 //p" "$2"
}
# A value (hex or decimal) with its first digit changed (0 -> 1, anything else -> 0).
hex_altered() {
    [[ ${1:0:1} == 0 ]] && echo "1${1:1}" || echo "0${1:1}"
}
# Restores altered.mdb with whatever altered.mdb.head says; expects a refusal (exit 1) naming
# CODE and CAUSE, and nothing left behind.
expect_altered_refusal() {
    admin_run restore "$scratch/altered.mdb" "$scratch/altered"
    [[ $status -eq 1 ]] || fail "an altered head restored (exit $status): $output"
    expect_output "$1"
    expect_output "$2"
    [[ ! -e $scratch/altered && ! -e $scratch/altered.restore-tmp ]] || fail "a refused restore left files"
}
# The backup's head file with line NAME's value altered: its signature no longer verifies.
expect_altered_refused() {
    local altered
    altered=$(hex_altered "$(head_value "$1" "$backup.head")")
    sed "s/^$1 .*/$1 $altered/" "$backup.head" >"$scratch/altered.mdb.head"
    expect_altered_refusal signature_invalid "signature does not verify"
}

check "a signed head whose root, signature or time was altered is refused, naming the cause"
cp "$backup.head.saved" "$backup.head"
cp "$backup" "$scratch/altered.mdb"
expect_altered_refused root_hash
expect_altered_refused signature
expect_altered_refused timestamp_us
altered_root=$(hex_altered "$(head_value root_hash "$backup.head")")
# Someone holding the signing key signs the altered root: the signature verifies, but the copy's
# tree, recomputed from its log, has another root. The signed message: the 16-byte label, the
# size and the timestamp as 8 bytes big-endian each, the root, the key ID (docs/INTEGRITY.md).
timestamp=$(head_value timestamp_us "$backup.head")
key_id=$(head_value key_id "$backup.head")
{ printf 'fundflow-sth-v1\n'
  hex_to_bytes "$(printf '%016x%016x' "$backup_sequence" "$timestamp")$altered_root$key_id"
} >"$scratch/forged.msg"
[[ $(wc -c <"$scratch/forged.msg") -eq 96 ]] || fail "the forged message is not 96 bytes"
openssl pkeyutl -sign -inkey "$scratch/source/signing_key.pem" -rawin -in "$scratch/forged.msg" \
    -out "$scratch/forged.sig"
forged_signature=$(bytes_to_hex <"$scratch/forged.sig")
sed -e "s/^root_hash .*/root_hash $altered_root/" \
    -e "s/^signature .*/signature $forged_signature/" "$backup.head" >"$scratch/altered.mdb.head"
expect_altered_refusal tree_mismatch "tree root does not match the signed head"

check "restore --key: the server's key passes, another key is refused"
openssl pkey -in "$scratch/source/signing_key.pem" -pubout -out "$scratch/server.pub"
openssl genpkey -algorithm ed25519 -out "$scratch/other.pem"
openssl pkey -in "$scratch/other.pem" -pubout -out "$scratch/other.pub"
admin_run restore "$backup" "$scratch/pinned" --key "$scratch/server.pub"
[[ $status -eq 0 ]] || fail "the server's pinned key refused the backup (exit $status): $output"
expect_output "its signed tree head verifies"
admin_run restore "$backup" "$scratch/pinned-other" --key "$scratch/other.pub"
[[ $status -eq 1 ]] || fail "another pinned key restored (exit $status): $output"
expect_output "key_mismatch"
expect_output "signed by a different key than the pinned one"
[[ ! -e $scratch/pinned-other ]] || fail "a refused restore left $scratch/pinned-other"

check "a head file from before signed heads restores with a warning, or is refused if required"
cp "$backup" "$scratch/old-style.mdb"
printf 'sequence %s\nhash %s\n' "$backup_sequence" "$backup_hash" >"$scratch/old-style.mdb.head"
admin_run restore "$scratch/old-style.mdb" "$scratch/old-style"
[[ $status -eq 0 ]] || fail "an old-style backup did not restore (exit $status): $output"
expect_output "warning: $scratch/old-style.mdb.head carries no signed tree head"
admin_run restore "$scratch/old-style.mdb" "$scratch/old-style-required" --require-signed
[[ $status -eq 1 ]] || fail "--require-signed restored an unsigned backup (exit $status): $output"
expect_output "signed_head_missing"
[[ ! -e $scratch/old-style-required ]] || fail "a refused restore left files"
# Only some of the signed head's lines: an incomplete head is not read as an unsigned one.
grep -v '^signature ' "$backup.head" >"$scratch/old-style.mdb.head"
admin_run restore "$scratch/old-style.mdb" "$scratch/half-signed"
[[ $status -eq 1 ]] || fail "a head file without its signature line exited $status: $output"
expect_output "the signed head is incomplete"

check "fundflow-admin backup offline, which restores to the same head"
admin_run backup --data-dir "$scratch/source" "$scratch/offline.mdb"
[[ $status -eq 0 ]] || fail "offline backup exited $status: $output"
expect_output "head $source_head"
admin_run backup --data-dir "$scratch/source" "$scratch/offline.mdb"
[[ $status -eq 1 ]] || fail "a backup over an existing file exited $status, expected 1"
admin_run restore "$scratch/offline.mdb" "$scratch/offline" --key "$backup.head.saved"
[[ $status -eq 0 ]] || fail "restoring the offline backup exited $status: $output"
expect_output "head $source_head"
expect_output "its signed tree head verifies"
grep -qx "tree_size $source_head" "$scratch/offline.mdb.head" || fail "the offline head file says $(cat "$scratch/offline.mdb.head")"

echo "test_backup: $checks checks passed"
