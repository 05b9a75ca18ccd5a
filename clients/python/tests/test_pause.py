"""A pause the server asks for (a stop of kind "pause"), against a fake Ultralytics
(fake_ultralytics: its trainer's attributes and callback order): the epoch's checkpoint is
written before the run stops, the job ends as paused with the command that resumes it,
resuming continues from that checkpoint, and in a two-process DDP run (the trainer rebuilt
in each worker by name, as Ultralytics does) both ranks stop after the same epoch."""

import http.server
import json
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import fake_ultralytics  # noqa: E402
from gpuledger import ultralytics as gl  # noqa: E402


class PauseServer(http.server.BaseHTTPRequestHandler):
    """Records requests; once `pause_after` epochs arrived, answers stop of kind `kind`."""

    posts = []
    pause_after = None
    kind = "pause"
    lock = threading.Lock()

    def do_PATCH(self):
        self.do_POST(method="PATCH")

    def do_POST(self, method="POST"):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with PauseServer.lock:
            PauseServer.posts.append((method, self.path, body))
            out = {}
            if self.path.endswith("/progress"):
                done = max(e["epoch"] for m, p, b in PauseServer.posts if p.endswith("/progress")
                           for e in b["epochs"])
                out = {"stored": len(body["epochs"])}
                if PauseServer.pause_after and done >= PauseServer.pause_after:
                    out.update(stop=True, kind=PauseServer.kind, reason="plateau: no mAP gain in 10 epochs")
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class PauseTest(unittest.TestCase):
    def setUp(self):
        PauseServer.posts, PauseServer.pause_after, PauseServer.kind = [], None, "pause"
        fake_ultralytics.install()
        sys.modules.pop("gpuledger.ultralytics_trainer", None)  # a fresh class per test
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PauseServer)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.tmp = tempfile.TemporaryDirectory()
        self.env = dict(GPULEDGER_SERVER="http://127.0.0.1:%d" % self.httpd.server_port, GPULEDGER_TOKEN="tok",
                        GPULEDGER_JOB_ID="run-9", GPULEDGER_USER="lisi", GPULEDGER_PROJECT="pcb-solder-qc",
                        GPULEDGER_DEPARTMENT="manufacturing")
        self.saved_env = {k: os.environ.get(k) for k in list(self.env) + ["RANK", "LOCAL_RANK"]}
        os.environ.update(self.env)
        for k in ("RANK", "LOCAL_RANK"):
            os.environ.pop(k, None)

    def tearDown(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.tmp.cleanup()
        for k, v in self.saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for name in list(sys.modules):
            if name == "ultralytics" or name.startswith("ultralytics."):
                del sys.modules[name]

    def progress_epochs(self):
        return [e["epoch"] for m, p, b in PauseServer.posts if p.endswith("/progress") for e in b["epochs"]]

    def ends(self):
        return [b for m, p, b in PauseServer.posts if m == "PATCH"]

    def test_pause_writes_the_checkpoint_ends_the_job_paused_and_resume_continues(self):
        PauseServer.pause_after = 3
        model = fake_ultralytics.YOLO("yolo11n.pt")
        reporter = gl.attach(model)
        model.train(data="pcb.yaml", epochs=10, project=self.tmp.name, name="exp")
        t = model.trainer
        self.assertEqual(t.saved, [1, 2, 3])  # epoch 3's checkpoint was written
        # ... before on_fit_epoch_end, whose answer stopped the run.
        events = [e for e, ep in t.events if ep == 2]
        self.assertLess(events.index("on_model_save"), events.index("on_fit_epoch_end"))
        self.assertTrue(t.stop)
        last = os.path.join(self.tmp.name, "exp", "weights", "last.pt")
        with open(last) as f:
            self.assertEqual(json.load(f)["epoch"], 2)  # 0-based: the third epoch
        self.assertEqual(reporter.stop_kind, "pause")
        self.assertEqual(reporter.ended, "paused")
        end = self.ends()[-1]
        self.assertEqual(end["status"], "paused")
        self.assertEqual(end["resume_command"], "yolo train resume model=" + last)
        self.assertEqual(reporter.resume_command, end["resume_command"])

        # Resume as the recorded command does: YOLO(last).train(resume=True).
        PauseServer.pause_after = None
        resumed = fake_ultralytics.YOLO(last)
        reporter2 = gl.attach(resumed)
        resumed.train(resume=True, project=self.tmp.name, name="exp")
        self.assertEqual(resumed.trainer.start_epoch, 3)
        self.assertEqual(resumed.trainer.saved, [4, 5, 6, 7, 8, 9, 10])
        # Epochs 1-3 then 4-10 reached the server (final_eval repeats each run's last).
        self.assertEqual(sorted(set(self.progress_epochs())), list(range(1, 11)))
        self.assertEqual([e for e in self.progress_epochs() if e < 4][:3], [1, 2, 3])
        self.assertEqual(reporter2.ended, "succeeded")
        self.assertEqual(self.ends()[-1]["status"], "succeeded")
        self.assertNotIn("resume_command", self.ends()[-1])

    def test_a_stop_of_kind_stop_still_cancels(self):
        PauseServer.pause_after, PauseServer.kind = 2, "stop"
        model = fake_ultralytics.YOLO()
        reporter = gl.attach(model)
        model.train(epochs=10, project=self.tmp.name, name="exp")
        self.assertEqual(model.trainer.saved, [1, 2])
        self.assertEqual(reporter.ended, "cancelled")
        self.assertNotIn("resume_command", self.ends()[-1])

    def test_add_callback_alone_does_not_reach_ddp_workers(self):
        # Ultralytics issue #6168, as the fake mirrors it: the workers rebuild the trainer
        # without the model's callbacks, so nothing is reported and nothing stops.
        PauseServer.pause_after = 2
        model = fake_ultralytics.YOLO()
        gl.attach(model)
        model.train(epochs=4, device=[0, 1], project=self.tmp.name, name="exp")
        self.assertEqual(self.progress_epochs(), [])
        self.assertEqual([w[1] for w in model.workers], [3, 3])  # ran all 4 epochs

    def test_the_gpuledger_trainer_pauses_every_ddp_rank_after_the_same_checkpoint(self):
        from gpuledger.ultralytics_trainer import DetectionTrainer
        self.assertEqual(DetectionTrainer.__module__, "gpuledger.ultralytics_trainer")
        self.assertTrue(issubclass(DetectionTrainer, fake_ultralytics.DetectionTrainer))
        PauseServer.pause_after = 2
        model = fake_ultralytics.YOLO()
        model.train(epochs=10, device=[0, 1], project=self.tmp.name, name="exp", trainer=DetectionTrainer)
        # Both ranks stopped after epoch 2 (0-based 1); rank 0 wrote its checkpoint first.
        self.assertEqual(model.workers, [(0, 1, True, [1, 2]), (1, 1, True, [])])
        # Only rank 0 reported: one registration, epochs 1 and 2 (and final_eval's repeat).
        registrations = [b for m, p, b in PauseServer.posts if p == "/api/v1/jobs"]
        self.assertEqual(len(registrations), 1)
        self.assertEqual(sorted(set(self.progress_epochs())), [1, 2])
        ends = self.ends()
        self.assertEqual(len(ends), 1)
        self.assertEqual(ends[0]["status"], "paused")
        last = os.path.join(self.tmp.name, "exp", "weights", "last.pt")
        self.assertEqual(ends[0]["resume_command"], "yolo train resume model=" + last)

    def test_the_trainer_does_not_report_twice_with_attach(self):
        from gpuledger.ultralytics_trainer import DetectionTrainer
        model = fake_ultralytics.YOLO()
        reporter = gl.attach(model)
        model.train(epochs=2, project=self.tmp.name, name="exp", trainer=DetectionTrainer)
        self.assertIs(model.trainer.gpuledger, reporter)
        self.assertEqual(self.progress_epochs(), [1, 2, 2])  # final_eval repeats the last
        self.assertEqual(len(self.ends()), 1)


if __name__ == "__main__":
    unittest.main()
