-- Whether a change can alter metered slices (samples, allocations, GPUs, prices,
-- settings: 1) or only what months add on top of them (job records: 0). The books'
-- hour slices (docs/METERING.md, "Slices") look only at the first kind.
ALTER TABLE changes ADD COLUMN slices INTEGER NOT NULL DEFAULT 1;
CREATE INDEX changes_by_end ON changes (end_ms);
