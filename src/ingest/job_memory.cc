#include "ingest/job_memory.h"

#include <nlohmann/json.hpp>

#include "domain/ids.h"

namespace gpuledger {

namespace {

StatusOr<std::string> Text(const nlohmann::json& row, const char* key, const std::string& at) {
  auto it = row.find(key);
  if (it == row.end()) return InvalidArgument(at + " has no '" + key + "'");
  if (!it->is_string()) return InvalidArgument(at + "." + key + " must be a string, got " + it->type_name());
  return it->get<std::string>();
}

}  // namespace

StatusOr<std::vector<JobMemoryReport>> ParseJobMemoryJson(std::string_view text) {
  if (text.size() > (4u << 20)) {
    return InvalidArgument("memory body of " + std::to_string(text.size()) +
                           " bytes exceeds the limit 4194304 bytes");
  }
  const nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return InvalidArgument(R"(body is not a JSON object (send {"jobs": [...]}))");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "jobs") return InvalidArgument("unknown field '" + it.key() + R"(' (send {"jobs": [...]}))");
  }
  auto list = body.find("jobs");
  if (list == body.end() || !list->is_array()) return InvalidArgument("'jobs' must be an array");
  if (list->size() > kMaxJobMemoryRows) {
    return InvalidArgument(std::to_string(list->size()) + " rows exceed the limit " +
                           std::to_string(kMaxJobMemoryRows));
  }
  std::vector<JobMemoryReport> out;
  out.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& row = (*list)[i];
    const std::string at = "jobs[" + std::to_string(i) + "]";
    if (!row.is_object()) return InvalidArgument(at + " is not an object");
    for (auto it = row.begin(); it != row.end(); ++it) {
      const std::string& k = it.key();
      if (k != "hpc_job" && k != "gpu" && k != "peak_mib" && k != "first" && k != "last")
        return InvalidArgument(at + ": unknown field '" + k + "' (hpc_job, gpu, peak_mib, first, last)");
    }
    JobMemoryReport r;
    ASSIGN_OR_RETURN(r.job_label, Text(row, "hpc_job", at));
    RETURN_IF_ERROR(CheckId(IdKind::kLabelValue, r.job_label).WithContext(at + ".hpc_job"));
    ASSIGN_OR_RETURN(r.gpu_uuid, Text(row, "gpu", at));
    RETURN_IF_ERROR(CheckId(IdKind::kGpuUuid, r.gpu_uuid).WithContext(at + ".gpu"));
    auto peak = row.find("peak_mib");
    if (peak == row.end()) return InvalidArgument(at + " has no 'peak_mib'");
    if (!peak->is_number_integer() || peak->get<double>() < 0 ||
        peak->get<double>() > static_cast<double>(kMaxJobMemoryMib)) {
      return InvalidArgument(at + ".peak_mib must be an integer in [0, " + std::to_string(kMaxJobMemoryMib) +
                             "], got " + peak->dump());
    }
    r.peak_mib = peak->get<int64_t>();
    for (const char* key : {"first", "last"}) {
      ASSIGN_OR_RETURN(std::string t, Text(row, key, at));
      auto ms = ParseTime(t);
      if (!ms.ok()) return InvalidArgument(at + "." + key + ": " + ms.status().message());
      RETURN_IF_ERROR(CheckTimeInRange(*ms, at + "." + key));
      (std::string_view(key) == "first" ? r.first_ms : r.last_ms) = *ms;
    }
    if (r.last_ms < r.first_ms)
      return InvalidArgument(at + ": last " + FormatTime(r.last_ms) + " is before first " + FormatTime(r.first_ms));
    out.push_back(std::move(r));
  }
  return out;
}

std::string JobMemoryJson(const std::vector<JobMemoryReport>& rows) {
  nlohmann::json list = nlohmann::json::array();
  for (const JobMemoryReport& r : rows) {
    list.push_back({{"hpc_job", r.job_label},
                    {"gpu", r.gpu_uuid},
                    {"peak_mib", r.peak_mib},
                    {"first", FormatTime(r.first_ms)},
                    {"last", FormatTime(r.last_ms)}});
  }
  return nlohmann::json{{"jobs", list}}.dump();
}

}  // namespace gpuledger
