// Job spec text (JSON or YAML) -> the jobs API's JSON body. See job_spec.h.
#include "submit/job_spec.h"

#include <yaml.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "ingest/importers.h"

namespace gpuledger {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The keys a spec may hold: the jobs API's, and gpu_model (--gpu-model: one GPU of it).
bool KnownKey(const std::string& key) {
  if (key == "gpu_model") return true;
  const auto& names = JobFieldNames();
  return std::find(names.begin(), names.end(), key) != names.end();
}

bool IntegerKey(std::string_view key) {
  return key == "dataset_images" || key == "epochs" || key == "batch" || key == "imgsz";
}

std::string Quote(std::string_view v) {
  constexpr size_t kShown = 64;
  std::string s(v.substr(0, kShown));
  return "'" + s + (v.size() > kShown ? "...' (" + std::to_string(v.size()) + " bytes)" : "'");
}

// Joins a labels object as the jobs API takes them ("k=v;k=v"); `where(key)` places an
// error ("at line 7" in YAML, "" in JSON).
template <typename Where>
Status JoinLabels(const std::map<std::string, std::string>& labels, std::string_view name, Where where,
                  std::string* out) {
  for (const auto& [k, v] : labels) {
    for (const std::string* part : {&k, &v}) {
      if (part->size() > kMaxJobSpecValueBytes)
        return InvalidArgument(std::string(name) + ": label " +
                               (part == &k ? "key " + Quote(k) : "'" + k.substr(0, 64) + "' value") +
                               where(k) + " of " + std::to_string(part->size()) +
                               " bytes exceeds the limit " + std::to_string(kMaxJobSpecValueBytes));
    }
    if (k.find_first_of("=;") != std::string::npos)
      return InvalidArgument(std::string(name) + ": label key " + Quote(k) + where(k) +
                             " may not contain '=' or ';'");
    if (v.find(';') != std::string::npos)
      return InvalidArgument(std::string(name) + ": label '" + k + "'" + where(k) + " value " + Quote(v) +
                             " may not contain ';'");
    *out += (out->empty() ? "" : ";") + k + "=" + v;
  }
  return OkStatus();
}

StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view name) {
  // nlohmann reports the byte position only through its exception; caught here (the adapter).
  nlohmann::json body;
  // JSON keeps the last of two equal keys; a spec that says a thing twice is refused.
  std::vector<std::set<std::string>> keys;  // of each open object
  std::string duplicate;
  auto cb = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::object_start) keys.emplace_back();
    if (event == nlohmann::json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == nlohmann::json::parse_event_t::key && !keys.empty() && parsed.is_string() &&
        !keys.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  try {
    body = nlohmann::json::parse(text, cb);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string(name) + " is not valid JSON: " + e.what());
  }
  if (!duplicate.empty())
    return InvalidArgument(std::string(name) + ": key " + Quote(duplicate) + " is given twice");
  if (!body.is_object())
    return InvalidArgument(std::string(name) + " is not a JSON object (got " + body.type_name() + ")");
  if (body.size() > kMaxJobSpecKeys)
    return InvalidArgument(std::string(name) + " has " + std::to_string(body.size()) +
                           " keys; the limit is " + std::to_string(kMaxJobSpecKeys));
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() == "allocations")
      return InvalidArgument(std::string(name) + ": a submission has no allocations yet (key 'allocations')");
    if (!KnownKey(it.key())) return InvalidArgument(std::string(name) + ": unknown key '" + it.key() + "'");
    const bool labels_object = it.key() == "labels" && it->is_object();
    if (!labels_object && (it->is_object() || it->is_array() || it->is_null()))
      return InvalidArgument(std::string(name) + ": key '" + it.key() + "' takes one value, got " +
                             it->type_name() + (it.key() == "labels" ? "" : "; only 'labels' is a mapping"));
    if (it->is_string() && it->get_ref<const std::string&>().size() > kMaxJobSpecValueBytes)
      return InvalidArgument(std::string(name) + ": key '" + it.key() + "' value of " +
                             std::to_string(it->get_ref<const std::string&>().size()) +
                             " bytes exceeds the limit " + std::to_string(kMaxJobSpecValueBytes));
  }
  if (body.contains("labels") && body["labels"].is_object()) {
    const nlohmann::json& l = body["labels"];
    if (l.size() > kMaxJobSpecLabels)
      return InvalidArgument(std::string(name) + ": " + std::to_string(l.size()) +
                             " labels exceed the limit " + std::to_string(kMaxJobSpecLabels));
    std::map<std::string, std::string> labels;
    for (auto it = l.begin(); it != l.end(); ++it) {
      if (!it->is_string())
        return InvalidArgument(std::string(name) + ": label '" + it.key() + "' must be a string, got " +
                               it->type_name());
      labels[it.key()] = it->get<std::string>();
    }
    std::string joined;
    RETURN_IF_ERROR(JoinLabels(
        labels, name, [](const std::string&) { return std::string(); }, &joined));
    body["labels"] = joined;
  }
  return body;
}

// RAII owners of libyaml's parser and events.
class YamlParser {
 public:
  YamlParser(std::string_view text) {
    ok_ = yaml_parser_initialize(&p_) != 0;
    // libyaml asserts on a null input, which an empty string_view may carry.
    static const char kEmpty[] = "";
    if (ok_)
      yaml_parser_set_input_string(
          &p_, reinterpret_cast<const unsigned char*>(text.empty() ? kEmpty : text.data()), text.size());
  }
  ~YamlParser() {
    if (ok_) yaml_parser_delete(&p_);
  }
  YamlParser(const YamlParser&) = delete;
  YamlParser& operator=(const YamlParser&) = delete;
  bool ok() const { return ok_; }
  yaml_parser_t* get() { return &p_; }

 private:
  yaml_parser_t p_{};
  bool ok_ = false;
};

class YamlEvent {
 public:
  YamlEvent() = default;
  ~YamlEvent() { Reset(); }
  YamlEvent(const YamlEvent&) = delete;
  YamlEvent& operator=(const YamlEvent&) = delete;
  void Reset() {
    if (held_) yaml_event_delete(&e_);
    held_ = false;
  }
  yaml_event_t* get() { return &e_; }
  void Hold() { held_ = true; }
  const yaml_event_t& operator*() const { return e_; }

 private:
  yaml_event_t e_{};
  bool held_ = false;
};

class YamlReader {
 public:
  YamlReader(std::string_view text, std::string_view name) : parser_(text), name_(name) {}

  StatusOr<nlohmann::json> Read() {
    if (!parser_.ok()) return Internal("libyaml could not start a parser");
    RETURN_IF_ERROR(Next());  // stream start
    RETURN_IF_ERROR(Next());
    if (Type() == YAML_STREAM_END_EVENT) return InvalidArgument(name_ + " is empty");
    RETURN_IF_ERROR(Next());  // after document start: the root node
    if (Type() != YAML_MAPPING_START_EVENT)
      return InvalidArgument(name_ + ": the document at line " + std::to_string(Line()) +
                             " is not a mapping of job fields (key: value)");
    RETURN_IF_ERROR(CheckNode("the document"));
    nlohmann::json body = nlohmann::json::object();
    std::map<std::string, size_t> lines;
    while (true) {
      RETURN_IF_ERROR(Next());
      if (Type() == YAML_MAPPING_END_EVENT) break;
      ASSIGN_OR_RETURN(std::string key, Key("key"));
      const size_t key_line = Line();
      if (key == "allocations")
        return InvalidArgument(name_ + ": a submission has no allocations yet (key 'allocations' at line " +
                               std::to_string(key_line) + ")");
      if (!KnownKey(key))
        return InvalidArgument(name_ + ": unknown key '" + key + "' at line " + std::to_string(key_line));
      if (auto it = lines.find(key); it != lines.end())
        return InvalidArgument(name_ + ": key '" + key + "' at line " + std::to_string(key_line) +
                               " repeats the one at line " + std::to_string(it->second));
      if (lines.size() >= kMaxJobSpecKeys)
        return InvalidArgument(name_ + ": more than " + std::to_string(kMaxJobSpecKeys) + " keys (key '" +
                               key + "' at line " + std::to_string(key_line) + ")");
      lines[key] = key_line;
      RETURN_IF_ERROR(Next());
      if (key == "labels" && Type() == YAML_MAPPING_START_EVENT) {
        RETURN_IF_ERROR(CheckNode("key 'labels'"));
        ASSIGN_OR_RETURN(body[key], Labels());
        continue;
      }
      ASSIGN_OR_RETURN(body[key], Value(key, key_line));
    }
    RETURN_IF_ERROR(Next());  // document end
    RETURN_IF_ERROR(Next());
    if (Type() != YAML_STREAM_END_EVENT)
      return InvalidArgument(name_ + ": a second document starts at line " + std::to_string(Line()) +
                             "; a spec holds one job");
    return body;
  }

 private:
  Status Next() {
    event_.Reset();
    if (!yaml_parser_parse(parser_.get(), event_.get())) {
      const yaml_parser_t& p = *parser_.get();
      std::string msg = name_ + " is not valid YAML: ";
      if (p.context)
        msg += std::string(p.context) + " at line " + std::to_string(p.context_mark.line + 1) + ", ";
      msg += std::string(p.problem ? p.problem : "parse error") + " at line " +
             std::to_string(p.problem_mark.line + 1) + " column " + std::to_string(p.problem_mark.column + 1);
      return InvalidArgument(msg);
    }
    event_.Hold();
    return OkStatus();
  }
  yaml_event_type_t Type() const { return (*event_).type; }
  size_t Line() const { return (*event_).start_mark.line + 1; }
  std::string At() const { return " at line " + std::to_string(Line()); }

  // Anchors, aliases and explicit tags are refused: a job spec needs none, and aliases
  // are how a small YAML text becomes a large document.
  Status CheckNode(const std::string& what) const {
    const yaml_event_t& e = *event_;
    const yaml_char_t* anchor = nullptr;
    const yaml_char_t* tag = nullptr;
    if (e.type == YAML_ALIAS_EVENT)
      return InvalidArgument(name_ + ": " + what + At() + " is an alias; aliases are not accepted");
    if (e.type == YAML_SCALAR_EVENT) {
      anchor = e.data.scalar.anchor;
      tag = e.data.scalar.tag;
    } else if (e.type == YAML_MAPPING_START_EVENT) {
      anchor = e.data.mapping_start.anchor;
      tag = e.data.mapping_start.tag;
    }
    if (anchor)
      return InvalidArgument(name_ + ": " + what + At() + " has an anchor; anchors are not accepted");
    if (tag)
      return InvalidArgument(name_ + ": " + what + At() + " has the tag '" +
                             std::string(reinterpret_cast<const char*>(tag)) + "'; tags are not accepted");
    return OkStatus();
  }

  std::string_view ScalarText() const {
    const auto& s = (*event_).data.scalar;
    return {reinterpret_cast<const char*>(s.value), s.length};
  }
  bool Plain() const { return (*event_).data.scalar.style == YAML_PLAIN_SCALAR_STYLE; }
  bool IsNull() const {
    const std::string_view v = ScalarText();
    return Plain() && (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL");
  }

  StatusOr<std::string> Key(const std::string& what) {
    if (Type() != YAML_SCALAR_EVENT)
      return InvalidArgument(name_ + ": a " + what + At() + " is not a plain string");
    RETURN_IF_ERROR(CheckNode("a " + what));
    const std::string_view v = ScalarText();
    if (v.size() > kMaxJobSpecValueBytes)
      return InvalidArgument(name_ + ": a " + what + At() + " of " + std::to_string(v.size()) +
                             " bytes exceeds the limit " + std::to_string(kMaxJobSpecValueBytes));
    return std::string(v);
  }

  // A scalar for `key`, typed as the jobs API takes it.
  StatusOr<nlohmann::json> Value(const std::string& key, size_t key_line) {
    const std::string what = "key '" + key + "'";
    const std::string at = " at line " + std::to_string(key_line);
    if (Type() == YAML_SEQUENCE_START_EVENT)
      return InvalidArgument(name_ + ": " + what + at + " holds a list; it takes one value");
    if (Type() == YAML_MAPPING_START_EVENT)
      return InvalidArgument(name_ + ": " + what + at + " holds a mapping; only 'labels' does");
    RETURN_IF_ERROR(CheckNode(what));
    if (Type() != YAML_SCALAR_EVENT) return InvalidArgument(name_ + ": " + what + at + " has no value");
    const std::string_view v = ScalarText();
    if (IsNull()) return InvalidArgument(name_ + ": " + what + at + " has no value (null)");
    if (v.size() > kMaxJobSpecValueBytes)
      return InvalidArgument(name_ + ": " + what + at + " value of " + std::to_string(v.size()) +
                             " bytes exceeds the limit " + std::to_string(kMaxJobSpecValueBytes));
    if (Plain() && IntegerKey(key)) {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc() && end == v.data() + v.size()) return nlohmann::json(n);
    }
    if (Plain() && key == "amp") {
      static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
      static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
      for (const char* t : kTrue)
        if (v == t) return nlohmann::json(true);
      for (const char* f : kFalse)
        if (v == f) return nlohmann::json(false);
    }
    return nlohmann::json(std::string(v));
  }

  StatusOr<nlohmann::json> Labels() {
    std::map<std::string, std::string> labels;
    std::map<std::string, size_t> lines;
    while (true) {
      RETURN_IF_ERROR(Next());
      if (Type() == YAML_MAPPING_END_EVENT) break;
      ASSIGN_OR_RETURN(std::string k, Key("label key"));
      const size_t line = Line();
      if (auto it = lines.find(k); it != lines.end())
        return InvalidArgument(name_ + ": label '" + k + "' at line " + std::to_string(line) +
                               " repeats the one at line " + std::to_string(it->second));
      if (labels.size() >= kMaxJobSpecLabels)
        return InvalidArgument(name_ + ": more than " + std::to_string(kMaxJobSpecLabels) +
                               " labels (label '" + k + "' at line " + std::to_string(line) + ")");
      lines[k] = line;
      RETURN_IF_ERROR(Next());
      if (Type() != YAML_SCALAR_EVENT || IsNull())
        return InvalidArgument(name_ + ": label '" + k + "' at line " + std::to_string(line) +
                               " must be a string");
      ASSIGN_OR_RETURN(nlohmann::json v, Value("labels." + k, line));
      labels[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
    std::string joined;
    RETURN_IF_ERROR(JoinLabels(
        labels, name_, [&](const std::string& k) { return " at line " + std::to_string(lines[k]); },
        &joined));
    return nlohmann::json(joined);
  }

  YamlParser parser_;
  YamlEvent event_;
  std::string name_;
};

}  // namespace

SpecFormat SpecFormatForPath(std::string_view path) {
  if (EndsWith(path, ".yaml") || EndsWith(path, ".yml")) return SpecFormat::kYaml;
  if (EndsWith(path, ".json")) return SpecFormat::kJson;
  return SpecFormat::kAuto;
}

StatusOr<nlohmann::json> ParseJobSpec(std::string_view text, SpecFormat format, std::string_view name) {
  if (text.size() > kMaxJobSpecBytes)
    return InvalidArgument(std::string(name) + " of " + std::to_string(text.size()) +
                           " bytes exceeds the limit " + std::to_string(kMaxJobSpecBytes) + " bytes");
  if (format == SpecFormat::kAuto) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    format = first != std::string_view::npos && text[first] == '{' ? SpecFormat::kJson : SpecFormat::kYaml;
  }
  if (format == SpecFormat::kJson) return ParseJson(text, name);
  return YamlReader(text, name).Read();
}

}  // namespace gpuledger
