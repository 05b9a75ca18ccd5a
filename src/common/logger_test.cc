#include "common/logger.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace gpuledger {
namespace {

TEST(Logger, OneEventIsOneLineOfKeyValueFieldsQuotedWhenNeeded) {
  const std::vector<LogField> fields = {{"count", int64_t{42}},
                                        {"cutoff", "2026-09-01T00:00:00Z"},
                                        {"status", Unavailable("no connection to the server\nretry")},
                                        {"empty", ""},
                                        {"quote", "say \"hi\" \\ ok"},
                                        {"ok", true}};
  EXPECT_EQ(FormatLogLine(1790812800123, LogLevel::kWarning, "retention_dropped", fields),
            "2026-10-01T00:00:00.123Z WARN retention_dropped count=42 cutoff=2026-09-01T00:00:00Z "
            "status=\"UNAVAILABLE: no connection to the server\\nretry\" empty=\"\" quote=\"say \\\"hi\\\" "
            "\\\\ ok\" "
            "ok=true");
  EXPECT_EQ(FormatLogLine(0, LogLevel::kInfo, "x",
                          std::vector<LogField>{{"bell",
                                                 "a\x07"
                                                 "b"}}),
            "1970-01-01T00:00:00Z INFO x bell=\"a\\x07b\"");
}

TEST(Logger, TheStderrLoggerWritesLinesAtItsLevelAndAbove) {
  SimulatedClock clock(1790812800000);
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  StderrLogger logger(clock, LogLevel::kInfo, f);
  logger.Debug("too_chatty");
  logger.Info("started", {{"port", 8080}});
  logger.Error("failed", {{"status", Internal("boom")}});
  std::rewind(f);
  char buf[512] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n),
            "2026-10-01T00:00:00Z INFO started port=8080\n"
            "2026-10-01T00:00:00Z ERROR failed status=\"INTERNAL: boom\"\n");
}

TEST(FailureLog, AFailureRetriedAHundredTimesIsLoggedOnceThenItsRecovery) {
  CapturingLogger logger;
  FailureLog flush(logger, "journal_flush");
  flush.Succeeded();  // working: nothing to say
  for (int i = 0; i < 100; ++i) flush.Failed(Unavailable("no connection to the server"));
  EXPECT_EQ(flush.failures(), 100);
  flush.Record(OkStatus());
  ASSERT_EQ(logger.records().size(), 2u) << logger.Text();
  const auto failed = logger.Events("journal_flush_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].level, LogLevel::kWarning);
  EXPECT_EQ(failed[0].Field("status"), "UNAVAILABLE: no connection to the server");
  EXPECT_EQ(failed[0].Field("failures"), "1");
  const auto recovered = logger.Events("journal_flush_recovered");
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].level, LogLevel::kInfo);
  EXPECT_EQ(recovered[0].Field("failures"), "100");
  EXPECT_EQ(flush.failures(), 0);
}

TEST(FailureLog, ANewCauseIsLoggedWhenItsMessageChanges) {
  CapturingLogger logger;
  FailureLog scrape(logger, "scrape", {{"target", "http://node1:9400/metrics"}});
  scrape.Failed(Unavailable("connection refused"));
  scrape.Failed(Unavailable("connection refused"));
  scrape.Failed(InvalidArgument("line 3: no value"));
  scrape.Failed(InvalidArgument("line 3: no value"));
  scrape.Succeeded();
  scrape.Failed(Unavailable("connection refused"));  // a new run of failures
  const auto failed = logger.Events("scrape_failed");
  ASSERT_EQ(failed.size(), 3u) << logger.Text();
  EXPECT_EQ(failed[0].Field("target"), "http://node1:9400/metrics");
  EXPECT_EQ(failed[1].Field("status"), "INVALID_ARGUMENT: line 3: no value");
  EXPECT_EQ(failed[1].Field("failures"), "3");
  EXPECT_EQ(failed[2].Field("failures"), "1");
  ASSERT_EQ(logger.Count("scrape_recovered"), 1u);
  EXPECT_EQ(logger.Events("scrape_recovered")[0].Field("failures"), "4");
}

}  // namespace
}  // namespace gpuledger
