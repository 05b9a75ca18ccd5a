-- Each usage row counts the sample intervals begun in it whose energy was not the
-- counter's delta as read: a dip (counted as nothing) or more than the power bound allows
-- (clamped). docs/METERING.md, "Energy". Rows built before this read 0 until a write
-- rebuilds their slice.
ALTER TABLE usage ADD COLUMN energy_flags INTEGER NOT NULL DEFAULT 0;
