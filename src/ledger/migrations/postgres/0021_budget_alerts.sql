-- Budget alerts (docs/BUDGETS.md): each threshold a budget crossed in a month (80 %,
-- 100 %, a projected overrun), once per cause (cause_key is unique: the watch runs after
-- every flush and stores nothing new for a cause it recorded), with the figures it saw.
-- Kept whether or not notifications are on; the notice, when they are, has the same key.
CREATE TABLE budget_alerts (
  cause_key TEXT PRIMARY KEY,
  scope TEXT NOT NULL CHECK (scope IN ('project', 'department')),
  name TEXT NOT NULL,
  month TEXT NOT NULL,
  event TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX budget_alerts_month ON budget_alerts (month, at_ms);
