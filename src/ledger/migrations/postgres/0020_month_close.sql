-- Monthly close (docs/CLOSE.md): one row per month that was ever closed. While state is
-- 'closed' the month's books are the frozen body (its usage rows, the prices in force,
-- its cost lines and the adjustments it carried), which every read checks against the
-- checksum (SHA-256 over the body, hex). A reopen keeps the row with state 'open' and who
-- reopened it and why; closing again replaces the body. Retention never touches it.
CREATE TABLE month_closes (
  month TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('closed', 'open')),
  closed_ms BIGINT NOT NULL,
  closed_by TEXT NOT NULL,
  reopened_ms BIGINT NOT NULL,
  reopened_by TEXT NOT NULL,
  reopen_reason TEXT NOT NULL,
  total_micros BIGINT NOT NULL,
  checksum TEXT NOT NULL,
  body TEXT NOT NULL
);
