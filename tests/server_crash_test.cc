// Durability: the real gpuledger binary serves remote write, is killed with SIGKILL while
// a sender is writing, and restarted. Every sample acknowledged before the kill is in the
// ledger after the restart (replayed from the journal); the sender's retries (of
// everything, acknowledged or not) add no duplicates.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <snappy.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "child_process.h"
#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "ledger/ledger.h"
#include "server/auth.h"

namespace gpuledger {
namespace {

using testing::Child;

// Retention off: the samples are stamped October 2026 and the server reads the real clock.
Child StartServer(const std::string& db) { return testing::StartServer(db, 0, {"--retention", "0"}); }

constexpr TimeMs kT0 = 1790812800000;

std::string Body(int i) {
  const RwLabels labels = {
      {"UUID", "GPU-crash-1"}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"}, {"modelName", "A10G"}};
  const std::string raw =
      RwRequestV1({RwSeriesV1(labels, {{static_cast<double>(i % 100), kT0 + i * 10'000}})});
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// Sample times the ledger holds.
std::set<TimeMs> LedgerTimes(const std::string& db, int64_t* count = nullptr) {
  auto ledger = OpenLedger(db);
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  std::set<TimeMs> out;
  int64_t n = 0;
  if (ledger.ok()) {
    EXPECT_TRUE((*ledger)
                    ->ScanSamples("GPU-crash-1", {kMinTimeMs, kMaxTimeMs},
                                  [&](const Sample& s) {
                                    ++n;
                                    out.insert(s.t);
                                  })
                    .ok());
  }
  if (count) *count = n;
  return out;
}

TEST(ServerCrash, AcknowledgedSamplesSurviveSigkillAndRetriesDoNotDuplicate) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/crash.db";
  std::string token;
  {
    auto ledger = OpenLedger(db);
    ASSERT_TRUE(ledger.ok());
    auto t = MakeToken(Role::kIngest, "", "", kT0);
    ASSERT_TRUE((*ledger)->PutToken(t->record).ok());
    token = t->secret;
  }
  const httplib::Headers auth = {{"Authorization", "Bearer " + token}, {"Content-Encoding", "snappy"}};
  constexpr int kRequests = 400;
  std::vector<std::atomic<bool>> acked(kRequests);

  Child server = StartServer(db);
  ASSERT_GT(server.port, 0);
  std::atomic<int> acks{0};
  std::thread sender([&] {
    httplib::Client client("127.0.0.1", server.port);
    for (int i = 0; i < kRequests; ++i) {
      auto res = client.Post("/api/v1/write", auth, Body(i), "application/x-protobuf");
      if (!res) break;  // the server is gone
      if (res->status == 204) {
        acked[static_cast<size_t>(i)] = true;
        ++acks;
      }
    }
  });
  while (acks < 100) std::this_thread::yield();
  kill(server.pid, SIGKILL);  // mid-stream: the sender has requests in flight
  sender.join();
  int status = 0;
  waitpid(server.pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  const int acked_before = acks.load();
  ASSERT_LT(acked_before, kRequests) << "the kill came too late to interrupt the sender";

  // Restart and stop at once: the journal's replay puts every acknowledged sample in the
  // ledger.
  {
    Child quiet = StartServer(db);
    ASSERT_GT(quiet.port, 0);
    kill(quiet.pid, SIGTERM);
    waitpid(quiet.pid, &status, 0);
    const std::set<TimeMs> stored = LedgerTimes(db);
    for (int i = 0; i < kRequests; ++i) {
      if (acked[static_cast<size_t>(i)]) {
        EXPECT_TRUE(stored.count(kT0 + i * 10'000)) << "acknowledged sample " << i << " not in the ledger";
      }
    }
  }

  // Restart on the same ledger; the sender retries everything (duplicates included).
  Child again = StartServer(db);
  ASSERT_GT(again.port, 0);
  {
    httplib::Client client("127.0.0.1", again.port);
    for (int i = 0; i < kRequests; ++i) {
      auto res = client.Post("/api/v1/write", auth, Body(i), "application/x-protobuf");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 204) << res->body;
    }
  }
  kill(again.pid, SIGTERM);
  waitpid(again.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful stop on SIGTERM";

  int64_t rows = 0;
  const std::set<TimeMs> times = LedgerTimes(db, &rows);
  EXPECT_EQ(rows, kRequests) << "one sample per request: no duplicates, none lost";
  for (int i = 0; i < kRequests; ++i) {
    if (acked[static_cast<size_t>(i)]) {
      EXPECT_TRUE(times.count(kT0 + i * 10'000)) << "acknowledged sample " << i;
    }
  }
  RecordProperty("acknowledged_before_kill", acked_before);
}

}  // namespace
}  // namespace gpuledger
