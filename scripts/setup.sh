#!/usr/bin/env bash
# Installs the Debian packages Bulkhead needs (idempotent), then configures and
# builds it into build/ (or $BUILD_DIR).
#
#   scripts/setup.sh          everything: the tests, the benchmarks, the linters and
#                             the VM matrix too (what scripts/test.sh and CI use)
#   scripts/setup.sh --demo   only what scripts/demo.sh needs: the build tools, the
#                             libraries and what the example tenants run; builds the
#                             agent and its client, not the tests. Installs no
#                             package that starts a service on this host.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
mode=all
case ${1:-} in
  --demo) mode=demo ;;
  "") ;;
  *)
    echo "usage: $0 [--demo]" >&2
    exit 2
    ;;
esac

# The build: compilers (clang for the BPF programs) and the libraries.
build_packages=(
  build-essential cmake pkg-config clang bpftool
  libbpf-dev libelf-dev zlib1g-dev libseccomp-dev libcap-dev libsystemd-dev libmnl-dev
  libboost-program-options-dev libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev
  rapidjson-dev libjemalloc-dev
)
# What the example tenants run from the host's /usr (beta's web server, ps in
# alpha), and what demo.sh reads the agent's JSON with.
demo_packages=(python3 procps)
test_packages=(
  libgtest-dev libgmock-dev llvm clang-format clang-tidy
  # used by the tests and the benchmarks
  iproute2 systemd bubblewrap hyperfine nftables auditd
  # the syslog sink tests run a real rsyslogd on loopback
  rsyslog
  # the VM matrix (scripts/vm-test.sh): qemu, the guest image and initramfs, the kernels
  qemu-system-x86 busybox-static debootstrap e2fsprogs kmod cpio xz-utils zstd
)
packages=("${build_packages[@]}" "${demo_packages[@]}")
[[ $mode == all ]] && packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ $mode == demo ]]; then
  # Tests off (no GoogleTest needed); a later full setup turns them back on in
  # the same build directory and builds only what is missing.
  # Release without debug information: a third less to compile.
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DBULKHEAD_TESTS=OFF >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target bulkheadd bulkheadctl
else
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBULKHEAD_TESTS=ON >/dev/null
  cmake --build "$build_dir" -j"$(nproc)"
fi
