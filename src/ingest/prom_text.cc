#include "ingest/prom_text.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "common/strings.h"

namespace gpuledger {

namespace {

bool NameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

class LineParser {
 public:
  LineParser(std::string_view s, int64_t line) : s_(s), line_(line) {}

  Status Parse(PromSample* out) {
    out->line = line_;
    size_t start = pos_;
    if (pos_ >= s_.size() || !NameStart(s_[pos_])) return Bad("metric name expected");
    while (pos_ < s_.size() && NameChar(s_[pos_])) ++pos_;
    out->name = std::string(s_.substr(start, pos_ - start));
    SkipSpaces();
    if (pos_ < s_.size() && s_[pos_] == '{') {
      ++pos_;
      RETURN_IF_ERROR(Labels(out));
    }
    SkipSpaces();
    std::string_view rest = Trim(s_.substr(pos_));
    const size_t sp = rest.find_first_of(" \t");
    std::string_view value = rest.substr(0, sp);
    ASSIGN_OR_RETURN(out->value, Value(value));
    if (sp != std::string_view::npos) {
      std::string_view ts = Trim(rest.substr(sp));
      int64_t v = 0;
      auto r = std::from_chars(ts.data(), ts.data() + ts.size(), v);
      if (r.ec != std::errc() || r.ptr != ts.data() + ts.size()) {
        return Bad("timestamp '" + std::string(ts) + "' is not an integer of milliseconds");
      }
      out->timestamp_ms = v;
    }
    return OkStatus();
  }

 private:
  Status Bad(const std::string& why) const {
    return InvalidArgument("line " + std::to_string(line_) + ": " + why);
  }
  void SkipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  Status Labels(PromSample* out) {
    for (;;) {
      SkipSpaces();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return OkStatus();
      }
      if (out->labels.size() >= kMaxPromLabels) {
        return Bad("more than " + std::to_string(kMaxPromLabels) + " labels on " + out->name);
      }
      const size_t start = pos_;
      if (pos_ >= s_.size() || !NameStart(s_[pos_]) || s_[pos_] == ':') return Bad("label name expected");
      while (pos_ < s_.size() && NameChar(s_[pos_]) && s_[pos_] != ':') ++pos_;
      std::string key(s_.substr(start, pos_ - start));
      SkipSpaces();
      if (pos_ >= s_.size() || s_[pos_] != '=') return Bad("'=' expected after label " + key);
      ++pos_;
      SkipSpaces();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Bad("'\"' expected for the value of label " + key);
      ++pos_;
      std::string value;
      for (;;) {
        if (pos_ >= s_.size()) return Bad("unterminated value of label " + key);
        const char c = s_[pos_++];
        if (c == '"') break;
        if (c == '\\') {
          if (pos_ >= s_.size()) return Bad("unterminated escape in label " + key);
          const char e = s_[pos_++];
          if (e == 'n')
            value += '\n';
          else if (e == '\\' || e == '"')
            value += e;
          else
            return Bad(std::string("unknown escape \\") + e + " in label " + key);
        } else {
          value += c;
        }
      }
      for (const auto& [k, v] : out->labels) {
        if (k == key) return Bad("label " + key + " appears twice on " + out->name);
      }
      out->labels.emplace_back(std::move(key), std::move(value));
      SkipSpaces();
      if (pos_ < s_.size() && s_[pos_] == ',')
        ++pos_;
      else if (pos_ >= s_.size() || s_[pos_] != '}')
        return Bad("',' or '}' expected in the labels of " + out->name);
    }
  }
  StatusOr<double> Value(std::string_view v) const {
    if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (v == "+Inf" || v == "Inf") return std::numeric_limits<double>::infinity();
    if (v == "-Inf") return -std::numeric_limits<double>::infinity();
    double d = 0;
    std::string_view t = !v.empty() && v[0] == '+' ? v.substr(1) : v;
    auto r = std::from_chars(t.data(), t.data() + t.size(), d);
    if (v.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || std::isnan(d) || std::isinf(d)) {
      return Bad("value '" + std::string(v) + "' is not a number");
    }
    return d;
  }

  std::string_view s_;
  int64_t line_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view PromSample::Label(std::string_view key) const {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return {};
}

StatusOr<std::vector<PromSample>> ParsePromText(std::string_view text) {
  std::vector<PromSample> out;
  int64_t line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    pos = end + 1;
    if (l.size() > kMaxPromLineBytes) {
      return InvalidArgument("line " + std::to_string(line) + ": " + std::to_string(l.size()) +
                             " bytes exceeds the limit " + std::to_string(kMaxPromLineBytes) + " bytes");
    }
    l = Trim(l);
    if (l.empty() || l[0] == '#') continue;
    PromSample s;
    RETURN_IF_ERROR(LineParser(l, line).Parse(&s));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace gpuledger
