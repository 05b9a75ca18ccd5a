#include "report/focus.h"

#include <map>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "report/figures.h"

namespace gpuledger {

namespace {

using T = FocusColumn::Type;

// The cluster is its own provider: an internal chargeback names gpuledger's books as the
// provider, publisher and invoice issuer, and the cluster as the one billing account.
constexpr const char* kProvider = "gpuledger";
constexpr const char* kBillingAccountId = "gpuledger-cluster";
constexpr const char* kBillingAccountName = "GPU cluster";
constexpr const char* kServiceName = "GPU Training";
constexpr const char* kUnit = "GPU-Hours";

// PricingQuantity in units of 1e-9 GPU-hours: one GPU-hour is kGpuNsPerGpuHour, so a
// nano-GPU-hour is kGpuNsPerGpuHour / 1e9 of ours.
constexpr int64_t kPerNanoHour = kGpuNsPerGpuHour / 1'000'000'000;
static_assert(kGpuNsPerGpuHour % 1'000'000'000 == 0);

}  // namespace

const std::vector<FocusColumn>& FocusColumns() {
  static const std::vector<FocusColumn> kColumns = {
      // FOCUS 1.2 mandatory columns (specification/columns/*.md at tag v1.2).
      {"BilledCost", T::kDecimal, false, true},
      {"BillingAccountId", T::kString, false, true},
      {"BillingAccountName", T::kString, true, true},
      {"BillingCurrency", T::kString, false, true},
      {"BillingPeriodEnd", T::kDateTime, false, true},
      {"BillingPeriodStart", T::kDateTime, false, true},
      {"ChargeCategory", T::kString, false, true},
      {"ChargeClass", T::kString, true, true},
      {"ChargeDescription", T::kString, true, true},
      {"ChargePeriodEnd", T::kDateTime, false, true},
      {"ChargePeriodStart", T::kDateTime, false, true},
      {"ContractedCost", T::kDecimal, false, true},
      {"EffectiveCost", T::kDecimal, false, true},
      {"InvoiceIssuerName", T::kString, false, true},
      {"ListCost", T::kDecimal, false, true},
      {"PricingQuantity", T::kDecimal, true, true},
      {"PricingUnit", T::kString, true, true},
      {"ProviderName", T::kString, false, true},
      {"PublisherName", T::kString, false, true},
      {"ServiceCategory", T::kString, false, true},
      {"ServiceName", T::kString, false, true},
      // Recommended and conditional columns that apply to metered GPU time.
      {"ChargeFrequency", T::kString, false, false},
      {"ConsumedQuantity", T::kDecimal, true, false},
      {"ConsumedUnit", T::kString, true, false},
      {"ContractedUnitPrice", T::kDecimal, true, false},
      {"ListUnitPrice", T::kDecimal, true, false},
      {"ResourceId", T::kString, true, false},
      {"ResourceName", T::kString, true, false},
      {"ResourceType", T::kString, true, false},
      {"ServiceSubcategory", T::kString, false, false},
      {"SkuId", T::kString, true, false},
      {"SubAccountId", T::kString, true, false},
      {"SubAccountName", T::kString, true, false},
      {"Tags", T::kJson, true, false},
      // Ours, after every FOCUS column.
      {"x_LineKind", T::kString, false, false},
      {"x_Department", T::kString, true, false},
      {"x_User", T::kString, true, false},
      {"x_GpuModel", T::kString, false, false},
      {"x_ModelType", T::kString, true, false},
      {"x_Framework", T::kString, true, false},
      {"x_Image", T::kString, true, false},
      {"x_EffectiveComputeDensity", T::kDecimal, false, false},
      {"x_MeanUtilisation", T::kDecimal, false, false},
      {"x_BusyGpuHours", T::kDecimal, false, false},
      {"x_EnergyKwh", T::kDecimal, false, false},
      {"x_EnergyFlags", T::kDecimal, false, false},
      {"x_PeakMemoryGib", T::kDecimal, false, false},
      {"x_Partial", T::kString, false, false},
      {"x_AsOf", T::kDateTime, false, false},
      {"x_TimeZone", T::kString, false, false},
  };
  return kColumns;
}

StatusOr<std::string> RenderFocusCsv(const MonthlyReport& r, const std::vector<Job>& jobs,
                                     const ExportNames& names) {
  if (r.by != GroupBy::kJob) {
    return InvalidArgument("the FOCUS export is built from a report by job, not by " +
                           std::string(GroupByName(r.by)));
  }
  const int d = r.currency.minor_digits;
  std::map<std::string, const Job*> by_id;
  for (const Job& j : jobs) by_id[j.id] = &j;
  const std::vector<FocusColumn>& cols = FocusColumns();
  std::string out;
  for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + cols[i].name;
  out += "\n";

  auto emit = [&](const ReportPart& p, const std::string& line_kind, const Job* job,
                  const std::string& job_id, const std::string& corrects = "") {
    if (p.usage.gpu_ns == 0 && p.total_micros() == 0) return;  // nothing held, nothing charged
    const int64_t cost = p.total_micros();
    // PricingQuantity to 1e-9 GPU-hours; the unit price to 1e-12 of the currency from that
    // quantity, so that ListUnitPrice x PricingQuantity = ListCost within 1e-12 x quantity.
    const Int128 nano_hours = (p.usage.gpu_ns + kPerNanoHour / 2) / kPerNanoHour;
    const Int128 price_pico =
        nano_hours > 0 ? (static_cast<Int128>(cost) * 1'000'000'000'000'000 + nano_hours / 2) / nano_hours
                       : 0;
    const std::string quantity = FormatScaled(nano_hours, 9);
    const std::string unit_price = FormatScaled(price_pico, 12);
    const std::string amount = FormatMicros(cost, d);
    const bool correction = !corrects.empty();
    const bool is_job = line_kind == "usage" || (correction && job != nullptr);
    std::string resource_id, resource_name, user, tags;
    if (is_job) {
      resource_id = names.desensitised() ? names.pseudonyms->Job(job_id) : job_id;
      resource_name = names.desensitised() ? "" : job_id;
      if (job != nullptr && !job->user.empty())
        user = names.desensitised() ? names.pseudonyms->User(job->user) : job->user;
    }
    // Tags: provider-defined keys under "gpuledger/"; the job's own labels (one user-defined
    // scheme, no prefix) only where the export may show them (a label can name anyone).
    nlohmann::ordered_json t = nlohmann::ordered_json::object();
    t["gpuledger/line_kind"] = line_kind;
    t["gpuledger/gpu_model"] = p.gpu_model;
    if (job != nullptr) {
      if (!job->department.empty()) t["gpuledger/department"] = job->department;
      if (!job->project.empty()) t["gpuledger/project"] = job->project;
      if (!job->model_type.empty()) t["gpuledger/model_type"] = job->model_type;
      if (!job->framework.empty()) t["gpuledger/framework"] = job->framework;
      if (!names.desensitised()) {
        for (const auto& [k, v] : job->labels) {
          if (k.rfind("gpuledger/", 0) != 0) t[k] = v;
        }
      }
    }
    tags = t.dump();
    const std::vector<std::string> f = {
        amount,                            // BilledCost
        kBillingAccountId,                 // BillingAccountId
        kBillingAccountName,               // BillingAccountName
        r.currency.code,                   // BillingCurrency
        FormatTime(r.month_window.end),    // BillingPeriodEnd
        FormatTime(r.month_window.start),  // BillingPeriodStart
        "Usage",                           // ChargeCategory
        correction ? "Correction" : "",    // ChargeClass
        correction
            ? "Correction of closed month " + corrects + ": " + p.gpu_model +
                  (is_job ? " GPU-hours of a job" : " unallocated capacity") + " recomputed after the close"
        : is_job ? p.gpu_model + " GPU-hours held by a job, with the energy they drew"
                 : p.gpu_model + " GPU-hours no job held (unallocated capacity)",  // ChargeDescription
        FormatTime(r.window.end),                                                  // ChargePeriodEnd
        FormatTime(r.window.start),                                                // ChargePeriodStart
        amount,                                                                    // ContractedCost
        amount,                                                                    // EffectiveCost
        kProvider,                                                                 // InvoiceIssuerName
        amount,                                                                    // ListCost
        quantity,                                                                  // PricingQuantity
        kUnit,                                                                     // PricingUnit
        kProvider,                                                                 // ProviderName
        kProvider,                                                                 // PublisherName
        "AI and Machine Learning",                                                 // ServiceCategory
        kServiceName,                                                              // ServiceName
        "Usage-Based",                                                             // ChargeFrequency
        quantity,                                                                  // ConsumedQuantity
        kUnit,                                                                     // ConsumedUnit
        unit_price,                                                                // ContractedUnitPrice
        unit_price,                                                                // ListUnitPrice
        resource_id,                                                               // ResourceId
        resource_name,                                                             // ResourceName
        is_job ? "GPU Training Job" : "",                                          // ResourceType
        "Machine Learning",                                                        // ServiceSubcategory
        "GPU-Hour " + p.gpu_model,                                                 // SkuId
        is_job && job != nullptr ? job->project : "",                              // SubAccountId
        is_job && job != nullptr ? job->project : "",                              // SubAccountName
        tags,                                                                      // Tags
        line_kind,                                                                 // x_LineKind
        is_job && job != nullptr ? job->department : "",                           // x_Department
        user,                                                                      // x_User
        p.gpu_model,                                                               // x_GpuModel
        is_job && job != nullptr ? job->model_type : "",                           // x_ModelType
        is_job && job != nullptr ? job->framework : "",                            // x_Framework
        is_job && job != nullptr ? job->image() : "",                              // x_Image
        FigureCsv(p.usage.density(), 6),                      // x_EffectiveComputeDensity
        FigureCsv(Scaled(p.usage.mean_util_pct(), 0.01), 6),  // x_MeanUtilisation
        FormatFixed(p.usage.busy_hours(), 6),                 // x_BusyGpuHours
        FigureCsv(p.usage.energy_kwh(), 6),                   // x_EnergyKwh
        std::to_string(p.usage.energy_flags),                 // x_EnergyFlags
        FigureCsv(p.usage.peak_mem_gib(), 3),                 // x_PeakMemoryGib
        r.partial ? "true" : "false",                         // x_Partial
        FormatTime(r.as_of),                                  // x_AsOf
        r.timezone,                                           // x_TimeZone
    };
    std::string row;
    for (size_t i = 0; i < f.size(); ++i) row += (i ? "," : "") + CsvQuote(f[i]);
    out += row + "\n";
  };
  for (const ReportLine& l : r.lines) {
    auto it = by_id.find(l.key);
    for (const ReportPart& p : l.parts) emit(p, "usage", it == by_id.end() ? nullptr : it->second, l.key);
  }
  if (r.scope.empty()) {
    for (const ReportPart& p : r.unallocated.parts) emit(p, "unallocated", nullptr, "");
  }
  // Corrections of closed months: money only (PricingQuantity 0), ChargeClass Correction.
  // A line of a report by job is keyed by the job id, or the unallocated line's key.
  for (const ReportLine& l : r.adjustments) {
    auto it = by_id.find(l.key);
    const Job* job = it == by_id.end() ? nullptr : it->second;
    for (const ReportPart& p : l.parts) emit(p, "adjustment", job, job ? l.key : "", l.corrects);
  }
  return out;
}

}  // namespace gpuledger
