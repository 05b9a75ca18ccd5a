#include "cli/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/test_util.h"

namespace gpuledger {
namespace {

struct Run {
  int code;
  std::string out, err;
};

Run Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "gpuledger");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

TEST(Cli, HelpListsSubcommands) {
  Run r = Cli({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* sub : {"init", "import", "report", "jobs", "leaderboard", "demo"}) {
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
  }
}

}  // namespace
}  // namespace gpuledger
