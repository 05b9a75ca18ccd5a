-- Policies that act (#13, docs/POLICIES.md). A stop request says whether the job is to
-- stop or to pause (the cooperative pause: the callback stops after the epoch's
-- checkpoint and the job is resumed from it). Every policy decision, once per cause
-- (cause_key is unique: a rule evaluated again on every flush stores nothing new), with
-- the data that triggered it (window, figures, thresholds) as JSON. A job's pauses: when,
-- how (the adapter), whether its GPUs were freed and the command that resumes it;
-- resumed_ms 0 while it is still paused.
ALTER TABLE stop_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'stop' CHECK (kind IN ('stop', 'pause'));
CREATE TABLE policy_decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  rule TEXT NOT NULL,
  cause_key TEXT NOT NULL UNIQUE,
  action TEXT NOT NULL CHECK (action IN ('warn', 'pause', 'stop', 'notify')),
  dry_run INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX policy_decisions_job ON policy_decisions (job_id, at_ms);
CREATE INDEX policy_decisions_at ON policy_decisions (at_ms);
CREATE TABLE job_pauses (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  paused_ms INTEGER NOT NULL,
  resumed_ms INTEGER NOT NULL,
  mode TEXT NOT NULL,
  gpus_freed INTEGER NOT NULL,
  resume_command TEXT NOT NULL,
  cause_key TEXT NOT NULL,
  requested_by TEXT NOT NULL
);
CREATE INDEX job_pauses_job ON job_pauses (job_id, paused_ms);
