-- Per-minute rollups of each GPU's samples, written when a month's books are built:
-- what charts read over long ranges instead of raw samples.
CREATE TABLE gpu_minutes (
  gpu_id BIGINT NOT NULL REFERENCES gpus(id),
  minute_ms BIGINT NOT NULL,
  samples BIGINT NOT NULL,
  util_mean DOUBLE PRECISION NOT NULL,
  util_max DOUBLE PRECISION NOT NULL,
  mem_max_mib DOUBLE PRECISION NOT NULL,
  power_mean_w DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (gpu_id, minute_ms)
);
