// Fuzz target: the policy file of the rules that act (--policy-file, and the bodies of
// PUT /api/v1/policy/rules). What parses must read back: the organisation's rules and
// each project's effective rules, written as RulesConfigJson writes them, read back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/policy_config.h"

namespace {

// RulesConfigJson writes every field as ApplyRulesJson reads it back: the round trip
// must give the same rules.
void RoundTrips(const gpuledger::RulesConfig& c) {
  const std::string text = gpuledger::RulesConfigJson(c);
  gpuledger::RulesConfig back;
  if (!gpuledger::ApplyRulesJson(text, "rules", &back).ok()) __builtin_trap();
  if (gpuledger::RulesConfigJson(back) != text) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto rules = gpuledger::ParsePolicyRulesJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!rules.ok()) return 0;
  RoundTrips(rules->org());
  for (const auto& [project, override_json] : rules->overrides()) RoundTrips(rules->For(project));
  (void)rules->ToJson();
  return 0;
}
