#!/usr/bin/env bash
# Installs what is missing, then builds fundflow twice, plainly and with AddressSanitizer and
# UndefinedBehaviorSanitizer, runs the whole test suite through CTest in each build, and fuzzes the
# request decoders with libFuzzer for FUZZ_SECONDS (default 60). Every stage runs even when an
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

# The request decoders under libFuzzer for a bounded time (FUZZ_SECONDS, default 60), starting
# from the seed corpus; a crash or sanitizer report fails the run.
fuzz() {
  local seconds=$1 build="$root/build/fuzz" corpus log status=0
  echo "== fuzz build (${seconds} s)"
  if ! CC=clang cmake -S "$root" -B "$build" -DFF_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      >"$build.configure.log" 2>&1; then
    cat "$build.configure.log" >&2
    failed "fuzz: cmake configure (log above)"
    return
  fi
  if ! cmake --build "$build" -j "$jobs" --target fuzz_requests >"$build.build.log" 2>&1; then
    grep -E 'error|Error' "$build.build.log" >&2 || tail -n 40 "$build.build.log" >&2
    failed "fuzz: build (see $build.build.log)"
    return
  fi
  corpus=$(mktemp -d)
  log="$build.run.log"
  if ! cp "$root"/tests/fuzz/corpus/* "$corpus"/; then
    rm -rf "$corpus"
    failed "fuzz: cannot copy the seed corpus from tests/fuzz/corpus"
    return
  fi
  # Into a file, then the tail: a pipe into tail would hide the fuzzer's exit status.
  "$build/tests/fuzz/fuzz_requests" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus" >"$log" 2>&1 || status=$?
  rm -rf "$corpus"
  if [[ $status -eq 0 ]]; then
    tail -n 12 "$log"
    echo "fuzz: ${seconds} s without a crash"
  else
    tail -n 60 "$log" >&2
    failed "fuzz: fuzz_requests exited $status (log: $log)"
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
