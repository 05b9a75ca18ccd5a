#include "server/access_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/test_util.h"

namespace gpuledger {
namespace {

TEST(AccessLog, OneLineOfKeyValuePairsWithoutTheQuery) {
  AccessRecord r{1794744000123, "10.0.0.7", 51234, "GET", "/api/v1/jobs/job-1", 200, 12, "tok_ab12"};
  EXPECT_EQ(FormatAccessLine(r),
            "ts=2026-11-15T12:00:00.123Z remote=10.0.0.7:51234 method=GET path=/api/v1/jobs/job-1 status=200 "
            "duration_ms=12 token=tok_ab12\n");
}

TEST(AccessLog, EscapesWhatWouldSplitOrForgeALine) {
  AccessRecord r{1794744000000, "10.0.0.7", 1, "GET", "/api/v1/jobs/a b\n\x1b[31m=\"\\", 404, 0, ""};
  const std::string line = FormatAccessLine(r);
  EXPECT_NE(line.find("path=/api/v1/jobs/a\\x20b\\x0a\\x1b[31m\\x3d\\x22\\x5c status=404"), std::string::npos)
      << line;
  EXPECT_NE(line.find("token=-\n"), std::string::npos) << "no token: a dash";
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(AccessLog, AppendsToAFile) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/access.log";
  {
    auto log = AccessLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_TRUE((*log)->Write({1794744000000, "::1", 2, "POST", "/api/v1/write", 204, 3, "tok_x"}));
  }
  auto again = AccessLog::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->Write({1794744000001, "::1", 2, "GET", "/healthz", 200, 0, ""}));
  std::ifstream in(path);
  std::stringstream got;
  got << in.rdbuf();
  const std::string text = got.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  auto bad = AccessLog::Open(dir.path() + "/missing/dir/access.log");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("missing/dir/access.log"), std::string::npos);
}

}  // namespace
}  // namespace gpuledger
