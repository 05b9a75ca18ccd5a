"""A small HTTP client for the gpuledger server's JSON API (urllib only)."""

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request


class GpuledgerError(Exception):
    """The server refused a request, or could not be reached."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class Client:
    """Talks to one gpuledger server with one API token.

    server defaults to $GPULEDGER_SERVER, token to $GPULEDGER_TOKEN (an ingest token for
    posting jobs and progress). For an https:// server, ca_file (default
    $GPULEDGER_CA_FILE) names a PEM file of the certificates to trust, e.g. a self-signed
    server's own; without it the system's trust store is used. The server's name is
    always checked.
    """

    def __init__(self, server=None, token=None, timeout=5.0, ca_file=None):
        self.server = (server or os.environ.get("GPULEDGER_SERVER", "")).rstrip("/")
        self.token = token or os.environ.get("GPULEDGER_TOKEN", "")
        self.timeout = timeout
        self.ca_file = ca_file or os.environ.get("GPULEDGER_CA_FILE", "") or None
        self._context = None
        if not self.server.startswith(("http://", "https://")):
            raise GpuledgerError(
                "set GPULEDGER_SERVER to the server, http://host:port or https://host (got %r)" % self.server)
        if not self.token:
            raise GpuledgerError("set GPULEDGER_TOKEN to an ingest token")
        if self.server.startswith("https://"):
            try:
                self._context = ssl.create_default_context(cafile=self.ca_file)
            except (OSError, ssl.SSLError) as e:
                raise GpuledgerError("CA file %r (ca_file or GPULEDGER_CA_FILE): %s" % (self.ca_file, e)) from None

    def _send(self, method, path, body):
        data = json.dumps(body).encode()
        req = urllib.request.Request(
            self.server + path,
            data=data,
            method=method,
            headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._context) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace").strip()
            raise GpuledgerError("%s %s: HTTP %d %s" % (method, path, e.code, detail), e.code) from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise GpuledgerError("%s %s: %s" % (method, path, e)) from None
        try:
            return json.loads(text) if text.strip() else {}
        except ValueError as e:
            raise GpuledgerError("%s %s: the answer is not JSON: %s" % (method, path, e)) from None

    def _post(self, path, body):
        return self._send("POST", path, body)

    def register_job(self, job):
        """Registers (or updates) a job: a dict of the jobs API's string fields."""
        return self._post("/api/v1/jobs", {k: str(v) for k, v in job.items()})

    def estimate(self, job):
        """The server's estimate for a job not yet run: POST /api/v1/submissions with
        "dry_run": true (nothing is registered). job is a dict of the jobs API's fields
        (user, project, department, model_type, image, gpu_request, epochs, batch, imgsz,
        amp, dataset, dataset_images, ...). Returns the answer: {"registered": false,
        "job": ..., "image_tag": ..., "estimate": {"basis", "cost": {"median", "low",
        "high"}, "interval", "best_practice", ...}, "warnings": [...]}. A refusal (the
        image-tag policy in enforce mode, a malformed field) raises GpuledgerError."""
        body = {k: str(v) for k, v in job.items() if v is not None and k not in ("id", "status", "start")}
        body["dry_run"] = True
        return self._post("/api/v1/submissions", body)

    def end_job(self, job_id, status, end, resume_command=None):
        """Ends a job: PATCH /api/v1/jobs/{id} with {"status": ..., "end": RFC 3339 UTC}.

        status is one of succeeded, failed, cancelled, or paused (a job stopped on the
        server's pause request, its checkpoint written: resume_command, when given, says
        how to continue it and is sent along).
        """
        body = {"status": status, "end": end}
        if resume_command:
            body["resume_command"] = resume_command
        return self._send("PATCH", "/api/v1/jobs/%s" % urllib.parse.quote(job_id, safe=""), body)

    def progress(self, job_id, epochs):
        """Posts epochs (dicts with "epoch" and metrics). Returns the server's answer:
        {"stored": N} and, when someone asked the job to stop, "stop": true with "kind"
        ("pause": stop after a checkpoint, to be resumed; "stop": end it) and "reason"."""
        return self._post("/api/v1/jobs/%s/progress" % urllib.parse.quote(job_id, safe=""), {"epochs": epochs})

    def post_progress(self, job_id, epochs):
        """Posts epochs (dicts with "epoch" and metrics). Returns (stop, reason)."""
        out = self.progress(job_id, epochs)
        return bool(out.get("stop")), out.get("reason", "")
