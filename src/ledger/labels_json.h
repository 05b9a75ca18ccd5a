// Job labels <-> the JSON object text both ledger backends store them as. Pure;
// thread-safe. Malformed text reads as no labels (the column is only ever written here).
#pragma once

#include <map>
#include <string>

namespace gpuledger {

std::string LabelsToJson(const std::map<std::string, std::string>& labels);
std::map<std::string, std::string> LabelsFromJson(const std::string& text);

}  // namespace gpuledger
