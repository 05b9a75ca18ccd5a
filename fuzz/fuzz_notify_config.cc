// Fuzz target: the notify config (--notify FILE: JSON an operator writes, with secrets).
// What parses must be consistent: every channel an audience names exists, and every
// channel has what its type needs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "notify/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto c = gpuledger::ParseNotifyConfig(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!c.ok()) return 0;
  for (const gpuledger::AudienceRoute* r : {&c->job_owner, &c->project_channel, &c->dept_admin, &c->finance}) {
    for (const auto& n : r->defaults) {
      if (c->Find(n) == nullptr) __builtin_trap();
    }
    for (const auto& [k, names] : r->by_key) {
      for (const auto& n : names) {
        if (c->Find(n) == nullptr) __builtin_trap();
      }
    }
  }
  for (const auto& ch : c->channels) {
    const bool mail = ch.type == gpuledger::ChannelType::kSmtp;
    if (mail && (ch.host.empty() || ch.from.empty() || ch.to.empty())) __builtin_trap();
    if (!mail && ch.url.empty()) __builtin_trap();
  }
  return 0;
}
