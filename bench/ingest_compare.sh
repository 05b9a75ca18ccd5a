#!/usr/bin/env bash
# Remote-write ingest, side by side: gpuledger server, Debian's victoria-metrics and
# Debian's prometheus each receive the same load from bench/rw_loadgen (1,000 GPUs x 6
# dcgm-exporter series), one receiver at a time on this machine, a fresh one per request
# shape, after a warm-up that creates every series. Prints samples per receiver
# CPU-second and latency (each receiver's deferred work counted: rw_loadgen --settle),
# gpuledger's raw chunk flush of what it received, and bytes on disk per sample after
# the second shape.
# Usage: bench/ingest_compare.sh [requests per shape]   (needs build/release, build/dev)
set -euo pipefail
REQ=${1:-300}
GL=$PWD/build/release/gpuledger
LOADGEN=$PWD/build/dev/bench/rw_loadgen
[ -x "$GL" ] && [ -x "$LOADGEN" ] || { echo "build first: make release build" >&2; exit 2; }
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
wait_http() { for _ in $(seq 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no $1" >&2; exit 1; }

start() {  # receiver dir -> sets PID, URL, TOKEN, HEALTH
  local dir=$TMP/$1-$2
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

stop() { kill -TERM "$PID"; wait "$PID" || true; PID=; }
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }  # utime + stime, s

for r in gpuledger victoria-metrics prometheus; do
  for shape in "1 2000" "6 1000"; do
    set -- $shape
    n=$REQ; [ "$1" = 6 ] && n=$((REQ / 2))
    start "$r" "$1"
    out=$("$LOADGEN" --url "$URL" --token "$TOKEN" --gpus 1000 --samples-per-series "$1" --series-per-request "$2" \
      --warmup 12 --requests "$n" --pid "$PID" | tr '\n' ' ')
    printf '%-16s %d/series: %s\n' "$r" "$1" "$out"
    if [ "$r" = gpuledger ]; then
      # The raw chunk flush runs every 5 minutes, outside the window above: a series read
      # forces it now, and its CPU is reported beside the ingest figure.
      admin=$("$GL" admin token create --db "$TMP/$r-$1/l.db" --role admin)
      before=$(cpu "$PID")
      curl -fs -H "Authorization: Bearer $admin" \
        "http://127.0.0.1:18201/api/v1/series?gpu=GPU-10000000-c086-568a-9f1a-c1e1c934c44c" >/dev/null
      sleep 1
      total=$(((n + 12) * $2 * $1))
      python3 -c "d = ($(cpu "$PID") - $before); print(f'gpuledger raw chunk flush of the {$total} samples: {d:.2f} CPU-s' + (f' ({$total / d / 1e6:.1f} M samples per CPU-s)' if d > 0 else ''))"
    fi
    [ "$r" = victoria-metrics ] && { curl -fs http://127.0.0.1:18202/internal/force_flush >/dev/null || true; sleep 2; }
    stop
    if [ "$1" = 6 ]; then
      total=$(((n + 12) * $2 * $1))
      case $r in
        gpuledger) ledger=$(du -sb "$TMP/$r-6/l.db" | cut -f1); chunks=$(du -sb "$TMP/$r-6/l.db.raw" | cut -f1)
          echo "$r on disk: ledger $(python3 -c "print(f'{$ledger / $total:.2f}')") + raw chunks $(python3 -c "print(f'{$chunks / $total:.2f}')") bytes per sample ($total samples)" ;;
        *) b=$(du -sb "$TMP/$r-6/data" | cut -f1)
          echo "$r on disk: $(python3 -c "print(f'{$b / $total:.2f}')") bytes per sample ($total samples; Prometheus: head block and WAL, not yet compacted)" ;;
      esac
    fi
  done
done
