#include "policy/policy_config.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gpuledger {
namespace {

using Json = nlohmann::json;

std::string Shown(const Json& v) { return v.dump(); }

// A section reader: each getter checks type and range and names the key.
class Section {
 public:
  Section(const Json& j, std::string where) : j_(j), where_(std::move(where)) {}

  Status Check(std::initializer_list<const char*> keys) const {
    if (!j_.is_object()) return InvalidArgument(where_ + " must be an object, got " + Shown(j_));
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      bool known = false;
      std::string all;
      for (const char* k : keys) {
        known = known || it.key() == k;
        all += std::string(all.empty() ? "" : ", ") + k;
      }
      if (!known) return InvalidArgument("unknown key " + where_ + "." + it.key() + " (it takes " + all + ")");
    }
    return OkStatus();
  }
  Status Bool(const char* key, bool* out) const {
    if (!j_.contains(key)) return OkStatus();
    if (!j_[key].is_boolean())
      return InvalidArgument(where_ + "." + key + " must be true or false, got " + Shown(j_[key]));
    *out = j_[key].get<bool>();
    return OkStatus();
  }
  // lo/hi inclusive unless open_lo.
  Status Number(const char* key, double lo, double hi, bool open_lo, double* out) const {
    if (!j_.contains(key)) return OkStatus();
    const Json& v = j_[key];
    if (!v.is_number())
      return InvalidArgument(where_ + "." + key + " must be a number, got " + Shown(v));
    const double d = v.get<double>();
    if (!std::isfinite(d) || (open_lo ? d <= lo : d < lo) || d > hi) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " must be %s %g and at most %g, got ", open_lo ? "above" : "at least", lo, hi);
      return InvalidArgument(where_ + "." + key + buf + Shown(v));
    }
    *out = d;
    return OkStatus();
  }
  Status Minutes(const char* key, double hi_min, DurationMs* out) const {
    double m = static_cast<double>(*out) / kMinuteMs;
    RETURN_IF_ERROR(Number(key, 0, hi_min, /*open_lo=*/true, &m));
    *out = static_cast<DurationMs>(std::llround(m * kMinuteMs));
    return OkStatus();
  }
  Status Int(const char* key, int lo, int hi, int* out) const {
    if (!j_.contains(key)) return OkStatus();
    const Json& v = j_[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
      return InvalidArgument(where_ + "." + key + " must be an integer from " + std::to_string(lo) + " to " +
                             std::to_string(hi) + ", got " + Shown(v));
    *out = v.get<int>();
    return OkStatus();
  }
  Status Action(const char* key, PolicyAction* out) const {
    if (!j_.contains(key)) return OkStatus();
    const Json& v = j_[key];
    if (!v.is_string() || (v.get<std::string>() != "pause" && v.get<std::string>() != "stop"))
      return InvalidArgument(where_ + "." + key + R"( must be "pause" or "stop", got )" + Shown(v));
    *out = v.get<std::string>() == "pause" ? PolicyAction::kPause : PolicyAction::kStop;
    return OkStatus();
  }
  const std::string& where() const { return where_; }

 private:
  const Json& j_;
  std::string where_;
};

constexpr double kWeekMin = 7 * 24 * 60;

Status ApplyBreaker(const Section& s, BreakerRule* r) {
  RETURN_IF_ERROR(s.Check(
      {"enabled", "dry_run", "window_min", "min_loss_improvement", "max_util_pct", "min_epochs", "min_map50_rise"}));
  RETURN_IF_ERROR(s.Bool("enabled", &r->enabled));
  RETURN_IF_ERROR(s.Bool("dry_run", &r->dry_run));
  RETURN_IF_ERROR(s.Minutes("window_min", kWeekMin, &r->window_ms));
  RETURN_IF_ERROR(s.Number("min_loss_improvement", 0, 1e9, false, &r->min_loss_improvement));
  RETURN_IF_ERROR(s.Number("max_util_pct", 0, 100, true, &r->max_util_pct));
  RETURN_IF_ERROR(s.Int("min_epochs", 2, 10000, &r->min_epochs));
  RETURN_IF_ERROR(s.Number("min_map50_rise", 0, 1, false, &r->min_map50_rise));
  return OkStatus();
}

Status ApplyIdle(const Section& s, IdleRule* r) {
  RETURN_IF_ERROR(s.Check({"enabled", "dry_run", "warn_min", "warn_again_min", "act_min", "idle_util_pct",
                           "spare_busy_fraction", "max_sample_age_min", "interactive_max_gpus", "action"}));
  RETURN_IF_ERROR(s.Bool("enabled", &r->enabled));
  RETURN_IF_ERROR(s.Bool("dry_run", &r->dry_run));
  RETURN_IF_ERROR(s.Minutes("warn_min", kWeekMin, &r->warn_ms));
  RETURN_IF_ERROR(s.Minutes("warn_again_min", kWeekMin, &r->warn_again_ms));
  RETURN_IF_ERROR(s.Minutes("act_min", kWeekMin, &r->act_ms));
  RETURN_IF_ERROR(s.Number("idle_util_pct", 0, 99, false, &r->idle_util_pct));
  RETURN_IF_ERROR(s.Number("spare_busy_fraction", 0, 1, true, &r->spare_busy_fraction));
  RETURN_IF_ERROR(s.Minutes("max_sample_age_min", kWeekMin, &r->max_sample_age_ms));
  RETURN_IF_ERROR(s.Int("interactive_max_gpus", 0, 1024, &r->interactive_max_gpus));
  RETURN_IF_ERROR(s.Action("action", &r->action));
  if (!(r->warn_ms <= r->warn_again_ms && r->warn_again_ms <= r->act_ms))
    return InvalidArgument(s.where() + ": warn_min <= warn_again_min <= act_min must hold, got " +
                           std::to_string(r->warn_ms / kMinuteMs) + ", " +
                           std::to_string(r->warn_again_ms / kMinuteMs) + ", " +
                           std::to_string(r->act_ms / kMinuteMs));
  return OkStatus();
}

Status ApplyDuration(const Section& s, DurationRule* r) {
  RETURN_IF_ERROR(s.Check({"enabled", "dry_run", "warn_fraction", "action"}));
  RETURN_IF_ERROR(s.Bool("enabled", &r->enabled));
  RETURN_IF_ERROR(s.Bool("dry_run", &r->dry_run));
  RETURN_IF_ERROR(s.Number("warn_fraction", 0, 1, true, &r->warn_fraction));
  RETURN_IF_ERROR(s.Action("action", &r->action));
  return OkStatus();
}

Status ApplyDigest(const Section& s, DigestRule* r) {
  RETURN_IF_ERROR(
      s.Check({"enabled", "dry_run", "max_density_pct", "min_gpu_hours", "period_days", "worst_jobs"}));
  RETURN_IF_ERROR(s.Bool("enabled", &r->enabled));
  RETURN_IF_ERROR(s.Bool("dry_run", &r->dry_run));
  RETURN_IF_ERROR(s.Number("max_density_pct", 0, 100, true, &r->max_density_pct));
  RETURN_IF_ERROR(s.Number("min_gpu_hours", 0, 1e7, false, &r->min_gpu_hours));
  RETURN_IF_ERROR(s.Int("period_days", 1, 31, &r->period_days));
  RETURN_IF_ERROR(s.Int("worst_jobs", 1, 20, &r->worst_jobs));
  return OkStatus();
}

Status ApplyRules(const Json& j, const std::string& where, RulesConfig* into) {
  if (j.is_null()) return OkStatus();
  Section top(j, where);
  RETURN_IF_ERROR(top.Check({kBreakerRule, kIdleRule, kDurationRule, kDigestRule}));
  RulesConfig c = *into;
  if (j.contains(kBreakerRule)) RETURN_IF_ERROR(ApplyBreaker(Section(j[kBreakerRule], where + ".breaker"), &c.breaker));
  if (j.contains(kIdleRule)) RETURN_IF_ERROR(ApplyIdle(Section(j[kIdleRule], where + ".idle"), &c.idle));
  if (j.contains(kDurationRule))
    RETURN_IF_ERROR(ApplyDuration(Section(j[kDurationRule], where + ".duration"), &c.duration));
  if (j.contains(kDigestRule)) RETURN_IF_ERROR(ApplyDigest(Section(j[kDigestRule], where + ".digest"), &c.digest));
  *into = c;
  return OkStatus();
}

StatusOr<Json> ParseObject(std::string_view text, const std::string& where) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(where + ": not valid JSON");
  if (!j.is_object() && !j.is_null()) return InvalidArgument(where + " must be a JSON object, got " + Shown(j));
  return j;
}

double Min(DurationMs ms) { return static_cast<double>(ms) / kMinuteMs; }

Json ConfigJson(const RulesConfig& c) {
  return {{kBreakerRule,
           {{"enabled", c.breaker.enabled},
            {"dry_run", c.breaker.dry_run},
            {"window_min", Min(c.breaker.window_ms)},
            {"min_loss_improvement", c.breaker.min_loss_improvement},
            {"max_util_pct", c.breaker.max_util_pct},
            {"min_epochs", c.breaker.min_epochs},
            {"min_map50_rise", c.breaker.min_map50_rise}}},
          {kIdleRule,
           {{"enabled", c.idle.enabled},
            {"dry_run", c.idle.dry_run},
            {"warn_min", Min(c.idle.warn_ms)},
            {"warn_again_min", Min(c.idle.warn_again_ms)},
            {"act_min", Min(c.idle.act_ms)},
            {"idle_util_pct", c.idle.idle_util_pct},
            {"spare_busy_fraction", c.idle.spare_busy_fraction},
            {"max_sample_age_min", Min(c.idle.max_sample_age_ms)},
            {"interactive_max_gpus", c.idle.interactive_max_gpus},
            {"action", std::string(PolicyActionName(c.idle.action))}}},
          {kDurationRule,
           {{"enabled", c.duration.enabled},
            {"dry_run", c.duration.dry_run},
            {"warn_fraction", c.duration.warn_fraction},
            {"action", std::string(PolicyActionName(c.duration.action))}}},
          {kDigestRule,
           {{"enabled", c.digest.enabled},
            {"dry_run", c.digest.dry_run},
            {"max_density_pct", c.digest.max_density_pct},
            {"min_gpu_hours", c.digest.min_gpu_hours},
            {"period_days", c.digest.period_days},
            {"worst_jobs", c.digest.worst_jobs}}}};
}

}  // namespace

Status ApplyRulesJson(std::string_view text, const std::string& where, RulesConfig* into) {
  ASSIGN_OR_RETURN(Json j, ParseObject(text, where));
  return ApplyRules(j, where, into);
}

std::string RulesConfigJson(const RulesConfig& c) { return ConfigJson(c).dump(); }

const RulesConfig& PolicyRules::For(const std::string& project) const {
  auto it = effective_.find(project);
  return it == effective_.end() ? org_ : it->second;
}

Status PolicyRules::Rebuild(const RulesConfig& org, const std::map<std::string, std::string>& overrides) {
  std::map<std::string, RulesConfig> effective;
  for (const auto& [project, text] : overrides) {
    RulesConfig c = org;
    RETURN_IF_ERROR(ApplyRulesJson(text, "projects." + project + ".rules", &c));
    effective[project] = c;
  }
  org_ = org;
  overrides_ = overrides;
  effective_ = std::move(effective);
  return OkStatus();
}

Status PolicyRules::SetOrg(std::string_view section_json) {
  RulesConfig org;
  RETURN_IF_ERROR(ApplyRulesJson(section_json, "rules", &org));
  RETURN_IF_ERROR(Rebuild(org, overrides_));
  return OkStatus();
}

Status PolicyRules::SetProject(const std::string& project, std::string_view section_json) {
  if (project.empty()) return InvalidArgument("project name is empty");
  ASSIGN_OR_RETURN(nlohmann::json j, ParseObject(section_json, "projects." + project + ".rules"));
  std::map<std::string, std::string> overrides = overrides_;
  if (j.is_null() || j.empty()) {
    overrides.erase(project);
  } else {
    overrides[project] = j.dump();
  }
  return Rebuild(org_, overrides);
}

std::string PolicyRules::ToJson() const {
  nlohmann::json projects = nlohmann::json::object();
  for (const auto& [project, text] : overrides_) {
    projects[project] = {{"rules", nlohmann::json::parse(text)},
                         {"effective", ConfigJson(For(project))}};
  }
  return nlohmann::json{{"rules", ConfigJson(org_)}, {"projects", projects}}.dump(2) + "\n";
}

StatusOr<PolicyRules> ParsePolicyRulesJson(std::string_view text) {
  ASSIGN_OR_RETURN(Json j, ParseObject(text, "policy file"));
  if (j.is_null()) return PolicyRules();
  Section top(j, "policy file");
  RETURN_IF_ERROR(top.Check({"rules", "projects"}));
  PolicyRules out;
  if (j.contains("rules")) RETURN_IF_ERROR(out.SetOrg(j["rules"].dump()));
  if (j.contains("projects")) {
    const Json& projects = j["projects"];
    if (!projects.is_object()) return InvalidArgument("projects must be an object, got " + Shown(projects));
    for (auto it = projects.begin(); it != projects.end(); ++it) {
      Section p(*it, "projects." + it.key());
      RETURN_IF_ERROR(p.Check({"rules"}));
      if (it->contains("rules")) RETURN_IF_ERROR(out.SetProject(it.key(), (*it)["rules"].dump()));
    }
  }
  return out;
}

StatusOr<PolicyRules> LoadPolicyRulesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("policy file '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto p = ParsePolicyRulesJson(ss.str());
  if (!p.ok()) return InvalidArgument("policy file '" + path + "': " + p.status().message());
  return p;
}

}  // namespace gpuledger
