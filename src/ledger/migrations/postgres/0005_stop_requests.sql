-- A request to stop a training job early (the Python callback honours it after the
-- epoch's checkpoint is written). One per job: a newer request replaces the older.
CREATE TABLE stop_requests (
  job_id TEXT PRIMARY KEY REFERENCES jobs(id),
  requested_ms BIGINT NOT NULL,
  requested_by TEXT NOT NULL,
  reason TEXT NOT NULL
);
