#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests, then the kernel tests (root:
# namespaces, cgroups, seccomp, Landlock, BPF). Under CI=true a kernel test that
# cannot run fails instead of skipping.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}

"$repo/scripts/setup.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "test: kernel tests need root; run: sudo $0" >&2
  [[ ${CI:-} == true ]] && exit 1
fi

cd "$build_dir"
# Unit tests in parallel; kernel tests are marked RUN_SERIAL (they share host state).
ctest --output-on-failure -j"$(nproc)" --timeout 300 "$@"
