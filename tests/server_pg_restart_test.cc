// Dependencies that come back: the real gpuledger binary serves remote write over a
// PostgreSQL cluster this test owns (initdb in a temporary directory, its own port, so the
// shared test cluster is never disturbed). Mid-ingest PostgreSQL is stopped (fast
// shutdown, or an immediate-mode crash) and started again; the sender goes on as
// Prometheus does (a refused request is re-sent). Writes resume on their own within
// seconds of PostgreSQL answering, /readyz says 503 while it is away and 200 after, and
// every acknowledged sample is in the ledger exactly once.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <snappy.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "child_process.h"
#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "ledger/ledger.h"
#include "ledger/postgres/pg.h"
#include "server/auth.h"

namespace gpuledger {
namespace {

using Clock_ = std::chrono::steady_clock;
constexpr TimeMs kT0 = 1790812800000;
constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

// A PostgreSQL 15 cluster of the test's own: initdb once, then started and stopped at will
// on one port. As root it belongs to the 'postgres' user (initdb refuses root).
class OwnCluster {
 public:
  explicit OwnCluster(const std::string& dir) : dir_(dir) {}
  ~OwnCluster() {
    if (started_) (void)Ctl("stop -m immediate");
  }
  bool Init(std::string* why) {
    if (!std::filesystem::exists(std::string(kBin) + "/initdb")) {
      *why = std::string(kBin) + "/initdb missing (postgresql-15)";
      return false;
    }
    if (getuid() == 0) {
      std::filesystem::permissions(dir_, std::filesystem::perms::all);
      if (std::system(("chown postgres '" + dir_ + "'").c_str()) != 0) {
        *why = "chown postgres failed";
        return false;
      }
    }
    if (Sh(std::string(kBin) + "/initdb -D '" + dir_ + "/data' -A trust -U postgres --no-sync > '" + dir_ +
           "/initdb.log' 2>&1") != 0) {
      *why = "initdb failed (see " + dir_ + "/initdb.log)";
      return false;
    }
    port_ = FreePort();
    return true;
  }
  bool Start() {
    started_ = Ctl("start -w -t 60 -l '" + dir_ + "/server.log' -o \"-p " + std::to_string(port_) + " -k '" +
                   dir_ + "' -c listen_addresses=127.0.0.1 -c fsync=off\"") == 0;
    return started_;
  }
  bool Stop(const std::string& mode) { return Ctl("stop -w -m " + mode) == 0; }
  std::string url() const { return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres"; }

 private:
  int Sh(const std::string& cmd) {
    const std::string full = getuid() == 0 ? "su postgres -s /bin/sh -c \"" + Escape(cmd) + "\"" : cmd;
    return std::system(full.c_str());
  }
  static std::string Escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
      out += c;
    }
    return out;
  }
  int Ctl(const std::string& args) {
    return Sh(std::string(kBin) + "/pg_ctl -D '" + dir_ + "/data' " + args + " > /dev/null 2>&1");
  }

 public:
  // A loopback port nothing listens on now: bound to port 0, named, closed.
  static int FreePort() {
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

 private:
  std::string dir_;
  int port_ = 0;
  bool started_ = false;
};

std::string Body(int i, const char* gpu = "GPU-pgrestart-1") {
  const RwLabels labels = {{"UUID", gpu}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"}, {"modelName", "A10G"}};
  const std::string raw =
      RwRequestV1({RwSeriesV1(labels, {{static_cast<double>(i % 100), kT0 + i * 10'000}})});
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

struct Case {
  const char* name;
  const char* stop_mode;  // pg_ctl stop -m
  bool journal;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ServerPgRestart : public ::testing::TestWithParam<Case> {};

TEST_P(ServerPgRestart, WritesResumeOnTheirOwnAndEveryAcknowledgedSampleIsStoredOnce) {
  const Case c = GetParam();
  testing::TempDir dir;
  OwnCluster pg(dir.path());
  std::string why;
  if (!pg.Init(&why)) GTEST_SKIP() << why;
  ASSERT_TRUE(pg.Start());
  std::string token;
  {
    auto ledger = OpenLedger(pg.url());
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    auto t = MakeToken(Role::kIngest, "", "", kT0);
    ASSERT_TRUE((*ledger)->PutToken(t->record).ok());
    token = t->secret;
  }
  std::vector<std::string> args = {"--retention", "0", "--journal-flush-interval", "200ms"};
  if (c.journal) {
    args.push_back("--journal");
    args.push_back(dir.path() + "/journal");
  }
  testing::Child server = testing::StartServer(pg.url(), 0, args);
  ASSERT_GT(server.port, 0);
  // A failed assertion below must not leave the server running.
  struct Reaper {
    pid_t pid;
    bool reaped = false;
    ~Reaper() {
      if (reaped) return;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reaper{server.pid};

  const httplib::Headers auth = {{"Authorization", "Bearer " + token}, {"Content-Encoding", "snappy"}};
  constexpr int kMaxRequests = 20'000;
  std::vector<std::atomic<bool>> acked(kMaxRequests);
  std::atomic<int> acks{0}, refused{0}, sent_up_to{0};
  std::atomic<bool> stop_sending{false};
  // One sample per request, one request every few milliseconds, each sent again until it
  // is acknowledged (as Prometheus does), until told to stop.
  std::thread sender([&] {
    httplib::Client client("127.0.0.1", server.port);
    client.set_read_timeout(30, 0);
    for (int i = 0; i < kMaxRequests && !stop_sending; ++i) {
      sent_up_to = i;
      while (!stop_sending) {
        auto res = client.Post("/api/v1/write", auth, Body(i), "application/x-protobuf");
        if (res && res->status == 204) {
          acked[static_cast<size_t>(i)] = true;
          ++acks;
          break;
        }
        ++refused;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  struct Joiner {  // nor the sender running
    std::atomic<bool>& stop;
    std::thread& t;
    ~Joiner() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } joiner{stop_sending, sender};
  httplib::Client probe("127.0.0.1", server.port);
  auto ready = [&] {
    auto r = probe.Get("/readyz");
    return r ? r->status : 0;
  };
  const auto first_deadline = Clock_::now() + std::chrono::seconds(30);
  while (acks < 50 && Clock_::now() < first_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (acks < 50) {
    stop_sending = true;
    sender.join();
    FAIL() << "the server acknowledged " << acks.load() << " writes in 30 s with PostgreSQL up";
  }
  EXPECT_EQ(ready(), 200);

  ASSERT_TRUE(pg.Stop(c.stop_mode));
  const int acked_at_stop = acks.load();
  // While PostgreSQL is away: /readyz says so and names the database.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  {
    auto r = probe.Get("/readyz");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_NE(r->body.find("\"database\":{"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("\"ok\":false"), std::string::npos) << r->body;
  }
  if (c.journal) {
    EXPECT_GT(acks.load(), acked_at_stop) << "the journal keeps accepting while the database is away";
    // A GPU the ledger has never seen is taken too: it travels in the journal with its
    // sample and the flush after PostgreSQL returns registers it.
    httplib::Client other("127.0.0.1", server.port);
    auto fresh = other.Post("/api/v1/write", auth, Body(0, "GPU-pgrestart-new"), "application/x-protobuf");
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->status, 204) << fresh->body;
    // The writer's failing flush is seen, with its Status, not only counted.
    auto h = probe.Get("/healthz");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
    EXPECT_NE(h->body.find("\"journal_flush\":{\"failing\":true"), std::string::npos) << h->body;
  } else {
    EXPECT_LE(acks.load(), acked_at_stop + 1) << "without a journal nothing is acknowledged while it is away";
    EXPECT_GT(refused.load(), 0) << "without a journal a write is refused (503) while the database is away";
  }

  ASSERT_TRUE(pg.Start());
  const auto up_at = Clock_::now();
  const int acked_at_up = acks.load();
  // Writes resume on their own: acknowledged (without a journal), and the journal drained
  // into the ledger with /readyz 200 again.
  // Generous for the sanitizer builds (dev: 0.1 s without a journal, 1-4 s with one).
  const auto deadline = up_at + std::chrono::seconds(30);
  int status = 0;
  std::string body;
  while (Clock_::now() < deadline) {
    auto r = probe.Get("/readyz");
    status = r ? r->status : 0;
    body = r ? r->body : "";
    if (status == 200 && acks > acked_at_up &&
        (!c.journal || body.find("\"pending_samples\":0") != std::string::npos))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double resumed_s = std::chrono::duration<double>(Clock_::now() - up_at).count();
  EXPECT_EQ(status, 200) << body;
  EXPECT_GT(acks.load(), acked_at_up) << "no write acknowledged within 30 s of PostgreSQL answering";
  EXPECT_LT(resumed_s, 15.0) << body;
  RecordProperty("resumed_after_ms", static_cast<int>(resumed_s * 1000));
  // A little more after the return, then the sender stops.
  const int target = acks.load() + 50;
  while (acks < target && Clock_::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop_sending = true;
  sender.join();
  EXPECT_GE(acks.load(), target);

  kill(server.pid, SIGTERM);
  const int exit_status = testing::Wait(server);
  reaper.reaped = true;
  EXPECT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0);

  // Every acknowledged sample exactly once (and nothing else).
  auto conn = pg::Conn::Open(pg.url());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto r = (*conn)->Exec(
      "SELECT s.t_ms, COUNT(*) FROM samples s JOIN gpus g ON g.id = s.gpu_id WHERE g.uuid = "
      "'GPU-pgrestart-1' "
      "GROUP BY s.t_ms ORDER BY s.t_ms");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::set<TimeMs> stored;
  for (int i = 0; i < r->rows(); ++i) {
    EXPECT_EQ(r->Int(i, 1), 1) << "sample at " << r->Int(i, 0) << " stored more than once";
    stored.insert(r->Int(i, 0));
  }
  int acknowledged = 0;
  for (int i = 0; i < kMaxRequests; ++i) {
    if (!acked[static_cast<size_t>(i)]) continue;
    ++acknowledged;
    EXPECT_TRUE(stored.count(kT0 + i * 10'000)) << "acknowledged sample " << i << " is not in the ledger";
  }
  EXPECT_EQ(acknowledged, acks.load());
  // Beyond the acknowledged, at most the request in flight when the sender stopped.
  EXPECT_LE(stored.size(), static_cast<size_t>(acknowledged) + 1);
  for (TimeMs t : stored) EXPECT_LE(t, kT0 + sent_up_to * 10'000) << "a sample never sent";
  if (c.journal) {
    auto fresh = (*conn)->Exec(
        "SELECT COUNT(*) FROM samples s JOIN gpus g ON g.id = s.gpu_id WHERE g.uuid = 'GPU-pgrestart-new'");
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    EXPECT_EQ(fresh->Int(0, 0), 1) << "the GPU first seen while PostgreSQL was away, and its sample";
  }
  RecordProperty("refused_while_away", refused.load());
  RecordProperty("acknowledged", acknowledged);
}

INSTANTIATE_TEST_SUITE_P(StopModes, ServerPgRestart,
                         ::testing::Values(Case{"FastJournal", "fast", true},
                                           Case{"ImmediateJournal", "immediate", true},
                                           Case{"FastNoJournal", "fast", false},
                                           Case{"ImmediateNoJournal", "immediate", false}),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

// A start with PostgreSQL down waits for it (--db-wait, tried again with backoff) and
// serves once it answers, instead of exiting.
TEST(ServerPgStart, AServerStartedBeforePostgresWaitsForItAndServesOnceItAnswers) {
  testing::TempDir dir;
  OwnCluster pg(dir.path());
  std::string why;
  if (!pg.Init(&why)) GTEST_SKIP() << why;
  std::atomic<bool> up{false};
  const int port = OwnCluster::FreePort();
  // While it waits, the server's port answers: alive, not ready, and why.
  int healthz = 0, readyz = 0, write = 0;
  std::string readyz_body, write_body, retry_after;
  std::thread later([&] {  // PostgreSQL comes up 3 s after the server was started
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    httplib::Client early("127.0.0.1", port);
    if (auto r = early.Get("/healthz")) healthz = r->status;
    if (auto r = early.Get("/readyz")) readyz = r->status, readyz_body = r->body;
    if (auto r = early.Post("/api/v1/write", std::string(1 << 20, 'x'), "application/x-protobuf")) {
      write = r->status, write_body = r->body, retry_after = r->get_header_value("Retry-After");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    up = pg.Start();
  });
  const auto t0 = Clock_::now();
  testing::Child server = testing::StartServer(pg.url(), port, {"--retention", "0", "--db-wait", "120s"});
  later.join();
  EXPECT_EQ(healthz, 200);
  EXPECT_EQ(readyz, 503);
  EXPECT_NE(readyz_body.find("\"status\":\"starting\""), std::string::npos) << readyz_body;
  EXPECT_NE(readyz_body.find("\"error\":"), std::string::npos) << readyz_body;
  EXPECT_EQ(write, 503) << "refused before its body was read";
  EXPECT_NE(write_body.find("waiting for its database"), std::string::npos) << write_body;
  EXPECT_EQ(retry_after, "5");
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reaper{server.pid};
  ASSERT_TRUE(up);
  ASSERT_GT(server.port, 0) << "the server came up";
  EXPECT_GE(Clock_::now() - t0, std::chrono::seconds(3)) << "it waited for PostgreSQL";
  EXPECT_LT(Clock_::now() - t0, std::chrono::seconds(40)) << "and came up soon after it answered";
  httplib::Client probe("127.0.0.1", server.port);
  auto ready = probe.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  std::string token;
  {
    auto ledger = OpenLedger(pg.url());
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    auto t = MakeToken(Role::kIngest, "", "", kT0);
    ASSERT_TRUE((*ledger)->PutToken(t->record).ok());
    token = t->secret;
  }
  const httplib::Headers auth = {{"Authorization", "Bearer " + token}, {"Content-Encoding", "snappy"}};
  auto wrote = probe.Post("/api/v1/write", auth, Body(1), "application/x-protobuf");
  ASSERT_TRUE(wrote);
  EXPECT_EQ(wrote->status, 204) << wrote->body;
}

// With the wait spent the start fails, naming the database; a signal ends the wait at once.
TEST(ServerPgStart, WithTheWaitSpentOrASignalTheStartEndsNamingTheDatabase) {
  testing::TempDir dir;
  OwnCluster pg(dir.path());  // never started: a port nothing listens on
  std::string why;
  if (!pg.Init(&why)) GTEST_SKIP() << why;
  auto run = [&](const std::string& wait, bool signal) {
    const auto t0 = Clock_::now();
    testing::Child c = testing::Spawn({GPULEDGER_BINARY, "server", "--db", pg.url(), "--listen",
                                       "127.0.0.1:0", "--retention", "0", "--db-wait", wait},
                                      {}, dir.path() + "/out.txt");
    if (signal) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      kill(c.pid, SIGTERM);
    }
    const int status = testing::Wait(c);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
    return Clock_::now() - t0;
  };
  const auto spent = run("2s", false);
  EXPECT_GE(spent, std::chrono::seconds(2));
  EXPECT_LT(spent, std::chrono::seconds(20));
  EXPECT_LT(run("120s", true), std::chrono::seconds(20)) << "SIGTERM ended the wait";
  EXPECT_LT(run("0", false), std::chrono::seconds(10)) << "no wait";
}

}  // namespace
}  // namespace gpuledger
