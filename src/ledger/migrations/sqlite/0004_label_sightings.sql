-- Workload labels seen on a GPU's samples (pod, hpc_job) with the span they were seen
-- over: how samples find a job that has no allocation yet, even across restarts.
CREATE TABLE label_sightings (
  gpu_uuid TEXT NOT NULL,
  label TEXT NOT NULL,
  value TEXT NOT NULL,
  first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  PRIMARY KEY (gpu_uuid, label, value)
);
CREATE INDEX label_sightings_by_value ON label_sightings(label, value);
