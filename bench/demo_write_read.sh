#!/usr/bin/env bash
# Live books on the demo ledger (issue "Live books", "Must show"): the cost of the next
# report of a finished month after a write that touches one GPU-hour of it, against the
# report before the write. Builds the demo ledger (32 GPUs, 60 s samples, 2026-09 and
# 2026-10), reads `report --month 2026-10` until it is stored, then, RUNS times: imports one
# GPU-hour of samples (61 samples of one GPU, an hour in mid-month, values changed each
# round so the write is a real change) and times the report that follows, and a report
# with no write before it. Prints each time, their medians and the ratio.
# Usage: bench/demo_write_read.sh [RUNS, default 7]   (GL=path/to/gpuledger; default build/release)
set -euo pipefail
RUNS=${1:-7}
GL=${GL:-$PWD/build/release/gpuledger}
[ -x "$GL" ] || { echo "build first: make release (or set GL)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
DB=$TMP/demo.db
"$GL" demo --db "$DB" > /dev/null
GPU=$(sqlite3 "$DB" "SELECT uuid FROM gpus ORDER BY uuid LIMIT 1")
MONTH=2026-10
ms() {  # milliseconds a command takes
  local t0 t1
  t0=$(date +%s%N)
  "$@" > /dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
report() { "$GL" report --db "$DB" --month "$MONTH" --by department; }
report > /dev/null  # the month is metered and stored
report > /dev/null
: > "$TMP/before"
: > "$TMP/after"
for r in $(seq 1 "$RUNS"); do
  ms report >> "$TMP/before"
  {
    echo "timestamp,gpu,metric,value"
    for m in $(seq 0 60); do
      t=$(date -u -d "2026-10-15T12:00:00Z + $m minutes" +%Y-%m-%dT%H:%M:%SZ)
      echo "$t,$GPU,util,$(((m * 7 + r * 13) % 100))"
    done
  } > "$TMP/hour.csv"
  "$GL" import samples --db "$DB" "$TMP/hour.csv" > /dev/null
  ms report >> "$TMP/after"
done
B=$(median < "$TMP/before")
A=$(median < "$TMP/after")
echo "report --month $MONTH --by department on the demo ledger, $RUNS rounds"
echo "  before a write (ms): $(tr '\n' ' ' < "$TMP/before")  median $B"
echo "  after one GPU-hour written (ms): $(tr '\n' ' ' < "$TMP/after")  median $A"
awk -v a="$A" -v b="$B" 'BEGIN { printf "  ratio after/before: %.1fx (goal: at most 5x)\n", a / b }'
