"""gpuledger.estimate(...): the server's estimate and best practice for a configuration."""

from .client import Client


def estimate(server=None, token=None, ca_file=None, timeout=5.0, **job):
    """The estimate of a job not yet run, from the server's finished runs.

    job: the jobs API's fields as keywords (user="lisi", project="pcb-solder-qc",
    department="manufacturing", model_type="yolov8s", image="reg/yolo:train-yolov8-small-cu118",
    gpu_request="1xA10G", epochs=100, batch=16, imgsz=640, amp=True, dataset="coco",
    dataset_images=10000, duration_limit="48h"). server and token default to
    $GPULEDGER_SERVER and $GPULEDGER_TOKEN. Returns the server's answer (a dict, see
    Client.estimate); raises GpuledgerError when the server is unreachable or refuses the
    configuration (the image-tag policy quotes its rule and a valid example).
    """
    if isinstance(job.get("amp"), bool):
        job["amp"] = "true" if job["amp"] else "false"
    return Client(server, token, timeout=timeout, ca_file=ca_file).estimate(job)


def _interval(p, unit=""):
    if not p:
        return "?"
    text = "%s%s" % (p.get("median"), unit)
    if "low" in p:
        text += " (%s-%s)" % (p["low"], p["high"])
    return text


def format_estimate(answer):
    """The lines attach() prints: the estimate with its interval (when the history
    supports one), the best practice among similar runs, and the warnings."""
    e = answer.get("estimate") or {}
    cur = e.get("currency", "")
    lines = []
    if e.get("basis") == "none" or "cost" not in e:
        lines.append("gpuledger: no estimate for this configuration (%s)" % "; ".join(e.get("notes") or ["no history"]))
    else:
        interval = " %s" % e["interval"] if e.get("interval") else ""
        lines.append("gpuledger: this configuration is estimated at %s %s%s, %s GPU-hours, from %s (%s run(s))" % (
            _interval(e.get("cost")), cur, interval, _interval(e.get("gpu_hours")), e.get("basis"), e.get("runs")))
    b = e.get("best_practice")
    if b:
        lines.append("gpuledger: best practice among similar runs (%s): %s on %s, epochs %s, batch %s, imgsz %s, "
                     "amp %s: %s %s, mAP@0.5 %s (%s run(s))" % (
                         b.get("scope"), b.get("model_type"), b.get("gpu_model"), b.get("epochs"), b.get("batch"),
                         b.get("imgsz"), b.get("amp"), b.get("cost"), cur, b.get("map50"), b.get("runs")))
    elif e.get("best_practice_note"):
        lines.append("gpuledger: best practice: %s" % e["best_practice_note"])
    for w in answer.get("warnings") or []:
        lines.append("gpuledger: warning: %s" % w)
    return "\n".join(lines)
