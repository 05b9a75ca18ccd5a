// The acting rules' configuration (rules.h, docs/POLICIES.md "Configuration"): the
// organisation's defaults and per-project overrides, from the policy file
// (`gpuledger server --policy-file F`) and the API (PUT /api/v1/policy/rules...). A
// project's override names only what it changes; the rest follows the organisation's
// (also after the organisation's change). Pure; thread-compatible (a loaded config is
// read-only and may be shared; the server swaps it under its lock).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "policy/rules.h"

namespace gpuledger {

class PolicyRules {
 public:
  PolicyRules() = default;  // the built-in defaults (rules.h), no project overrides

  const RulesConfig& org() const { return org_; }
  // The project's effective rules: the organisation's with its override applied.
  const RulesConfig& For(const std::string& project) const;
  // The stored overrides, as JSON objects ("{}" when a project has none).
  const std::map<std::string, std::string>& overrides() const { return overrides_; }

  // Replaces the organisation's rules by `section` (an object of rule sections: absent
  // keys keep the built-in defaults). Checks every project's override again: an
  // override the new defaults make invalid refuses the change, naming the project.
  Status SetOrg(std::string_view section_json);
  // Sets (replaces) one project's override; "{}" or "null" removes it.
  Status SetProject(const std::string& project, std::string_view section_json);

  // The whole configuration: {"rules": {...org...}, "projects": {"p": {"rules": {...}}}}.
  std::string ToJson() const;

 private:
  Status Rebuild(const RulesConfig& org, const std::map<std::string, std::string>& overrides);
  RulesConfig org_;
  std::map<std::string, std::string> overrides_;
  std::map<std::string, RulesConfig> effective_;
};

// Applies a rules section ({"breaker": {...}, "idle": {...}, "duration": {...}}, each
// key optional) over `into`. Unknown keys, wrong types and values out of range are
// InvalidArgument naming the key (`where` prefixes it), the limit and the value.
Status ApplyRulesJson(std::string_view text, const std::string& where, RulesConfig* into);
// Every field of a RulesConfig, as ApplyRulesJson reads it back.
std::string RulesConfigJson(const RulesConfig& c);

// The policy file: {"rules": {...}, "projects": {"vision": {"rules": {...}}}}.
StatusOr<PolicyRules> ParsePolicyRulesJson(std::string_view text);
StatusOr<PolicyRules> LoadPolicyRulesFile(const std::string& path);

}  // namespace gpuledger
