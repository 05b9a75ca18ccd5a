-- The estimate a job was submitted with (gpuledger submit, POST /api/v1/submissions):
-- one per job, replaced by a newer one. Money in micro-units of the ledger's currency,
-- -1 where the estimate has no such figure; detail is the estimate as JSON.
CREATE TABLE job_estimates (
  job_id TEXT PRIMARY KEY REFERENCES jobs(id),
  made_ms BIGINT NOT NULL,
  basis TEXT NOT NULL,
  runs BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL,
  cost_low_micros BIGINT NOT NULL,
  cost_high_micros BIGINT NOT NULL,
  best_cost_micros BIGINT NOT NULL,
  gpu_ns BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL,
  detail TEXT NOT NULL
);
