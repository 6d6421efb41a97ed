#!/bin/bash
# Runs in the guest before systemd starts (the initramfs chroots into the new
# root to run it): puts the source and build trees at the paths they have on the
# host, installs the built Bulkhead with `cmake --install`, enables bulkheadd and
# the test runner. Writes go to the root disk, which qemu opened with
# snapshot=on: nothing reaches the cached image.
set -euo pipefail

payload=/mnt/bulkhead
results=/mnt/bulkhead-results
# shellcheck source=/dev/null
. "$payload/run.env"

main() {
  echo "BULKHEAD-VM: guest setup (source $SRC_DIR, build $BUILD_DIR)"

  # The trees at their host paths (the tests have them compiled in). The build
  # tree may sit inside the source tree: the payload holds it there already.
  mkdir -p "$SRC_DIR"
  mount --bind "$payload/root$SRC_DIR" "$SRC_DIR"
  case "$BUILD_DIR/" in
    "$SRC_DIR"/*) ;;
    *)
      mkdir -p "$BUILD_DIR"
      mount --bind "$payload/root$BUILD_DIR" "$BUILD_DIR"
      ;;
  esac

  # Boot time under TCG: units that sit on the critical path of a test VM
  # without doing anything for it (logind: ~11 s via D-Bus; e2scrub_reap: ~15 s).
  local u
  for u in systemd-logind.service e2scrub_reap.service; do
    ln -sf /dev/null "/etc/systemd/system/$u"
  done

  # The test runner and its unit.
  install -m 0644 "$payload/vm/bulkhead-vm-test.service" /etc/systemd/system/
  systemctl enable bulkhead-vm-test.service 2>&1

  if [[ $AGENT != yes ]]; then
    echo "BULKHEAD-VM: the service part is skipped: $AGENT"
    return 0
  fi
  # At the prefix the build was configured with: the unit file names its binaries
  # there (ExecStart=<prefix>/sbin/bulkheadd).
  local prefix
  prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
  echo "BULKHEAD-VM: cmake --install $BUILD_DIR (prefix ${prefix:-?})"
  if ! cmake --install "$BUILD_DIR" >"$results/install.log" 2>&1; then
    cat "$results/install.log"
    return 1
  fi
  # The example tenants, so that the agent runs their workloads from boot on.
  if [[ $TENANTS == yes ]]; then
    mkdir -p /etc/bulkhead/tenants.d
    local f
    for f in "$prefix"/share/bulkhead/examples/*.yaml; do
      if [[ -e $f ]]; then
        install -m 0644 "$f" /etc/bulkhead/tenants.d/
      fi
    done
    echo "BULKHEAD-VM: tenants: $(cd /etc/bulkhead/tenants.d && echo *)"
  fi
  systemctl enable bulkheadd.service 2>&1
}

# (A pipe, not process substitution: /dev/fd does not exist before systemd runs.)
main 2>&1 | tee -a "$results/setup.log"
