// Exports as their readers take them (docs/EXPORTS.md): `gpuledger export` and `jobs`
// on a demo-like simulated SQLite ledger, parsed back as CSV and JSON; the FOCUS 1.2
// columns and cost identities; the desensitised variant against every name in the
// ledger; and GET /api/v1/exports/{month} for every role.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "cli/cli.h"
#include "common/money.h"
#include "common/test_util.h"
#include "csv_reader.h"
#include "ledger/test_pg.h"
#include "report/focus.h"
#include "server/auth.h"
#include "server/server.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

using testing::Columns;
using testing::Micros;
using testing::ParseCsv;
using testing::Table;

// 2026-11-15T12:00:00Z. The simulated cluster runs over September and October: October
// is read whole, and as of the 20th (in progress: partial).
const SimulatedClock kClock(1794744000000);
struct Period {
  std::string month, as_of;
  bool partial;
};
const Period kPeriods[] = {{"2026-10", "", false}, {"2026-10", "2026-10-20T04:00:00Z", true}};

const std::regex kDecimal(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?)");
const std::regex kDateTime(R"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)");
const std::regex kDateTimeMs(R"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z)");
const std::regex kYearMonth("[0-9]{4}-[0-9]{2}");
const std::regex kDigits("[0-9]+");
const std::regex kPascal(R"([A-Z][A-Za-z0-9]*)");

bool IsDecimal(const std::string& s) { return std::regex_match(s, kDecimal); }

// FOCUS 1.2's mandatory columns, read from the specification (specification/columns/*.md,
// tag v1.2, "Feature level: Mandatory"), with whether each allows nulls.
const std::map<std::string, bool> kFocusMandatory = {
    {"BilledCost", false},      {"BillingAccountId", false},  {"BillingAccountName", true},
    {"BillingCurrency", false}, {"BillingPeriodEnd", false},  {"BillingPeriodStart", false},
    {"ChargeCategory", false},  {"ChargeClass", true},        {"ChargeDescription", true},
    {"ChargePeriodEnd", false}, {"ChargePeriodStart", false}, {"ContractedCost", false},
    {"EffectiveCost", false},   {"InvoiceIssuerName", false}, {"ListCost", false},
    {"PricingQuantity", true},  {"PricingUnit", true},        {"ProviderName", false},
    {"PublisherName", false},   {"ServiceCategory", false},   {"ServiceName", false}};

class Exports : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    db_ = dir_->path() + "/demo.db";
    SimOptions o;  // the demo's cluster (32 GPUs, two months), sampled every 10 minutes
    o.month = {2026, 10};
    o.sample_interval_ms = 10 * kMinuteMs;
    auto sim = testing::LoadSimulationCached(db_, o, "Asia/Shanghai");
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    auto jobs = sim->ledger->ListJobs();
    ASSERT_TRUE(jobs.ok());
    for (const Job& j : *jobs) {
      names_.insert(j.id);
      names_.insert(j.user);
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string Cli(std::vector<std::string> args) {
    args.insert(args.begin(), "gpuledger");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    const int code = RunCli(static_cast<int>(argv.size()), argv.data(), kClock, out, err);
    EXPECT_EQ(code, 0) << err.str();
    return out.str();
  }
  static std::string Export(const std::string& month, const std::string& format, const std::string& by = "",
                            bool desensitised = false, const std::string& as_of = "") {
    std::vector<std::string> a = {"export", "--db", db_, "--month", month, "--format", format};
    if (!by.empty()) a.insert(a.end(), {"--by", by});
    if (!as_of.empty()) a.insert(a.end(), {"--as-of", as_of});
    if (desensitised) a.push_back("--desensitised");
    return Cli(a);
  }
  // The report's own total for the month, from `report --format json`.
  static int64_t ReportTotal(const Period& p) {
    std::vector<std::string> a = {"report", "--db", db_, "--month", p.month, "--format", "json"};
    if (!p.as_of.empty()) a.insert(a.end(), {"--as-of", p.as_of});
    const auto j = nlohmann::json::parse(Cli(a));
    return Micros(j["total"]["cost"].get<std::string>());
  }

  static testing::TempDir* dir_;
  static std::string db_;
  static std::set<std::string> names_;  // every user name and job id in the ledger
};
testing::TempDir* Exports::dir_ = nullptr;
std::string Exports::db_;
std::set<std::string> Exports::names_;

TEST_F(Exports, FocusHasEveryMandatoryColumnWithItsTypeFormatAndNullability) {
  for (const Period& p : kPeriods) {
    const Table t = ParseCsv(Export(p.month, "focus", "", false, p.as_of));
    const auto col = Columns(t);
    ASSERT_GT(t.size(), 100u) << p.as_of;
    for (const auto& [name, nullable] : kFocusMandatory) ASSERT_TRUE(col.count(name)) << "missing " << name;
    // FOCUS columns first, then only x_PascalCase extras.
    bool extras = false;
    for (const std::string& name : t[0]) {
      if (name.rfind("x_", 0) == 0) {
        extras = true;
        EXPECT_TRUE(std::regex_match(name.substr(2), kPascal)) << name;
      } else {
        EXPECT_FALSE(extras) << name << " comes after an x_ column";
        EXPECT_TRUE(std::regex_match(name, kPascal)) << name;
      }
    }
    const std::vector<FocusColumn>& spec = FocusColumns();
    ASSERT_EQ(spec.size(), t[0].size());
    for (const FocusColumn& c : spec) {
      if (c.mandatory) {
        EXPECT_EQ(kFocusMandatory.at(c.name), c.nullable) << c.name;
      }
    }
    for (size_t r = 1; r < t.size(); ++r) {
      const auto& row = t[r];
      for (const FocusColumn& c : spec) {
        const std::string& v = row[col.at(c.name)];
        if (v.empty()) {
          EXPECT_TRUE(c.nullable) << c.name << " is null in record " << r;
          continue;
        }
        switch (c.type) {
          case FocusColumn::Type::kDecimal:
            EXPECT_TRUE(IsDecimal(v)) << c.name << " = '" << v << "'";
            break;
          case FocusColumn::Type::kDateTime:
            EXPECT_TRUE(std::regex_match(v, c.name.rfind("x_", 0) == 0 ? kDateTimeMs : kDateTime))
                << c.name << " = '" << v << "'";
            break;
          case FocusColumn::Type::kJson: {
            const auto j = nlohmann::json::parse(v, nullptr, false);
            ASSERT_TRUE(j.is_object()) << c.name << " = " << v;
            for (const auto& [k, x] : j.items()) EXPECT_TRUE(x.is_primitive()) << c.name << " " << k;
            break;
          }
          case FocusColumn::Type::kString:
            EXPECT_NE(v, "Not Applicable") << c.name;
            break;
        }
      }
      auto at = [&](const char* name) { return row[col.at(name)]; };
      EXPECT_EQ(at("BillingCurrency"), "CNY");
      EXPECT_EQ(at("ChargeCategory"), "Usage");
      EXPECT_EQ(at("ChargeClass"), "");  // no corrections yet
      EXPECT_EQ(at("PricingUnit"), "GPU-Hours");
      EXPECT_EQ(at("ConsumedUnit"), "GPU-Hours");
      EXPECT_EQ(at("ServiceCategory"), "AI and Machine Learning");
      EXPECT_EQ(at("ChargeFrequency"), "Usage-Based");
      // The month in Asia/Shanghai, start-inclusive and end-exclusive, in UTC.
      EXPECT_EQ(at("BillingPeriodStart"), "2026-09-30T16:00:00Z");
      EXPECT_EQ(at("BillingPeriodEnd"), "2026-10-31T16:00:00Z");
      EXPECT_EQ(at("ChargePeriodStart"), at("BillingPeriodStart"));
      // A month in progress is charged up to as-of and says so.
      EXPECT_EQ(at("ChargePeriodEnd"), p.partial ? p.as_of : at("BillingPeriodEnd"));
      EXPECT_EQ(at("x_Partial"), p.partial ? "true" : "false");
      const std::string kind = at("x_LineKind");
      ASSERT_TRUE(kind == "usage" || kind == "unallocated") << kind;
      // SubAccountId is the project; the unallocated line has none.
      EXPECT_EQ(at("SubAccountId").empty(), kind == "unallocated");
      EXPECT_EQ(at("ResourceId").empty(), kind == "unallocated");
    }
  }
}

TEST_F(Exports, FocusCostIdentitiesHoldAndBilledCostSumsToTheReportTotal) {
  for (const Period& p : kPeriods) {
    const Table t = ParseCsv(Export(p.month, "focus", "", false, p.as_of));
    const auto col = Columns(t);
    int64_t billed = 0;
    std::set<std::string> models;
    for (size_t r = 1; r < t.size(); ++r) {
      auto at = [&](const char* name) { return t[r][col.at(name)]; };
      const std::string list = at("ListCost");
      // No commitments: every cost is the same amount, to the cent.
      EXPECT_EQ(at("BilledCost"), list);
      EXPECT_EQ(at("EffectiveCost"), at("BilledCost"));
      EXPECT_EQ(at("ContractedCost"), list);
      EXPECT_EQ(at("ContractedUnitPrice"), at("ListUnitPrice"));
      EXPECT_EQ(at("ConsumedQuantity"), at("PricingQuantity"));
      // ListCost = ListUnitPrice x PricingQuantity (within the unit price's 12 decimals).
      const long double unit = std::stold(at("ListUnitPrice")), qty = std::stold(at("PricingQuantity"));
      EXPECT_NEAR(static_cast<double>(unit * qty), std::stod(list), 1e-6 + 1e-12 * static_cast<double>(qty))
          << "record " << r;
      EXPECT_GT(qty, 0) << "record " << r;
      billed += Micros(at("BilledCost"));
      models.insert(at("x_GpuModel"));
    }
    EXPECT_EQ(billed, ReportTotal(p)) << p.as_of;
    EXPECT_EQ(models, (std::set<std::string>{"A10G", "A100-SXM4-80GB"}));
  }
}

// Every cell of a CSV, every string of a JSON document.
std::vector<std::string> Strings(const std::string& body, bool json) {
  std::vector<std::string> out;
  if (!json) {
    for (auto& row : ParseCsv(body))
      for (auto& cell : row) out.push_back(cell);
    return out;
  }
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_string()) out.push_back(j.get<std::string>());
    for (auto it = j.begin(); j.is_structured() && it != j.end(); ++it) {
      if (j.is_object()) out.push_back(it.key());
      walk(*it);
    }
  };
  walk(nlohmann::json::parse(body));
  return out;
}

TEST_F(Exports, DesensitisedExportsNameNoUserOrJobAndTheirKeysJoin) {
  ASSERT_GT(names_.size(), 100u);
  struct Case {
    std::string format, by;
  };
  std::vector<Case> cases = {{"focus", ""}};
  for (const char* by :
       {"department", "project", "user", "job", "model", "image", "framework", "gpu-model"}) {
    cases.push_back({"csv", by});
    cases.push_back({"json", by});
  }
  for (const Case& c : cases) {
    const std::string body = Export("2026-10", c.format, c.by, /*desensitised=*/true);
    for (const std::string& cell : Strings(body, c.format == "json")) {
      for (const std::string& name : names_) {
        ASSERT_EQ(cell.find(name), std::string::npos)
            << c.format << " by " << c.by << ": '" << cell << "' names " << name;
      }
    }
  }
  // The same keys in two exports, and the same key for a job in FOCUS and in CSV by job.
  EXPECT_EQ(Export("2026-10", "csv", "user", true), Export("2026-10", "csv", "user", true));
  const Table focus = ParseCsv(Export("2026-10", "focus", "", true));
  const Table by_job = ParseCsv(Export("2026-10", "csv", "job", true));
  std::set<std::string> focus_ids, csv_ids;
  for (size_t r = 1; r < focus.size(); ++r) {
    const std::string id = focus[r][Columns(focus).at("ResourceId")];
    if (!id.empty()) focus_ids.insert(id);
    EXPECT_EQ(focus[r][Columns(focus).at("ResourceName")], "");
  }
  for (size_t r = 1; r < by_job.size(); ++r) {
    if (by_job[r][Columns(by_job).at("line_kind")] == "usage")
      csv_ids.insert(by_job[r][Columns(by_job).at("key")]);
  }
  EXPECT_EQ(focus_ids, csv_ids);
  for (const std::string& id : focus_ids)
    EXPECT_TRUE(std::regex_match(id, std::regex("j-[0-9a-f]{16}"))) << id;
  // The plain export does name them.
  EXPECT_NE(Export("2026-10", "focus").find("job-2026-10-"), std::string::npos);
}

// Column -> what its cells must be, for the export CSV.
// kFigure: a number, or empty where no sample is behind it (a line with no covered time).
enum class Kind { kText, kTextOrNull, kTime, kBool, kInt, kNumber, kFigure, kMoney, kMoneyOrNull };
const std::map<std::string, Kind> kExportCsvKinds = {{"period_start", Kind::kTime},
                                                     {"period_end", Kind::kTime},
                                                     {"month", Kind::kText},
                                                     {"timezone", Kind::kText},
                                                     {"partial", Kind::kBool},
                                                     {"as_of", Kind::kTime},
                                                     {"line_kind", Kind::kText},
                                                     {"by", Kind::kText},
                                                     {"key", Kind::kText},
                                                     {"jobs", Kind::kInt},
                                                     {"gpu_hours", Kind::kNumber},
                                                     {"busy_gpu_hours", Kind::kNumber},
                                                     {"covered_gpu_hours", Kind::kNumber},
                                                     {"dense_gpu_hours", Kind::kNumber},
                                                     {"density", Kind::kFigure},
                                                     {"density_of_allocated", Kind::kFigure},
                                                     {"mean_utilisation", Kind::kFigure},
                                                     {"energy_kwh", Kind::kFigure},
                                                     {"energy_flags", Kind::kInt},
                                                     {"peak_mem_gib", Kind::kFigure},
                                                     {"cost", Kind::kMoneyOrNull},
                                                     {"direct_cost", Kind::kMoneyOrNull},
                                                     {"idle_share", Kind::kMoneyOrNull},
                                                     {"currency", Kind::kText},
                                                     {"share_of_total", Kind::kMoneyOrNull},
                                                     {"prev_cost", Kind::kMoneyOrNull},
                                                     {"corrects_month", Kind::kTextOrNull}};

void CheckCell(Kind k, const std::string& v, const std::string& where) {
  switch (k) {
    case Kind::kText:
      EXPECT_FALSE(v.empty()) << where;
      break;
    case Kind::kTextOrNull:  // the month an adjustment line corrects: YYYY-MM, else empty
      EXPECT_TRUE(v.empty() || std::regex_match(v, kYearMonth)) << where << " = " << v;
      break;
    case Kind::kTime:
      EXPECT_TRUE(std::regex_match(v, kDateTimeMs)) << where << " = " << v;
      break;
    case Kind::kBool:
      EXPECT_TRUE(v == "true" || v == "false") << where << " = " << v;
      break;
    case Kind::kInt:
      EXPECT_TRUE(std::regex_match(v, kDigits)) << where << " = " << v;
      break;
    case Kind::kNumber:
    case Kind::kMoney:
      EXPECT_TRUE(IsDecimal(v)) << where << " = " << v;
      break;
    case Kind::kFigure:
    case Kind::kMoneyOrNull:
      EXPECT_TRUE(v.empty() || IsDecimal(v)) << where << " = " << v;
      break;
  }
}

TEST_F(Exports, ExportCsvAndJsonParseWithTheDocumentedTypesAndSumToTheTotal) {
  for (const Period& p : kPeriods) {
    for (const char* by : {"department", "project", "user", "job", "model", "gpu-model"}) {
      const Table t = ParseCsv(Export(p.month, "csv", by, false, p.as_of));
      const auto col = Columns(t);
      ASSERT_EQ(t[0].size(), kExportCsvKinds.size());
      int64_t sum = 0;
      int unallocated = 0;
      for (size_t r = 1; r < t.size(); ++r) {
        for (const auto& [name, kind] : kExportCsvKinds) {
          ASSERT_TRUE(col.count(name)) << name;
          CheckCell(kind, t[r][col.at(name)], name);
        }
        // A figure is empty exactly where no time was covered.
        const bool covered = std::stod(t[r][col.at("covered_gpu_hours")]) > 0;
        for (const char* f : {"density", "mean_utilisation", "energy_kwh", "peak_mem_gib"})
          EXPECT_EQ(t[r][col.at(f)].empty(), !covered) << f << " row " << r;
        const std::string kind = t[r][col.at("line_kind")];
        EXPECT_TRUE(kind == "usage" || kind == "unallocated" || kind == "unpriced") << kind;
        unallocated += kind == "unallocated";
        EXPECT_EQ(t[r][col.at("partial")], p.partial ? "true" : "false");
        EXPECT_EQ(t[r][col.at("by")], by);
        for (const char* f : {"density", "mean_utilisation", "share_of_total"}) {
          const std::string v = t[r][col.at(f)];
          if (!v.empty()) {
            EXPECT_LE(std::stod(v), 1.0) << f << " is a fraction";
          }
        }
        if (!t[r][col.at("cost")].empty()) sum += Micros(t[r][col.at("cost")]);
      }
      EXPECT_EQ(unallocated, 1);
      EXPECT_EQ(sum, ReportTotal(p)) << p.as_of << " by " << by;
      EXPECT_EQ(t[1][col.at("as_of")], p.partial ? p.as_of : "2026-11-15T12:00:00Z");
      EXPECT_EQ(t[1][col.at("period_end")], p.partial ? p.as_of : "2026-10-31T16:00:00Z");

      const auto j = nlohmann::json::parse(Export(p.month, "json", by, false, p.as_of));
      EXPECT_EQ(j["partial"].get<bool>(), p.partial);
      EXPECT_EQ(j["currency"], "CNY");
      EXPECT_TRUE(std::regex_match(j["period_start"].get<std::string>(), kDateTime));
      ASSERT_EQ(j["lines"].size(), t.size() - 1);
      int64_t jsum = 0;
      for (const auto& l : j["lines"]) {
        for (const char* k : {"jobs", "gpu_hours", "busy_gpu_hours"}) EXPECT_TRUE(l[k].is_number()) << k;
        const bool covered = l["covered_gpu_hours"].get<double>() > 0;
        for (const char* k : {"density", "mean_utilisation", "energy_kwh"})
          EXPECT_TRUE(covered ? l[k].is_number() : l[k].is_null()) << k << " " << l.dump();
        for (const char* k : {"cost", "direct_cost", "idle_share", "prev_cost"}) {
          ASSERT_TRUE(l.contains(k)) << k;
          EXPECT_TRUE(l[k].is_null() || (l[k].is_string() && IsDecimal(l[k].get<std::string>()))) << k;
        }
        if (l["cost"].is_string()) jsum += Micros(l["cost"].get<std::string>());
        int64_t parts = 0;
        for (const auto& part : l["by_gpu_model"])
          if (part["cost"].is_string()) parts += Micros(part["cost"].get<std::string>());
        if (l["cost"].is_string()) {
          EXPECT_EQ(parts, Micros(l["cost"].get<std::string>()));
        }
      }
      EXPECT_EQ(jsum, Micros(j["total"]["cost"].get<std::string>()));
    }
  }
}

// --share-idle exports the report --share-idle's lines, cost for cost, and still sums to
// the month's total; FOCUS and the workbook (each job's own charge) refuse it.
TEST_F(Exports, ShareIdleExportsAreTheShareIdleReportsLinesAndSumToTheTotal) {
  for (const Period& p : kPeriods) {
    std::vector<std::string> rep = {"report",   "--db", db_,    "--month", p.month,
                                    "--format", "json", "--by", "project", "--share-idle"};
    std::vector<std::string> exp = {"export",   "--db", db_,    "--month", p.month,
                                    "--format", "csv",  "--by", "project", "--share-idle"};
    if (!p.as_of.empty()) {
      rep.insert(rep.end(), {"--as-of", p.as_of});
      exp.insert(exp.end(), {"--as-of", p.as_of});
    }
    const auto r = nlohmann::json::parse(Cli(rep));
    std::map<std::string, std::pair<std::string, std::string>> want;  // key -> cost, idle share
    for (const auto& l : r["lines"]) want[l["key"]] = {l["cost"], l["idle_share"]};
    const Table t = ParseCsv(Cli(exp));
    const auto col = Columns(t);
    int64_t sum = 0, shared = 0;
    size_t usage = 0;
    for (size_t i = 1; i < t.size(); ++i) {
      if (!t[i][col.at("cost")].empty()) sum += Micros(t[i][col.at("cost")]);
      if (t[i][col.at("line_kind")] != "usage") continue;
      ++usage;
      const auto& [cost, idle] = want.at(t[i][col.at("key")]);
      EXPECT_EQ(Micros(t[i][col.at("cost")]), Micros(cost)) << t[i][col.at("key")];
      EXPECT_EQ(Micros(t[i][col.at("idle_share")]), Micros(idle)) << t[i][col.at("key")];
      shared += Micros(t[i][col.at("idle_share")]);
    }
    EXPECT_EQ(usage, want.size());
    EXPECT_GT(shared, 0) << "the demo month has unallocated capacity to share";
    EXPECT_EQ(sum, ReportTotal(p)) << p.as_of;
    // The total splits its money as the lines do: its direct cost and idle share are the
    // lines' sums (unallocated included), and they add up to its cost.
    auto m = [](const nlohmann::json& v) { return Micros(v.get<std::string>()); };
    int64_t direct = m(r["unallocated"]["direct_cost"]), idle = m(r["unallocated"]["idle_share"]);
    for (const auto& l : r["lines"]) {
      direct += m(l["direct_cost"]);
      idle += m(l["idle_share"]);
    }
    EXPECT_EQ(m(r["total"]["direct_cost"]), direct) << p.as_of;
    EXPECT_EQ(m(r["total"]["idle_share"]), idle) << p.as_of;
    EXPECT_EQ(idle, shared);
    EXPECT_EQ(m(r["total"]["cost"]), direct + idle);
    std::vector<std::string> exp_json = exp;
    exp_json[6] = "json";
    const auto ej = nlohmann::json::parse(Cli(exp_json));
    EXPECT_EQ(ej["total"]["direct_cost"], r["total"]["direct_cost"]);
    EXPECT_EQ(ej["total"]["idle_share"], r["total"]["idle_share"]);
  }
  for (const char* format : {"focus", "xlsx"}) {
    std::vector<std::string> a = {"gpuledger",   "export",   "--db", db_,     "--month",
                                  "2026-10",     "--format", format, "--out", dir_->path() + "/s.out",
                                  "--share-idle"};
    std::vector<const char*> argv;
    for (const auto& x : a) argv.push_back(x.c_str());
    std::ostringstream out, err;
    EXPECT_NE(RunCli(static_cast<int>(argv.size()), argv.data(), kClock, out, err), 0) << format;
    EXPECT_NE(err.str().find("share-idle applies to the csv and json exports"), std::string::npos)
        << err.str();
  }
}

TEST_F(Exports, JobsCsvAndJsonAreMachineReadable) {
  for (const Period& p : kPeriods) {
    std::vector<std::string> args = {"jobs", "--db", db_, "--month", p.month};
    if (!p.as_of.empty()) args.insert(args.end(), {"--as-of", p.as_of});
    auto with = [&](const char* format) {
      std::vector<std::string> a = args;
      a.insert(a.end(), {"--format", format});
      return Cli(a);
    };
    const std::string csv = with("csv");
    EXPECT_EQ(csv.find('%'), std::string::npos);
    const Table t = ParseCsv(csv);
    const auto col = Columns(t);
    ASSERT_GT(t.size(), 50u);
    const std::vector<std::string> numbers = {
        "gpu_hours",    "density",    "mean_utilisation", "peak_mem_gib",     "energy_kwh", "phase_loading",
        "phase_steady", "phase_tail", "phase_idle",       "over_limit_hours", "cost"};
    for (size_t r = 1; r < t.size(); ++r) {
      for (const std::string& n : numbers) {
        ASSERT_TRUE(col.count(n)) << n;
        // A figure with no sample behind it is empty, never 0.
        const std::string& v = t[r][col.at(n)];
        EXPECT_TRUE(IsDecimal(v) || (v.empty() && n != "gpu_hours" && n != "cost" && n != "over_limit_hours"))
            << n << " = " << v;
      }
      for (const char* f : {"density", "mean_utilisation", "phase_steady"}) {
        if (!t[r][col.at(f)].empty()) {
          EXPECT_LE(std::stod(t[r][col.at(f)]), 1.0) << f;
        }
      }
      EXPECT_EQ(t[r][col.at("partial")], p.partial ? "true" : "false");
      EXPECT_TRUE(std::regex_match(t[r][col.at("as_of")], kDateTimeMs));
      EXPECT_EQ(t[r][col.at("currency")], "CNY");
    }
    const auto j = nlohmann::json::parse(with("json"));
    EXPECT_EQ(j["partial"].get<bool>(), p.partial);
    ASSERT_EQ(j["jobs"].size(), t.size() - 1);
    for (const auto& job : j["jobs"]) {
      for (const std::string& n : numbers) {
        if (n == "cost") {
          EXPECT_TRUE(job[n].is_string() && IsDecimal(job[n].get<std::string>()));
        } else if (n == "gpu_hours" || n == "over_limit_hours") {
          EXPECT_TRUE(job[n].is_number()) << n;
        } else {
          EXPECT_TRUE(job[n].is_number() || job[n].is_null()) << n;  // null: no sample behind it
        }
      }
      for (const char* k : {"job", "user", "project", "department", "model", "status"})
        EXPECT_TRUE(job[k].is_string()) << k;
    }
  }
}

TEST_F(Exports, FocusRefusesAnotherGroupingAndOutWritesTheFile) {
  std::vector<const char*> argv = {"gpuledger", "export",   "--db",  db_.c_str(), "--month",
                                   "2026-10",   "--format", "focus", "--by",      "user"};
  std::ostringstream out, err;
  EXPECT_EQ(RunCli(static_cast<int>(argv.size()), argv.data(), kClock, out, err), 1);
  EXPECT_NE(err.str().find("--by user does not apply"), std::string::npos) << err.str();
  const std::string file = dir_->path() + "/oct.csv";
  EXPECT_EQ(Cli({"export", "--db", db_, "--month", "2026-10", "--format", "csv", "--out", file}), "");
  std::ifstream f(file);
  std::stringstream got;
  got << f.rdbuf();
  EXPECT_EQ(got.str(), Export("2026-10", "csv"));
}

// LibreOffice (Debian's libreoffice-calc-nogui), headless, with its profile in `dir`:
// converts `file` in `dir` with `convert_to`. False when soffice is not installed.
bool Soffice(const std::string& dir, const std::string& file, const std::string& convert_to, int* code) {
  if (std::system("command -v soffice >/dev/null 2>&1") != 0) return false;
  const std::string cmd = "cd '" + dir + "' && HOME='" + dir +
                          "' timeout 300 soffice --headless --convert-to '" + convert_to + "' --outdir '" +
                          dir + "' '" + file + "' >soffice.log 2>&1";
  *code = std::system(cmd.c_str());
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The number in a cell as LibreOffice writes it to CSV ("132120.23"), in micro-units.
int64_t CellMicros(const std::string& cell) {
  std::string digits;
  for (char c : cell) {
    if ((c >= '0' && c <= '9') || c == '.' || c == '-') digits += c;
  }
  return Micros(digits);
}

// Every sheet of a workbook as LibreOffice reads it: sheet name -> its CSV.
std::map<std::string, Table> Sheets(const std::string& dir, const std::string& xlsx) {
  int code = 0;
  // Field separator ',', quote '"', UTF-8, and every sheet (-1) to its own file.
  EXPECT_TRUE(Soffice(
      dir, xlsx, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", &code));
  EXPECT_EQ(code, 0) << ReadFile(dir + "/soffice.log");
  std::map<std::string, Table> out;
  const std::string stem = xlsx.substr(0, xlsx.rfind('.'));
  for (const char* sheet : {"Summary", "By department", "By project", "By user", "Idle capacity",
                            "Month over month", "By period"}) {
    const std::string path = dir + "/" + stem + "-" + sheet + ".csv";
    if (std::ifstream(path)) out[sheet] = ParseCsv(ReadFile(path));
  }
  return out;
}

TEST_F(Exports, WorkbookTotalsEqualTheReportAndLibreOfficeConvertsItToPdf) {
  testing::TempDir out;
  Cli({"export", "--db", db_, "--month", "2026-10", "--format", "xlsx", "--out", out.path() + "/oct.xlsx"});
  int code = 0;
  if (!Soffice(out.path(), "oct.xlsx", "pdf", &code))
    GTEST_SKIP() << "soffice is not installed (install-deps.sh)";
  ASSERT_EQ(code, 0) << ReadFile(out.path() + "/soffice.log");
  const std::string pdf = ReadFile(out.path() + "/oct.pdf");
  EXPECT_EQ(pdf.substr(0, 5), "%PDF-");
  EXPECT_GT(pdf.size(), 10'000u);

  const auto sheets = Sheets(out.path(), "oct.xlsx");
  ASSERT_EQ(sheets.size(), 6u);
  std::map<std::string, std::string> summary;
  for (const auto& row : sheets.at("Summary"))
    if (row.size() >= 2) summary[row[0]] = row[1];
  const auto report =
      nlohmann::json::parse(Cli({"report", "--db", db_, "--month", "2026-10", "--format", "json"}));
  EXPECT_EQ(CellMicros(summary.at("total cost")), Micros(report["total"]["cost"].get<std::string>()));
  EXPECT_EQ(CellMicros(summary.at("unallocated cost")),
            Micros(report["unallocated"]["cost"].get<std::string>()));
  // Each lines sheet's total row is the report's total; its lines and unallocated add up to it.
  for (const char* sheet : {"By department", "By project", "By user"}) {
    const Table& t = sheets.at(sheet);
    ASSERT_GE(t.size(), 2u) << sheet;
    ASSERT_EQ(t[0].size(), 12u) << sheet;
    EXPECT_EQ(t[0][11], "energy flags") << sheet;  // the last column: those before keep their places
    EXPECT_EQ(t.back()[1], "total") << sheet;
    EXPECT_EQ(t.back()[11], std::to_string(report["total"]["energy_flags"].get<int64_t>())) << sheet;
    int64_t sum = 0, total = -1;
    for (size_t r = 1; r < t.size(); ++r) {
      if (t[r].size() < 8 || t[r][7].empty()) continue;
      if (t[r][1] == "total") {
        total = CellMicros(t[r][7]);
      } else {
        sum += CellMicros(t[r][7]);
      }
    }
    EXPECT_EQ(total, Micros(report["total"]["cost"].get<std::string>())) << sheet;
    EXPECT_EQ(sum, total) << sheet;
  }
  // Month over month ends with the month, at the report's total.
  const Table& mom = sheets.at("Month over month");
  ASSERT_GE(mom.size(), 3u);
  EXPECT_EQ(mom.back()[0], "2026-10");
  EXPECT_EQ(CellMicros(mom.back()[1]), Micros(report["total"]["cost"].get<std::string>()));
}

TEST_F(Exports, TheDesensitisedWorkbookNamesNoUserOrJobInAnyCell) {
  testing::TempDir out;
  Cli({"export", "--db", db_, "--month", "2026-10", "--format", "xlsx", "--desensitised", "--out",
       out.path() + "/d.xlsx"});
  int code = 0;
  if (!Soffice(out.path(), "d.xlsx", "pdf", &code))
    GTEST_SKIP() << "soffice is not installed (install-deps.sh)";
  const auto sheets = Sheets(out.path(), "d.xlsx");
  EXPECT_EQ(sheets.count("By user"), 0u);
  ASSERT_EQ(sheets.size(), 5u);
  size_t cells = 0;
  for (const auto& [sheet, t] : sheets) {
    for (const auto& row : t) {
      for (const std::string& cell : row) {
        ++cells;
        for (const std::string& name : names_)
          ASSERT_EQ(cell.find(name), std::string::npos) << sheet << ": '" << cell << "' names " << name;
      }
    }
  }
  EXPECT_GT(cells, 100u);
}

// A range's workbook: its sheets are the whole range as one period (the range report's
// figures), its last sheet the range's periods at the grain, each at its period's total.
TEST_F(Exports, ARangesWorkbookIsTheRangeReportThenItsPeriods) {
  testing::TempDir out;
  const std::vector<std::string> range = {"--from", "2026-10-05", "--to", "2026-10-20"};
  std::vector<std::string> args = {
      "export", "--db", db_, "--grain", "day", "--format", "xlsx", "--out", out.path() + "/r.xlsx"};
  args.insert(args.end(), range.begin(), range.end());
  Cli(args);
  if (std::system("command -v soffice >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "soffice is not installed (install-deps.sh)";
  const auto sheets = Sheets(out.path(), "r.xlsx");
  ASSERT_EQ(sheets.size(), 6u);
  EXPECT_EQ(sheets.count("Month over month"), 0u);
  std::map<std::string, std::string> summary;
  for (const auto& row : sheets.at("Summary"))
    if (row.size() >= 2) summary[row[0]] = row[1];
  EXPECT_EQ(summary["range"], "2026-10-05 to 2026-10-20 (inclusive)");
  EXPECT_EQ(summary["grain"], "day");
  EXPECT_EQ(summary.count("month"), 0u);
  args = {"report", "--db", db_, "--format", "json"};
  args.insert(args.end(), range.begin(), range.end());
  const auto whole = nlohmann::json::parse(Cli(args));
  const int64_t total = Micros(whole["total"]["cost"].get<std::string>());
  EXPECT_EQ(CellMicros(summary.at("total cost")), total);
  for (const char* sheet : {"By department", "By project", "By user"}) {
    const Table& t = sheets.at(sheet);
    ASSERT_GE(t.size(), 2u) << sheet;
    EXPECT_EQ(t.back()[1], "total") << sheet;
    EXPECT_EQ(CellMicros(t.back()[7]), total) << sheet;
  }
  args.insert(args.end(), {"--grain", "day"});
  const auto days = nlohmann::json::parse(Cli(args))["periods"];
  const Table& by = sheets.at("By period");
  ASSERT_EQ(by.size(), 17u);  // the header and 16 days
  EXPECT_EQ(by[0][0], "period");
  for (size_t i = 0; i < days.size(); ++i) {
    EXPECT_EQ(by[i + 1][0], days[i]["period"].get<std::string>());
    EXPECT_EQ(CellMicros(by[i + 1][1]), Micros(days[i]["total"]["cost"].get<std::string>())) << by[i + 1][0];
    EXPECT_EQ(by[i + 1][6], "no");
  }
}

// The API on a small cluster: the roles, their scopes, finance's desensitised variant.
class ExportApi : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Ledger> Open() {
    auto l = GetParam() == "postgres" ? OpenPostgresLedger(conninfo_) : OpenLedger(dir_.path() + "/api.db");
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? std::move(l).value() : nullptr;
  }
  void SetUp() override {
    if (GetParam() == "postgres") {
      std::string why;
      auto conninfo = testing::NewPostgresDatabase(&why);
      if (!conninfo) GTEST_SKIP() << why;
      conninfo_ = *conninfo;
    }
    SimOptions o;
    o.seed = 5;
    o.month = {2026, 10};
    o.sample_interval_ms = 10 * kMinuteMs;
    o.a10g_nodes = 1;
    o.a100_nodes = 1;
    o.gpus_per_node = 2;
    o.load = 0.2;
    auto sim = testing::LoadSimulationInto(Open(), o, "Asia/Shanghai");
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    auto jobs = sim->ledger->ListJobs();
    for (const Job& j : *jobs) {
      names_.insert(j.id);
      names_.insert(j.user);
    }
    for (auto [role, project, dept] :
         {std::tuple{Role::kIngest, "", ""}, std::tuple{Role::kUser, "pcb-solder-qc", ""},
          std::tuple{Role::kDeptAdmin, "", "retail"}, std::tuple{Role::kFinance, "", ""},
          std::tuple{Role::kAdmin, "", ""}}) {
      auto t = MakeToken(role, project, dept, kClock.Now());
      ASSERT_TRUE(t.ok());
      ASSERT_TRUE(sim->ledger->PutToken(t->record).ok());
      tokens_[role] = t->secret;
    }
    ServerOptions opt;
    opt.port = 0;
    opt.journal_dir = dir_.path() + "/journal";
    server_ = std::make_unique<Server>(std::move(sim->ledger), kClock, opt);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  int Get(const std::string& path, std::optional<Role> role, std::string* body = nullptr) {
    httplib::Headers h;
    if (role) h = {{"Authorization", "Bearer " + tokens_[*role]}};
    auto res = client_->Get(path.c_str(), h);
    if (!res) return -1;
    if (body) *body = res->body;
    return res->status;
  }

  testing::TempDir dir_;
  std::string conninfo_;
  std::set<std::string> names_;
  std::map<Role, std::string> tokens_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_P(ExportApi, EachRoleGetsWhatItMaySee) {
  const std::string base = "/api/v1/exports/2026-10";
  EXPECT_EQ(Get(base + "?format=csv", std::nullopt), 401);
  EXPECT_EQ(Get(base + "?format=csv", Role::kIngest), 403);
  EXPECT_EQ(Get(base + "?format=xml", Role::kAdmin), 400);
  EXPECT_EQ(Get(base + "?format=csv&desensitised=maybe", Role::kAdmin), 400);
  EXPECT_EQ(Get(base + "?format=csv&bogus=1", Role::kAdmin), 400);
  EXPECT_EQ(Get("/api/v1/exports/2026-13?format=csv", Role::kAdmin), 400);
  EXPECT_EQ(Get(base + "?format=focus&by=user", Role::kAdmin), 400);

  std::string body;
  ASSERT_EQ(Get(base + "?format=focus", Role::kAdmin, &body), 200);
  EXPECT_NE(body.find("job-2026-"), std::string::npos) << "the admin's plain FOCUS export names jobs";
  EXPECT_NE(body.find("unallocated"), std::string::npos);
  const int64_t admin_rows = static_cast<int64_t>(ParseCsv(body).size());

  // Finance: always desensitised, in every format; no grouping by user or job names.
  for (const char* q : {"?format=focus", "?format=csv", "?format=json", "?format=csv&by=project",
                        "?format=focus&desensitised=0"}) {
    ASSERT_EQ(Get(base + q, Role::kFinance, &body), 200) << q;
    const bool json = std::string(q).find("json") != std::string::npos;
    for (const std::string& cell : Strings(body, json))
      for (const std::string& name : names_)
        ASSERT_EQ(cell.find(name), std::string::npos) << q << ": " << cell;
  }
  ASSERT_EQ(Get(base + "?format=focus", Role::kFinance, &body), 200);
  EXPECT_EQ(static_cast<int64_t>(ParseCsv(body).size()), admin_rows) << "the same rows, keyed by salted ids";
  // The workbook, desensitised for finance (no user sheet: its cells are checked above).
  ASSERT_EQ(Get(base + "?format=xlsx", Role::kFinance, &body), 200);
  EXPECT_EQ(body.substr(0, 4), std::string("PK\x03\x04", 4)) << "an XLSX is a zip";
  ASSERT_EQ(Get(base + "?format=xlsx", Role::kAdmin, &body), 200);
  EXPECT_EQ(body.substr(0, 4), std::string("PK\x03\x04", 4));
  // The file names a download is saved under say the format and the variant.
  for (auto [q, role, name] : {std::tuple{"?format=xlsx", Role::kAdmin, "gpuledger-2026-10-xlsx.xlsx"},
                               std::tuple{"?format=xlsx", Role::kFinance, "gpuledger-2026-10-xlsx-desensitised.xlsx"},
                               std::tuple{"?format=focus", Role::kAdmin, "gpuledger-2026-10-focus.csv"},
                               std::tuple{"?format=csv", Role::kAdmin, "gpuledger-2026-10-csv.csv"}}) {
    auto res = client_->Get((base + q).c_str(), {{"Authorization", "Bearer " + tokens_[role]}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->get_header_value("Content-Disposition"), std::string("attachment; filename=\"") + name + "\"")
        << q;
  }
  EXPECT_EQ(Get(base + "?format=xlsx&by=project", Role::kAdmin), 400);
  // share_idle: csv and json only, true or false.
  EXPECT_EQ(Get(base + "?format=csv&share_idle=maybe", Role::kAdmin), 400);
  EXPECT_EQ(Get(base + "?format=focus&share_idle=true", Role::kAdmin), 400);
  EXPECT_EQ(Get(base + "?format=xlsx&share_idle=true", Role::kFinance), 400);
  // The lines of the share-idle report, cost for cost.
  ASSERT_EQ(Get(base + "?format=json&by=project&share_idle=true", Role::kFinance, &body), 200);
  std::string report;
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-10&by=project&share_idle=true", Role::kFinance, &report),
            200);
  std::map<std::string, std::string> want;
  const nlohmann::json report_json = nlohmann::json::parse(report), export_json = nlohmann::json::parse(body);
  for (const auto& l : report_json["lines"]) want[l["key"]] = l["cost"];
  size_t lines = 0;
  for (const auto& l : export_json["lines"]) {
    if (l["line_kind"] != "usage") continue;
    ++lines;
    EXPECT_EQ(l["cost"], want[l["key"].get<std::string>()]) << l.dump();
  }
  EXPECT_EQ(lines, want.size());
  EXPECT_EQ(Get(base + "?format=csv&by=user", Role::kFinance), 403);
  EXPECT_EQ(Get(base + "?format=json&by=job", Role::kFinance), 403);

  // A user: its project's jobs only, no cluster capacity.
  ASSERT_EQ(Get(base + "?format=focus", Role::kUser, &body), 200);
  Table t = ParseCsv(body);
  auto col = Columns(t);
  ASSERT_GT(t.size(), 1u);
  for (size_t r = 1; r < t.size(); ++r) {
    EXPECT_EQ(t[r][col.at("SubAccountId")], "pcb-solder-qc");
    EXPECT_EQ(t[r][col.at("x_LineKind")], "usage");
  }
  // A department admin: its department's.
  ASSERT_EQ(Get(base + "?format=csv&by=project", Role::kDeptAdmin, &body), 200);
  EXPECT_NE(body.find("shelf-monitoring"), std::string::npos);
  EXPECT_EQ(body.find("defect-detection-line3"), std::string::npos);
  EXPECT_EQ(body.find("unallocated"), std::string::npos);
  ASSERT_EQ(Get(base + "?format=json", Role::kDeptAdmin, &body), 200);
  EXPECT_EQ(nlohmann::json::parse(body)["scope"]["department"], "retail");

  // Every read audited, with what was read.
  auto ledger = Open();
  ASSERT_TRUE(ledger);
  auto audit = ledger->ListAudit();
  ASSERT_TRUE(audit.ok());
  int exports = 0;
  bool finance_desensitised = false;
  for (const AuditEntry& e : *audit) {
    if (e.action != "GET /api/v1/exports/{month}" || e.status != 200) continue;
    ++exports;
    if (e.role == "finance" && e.detail.find("desensitised") != std::string::npos)
      finance_desensitised = true;
  }
  EXPECT_EQ(exports, 17);  // the 200s above
  EXPECT_TRUE(finance_desensitised);
}

// Ranges over the API (docs/METERING.md "Ranges"): the report and the exports of any date
// range, scoped by role as the month is, their refusals named, every read audited.
TEST_P(ExportApi, RangesAreReadAndScopedAsTheMonth) {
  const std::string q = "?from=2026-10-01&to=2026-10-07&grain=day";
  EXPECT_EQ(Get("/api/v1/reports/range" + q, std::nullopt), 401);
  EXPECT_EQ(Get("/api/v1/reports/range" + q, Role::kIngest), 403);
  EXPECT_EQ(Get("/api/v1/reports/range?from=2026-10-01", Role::kAdmin), 400);
  EXPECT_EQ(Get("/api/v1/reports/range" + q + "&bogus=1", Role::kAdmin), 400);
  EXPECT_EQ(Get("/api/v1/reports/range?from=2026-10-01&to=2026-10-07&grain=hour", Role::kAdmin), 400);
  EXPECT_EQ(Get("/api/v1/reports/range?from=2026-12-01&to=2026-12-02", Role::kAdmin), 409) << "not begun";
  std::string body;
  ASSERT_EQ(Get("/api/v1/reports/range" + q, Role::kAdmin, &body), 200) << body;
  auto j = nlohmann::json::parse(body);
  ASSERT_EQ(j["periods"].size(), 7u);
  int64_t sum = 0;
  for (const auto& p : j["periods"]) sum += Micros(p["total"]["cost"].get<std::string>());
  EXPECT_EQ(Micros(j["total"]["cost"].get<std::string>()), sum);
  // A user's range holds its project's jobs only.
  ASSERT_EQ(Get("/api/v1/reports/range" + q + "&by=project", Role::kUser, &body), 200) << body;
  j = nlohmann::json::parse(body);
  for (const auto& p : j["periods"]) {
    EXPECT_EQ(p["scope"]["project"], "pcb-solder-qc");
    for (const auto& l : p["lines"]) EXPECT_EQ(l["key"], "pcb-solder-qc");
  }
  EXPECT_EQ(Get("/api/v1/reports/range" + q + "&by=user", Role::kFinance), 403);
  // The range exports: FOCUS by day sums to the range report's total; finance's names no one.
  ASSERT_EQ(Get("/api/v1/exports/range" + q + "&format=focus", Role::kAdmin, &body), 200) << body;
  Table t = ParseCsv(body);
  auto col = Columns(t);
  int64_t billed = 0;
  for (size_t r = 1; r < t.size(); ++r) billed += Micros(t[r][col.at("BilledCost")]);
  EXPECT_EQ(billed, sum);
  auto res = client_->Get(("/api/v1/exports/range" + q + "&format=csv").c_str(),
                          {{"Authorization", "Bearer " + tokens_[Role::kFinance]}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "attachment; filename=\"gpuledger-2026-10-01..2026-10-07-day-csv-desensitised.csv\"");
  for (const std::string& cell : Strings(res->body, false))
    for (const std::string& name : names_) ASSERT_EQ(cell.find(name), std::string::npos) << cell;
  EXPECT_EQ(Get("/api/v1/exports/range?from=2026-10-01&format=csv", Role::kAdmin), 400);
  EXPECT_EQ(Get("/api/v1/exports/2026-10?format=csv&from=2026-10-01", Role::kAdmin), 400)
      << "a month takes no range";
  // The range's workbook: finance gets the desensitised one (no "By user" sheet).
  res = client_->Get(("/api/v1/exports/range" + q + "&format=xlsx").c_str(),
                     {{"Authorization", "Bearer " + tokens_[Role::kFinance]}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body.substr(0, 2), "PK");  // a ZIP container
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "attachment; filename=\"gpuledger-2026-10-01..2026-10-07-day-xlsx-desensitised.xlsx\"");
  EXPECT_EQ(Get("/api/v1/exports/range" + q + "&format=xlsx&by=project", Role::kAdmin), 400);
  // Audited: who read which range.
  ASSERT_EQ(Get("/api/v1/audit?limit=1000", Role::kAdmin, &body), 200);
  EXPECT_NE(body.find("from=2026-10-01 to=2026-10-07 grain=day by=project"), std::string::npos);
  EXPECT_NE(body.find("range=2026-10-01..2026-10-07-day format=focus"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, ExportApi, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace gpuledger
