// The identifiers gpuledger accepts at every boundary (the jobs API, remote write and
// scrape, CSV imports): job ids, project / department / user names, GPU UUIDs, label
// keys and values. Each kind has a documented character set and byte length
// (docs/formats/identifiers.md); a refusal names the kind, the rule it broke, the limit
// and the value seen (escaped, so a terminal or a log shows it harmlessly). Pure;
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

enum class IdKind { kJobId, kProject, kDepartment, kUser, kGpuUuid, kLabelKey, kLabelValue };

struct IdRules {
  const char* what;  // "job id"
  size_t min_bytes;  // 0: may be empty
  size_t max_bytes;
  bool ascii_only;  // printable ASCII (0x21..0x7e, plus space where allowed)
  bool spaces;      // inner spaces allowed (never leading, trailing or only spaces)
  bool slash;       // '/' and '\' allowed
};
const IdRules& RulesOf(IdKind kind);

// OK when `value` follows the rules of `kind`.
Status CheckId(IdKind kind, std::string_view value);

// `value` as a C-like string literal body: printable ASCII kept, '"' and '\' escaped,
// everything else \xNN; at most `max_bytes` of the input shown, then "...".
std::string EscapeForMessage(std::string_view value, size_t max_bytes = 64);

}  // namespace gpuledger
