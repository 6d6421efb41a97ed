#!/usr/bin/env bash
# Overhead of the kernel event stream on syscall-heavy loops in a tenant, next
# to auditd watching the same calls, in the same run. Needs root and auditd.
# Usage: sudo scripts/bench-events.sh [ROUNDS] [--compare-wakeup]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
"$repo/scripts/setup.sh" >/dev/null
# shellcheck source=scripts/bench-audit-cleanup.sh
source "$repo/scripts/bench-audit-cleanup.sh"
trap bench_audit_cleanup EXIT INT TERM
rounds=${1:-5}
shift || true
echo "kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$build_dir/bench/kernel_events_bench" --rounds "$rounds" "$@"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
