#!/usr/bin/env bash
# Installs what is missing, builds fundflow, loads the illustrative 2024/25 demo into a data
# directory and prints every ICB's position.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
data_dir=${FUNDFLOW_DATA_DIR:-$root/demo-data}

bash "$root/tools/setup.sh"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build/release" -j "$jobs" >/dev/null

admin="$root/build/release/tools/fundflow-admin"
"$admin" demo --data-dir "$data_dir"
"$admin" positions --data-dir "$data_dir" --year 2024/25 --stream core_services
"$admin" verify --data-dir "$data_dir"
cat <<TEXT

The ledger is in $data_dir. Try:
  $admin positions --data-dir $data_dir --kind place
  $admin positions --data-dir $data_dir --stream primary_medical_care
  $admin positions --data-dir $data_dir --as-at 200
  $admin verify --data-dir $data_dir
  $admin --help
TEXT
