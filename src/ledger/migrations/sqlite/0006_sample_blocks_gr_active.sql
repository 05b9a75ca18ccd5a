-- Raw samples of sealed time: one chunk (docs/formats/chunks.md) per GPU and UTC hour,
-- or per GPU and UTC day once the day is over, covering [start_ms, end_ms). The
-- `samples` table keeps the hour still being written; a sample in both merges field by
-- field, the row's reported fields winning (docs/formats/ledger.md).
CREATE TABLE sample_blocks (
  gpu_id INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  chunk BLOB NOT NULL,
  PRIMARY KEY (gpu_id, start_ms)
);
-- Retention drops blocks by time across all GPUs.
CREATE INDEX sample_blocks_by_start ON sample_blocks (start_ms);

-- DCGM_FI_PROF_GR_ENGINE_ACTIVE (0..1; -1: not reported).
ALTER TABLE samples ADD COLUMN gr_active REAL NOT NULL DEFAULT -1;
