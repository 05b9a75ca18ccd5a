"""Ultralytics callbacks: gpuledger.ultralytics.attach(model) before model.train().

on_pretrain_routine_end registers the job with the run's arguments (epochs, batch,
imgsz, amp, model, dataset) and the identity submission put in the environment
(GPULEDGER_JOB_ID, GPULEDGER_USER, GPULEDGER_PROJECT, GPULEDGER_DEPARTMENT, and any other
GPULEDGER_<FIELD> of the jobs API). on_fit_epoch_end posts the epoch's metrics; when the
server answers that someone asked the job to stop, it sets trainer.stop, so Ultralytics
ends the run after this epoch, whose checkpoint is already written (Ultralytics saves the
model before on_fit_epoch_end). Nothing here can fail a training run: errors are logged
once per kind, and epochs the server did not take are sent again with the next epoch.

In DDP runs Ultralytics runs callbacks in rank 0 only; the node agent's results.csv
follower covers runs without this callback.
"""

import logging
import os
import time

from .client import Client, GpuledgerError

LOG = logging.getLogger("gpuledger")

# jobs API fields that may come from GPULEDGER_<NAME> variables
_JOB_FIELDS = (
    "user", "project", "department", "model_type", "image", "image_digest", "framework", "gpu_request",
    "duration_limit", "dataset", "dataset_images", "epochs", "batch", "imgsz", "amp", "submitted", "start",
    "labels",
)
_MAX_UNSENT = 1000

# results.csv column -> progress field
_METRICS = {
    "metrics/precision(B)": "precision",
    "metrics/recall(B)": "recall",
    "metrics/mAP50(B)": "map50",
    "metrics/mAP50-95(B)": "map50_95",
}


def _number(x):
    """A float from a Python number, a 0-d tensor or a sequence (summed); None if not."""
    try:
        if hasattr(x, "tolist"):
            x = x.tolist()
        if isinstance(x, (list, tuple)):
            return float(sum(float(v) for v in x))
        return float(x)
    except (TypeError, ValueError):
        return None


class _Reporter:
    def __init__(self, client, job_id):
        self.client = client
        self.job_id = job_id
        self.unsent = []
        self.started = time.monotonic()
        self.warned = set()
        self.stop_reason = None

    def _warn(self, kind, err):
        if kind not in self.warned:
            self.warned.add(kind)
            LOG.warning("gpuledger: %s: %s (training goes on)", kind, err)

    def on_pretrain_routine_end(self, trainer):
        args = getattr(trainer, "args", None)
        job = {"id": self.job_id, "status": "running"}
        for f in _JOB_FIELDS:
            v = os.environ.get("GPULEDGER_" + f.upper())
            if v:
                job[f] = v
        if args is not None:
            for f in ("epochs", "batch", "imgsz"):
                if getattr(args, f, None) is not None and f not in job:
                    job[f] = str(getattr(args, f))
            if getattr(args, "amp", None) is not None and "amp" not in job:
                job["amp"] = "true" if args.amp else "false"
            model = getattr(args, "model", None)
            if model and "model_type" not in job:
                job["model_type"] = os.path.splitext(os.path.basename(str(model)))[0]
            data = getattr(args, "data", None)
            if data and "dataset" not in job:
                job["dataset"] = str(data)
        job.setdefault("start", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        job.setdefault("framework", "ultralytics")
        if not all(k in job for k in ("user", "project", "department")):
            self._warn("register", "GPULEDGER_USER/PROJECT/DEPARTMENT not set: the job is not registered from here")
            return
        try:
            self.client.register_job(job)
        except GpuledgerError as e:
            self._warn("register", e)

    def on_fit_epoch_end(self, trainer):
        epoch = {"epoch": int(getattr(trainer, "epoch", 0)) + 1, "time_s": round(time.monotonic() - self.started, 3)}
        for key, name in _METRICS.items():
            v = _number((getattr(trainer, "metrics", None) or {}).get(key))
            if v is not None and 0.0 <= v <= 1.0:
                epoch[name] = v
        loss = _number(getattr(trainer, "tloss", None))
        if loss is not None:
            epoch["train_loss"] = loss
        val = [v for k, v in (getattr(trainer, "metrics", None) or {}).items() if str(k).startswith("val/")]
        if val:
            epoch["val_loss"] = _number(val)
        self.unsent.append(epoch)
        del self.unsent[:-_MAX_UNSENT]
        try:
            stop, reason = self.client.post_progress(self.job_id, self.unsent)
        except GpuledgerError as e:
            self._warn("progress", e)
            return
        self.unsent = []
        if stop and not getattr(trainer, "stop", False):
            self.stop_reason = reason or "stop requested"
            LOG.warning("gpuledger: job %s asked to stop (%s): ending after epoch %d, its checkpoint written",
                        self.job_id, self.stop_reason, epoch["epoch"])
            trainer.stop = True


def attach(model, server=None, token=None, job_id=None):
    """Adds gpuledger's callbacks to an Ultralytics model. Returns the reporter.

    job_id defaults to $GPULEDGER_JOB_ID; server and token to $GPULEDGER_SERVER and
    $GPULEDGER_TOKEN.
    """
    job_id = job_id or os.environ.get("GPULEDGER_JOB_ID", "")
    if not job_id:
        raise GpuledgerError("no job id: pass job_id= or set GPULEDGER_JOB_ID")
    reporter = _Reporter(Client(server, token), job_id)
    model.add_callback("on_pretrain_routine_end", reporter.on_pretrain_routine_end)
    model.add_callback("on_fit_epoch_end", reporter.on_fit_epoch_end)
    return reporter
