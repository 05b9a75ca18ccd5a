// Fuzz target: job spec files (gpuledger submit --spec, JSON or YAML, submit/job_spec.h).
// What parses is a JSON object of the jobs API's keys whose text stays within the limits,
// and re-reads as the same body when written back as JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "submit/job_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto format : {gpuledger::SpecFormat::kAuto, gpuledger::SpecFormat::kYaml}) {
    auto body = gpuledger::ParseJobSpec(text, format, "spec");
    if (!body.ok()) continue;
    if (!body->is_object() || body->size() > gpuledger::kMaxJobSpecKeys) __builtin_trap();
    for (const auto& [key, value] : body->items()) {
      if (value.is_object() || value.is_array() || value.is_null()) __builtin_trap();
      (void)key;
    }
    auto back = gpuledger::ParseJobSpec(body->dump(), gpuledger::SpecFormat::kJson, "spec");
    if (!back.ok() || *back != *body) __builtin_trap();
  }
  return 0;
}
