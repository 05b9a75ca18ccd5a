-- gpuledger ledger schema, version 1. Times are int64 ms since the Unix epoch (UTC);
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
  gpu_share_ppm INTEGER NOT NULL DEFAULT 0,
  gpu_model TEXT NOT NULL DEFAULT '',
  duration_limit_ms INTEGER NOT NULL DEFAULT 0,
  dataset TEXT NOT NULL DEFAULT '',
  dataset_images INTEGER NOT NULL DEFAULT 0,
  epochs INTEGER NOT NULL DEFAULT 0,
  batch INTEGER NOT NULL DEFAULT 0,
  imgsz INTEGER NOT NULL DEFAULT 0,
  amp INTEGER NOT NULL DEFAULT 0,
  labels TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL,
  submitted_ms INTEGER NOT NULL DEFAULT 0,
  start_ms INTEGER NOT NULL DEFAULT 0,
  end_ms INTEGER NOT NULL DEFAULT 0
);

-- Kept forever: retention never deletes from this table (BRIEF 7, 9).
CREATE TABLE image_digests (
  digest TEXT NOT NULL,
  repo TEXT NOT NULL,
  tag TEXT NOT NULL,
  first_job TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  PRIMARY KEY (digest, repo, tag)
);

CREATE TABLE gpus (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  node TEXT NOT NULL,
  idx INTEGER NOT NULL,
  model TEXT NOT NULL,
  memory_mib INTEGER NOT NULL,
  in_service_from INTEGER NOT NULL,
  in_service_to INTEGER NOT NULL DEFAULT 0,
  sample_interval_ms INTEGER NOT NULL DEFAULT 0,
  max_gap_ms INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE allocations (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  gpu_id INTEGER NOT NULL REFERENCES gpus(id),
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,  -- 0: still holding
  share_ppm INTEGER NOT NULL,
  PRIMARY KEY (gpu_id, start_ms, job_id)
);
CREATE INDEX allocations_by_job ON allocations(job_id);

-- Raw samples. -1 in an optional column means "not reported".
CREATE TABLE samples (
  gpu_id INTEGER NOT NULL,
  t_ms INTEGER NOT NULL,
  util REAL NOT NULL,
  mem_mib REAL NOT NULL,
  power_w REAL NOT NULL,
  energy_mj INTEGER NOT NULL,
  sm_active REAL NOT NULL,
  PRIMARY KEY (gpu_id, t_ms)
) WITHOUT ROWID;

CREATE TABLE progress (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  epoch INTEGER NOT NULL,
  time_s REAL,
  train_loss REAL,
  val_loss REAL,
  precision REAL,
  recall REAL,
  map50 REAL,
  map50_95 REAL,
  PRIMARY KEY (job_id, epoch)
);

CREATE TABLE prices (
  gpu_model TEXT NOT NULL,
  effective_from INTEGER NOT NULL,
  micros_per_gpu_hour INTEGER NOT NULL,
  micros_per_kwh INTEGER NOT NULL,
  currency TEXT NOT NULL,
  PRIMARY KEY (gpu_model, effective_from)
);

-- Every write records the span of time it changed; built books remember the newest
-- change they saw.
CREATE TABLE changes (id INTEGER PRIMARY KEY, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL);
CREATE TABLE books (key TEXT PRIMARY KEY, built_change INTEGER NOT NULL);
CREATE TABLE usage (
  book TEXT NOT NULL,
  job_id TEXT NOT NULL,  -- '' = unallocated capacity
  gpu_uuid TEXT NOT NULL,
  gpu_model TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  gpu_ns INTEGER NOT NULL,
  covered_ns INTEGER NOT NULL,
  busy_ns INTEGER NOT NULL,
  dense_ns INTEGER NOT NULL,
  util_ns INTEGER NOT NULL,
  energy_mj INTEGER NOT NULL,
  peak_mem_mib INTEGER NOT NULL,
  loading_ns INTEGER NOT NULL,
  steady_ns INTEGER NOT NULL,
  tail_ns INTEGER NOT NULL,
  idle_ns INTEGER NOT NULL,
  PRIMARY KEY (book, job_id, gpu_uuid, period_start)
) WITHOUT ROWID;  -- a month's rows lie together: reports read them in one range scan
