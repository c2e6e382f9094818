#!/usr/bin/env bash
# Checks that every C++ file of the tree is formatted as .clang-format says; lists those that
# are not and exits 1. `scripts/check_style.sh --fix` formats them in place instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version="$(clang-format --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')"
if [[ "$version" != 14 ]]; then
  echo "check_style.sh: clang-format ${version:-?} is not the clang-format 14 the style was written for; not checked"
  exit 0
fi
mapfile -t files < <(find kernels benchmarks predictor tests -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.inc' \) | sort)
if [[ "${1:-}" == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "check_style.sh: ${#bad[@]} file(s) not formatted as .clang-format says (scripts/check_style.sh --fix):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check_style.sh: ${#files[@]} C++ files formatted as .clang-format says"
