// The server with --notify: it starts the outbox's sender, EnqueueNotice stores and
// delivers through it (to a real local HTTP peer), /metrics counts it, and a bad notify
// config keeps the server from starting, naming the file.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>

#include "common/test_util.h"
#include "notify/test_peer.h"
#include "policy/actions.h"
#include "server/server.h"

namespace gpuledger {
namespace {

class ServerNotify : public ::testing::Test {
 protected:
  std::unique_ptr<Server> Make(const std::string& notify_file) {
    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
    EXPECT_TRUE(l.ok());
    ServerOptions o;
    o.port = 0;
    o.journal_dir = "";
    o.notify_config = notify_file;
    return std::make_unique<Server>(std::move(l).value(), clock_, std::move(o));
  }
  std::string WriteConfig(const std::string& json) {
    const std::string path = dir_.path() + "/notify.json";
    std::ofstream(path) << json;
    return path;
  }
  testing::TempDir dir_;
  testing::HttpPeer peer_;
  SimulatedClock clock_{1796205600000};
};

TEST_F(ServerNotify, ANoticeEnqueuedThroughTheServerIsDeliveredAndCounted) {
  auto server = Make(WriteConfig(R"({"channels": {"h": {"type": "webhook", "url": ")" + peer_.base() +
                                 R"(/h"}}, "audiences": {"finance": ["h"]}})"));
  ASSERT_TRUE(server->Start().ok());
  Notice n;
  n.cause_key = "budget/p/2026-12/80";
  n.event = "budget.80";
  n.project = "p";
  n.audiences = {Audience::kFinance};
  ASSERT_TRUE(server->EnqueueNotice(n).ok());
  ASSERT_TRUE(server->EnqueueNotice(n).ok());  // the same cause: nothing more
  peer_.WaitFor(1);
  httplib::Client c("127.0.0.1", server->port());
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("gpuledger_notify_queued_total 1\n"), std::string::npos);
  server->Stop();
  EXPECT_EQ(peer_.count(), 1u);
  auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
  auto d = (*l)->ListDeliveries("");
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ(d->front().state, DeliveryState::kSent);
}

TEST_F(ServerNotify, WithoutANotifyConfigEnqueueSaysNotificationsAreOff) {
  auto server = Make("");
  ASSERT_TRUE(server->Start().ok());
  EXPECT_EQ(server->notice_sink(), nullptr);
  Notice n;
  n.cause_key = "k";
  n.event = "idle.warn";
  Status s = server->EnqueueNotice(n);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "notifications are off: the server was started without --notify");
}

TEST_F(ServerNotify, ABadNotifyConfigKeepsTheServerFromStarting) {
  const std::string path = WriteConfig(R"({"channels": {"h": {"type": "webhook"}}})");
  auto server = Make(path);
  Status s = server->Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "notify config '" + path + "': channels.h.url is missing");
}

}  // namespace
}  // namespace gpuledger
