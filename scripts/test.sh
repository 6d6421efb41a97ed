#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests, the kernel tests (root:
# namespaces, cgroups, seccomp, Landlock, BPF), then the host matrix (label vm:
# the kernel suite and the agent under systemd on Debian's 6.1 and 6.12 kernels
# in VMs, docs/vm-matrix.md). Under CI=true a test that cannot run fails instead
# of skipping. VM=0 leaves the matrix out (a quick run on a developer machine);
# extra arguments go to both ctest runs.
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
ctest --output-on-failure -j"$(nproc)" --timeout 300 -LE '^vm$' "$@"
if [[ ${VM:-1} == 0 ]]; then
  echo "test: VM=0: the VM matrix (ctest -L vm) is left out" >&2
  exit 0
fi
# Both kernels at once, one emulated CPU each: 2-4 minutes (more the first time,
# when the guest image is built; the image build is shared and locked).
BUILD_DIR=$build_dir ctest --output-on-failure -L '^vm$' -j2 "$@"
