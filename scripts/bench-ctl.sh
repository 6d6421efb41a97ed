#!/usr/bin/env bash
# End-to-end run latency: `bulkheadctl run -- /bin/true` (client → agent →
# sandbox → exit status back) next to bubblewrap with every namespace, measured
# in the same run with hyperfine. Needs root. Usage: sudo scripts/bench-ctl.sh [RUNS]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
runs=${1:-200}
"$repo/scripts/setup.sh" >/dev/null

work=$(mktemp -d /tmp/bulkhead-bench-ctl-XXXXXX)
chmod 755 "$work"
mkdir -p "$work/profiles"
cat >"$work/profiles/bench.yaml" <<YAML
version: 1
tenant: bench
ids: {base: 0x6e000000, count: 65536}
filesystem:
  read_only: [/usr]
  symlinks:
    - {path: /bin, target: usr/bin}
    - {path: /lib, target: usr/lib}
    - {path: /lib64, target: usr/lib64}
  data: {host_path: $work/data}
limits:
  memory: {max: 256Mi}
  pids: 64
YAML
"$build_dir/agent/bulkheadd" --profiles "$work/profiles" --socket "$work/sock" \
  --state-dir "$work/state" --cgroup-name bulkhead-bench-ctl --log-level warn &
agent=$!
trap 'kill -TERM $agent 2>/dev/null; wait $agent 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [[ -S $work/sock ]] && break; sleep 0.1; done

echo "kernel $(uname -r), $(nproc) cores, $runs runs each"
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/h.json" \
  -n "bulkheadctl run -- /bin/true" "$build_dir/agent/bulkheadctl --socket $work/sock run --tenant bench -- /bin/true" \
  -n "bwrap --unshare-all" "bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev /bin/true" >/dev/null
python3 - "$work/h.json" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
def p(times, q):
    s = sorted(times); return s[min(len(s) - 1, int(q * len(s)))]
base = statistics.median(results[-1]["times"])
print(f"{'':34} {'median':>9} {'p99':>9} {'median/bwrap':>13}")
for r in results:
    m = statistics.median(r["times"])
    print(f"{r['command']:34} {m*1e3:7.2f}ms {p(r['times'], .99)*1e3:7.2f}ms {m/base:12.2f}x")
PY
