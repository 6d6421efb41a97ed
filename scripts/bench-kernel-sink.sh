#!/usr/bin/env bash
# Kernel-to-sink throughput of the event stream (kernel -> ring buffer ->
# decoder -> bus -> JSON file sink) at stepped rates, next to auditd carrying
# the same calls to its log, in the same run. Needs root and auditd.
# Usage: sudo scripts/bench-kernel-sink.sh [--seconds S] [--generators N] [--rates R1,R2,...]
#                                          [--log-dir DIR] [--agent-nice N] [--no-auditd]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
"$repo/scripts/setup.sh" >/dev/null
# shellcheck source=scripts/bench-audit-cleanup.sh
source "$repo/scripts/bench-audit-cleanup.sh"
log_dir=/tmp
for ((i = 1; i < $#; i++)); do
  if [[ ${!i} == --log-dir ]]; then
    next=$((i + 1))
    log_dir=${!next}
  fi
done
cleanup() {
  bench_audit_cleanup
  rm -rf /tmp/bulkhead-kernel-sink-bench "$log_dir/bulkhead-kernel-sink-bench"
}
trap cleanup EXIT INT TERM
echo "kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$build_dir/bench/kernel_sink_bench" "$@"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
