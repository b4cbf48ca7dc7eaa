#!/usr/bin/env bash
# Installs what is missing, then builds fundflow twice, plainly and with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole test suite through CTest in each build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

bash "$root/tools/setup.sh"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_suite() {
  local name=$1; shift
  local build="$root/build/$name"
  echo "== $name build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$build" -j "$jobs" >/dev/null
  ctest --test-dir "$build" --output-on-failure -j "$jobs"
}

run_suite tests
run_suite sanitize -DFF_SANITIZE=ON

# The request decoders under libFuzzer for a bounded time (FUZZ_SECONDS, default 60), starting
# from the seed corpus; a crash or sanitizer report fails the run.
fuzz_seconds=${FUZZ_SECONDS:-60}
if [[ "$fuzz_seconds" -gt 0 ]]; then
  echo "== fuzz build (${fuzz_seconds} s)"
  fuzz_build="$root/build/fuzz"
  CC=clang cmake -S "$root" -B "$fuzz_build" -DFF_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$fuzz_build" -j "$jobs" --target fuzz_requests >/dev/null
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus"' EXIT
  cp "$root"/tests/fuzz/corpus/* "$corpus"/
  "$fuzz_build/tests/fuzz/fuzz_requests" -max_total_time="$fuzz_seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
  echo "fuzz: ${fuzz_seconds} s without a crash"
fi
