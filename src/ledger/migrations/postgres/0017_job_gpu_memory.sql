-- A job's own GPU memory on each GPU it ran on, from its processes (NVML's per-process
-- figure, reported by the agent): the peak seen between first_ms and last_ms. Put keeps
-- the larger peak and widens the span. Without a row only the whole GPU's memory is known.
CREATE TABLE job_gpu_memory (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  gpu_uuid TEXT NOT NULL REFERENCES gpus(uuid),
  peak_mib BIGINT NOT NULL,
  first_ms BIGINT NOT NULL,
  last_ms BIGINT NOT NULL,
  PRIMARY KEY (job_id, gpu_uuid)
);
