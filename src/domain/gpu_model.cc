#include "domain/gpu_model.h"

#include <cctype>
#include <utility>

namespace gpuledger {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Drops `word` and the space after it from the front of `s` (any case), when something
// would be left.
void DropLeadingWord(std::string& s, std::string_view word) {
  if (s.size() > word.size() + 1 && s[word.size()] == ' ' &&
      Upper(std::string_view(s).substr(0, word.size())) == word) {
    s.erase(0, word.size() + 1);
  }
}

GpuModelNames& ProcessNames() {
  static GpuModelNames names;
  return names;
}

}  // namespace

std::string BuiltInGpuModelName(std::string_view raw) {
  std::string s;
  s.reserve(raw.size());
  bool space = false;
  for (char c : raw) {
    if (IsSpace(c)) {
      space = !s.empty();
      continue;
    }
    if (space) s.push_back(' ');
    space = false;
    s.push_back(c);
  }
  DropLeadingWord(s, "NVIDIA");
  DropLeadingWord(s, "TESLA");
  return s;
}

StatusOr<GpuModelNames> GpuModelNames::Parse(std::string_view spec) {
  GpuModelNames names;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t end = spec.find_first_of(";,\n", pos);
    if (end == std::string_view::npos) end = spec.size();
    const std::string_view pair = spec.substr(pos, end - pos);
    pos = end + 1;
    if (BuiltInGpuModelName(pair).empty()) continue;  // blank entries are allowed
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("GPU model alias '" + std::string(pair) +
                             "' has no '=' (expected alias=canonical)");
    }
    const std::string alias = BuiltInGpuModelName(pair.substr(0, eq));
    const std::string canonical = BuiltInGpuModelName(pair.substr(eq + 1));
    if (alias.empty() || canonical.empty()) {
      return InvalidArgument("GPU model alias '" + std::string(pair) +
                             "' has an empty side (expected alias=canonical)");
    }
    names.aliases_[Upper(alias)] = canonical;
  }
  return names;
}

std::string GpuModelNames::Canonical(std::string_view raw) const {
  std::string s = BuiltInGpuModelName(raw);
  if (aliases_.empty()) return s;
  auto it = aliases_.find(Upper(s));
  return it == aliases_.end() ? s : it->second;
}

const GpuModelNames& ProcessGpuModelNames() { return ProcessNames(); }

void SetProcessGpuModelNames(GpuModelNames names) { ProcessNames() = std::move(names); }

std::string CanonicalGpuModel(std::string_view raw) { return ProcessNames().Canonical(raw); }

}  // namespace gpuledger
