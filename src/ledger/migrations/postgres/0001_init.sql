-- gpuledger ledger schema, version 1 (PostgreSQL; the same tables as the SQLite one). Times are int64 ms since the Unix epoch (UTC);
-- GPU time is GPU-nanoseconds (ms x share in ppm); money is int64 micro-units.
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE departments (name TEXT PRIMARY KEY);
CREATE TABLE projects (
  name TEXT PRIMARY KEY,
  department TEXT NOT NULL REFERENCES departments(name)
);
CREATE TABLE users (name TEXT PRIMARY KEY);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES users(name),
  project TEXT NOT NULL REFERENCES projects(name),
  department TEXT NOT NULL REFERENCES departments(name),
  model_type TEXT NOT NULL DEFAULT '',
  image_repo TEXT NOT NULL DEFAULT '',
  image_tag TEXT NOT NULL DEFAULT '',
  image_digest TEXT NOT NULL DEFAULT '',
  framework TEXT NOT NULL DEFAULT '',
  gpu_share_ppm BIGINT NOT NULL DEFAULT 0,
  gpu_model TEXT NOT NULL DEFAULT '',
  duration_limit_ms BIGINT NOT NULL DEFAULT 0,
  dataset TEXT NOT NULL DEFAULT '',
  dataset_images BIGINT NOT NULL DEFAULT 0,
  epochs BIGINT NOT NULL DEFAULT 0,
  batch BIGINT NOT NULL DEFAULT 0,
  imgsz BIGINT NOT NULL DEFAULT 0,
  amp BIGINT NOT NULL DEFAULT 0,
  labels TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL,
  submitted_ms BIGINT NOT NULL DEFAULT 0,
  start_ms BIGINT NOT NULL DEFAULT 0,
  end_ms BIGINT NOT NULL DEFAULT 0
);

-- Kept forever: retention never deletes from this table (BRIEF 7, 9).
CREATE TABLE image_digests (
  digest TEXT NOT NULL,
  repo TEXT NOT NULL,
  tag TEXT NOT NULL,
  first_job TEXT NOT NULL,
  first_seen_ms BIGINT NOT NULL,
  PRIMARY KEY (digest, repo, tag)
);

CREATE TABLE gpus (
  id BIGSERIAL PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  node TEXT NOT NULL,
  idx BIGINT NOT NULL,
  model TEXT NOT NULL,
  memory_mib BIGINT NOT NULL,
  in_service_from BIGINT NOT NULL,
  in_service_to BIGINT NOT NULL DEFAULT 0,
  sample_interval_ms BIGINT NOT NULL DEFAULT 0,
  max_gap_ms BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE allocations (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  gpu_id BIGINT NOT NULL REFERENCES gpus(id),
  start_ms BIGINT NOT NULL,
  end_ms BIGINT NOT NULL,  -- 0: still holding
  share_ppm BIGINT NOT NULL,
  PRIMARY KEY (gpu_id, start_ms, job_id)
);
CREATE INDEX allocations_by_job ON allocations(job_id);

-- Raw samples. -1 in an optional column means "not reported".
CREATE TABLE samples (
  gpu_id BIGINT NOT NULL,
  t_ms BIGINT NOT NULL,
  util DOUBLE PRECISION NOT NULL,
  mem_mib DOUBLE PRECISION NOT NULL,
  power_w DOUBLE PRECISION NOT NULL,
  energy_mj BIGINT NOT NULL,
  sm_active DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (gpu_id, t_ms)
);

CREATE TABLE progress (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  epoch BIGINT NOT NULL,
  time_s DOUBLE PRECISION,
  train_loss DOUBLE PRECISION,
  val_loss DOUBLE PRECISION,
  precision DOUBLE PRECISION,
  recall DOUBLE PRECISION,
  map50 DOUBLE PRECISION,
  map50_95 DOUBLE PRECISION,
  PRIMARY KEY (job_id, epoch)
);

CREATE TABLE prices (
  gpu_model TEXT NOT NULL,
  effective_from BIGINT NOT NULL,
  micros_per_gpu_hour BIGINT NOT NULL,
  micros_per_kwh BIGINT NOT NULL,
  currency TEXT NOT NULL,
  PRIMARY KEY (gpu_model, effective_from)
);

-- Every write records the span of time it changed; built books remember the newest
-- change they saw.
CREATE TABLE changes (id BIGSERIAL PRIMARY KEY, start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL);
CREATE TABLE books (key TEXT PRIMARY KEY, built_change BIGINT NOT NULL);
CREATE TABLE usage (
  book TEXT NOT NULL,
  job_id TEXT NOT NULL,  -- '' = unallocated capacity
  gpu_uuid TEXT NOT NULL,
  gpu_model TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  period_end BIGINT NOT NULL,
  gpu_ns BIGINT NOT NULL,
  covered_ns BIGINT NOT NULL,
  busy_ns BIGINT NOT NULL,
  dense_ns BIGINT NOT NULL,
  util_ns BIGINT NOT NULL,
  energy_mj BIGINT NOT NULL,
  peak_mem_mib BIGINT NOT NULL,
  loading_ns BIGINT NOT NULL,
  steady_ns BIGINT NOT NULL,
  tail_ns BIGINT NOT NULL,
  idle_ns BIGINT NOT NULL,
  PRIMARY KEY (book, job_id, gpu_uuid, period_start)
);
