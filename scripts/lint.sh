#!/usr/bin/env bash
# Lints the tracked C/C++ sources; exits non-zero on any finding.
#   1. clang-format --dry-run --Werror on every tracked .c/.cc/.h (bpf/*.bpf.c included:
#      clang-format leaves BPF C alone, and its include order is fenced off).
#   2. clang-tidy (the repo's .clang-tidy, every warning an error) on the tracked .cc files
#      under agent/ and tests/, with the compile commands of a build directory.
# Usage: scripts/lint.sh [--format-only | --tidy-only]
# Environment:
#   BUILD_DIR  build directory whose compile_commands.json is used (default:
#              build-lint/, kept apart from build/ because clang-tidy needs the
#              agent library without unity batches); configured here. Only the
#              generated BPF skeleton headers are built.
#   LINT_JOBS  clang-tidy processes at once (default: 1; each is CPU- and memory-heavy).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build-lint}
jobs=${LINT_JOBS:-1}
run_format=1
run_tidy=1
case ${1:-} in
  --format-only) run_tidy=0 ;;
  --tidy-only) run_format=0 ;;
  "") ;;
  *)
    echo "usage: $0 [--format-only | --tidy-only]" >&2
    exit 2
    ;;
esac

pick() {
  local name
  for name in "$@"; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  echo "lint: none of $* found (scripts/setup.sh installs them)" >&2
  return 1
}

cd "$repo"
failed=0
start=$SECONDS

if ((run_format)); then
  clang_format=$(pick clang-format-14 clang-format)
  mapfile -d '' format_files < <(git ls-files -z -- '*.c' '*.cc' '*.h' '*.cpp' '*.hpp')
  echo "lint: clang-format on ${#format_files[@]} files"
  if ! "$clang_format" --dry-run --Werror "${format_files[@]}"; then
    echo "lint: clang-format: files above need 'clang-format -i'" >&2
    failed=1
  fi
fi

if ((run_tidy)); then
  clang_tidy=$(pick clang-tidy-14 clang-tidy)
  # (Re)configure, so compile_commands.json lists every current source, then
  # generate the BPF skeleton headers that the loaders include.
  # One compile command per file: no unity batches in the lint directory.
  cmake -S "$repo" -B "$build_dir" -DBULKHEAD_UNITY_BUILD=OFF >/dev/null
  cmake --build "$build_dir" --target bpf_skeletons >/dev/null
  mapfile -d '' tidy_files < <(git ls-files -z -- 'agent/*.cc' 'tests/*.cc')
  echo "lint: clang-tidy on ${#tidy_files[@]} files, $jobs at a time"
  # One clang-tidy per file; each file's output is printed in one piece.
  # shellcheck disable=SC2016
  if ! printf '%s\0' "${tidy_files[@]}" |
    xargs -0 -n1 -P"$jobs" sh -c '
      if out=$("$0" -p "$1" --quiet "$2" 2>&1); then rc=0; else rc=$?; fi
      out=$(printf "%s\n" "$out" | grep -Ev "^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$")
      if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
        printf "lint: clang-tidy %s\n%s\n" "$2" "$out"
        exit 1
      fi' "$clang_tidy" "$build_dir"; then
    echo "lint: clang-tidy reported findings" >&2
    failed=1
  fi
fi

echo "lint: $((SECONDS - start)) s"
if ((failed)); then
  echo "lint: FAILED" >&2
  exit 1
fi
echo "lint: clean"
