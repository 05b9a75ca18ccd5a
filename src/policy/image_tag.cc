#include "policy/image_tag.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace gpuledger {

std::string_view PolicyModeName(PolicyMode m) {
  switch (m) {
    case PolicyMode::kEnforce:
      return "enforce";
    case PolicyMode::kWarn:
      return "warn";
    case PolicyMode::kOff:
      return "off";
  }
  return "off";
}

StatusOr<PolicyMode> ParsePolicyMode(std::string_view s) {
  if (s == "enforce") return PolicyMode::kEnforce;
  if (s == "warn") return PolicyMode::kWarn;
  if (s == "off") return PolicyMode::kOff;
  return InvalidArgument("policy mode '" + std::string(s) + "' is not enforce, warn or off");
}

ImageTagPolicy ImageTagPolicy::Default() {
  ImageTagPolicy p;
  p.fields["purpose"] = {{"train", "finetune", "eval", "infer", "export"}, "", "train"};
  p.fields["yolo_version"] = {{}, "yolov[5-9]|yolov1[0-2]|yolo1[1-2]", "yolov8"};
  p.fields["optimization_level"] = {
      {"nano", "small", "medium", "large", "xlarge", "pruned", "quantized", "distilled"}, "", "medium"};
  p.fields["cuda_version"] = {{}, "cu[0-9]{2,3}|cpu", "cu118"};
  return p;
}

const ImageTagPolicy& PolicySet::ImageTagFor(const std::string& project) const {
  auto it = project_image_tag.find(project);
  return it == project_image_tag.end() ? image_tag : it->second;
}

namespace {

// A template as literals and fields: lits[0] f[0] lits[1] f[1] ... f[n-1] lits[n].
struct Template {
  std::vector<std::string> lits;
  std::vector<std::string> fields;
};

StatusOr<Template> ParseTemplate(const std::string& t) {
  Template out;
  std::string lit;
  for (size_t i = 0; i < t.size();) {
    if (t[i] == '{') {
      const size_t close = t.find('}', i);
      if (close == std::string::npos)
        return InvalidArgument("template '" + t + "': '{' at " + std::to_string(i) + " is not closed");
      std::string name = t.substr(i + 1, close - i - 1);
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
            return std::islower(static_cast<unsigned char>(c)) ||
                   std::isdigit(static_cast<unsigned char>(c)) || c == '_';
          }))
        return InvalidArgument("template '" + t + "': field name '" + name + "' is not [a-z0-9_]+");
      if (!out.fields.empty() && lit.empty())
        return InvalidArgument("template '" + t + "': fields {" + out.fields.back() + "} and {" + name +
                               "} need a literal between them (such as '-')");
      out.lits.push_back(lit);
      lit.clear();
      out.fields.push_back(name);
      i = close + 1;
    } else {
      lit += t[i++];
    }
  }
  out.lits.push_back(lit);
  if (out.fields.empty()) return InvalidArgument("template '" + t + "' has no {field}");
  return out;
}

bool IsHex(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// A hash as a tag: 7 to 64 hex digits with at least one digit (a git short or full SHA-1,
// a SHA-256), or sha256-<64 hex>.
bool LooksLikeHash(std::string_view tag) {
  if (tag.size() == 71 && tag.substr(0, 7) == "sha256-") return IsHex(tag.substr(7));
  return tag.size() >= 7 && tag.size() <= 64 && IsHex(tag) && std::any_of(tag.begin(), tag.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         });
}

bool FieldAccepts(const ImageTagPolicy& p, const std::string& field, const std::string& value) {
  if (value.empty()) return false;
  auto it = p.fields.find(field);
  if (it == p.fields.end()) return true;
  const TagFieldRule& r = it->second;
  if (!r.values.empty()) return std::find(r.values.begin(), r.values.end(), value) != r.values.end();
  if (r.pattern.empty()) return true;
  try {
    return std::regex_match(value, std::regex(r.pattern));
  } catch (const std::regex_error&) {
    return false;  // ParsePolicyJson refuses such patterns; a hand-built policy fails closed
  }
}

std::string Allowed(const ImageTagPolicy& p, const std::string& field) {
  auto it = p.fields.find(field);
  if (it == p.fields.end()) return "any non-empty value";
  const TagFieldRule& r = it->second;
  if (!r.values.empty()) {
    std::string s;
    for (const std::string& v : r.values) s += (s.empty() ? "" : ", ") + v;
    return "one of " + s;
  }
  return r.pattern.empty() ? "any non-empty value" : "a match of /" + r.pattern + "/";
}

// What the job's model type says a field could be: yolov10m -> yolo_version yolov10,
// optimization_level medium.
std::string HintFor(const std::string& field, const Job& job) {
  static const std::regex kModel("(yolov?[0-9]+)([nsmlx])?.*");
  std::smatch m;
  const bool model = std::regex_match(job.model_type, m, kModel);
  if (field == "yolo_version" && model) return m[1].str();
  if (field == "optimization_level") {
    if (job.model_type.find("prun") != std::string::npos) return "pruned";
    if (model && m[2].matched) {
      switch (m[2].str()[0]) {
        case 'n':
          return "nano";
        case 's':
          return "small";
        case 'm':
          return "medium";
        case 'l':
          return "large";
        case 'x':
          return "xlarge";
      }
    }
  }
  if (field == "purpose") return "train";
  return "";
}

std::vector<std::string> SplitOn(const std::string& s, char c) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == c) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

// A valid tag from the submitted one: each field keeps its value when valid, else takes
// a part of the submitted tag valid for it, else the model type's hint, else the rule's example.
std::string BuildExample(const ImageTagPolicy& p, const Template& t, const std::vector<std::string>& seen,
                         const std::string& tag, const Job& job) {
  std::vector<std::string> parts;
  for (const std::string& lit : t.lits) {
    if (lit.empty()) continue;
    for (const std::string& part : SplitOn(tag, lit[0])) parts.push_back(part);
  }
  std::string out = t.lits[0];
  for (size_t i = 0; i < t.fields.size(); ++i) {
    const std::string& f = t.fields[i];
    std::string v = i < seen.size() ? seen[i] : "";
    if (!FieldAccepts(p, f, v)) {
      v.clear();
      for (const std::string& part : parts) {
        if (FieldAccepts(p, f, part)) {
          v = part;
          break;
        }
      }
    }
    if (v.empty() && FieldAccepts(p, f, HintFor(f, job))) v = HintFor(f, job);
    if (v.empty()) {
      auto it = p.fields.find(f);
      if (it != p.fields.end() && !it->second.example.empty())
        v = it->second.example;
      else if (it != p.fields.end() && !it->second.values.empty())
        v = it->second.values.front();
      else
        v = f;
    }
    out += v + t.lits[i + 1];
  }
  return out;
}

}  // namespace

Status TagVerdict::ToStatus() const {
  if (violations.empty()) return OkStatus();
  return InvalidArgument(violations.front().message);
}

std::vector<std::string> TagVerdict::warnings() const {
  std::vector<std::string> out;
  if (mode != PolicyMode::kWarn) return out;
  for (const TagViolation& v : violations) out.push_back(v.message);
  return out;
}

TagVerdict CheckImageTag(const ImageTagPolicy& p, const Job& job) {
  TagVerdict verdict;
  verdict.mode = p.mode;
  // A job that names no image has no tag to check (a registration of what already ran
  // may not know it); a submission requires one (submit/submission.h).
  if (p.mode == PolicyMode::kOff || (job.image_repo.empty() && job.image_tag.empty())) return verdict;
  auto t = ParseTemplate(p.tmpl);
  if (!t.ok()) {
    verdict.violations.push_back(
        {"template", "template", p.tmpl, "image tag policy: " + t.status().message(), ""});
    return verdict;
  }
  const std::string prefix = "image tag policy (" + std::string(PolicyModeName(p.mode)) + "): ";
  const std::string shown = job.image().empty() ? "(no image)" : job.image();
  const std::string& tag = job.image_tag;
  auto add = [&](std::string rule, std::string field, std::string value, const std::string& why,
                 const std::vector<std::string>& seen) {
    TagViolation v{std::move(rule), std::move(field), std::move(value), "",
                   BuildExample(p, *t, seen, tag, job)};
    v.message = prefix + "rule " + v.rule + ": " + why + "; a valid tag: '" + v.example + "' (template " +
                p.tmpl + ")";
    verdict.violations.push_back(std::move(v));
  };
  if (job.image_repo.find('@') != std::string::npos) {
    add("no-digest-only", "tag", job.image_repo.substr(job.image_repo.find('@') + 1) + ":" + tag,
        "image '" + shown +
            "' names a digest and no tag: a digest pins the bytes but says nothing of what they are",
        {});
    return verdict;
  }
  if (tag.empty() || tag == "latest") {
    add("no-latest", "tag", tag.empty() ? "" : "latest",
        "image '" + shown + "' has " + (tag.empty() ? "no tag, which means 'latest'" : "the tag 'latest'") +
            ": a moving tag does not say what ran",
        {});
    return verdict;
  }
  if (LooksLikeHash(tag)) {
    add("no-hash-tag", "tag", tag,
        "the tag '" + tag + "' of image '" + shown + "' is a hash (" + std::to_string(tag.size()) +
            " hex digits), not a name",
        {});
    return verdict;
  }
  // Match the literals left to right; each field is what lies between its literals.
  std::vector<std::string> seen;
  size_t pos = 0;
  std::string why;
  std::string bad_field, bad_value;
  if (tag.compare(0, t->lits[0].size(), t->lits[0]) != 0) {
    bad_field = t->fields[0];
    why = "the tag '" + tag + "' does not begin with '" + t->lits[0] + "'";
  } else {
    pos = t->lits[0].size();
    for (size_t i = 0; i < t->fields.size(); ++i) {
      const std::string& next = t->lits[i + 1];
      const bool last = i + 1 == t->fields.size();
      size_t end;
      if (pos > tag.size()) {
        end = std::string::npos;
      } else if (last) {
        end = next.empty() ? tag.size()
              : (tag.size() >= pos + next.size() &&
                 tag.compare(tag.size() - next.size(), next.size(), next) == 0)
                  ? tag.size() - next.size()
                  : std::string::npos;
      } else {
        end = tag.find(next, pos);
      }
      if (end == std::string::npos) {
        seen.push_back(pos <= tag.size() ? tag.substr(pos) : "");
        const size_t have = last ? i : i + 1;  // fields with a value
        std::string missing;
        for (size_t k = have; k < t->fields.size(); ++k)
          missing += (missing.empty() ? "{" : ", {") + t->fields[k] + "}";
        bad_field = t->fields[have];
        why = "the tag '" + tag + "' has " + std::to_string(have) + " of the template's " +
              std::to_string(t->fields.size()) + " fields: " + missing + " missing";
        break;
      }
      seen.push_back(tag.substr(pos, end - pos));
      pos = end + next.size();
    }
  }
  if (why.empty()) {
    for (size_t i = 0; i < t->fields.size(); ++i) {
      if (!FieldAccepts(p, t->fields[i], seen[i])) {
        bad_field = t->fields[i];
        bad_value = seen[i];
        why = "field " + bad_field + " of tag '" + tag + "' is '" + bad_value +
              "', allowed: " + Allowed(p, bad_field);
        break;
      }
    }
  }
  if (!why.empty()) add("template", bad_field, bad_value, why, seen);
  return verdict;
}

namespace {

Status ParseImageTagSection(const nlohmann::json& j, const std::string& where, ImageTagPolicy* p) {
  if (!j.is_object()) return InvalidArgument(where + " must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = where + "." + it.key();
    if (it.key() == "mode") {
      if (!it->is_string()) return InvalidArgument(key + " must be a string");
      ASSIGN_OR_RETURN(p->mode, ParsePolicyMode(it->get<std::string>()));
    } else if (it.key() == "template") {
      if (!it->is_string()) return InvalidArgument(key + " must be a string");
      p->tmpl = it->get<std::string>();
      if (auto t = ParseTemplate(p->tmpl); !t.ok()) return InvalidArgument(key + ": " + t.status().message());
    } else if (it.key() == "fields") {
      if (!it->is_object()) return InvalidArgument(key + " must be an object");
      for (auto f = it->begin(); f != it->end(); ++f) {
        const std::string fk = key + "." + f.key();
        if (!f->is_object()) return InvalidArgument(fk + " must be an object");
        TagFieldRule r;
        for (auto g = f->begin(); g != f->end(); ++g) {
          if (g.key() == "values") {
            if (!g->is_array()) return InvalidArgument(fk + ".values must be an array of strings");
            for (const auto& v : *g) {
              if (!v.is_string() || v.get<std::string>().empty())
                return InvalidArgument(fk + ".values must be an array of non-empty strings");
              r.values.push_back(v.get<std::string>());
            }
          } else if (g.key() == "pattern" || g.key() == "example") {
            if (!g->is_string()) return InvalidArgument(fk + "." + g.key() + " must be a string");
            (g.key() == "pattern" ? r.pattern : r.example) = g->get<std::string>();
          } else {
            return InvalidArgument("unknown key " + fk + "." + g.key() +
                                   " (it takes values, pattern, example)");
          }
        }
        if (!r.pattern.empty()) {
          try {
            std::regex re(r.pattern);
          } catch (const std::regex_error& e) {
            return InvalidArgument(fk + ".pattern '" + r.pattern +
                                   "' is not a valid regular expression: " + e.what());
          }
        }
        p->fields[f.key()] = std::move(r);
      }
    } else {
      return InvalidArgument("unknown key " + key + " (it takes mode, template, fields)");
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<PolicySet> ParsePolicyJson(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("policy: not a JSON object");
  PolicySet out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "image_tag" && it.key() != "projects")
      return InvalidArgument("policy: unknown key '" + it.key() + "' (it takes image_tag, projects)");
  }
  if (j.contains("image_tag"))
    RETURN_IF_ERROR(ParseImageTagSection(j["image_tag"], "image_tag", &out.image_tag));
  if (j.contains("projects")) {
    const nlohmann::json& projects = j["projects"];
    if (!projects.is_object()) return InvalidArgument("policy: projects must be an object");
    for (auto it = projects.begin(); it != projects.end(); ++it) {
      const std::string where = "projects." + it.key();
      if (!it->is_object()) return InvalidArgument(where + " must be an object");
      for (auto s = it->begin(); s != it->end(); ++s) {
        if (s.key() != "image_tag")
          return InvalidArgument("unknown key " + where + "." + s.key() + " (it takes image_tag)");
      }
      ImageTagPolicy p = out.image_tag;  // starts from the organisation's
      if (it->contains("image_tag"))
        RETURN_IF_ERROR(ParseImageTagSection((*it)["image_tag"], where + ".image_tag", &p));
      out.project_image_tag[it.key()] = std::move(p);
    }
  }
  return out;
}

StatusOr<PolicySet> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("policy file '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto p = ParsePolicyJson(ss.str());
  if (!p.ok()) return InvalidArgument("policy file '" + path + "': " + p.status().message());
  return p;
}

namespace {
nlohmann::json SectionJson(const ImageTagPolicy& p) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [name, r] : p.fields) {
    nlohmann::json f = nlohmann::json::object();
    if (!r.values.empty()) f["values"] = r.values;
    if (!r.pattern.empty()) f["pattern"] = r.pattern;
    if (!r.example.empty()) f["example"] = r.example;
    fields[name] = f;
  }
  return {{"mode", std::string(PolicyModeName(p.mode))}, {"template", p.tmpl}, {"fields", fields}};
}
}  // namespace

std::string PolicySetJson(const PolicySet& p) {
  nlohmann::json out = {{"image_tag", SectionJson(p.image_tag)}};
  nlohmann::json projects = nlohmann::json::object();
  for (const auto& [name, s] : p.project_image_tag) projects[name] = {{"image_tag", SectionJson(s)}};
  out["projects"] = projects;
  return out.dump(2) + "\n";
}

}  // namespace gpuledger
