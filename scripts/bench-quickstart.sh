#!/usr/bin/env bash
# Times the README's first command as a new user meets it: a fresh Debian 12
# userland (debootstrap, nothing installed but git), a fresh clone, then
# `scripts/demo.sh --no-wait` until the demo has shown everything. Each
# revision given is timed in a root of its own, one after the other, and the
# figures are printed side by side with their ratio to the first.
#
#   sudo scripts/bench-quickstart.sh [REV...]     (default: HEAD)
#
# The root is entered with pivot_root in a private mount namespace rather than
# chroot: the kernel refuses user namespaces to a chrooted process, and the
# agent needs them. Package downloads come from the mirror below, so the figure
# includes the network as a new user has it.
# Environment: QUICKSTART_MIRROR (default http://deb.debian.org/debian),
#              QUICKSTART_DIR (where the roots are made; default /var/tmp).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
mirror=${QUICKSTART_MIRROR:-http://deb.debian.org/debian}
base=${QUICKSTART_DIR:-/var/tmp}
revs=("$@")
((${#revs[@]})) || revs=(HEAD)

if [[ $(id -u) -ne 0 ]]; then
  echo "bench-quickstart: run as root (sudo $0)" >&2
  exit 1
fi
for tool in debootstrap unshare git; do
  command -v "$tool" >/dev/null || {
    echo "bench-quickstart: needs $tool (apt-get install debootstrap)" >&2
    exit 1
  }
done

root=""
cleanup() { [[ -n $root && -d $root ]] && rm -rf --one-file-system "$root"; }
trap cleanup EXIT

# Runs "$@" with $root as /, in a mount namespace that dies with the command.
in_root() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare -m --propagation private bash -c '
    set -e
    r=$1
    shift
    mount --rbind "$r" "$r"
    mount -t proc proc "$r/proc"
    mount --rbind /sys "$r/sys"
    mount --rbind /dev "$r/dev"
    mount -t tmpfs tmpfs "$r/run"
    mkdir -p "$r/oldroot"
    cd "$r"
    pivot_root . oldroot
    umount -l /oldroot
    cd /
    exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root TERM=xterm "$@"
  ' bash "$root" "$@"
}

declare -a seconds labels
for rev in "${revs[@]}"; do
  commit=$(git -C "$repo" rev-parse --short "$rev")
  root=$(mktemp -d "$base/bulkhead-quickstart.XXXXXX")
  chmod 0755 "$root" # it becomes /, which tenants' uids must traverse
  echo "bench-quickstart: $commit: a fresh bookworm root in $root (not timed)" >&2
  debootstrap --variant=minbase --include=git,ca-certificates,procps,iproute2 \
    bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
    {
      echo "bench-quickstart: debootstrap failed: $root.debootstrap.log" >&2
      exit 1
    }
  rm -f "$root.debootstrap.log" "$root/etc/apt/sources.list"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' \
    "$mirror" >"$root/etc/apt/sources.list.d/debian.sources"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  git clone -q "$repo" "$root/root/bulkhead"
  git -C "$root/root/bulkhead" checkout -q "$commit"
  log=$base/bulkhead-quickstart-$commit.log
  start=$(date +%s.%N)
  if ! in_root bash -c 'cd /root/bulkhead && scripts/demo.sh --no-wait' >"$log" 2>&1; then
    echo "bench-quickstart: $commit: the demo failed; its output: $log" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  seconds+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')")
  labels+=("$commit")
  cleanup
  root=""
done

printf '\n%-12s %10s %8s\n' revision seconds ratio
for i in "${!seconds[@]}"; do
  awk -v l="${labels[$i]}" -v s="${seconds[$i]}" -v f="${seconds[0]}" \
    'BEGIN { printf "%-12s %10.1f %7.2fx\n", l, s, s / f }'
done
