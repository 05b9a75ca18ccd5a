-- Token lifecycle (name, owner, expiry, last use, when revoked) and the audit log as a
-- hash chain (docs/formats/audit-log.md). Existing tokens keep working: they get no
-- name, no owner and no expiry. Existing audit rows get no address and status 0; the
-- ledger chains them (seq order) in the same transaction that applies this migration.
ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN last_used_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN revoked_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit ADD COLUMN remote TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
