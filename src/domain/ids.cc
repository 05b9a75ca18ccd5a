#include "domain/ids.h"

#include <cstdint>

namespace gpuledger {

namespace {

// Length of the valid UTF-8 sequence at s[i] (shortest form, no surrogates, at most
// U+10FFFF), or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<uint8_t>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto d = static_cast<uint8_t>(s[i + k]);
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  if (cp >= 0x80 && cp <= 0x9f) return 0;      // C1 controls (CSI is one)
  if (cp == 0x2028 || cp == 0x2029) return 0;  // line and paragraph separators
  return n;
}

std::string Hex(uint8_t c) {
  static const char* kDigits = "0123456789abcdef";
  return std::string("\\x") + kDigits[c >> 4] + kDigits[c & 15];
}

}  // namespace

const IdRules& RulesOf(IdKind kind) {
  static const IdRules kJob{"job id", 1, 128, false, false, false};
  static const IdRules kProject{"project", 1, 128, false, true, false};
  static const IdRules kDepartment{"department", 1, 128, false, true, false};
  static const IdRules kUser{"user", 1, 128, false, true, false};
  static const IdRules kGpu{"GPU UUID", 1, 255, true, false, false};
  static const IdRules kLabelKey{"label key", 1, 128, true, false, false};
  static const IdRules kLabelValue{"label value", 0, 1024, false, true, true};
  switch (kind) {
    case IdKind::kJobId:
      return kJob;
    case IdKind::kProject:
      return kProject;
    case IdKind::kDepartment:
      return kDepartment;
    case IdKind::kUser:
      return kUser;
    case IdKind::kGpuUuid:
      return kGpu;
    case IdKind::kLabelKey:
      return kLabelKey;
    case IdKind::kLabelValue:
      return kLabelValue;
  }
  return kJob;
}

std::string EscapeForMessage(std::string_view value, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < value.size() && i < max_bytes; ++i) {
    const auto c = static_cast<uint8_t>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += Hex(c);
    }
  }
  if (value.size() > max_bytes) out += "...";
  return out;
}

Status CheckId(IdKind kind, std::string_view value) {
  const IdRules& r = RulesOf(kind);
  auto refuse = [&](const std::string& rule) {
    return InvalidArgument(std::string(r.what) + " \"" + EscapeForMessage(value) + "\" (" +
                           std::to_string(value.size()) + " bytes) " + rule);
  };
  if (value.size() < r.min_bytes) return InvalidArgument(std::string(r.what) + " is empty");
  if (value.size() > r.max_bytes) {
    return refuse("exceeds the limit " + std::to_string(r.max_bytes) + " bytes");
  }
  for (size_t i = 0; i < value.size();) {
    const auto c = static_cast<uint8_t>(value[i]);
    const std::string at = " at byte " + std::to_string(i);
    if (c < 0x20 || c == 0x7f) {
      return refuse("has control character " + Hex(c) + at +
                    " (no NUL, newline, tab, escape or other control characters)");
    }
    if (c >= 0x80) {
      if (r.ascii_only) return refuse("has non-ASCII byte " + Hex(c) + at + " (printable ASCII only)");
      const size_t n = Utf8Length(value, i);
      if (n == 0)
        return refuse("has byte " + Hex(c) + at + " that starts no valid UTF-8 printable character");
      i += n;
      continue;
    }
    if (!r.slash && (c == '/' || c == '\\')) {
      return refuse(std::string("has '") + static_cast<char>(c) + "'" + at + " (no path separators)");
    }
    if (c == ' ' && !r.spaces) return refuse("has a space" + at + " (no spaces)");
    ++i;
  }
  if (r.min_bytes > 0) {
    if (value.front() == ' ' || value.back() == ' ') return refuse("starts or ends with a space");
    if (value == "." || value == "..") return refuse("is a path component ('.' or '..')");
  }
  return OkStatus();
}

}  // namespace gpuledger
