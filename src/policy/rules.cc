#include "policy/rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "domain/ids.h"

namespace gpuledger {
namespace {

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A figure a person reads (a utilisation, minutes): one decimal, none when it is ".0".
std::string Round1(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

std::string Minutes(DurationMs ms) { return Round1(static_cast<double>(ms) / kMinuteMs) + " min"; }

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// The GPUs a job holds, for the interactive exemption: its requested share, else the
// GPUs it is seen on.
int GpuCount(const JobInputs& in) {
  if (in.job.gpu_share_ppm > 0) return static_cast<int>((in.job.gpu_share_ppm + kFullShare - 1) / kFullShare);
  return static_cast<int>(in.gpus.size());
}

}  // namespace

std::string_view PolicyActionName(PolicyAction a) {
  switch (a) {
    case PolicyAction::kWarn:
      return "warn";
    case PolicyAction::kPause:
      return "pause";
    case PolicyAction::kStop:
      return "stop";
    case PolicyAction::kNotify:
      return "notify";
  }
  return "warn";
}

StatusOr<PolicyAction> ParsePolicyAction(std::string_view s) {
  if (s == "warn") return PolicyAction::kWarn;
  if (s == "pause") return PolicyAction::kPause;
  if (s == "stop") return PolicyAction::kStop;
  if (s == "notify") return PolicyAction::kNotify;
  return InvalidArgument("action '" + std::string(s) + "' is not one of warn, pause, stop, notify");
}

std::vector<EpochPoint> EpochPoints(TimeMs start_ms, const std::vector<EpochProgress>& epochs) {
  std::vector<EpochPoint> out;
  for (const EpochProgress& e : epochs) {
    if (!e.time_s || !e.train_loss || !std::isfinite(*e.time_s) || !std::isfinite(*e.train_loss)) continue;
    EpochPoint p;
    p.epoch = e.epoch;
    p.end_ms = start_ms + static_cast<TimeMs>(std::llround(*e.time_s * 1000.0));
    p.loss = *e.train_loss;
    if (e.map50 && std::isfinite(*e.map50)) p.map50 = e.map50;
    out.push_back(p);
  }
  std::sort(out.begin(), out.end(),
            [](const EpochPoint& a, const EpochPoint& b) { return a.epoch < b.epoch; });
  return out;
}

DurationMs SampleLookbackMs(const RulesConfig& cfg) {
  return std::max(cfg.breaker.window_ms, cfg.idle.act_ms + cfg.idle.max_sample_age_ms);
}

std::vector<std::string> ExemptRules(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> out;
  auto it = labels.find(kPolicyExemptLabel);
  if (it == labels.end()) return out;
  std::stringstream ss(it->second);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::string name = Trim(item);
    if (name == "all") return {kBreakerRule, kIdleRule, kDurationRule};
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

std::string ExemptionAuditNote(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const char* key : {kPolicyExemptLabel, kInteractiveLabel}) {
    auto it = labels.find(key);
    if (it == labels.end()) continue;
    out += std::string(" ") + (key == kPolicyExemptLabel ? "exempt" : "interactive") + "=\"" +
           EscapeForMessage(it->second) + "\"";
  }
  return out;
}

std::optional<Decision> EvaluateBreaker(const BreakerRule& rule, const JobInputs& in, TimeMs now) {
  const TimeMs from = now - rule.window_ms;
  // A segment shorter than the window has not been watched for the whole window.
  if (in.segment_start_ms <= 0 || in.segment_start_ms > from) return std::nullopt;
  std::vector<EpochPoint> win;
  for (const EpochPoint& e : in.epochs)
    if (e.end_ms >= from && e.end_ms <= now && e.end_ms >= in.segment_start_ms) win.push_back(e);
  if (static_cast<int>(win.size()) < std::max(rule.min_epochs, 2)) return std::nullopt;
  const EpochPoint& first = win.front();
  double best_later = win[1].loss;
  for (size_t i = 1; i < win.size(); ++i) best_later = std::min(best_later, win[i].loss);
  const double improvement = first.loss - best_later;
  if (!(improvement < rule.min_loss_improvement)) return std::nullopt;
  // mAP@0.5 still rising: the run is learning what matters even if the loss is flat.
  std::optional<double> map_rise;
  if (first.map50) {
    for (size_t i = 1; i < win.size(); ++i)
      if (win[i].map50) map_rise = std::max(map_rise.value_or(-1e300), *win[i].map50 - *first.map50);
    if (map_rise && *map_rise > rule.min_map50_rise) return std::nullopt;
  }
  // Mean utilisation of every reported sample of the job's GPUs within the window.
  double sum = 0;
  int64_t n = 0;
  for (const GpuSeries& g : in.gpus)
    for (const Sample& s : g.samples)
      if (s.t >= from && s.t <= now && s.util_pct >= 0) {
        sum += s.util_pct;
        ++n;
      }
  if (n == 0) return std::nullopt;  // no reading: not known to be low
  const double mean_util = sum / static_cast<double>(n);
  if (!(mean_util < rule.max_util_pct)) return std::nullopt;

  Decision d;
  d.job_id = in.job.id;
  d.rule = kBreakerRule;
  d.cause_key = "breaker/" + in.job.id + "/segment-" + std::to_string(in.segment_start_ms);
  d.event = "breaker.paused";
  d.action = PolicyAction::kPause;
  d.dry_run = rule.dry_run;
  d.at_ms = now;
  d.window = {from, now};
  d.figures = {{"loss_first", first.loss},        {"loss_best_after", best_later},
               {"loss_improvement", improvement}, {"epochs_in_window", static_cast<double>(win.size())},
               {"first_epoch", first.epoch},      {"last_epoch", win.back().epoch},
               {"mean_util_pct", mean_util},      {"util_samples", static_cast<double>(n)}};
  if (map_rise) d.figures["map50_rise"] = *map_rise;
  d.thresholds = {{"min_loss_improvement", rule.min_loss_improvement},
                  {"max_util_pct", rule.max_util_pct},
                  {"window_min", static_cast<double>(rule.window_ms) / kMinuteMs},
                  {"min_epochs", rule.min_epochs},
                  {"min_map50_rise", rule.min_map50_rise}};
  d.reason = "loss improved by " + Num(improvement) + " (< " + Num(rule.min_loss_improvement) +
             ") over epochs " + std::to_string(first.epoch) + ".." + std::to_string(win.back().epoch) +
             " in the last " + Minutes(rule.window_ms) + " while mean GPU utilisation was " +
             Round1(mean_util) + " % (< " + Num(rule.max_util_pct) + " %)";
  return d;
}

std::optional<Decision> EvaluateIdle(const IdleRule& rule, const JobInputs& in, TimeMs now) {
  if (in.gpus.empty()) return std::nullopt;
  auto interactive = in.job.labels.find(kInteractiveLabel);
  if (interactive != in.job.labels.end() && interactive->second == "true" &&
      GpuCount(in) <= rule.interactive_max_gpus)
    return std::nullopt;
  // Each GPU's idle stretch: from its first idle sample after its last busy one, when
  // its latest sample is idle and recent. Not idle (nullopt): busy now, or unknown.
  std::vector<TimeMs> idle_since;
  for (const GpuSeries& g : in.gpus) {
    // kMinTimeMs - 1: none (plain values: GCC's -O2 misreads optionals in this loop).
    constexpr TimeMs kNone = kMinTimeMs - 1;
    TimeMs since = kNone;
    TimeMs latest = kNone;
    for (const Sample& s : g.samples) {
      if (s.t > now || s.util_pct < 0) continue;
      latest = s.t;
      if (s.util_pct > rule.idle_util_pct) {
        since = kNone;
      } else if (since == kNone) {
        since = s.t;
      }
    }
    if (since != kNone && now - latest <= rule.max_sample_age_ms) idle_since.push_back(since);
  }
  const int total = static_cast<int>(in.gpus.size());
  // Fewest idle GPUs that leave the busy ones under spare_busy_fraction of the job's.
  int needed = static_cast<int>(std::floor(total - rule.spare_busy_fraction * total + 1e-9)) + 1;
  needed = std::clamp(needed, 1, total);
  if (static_cast<int>(idle_since.size()) < needed) return std::nullopt;
  std::sort(idle_since.begin(), idle_since.end());
  // The job has been idle since the needed-th GPU to go idle did.
  const TimeMs since = idle_since[needed - 1];
  const DurationMs idle_ms = now - since;
  int stage = 0;
  if (idle_ms >= rule.warn_ms) stage = 1;
  if (idle_ms >= rule.warn_again_ms) stage = 2;
  if (idle_ms >= rule.act_ms) stage = 3;
  if (stage == 0) return std::nullopt;

  Decision d;
  d.job_id = in.job.id;
  d.rule = kIdleRule;
  static constexpr const char* kStage[] = {"", "warn-1", "warn-2", "act"};
  // Each stage once per run segment: the stretch's start is not a stable key (a stretch
  // longer than the samples read starts, as far as the rule sees, where they start).
  d.cause_key = "idle/" + in.job.id + "/segment-" + std::to_string(in.segment_start_ms) + "/" + kStage[stage];
  d.event = stage == 3 ? "idle.acted" : "idle.warn";
  d.action = stage == 3 ? rule.action : PolicyAction::kWarn;
  d.dry_run = rule.dry_run;
  d.at_ms = now;
  d.window = {since, now};
  d.figures = {{"idle_min", static_cast<double>(idle_ms) / kMinuteMs},
               {"gpus", total},
               {"gpus_idle", static_cast<double>(idle_since.size())},
               {"stage", stage}};
  d.thresholds = {{"warn_min", static_cast<double>(rule.warn_ms) / kMinuteMs},
                  {"warn_again_min", static_cast<double>(rule.warn_again_ms) / kMinuteMs},
                  {"act_min", static_cast<double>(rule.act_ms) / kMinuteMs},
                  {"idle_util_pct", rule.idle_util_pct},
                  {"spare_busy_fraction", rule.spare_busy_fraction}};
  d.reason = std::to_string(idle_since.size()) + " of the job's " + std::to_string(total) +
             " GPUs read at most " + Num(rule.idle_util_pct) + " % for " + Minutes(idle_ms) +
             (stage == 3 ? " (act at " + Minutes(rule.act_ms) + ")"
                         : " (warn at " + Minutes(rule.warn_ms) + " and " + Minutes(rule.warn_again_ms) +
                               ", act at " + Minutes(rule.act_ms) + ")");
  return d;
}

std::optional<Decision> EvaluateDuration(const DurationRule& rule, const JobInputs& in, TimeMs now) {
  const DurationMs limit = in.job.duration_limit_ms;
  if (limit <= 0 || in.job.start_ms <= 0) return std::nullopt;
  const DurationMs ran = now - in.job.start_ms;
  const auto warn_at = static_cast<DurationMs>(std::ceil(static_cast<double>(limit) * rule.warn_fraction));
  const bool act = ran >= limit;
  if (!act && ran < warn_at) return std::nullopt;
  Decision d;
  d.job_id = in.job.id;
  d.rule = kDurationRule;
  d.cause_key = "duration/" + in.job.id + (act ? "/act" : "/warn");
  d.event = act ? "duration.acted" : "duration.warn";
  d.action = act ? rule.action : PolicyAction::kWarn;
  d.dry_run = rule.dry_run;
  d.at_ms = now;
  d.window = {in.job.start_ms, now};
  d.figures = {{"ran_min", static_cast<double>(ran) / kMinuteMs},
               {"fraction_of_limit", static_cast<double>(ran) / static_cast<double>(limit)}};
  d.thresholds = {{"limit_min", static_cast<double>(limit) / kMinuteMs},
                  {"warn_fraction", rule.warn_fraction}};
  d.reason = "the job has run " + Minutes(ran) + " of its " + Minutes(limit) + " limit" +
             (act ? "" : " (warned at " + Num(rule.warn_fraction * 100) + " %)");
  return d;
}

std::vector<Decision> Evaluate(const RulesConfig& cfg, const JobInputs& in, TimeMs now) {
  std::vector<Decision> out;
  if (in.paused || in.job.status != JobStatus::kRunning) return out;
  const std::vector<std::string> exempt = ExemptRules(in.job.labels);
  auto applies = [&](const char* name, bool enabled) {
    return enabled && std::find(exempt.begin(), exempt.end(), name) == exempt.end();
  };
  if (applies(kBreakerRule, cfg.breaker.enabled))
    if (auto d = EvaluateBreaker(cfg.breaker, in, now)) out.push_back(std::move(*d));
  if (applies(kIdleRule, cfg.idle.enabled))
    if (auto d = EvaluateIdle(cfg.idle, in, now)) out.push_back(std::move(*d));
  if (applies(kDurationRule, cfg.duration.enabled))
    if (auto d = EvaluateDuration(cfg.duration, in, now)) out.push_back(std::move(*d));
  return out;
}

}  // namespace gpuledger
