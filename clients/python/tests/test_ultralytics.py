"""gpuledger.ultralytics against a fake Ultralytics trainer: first a recording HTTP
server, then (when GPULEDGER_BINARY names it) the real gpuledger server."""

import contextlib
import http.server
import io
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import types
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from gpuledger import GpuledgerError  # noqa: E402
from gpuledger import ultralytics as gl  # noqa: E402


class FakeModel:
    """What attach() needs of an Ultralytics YOLO model, and a training loop that runs the
    callbacks in Ultralytics' order: validate, save the checkpoint, on_fit_epoch_end,
    then break if trainer.stop."""

    def __init__(self, epochs=5):
        self.callbacks = {}
        self.trainer = types.SimpleNamespace(
            args=types.SimpleNamespace(epochs=epochs, batch=16, imgsz=640, amp=True, model="yolo11n.pt",
                                       data="pcb-defects.yaml", pretrained=True, resume=False),
            epoch=0, metrics={}, tloss=None, stop=False, saved=[])
        self.after_epoch = None  # a hook for tests: called with the 1-based epoch

    def add_callback(self, event, fn):
        self.callbacks.setdefault(event, []).append(fn)

    def _run(self, event):
        for fn in self.callbacks.get(event, []):
            fn(self.trainer)

    def train(self):
        t = self.trainer
        self._run("on_pretrain_routine_end")
        for epoch in range(t.args.epochs):
            t.epoch = epoch
            t.tloss = [1.0 / (epoch + 1), 2.0, 0.5]
            t.metrics = {"metrics/precision(B)": 0.5, "metrics/recall(B)": 0.4,
                         "metrics/mAP50(B)": 0.3 + 0.1 * epoch, "metrics/mAP50-95(B)": 0.2,
                         "val/box_loss": 1.0, "val/cls_loss": 0.5}
            t.saved.append(epoch + 1)  # save_model() runs before on_fit_epoch_end
            self._run("on_fit_epoch_end")
            if self.after_epoch:
                self.after_epoch(epoch + 1)
            if t.stop:
                break
        self._run("on_train_end")  # Ultralytics: after the last epoch, an early stop included


# The server's answer to a dry-run submission (SubmissionJson), as the real server writes it.
ESTIMATE_ANSWER = {
    "registered": False, "job": {"id": "sub-x"}, "warnings": [],
    "estimate": {"basis": "similar", "similar": 3, "runs": 3, "currency": "CNY", "notes": [],
                 "gpu_hours": {"median": 4.0, "low": 2.4, "high": 5.6},
                 "duration_hours": {"median": 4.0, "low": 2.4, "high": 5.6},
                 "cost": {"median": "45.00", "low": "30.00", "high": "60.00"}, "interval": "P10-P90",
                 "best_practice": {"scope": "project", "model_type": "yolov8s", "gpu_model": "A10G", "epochs": 60,
                                   "batch": 32, "imgsz": 640, "amp": True, "runs": 4, "cost": "28.00",
                                   "map50": 0.61, "reference_map50": 0.62, "candidates": 9}},
}


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records POSTs; answers stop once `stop_after` epochs have arrived; 503 while `down`."""

    posts = []
    methods = []
    stop_after = None
    down = False

    def do_PATCH(self):
        self.do_POST(method="PATCH")

    def do_POST(self, method="POST"):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Recorder.down:
            self.send_response(503)
            self.end_headers()
            return
        Recorder.posts.append((self.path, self.headers["Authorization"], body))
        Recorder.methods.append(method)
        out = {}
        if self.path == "/api/v1/submissions":
            out = ESTIMATE_ANSWER
        if self.path.endswith("/progress"):
            done = max(e["epoch"] for p, _, b in Recorder.posts if p.endswith("/progress") for e in b["epochs"])
            out = {"stored": len(body["epochs"]), "stop": bool(Recorder.stop_after and done >= Recorder.stop_after),
                   "reason": "over budget"}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class CallbackTest(unittest.TestCase):
    def setUp(self):
        Recorder.posts, Recorder.methods, Recorder.stop_after, Recorder.down = [], [], None, False
        sys.modules.pop("ultralytics", None)
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_port
        for k in ("GPULEDGER_USER", "GPULEDGER_PROJECT", "GPULEDGER_DEPARTMENT"):
            os.environ.pop(k, None)

    def tearDown(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def test_registers_args_posts_epochs_and_stops_after_the_checkpoint(self):
        os.environ.update(GPULEDGER_USER="lisi", GPULEDGER_PROJECT="pcb-solder-qc",
                          GPULEDGER_DEPARTMENT="manufacturing")
        Recorder.stop_after = 3
        model = FakeModel(epochs=10)
        reporter = gl.attach(model, server=self.url, token="tok", job_id="run-7")
        model.train()
        path, auth, job = Recorder.posts[0]
        self.assertEqual(path, "/api/v1/jobs")
        self.assertEqual(auth, "Bearer tok")
        self.assertEqual(job["id"], "run-7")
        self.assertEqual((job["epochs"], job["batch"], job["imgsz"], job["amp"]), ("10", "16", "640", "true"))
        self.assertEqual(job["model_type"], "yolo11n")
        self.assertEqual(job["dataset"], "pcb-defects.yaml")
        self.assertEqual(job["user"], "lisi")
        # How the run starts, as the labels the trends report reads (trends.cc StartedFrom).
        self.assertEqual(job["labels"], "model=yolo11n.pt;pretrained=true;resume=false")
        epochs = [e for p, _, b in Recorder.posts[1:] if p.endswith("/progress") for e in b["epochs"]]
        self.assertEqual([e["epoch"] for e in epochs], [1, 2, 3])
        self.assertAlmostEqual(epochs[2]["map50"], 0.5)
        self.assertAlmostEqual(epochs[0]["train_loss"], 3.5)
        self.assertAlmostEqual(epochs[0]["val_loss"], 1.5)
        # Stopped after epoch 3, whose checkpoint was written first.
        self.assertTrue(model.trainer.stop)
        self.assertEqual(model.trainer.saved, [1, 2, 3])
        self.assertEqual(reporter.stop_reason, "over budget")
        # on_train_end ended the job: cancelled, since the server asked it to stop.
        self.assertEqual(Recorder.methods[-1], "PATCH")
        path, _, end = Recorder.posts[-1]
        self.assertEqual(path, "/api/v1/jobs/run-7")
        self.assertEqual(end["status"], "cancelled")
        self.assertRegex(end["end"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(reporter.ended, "cancelled")

    def test_a_finished_run_ends_its_job_as_succeeded_with_the_framework_version(self):
        os.environ.update(GPULEDGER_USER="lisi", GPULEDGER_PROJECT="pcb-solder-qc",
                          GPULEDGER_DEPARTMENT="manufacturing")
        sys.modules["ultralytics"] = types.SimpleNamespace(__version__="8.3.40")  # as a real run has it
        model = FakeModel(epochs=2)
        reporter = gl.attach(model, server=self.url, token="tok", job_id="run-9")
        model.train()
        self.assertEqual(Recorder.posts[0][2]["framework"], "ultralytics==8.3.40")
        self.assertEqual((Recorder.methods[-1], Recorder.posts[-1][0]), ("PATCH", "/api/v1/jobs/run-9"))
        self.assertEqual(Recorder.posts[-1][2]["status"], "succeeded")
        self.assertEqual(reporter.ended, "succeeded")

    def test_model_pretrained_and_resume_go_as_labels_and_the_submissions_own_win(self):
        os.environ.update(GPULEDGER_USER="lisi", GPULEDGER_PROJECT="p", GPULEDGER_DEPARTMENT="d",
                          GPULEDGER_LABELS="queue=a10g;resume=true")
        try:
            model = FakeModel(epochs=1)
            model.trainer.args.model = "cfg/yolov8s.yaml"
            model.trainer.args.pretrained = "weights/coco.pt"  # Ultralytics takes a path too
            gl.attach(model, server=self.url, token="tok", job_id="run-15")
            model.train()
            self.assertEqual(Recorder.posts[0][2]["labels"],
                             "queue=a10g;resume=true;model=cfg/yolov8s.yaml;pretrained=weights/coco.pt")
        finally:
            os.environ.pop("GPULEDGER_LABELS", None)
        # A resumed run (Ultralytics puts the checkpoint's path in resume), from scratch,
        # and a model path the jobs API would refuse as a label (';'): left out, the run
        # is still registered.
        Recorder.posts = []
        model = FakeModel(epochs=1)
        model.trainer.args.model = "runs/a;b/weights/last.pt"
        model.trainer.args.pretrained = False
        model.trainer.args.resume = "runs/a;b/weights/last.pt"
        gl.attach(model, server=self.url, token="tok", job_id="run-16")
        model.train()
        self.assertEqual(Recorder.posts[0][0], "/api/v1/jobs")
        self.assertEqual(Recorder.posts[0][2]["labels"], "pretrained=false;resume=true")

    def test_an_https_server_is_accepted(self):
        reporter = gl.attach(FakeModel(), server="https://gpuledger.example.com/", token="tok", job_id="x")
        self.assertIsNotNone(reporter)
        self.assertEqual(reporter.client.server, "https://gpuledger.example.com")

    def test_a_ca_file_that_cannot_be_read_is_a_warning_and_training_runs(self):
        model = FakeModel(epochs=1)
        with self.assertLogs("gpuledger", level="WARNING") as logs:
            self.assertIsNone(gl.attach(model, server="https://127.0.0.1:1", token="tok", job_id="x",
                                        ca_file="/nonexistent/ca.pem"))
        self.assertTrue(any("/nonexistent/ca.pem" in line for line in logs.output), logs.output)
        model.train()
        self.assertEqual(model.trainer.saved, [1])

    def test_the_ca_file_comes_from_the_environment_too(self):
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as bad:
            bad.write("not a certificate\n")
            bad.flush()
            os.environ["GPULEDGER_CA_FILE"] = bad.name
            try:
                with self.assertLogs("gpuledger", level="WARNING") as logs:
                    self.assertIsNone(gl.attach(FakeModel(), server="https://h", token="tok", job_id="x"))
                self.assertTrue(any(bad.name in line for line in logs.output), logs.output)
                # Over plain HTTP it is not used.
                self.assertIsNotNone(gl.attach(FakeModel(), server=self.url, token="tok", job_id="x"))
            finally:
                del os.environ["GPULEDGER_CA_FILE"]

    def test_an_unreachable_server_never_fails_training_and_epochs_are_resent(self):
        model = FakeModel(epochs=4)
        gl.attach(model, server=self.url, token="tok", job_id="run-8")
        model.after_epoch = lambda e: setattr(Recorder, "down", e < 2)  # down for epochs 1 and 2
        Recorder.down = True
        with self.assertLogs("gpuledger", level="WARNING"):
            model.train()
        self.assertEqual(model.trainer.saved, [1, 2, 3, 4])
        posted = [[e["epoch"] for e in b["epochs"]] for p, _, b in Recorder.posts if p.endswith("/progress")]
        self.assertEqual(posted, [[1, 2, 3], [4]])  # 1 and 2 waited for the server
        self.assertFalse(any(p == "/api/v1/jobs" for p, _, _ in Recorder.posts))  # no identity: not registered

    def test_no_job_id_or_server_is_a_warning_and_training_runs(self):
        os.environ.pop("GPULEDGER_JOB_ID", None)
        os.environ.pop("GPULEDGER_SERVER", None)
        for kwargs in ({"server": self.url, "token": "tok"},           # no job id
                       {"token": "tok", "job_id": "x"},                  # no server
                       {"server": "localhost:1", "token": "tok", "job_id": "x"}):  # not a URL
            model = FakeModel(epochs=2)
            with self.assertLogs("gpuledger", level="WARNING"):
                self.assertIsNone(gl.attach(model, **kwargs))
            model.train()
            self.assertEqual(model.trainer.saved, [1, 2])
        # Nothing is reported; the run with a server but no job id only asked for its estimate.
        self.assertEqual([(p, b.get("dry_run")) for p, _, b in Recorder.posts], [("/api/v1/submissions", True)])

    def test_a_run_not_submitted_through_gpuledger_prints_its_estimate_and_best_practice(self):
        os.environ.update(GPULEDGER_USER="lisi", GPULEDGER_PROJECT="pcb-solder-qc",
                          GPULEDGER_DEPARTMENT="manufacturing")
        os.environ.pop("GPULEDGER_SUBMITTED", None)
        model = FakeModel(epochs=1)
        reporter = gl.attach(model, server=self.url, token="tok", job_id="run-12")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.train()
        asked = [b for p, _, b in Recorder.posts if p == "/api/v1/submissions"]
        self.assertEqual(len(asked), 1)
        self.assertIs(asked[0]["dry_run"], True)
        self.assertNotIn("id", asked[0])  # a dry run of the configuration, not of this job
        self.assertEqual((asked[0]["user"], asked[0]["epochs"], asked[0]["model_type"]), ("lisi", "1", "yolo11n"))
        text = out.getvalue()
        self.assertIn("estimated at 45.00 (30.00-60.00) CNY P10-P90", text)
        self.assertIn("best practice among similar runs (project): yolov8s on A10G, epochs 60, batch 32", text)
        self.assertIn("28.00 CNY, mAP@0.5 0.61 (4 run(s))", text)
        self.assertEqual(reporter.estimate["estimate"]["cost"]["median"], "45.00")

    def test_a_submitted_run_is_not_estimated_again_and_an_unreachable_estimate_is_a_warning(self):
        os.environ.update(GPULEDGER_USER="lisi", GPULEDGER_PROJECT="p", GPULEDGER_DEPARTMENT="d",
                          GPULEDGER_SUBMITTED="2026-11-15T12:00:00Z")
        try:
            model = FakeModel(epochs=1)
            gl.attach(model, server=self.url, token="tok", job_id="run-13")
            model.train()
            self.assertNotIn("/api/v1/submissions", [p for p, _, _ in Recorder.posts])
        finally:
            os.environ.pop("GPULEDGER_SUBMITTED", None)
        Recorder.posts = []
        model = FakeModel(epochs=2)
        reporter = gl.attach(model, server="http://127.0.0.1:1", token="tok", job_id="run-14")
        with self.assertLogs("gpuledger", level="WARNING") as logs:
            model.train()
        self.assertTrue(any("estimate" in line for line in logs.output), logs.output)
        self.assertEqual(model.trainer.saved, [1, 2])  # training went on
        self.assertIsNone(reporter.estimate)

    def test_estimate_asks_for_a_dry_run_and_raises_on_an_unreachable_server(self):
        import gpuledger
        answer = gpuledger.estimate(server=self.url, token="tok", user="lisi", project="p", department="d",
                                    model_type="yolov8s", epochs=100, amp=True)
        self.assertEqual(answer["estimate"]["cost"]["median"], "45.00")
        path, _, body = Recorder.posts[-1]
        self.assertEqual(path, "/api/v1/submissions")
        self.assertEqual((body["dry_run"], body["epochs"], body["amp"]), (True, "100", "true"))
        self.assertIn("estimated at 45.00", gpuledger.format_estimate(answer))
        with self.assertRaises(GpuledgerError):
            gpuledger.estimate(server="http://127.0.0.1:1", token="tok", user="lisi")

    def test_a_server_that_cannot_end_jobs_is_a_warning(self):
        # The server goes away (or, before PATCH /api/v1/jobs/{id} landed, refuses it)
        # after the last epoch: the end is a warning.
        model = FakeModel(epochs=1)
        reporter = gl.attach(model, server=self.url, token="tok", job_id="run-10")
        model.after_epoch = lambda e: setattr(Recorder, "down", True)
        with self.assertLogs("gpuledger", level="WARNING") as logs:
            model.train()
        self.assertTrue(any("not marked succeeded" in line for line in logs.output), logs.output)
        self.assertIsNone(reporter.ended)

    def test_a_callback_error_never_ends_training(self):
        model = FakeModel(epochs=2)
        reporter = gl.attach(model, server=self.url, token="tok", job_id="run-11")
        reporter.client.progress = None  # calling it raises TypeError
        with self.assertLogs("gpuledger", level="WARNING"):
            model.train()
        self.assertEqual(model.trainer.saved, [1, 2])


@unittest.skipUnless(os.environ.get("GPULEDGER_BINARY"), "GPULEDGER_BINARY not set (ctest sets it)")
class AgainstTheServerTest(unittest.TestCase):
    def test_progress_arrives_and_a_users_stop_request_ends_the_run(self):
        binary = os.environ["GPULEDGER_BINARY"]
        with tempfile.TemporaryDirectory() as tmp:
            db = os.path.join(tmp, "ledger.db")
            ingest = subprocess.check_output([binary, "admin", "token", "create", "--db", db, "--role", "ingest"],
                                             text=True).strip()
            admin = subprocess.check_output([binary, "admin", "token", "create", "--db", db, "--role", "admin"],
                                            text=True).strip()
            tokens = {}
            server = subprocess.Popen([binary, "server", "--db", db, "--listen", "127.0.0.1:0", "--retention", "0"],
                                      stdout=subprocess.PIPE, text=True)
            try:
                line = server.stdout.readline()
                url = "http://" + line.split(" listening on ")[1].split(" ")[0]
                os.environ.update(GPULEDGER_USER="lisi", GPULEDGER_PROJECT="pcb-solder-qc",
                                  GPULEDGER_DEPARTMENT="manufacturing")
                model = FakeModel(epochs=10)
                gl.attach(model, server=url, token=ingest, job_id="py-run")

                def ask_to_stop(epoch):
                    if epoch == 2:
                        # A user token's project must be in the books: the callback has
                        # registered the job (and with it the project) by now.
                        req = urllib.request.Request(url + "/api/v1/tokens", method="POST",
                                                     data=b'{"role": "user", "project": "pcb-solder-qc"}',
                                                     headers={"Authorization": "Bearer " + admin})
                        tokens["user"] = json.loads(urllib.request.urlopen(req, timeout=5).read())["secret"]
                        req = urllib.request.Request(url + "/api/v1/jobs/py-run/stop", method="POST",
                                                     data=b'{"reason": "mAP has plateaued"}',
                                                     headers={"Authorization": "Bearer " + tokens["user"]})
                        urllib.request.urlopen(req, timeout=5).read()
                model.after_epoch = ask_to_stop
                model.train()
                self.assertEqual(model.trainer.saved, [1, 2, 3])  # stopped at the next epoch's end
                req = urllib.request.Request(url + "/api/v1/jobs/py-run",
                                             headers={"Authorization": "Bearer " + tokens["user"]})
                job = json.loads(urllib.request.urlopen(req, timeout=5).read())
                self.assertEqual(job["epochs_done"], 3)
                self.assertAlmostEqual(float(job["best_map50"]), 0.5)
                self.assertEqual(job["model_type"], "yolo11n")
                # on_train_end ended the job through PATCH /api/v1/jobs/{id}: stopped as asked.
                self.assertEqual(job["status"], "cancelled")
                # The stop is spent: a stop on the finished job is refused, naming its status.
                req = urllib.request.Request(url + "/api/v1/jobs/py-run/stop", method="POST", data=b"",
                                             headers={"Authorization": "Bearer " + tokens["user"]})
                with self.assertRaises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(req, timeout=5)
                self.assertEqual(refused.exception.code, 409)
                self.assertIn("is cancelled", refused.exception.read().decode())
            finally:
                server.terminate()
                server.wait(10)
                server.stdout.close()

    def test_progress_arrives_over_https_trusting_the_servers_own_certificate(self):
        binary = os.environ["GPULEDGER_BINARY"]
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=gpuledger test",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
            db = os.path.join(tmp, "ledger.db")
            ingest = subprocess.check_output([binary, "admin", "token", "create", "--db", db, "--role", "ingest"],
                                             text=True).strip()
            admin = subprocess.check_output([binary, "admin", "token", "create", "--db", db, "--role", "admin"],
                                            text=True).strip()
            server = subprocess.Popen([binary, "server", "--db", db, "--listen", "127.0.0.1:0", "--retention", "0",
                                       "--tls-cert", cert, "--tls-key", key], stdout=subprocess.PIPE, text=True)
            try:
                line = server.stdout.readline()
                self.assertIn("(https, ", line)
                url = "https://" + line.split(" listening on ")[1].split(" ")[0]
                os.environ.update(GPULEDGER_USER="lisi", GPULEDGER_PROJECT="pcb-solder-qc",
                                  GPULEDGER_DEPARTMENT="manufacturing")
                # Without the certificate to trust: a warning, and training runs.
                model = FakeModel(epochs=2)
                with self.assertLogs("gpuledger", level="WARNING") as logs:
                    gl.attach(model, server=url, token=ingest, job_id="py-untrusting")
                    model.train()
                self.assertTrue(any("CERTIFICATE_VERIFY_FAILED" in line for line in logs.output), logs.output)
                self.assertEqual(model.trainer.saved, [1, 2])

                model = FakeModel(epochs=3)
                reporter = gl.attach(model, server=url, token=ingest, job_id="py-tls-run", ca_file=cert)
                model.train()
                self.assertEqual(reporter.ended, "succeeded")
                trusting = ssl.create_default_context(cafile=cert)
                req = urllib.request.Request(url + "/api/v1/jobs/py-tls-run",
                                             headers={"Authorization": "Bearer " + admin})
                job = json.loads(urllib.request.urlopen(req, timeout=5, context=trusting).read())
                self.assertEqual(job["epochs_done"], 3)
                self.assertEqual(job["status"], "succeeded")
                # Plain HTTP to the TLS port is refused with the server's JSON error.
                with self.assertRaises(urllib.error.HTTPError) as plain:
                    urllib.request.urlopen(url.replace("https://", "http://") + "/healthz", timeout=5)
                self.assertEqual(plain.exception.code, 400)
                self.assertIn("this port serves HTTPS", plain.exception.read().decode())
            finally:
                server.terminate()
                server.wait(10)
                server.stdout.close()


if __name__ == "__main__":
    unittest.main()
