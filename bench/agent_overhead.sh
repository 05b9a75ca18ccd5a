#!/usr/bin/env bash
# Agent overhead: CPU time and peak RSS of `gpuledger agent` sampling 8 GPUs every second
# (the fake NVML library from the test build, H100 under-load values) and shipping to a
# local server every 10 s. Usage: bench/agent_overhead.sh [seconds] [build dir]
set -euo pipefail
SECS=${1:-120}
BUILD=${2:-build/release}
BIN=$BUILD/gpuledger
FAKE=${FAKE_NVML:-build/dev/tests/fake_nvml/libnvidia-ml.so.1}
[ -x "$BIN" ] && [ -f "$FAKE" ] || { echo "build $BIN and $FAKE first (make release build)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
for i in 0 1 2 3 4 5 6 7; do
  echo "gpu;uuid=GPU-bench-$i;name=NVIDIA H100 80GB HBM3;memory_total_mib=81559;util=100,97,99;mem_used_mib=19818;power_w=631.95;pids=$((4000 + i)):2566"
done > "$TMP/script"
"$BIN" admin token create --db "$TMP/l.db" --role ingest > "$TMP/tok"
"$BIN" server --db "$TMP/l.db" --listen 127.0.0.1:0 --retention 0 > "$TMP/server.out" &
SERVER=$!
for _ in $(seq 100); do grep -q listening "$TMP/server.out" && break; sleep 0.05; done
PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/server.out")
FAKE_NVML_SCRIPT=$TMP/script "$BIN" agent --server "http://127.0.0.1:$PORT" --token-file "$TMP/tok" \
  --nvml "$FAKE" --buffer-dir "$TMP/outbox" --interval 1s --push-interval 10s > "$TMP/agent.out" &
AGENT=$!
sleep 2
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$AGENT/stat)
sleep "$SECS"
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$AGENT/stat)
HWM=$(awk '/VmHWM/ {print $2}' /proc/$AGENT/status)
RSS=$(awk '/VmRSS/ {print $2}' /proc/$AGENT/status)
kill -TERM $AGENT; wait $AGENT || true
TICK=$(getconf CLK_TCK)
python3 - "$u0" "$s0" "$u1" "$s1" "$TICK" "$SECS" "$HWM" "$RSS" <<'PY'
import sys
u0, s0, u1, s1, tick, secs, hwm, rss = map(float, sys.argv[1:])
cpu = (u1 - u0 + s1 - s0) / tick
print(f"agent, 8 GPUs at 1 s, {secs:.0f} s: CPU {cpu:.2f} s = {100 * cpu / secs:.3f} % of one core; "
      f"RSS {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f} MiB)")
PY
tail -n 1 "$TMP/agent.out"
