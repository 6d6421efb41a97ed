#!/usr/bin/env bash
# Launch latency of /bin/true in a full Bulkhead sandbox (all namespaces,
# cgroup with limits, seccomp, Landlock) next to bubblewrap with every
# namespace, measured in the same run. Needs root. Usage: sudo scripts/bench-launch.sh [RUNS]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
"$repo/scripts/setup.sh" >/dev/null
echo "kernel $(uname -r), $(nproc) cores, cgroups: $(stat -fc %T /sys/fs/cgroup)"
exec "$build_dir/bench/launch_bench" --runs "${1:-300}"
