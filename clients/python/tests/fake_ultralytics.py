"""A stand-in for the parts of Ultralytics that gpuledger touches (Ultralytics itself is
not installable here), installed under the real module names (ultralytics,
ultralytics.models.yolo.detect) so that gpuledger.ultralytics_trainer subclasses it.

BaseTrainer mirrors ultralytics/engine/trainer.py: its attributes (args, epochs,
start_epoch, epoch, save_dir, wdir, last, best, metrics, tloss, stop, callbacks), the
callback order of _do_train (on_pretrain_routine_start/end, on_train_start, per epoch
on_train_epoch_start, on_train_batch_start/end, on_train_epoch_end, then in rank 0 only
validation, save_model() writing weights/last.pt and on_model_save, then in every rank
on_fit_epoch_end, the DDP broadcast of `stop` from rank 0, break; after the loop, in rank
0 only, final_eval's extra on_fit_epoch_end and on_train_end; teardown everywhere), and
resume: resume=True with model=.../last.pt restarts at the checkpoint's epoch + 1.
YOLO.train(trainer=...) mirrors ultralytics/engine/model.py and, for device lists of more
than one GPU, ultralytics/utils/dist.py: the trainer is rebuilt in each worker process
from "from <module> import <name>" and the run's arguments only, callbacks not carried.
"""

import importlib
import json
import multiprocessing
import os
import sys
import types

BATCHES = 3


class _Dist:
    """torch.distributed's broadcast_object_list for the fake DDP workers: rank 0's
    object, seen by every rank."""

    def __init__(self, ctx, world):
        self.value = ctx.Value("b", 0)
        self.barrier = ctx.Barrier(world)

    def broadcast_stop(self, rank, stop):
        if rank == 0:
            self.value.value = 1 if stop else 0
        self.barrier.wait()
        out = bool(self.value.value)
        self.barrier.wait()
        return out


_DIST = None  # set in each worker


def _rank():
    return int(os.environ.get("RANK", "-1"))


class BaseTrainer:
    def __init__(self, cfg=None, overrides=None, _callbacks=None):
        self.args = types.SimpleNamespace(**{"epochs": 5, "batch": 16, "imgsz": 640, "amp": True,
                                             "model": "yolo11n.pt", "data": "pcb-defects.yaml", "resume": False,
                                             "project": "runs", "name": "train", "device": "0",
                                             **(cfg or {}), **(overrides or {})})
        self.callbacks = {k: list(v) for k, v in (_callbacks or {}).items()}
        self.save_dir = os.path.join(self.args.project, self.args.name)
        self.wdir = os.path.join(self.save_dir, "weights")
        self.last = os.path.join(self.wdir, "last.pt")
        self.best = os.path.join(self.wdir, "best.pt")
        self.epochs = self.args.epochs
        self.start_epoch = 0
        self.epoch = 0
        self.metrics = {}
        self.tloss = None
        self.stop = False
        self.events = []  # what ran, in order: ("event", epoch)
        self.saved = []   # epochs (1-based) whose checkpoint was written

    def add_callback(self, event, fn):
        self.callbacks.setdefault(event, []).append(fn)

    def run_callbacks(self, event):
        self.events.append((event, self.epoch))
        for fn in self.callbacks.get(event, []):
            fn(self)

    def _setup_train(self):
        if self.args.resume:
            with open(str(self.args.model)) as f:
                ckpt = json.load(f)
            self.start_epoch = ckpt["epoch"] + 1
            self.epochs = ckpt["train_args"]["epochs"]

    def save_model(self):
        os.makedirs(self.wdir, exist_ok=True)
        with open(self.last, "w") as f:
            json.dump({"epoch": self.epoch, "train_args": {"epochs": self.epochs}}, f)
        self.saved.append(self.epoch + 1)

    def train(self):
        rank = _rank()
        self.run_callbacks("on_pretrain_routine_start")
        self._setup_train()
        self.run_callbacks("on_pretrain_routine_end")
        self.run_callbacks("on_train_start")
        epoch = self.start_epoch
        while True:
            self.epoch = epoch
            self.run_callbacks("on_train_epoch_start")
            for _ in range(BATCHES):
                self.run_callbacks("on_train_batch_start")
                self.tloss = [1.0 / (epoch + 1), 2.0, 0.5]
                self.run_callbacks("on_train_batch_end")
            self.run_callbacks("on_train_epoch_end")
            if rank in (-1, 0):
                final_epoch = epoch + 1 >= self.epochs
                self.metrics = {"metrics/precision(B)": 0.5, "metrics/recall(B)": 0.4,
                                "metrics/mAP50(B)": 0.3 + 0.01 * epoch, "metrics/mAP50-95(B)": 0.2,
                                "val/box_loss": 1.0}
                self.stop |= final_epoch
                self.save_model()
                self.run_callbacks("on_model_save")
            self.run_callbacks("on_fit_epoch_end")
            if rank != -1:
                self.stop = _DIST.broadcast_stop(rank, self.stop)
            if self.stop:
                break
            epoch += 1
        if rank in (-1, 0):
            self.run_callbacks("on_fit_epoch_end")  # final_eval: best.pt validated once more
            self.run_callbacks("on_train_end")
        self.run_callbacks("teardown")
        return self


class DetectionTrainer(BaseTrainer):
    pass


def _worker(rank, world, module, name, overrides, dist, out):
    global _DIST
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    _DIST = dist
    cls = getattr(importlib.import_module(module), name)  # the generated script's import
    trainer = cls(cfg={}, overrides=overrides)
    trainer.train()
    out.put((rank, trainer.epoch, trainer.stop, trainer.saved))


class YOLO:
    def __init__(self, model="yolo11n.pt"):
        self.model = model
        self.callbacks = {}
        self.trainer = None
        self.workers = []  # (rank, last epoch, stop, saved) of each DDP worker

    def add_callback(self, event, fn):
        self.callbacks.setdefault(event, []).append(fn)

    def train(self, trainer=None, **kwargs):
        overrides = {"model": self.model, **kwargs}
        cls = trainer or DetectionTrainer
        self.trainer = cls(overrides=overrides, _callbacks=self.callbacks)
        device = kwargs.get("device", "0")
        world = len(device) if isinstance(device, (list, tuple)) else 1
        if world == 1:
            return self.trainer.train()
        # ultralytics/utils/dist.py: a script that imports the class by name, in `world`
        # processes; this process waits and trains nothing.
        ctx = multiprocessing.get_context("fork")
        dist, out = _Dist(ctx, world), ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(r, world, cls.__module__, cls.__name__,
                                                  vars(self.trainer.args), dist, out)) for r in range(world)]
        for p in procs:
            p.start()
        self.workers = sorted(out.get(timeout=60) for _ in procs)
        for p in procs:
            p.join(60)
        return None


def install():
    """Puts this module where `import ultralytics...` finds it."""
    pkg = types.ModuleType("ultralytics")
    pkg.__version__ = "8.3.0-fake"
    pkg.YOLO = YOLO
    models = types.ModuleType("ultralytics.models")
    yolo = types.ModuleType("ultralytics.models.yolo")
    detect = types.ModuleType("ultralytics.models.yolo.detect")
    detect.DetectionTrainer = DetectionTrainer
    pkg.models, models.yolo, yolo.detect = models, yolo, detect
    sys.modules.update({"ultralytics": pkg, "ultralytics.models": models, "ultralytics.models.yolo": yolo,
                        "ultralytics.models.yolo.detect": detect})
