#include "server/gpu_registration.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/gpu_model.h"

namespace gpuledger {

StatusOr<std::vector<GpuRegistration>> ParseGpuRegistrationJson(std::string_view body, TimeMs now) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("gpus") || !j["gpus"].is_array() || j.size() != 1) {
    return InvalidArgument("send {\"gpus\": [{\"uuid\": ..., \"model\": ..., ...}]}");
  }
  const nlohmann::json& list = j["gpus"];
  if (list.size() > kMaxGpusPerRegistration) {
    return InvalidArgument("registration names " + std::to_string(list.size()) + " GPUs, over the limit of " +
                           std::to_string(kMaxGpusPerRegistration));
  }
  std::vector<GpuRegistration> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "gpus[" + std::to_string(i) + "]";
    const nlohmann::json& g = list[i];
    if (!g.is_object()) return InvalidArgument(at + " is not an object");
    Gpu gpu;
    bool has_index = false;
    gpu.in_service_from = now;
    for (const auto& [key, value] : g.items()) {
      const std::string field = at + "." + key;
      if (key == "uuid" || key == "model" || key == "node" || key == "in_service_from") {
        if (!value.is_string()) return InvalidArgument(field + " must be a string");
        const std::string v = value.get<std::string>();
        if (v.size() > 256)
          return InvalidArgument(field + " is " + std::to_string(v.size()) + " bytes, over 256");
        if (key == "uuid") gpu.uuid = v;
        if (key == "model") gpu.model = CanonicalGpuModel(v);
        if (key == "node") gpu.node = v;
        if (key == "in_service_from") {
          auto t = ParseTime(v);
          if (!t.ok()) return InvalidArgument(field + ": " + t.status().message());
          gpu.in_service_from = *t;
        }
      } else if (key == "index" || key == "memory_mib" || key == "sample_interval_ms") {
        if (!value.is_number_integer()) return InvalidArgument(field + " must be an integer");
        const int64_t v = value.get<int64_t>();
        if (key == "index") {
          if (v < 0 || v > 1023)
            return InvalidArgument(field + " " + std::to_string(v) + " is outside [0, 1023]");
          gpu.index = static_cast<int>(v);
          has_index = true;
        }
        if (key == "memory_mib") {
          if (v < 0 || v > (1 << 24)) {
            return InvalidArgument(field + " " + std::to_string(v) + " is outside [0, 16777216]");
          }
          gpu.memory_mib = v;
        }
        if (key == "sample_interval_ms") {
          if (v < 0 || v > kHourMs) {
            return InvalidArgument(field + " " + std::to_string(v) + " is outside [0, " +
                                   std::to_string(kHourMs) + "]");
          }
          gpu.sample_interval_ms = v;
        }
      } else {
        return InvalidArgument("unknown field '" + field +
                               "': a GPU registration takes uuid, model, node, index, memory_mib, "
                               "sample_interval_ms, in_service_from");
      }
    }
    if (gpu.uuid.empty()) return InvalidArgument(at + ".uuid is missing");
    if (gpu.model.empty()) return InvalidArgument(at + ".model is missing");
    RETURN_IF_ERROR(gpu.Validate());
    out.push_back({std::move(gpu), has_index});
  }
  return out;
}

Gpu MergeGpuRegistration(const std::optional<Gpu>& stored, const GpuRegistration& reg) {
  const Gpu& incoming = reg.gpu;
  if (!stored) return incoming;
  Gpu g = *stored;
  if (!incoming.node.empty()) g.node = incoming.node;
  if (reg.has_index) g.index = incoming.index;
  g.model = incoming.model;
  if (incoming.memory_mib > 0) g.memory_mib = incoming.memory_mib;
  if (incoming.sample_interval_ms > 0) g.sample_interval_ms = incoming.sample_interval_ms;
  g.in_service_from = std::min(g.in_service_from, incoming.in_service_from);
  return g;
}

}  // namespace gpuledger
