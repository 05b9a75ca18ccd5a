#include "submit/job_view.h"

#include <nlohmann/json.hpp>

namespace gpuledger {

std::string SubmissionViewJson(const Job& j, const std::optional<JobEstimate>& e, int64_t actual,
                               const Currency& currency) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (j.submitted_ms != 0) {
    out["submitted"] = FormatTime(j.submitted_ms);
    if (j.start_ms != 0) out["queue_wait_s"] = (j.start_ms - j.submitted_ms) / kSecondMs;
  }
  if (e && e->cost_micros >= 0) {
    const int d = currency.minor_digits;
    nlohmann::ordered_json v = {{"estimate", FormatMicros(e->cost_micros, d)}};
    if (e->cost_low_micros >= 0 && e->cost_high_micros >= 0) {
      v["low"] = FormatMicros(e->cost_low_micros, d);
      v["high"] = FormatMicros(e->cost_high_micros, d);
    }
    v["actual"] = FormatMicros(actual, d);
    v["difference"] = FormatMicros(actual - e->cost_micros, d);
    if (e->cost_micros > 0)
      v["actual_over_estimate"] = static_cast<double>(actual) / static_cast<double>(e->cost_micros);
    v["final"] = j.end_ms != 0;
    v["currency"] = currency.code;
    out["estimate_vs_actual"] = v;
  }
  return out.dump();
}

}  // namespace gpuledger
