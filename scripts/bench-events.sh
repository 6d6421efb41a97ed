#!/usr/bin/env bash
# Overhead of the kernel event stream on syscall-heavy loops in a tenant, next
# to auditd watching the same calls, in the same run. Needs root and auditd.
# Usage: sudo scripts/bench-events.sh [ROUNDS]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
"$repo/scripts/setup.sh" >/dev/null
# Whatever happens to the benchmark, leave no audit rule, audit switched off
# and no auditd running (the benchmark starts its own).
cleanup() {
  auditctl -D -k bulkhead-bench >/dev/null 2>&1 || true
  auditctl -e 0 -b 64 >/dev/null 2>&1 || true
  pid=$(auditctl -s 2>/dev/null | awk '$1 == "pid" {print $2}')
  if [[ -n ${pid:-} && $pid != 0 ]]; then kill "$pid" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM
echo "kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$build_dir/bench/kernel_events_bench" --rounds "${1:-5}"
