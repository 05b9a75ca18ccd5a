#include "agent/progress_follower.h"

#include <nlohmann/json.hpp>

#include "ingest/results_csv.h"

namespace gpuledger {

std::optional<std::string> ResultsCsvPath(const Workload& w) {
  auto it = w.fields.find("run_dir");
  if (it != w.fields.end() && !it->second.empty()) return it->second + "/results.csv";
  std::string project, name;
  for (const std::string& a : w.cmdline) {
    if (a.rfind("project=", 0) == 0) project = a.substr(8);
    if (a.rfind("name=", 0) == 0) name = a.substr(5);
  }
  if (project.empty() || name.empty()) return std::nullopt;
  std::string dir = project + "/" + name;
  if (dir[0] != '/') {
    if (w.cwd.empty()) return std::nullopt;
    dir = w.cwd + "/" + dir;
  }
  return dir + "/results.csv";
}

StatusOr<std::vector<EpochProgress>> ProgressFollower::Poll(const std::string& job_id,
                                                            const std::string& results_csv) {
  auto text = fs_.ReadAll(results_csv);
  if (!text.ok()) return std::vector<EpochProgress>{};  // not written yet
  const size_t end = text->rfind('\n');
  if (end == std::string::npos) return std::vector<EpochProgress>{};  // not even a header line
  text->resize(end + 1);
  auto epochs = ParseResultsCsv(*text);
  if (!epochs.ok()) return epochs.status().WithContext(results_csv);
  int& last = last_epoch_[job_id];
  std::vector<EpochProgress> fresh;
  for (const EpochProgress& e : *epochs) {
    if (e.epoch > last) fresh.push_back(e);
  }
  if (!fresh.empty()) last = fresh.back().epoch;
  return fresh;
}

std::string ProgressJson(const std::vector<EpochProgress>& epochs) {
  nlohmann::json list = nlohmann::json::array();
  for (const EpochProgress& e : epochs) {
    nlohmann::json j = {{"epoch", e.epoch}};
    auto put = [&](const char* k, const std::optional<double>& v) {
      if (v) j[k] = *v;
    };
    put("time_s", e.time_s);
    put("train_loss", e.train_loss);
    put("val_loss", e.val_loss);
    put("precision", e.precision);
    put("recall", e.recall);
    put("map50", e.map50);
    put("map50_95", e.map50_95);
    list.push_back(std::move(j));
  }
  return nlohmann::json{{"epochs", std::move(list)}}.dump();
}

}  // namespace gpuledger
