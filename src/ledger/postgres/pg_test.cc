// The reconnect policy (Reachability: capped exponential backoff on a simulated clock,
// nothing sleeps) against a port nothing listens on, and the retry rule of a connection
// whose server drops it (a backend terminated as a restart does: SQLSTATE 57P01) against
// the test cluster.
#include "ledger/postgres/pg.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "ledger/test_pg.h"

namespace gpuledger::pg {
namespace {

// A loopback port nothing listens on: bound, never listened on, closed.
int DeadPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(RedactLedgerUrl, NoPasswordReachesAnErrorMessage) {
  EXPECT_EQ(RedactLedgerUrl("postgresql://ledger:s3cr:et@db.internal:5432/gpuledger"),
            "postgresql://ledger:***@db.internal:5432/gpuledger");
  EXPECT_EQ(RedactLedgerUrl("postgres://ledger@db/x?password=s3cret&sslmode=require"),
            "postgres://ledger@db/x?password=***&sslmode=require");
  EXPECT_EQ(RedactLedgerUrl("host=db user=ledger password=s3cret dbname=x"),
            "host=db user=ledger password=*** dbname=x");
  EXPECT_EQ(RedactLedgerUrl("postgresql://ledger@db/x"), "postgresql://ledger@db/x");
  EXPECT_EQ(RedactLedgerUrl("postgresql:///x?host=/run/postgresql"), "postgresql:///x?host=/run/postgresql");
}

TEST(Reachability, FailedConnectsBackOffOnTheClockAndASuccessResets) {
  SimulatedClock clock(1'000'000);
  Reachability reach(clock, {.initial_ms = 100, .max_ms = 400, .multiplier = 2});
  const std::string url = "host=127.0.0.1 port=" + std::to_string(DeadPort()) + " user=x dbname=x";
  EXPECT_TRUE(reach.Get().up);

  auto first = Conn::Open(url, &reach);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(reach.Get().up);
  EXPECT_EQ(reach.Get().failed_connects, 1);
  EXPECT_EQ(reach.Get().down_since_ms, 1'000'000);

  // Refused without a connect until the delay has passed; the delays grow to the cap.
  for (DurationMs delay : {100, 200, 400, 400}) {
    auto early = Conn::Open(url, &reach);
    ASSERT_FALSE(early.ok());
    EXPECT_NE(early.status().message().find("next attempt in " + std::to_string(delay) + " ms"),
              std::string::npos)
        << early.status().message();
    const int before = reach.Get().failed_connects;
    clock.Advance(delay - 1);
    EXPECT_FALSE(reach.ConnectDue());
    EXPECT_FALSE(Conn::Open(url, &reach).ok());
    EXPECT_EQ(reach.Get().failed_connects, before) << "no connect tried before the delay";
    clock.Advance(1);
    EXPECT_TRUE(reach.ConnectDue());
    EXPECT_FALSE(Conn::Open(url, &reach).ok());  // tried, failed again
    EXPECT_EQ(reach.Get().failed_connects, before + 1);
  }
  EXPECT_EQ(reach.Get().next_attempt_ms, clock.Now() + 400);

  // One connect at a time while away: a second caller is answered at once.
  clock.Advance(400);
  ASSERT_TRUE(reach.BeginConnect().ok());
  Status second = reach.BeginConnect();
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.message().find("a reconnect is being tried"), std::string::npos) << second.message();
  reach.Connected();
  EXPECT_TRUE(reach.Get().up);
  EXPECT_EQ(reach.Get().reconnects, 1);
  EXPECT_TRUE(reach.ConnectDue());
  // A connection lost later: away at once, but the first reconnect is not held back.
  reach.Lost(Unavailable("gone"));
  EXPECT_FALSE(reach.Get().up);
  EXPECT_TRUE(reach.ConnectDue());
  ASSERT_TRUE(reach.BeginConnect().ok());
  reach.ConnectFailed(Unavailable("still gone"));
  EXPECT_FALSE(reach.ConnectDue());
  clock.Advance(100);
  EXPECT_TRUE(reach.ConnectDue()) << "the backoff started again from its initial delay";
}

class DroppedConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    auto conninfo = testing::NewPostgresDatabase(&why);
    if (!conninfo) GTEST_SKIP() << why;
    conninfo_ = *conninfo;
    auto admin = Conn::Open(conninfo_);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(*admin);
    auto c = Conn::Open(conninfo_, &reach_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    c_ = std::move(*c);
    ASSERT_TRUE(c_->Exec("CREATE TABLE t (k BIGINT PRIMARY KEY)").ok());
  }
  // Terminates c_'s backend as PostgreSQL's fast shutdown does (57P01), and waits for it to be gone.
  void DropIt() {
    auto pid = c_->Exec("SELECT pg_backend_pid()");
    ASSERT_TRUE(pid.ok());
    ASSERT_TRUE(admin_->Exec("SELECT pg_terminate_backend($1, 5000)", {P(pid->Int(0, 0))}).ok());
  }
  int64_t Rows() {
    auto r = admin_->Exec("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->Int(0, 0) : -1;
  }

  SimulatedClock clock_{1'000'000};
  Reachability reach_{clock_};
  std::string conninfo_;
  std::unique_ptr<Conn> admin_, c_;
};

TEST_F(DroppedConnection, AnIdleConnectionTheServerClosedIsReplacedBeforeTheNextStatement) {
  DropIt();
  // Nothing was sent on the dead connection: the statement runs on a new one.
  auto r = c_->Exec("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Rows(), 1);
  EXPECT_EQ(reach_.Get().losses, 1);
  EXPECT_EQ(reach_.Get().reconnects, 1);
  EXPECT_TRUE(reach_.Get().up);
}

TEST_F(DroppedConnection, ALossInsideATransactionFailsItAndItMayBeRunAgain) {
  const Conn::Mark mark = c_->mark();
  {
    Transaction tx(*c_);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(c_->Exec("INSERT INTO t VALUES (1)").ok());
    DropIt();
    Status s = c_->Exec("INSERT INTO t VALUES (2)").status();
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    Status commit = tx.Commit();
    EXPECT_EQ(commit.code(), StatusCode::kUnavailable);
    EXPECT_NE(commit.message().find("rolled the transaction back"), std::string::npos) << commit.message();
  }
  EXPECT_TRUE(c_->SafeToRetrySince(mark)) << "nothing that could commit was sent";
  EXPECT_EQ(Rows(), 0);
  // Run again: the first statement reconnects.
  Transaction tx(*c_);
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE(c_->Exec("INSERT INTO t VALUES (1)").ok());
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(Rows(), 1);
}

TEST_F(DroppedConnection, ACommitWhoseAnswerNeverCameIsNotSafeToRetry) {
  const Conn::Mark mark = c_->mark();
  Transaction tx(*c_);
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE(c_->Exec("INSERT INTO t VALUES (1)").ok());
  DropIt();  // the client cannot tell this from a server that died after committing
  Status commit = tx.Commit();
  EXPECT_EQ(commit.code(), StatusCode::kUnavailable);
  EXPECT_NE(commit.message().find("unknown"), std::string::npos) << commit.message();
  EXPECT_FALSE(c_->SafeToRetrySince(mark));
}

TEST_F(DroppedConnection, AWriteOutsideATransactionLostInFlightIsNotSafeToRetryButAReadIs) {
  ASSERT_TRUE(c_->Exec("SELECT 1").ok());
  Conn::Mark mark = c_->mark();
  // A statement the server ends by terminating its own backend: the answer never comes.
  Status s = c_->Exec("SELECT pg_terminate_backend(pg_backend_pid())").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_TRUE(c_->SafeToRetrySince(mark)) << "a SELECT changes nothing";
  ASSERT_TRUE(c_->Exec("SELECT 1").ok()) << "reconnected";
  mark = c_->mark();
  s = c_->Exec("DO $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); END $$").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_FALSE(c_->SafeToRetrySince(mark))
      << "anything but a SELECT outside a transaction may have committed";
}

}  // namespace
}  // namespace gpuledger::pg
