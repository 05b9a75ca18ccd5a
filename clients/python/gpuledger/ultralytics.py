"""Ultralytics callbacks: gpuledger.ultralytics.attach(model) before model.train().

on_pretrain_routine_end registers the job with the run's arguments (epochs, batch,
imgsz, amp, model, dataset; model, pretrained and resume also as the job's labels of
those names, which the trends report reads) and the identity submission put in the environment
(GPULEDGER_JOB_ID, GPULEDGER_USER, GPULEDGER_PROJECT, GPULEDGER_DEPARTMENT, and any other
GPULEDGER_<FIELD> of the jobs API). on_fit_epoch_end posts the epoch's metrics; when the
server answers that someone asked the job to stop, it sets trainer.stop, so Ultralytics
ends the run after this epoch, whose checkpoint is already written (Ultralytics saves the
model before on_fit_epoch_end). on_train_end ends the job (PATCH /api/v1/jobs/{id} with
its status and end time): "paused" when the server's answer was a stop of kind "pause"
(with the command that resumes it from weights/last.pt: `yolo train resume
model=<save_dir>/weights/last.pt`, i.e. YOLO(last).train(resume=True)), "cancelled" for
any other stop, else "succeeded" (Ultralytics runs on_train_end only when training
finished, early stopping included).

Nothing here can fail a training run: attach() with no server, token or job id logs a
warning and attaches nothing; an unreachable server is a warning; errors are logged once
per kind, and epochs the server did not take are sent again with the next epoch.

Callbacks added with model.add_callback (attach) do not reach DDP workers: Ultralytics'
generated DDP script rebuilds the trainer from its class and arguments. For multi-GPU runs
train with a trainer from gpuledger.ultralytics_trainer (model.train(...,
trainer=DetectionTrainer)): it adds these callbacks in every process and reports from rank
0 only, and a stop set there is broadcast to all ranks by Ultralytics itself. The node
agent's results.csv follower covers runs with neither.
"""

import functools
import logging
import os
import sys
import time

from .client import Client, GpuledgerError
from .estimate import format_estimate

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


def _framework():
    """ultralytics==VERSION of the Ultralytics running this, or "ultralytics" if unknown."""
    # The trainer calling us has imported ultralytics already; importing it here would
    # only cost time where it is not (and could fail).
    version = getattr(sys.modules.get("ultralytics"), "__version__", None)
    if not version:
        try:
            from importlib import metadata
            version = metadata.version("ultralytics")
        except Exception:  # noqa: BLE001
            version = None
    return "ultralytics==%s" % version if version else "ultralytics"


def _now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _never_raises(kind):
    """Wraps a callback so that no error of ours can end a training run."""
    def wrap(fn):
        @functools.wraps(fn)
        def safe(self, trainer):
            try:
                return fn(self, trainer)
            except Exception as e:  # noqa: BLE001 -- training matters more than its books
                self._warn(kind, "%s: %s" % (type(e).__name__, e))
                return None
        return safe
    return wrap


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


def _job_fields(trainer):
    """The jobs API's fields of this run: GPULEDGER_<FIELD> variables first, then the
    trainer's arguments (epochs, batch, imgsz, amp, model, data)."""
    job = {}
    for f in _JOB_FIELDS:
        v = os.environ.get("GPULEDGER_" + f.upper())
        if v:
            job[f] = v
    args = getattr(trainer, "args", None)
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
        labels = _start_labels(args)
        if labels:
            job["labels"] = _merge_labels(job.get("labels", ""), labels)
    return job


# A label value the jobs API takes: at most 1024 bytes, no ';' (the separator), no
# control characters (src/domain/ids.cc). A value that is not is left out: a refused
# registration would cost the run its books.
def _label_value_ok(v):
    return len(v.encode("utf-8")) <= 1024 and ";" not in v and all(ord(c) >= 0x20 and ord(c) != 0x7f for c in v)


def _flag(v):
    """'true'/'false' for a boolean argument; a string one (a weights path) as it is."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _start_labels(args):
    """How the run starts, as the labels the trends report reads (src/report/trends.cc
    StartedFrom): `model` (a *.pt starts from a checkpoint, a *.yaml from scratch),
    `pretrained` (false: from scratch; true or a weights path: from a checkpoint) and
    `resume` (true: resumed from last.pt; Ultralytics may hold the checkpoint's path)."""
    out = {}
    model = getattr(args, "model", None)
    if model:
        out["model"] = str(model)
    pretrained = getattr(args, "pretrained", None)
    if pretrained is not None and pretrained != "":
        out["pretrained"] = _flag(pretrained)
    resume = getattr(args, "resume", None)
    if resume is not None:
        out["resume"] = "true" if resume else "false"
    return {k: v for k, v in out.items() if _label_value_ok(v)}


def _merge_labels(given, labels):
    """`given` ("k=v;k=v", from GPULEDGER_LABELS) with `labels` added where it names none
    of theirs: what the submission said wins."""
    keys = {kv.split("=", 1)[0].strip() for kv in given.split(";") if "=" in kv}
    added = ["%s=%s" % (k, v) for k, v in labels.items() if k not in keys]
    base = given.strip(";")
    return ";".join(([base] if base else []) + added)


class _Reporter:
    def __init__(self, client, job_id):
        self.client = client
        self.job_id = job_id
        self.unsent = []
        self.started = time.monotonic()
        self.warned = set()
        self.stop_reason = None
        self.stop_kind = None  # "pause" or "stop", once the server asked
        self.resume_command = None
        self.ended = None  # the status the job was ended with, once on_train_end ran
        self.estimate = None  # the server's estimate, when one was printed

    def _warn(self, kind, err):
        if kind not in self.warned:
            self.warned.add(kind)
            LOG.warning("gpuledger: %s: %s (training goes on)", kind, err)

    @_never_raises("register")
    def on_pretrain_routine_end(self, trainer):
        job = {"id": self.job_id, "status": "running"}
        job.update(_job_fields(trainer))
        job.setdefault("start", _now_rfc3339())
        job.setdefault("framework", _framework())
        if not all(k in job for k in ("user", "project", "department")):
            self._warn("register", "GPULEDGER_USER/PROJECT/DEPARTMENT not set: the job is not registered from here")
            return
        try:
            self.client.register_job(job)
        except GpuledgerError as e:
            self._warn("register", e)
        self.print_estimate(job)

    def print_estimate(self, job):
        """A run not submitted through gpuledger ($GPULEDGER_SUBMITTED unset: gpuledger
        submit's launchers set it) sees what it is estimated to cost and the best practice
        among similar runs. Printed, never raised: a server that cannot answer is a warning."""
        if os.environ.get("GPULEDGER_SUBMITTED"):
            return
        try:
            self.estimate = self.client.estimate(job)
        except GpuledgerError as e:
            self._warn("estimate", e)
            return
        print(format_estimate(self.estimate), flush=True)

    @_never_raises("progress")
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
            answer = self.client.progress(self.job_id, self.unsent)
        except GpuledgerError as e:
            self._warn("progress", e)
            return
        self.unsent = []
        if answer.get("stop") and self.stop_reason is None:
            self.stop_reason = answer.get("reason") or "stop requested"
            self.stop_kind = "pause" if answer.get("kind") == "pause" else "stop"
            if self.stop_kind == "pause":
                self.resume_command = resume_command(trainer)
            LOG.warning("gpuledger: job %s asked to %s (%s): ending after epoch %d, its checkpoint written%s",
                        self.job_id, self.stop_kind, self.stop_reason, epoch["epoch"],
                        "; resume with: " + self.resume_command if self.resume_command else "")
            trainer.stop = True

    @_never_raises("end")
    def on_train_end(self, trainer):
        # Ultralytics runs on_train_end once training finished; a stop the server asked
        # for is a cancelled job, an early stop (patience) or the last epoch a success.
        if self.stop_kind == "pause":
            status = "paused"
        else:
            status = "cancelled" if self.stop_reason else "succeeded"
        if self.unsent:  # the last epochs the server did not take: one more try
            try:
                self.client.post_progress(self.job_id, self.unsent)
                self.unsent = []
            except GpuledgerError as e:
                self._warn("progress", e)
        try:
            self.client.end_job(self.job_id, status, _now_rfc3339(), self.resume_command)
        except GpuledgerError as e:
            self._warn("end", "%s; the job is not marked %s" % (e, status))
            return
        self.ended = status


def resume_command(trainer):
    """The command that continues a run from its last checkpoint: Ultralytics' trainer
    writes weights/last.pt under save_dir every epoch (trainer.last), and
    YOLO(last).train(resume=True) restores the epoch, optimizer and EMA from it."""
    last = getattr(trainer, "last", None)
    if not last:
        save_dir = getattr(trainer, "save_dir", None) or getattr(getattr(trainer, "args", None), "save_dir", None)
        last = os.path.join(str(save_dir), "weights", "last.pt") if save_dir else "weights/last.pt"
    return "yolo train resume model=%s" % last


def _reporter_for(job_id, server=None, token=None, ca_file=None):
    job_id = job_id or os.environ.get("GPULEDGER_JOB_ID", "")
    if not job_id:
        LOG.warning("gpuledger: no job id (pass job_id= or set GPULEDGER_JOB_ID): this run is not reported")
        return None
    try:
        client = Client(server, token, ca_file=ca_file)
    except GpuledgerError as e:
        LOG.warning("gpuledger: %s: this run is not reported", e)
        return None
    return _Reporter(client, job_id)


_EVENTS = ("on_pretrain_routine_end", "on_fit_epoch_end", "on_train_end")


class _EstimateOnly(_Reporter):
    """A run with no job id reports nothing, but still sees its estimate."""

    @_never_raises("estimate")
    def on_pretrain_routine_end(self, trainer):
        job = _job_fields(trainer)
        self.print_estimate(job)


def _attach_estimate_only(model, job_id, server, token, ca_file):
    if job_id or os.environ.get("GPULEDGER_JOB_ID"):
        return  # a job id the client could not use: already warned
    try:
        client = Client(server, token, ca_file=ca_file)
    except GpuledgerError:
        return  # no server: _reporter_for warned about the job id; nothing to ask
    model.add_callback("on_pretrain_routine_end", _EstimateOnly(client, "").on_pretrain_routine_end)


def attach(model, server=None, token=None, job_id=None, ca_file=None):
    """Adds gpuledger's callbacks to an Ultralytics model. Returns the reporter, or None
    when there is nothing to report to (a warning says why; training runs as usual).

    job_id defaults to $GPULEDGER_JOB_ID; server and token to $GPULEDGER_SERVER and
    $GPULEDGER_TOKEN. The server may be http:// or https://; for a certificate the
    system does not trust (self-signed, a private CA), ca_file or $GPULEDGER_CA_FILE
    names the PEM file to trust.
    """
    reporter = _reporter_for(job_id, server, token, ca_file)
    if reporter is None:
        _attach_estimate_only(model, job_id, server, token, ca_file)
        return None
    for event in _EVENTS:
        model.add_callback(event, getattr(reporter, event))
    return reporter
