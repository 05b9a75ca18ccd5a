-- Per-minute rollups of each GPU's samples, written when a month's books are built:
-- what charts read over long ranges instead of raw samples.
CREATE TABLE gpu_minutes (
  gpu_id INTEGER NOT NULL REFERENCES gpus(id),
  minute_ms INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  util_mean REAL NOT NULL,
  util_max REAL NOT NULL,
  mem_max_mib REAL NOT NULL,
  power_mean_w REAL NOT NULL,
  PRIMARY KEY (gpu_id, minute_ms)
) WITHOUT ROWID;
