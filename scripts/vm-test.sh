#!/usr/bin/env bash
# scripts/vm-test.sh KERNEL_SERIES   (6.1, 6.12, ...)
#
# Boots Debian's cloud kernel of that series under qemu (KVM when it works on
# this host, else TCG software emulation) on a small Debian 12 userland with
# systemd as PID 1, unified cgroup2 and BPF-LSM, installs the built Bulkhead
# into it, starts bulkheadd from the shipped unit with the example tenants, runs
# the kernel test suite (VM_TESTS) there, and exits with the guest's result.
# docs/vm-matrix.md has the design, the times and the knobs; in short:
#
#   BUILD_DIR         build tree to test (default: build/, as scripts/test.sh)
#   VM_CACHE_DIR      kernels, initramfs, images (default: vm-cache/, git-ignored)
#   VM_ACCEL          auto (KVM if a probe boot works, else TCG) | kvm | tcg
#   VM_SMP, VM_MEM    guest CPUs (2) and MiB (2048)
#   VM_TIMEOUT        whole qemu run, s (900); VM_BOOT_TIMEOUT: until the runner starts (300)
#   VM_TEST_TIMEOUT   each test binary in the guest, s (600)
#   VM_TESTS          which kernel tests run in the guest: a gtest filter over
#                     tests/kernel ('*', all; empty: none). See "Which tests" below.
#   VM_UNIT_FILTER    gtest filter of the unit suite in the guest (default empty: not run)
#   VM_AGENT          auto | yes | no: install and check bulkheadd (auto: when built;
#                     yes under CI=true)
#   VM_TENANTS        yes | no: run the example tenants under the agent
#   VM_KERNEL_PACKAGE exact linux-image-…-cloud-amd64-unsigned package to boot
#   VM_MIRROR         Debian mirror for debootstrap (http://deb.debian.org/debian)
#   VM_QUIET=1        do not stream the guest console (it is in the run dir anyway)
#   VM_EXTRA          a shell command the guest runs as one more step (investigations)
#   VM_KEEP=1         keep this run's payload image
#
# Exit status: the guest's (0 = every step passed); 1 on any failure or timeout;
# 77 (ctest's SKIP_RETURN_CODE) when a prerequisite is missing, except under
# CI=true where that is a failure too.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
vm_dir=$repo/scripts/vm
series=${1:-}
if [[ -z $series || $series == -h || $series == --help ]]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
  [[ -n $series ]] && exit 0
  exit 2
fi

build_dir=$(realpath -m "${BUILD_DIR:-$repo/build}")
src_dir=$repo
cache=$(realpath -m "${VM_CACHE_DIR:-$repo/vm-cache}")
accel=${VM_ACCEL:-auto}
smp=${VM_SMP:-2}
mem=${VM_MEM:-2048}
total_timeout=${VM_TIMEOUT:-900}
boot_timeout=${VM_BOOT_TIMEOUT:-300}
test_timeout=${VM_TEST_TIMEOUT:-600}
# Which tests run in the guests. This is the knob that keeps the matrix within
# CI's time budget (docs/vm-matrix.md has the figures): a gtest filter over the
# kernel suite, the tests whose outcome depends on the kernel and the host's
# cgroup layout. All of them by default; when the suite outgrows the budget,
# name the slow kernel-independent ones here as negative patterns, e.g.
# '*:-SandboxTest.DefaultSeccompProfileBlocksEachDangerousSyscall'.
# The unit suite does not run in the guests: it does not touch the kernel.
guest_tests=${VM_TESTS-*}
unit_filter=${VM_UNIT_FILTER-}
default_agent=auto
[[ ${CI:-} == true ]] && default_agent=yes
want_agent=${VM_AGENT:-$default_agent}
tenants=${VM_TENANTS:-yes}
mirror=${VM_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

t_start=$(date +%s)
log() { echo "vm-test[$series]: $*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}
# A missing prerequisite: a skip for ctest on a developer machine, a failure in CI.
missing() {
  log "$*"
  if [[ ${CI:-} == true ]]; then
    log "FAIL (CI=true: a missing prerequisite fails the run)"
    exit 1
  fi
  log "SKIP"
  exit 77
}

[[ $(id -u) -eq 0 ]] || missing "needs root (apt-get, debootstrap, device nodes in the initramfs): run sudo $0 $series"
[[ -d $build_dir/tests ]] || missing "no build tree at $build_dir (set BUILD_DIR, or run scripts/setup.sh)"
needed_tests=(bulkhead_kernel_tests)
[[ -n $unit_filter ]] && needed_tests+=(bulkhead_unit_tests)
for t in "${needed_tests[@]}"; do
  [[ -x $build_dir/tests/$t ]] || missing "$build_dir/tests/$t is not built"
done

# ---------------------------------------------------------------- cleanup
qemu_pid=
building=
run_dir=
cleanup() {
  local rc=$?
  if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [[ -n $building ]]; then
    # An interrupted debootstrap can leave /proc, /sys, ... mounted in its target.
    local m
    for m in $(awk -v d="$building" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$building"
  fi
  if [[ -n $run_dir && ${VM_KEEP:-0} != 1 ]]; then
    rm -f "$run_dir/payload.img"
    rm -rf "$run_dir/payload"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- host packages
# command -> Debian package providing it
declare -A host_tools=(
  [qemu-system-x86_64]=qemu-system-x86 [cpio]=cpio [debootstrap]=debootstrap
  [mkfs.ext4]=e2fsprogs [debugfs]=e2fsprogs [depmod]=kmod [xz]=xz-utils [zstd]=zstd
  [flock]=util-linux [timeout]=coreutils [apt-get]=apt [dpkg-deb]=dpkg
)
ensure_host_packages() {
  local need=() tool
  for tool in "${!host_tools[@]}"; do
    command -v "$tool" >/dev/null || need+=("${host_tools[$tool]}")
  done
  # The initramfs needs the static busybox (the dynamic one has no libc there).
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" ||
    need+=(busybox-static)
  ((${#need[@]})) || return 0
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; }; then
    missing "cannot install ${need[*]} (apt-get install ${need[*]})"
  fi
}
# apt is not safe to run twice at once (its lists and dpkg locks): runs of
# the two kernels side by side take turns until the kernel is fetched.
exec 7>/run/lock/bulkhead-vm-test.apt.lock
flock 7
ensure_host_packages

mkdir -p "$cache"/{kernels,images,runs}
chmod 0755 "$cache"

# ---------------------------------------------------------------- kernel
# linux-image-<series>.<anything>-cloud-amd64-unsigned, newest that apt can fetch.
kernel_regex="^linux-image-${series//./\\.}\\.[0-9]+[-.+][^ ]*-cloud-amd64-unsigned\$"
resolve_kernel_package() {
  if [[ -n ${VM_KERNEL_PACKAGE:-} ]]; then
    echo "$VM_KERNEL_PACKAGE"
    return
  fi
  local p
  for attempt in 1 2; do
    for p in $(apt-cache pkgnames "linux-image-$series." 2>/dev/null | grep -E "$kernel_regex" | sort -rV); do
      # (No `| grep -q` here: with pipefail, apt-cache's SIGPIPE would make it false.)
      if [[ $(apt-cache policy "$p" 2>/dev/null) =~ Candidate:\ [^\(] ]]; then
        echo "$p"
        return
      fi
    done
    ((attempt == 1)) && apt-get update -qq >/dev/null 2>&1 || true
  done
  cached_kernel_package
}

# The newest kernel of the series already in the cache (for offline runs).
cached_kernel_package() {
  local d
  for d in "$cache"/kernels/linux-image-*/; do
    d=$(basename "$d")
    [[ $d =~ $kernel_regex && -e $cache/kernels/$d/.ready ]] && echo "$d"
  done | sort -rV | head -1 || true
}

# Sets fetched=no when the download fails (no `if fetch_kernel`: errexit would
# be off in the whole function).
fetched=yes
fetch_kernel() {
  local pkg=$1 dir=$cache/kernels/$1
  [[ -e $dir/.ready ]] && return 0
  local tmp
  tmp=$(mktemp -d "$cache/kernels/.fetch.XXXXXX")
  building=$tmp
  chown _apt "$tmp" 2>/dev/null || true
  log "downloading $pkg"
  if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null); then
    rm -rf "$tmp"
    building=
    fetched=no
    return 0
  fi
  mkdir "$tmp/x"
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  local kver
  kver=$(ls "$tmp/x/lib/modules")
  # The package ships no modules.dep (its postinst runs depmod).
  depmod -b "$tmp/x" "$kver"
  echo "$kver" >"$tmp/x/kver"
  rm -rf "$dir"
  mv "$tmp/x" "$dir"
  rm -rf "$tmp"
  building=
  touch "$dir/.ready"
  # Older kernels of the series are dead weight.
  local old
  for old in "$cache"/kernels/linux-image-*; do
    [[ $old != "$dir" ]] && grep -qE "$kernel_regex" <<<"$(basename "$old")" && rm -rf "$old"
  done
  return 0
}

# The few modules needed to see the disks (virtio_pci, virtio_blk and their
# dependencies; whichever of them the kernel has built in are not in
# modules.dep), dependencies first.
resolve_modules() {
  local mdir=$1
  shift
  declare -A seen=()
  local out=()
  visit() {
    local path=$1 line dep
    [[ -n ${seen[$path]:-} ]] && return
    seen[$path]=1
    line=$(grep -m1 "^$path:" "$mdir/modules.dep") || return 0
    for dep in ${line#*:}; do
      visit "$dep"
    done
    out+=("$path")
  }
  local name path
  for name in "$@"; do
    path=$(grep -m1 -E "/$name\\.ko(\\.[a-z]+)?:" "$mdir/modules.dep" | cut -d: -f1) || continue
    visit "$path"
  done
  printf '%s\n' "${out[@]}"
}

build_initrd() {
  local kdir=$1 kver=$2 key out
  local mdir=$kdir/lib/modules/$kver
  local mods
  mods=$(resolve_modules "$mdir" virtio_pci virtio_blk)
  key=$( { cat "$vm_dir/init"; echo "$mods"; /bin/busybox 2>&1 | sed -n 1p; } | sha256sum | cut -c1-12)
  out=$kdir/initrd-$key.img
  initrd=$out
  [[ -e $out ]] && return
  local st
  st=$(mktemp -d "$kdir/.initrd.XXXXXX")
  building=$st
  mkdir -p "$st"/{bin,dev,proc,sys,tmp,newroot,etc/bulkhead-vm,lib/modules}
  cp /bin/busybox "$st/bin/busybox"
  install -m 0755 "$vm_dir/init" "$st/init"
  mknod -m 0600 "$st/dev/console" c 5 1
  mknod -m 0666 "$st/dev/null" c 1 3
  echo "$kver" >"$st/etc/bulkhead-vm/kver"
  local m base
  : >"$st/etc/bulkhead-vm/modules"
  for m in $mods; do
    base=$(basename "$m")
    case $base in
      *.ko.xz) xz -dc "$mdir/$m" >"$st/lib/modules/${base%.xz}" ;;
      *.ko.zst) zstd -qdc "$mdir/$m" >"$st/lib/modules/${base%.zst}" ;;
      *.ko.gz) gzip -dc "$mdir/$m" >"$st/lib/modules/${base%.gz}" ;;
      *) cp "$mdir/$m" "$st/lib/modules/$base" ;;
    esac
    echo "${base%.ko*}.ko" >>"$st/etc/bulkhead-vm/modules"
  done
  (cd "$st" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$st"
  building=
  find "$kdir" -maxdepth 1 -name 'initrd-*.img' ! -path "$out" -delete
}

# mkext4 IMAGE LABEL DIR EXTRA_MIB [mkfs options]: an ext4 image holding DIR.
mkext4() {
  local img=$1 label=$2 dir=$3 extra=$4
  shift 4
  local mib
  mib=$(($(du -sm --apparent-size "$dir" | cut -f1) * 5 / 4 + extra))
  rm -f "$img"
  truncate -s "${mib}M" "$img"
  mkfs.ext4 -q -F -L "$label" -E root_owner=0:0 "$@" -d "$dir" "$img" >/dev/null
}

build_modules_image() {
  local kdir=$1 kver=$2
  [[ -e $kdir/modules.img ]] && return
  mkext4 "$kdir/modules.img.tmp" bh-modules "$kdir/lib/modules/$kver" 16 -O ^has_journal
  mv "$kdir/modules.img.tmp" "$kdir/modules.img"
}

# ---------------------------------------------------------------- guest userland
# Debian packages of the guest: systemd and the tools the runner uses, plus the
# shared libraries of the Bulkhead binaries (from ldd, so that a new dependency
# rebuilds the image; the list is the image's cache key).
base_packages=(
  systemd systemd-sysv udev kmod dbus procps iproute2 util-linux
  cmake python3 bpftool
  # used by kernel tests: a real rsyslogd for the syslog sinks
  rsyslog
  libbpf1 libelf1 zlib1g libseccomp2 libcap2 libsystemd0 libboost-program-options1.74.0
  libspdlog1.10 libfmt9 libyaml-cpp0.7
)
image_recipe=3   # bump when configure_rootfs changes
guest_packages() {
  local f lib pkg
  {
    printf '%s\n' "${base_packages[@]}"
    for f in "$build_dir"/agent/* "$build_dir"/tests/bulkhead_*_tests; do
      [[ -f $f && -x $f ]] || continue
      ldd "$f" 2>/dev/null | awk '/=> \// { print $3 }'
    done | sort -u | while read -r lib; do
      pkg=$({ dpkg -S "$lib" || dpkg -S "$(realpath "$lib")"; } 2>/dev/null | sed -n 1p)
      [[ -n $pkg ]] || continue
      echo "${pkg%%:*}"
    done
  } | sort -u
}

configure_rootfs() {
  local r=$1 u
  echo bulkhead-vm >"$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 bulkhead-vm\n::1 localhost\n' >"$r/etc/hosts"
  # Fixed, so that systemd does not treat every boot as a first boot.
  tr -d '-' </proc/sys/kernel/random/uuid >"$r/etc/machine-id"
  echo "# The initramfs (scripts/vm/init) mounts the VM's disks." >"$r/etc/fstab"
  # No logins, timers or other noise on the console of a test VM.
  for u in serial-getty@ttyS0.service getty@tty1.service console-getty.service \
    systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer \
    dpkg-db-backup.timer e2scrub_all.timer fstrim.timer man-db.timer \
    systemd-timesyncd.service; do
    ln -sf /dev/null "$r/etc/systemd/system/$u"
  done
  mkdir -p "$r/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\n' >"$r/etc/systemd/journald.conf.d/vm.conf"
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
}

# The packages installed in an image (from its dpkg status, read with debugfs).
image_packages() {
  local img=$1
  if [[ ! -e $img.packages ]]; then
    debugfs -R "cat /var/lib/dpkg/status" "$img" 2>/dev/null |
      awk '/^Package: / { print $2 }' | sort -u >"$img.packages.tmp"
    mv "$img.packages.tmp" "$img.packages"
  fi
  cat "$img.packages"
}

# An image that has every package asked for; made with debootstrap (~1-4 min)
# when there is none. Images are named by recipe and package list.
find_image() {
  local pkgs=$1 img
  local imgs=("$cache/images/$suite-r$image_recipe-"*.img)
  for img in "${imgs[@]}"; do
    [[ -e $img ]] || continue
    if [[ -z $(comm -23 <(echo "$pkgs") <(image_packages "$img")) ]]; then
      echo "$img"
      return
    fi
  done
}

build_image() {
  local pkgs key img
  pkgs=$(guest_packages)
  img=$(find_image "$pkgs")
  if [[ -z $img ]]; then
    exec 8>"$cache/images/.lock"
    flock 8
    img=$(find_image "$pkgs")
  fi
  if [[ -z $img ]]; then
    key=$(printf '%s\n' "$suite" "$pkgs" | sha256sum | cut -c1-12)
    img=$cache/images/$suite-r$image_recipe-$key.img
    local rootfs=$cache/images/.rootfs-$key
    building=$rootfs
    rm -rf --one-file-system "$rootfs"
    log "no cached guest image has all of: $(echo "$pkgs" | paste -sd' ')"
    log "debootstrap $suite from $mirror (1-4 min)"
    local t0=$SECONDS
    if ! debootstrap --variant=minbase --include="$(echo "$pkgs" | paste -sd,)" \
      "$suite" "$rootfs" "$mirror" >"$cache/images/debootstrap.log" 2>&1; then
      tail -20 "$cache/images/debootstrap.log" >&2
      missing "debootstrap failed (no network to $mirror?): $cache/images/debootstrap.log"
    fi
    configure_rootfs "$rootfs"
    # Room for the install and the tests (writes are thrown away: snapshot=on).
    mkext4 "$img.tmp" bh-root "$rootfs" 1024
    rm -f "$img.packages"
    mv "$img.tmp" "$img"
    rm -rf --one-file-system "$rootfs"
    building=
    log "image $img made in $((SECONDS - t0)) s"
    # Images of older recipes, and all but the two newest, are dead weight.
    find "$cache/images" -maxdepth 1 -name "$suite-*.img" ! -name "$suite-r$image_recipe-*" -delete
    ls -t "$cache/images/$suite-r$image_recipe-"*.img | tail -n +3 | xargs -r rm -f
    find "$cache/images" -maxdepth 1 -name '*.packages' | while read -r f; do
      [[ -e ${f%.packages} ]] || rm -f "$f"
    done
  fi
  flock -u 8 2>/dev/null || true
  image=$img
}

# ---------------------------------------------------------------- KVM or TCG
kvm_works() {
  local kernel=$1 initrd=$2 stamp
  [[ -w /dev/kvm ]] || return 1
  # Once per host boot: KVM can hang right after the boot loader (nested virt).
  stamp=$cache/kvm-probe.$(cat /proc/sys/kernel/random/boot_id)
  if [[ ! -e $stamp ]]; then
    log "probing KVM (up to 30 s)"
    local out
    out=$(timeout -k 5 30 qemu-system-x86_64 -nodefaults -no-user-config -display none \
      -no-reboot -accel kvm -cpu host -m 256 -serial stdio -nic none \
      -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 panic=-1 bh.probe=1" 2>&1) || true
    rm -f "$cache"/kvm-probe.*
    if grep -q BULKHEAD-VM-PROBE-OK <<<"$out"; then echo ok >"$stamp"; else echo no >"$stamp"; fi
  fi
  [[ $(cat "$stamp") == ok ]]
}

# ---------------------------------------------------------------- prepare
t_prep=$(date +%s)
kpkg=$(resolve_kernel_package)
[[ -n $kpkg ]] || missing "no linux-image-$series.*-cloud-amd64-unsigned package known to apt (is bookworm-updates/-security in sources.list?)"
fetch_kernel "$kpkg"
if [[ $fetched == no ]]; then
  cached=$(cached_kernel_package)
  [[ -n $cached ]] || missing "apt-get download $kpkg failed, and no kernel of $series is cached"
  log "NOTE: apt-get download $kpkg failed: booting the cached $cached"
  kpkg=$cached
fi
flock -u 7
kdir=$cache/kernels/$kpkg
kver=$(cat "$kdir/kver")
kernel=$kdir/boot/vmlinuz-$kver
build_initrd "$kdir" "$kver"
build_modules_image "$kdir" "$kver"
build_image

case $accel in
  kvm) ;;
  tcg) ;;
  auto) if kvm_works "$kernel" "$initrd"; then accel=kvm; else accel=tcg; fi ;;
  *) die "VM_ACCEL must be auto, kvm or tcg" ;;
esac

# The agent: installed and checked when it is built.
agent=yes
if [[ ! -x $build_dir/agent/bulkheadd || ! -f $build_dir/agent/packaging/bulkheadd.service ]]; then
  agent="bulkheadd or agent/packaging/bulkheadd.service not built in $build_dir"
fi
case $want_agent in
  no) agent="VM_AGENT=no" ;;
  yes) [[ $agent == yes ]] || die "VM_AGENT=yes but $agent" ;;
  auto)
    if [[ $agent != yes ]]; then
      log "NOTE: $agent: the service checks are skipped"
    fi
    ;;
esac

# This run's disks: payload (source and build trees at their host paths, the
# guest scripts, the settings) and results.
exec 9>"$cache/runs/$series.lock"
flock 9
run_dir=$cache/runs/$series
rm -rf "$run_dir"
mkdir -p "$run_dir/payload/root$src_dir" "$run_dir/payload/root$build_dir" "$run_dir/payload/vm"
pl=$run_dir/payload
if git -C "$src_dir" rev-parse --git-dir >/dev/null 2>&1; then
  # Tracked and untracked files, not what .gitignore names (build trees, vm-cache).
  git -C "$src_dir" ls-files -z -co --exclude-standard |
    tar -C "$src_dir" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$pl/root$src_dir" -xf -
else
  tar -C "$src_dir" --exclude=./.git --exclude='./build*' --exclude=./vm-cache -cf - . |
    tar -C "$pl/root$src_dir" -xf -
fi
tar -C "$build_dir" --exclude='*.o' --exclude='*.a' --exclude=CMakeFiles --exclude=Testing \
  -cf - . | tar -C "$pl/root$build_dir" -xf -
cp "$vm_dir"/* "$pl/vm/"
{
  printf 'SRC_DIR=%q\n' "$src_dir"
  printf 'BUILD_DIR=%q\n' "$build_dir"
  printf 'KERNEL_SERIES=%q\n' "$series"
  printf 'AGENT=%q\n' "$agent"
  printf 'TENANTS=%q\n' "$tenants"
  printf 'UNIT_FILTER=%q\n' "$unit_filter"
  printf 'KERNEL_FILTER=%q\n' "$guest_tests"
  printf 'TEST_TIMEOUT=%q\n' "$test_timeout"
  printf 'EXTRA=%q\n' "${VM_EXTRA:-}"
} >"$pl/run.env"
mkext4 "$run_dir/payload.img" bh-payload "$pl" 256 -O ^has_journal
rm -rf "$pl"
truncate -s 64M "$run_dir/results.img"
mkfs.ext4 -q -F -L bh-results "$run_dir/results.img" >/dev/null

# ---------------------------------------------------------------- boot
cmdline="console=ttyS0,115200 panic=-1 quiet loglevel=4 systemd.show_status=error"
cmdline+=" systemd.unified_cgroup_hierarchy=1 lsm=lockdown,capability,landlock,yama,bpf"
if [[ $accel == kvm ]]; then
  accel_args=(-accel kvm -cpu host)
else
  # shellcheck disable=SC2054 # (commas inside qemu option values)
  accel_args=(-accel tcg,thread=multi -cpu max)
  # TCG: no Spectre/Meltdown mitigations to emulate (they cost, and protect nothing here).
  cmdline+=" mitigations=off"
fi
qemu=(qemu-system-x86_64 -name "bulkhead-vm-$series" -nodefaults -no-user-config
  -display none -monitor none -no-reboot -nic none
  "${accel_args[@]}" -smp "$smp" -m "$mem"
  -serial "file:$run_dir/console.log"
  -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
  -drive "file=$image,if=virtio,format=raw,snapshot=on"
  -drive "file=$kdir/modules.img,if=virtio,format=raw,readonly=on"
  -drive "file=$run_dir/payload.img,if=virtio,format=raw,snapshot=on"
  -drive "file=$run_dir/results.img,if=virtio,format=raw"
  -device virtio-rng-pci)
printf '%q ' "${qemu[@]}" >"$run_dir/qemu.cmd"
echo >>"$run_dir/qemu.cmd"

prep_s=$(($(date +%s) - t_prep))
log "kernel $kver ($kpkg), ${accel^^}, ${smp} CPUs, ${mem} MiB; prepared in ${prep_s} s; booting"
: >"$run_dir/console.log"
t_boot=$(date +%s)
# snapshot=on keeps its temporary overlays in TMPDIR (unlinked at once by qemu).
TMPDIR=$run_dir timeout -k 10 "$total_timeout" "${qemu[@]}" </dev/null >"$run_dir/qemu.log" 2>&1 &
qemu_pid=$!

clean_console() { tr -d '\r' | sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g'; }
shown=0
show_console() {
  [[ ${VM_QUIET:-0} == 1 ]] && return
  local total
  total=$(wc -l <"$run_dir/console.log")
  if ((total > shown)); then
    sed -n "$((shown + 1)),${total}p" "$run_dir/console.log" | clean_console | sed "s/^/[vm $series] /"
    shown=$total
  fi
}
t_runner=
timed_out=
while kill -0 "$qemu_pid" 2>/dev/null; do
  show_console
  now=$(date +%s)
  if [[ -z $t_runner ]]; then
    if grep -q 'BULKHEAD-VM: runner started' "$run_dir/console.log"; then
      t_runner=$now
    elif ((now - t_boot > boot_timeout)); then
      timed_out="boot (no runner after ${boot_timeout} s)"
      kill "$qemu_pid"
      break
    fi
  fi
  sleep 1
done
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=
t_end=$(date +%s)
show_console
[[ -z $t_runner ]] && grep -q 'BULKHEAD-VM: runner started' "$run_dir/console.log" && t_runner=$t_end
((qemu_rc == 124)) && timed_out="whole run (VM_TIMEOUT=${total_timeout} s)"

# ---------------------------------------------------------------- result
mkdir -p "$run_dir/results"
for f in $(debugfs -R "ls -p /" "$run_dir/results.img" 2>/dev/null | awk -F/ '$6 != "" && $6 != "." && $6 != ".." && $6 != "lost+found" { print $6 }'); do
  debugfs -R "dump /$f $run_dir/results/$f" "$run_dir/results.img" >/dev/null 2>&1 || true
done
rm -f "$run_dir/results.img"

rc=
reason=
if [[ -n $timed_out ]]; then
  reason="timed out: $timed_out"
  rc=1
elif [[ -f $run_dir/results/result.env ]]; then
  rc=$(sed -n 's/^rc=//p' "$run_dir/results/result.env")
fi
if [[ -z $rc ]]; then
  marker=$(grep -a -o 'BULKHEAD-VM-RESULT rc=[0-9]*.*' "$run_dir/console.log" | tail -1 || true)
  if [[ -n $marker ]]; then
    rc=$(sed -E 's/.*rc=([0-9]+).*/\1/' <<<"$marker")
    reason=$marker
  else
    rc=1
    reason="the guest reported no result (qemu exit status $qemu_rc; see $run_dir/console.log)"
  fi
fi

total_s=$((t_end - t_start))
if [[ -n $t_runner ]]; then
  times="boot to runner $((t_runner - t_boot)) s, tests and shutdown $((t_end - t_runner)) s"
else
  times="the runner never started ($((t_end - t_boot)) s in qemu)"
fi
log "---------------------------------------------------------------"
log "kernel $kver, ${accel^^}: prepare ${prep_s} s, $times, total ${total_s} s"
if [[ -f $run_dir/results/result.env ]]; then
  while IFS='=' read -r k v; do
    [[ $k == step_* ]] && log "  $(printf '%-11s' "${k#step_}") $v"
  done <"$run_dir/results/result.env"
fi
if [[ -s $run_dir/results/notes.txt ]]; then
  while read -r line; do log "  $line"; done <"$run_dir/results/notes.txt"
fi
log "logs: $run_dir (console.log, results/)"
if [[ $rc != 0 && ${VM_QUIET:-0} == 1 && -f $run_dir/results/result.env ]]; then
  # The console was not streamed: show the end of each failed step's log.
  while IFS='=' read -r k v; do
    [[ $k == step_* && ${v%% *} != 0 && ${v%% *} != skip ]] || continue
    k=${k#step_}
    log "---- tail of ${k//_/-}.log"
    tail -40 "$run_dir/results/${k//_/-}.log" >&2 || true
  done <"$run_dir/results/result.env"
fi
if [[ $rc == 0 ]]; then
  log "PASS"
  exit 0
fi
[[ -n $reason ]] && log "$reason"
log "FAIL (guest rc=$rc)"
exit 1
