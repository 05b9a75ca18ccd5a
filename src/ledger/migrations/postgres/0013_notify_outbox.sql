-- The notification outbox (docs/NOTIFICATIONS.md): a notice once per cause (its key is
-- the primary key, so a rule evaluated again on every flush stores nothing new), and one
-- delivery per (notice, channel) with the message rendered for that channel and its
-- retry state. A delivery is marked sent only after the service's 2xx; state 'sending'
-- marks an attempt whose outcome was not recorded (the process stopped during a send).
CREATE TABLE notices (
  cause_key TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  job_id TEXT NOT NULL,
  user_name TEXT NOT NULL,
  project TEXT NOT NULL,
  department TEXT NOT NULL,
  fields TEXT NOT NULL,
  enqueued_ms BIGINT NOT NULL
);
CREATE TABLE deliveries (
  id BIGSERIAL PRIMARY KEY,
  cause_key TEXT NOT NULL REFERENCES notices(cause_key),
  channel TEXT NOT NULL,
  recipients TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
  attempts BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  next_attempt_ms BIGINT NOT NULL,
  sent_ms BIGINT NOT NULL,
  last_error TEXT NOT NULL,
  UNIQUE (cause_key, channel)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_ms);
