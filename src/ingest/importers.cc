#include "ingest/importers.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "common/money.h"
#include "common/strings.h"
#include "domain/gpu_model.h"
#include "domain/ids.h"
#include "ingest/csv.h"
#include "ingest/metrics.h"

namespace gpuledger {

namespace {

// Reads the header, then calls row(rec, header) for each record; prefixes "line N".
template <typename Fn>
Status ForEachRow(std::string_view text, const std::vector<std::string>& known,
                  const std::vector<std::string>& required, Fn&& row) {
  CsvReader reader(text);
  CsvRecord rec;
  ASSIGN_OR_RETURN(bool has, reader.Next(&rec));
  if (!has) return InvalidArgument("line 1: file is empty; expected a header row");
  ASSIGN_OR_RETURN(CsvHeader h, CsvHeader::Create(rec, known, required));
  for (;;) {
    ASSIGN_OR_RETURN(has, reader.Next(&rec));
    if (!has) break;
    const std::string at = "line " + std::to_string(rec.line);
    if (rec.fields.size() != h.size()) {
      return InvalidArgument(at + ": has " + std::to_string(rec.fields.size()) + " fields, the header has " +
                             std::to_string(h.size()));
    }
    RETURN_IF_ERROR(row(rec, h).WithContext(at));
  }
  return OkStatus();
}

StatusOr<TimeMs> OptTime(std::string_view f) {
  if (f.empty()) return TimeMs{0};
  return ParseTime(f);
}

StatusOr<int64_t> OptInt(std::string_view f, std::string_view what, int64_t lo, int64_t hi) {
  if (f.empty()) return int64_t{0};
  ASSIGN_OR_RETURN(int64_t v, ParseInt(f, what));
  if (v < lo || v > hi) {
    return InvalidArgument(std::string(what) + " " + std::to_string(v) + " is outside [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return v;
}

StatusOr<bool> ParseBool(std::string_view f, std::string_view what) {
  const std::string l = ToLower(f);
  if (l.empty() || l == "false" || l == "0" || l == "no") return false;
  if (l == "true" || l == "1" || l == "yes") return true;
  return InvalidArgument(std::string(what) + " '" + std::string(f) + "' is not true or false");
}

}  // namespace

Status ParseGpuRequest(std::string_view text, int64_t* share_ppm, std::string* model) {
  std::string s(Trim(text));
  size_t pos = s.find("\xC3\x97");  // U+00D7 MULTIPLICATION SIGN, as the article writes it
  size_t len = 2;
  if (pos == std::string::npos) {
    pos = s.find_first_of("xX*");
    len = 1;
  }
  if (pos == std::string::npos) {
    return InvalidArgument("GPU request '" + s + "' is not COUNTxMODEL, e.g. 1xA10G or 0.5xA10G");
  }
  ASSIGN_OR_RETURN(int64_t micros, ParseMicros(s.substr(0, pos), "GPU count"));
  if (micros <= 0 || micros > 1024 * kFullShare) {
    return InvalidArgument("GPU count in '" + s + "' is outside (0, 1024]");
  }
  *share_ppm = micros;  // micro-units of a GPU are ppm
  *model = CanonicalGpuModel(Trim(s.substr(pos + len)));
  if (model->empty()) return InvalidArgument("GPU request '" + s + "' names no GPU model");
  return OkStatus();
}

void SplitImage(std::string_view image, std::string* repo, std::string* tag) {
  const size_t slash = image.rfind('/');
  const size_t colon = image.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    *repo = std::string(image.substr(0, colon));
    *tag = std::string(image.substr(colon + 1));
  } else {
    *repo = std::string(image);
    tag->clear();
  }
}

const std::vector<std::string>& JobFieldNames() {
  static const std::vector<std::string> kKnown = {
      "id",        "user",        "project",        "department", "model_type",     "image",  "image_digest",
      "framework", "gpu_request", "duration_limit", "dataset",    "dataset_images", "epochs", "batch",
      "imgsz",     "amp",         "status",         "submitted",  "start",          "end",    "labels"};
  return kKnown;
}

StatusOr<Job> JobFromFields(const FieldFn& f) {
  Job j;
  j.id = f("id");
  j.user = f("user");
  j.project = f("project");
  j.department = f("department");
  j.model_type = f("model_type");
  SplitImage(f("image"), &j.image_repo, &j.image_tag);
  j.image_digest = f("image_digest");
  j.framework = f("framework");
  if (!f("gpu_request").empty())
    RETURN_IF_ERROR(ParseGpuRequest(f("gpu_request"), &j.gpu_share_ppm, &j.gpu_model));
  if (!f("duration_limit").empty()) {
    ASSIGN_OR_RETURN(j.duration_limit_ms, ParseDuration(f("duration_limit")));
  }
  j.dataset = f("dataset");
  ASSIGN_OR_RETURN(j.dataset_images, OptInt(f("dataset_images"), "dataset_images", 0, 1'000'000'000));
  ASSIGN_OR_RETURN(int64_t epochs, OptInt(f("epochs"), "epochs", 0, 100000));
  ASSIGN_OR_RETURN(int64_t batch, OptInt(f("batch"), "batch", -1, 100000));
  ASSIGN_OR_RETURN(int64_t imgsz, OptInt(f("imgsz"), "imgsz", 0, 100000));
  j.epochs = static_cast<int>(epochs);
  j.batch = static_cast<int>(batch < 0 ? 0 : batch);  // Ultralytics' batch=-1 means auto
  j.imgsz = static_cast<int>(imgsz);
  ASSIGN_OR_RETURN(j.amp, ParseBool(f("amp"), "amp"));
  if (!f("status").empty()) {
    ASSIGN_OR_RETURN(j.status, ParseJobStatus(f("status")));
  }
  ASSIGN_OR_RETURN(j.submitted_ms, OptTime(f("submitted")));
  ASSIGN_OR_RETURN(j.start_ms, OptTime(f("start")));
  ASSIGN_OR_RETURN(j.end_ms, OptTime(f("end")));
  for (std::string_view kv : Split(f("labels"), ';')) {
    if (Trim(kv).empty()) continue;
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("label '" + std::string(kv) + "' is not key=value");
    }
    j.labels[std::string(Trim(kv.substr(0, eq)))] = std::string(Trim(kv.substr(eq + 1)));
  }
  if (f("status").empty())
    j.status = j.end_ms ? JobStatus::kSucceeded : j.start_ms ? JobStatus::kRunning : JobStatus::kPending;
  if (!j.id.empty()) RETURN_IF_ERROR(CheckId(IdKind::kJobId, j.id));
  if (!j.user.empty()) RETURN_IF_ERROR(CheckId(IdKind::kUser, j.user));
  if (!j.project.empty()) RETURN_IF_ERROR(CheckId(IdKind::kProject, j.project));
  if (!j.department.empty()) RETURN_IF_ERROR(CheckId(IdKind::kDepartment, j.department));
  for (const auto& [k, v] : j.labels) {
    RETURN_IF_ERROR(CheckId(IdKind::kLabelKey, k));
    RETURN_IF_ERROR(CheckId(IdKind::kLabelValue, v));
  }
  RETURN_IF_ERROR(j.Validate());
  return j;
}

StatusOr<JobRequest> ParseJobJson(std::string_view text) {
  if (text.size() > (1u << 20)) {
    return InvalidArgument("job body of " + std::to_string(text.size()) +
                           " bytes exceeds the limit 1048576 bytes");
  }
  const nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return InvalidArgument("body is not a JSON object");
  auto field_of = [](const nlohmann::json& obj) {
    return [&obj](const char* name) -> std::string_view {
      auto it = obj.find(name);
      if (it == obj.end() || !it->is_string()) return {};
      return it->get_ref<const std::string&>();
    };
  };
  const auto& names = JobFieldNames();
  // Counts take JSON integers as well as strings, amp a JSON boolean; every other field
  // is a string (as in the CSV import).
  static const char* const kIntegers[] = {"dataset_images", "epochs", "batch", "imgsz"};
  std::map<std::string, std::string> fields;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() == "allocations") continue;
    if (std::find(names.begin(), names.end(), it.key()) == names.end()) {
      return InvalidArgument("unknown field '" + it.key() + "'");
    }
    const bool integer = std::find_if(std::begin(kIntegers), std::end(kIntegers),
                                      [&](const char* n) { return it.key() == n; }) != std::end(kIntegers);
    if (it->is_string()) {
      fields[it.key()] = it->get<std::string>();
    } else if (integer && (it->is_number_integer() || it->is_number_unsigned())) {
      fields[it.key()] = it->dump();
    } else if (integer && it->is_number_float()) {
      return InvalidArgument("field '" + it.key() + "' must be an integer, got " + it->dump());
    } else if (it.key() == "amp" && it->is_boolean()) {
      fields[it.key()] = it->get<bool>() ? "true" : "false";
    } else {
      return InvalidArgument("field '" + it.key() + "' must be " +
                             (integer             ? "an integer or a string"
                              : it.key() == "amp" ? "a boolean or a string"
                                                  : "a string") +
                             ", got " + std::string(it->type_name()));
    }
  }
  JobRequest out;
  ASSIGN_OR_RETURN(out.job, JobFromFields([&fields](const char* name) -> std::string_view {
                     auto it = fields.find(name);
                     return it == fields.end() ? std::string_view() : std::string_view(it->second);
                   }));
  auto allocs = body.find("allocations");
  if (allocs != body.end()) {
    if (!allocs->is_array()) return InvalidArgument("allocations must be an array");
    for (const auto& a : *allocs) {
      if (!a.is_object()) return InvalidArgument("an allocation must be an object");
      for (auto it = a.begin(); it != a.end(); ++it) {
        if (it.key() != "gpu_uuid" && it.key() != "start" && it.key() != "end" && it.key() != "share") {
          return InvalidArgument("unknown allocation field '" + it.key() + "'");
        }
        if (!it->is_string()) return InvalidArgument("allocation field '" + it.key() + "' must be a string");
      }
      nlohmann::json with_job = a;
      with_job["job_id"] = out.job.id;
      ASSIGN_OR_RETURN(Allocation alloc, AllocationFromFields(field_of(with_job)));
      out.allocations.push_back(std::move(alloc));
    }
  }
  return out;
}

StatusOr<std::vector<EpochProgress>> ParseProgressJson(std::string_view text) {
  if (text.size() > (8u << 20)) {
    return InvalidArgument("progress body of " + std::to_string(text.size()) +
                           " bytes exceeds the limit 8388608 bytes");
  }
  const nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return InvalidArgument("body is not a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "epochs")
      return InvalidArgument("unknown field '" + it.key() + "' (send {\"epochs\": [...]})");
  }
  auto list = body.find("epochs");
  if (list == body.end() || !list->is_array()) return InvalidArgument("'epochs' must be an array");
  if (list->size() > kMaxProgressEpochs) {
    return InvalidArgument(std::to_string(list->size()) + " epochs exceed the limit " +
                           std::to_string(kMaxProgressEpochs));
  }
  std::vector<EpochProgress> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& e = (*list)[i];
    const std::string at = "epochs[" + std::to_string(i) + "]";
    if (!e.is_object()) return InvalidArgument(at + " is not an object");
    EpochProgress p;
    for (auto it = e.begin(); it != e.end(); ++it) {
      const std::string& k = it.key();
      if (!it->is_number()) return InvalidArgument(at + "." + k + " must be a number");
      const double v = it->get<double>();
      if (!std::isfinite(v)) return InvalidArgument(at + "." + k + " is not finite");
      if (k == "epoch") {
        if (!it->is_number_integer() || v < 1 || v > 1e6)
          return InvalidArgument(at + ".epoch must be an integer in [1, 1000000], got " + it->dump());
        p.epoch = it->get<int>();
        continue;
      }
      std::optional<double>* slot = k == "time_s"       ? &p.time_s
                                    : k == "train_loss" ? &p.train_loss
                                    : k == "val_loss"   ? &p.val_loss
                                    : k == "precision"  ? &p.precision
                                    : k == "recall"     ? &p.recall
                                    : k == "map50"      ? &p.map50
                                    : k == "map50_95"   ? &p.map50_95
                                                        : nullptr;
      if (slot == nullptr) return InvalidArgument(at + ": unknown field '" + k + "'");
      const bool ratio = k == "precision" || k == "recall" || k == "map50" || k == "map50_95";
      if (ratio && (v < 0 || v > 1))
        return InvalidArgument(at + "." + k + " " + it->dump() + " is outside [0, 1]");
      if (k == "time_s" && v < 0) return InvalidArgument(at + ".time_s " + it->dump() + " is negative");
      *slot = v;
    }
    if (p.epoch == 0) return InvalidArgument(at + " has no 'epoch'");
    out.push_back(p);
  }
  return out;
}

StatusOr<std::vector<Job>> ParseJobsCsv(std::string_view text) {
  std::vector<Job> jobs;
  RETURN_IF_ERROR(ForEachRow(
      text, JobFieldNames(), {"id", "user", "project", "department"},
      [&](const CsvRecord& r, const CsvHeader& h) -> Status {
        ASSIGN_OR_RETURN(Job j, JobFromFields([&](const char* name) { return Field(r, h.Find(name)); }));
        jobs.push_back(std::move(j));
        return OkStatus();
      }));
  return jobs;
}

StatusOr<std::vector<Gpu>> ParseGpusCsv(std::string_view text) {
  std::vector<Gpu> gpus;
  static const std::vector<std::string> kKnown = {
      "uuid",   "node", "index", "model", "memory_mib", "in_service_from", "in_service_to", "sample_interval",
      "max_gap"};
  RETURN_IF_ERROR(ForEachRow(text, kKnown, {"uuid", "node", "model", "in_service_from"},
                             [&](const CsvRecord& r, const CsvHeader& h) -> Status {
                               Gpu g;
                               auto f = [&](const char* name) { return Field(r, h.Find(name)); };
                               g.uuid = f("uuid");
                               RETURN_IF_ERROR(CheckId(IdKind::kGpuUuid, g.uuid));
                               g.node = f("node");
                               g.model = CanonicalGpuModel(f("model"));
                               ASSIGN_OR_RETURN(int64_t idx, OptInt(f("index"), "index", 0, 1023));
                               g.index = static_cast<int>(idx);
                               ASSIGN_OR_RETURN(g.memory_mib,
                                                OptInt(f("memory_mib"), "memory_mib", 0, 16 * 1024 * 1024));
                               ASSIGN_OR_RETURN(g.in_service_from, ParseTime(f("in_service_from")));
                               ASSIGN_OR_RETURN(g.in_service_to, OptTime(f("in_service_to")));
                               if (!f("sample_interval").empty()) {
                                 ASSIGN_OR_RETURN(g.sample_interval_ms, ParseDuration(f("sample_interval")));
                               }
                               if (!f("max_gap").empty()) {
                                 ASSIGN_OR_RETURN(g.max_gap_ms, ParseDuration(f("max_gap")));
                               }
                               RETURN_IF_ERROR(g.Validate());
                               gpus.push_back(std::move(g));
                               return OkStatus();
                             }));
  return gpus;
}

StatusOr<Allocation> AllocationFromFields(const FieldFn& f) {
  Allocation a;
  a.job_id = f("job_id");
  a.gpu_uuid = f("gpu_uuid");
  if (!a.job_id.empty()) RETURN_IF_ERROR(CheckId(IdKind::kJobId, a.job_id));
  if (!a.gpu_uuid.empty()) RETURN_IF_ERROR(CheckId(IdKind::kGpuUuid, a.gpu_uuid));
  ASSIGN_OR_RETURN(a.start_ms, ParseTime(f("start")));
  ASSIGN_OR_RETURN(a.end_ms, OptTime(f("end")));
  if (!f("share").empty()) {
    ASSIGN_OR_RETURN(a.share_ppm, ParseMicros(f("share"), "share"));
  }
  RETURN_IF_ERROR(a.Validate());
  return a;
}

StatusOr<std::vector<Allocation>> ParseAllocationsCsv(std::string_view text) {
  std::vector<Allocation> out;
  RETURN_IF_ERROR(ForEachRow(
      text, {"job_id", "gpu_uuid", "start", "end", "share"}, {"job_id", "gpu_uuid", "start"},
      [&](const CsvRecord& r, const CsvHeader& h) -> Status {
        ASSIGN_OR_RETURN(Allocation a,
                         AllocationFromFields([&](const char* name) { return Field(r, h.Find(name)); }));
        out.push_back(std::move(a));
        return OkStatus();
      }));
  return out;
}

StatusOr<std::vector<Price>> ParsePricesCsv(std::string_view text) {
  std::vector<Price> out;
  RETURN_IF_ERROR(ForEachRow(
      text, {"gpu_model", "effective_from", "price_per_gpu_hour", "price_per_kwh", "currency"},
      {"gpu_model", "effective_from", "price_per_gpu_hour", "currency"},
      [&](const CsvRecord& r, const CsvHeader& h) -> Status {
        Price p;
        auto f = [&](const char* name) { return Field(r, h.Find(name)); };
        p.gpu_model = CanonicalGpuModel(f("gpu_model"));
        ASSIGN_OR_RETURN(p.effective_from, ParseTime(f("effective_from")));
        ASSIGN_OR_RETURN(p.micros_per_gpu_hour, ParseMicros(f("price_per_gpu_hour"), "price_per_gpu_hour"));
        if (!f("price_per_kwh").empty()) {
          ASSIGN_OR_RETURN(p.micros_per_kwh, ParseMicros(f("price_per_kwh"), "price_per_kwh"));
        }
        ASSIGN_OR_RETURN(Currency c, LookupCurrency(f("currency")));
        p.currency = c.code;
        RETURN_IF_ERROR(p.Validate());
        out.push_back(std::move(p));
        return OkStatus();
      }));
  return out;
}

StatusOr<SamplesImport> ParseSamplesCsv(std::string_view text) {
  struct Partial {
    Sample s;
    bool has_util = false;
    int64_t line = 0;
  };
  std::map<std::pair<std::string, TimeMs>, Partial> merged;
  SamplesImport out;
  RETURN_IF_ERROR(ForEachRow(text, {"timestamp", "gpu", "metric", "value"},
                             {"timestamp", "gpu", "metric", "value"},
                             [&](const CsvRecord& r, const CsvHeader& h) -> Status {
                               ++out.rows;
                               auto f = [&](const char* name) { return Field(r, h.Find(name)); };
                               const std::optional<MetricField> field = MetricFieldOf(f("metric"));
                               if (!field) {
                                 ++out.skipped_metrics;
                                 return OkStatus();
                               }
                               ASSIGN_OR_RETURN(TimeMs t, ParseTime(f("timestamp")));
                               const std::string gpu(f("gpu"));
                               if (gpu.empty()) return InvalidArgument("gpu is empty");
                               RETURN_IF_ERROR(CheckId(IdKind::kGpuUuid, gpu));
                               ASSIGN_OR_RETURN(double v, ParseDouble(f("value"), std::string(f("metric"))));
                               Partial& p = merged[{gpu, t}];
                               if (p.line == 0) p.line = r.line;
                               p.s.t = t;
                               RETURN_IF_ERROR(SetMetric(p.s, *field, f("metric"), v));
                               p.has_util = p.has_util || *field == MetricField::kUtil;
                               return OkStatus();
                             }));
  for (auto& [key, p] : merged) {
    if (!p.has_util) {
      return InvalidArgument("line " + std::to_string(p.line) + ": sample of GPU " + key.first + " at " +
                             FormatTime(key.second) + " has no utilisation (util or DCGM_FI_DEV_GPU_UTIL)");
    }
    out.samples.push_back({key.first, p.s});
  }
  return out;
}

}  // namespace gpuledger
