// Fuzz target: the policy file of the rules that act (--policy-file, and the bodies of
// PUT /api/v1/policy/rules). What parses must read back: the whole configuration's JSON
// parses again to the same organisation rules, and each project's effective rules too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/policy_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto rules = gpuledger::ParsePolicyRulesJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!rules.ok()) return 0;
  auto again = gpuledger::ParsePolicyRulesJson(rules->ToJson());
  if (!again.ok()) __builtin_trap();
  if (gpuledger::RulesConfigJson(again->org()) != gpuledger::RulesConfigJson(rules->org())) __builtin_trap();
  for (const auto& [project, override_json] : rules->overrides()) {
    if (gpuledger::RulesConfigJson(again->For(project)) != gpuledger::RulesConfigJson(rules->For(project)))
      __builtin_trap();
  }
  return 0;
}
