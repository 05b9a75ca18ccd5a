#include "common/strings.h"

#include <charconv>
#include <cmath>

namespace gpuledger {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

StatusOr<double> ParseDouble(std::string_view s, std::string_view what) {
  std::string_view t = Trim(s);
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  double v = 0;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size()) {
    return InvalidArgument(std::string(what) + " '" + std::string(s) + "' is not a number");
  }
  if (!std::isfinite(v)) {
    return InvalidArgument(std::string(what) + " '" + std::string(s) + "' is not finite");
  }
  return v;
}

StatusOr<int64_t> ParseInt(std::string_view s, std::string_view what) {
  std::string_view t = Trim(s);
  int64_t v = 0;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size()) {
    return InvalidArgument(std::string(what) + " '" + std::string(s) + "' is not an integer");
  }
  return v;
}

std::string FormatFixed(double v, int decimals) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (r.ec != std::errc()) {
    // Too long in fixed notation (1e308 has 309 digits): the shortest exact form.
    r = std::to_chars(buf, buf + sizeof buf, v);
    if (r.ec != std::errc()) return "?";
  }
  std::string out(buf, r.ptr);
  if (out.size() > 1 && out[0] == '-' && out.find_first_not_of("-0.") == std::string::npos) {
    out.erase(0, 1);  // "-0.00" reads as a sign error in a bill
  }
  return out;
}

std::string FormatGrouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n > 0 && n % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  if (v < 0) out.insert(out.begin(), '-');
  return out;
}

}  // namespace gpuledger
