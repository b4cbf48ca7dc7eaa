#!/usr/bin/env bash
# Installs what is missing, then builds fundflow twice, plainly and with AddressSanitizer and
# UndefinedBehaviorSanitizer, runs the whole test suite through CTest in each build, and fuzzes the
# request decoders and the mapping and CSV readers with libFuzzer for FUZZ_SECONDS in all
# (default 60). Every stage runs even when an
# earlier one failed, so one run shows every failure; at the end it lists each failed stage and
# test, and exits 1 if anything failed.
#
# No set -e: a failing stage must not stop the others. Each command's failure is recorded instead.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

failures=()
failed() {
  failures+=("$1")
  echo "== FAILED: $1" >&2
}

bash "$root/tools/setup.sh" || failed "setup: tools/setup.sh could not install the packages"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Configures, builds and tests one build directory; records the stage that failed and, for CTest,
# the names of the tests that failed (from CTest's LastTestsFailed.log).
run_suite() {
  local name=$1; shift
  local build="$root/build/$name"
  echo "== $name build"
  if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$build.configure.log" 2>&1; then
    cat "$build.configure.log" >&2
    failed "$name: cmake configure (log above)"
    return
  fi
  if ! cmake --build "$build" -j "$jobs" >"$build.build.log" 2>&1; then
    grep -E 'error|Error' "$build.build.log" >&2 || tail -n 40 "$build.build.log" >&2
    failed "$name: build (see $build.build.log)"
    return
  fi
  local failed_log="$build/Testing/Temporary/LastTestsFailed.log"
  rm -f "$failed_log"
  if ! ctest --test-dir "$build" --output-on-failure -j "$jobs"; then
    local tests="(see the CTest output above)"
    if [[ -s $failed_log ]]; then
      tests=$(sed 's/^[0-9]*://' "$failed_log" | paste -sd ' ' -)
    fi
    failed "$name: ctest: $tests"
  fi
}

mkdir -p "$root/build"
run_suite tests
run_suite sanitize -DFF_SANITIZE=ON

# The fuzz targets under libFuzzer for a bounded time, FUZZ_SECONDS in all (default 60), split
# between them: fuzz_requests (the request decoders, seeds in tests/fuzz/corpus), fuzz_mapping
# (mapping files and the CSV readers, seeds in tests/fuzz/corpus/mapping) and fuzz_merkle
# (hostile proofs and signed heads, seeds in tests/fuzz/corpus/merkle). Each starts from its
# seeds; a crash or sanitizer report fails the run.
fuzz_build() {
  local build=$1
  if ! CC=clang cmake -S "$root" -B "$build" -DFF_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      >"$build.configure.log" 2>&1; then
    cat "$build.configure.log" >&2
    failed "fuzz: cmake configure (log above)"
    return 1
  fi
  if ! cmake --build "$build" -j "$jobs" --target fuzz_requests fuzz_mapping fuzz_merkle \
      >"$build.build.log" 2>&1; then
    grep -E 'error|Error' "$build.build.log" >&2 || tail -n 40 "$build.build.log" >&2
    failed "fuzz: build (see $build.build.log)"
    return 1
  fi
}

# fuzz_target <target> <seconds> <seed dir>: the seed dir's files (not its subdirectories).
fuzz_target() {
  local target=$1 seconds=$2 seeds=$3 build="$root/build/fuzz" corpus log status=0
  corpus=$(mktemp -d)
  log="$build.$target.log"
  if ! find "$seeds" -maxdepth 1 -type f -exec cp {} "$corpus"/ \; ; then
    rm -rf "$corpus"
    failed "fuzz: cannot copy the seed corpus from $seeds"
    return
  fi
  # Into a file, then the tail: a pipe into tail would hide the fuzzer's exit status.
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus" >"$log" 2>&1 || status=$?
  rm -rf "$corpus"
  if [[ $status -eq 0 ]]; then
    tail -n 12 "$log"
    echo "fuzz: $target ${seconds} s without a crash"
  else
    tail -n 60 "$log" >&2
    failed "fuzz: $target exited $status (log: $log)"
  fi
}

fuzz() {
  local seconds=$1 mapping_seconds
  echo "== fuzz build (${seconds} s)"
  fuzz_build "$root/build/fuzz" || return
  local merkle_seconds=$((seconds / 3))
  mapping_seconds=$((seconds / 3))
  fuzz_target fuzz_requests $((seconds - mapping_seconds - merkle_seconds)) \
    "$root/tests/fuzz/corpus"
  if [[ $mapping_seconds -gt 0 ]]; then
    fuzz_target fuzz_mapping "$mapping_seconds" "$root/tests/fuzz/corpus/mapping"
  fi
  if [[ $merkle_seconds -gt 0 ]]; then
    fuzz_target fuzz_merkle "$merkle_seconds" "$root/tests/fuzz/corpus/merkle"
  fi
}

fuzz_seconds=${FUZZ_SECONDS:-60}
if [[ $fuzz_seconds -gt 0 ]]; then
  fuzz "$fuzz_seconds"
fi

echo
if [[ ${#failures[@]} -eq 0 ]]; then
  echo "== all stages passed: tests, sanitize$([[ $fuzz_seconds -gt 0 ]] && echo ", fuzz")"
  exit 0
fi
echo "== ${#failures[@]} stage(s) failed:" >&2
printf '  %s\n' "${failures[@]}" >&2
exit 1
