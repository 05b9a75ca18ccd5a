#!/usr/bin/env bash
# gpu-check: the real-GPU path, end to end, on a machine with an NVIDIA GPU.
#
# Runs gpuledger's server and agent (real NVML through dlopen) while a short real
# PyTorch/torchvision detection training (Faster R-CNN, MobileNetV3 backbone, synthetic
# images, about two minutes) runs on GPU 0 as a job the agent attributes from its
# environment. Meanwhile nvidia-smi logs the same GPU every second. Then it prints the
# job's density, energy and peak memory from the server, and compares the agent's
# samples with nvidia-smi's readings nearest in time.
#
# Usage: scripts/gpu-check.sh [path/to/gpuledger]   (default: build/release/gpuledger)
# Needs: nvidia-smi, python3 with torch and torchvision (CUDA build), curl.
# Exit 0 when the readings agree (memory within 5 %, power within 10 %, utilisation
# within 10 points on average); 1 when they do not; 2 when the machine lacks something.
set -euo pipefail
BIN=${1:-build/release/gpuledger}
SECONDS_TO_TRAIN=${GPU_CHECK_SECONDS:-120}
need() { command -v "$1" >/dev/null || { echo "gpu-check: $1 not found: $2" >&2; exit 2; }; }
need nvidia-smi "this check needs an NVIDIA GPU and its driver"
need python3 "install python3"
need curl "install curl"
[ -x "$BIN" ] || { echo "gpu-check: $BIN is not built (make release)" >&2; exit 2; }
python3 -c 'import torch, torchvision; assert torch.cuda.is_available()' 2>/dev/null ||
  { echo "gpu-check: python3 cannot import torch/torchvision with CUDA" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
echo "gpu-check: working in $WORK"
nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total --format=csv,noheader

# Server and tokens.
"$BIN" admin token create --db "$WORK/ledger.db" --role ingest > "$WORK/ingest.token"
ADMIN=$("$BIN" admin token create --db "$WORK/ledger.db" --role admin)
"$BIN" server --db "$WORK/ledger.db" --listen 127.0.0.1:0 --retention 0 > "$WORK/server.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/server.out" && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/server.out")
URL=http://127.0.0.1:$PORT

# The training, as submission would start it: its identity in the environment.
mkdir -p "$WORK/run"
cat > "$WORK/train.py" <<'PY'
import csv, os, sys, time
import torch, torchvision
from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn
seconds, run = float(sys.argv[1]), sys.argv[2]
dev = torch.device("cuda:0")
model = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=5).to(dev)
opt = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
gen = torch.Generator(device="cpu").manual_seed(0)
def batch(n=16):
    imgs = [torch.rand(3, 320, 320, generator=gen).to(dev) for _ in range(n)]
    tgts = []
    for _ in range(n):
        xy = torch.rand(4, 2, generator=gen) * 200
        boxes = torch.cat([xy, xy + 40 + torch.rand(4, 2, generator=gen) * 60], 1).to(dev)
        tgts.append({"boxes": boxes, "labels": torch.randint(1, 5, (4,), generator=gen).to(dev)})
    return imgs, tgts
header = ["epoch", "time", "train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/precision(B)",
          "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)", "val/box_loss", "val/cls_loss",
          "val/dfl_loss", "lr/pg0", "lr/pg1", "lr/pg2"]
with open(os.path.join(run, "results.csv"), "w", newline="") as f:
    csv.writer(f).writerow(header)
start, epoch = time.time(), 0
model.train()
while time.time() - start < seconds:
    epoch += 1
    losses = []
    for _ in range(20):
        imgs, tgts = batch()
        loss = sum(model(imgs, tgts).values())
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(loss.item())
    m = sum(losses) / len(losses)
    with open(os.path.join(run, "results.csv"), "a", newline="") as f:
        csv.writer(f).writerow([epoch, round(time.time() - start, 2), m, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.005, 0.005, 0.005])
    print(f"epoch {epoch}: loss {m:.3f}", flush=True)
print(f"peak memory allocated by torch: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
PY

# nvidia-smi's view of GPU 0, every second.
nvidia-smi -i 0 --query-gpu=timestamp,utilization.gpu,memory.used,power.draw --format=csv,noheader,nounits \
  -lms 1000 > "$WORK/smi.csv" &
PIDS+=($!)
# The agent: real NVML, 1 s samples.
"$BIN" agent --server "$URL" --token-file "$WORK/ingest.token" --interval 1s --push-interval 5s \
  --buffer-dir "$WORK/outbox" --gpustat-dir "$WORK/none" > "$WORK/agent.out" 2>&1 &
AGENT=$!
PIDS+=($AGENT)
sleep 3
echo "gpu-check: training for ${SECONDS_TO_TRAIN}s"
GPULEDGER_JOB_ID=gpu-check GPULEDGER_USER=gpu-check GPULEDGER_PROJECT=gpu-check GPULEDGER_DEPARTMENT=ops \
GPULEDGER_MODEL_TYPE=fasterrcnn_mobilenet_v3_320 GPULEDGER_FRAMEWORK="torchvision $(python3 -c 'import torchvision; print(torchvision.__version__)')" \
GPULEDGER_RUN_DIR="$WORK/run" CUDA_VISIBLE_DEVICES=0 python3 "$WORK/train.py" "$SECONDS_TO_TRAIN" "$WORK/run" |
  tail -n 3
sleep 5
kill -TERM "$AGENT"
wait "$AGENT" || true
cat "$WORK/agent.out"

echo; echo "== the job as gpuledger metered it =="
curl -fsS -H "Authorization: Bearer $ADMIN" "$URL/api/v1/jobs/gpu-check" | tee "$WORK/job.json"
curl -fsS -H "Authorization: Bearer $ADMIN" "$URL/api/v1/series?job=gpu-check" > "$WORK/series.json"

echo; echo "== agent vs nvidia-smi (GPU 0, nearest reading within 1 s) =="
python3 - "$WORK/series.json" "$WORK/smi.csv" <<'PY'
import json, sys, datetime
series = json.load(open(sys.argv[1]))["series"]
smi = []
for line in open(sys.argv[2]):
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 4:
        continue
    try:
        t = datetime.datetime.strptime(parts[0], "%Y/%m/%d %H:%M:%S.%f").timestamp() * 1000
        smi.append((t, float(parts[1]), float(parts[2]), float(parts[3])))
    except ValueError:
        continue
if not series or not smi:
    print("no samples to compare"); sys.exit(1)
# nvidia-smi prints local time; the agent stamps UTC ms: both are epoch ms after parsing
# local time with timestamp(), so they compare directly.
pairs = []
for part in series:
    for t, util, mem, power, energy, sm in part["values"]:
        near = min(smi, key=lambda r: abs(r[0] - t))
        if abs(near[0] - t) <= 1000 and util is not None:
            pairs.append(((util, mem, power), near[1:]))
if not pairs:
    print("no agent sample within 1 s of an nvidia-smi reading"); sys.exit(1)
n = len(pairs)
du = sum(abs(a[0] - b[0]) for a, b in pairs) / n
dm = sum(abs(a[1] - b[1]) / max(b[1], 1) for a, b in pairs) / n
dp = sum(abs(a[2] - b[2]) / max(b[2], 1) for a, b in pairs) / n
print(f"{n} paired samples")
print(f"utilisation: mean |agent - nvidia-smi| = {du:.1f} points")
print(f"memory used: mean relative difference = {100 * dm:.2f} %")
print(f"power:       mean relative difference = {100 * dp:.2f} %")
ok = du <= 10 and dm <= 0.05 and dp <= 0.10
print("gpu-check:", "AGREE" if ok else "DISAGREE")
sys.exit(0 if ok else 1)
PY
