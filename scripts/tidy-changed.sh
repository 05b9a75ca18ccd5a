#!/usr/bin/env bash
# clang-tidy with the project's checks (.clang-tidy) as errors on the C++ sources under
# src/ added or changed since BASE (tests aside), and on the headers changed with them.
# Usage: scripts/tidy-changed.sh BUILD_DIR BASE   (BUILD_DIR holds compile_commands.json)
set -euo pipefail
BUILD_DIR=${1:?build dir}
BASE=${2:?base commit}
cd "$(dirname "$0")/.."
mapfile -t sources < <(git diff --name-only --diff-filter=AM "$BASE" HEAD -- 'src/*.cc' | grep -v '_test\.cc$' || true)
mapfile -t headers < <(git diff --name-only --diff-filter=AM "$BASE" HEAD -- 'src/*.h' || true)
if [ ${#sources[@]} -eq 0 ]; then
  echo "tidy-changed: no sources changed since $BASE"
  exit 0
fi
filter='^$'
if [ ${#headers[@]} -gt 0 ]; then
  filter=$(printf '%s\n' "${headers[@]}" | sed 's/[.]/\\./g' | paste -sd'|')
fi
TIDY=$(command -v clang-tidy-14 || command -v clang-tidy)
echo "tidy-changed: ${#sources[@]} sources and ${#headers[@]} headers changed since $(git rev-parse --short "$BASE")"
printf '%s\n' "${sources[@]}" |
  xargs -P "$(nproc)" -I{} "$TIDY" -p "$BUILD_DIR" --quiet --warnings-as-errors='*' \
    --extra-arg=-Wno-unknown-warning-option --header-filter="$filter" {} 2> /dev/null |
  tee "$BUILD_DIR/tidy-changed.log" | grep -E '(warning|error):' || true
if grep -qE '(warning|error):' "$BUILD_DIR/tidy-changed.log"; then
  echo "tidy-changed: findings above (checks in .clang-tidy)"
  exit 1
fi
echo "tidy-changed: clean"
