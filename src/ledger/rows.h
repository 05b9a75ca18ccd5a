// Row <-> domain mapping shared by the ledger backends: both select the same columns in
// the same order (the tables are the same), so one function reads a job, a usage row or
// an epoch from any row type with Text(col), Int(col), Double(col) and IsNull(col).
// Header-only; pure.
#pragma once

#include "common/status.h"
#include "common/strings.h"
#include "domain/types.h"
#include "ledger/labels_json.h"
#include "ledger/ledger.h"

namespace gpuledger {

// One `settings` row (key, value) into the settings; unknown keys are ignored (a newer
// gpuledger may have written them).
inline Status ApplySetting(LedgerSettings& s, const std::string& k, const std::string& v) {
  if (k == "currency") {
    s.currency = v;
  } else if (k == "timezone") {
    s.timezone = v;
  } else if (k == "default_interval_ms") {
    ASSIGN_OR_RETURN(s.default_interval_ms, ParseInt(v, k));
  } else if (k == "default_max_gap_ms") {
    ASSIGN_OR_RETURN(s.default_max_gap_ms, ParseInt(v, k));
  } else if (k == "raw_retained_from_ms") {
    ASSIGN_OR_RETURN(s.raw_retained_from_ms, ParseInt(v, k));
  }
  return OkStatus();
}

// `SELECT * FROM jobs`
template <typename Row>
StatusOr<Job> JobFromRow(const Row& r) {
  Job j;
  int i = 0;
  j.id = r.Text(i++);
  j.user = r.Text(i++);
  j.project = r.Text(i++);
  j.department = r.Text(i++);
  j.model_type = r.Text(i++);
  j.image_repo = r.Text(i++);
  j.image_tag = r.Text(i++);
  j.image_digest = r.Text(i++);
  j.framework = r.Text(i++);
  j.gpu_share_ppm = r.Int(i++);
  j.gpu_model = r.Text(i++);
  j.duration_limit_ms = r.Int(i++);
  j.dataset = r.Text(i++);
  j.dataset_images = r.Int(i++);
  j.epochs = static_cast<int>(r.Int(i++));
  j.batch = static_cast<int>(r.Int(i++));
  j.imgsz = static_cast<int>(r.Int(i++));
  j.amp = r.Int(i++) != 0;
  j.labels = LabelsFromJson(r.Text(i++));
  ASSIGN_OR_RETURN(j.status, ParseJobStatus(r.Text(i++)));
  j.submitted_ms = r.Int(i++);
  j.start_ms = r.Int(i++);
  j.end_ms = r.Int(i++);
  return j;
}

// The columns behind a Ledger::JobField, for `SELECT id, <columns> FROM jobs`.
inline const char* JobFieldColumns(Ledger::JobField field) {
  switch (field) {
    case Ledger::JobField::kUser:
      return "user_name";
    case Ledger::JobField::kProject:
      return "project";
    case Ledger::JobField::kDepartment:
      return "department";
    case Ledger::JobField::kModelType:
      return "model_type";
    case Ledger::JobField::kImage:
      return "image_repo, image_tag";
    case Ledger::JobField::kFramework:
      return "framework";
  }
  return "''";
}

// (job id, field value) from a row of that query.
template <typename Row>
std::pair<std::string, std::string> JobFieldFromRow(const Row& r, Ledger::JobField field) {
  return {r.Text(0), field == Ledger::JobField::kImage ? ImageRef(r.Text(1), r.Text(2)) : r.Text(1)};
}

// `SELECT * FROM usage` (column 0 is the book key)
template <typename Row>
UsageRow UsageFromRow(const Row& r) {
  UsageRow u;
  int i = 1;
  u.job_id = r.Text(i++);
  u.gpu_uuid = r.Text(i++);
  u.gpu_model = r.Text(i++);
  u.period_start = r.Int(i++);
  u.period_end = r.Int(i++);
  u.gpu_ns = r.Int(i++);
  u.covered_ns = r.Int(i++);
  u.busy_ns = r.Int(i++);
  u.dense_ns = r.Int(i++);
  u.util_ns = r.Int(i++);
  u.energy_mj = r.Int(i++);
  u.peak_mem_mib = r.Int(i++);
  u.loading_ns = r.Int(i++);
  u.steady_ns = r.Int(i++);
  u.tail_ns = r.Int(i++);
  u.idle_ns = r.Int(i++);
  u.energy_flags = r.Int(i++);  // migration 0022
  return u;
}

// `SELECT * FROM progress` (column 0 is the job id)
template <typename Row>
EpochProgress EpochFromRow(const Row& r) {
  EpochProgress e;
  e.epoch = static_cast<int>(r.Int(1));
  std::optional<double>* vals[] = {&e.time_s, &e.train_loss, &e.val_loss, &e.precision,
                                   &e.recall, &e.map50,      &e.map50_95};
  for (int i = 0; i < 7; ++i) {
    if (!r.IsNull(2 + i)) *vals[i] = r.Double(2 + i);
  }
  return e;
}

}  // namespace gpuledger
