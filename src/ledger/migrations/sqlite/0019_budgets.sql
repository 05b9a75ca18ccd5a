-- Budgets (docs/BUDGETS.md): one monthly budget per (scope, name, month), where month is
-- 'YYYY-MM' (the organisation's calendar month) or 'every' (every month without its
-- own). The amount is in minor units of the ledger's currency. budget_gate holds the
-- organisation's one gate mode (what a submission meets at 100 %): no row means warn.
CREATE TABLE budgets (
  scope TEXT NOT NULL CHECK (scope IN ('project', 'department')),
  name TEXT NOT NULL,
  month TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, name, month)
);
CREATE TABLE budget_gate (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  mode TEXT NOT NULL CHECK (mode IN ('warn', 'refuse')),
  set_by TEXT NOT NULL,
  set_ms INTEGER NOT NULL
);
