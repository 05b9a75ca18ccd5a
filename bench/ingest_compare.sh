#!/usr/bin/env bash
# Remote-write ingest, side by side: gpuledger server, Debian's victoria-metrics and
# Debian's prometheus each receive the same load from bench/rw_loadgen (1,000 GPUs x 6
# dcgm-exporter series), one receiver at a time on this machine, a fresh one per request
# shape, after a warm-up that creates every series. Prints samples per receiver
# CPU-second and latency (each receiver's deferred work counted: rw_loadgen --settle),
# Then bytes on disk per sample: each receiver, fresh, takes HOURS hours of the 6-sample
# shape (1,000 GPUs x 6 series every 10 s; 2.16 M samples an hour) and is stopped
# (gpuledger: the whole ledger file, and its sealed hours alone, read with sqlite3's
# dbstat; the open hour stays rows until the next hour's first write).
# Usage: bench/ingest_compare.sh [requests per shape, default 300; 0 skips] [HOURS, default 6; 0 skips]
#        (needs build/release, build/dev)
set -euo pipefail
REQ=${1:-300}
HOURS=${2:-6}
GL=$PWD/build/release/gpuledger
LOADGEN=$PWD/build/dev/bench/rw_loadgen
[ -x "$GL" ] && [ -x "$LOADGEN" ] || { echo "build first: make release build" >&2; exit 2; }
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
wait_http() { for _ in $(seq 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no $1" >&2; exit 1; }

start() {  # receiver dir -> sets PID, URL, TOKEN, HEALTH
  local dir=$TMP/$1-$2
  DIR=$dir
  mkdir -p "$dir"
  TOKEN=""
  case $1 in
    gpuledger)
      "$GL" admin token create --db "$dir/l.db" --role ingest > "$dir/tok"
      TOKEN=$(cat "$dir/tok")
      "$GL" server --db "$dir/l.db" --listen 127.0.0.1:18201 --retention 0 > "$dir/out" 2>&1 &
      PID=$!; URL=http://127.0.0.1:18201/api/v1/write; HEALTH=http://127.0.0.1:18201/healthz ;;
    victoria-metrics)
      victoria-metrics -storageDataPath "$dir/data" -httpListenAddr 127.0.0.1:18202 -retentionPeriod 100y \
        -loggerLevel ERROR > "$dir/out" 2>&1 &
      PID=$!; URL=http://127.0.0.1:18202/api/v1/write; HEALTH=http://127.0.0.1:18202/health ;;
    prometheus)
      printf 'global:\n  scrape_interval: 1h\n' > "$dir/prom.yml"
      prometheus --config.file "$dir/prom.yml" --storage.tsdb.path "$dir/data" \
        --web.listen-address 127.0.0.1:18203 --web.enable-remote-write-receiver --log.level=error > "$dir/out" 2>&1 &
      PID=$!; URL=http://127.0.0.1:18203/api/v1/write; HEALTH=http://127.0.0.1:18203/-/ready ;;
  esac
  wait_http "$HEALTH"
}

stop() {
  kill -TERM "$PID" 2>/dev/null || echo "the receiver (pid $PID) had exited: $(tail -c 600 "$DIR/out")" >&2
  wait "$PID" || true
  PID=
}
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }  # utime + stime, s

[ "$REQ" -gt 0 ] && for r in gpuledger victoria-metrics prometheus; do
  for shape in "1 2000" "6 1000"; do
    set -- $shape
    n=$REQ; [ "$1" = 6 ] && n=$((REQ / 2))
    start "$r" "$1"
    out=$("$LOADGEN" --url "$URL" --token "$TOKEN" --gpus 1000 --samples-per-series "$1" --series-per-request "$2" \
      --warmup 12 --requests "$n" --pid "$PID" | tr '\n' ' ')
    printf '%-16s %d/series: %s\n' "$r" "$1" "$out"
    [ "$r" = victoria-metrics ] && { curl -fs http://127.0.0.1:18202/internal/force_flush >/dev/null || true; sleep 2; }
    stop
  done
done

[ "$HOURS" -gt 0 ] || exit 0
# A round of every series (6 requests of 1,000 series x 6 samples) covers 60 s.
n=$((HOURS * 60 * 6))
total=$((n * 1000 * 6))
# Prometheus is left out: its head refuses a few hours of past samples sent at once
# ("out of bounds").
for values in steady varied; do
for r in gpuledger victoria-metrics; do
  start "$r" "bytes-$values"
  # The data ends 30 minutes into an hour, so the open hour (rows until the next hour's
  # first write seals it) holds 30 minutes, the average over a day.
  now=$(date +%s)
  "$LOADGEN" --url "$URL" --token "$TOKEN" --gpus 1000 --samples-per-series 6 --series-per-request 1000 \
    --requests "$n" --start-ago $((now - (now / 3600 * 3600 - 1800 - HOURS * 3600))) --settle 0 --values "$values" > "$DIR/load"
  grep -q "failed 0" "$DIR/load" || { echo "$r: $(cat "$DIR/load")" >&2; exit 1; }
  [ "$r" = victoria-metrics ] && { curl -fs http://127.0.0.1:18202/internal/force_flush >/dev/null || true; sleep 2; }
  stop
  printf '%-7s values, ' "$values"
  case $r in
    gpuledger) db=$DIR/l.db; ledger=$(du -sb "$db" | cut -f1)
      # The blocks' pages (table and indexes) per metric sample in them (a block sample
      # is one GPU and time: 6 metric samples here).
      read -r sealed_bytes sealed_samples < <(sqlite3 -separator ' ' "$db" \
        "SELECT (SELECT SUM(pgsize) FROM dbstat WHERE name IN ('sample_blocks', 'sqlite_autoindex_sample_blocks_1', 'sample_blocks_by_start')), (SELECT SUM(samples) * 6 FROM sample_blocks)")
      echo "gpuledger on disk: ledger file $(python3 -c "print(f'{$ledger / $total:.2f}')") bytes per sample ($total samples over $HOURS h, $sealed_samples in sealed hours); sealed hours alone $(python3 -c "print(f'{$sealed_bytes / max($sealed_samples, 1):.2f}')")" ;;
    *) b=$(du -sb "$DIR/data" | cut -f1)
      echo "$r on disk: $(python3 -c "print(f'{$b / $total:.2f}')") bytes per sample ($total samples over $HOURS h)" ;;
  esac
done
done
