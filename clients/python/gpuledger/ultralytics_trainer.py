"""Ultralytics trainers that carry gpuledger's callbacks into DDP workers.

    from ultralytics import YOLO
    from gpuledger.ultralytics_trainer import DetectionTrainer
    YOLO("yolo11n.pt").train(data="pcb.yaml", device=[0, 1], trainer=DetectionTrainer)

Ultralytics runs a multi-GPU run as a generated script that imports the trainer by its
module and class name and builds it from the run's arguments, so callbacks added with
model.add_callback (gpuledger.ultralytics.attach) never reach the workers. These classes
are subclasses of Ultralytics' own trainers (DetectionTrainer, SegmentationTrainer,
PoseTrainer, ClassificationTrainer, OBBTrainer, WorldTrainer) made on first import from
here, under this module's name, so the generated script imports them again in each
worker. Each adds gpuledger's callbacks in its __init__; only the process of rank 0 (or a
single-process run) reports, and when the server asks the job to stop or pause, rank 0
sets trainer.stop after the epoch's checkpoint is written: Ultralytics broadcasts stop
from rank 0 to every rank right after on_fit_epoch_end, so all ranks end after the same
epoch. The job's identity comes from the environment (GPULEDGER_JOB_ID, GPULEDGER_SERVER,
GPULEDGER_TOKEN, ...), which torch.distributed.run passes to the workers.

with_gpuledger(base) makes such a class from any other trainer class; give it a module-
level name in an importable module of your own for DDP.
"""

import importlib
import os

from . import ultralytics as _gl

# class name -> the Ultralytics module it lives in
_BASES = {
    "DetectionTrainer": "ultralytics.models.yolo.detect",
    "SegmentationTrainer": "ultralytics.models.yolo.segment",
    "PoseTrainer": "ultralytics.models.yolo.pose",
    "ClassificationTrainer": "ultralytics.models.yolo.classify",
    "OBBTrainer": "ultralytics.models.yolo.obb",
    "WorldTrainer": "ultralytics.models.yolo.world",
}


def _rank():
    """This process's global rank: torch.distributed.run sets RANK; -1 when not DDP."""
    for var in ("RANK", "LOCAL_RANK"):
        v = os.environ.get(var)
        if v not in (None, ""):
            try:
                return int(v)
            except ValueError:
                return 0
    return -1


def attach_trainer(trainer, server=None, token=None, job_id=None, ca_file=None):
    """Adds gpuledger's callbacks to a trainer (rank 0 or a single process only). Returns
    the reporter, or None where this process does not report: another rank, nothing to
    report to, or the trainer already has a reporter (from attach(model), whose callbacks
    Ultralytics hands to the trainer it makes)."""
    if _rank() > 0:
        return None
    for fn in getattr(trainer, "callbacks", {}).get("on_fit_epoch_end", []):
        if isinstance(getattr(fn, "__self__", None), _gl._Reporter):  # noqa: SLF001
            return fn.__self__
    reporter = _gl._reporter_for(job_id, server, token, ca_file)  # noqa: SLF001
    if reporter is None:
        return None
    for event in _gl._EVENTS:  # noqa: SLF001
        trainer.add_callback(event, getattr(reporter, event))
    trainer.gpuledger = reporter
    return reporter


def with_gpuledger(base, name=None, module=None):
    """A subclass of the trainer class `base` whose __init__ attaches gpuledger."""

    def __init__(self, *args, **kwargs):
        base.__init__(self, *args, **kwargs)
        self.gpuledger = attach_trainer(self)

    name = name or base.__name__
    cls = type(name, (base,), {"__init__": __init__, "__doc__": "%s reporting to gpuledger." % base.__name__})
    cls.__module__ = module or __name__
    cls.__qualname__ = name
    return cls


def __getattr__(name):
    """DetectionTrainer, ... made (and kept) on first use: importing Ultralytics only then."""
    if name not in _BASES:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    base = getattr(importlib.import_module(_BASES[name]), name)
    cls = with_gpuledger(base, name)
    globals()[name] = cls
    return cls
