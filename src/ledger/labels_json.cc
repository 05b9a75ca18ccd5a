#include "ledger/labels_json.h"

#include <nlohmann/json.hpp>

namespace gpuledger {

std::string LabelsToJson(const std::map<std::string, std::string>& labels) {
  // replace: invalid UTF-8 in a label must not throw out of the ledger.
  return nlohmann::json(labels).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::map<std::string, std::string> LabelsFromJson(const std::string& text) {
  std::map<std::string, std::string> out;
  if (text == "{}") return out;  // most jobs: skip the parser
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

}  // namespace gpuledger
