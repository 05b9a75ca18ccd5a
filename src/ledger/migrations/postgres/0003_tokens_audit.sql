-- API tokens (only their BLAKE2b-256 hash is stored) and the audit log of who read or
-- exported cost data.
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  project TEXT NOT NULL DEFAULT '',
  department TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  revoked BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE audit (
  seq BIGSERIAL PRIMARY KEY,
  at_ms BIGINT NOT NULL,
  token_id TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL
);
