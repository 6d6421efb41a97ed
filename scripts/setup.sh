#!/usr/bin/env bash
# Installs every Debian package the build and the tests need (idempotent), then
# configures and builds Bulkhead into build/ (or $BUILD_DIR).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}

packages=(
  # toolchain and build
  build-essential cmake pkg-config clang llvm bpftool clang-format clang-tidy
  # libraries
  libbpf-dev libelf-dev zlib1g-dev libseccomp-dev libcap-dev libsystemd-dev libmnl-dev
  libboost-program-options-dev libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev
  rapidjson-dev
  libgtest-dev libgmock-dev libjemalloc-dev
  # used by the tests, the demo and the benchmarks
  iproute2 procps python3 systemd bubblewrap hyperfine nftables auditd
  # the syslog sink tests run a real rsyslogd on loopback
  rsyslog
  # the VM matrix (scripts/vm-test.sh): qemu, the guest image and initramfs, the kernels
  qemu-system-x86 busybox-static debootstrap e2fsprogs kmod cpio xz-utils zstd
)

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

cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
