#!/usr/bin/env bash
# Soak (issue "Hardening"): the server (release build, SQLite with its journal, as
# `gpuledger server` runs by default) ingests GPUS x 6 dcgm-exporter metrics every 10 s at
# the current time (bench/rw_loadgen paced: requests of 2,000 series) for SECONDS, while
#   - a reader asks for the month-to-date department report, a running job's summary and
#     /healthz once a second each, and
#   - bench/slow_clients holds SLOW connections from 50 source addresses, each sending one
#     byte of a request head a second (reconnecting whenever the server closes one).
# Every 10 s the server's RSS, CPU time and open descriptors are written to rss.tsv; every
# read's status and latency to reads.tsv; at the end a summary (RSS at each fifth of the
# run, p50 / p99 / max of each read and of the writes, errors, the attack's counts), a
# check that the live books equal a from-scratch rebuild, and soak.svg (RSS and read
# latency over time). Not part of `make test`: it runs for half an hour.
# Usage: bench/soak.sh [SECONDS, default 1800] [GPUS, default 10000] [SLOW, default 500] [OUTDIR]
set -euo pipefail
SECS=${1:-1800}
GPUS=${2:-10000}
SLOW=${3:-500}
OUTDIR=${4:-}
GL=${GL:-$PWD/build/release/gpuledger}
LOADGEN=${LOADGEN:-$PWD/build/dev/bench/rw_loadgen}
SLOWGEN=${SLOWGEN:-$PWD/build/dev/bench/slow_clients}
for b in "$GL" "$LOADGEN" "$SLOWGEN"; do
  [ -x "$b" ] || { echo "missing $b: make build release" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)"
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT
PORT=18241
BASE=http://127.0.0.1:$PORT
MONTH=$(date -u +%Y-%m)
. "$(dirname "$0")/live_common.sh"

TOKENS=$(init_live_ledger "$TMP/l.db")
INGEST=$(sed -n 1p <<< "$TOKENS")
ADMIN=$(sed -n 2p <<< "$TOKENS")
"$GL" server --db "$TMP/l.db" --listen 127.0.0.1:$PORT --retention 0 > "$TMP/server.out" 2>&1 &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 200); do curl -fs "$BASE/healthz" > /dev/null 2>&1 && break; sleep 0.05; done
T0=$(date +%s.%N)
elapsed() { awk -v s="$T0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.0f", n - s }'; }

# The server's RSS (KiB; and its anonymous part: the heap, SQLite's page cache
# included), CPU seconds and descriptors every 10 s.
(
  hz=$(getconf CLK_TCK)
  echo -e "elapsed_s\trss_kib\tcpu_s\tfds\trss_anon_kib" > "$TMP/rss.tsv"
  while kill -0 "$SERVER" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER/status" 2>/dev/null || echo 0)
    anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$SERVER/status" 2>/dev/null || echo 0)
    cpu=$(awk -v hz="$hz" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$SERVER/stat" 2>/dev/null || echo 0)
    fds=$(ls "/proc/$SERVER/fd" 2>/dev/null | wc -l)
    echo -e "$(elapsed)\t$rss\t$cpu\t$fds\t$anon" >> "$TMP/rss.tsv"
    sleep 10
  done
) &
PIDS+=("$!")

# 6 series per GPU every 10 s, in requests of 2,000 series.
PER_ROUND=$((GPUS * 6 / 2000))
[ "$PER_ROUND" -lt 1 ] && PER_ROUND=1
RATE=$(awk -v n="$PER_ROUND" 'BEGIN { printf "%.3f", n / 10 }')
REQUESTS=$(awk -v s="$SECS" -v r="$RATE" 'BEGIN { printf "%d", s * r }')
"$LOADGEN" --url "$BASE/api/v1/write" --token "$INGEST" --gpus "$GPUS" --samples-per-series 1 \
  --series-per-request 2000 --requests "$REQUESTS" --rate "$RATE" --start-ago 0 --values varied \
  --settle 0 > "$TMP/loadgen.out" 2>&1 &
LG=$!
PIDS+=("$LG")
"$SLOWGEN" --port $PORT --clients "$SLOW" --addresses 50 --seconds "$SECS" --report 60 > "$TMP/slow.out" 2>&1 &
PIDS+=("$!")

# A running job on the first GPU, once remote write has registered it.
for _ in $(seq 100); do
  start=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
  job='{"id": "soak-job", "user": "u", "project": "p", "department": "d", "start": "'$start'",
        "allocations": [{"gpu_uuid": "GPU-10000000-c086-568a-9f1a-c1e1c934c44c", "start": "'$start'"}]}'
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
    -d "$job" "$BASE/api/v1/jobs")" = 201 ] && break
  sleep 0.2
done

echo -e "elapsed_s\tread\tstatus\tseconds" > "$TMP/reads.tsv"
read_one() {  # name, url
  local r
  r=$(curl -s -o /dev/null -m 10 -w '%{http_code} %{time_total}' -H "Authorization: Bearer $ADMIN" "$2" || true)
  echo -e "$(elapsed)\t$1\t${r% *}\t${r#* }" >> "$TMP/reads.tsv"
}
next=$(date +%s)
while kill -0 "$LG" 2>/dev/null; do
  read_one report "$BASE/api/v1/reports/monthly?month=$MONTH&by=department"
  read_one job "$BASE/api/v1/jobs/soak-job"
  read_one healthz "$BASE/healthz"
  next=$((next + 1))
  sleep "$(awk -v n="$next" -v t="$(date +%s.%N)" 'BEGIN { d = n - t; printf "%.3f", (d > 0 ? d : 0) }')"
done
wait "$LG" || true
sleep 2
kill -TERM "$SERVER"
wait "$SERVER" || true

echo "soak: $GPUS GPUs x 6 metrics every 10 s for $SECS s, $SLOW slow clients, $(nproc) cores"
echo "writes: $(tail -1 "$TMP/loadgen.out")"
echo "attack: $(tail -1 "$TMP/slow.out")"
for r in report job healthz; do
  awk -F'\t' -v r=$r '$2 == r { print $4 }' "$TMP/reads.tsv" > "$TMP/$r.s"
  errors=$(awk -F'\t' -v r=$r '$2 == r && $3 !~ /^2/ { n++ } END { print n + 0 }' "$TMP/reads.tsv")
  echo "$r: $(wc -l < "$TMP/$r.s") reads, p50 $(pct "$TMP/$r.s" 50) ms, p99 $(pct "$TMP/$r.s" 99) ms," \
    "max $(pct "$TMP/$r.s" 100) ms, $errors not 2xx"
done
awk -F'\t' 'NR > 1 { t[++n] = $1; r[n] = $2; c[n] = $3; f[n] = $4 } END {
  line = "rss MiB at"; for (k = 1; k <= 5; ++k) { i = int(n * k / 5); if (i < 1) i = 1
    line = line sprintf(" %ds: %.0f", t[i], r[i] / 1024) }
  max = 0; for (i = 1; i <= n; ++i) if (r[i] > max) max = r[i]
  print line sprintf("; max %.0f; server CPU %.0f s; descriptors at the end %d", max / 1024, c[n], f[n]) }' "$TMP/rss.tsv"
echo "server log: $(grep -c ' ERROR ' "$TMP/server.out" || true) ERROR and $(grep -c ' WARN ' "$TMP/server.out" || true)" \
  "WARN lines $(awk '$2 == "ERROR" || $2 == "WARN" { print $3 }' "$TMP/server.out" | sort | uniq -c | tr -s ' \n' ' ')"

check_rebuild "$TMP/l.db" ""

bench/soak_plot.sh "$TMP/rss.tsv" "$TMP/reads.tsv" > "$TMP/soak.svg"
if [ -n "$OUTDIR" ]; then
  mkdir -p "$OUTDIR"
  cp "$TMP/rss.tsv" "$TMP/reads.tsv" "$TMP/soak.svg" "$TMP/server.out" "$TMP/slow.out" "$TMP/loadgen.out" "$OUTDIR/"
  echo "files in $OUTDIR"
fi
