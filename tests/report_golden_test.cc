// Golden reports: a simulated month rendered as table, CSV and JSON must match the
// files in tests/golden/ byte for byte, also under a comma-decimal locale (de_DE).
// Regenerate after an intended change with GPULEDGER_UPDATE_GOLDEN=1.
#include <gtest/gtest.h>

#include <clocale>
#include <fstream>
#include <locale>
#include <sstream>

#include "common/test_util.h"
#include "report/render.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

const std::string kGolden = std::string(GPULEDGER_SOURCE_DIR) + "/tests/golden/";

std::map<std::string, std::string> Render() {
  testing::TempDir dir;
  SimOptions o;
  o.seed = 7;
  o.month = {2026, 10};
  o.sample_interval_ms = 5 * kMinuteMs;
  o.a10g_nodes = 1;
  o.a100_nodes = 1;
  o.gpus_per_node = 4;
  o.load = 0.3;
  auto sim = testing::LoadSimulation(dir.path() + "/g.db", o, "Asia/Shanghai");
  EXPECT_TRUE(sim.ok()) << sim.status().ToString();
  auto ctx = LoadBooksContext(*sim->ledger);
  const TimeMs as_of = ctx->tz.MonthWindow(o.month)->end;  // the month has just ended
  auto dept = BuildMonthlyReport(*sim->ledger, *ctx, o.month, as_of, GroupBy::kDepartment, false);
  auto model = BuildMonthlyReport(*sim->ledger, *ctx, o.month, as_of, GroupBy::kModel, true);
  auto lb = BuildLeaderboard(*sim->ledger, *ctx, o.month, as_of);
  EXPECT_TRUE(dept.ok() && model.ok() && lb.ok());
  return {{"department.txt", RenderReportTable(*dept)},
          {"department.csv", RenderReportCsv(*dept)},
          {"model_share_idle.json", RenderReportJson(*model)},
          {"leaderboard.txt", RenderLeaderboardTable(*lb)}};
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ReportGolden, MatchesGoldenFiles) {
  const bool update = std::getenv("GPULEDGER_UPDATE_GOLDEN") != nullptr;
  for (const auto& [name, text] : Render()) {
    if (update) std::ofstream(kGolden + name) << text;
    EXPECT_EQ(text, Read(kGolden + name))
        << name << " differs; if intended, rerun with GPULEDGER_UPDATE_GOLDEN=1";
  }
}

TEST(ReportGolden, IdenticalUnderCommaDecimalLocale) {
  const auto plain = Render();
  const char* prev = std::setlocale(LC_ALL, nullptr);
  const std::string saved = prev ? prev : "C";
  if (std::setlocale(LC_ALL, "de_DE.UTF-8") == nullptr) {
    GTEST_SKIP() << "locale de_DE.UTF-8 is not installed (scripts/install-deps.sh builds it)";
  }
  std::locale::global(std::locale("de_DE.UTF-8"));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f", 1.5);
  EXPECT_STREQ(buf, "1,5");  // the locale really is comma-decimal
  const auto german = Render();
  std::locale::global(std::locale::classic());
  std::setlocale(LC_ALL, saved.c_str());
  EXPECT_EQ(german, plain);
}

}  // namespace
}  // namespace gpuledger
