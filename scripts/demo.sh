#!/usr/bin/env bash
# Installs what is needed, builds, starts bulkheadd in the foreground on the
# example tenants in profiles/ with the default detection rules, shows what a
# tenant can and cannot do, and what the agent saw of it (events and alerts).
# The agent then keeps running until Ctrl-C (or pass --no-wait to stop at once).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
wait_at_end=1
[[ ${1:-} == --no-wait ]] && wait_at_end=0

if [[ $(id -u) -ne 0 ]]; then
  echo "demo: run as root (sudo $0)" >&2
  exit 1
fi
"$repo/scripts/setup.sh" --demo

run_dir=/run/bulkhead-demo
state_dir=/var/lib/bulkhead-demo
socket=$run_dir/bulkhead.sock
mkdir -p "$run_dir"
ctl() { "$build_dir/agent/bulkheadctl" --socket "$socket" "$@"; }
step() { printf '\n\033[1m$ bulkheadctl %s\033[0m\n' "$*"; }
show() { printf '\n\033[1m# %s\033[0m\n' "$*"; }

"$build_dir/agent/bulkheadd" --profiles "$repo/profiles" --socket "$socket" \
  --state-dir "$state_dir" --cgroup-name bulkhead-demo --stop-grace 3s \
  --rules "$repo/profiles/rules.d" &
agent=$!
trap 'kill -TERM $agent 2>/dev/null; wait $agent 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -S $socket ]] && break; sleep 0.1; done
[[ -S $socket ]] || { echo "demo: the agent did not start" >&2; exit 1; }
sleep 1

step status; ctl status
step tenants; ctl tenants
step ps; ctl ps

show "alpha's view: tenant root (an unprivileged host uid), its own hostname, only what the profile grants"
step run --tenant alpha -- sh -c 'id; hostname; ls /; cat /proc/self/uid_map'
ctl run --tenant alpha -- sh -c 'id; hostname; ls /; cat /proc/self/uid_map'

show "its own pid namespace: init, the declared heartbeat workload is in another one"
step run --tenant alpha -- ps -e
ctl run --tenant alpha -- ps -e || true

show "beta's web server answers inside beta (workloads of a tenant share its network namespace) ..."
step run --tenant beta -- python3 -c '...urlopen("http://127.0.0.1:8080/")...'
ctl run --tenant beta -- python3 -c 'import urllib.request as u; print("HTTP", u.urlopen("http://127.0.0.1:8080/").status)'
show "... and is unreachable from alpha at 127.0.0.1, which has a network namespace of its own"
ctl run --tenant alpha -- python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:8080/", timeout=2)' 2>&1 | tail -1 || true
show "both are isolated: alpha reaches beta only at beta's pool address, through the host (bridge ports are isolated)"
beta_ip=$(ctl --json tenants | python3 -c 'import json, sys; print(next(t["network"]["ipv4"] for t in json.load(sys.stdin)["tenants"] if t["name"] == "beta"))')
step run --tenant alpha -- python3 -c "...urlopen(\"http://$beta_ip:8080/\")..."
ctl run --tenant alpha -- python3 -c "import urllib.request as u; print('HTTP', u.urlopen('http://$beta_ip:8080/', timeout=2).status)" || true
show "... on the one port both profiles grant: any other port of beta is refused in alpha's own connect() (EPERM)"
step run --tenant alpha -- python3 -c "...create_connection((\"$beta_ip\", 22))..."
ctl run --tenant alpha -- python3 -c "import socket; socket.create_connection(('$beta_ip', 22), timeout=2)" 2>&1 | tail -1 || true

show "no capabilities, no_new_privs, seccomp; blocked: namespaces, mount, host kernel knobs"
ctl run --tenant alpha -- sh -c 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status'
ctl run --tenant alpha -- unshare -U true || true
ctl run --tenant alpha -- sh -c 'echo x > /proc/sys/kernel/core_pattern' || true
ctl run --tenant alpha -- sh -c 'mount -t tmpfs none /tmp' || true

show "what the agent saw of alpha's attempts: kernel events, attributed to tenant and workload"
step events --tenant alpha --type system.unshare --type system.mount --type file.open
ctl events --tenant alpha --type system.unshare --type system.mount --type file.open | tail -6
show "network denies, from the eBPF policy on the tenants' cgroups"
step events --type network.deny
ctl events --type network.deny | tail -3
show "and the alerts the detection rules (profiles/rules.d) raised on them"
step events --type alert
ctl events --type alert | tail -6

show "limits from the profile: pids.max of alpha's cgroup stops a fork loop"
ctl run --tenant alpha -- sh -c 'for i in $(seq 100); do sleep 2 & done 2>&1 | tail -1; wait' || true

show "the heartbeat alpha's declared workload writes into its data dir"
ctl run --tenant alpha -- cat /data/heartbeat
echo "(on the host: $(ls -ln "/var/lib/bulkhead/tenants/alpha" | tail -1))"

if ((wait_at_end)); then
  printf '\nThe agent is running. In another shell, try:\n'
  printf '  sudo %s --socket %s run --tenant alpha -- sh\n' "$build_dir/agent/bulkheadctl" "$socket"
  printf '  sudo %s --socket %s ps\n' "$build_dir/agent/bulkheadctl" "$socket"
  printf '  sudo %s --socket %s events --follow --tenant alpha\n' "$build_dir/agent/bulkheadctl" "$socket"
  printf 'Ctrl-C stops it (workloads are stopped and its cgroups removed).\n'
  wait $agent || true
fi
