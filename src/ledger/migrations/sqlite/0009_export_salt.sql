-- The salt of desensitised exports (docs/EXPORTS.md): created once, by the first export
-- that needs it, and never changed, so two exports of the same month join on their keys.
CREATE TABLE export_salt (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  salt TEXT NOT NULL
);
