#!/usr/bin/env bash
# Live books under load (issue "Live books"): the server ingests 1,000 GPUs x 6
# dcgm-exporter metrics every 10 s at the current time (bench/rw_loadgen paced, samples
# stamped now) while a client reads the month-to-date department report and a running
# job's summary once a second. Prints the reads' p50 / p99 / max, the server's CPU per
# second with and without the reads (a second run, same load, no reader), and whether the
# live books equal a from-scratch rebuild at the end (the books tables emptied, the same
# report as of the same instant, compared byte for byte).
# Usage: bench/live_read.sh [SECONDS, default 300] [GPUS, default 1000]   (needs build/dev)
set -euo pipefail
SECS=${1:-300}
GPUS=${2:-1000}
GL=${GL:-$PWD/build/dev/gpuledger}
LOADGEN=${LOADGEN:-$PWD/build/dev/bench/rw_loadgen}
[ -x "$GL" ] && [ -x "$LOADGEN" ] || { echo "build first: make build" >&2; exit 2; }
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
PORT=18231
BASE=http://127.0.0.1:$PORT
MONTH=$(date -u +%Y-%m)
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
. "$(dirname "$0")/live_common.sh"

run() {  # name, with_reads (1|0)
  local dir=$TMP/$1
  mkdir -p "$dir"
  local ingest admin tokens
  tokens=$(init_live_ledger "$dir/l.db")
  ingest=$(sed -n 1p <<< "$tokens")
  admin=$(sed -n 2p <<< "$tokens")
  "$GL" server --db "$dir/l.db" --listen 127.0.0.1:$PORT --retention 0 > "$dir/out" 2>&1 &
  PID=$!
  for _ in $(seq 200); do curl -fs "$BASE/healthz" > /dev/null 2>&1 && break; sleep 0.05; done
  # 6 series per GPU every 10 s, in requests of 2,000 series.
  local per_round=$((GPUS * 6 / 2000)) rate requests
  [ "$per_round" -lt 1 ] && per_round=1
  rate=$(awk -v n="$per_round" 'BEGIN { printf "%.3f", n / 10 }')
  requests=$(awk -v s="$SECS" -v r="$rate" 'BEGIN { printf "%d", s * r }')
  "$LOADGEN" --url "$BASE/api/v1/write" --token "$ingest" --gpus "$GPUS" --samples-per-series 1 \
    --series-per-request 2000 --requests "$requests" --rate "$rate" --start-ago 0 --values varied \
    --settle 0 > "$dir/loadgen.out" 2>&1 &
  local lg=$!
  # A running job on the first GPU, once remote write has registered it (its hold must
  # start within the GPU's service, which starts at its first sample).
  local start job
  for _ in $(seq 100); do
    start=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
    job='{"id": "live-job", "user": "u", "project": "p", "department": "d", "start": "'$start'",
          "allocations": [{"gpu_uuid": "GPU-10000000-c086-568a-9f1a-c1e1c934c44c", "start": "'$start'"}]}'
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin" \
      -d "$job" "$BASE/api/v1/jobs")" = 201 ] && break
    sleep 0.2
  done
  local cpu0 t0
  cpu0=$(cpu "$PID")
  t0=$(date +%s.%N)
  : > "$dir/report.s"
  : > "$dir/job.s"
  if [ "$2" = 1 ]; then
    local next
    next=$(date +%s)
    while kill -0 "$lg" 2>/dev/null; do
      curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $admin" \
        "$BASE/api/v1/reports/monthly?month=$MONTH&by=department" >> "$dir/report.s"
      curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $admin" \
        "$BASE/api/v1/jobs/live-job" >> "$dir/job.s"
      next=$((next + 1))
      sleep "$(awk -v n="$next" -v t="$(date +%s.%N)" 'BEGIN { d = n - t; printf "%.3f", (d > 0 ? d : 0) }')"
    done
  fi
  wait "$lg" || true
  local cpu1 t1
  cpu1=$(cpu "$PID")
  t1=$(date +%s.%N)
  echo "$1: server CPU $(awk -v a="$cpu0" -v b="$cpu1" -v s="$t0" -v e="$t1" \
    'BEGIN { printf "%.3f", (b - a) / (e - s) }') s per s over $(awk -v s="$t0" -v e="$t1" \
    'BEGIN { printf "%.0f", e - s }') s; $(tail -1 "$dir/loadgen.out")"
  if [ "$2" = 1 ]; then
    echo "$1: month-to-date department report: $(wc -l < "$dir/report.s") reads, p50 $(pct "$dir/report.s" 50) ms," \
      "p99 $(pct "$dir/report.s" 99) ms, max $(pct "$dir/report.s" 100) ms"
    echo "$1: running job's summary:           $(wc -l < "$dir/job.s") reads, p50 $(pct "$dir/job.s" 50) ms," \
      "p99 $(pct "$dir/job.s" 99) ms, max $(pct "$dir/job.s" 100) ms"
  fi
  kill -TERM "$PID"
  wait "$PID" || true
  PID=
  if [ "$2" = 1 ]; then
    check_rebuild "$dir/l.db" "$1: "
  fi
}

run with-reads 1
run no-reads 0
