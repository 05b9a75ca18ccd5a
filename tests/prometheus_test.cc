// Debian's real Prometheus scrapes a dcgm-exporter page and remote-writes it to
// gpuledger; the samples arrive, the GPU is known, and metering attributes the time to
// the job that holds the GPU. Real processes, real sockets; skips only without
// /usr/bin/prometheus (scripts/install-deps.sh installs it).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "books/books.h"
#include "common/test_util.h"
#include "server/auth.h"
#include "server/server.h"

extern char** environ;

namespace gpuledger {
namespace {

constexpr const char* kGpu = "GPU-a8394b51-c086-568a-9f1a-c1e1c934c44c";

// The page dcgm-exporter served in ../shared/realdata when present; otherwise a page of
// the same shape written here.
std::string ExporterPage() {
  std::ifstream in(std::string(GPULEDGER_SOURCE_DIR) +
                   "/../shared/realdata/artifacts/dcgm/lke_rtx4000ada_dcgm_metrics_with_pod_labels.prom");
  std::stringstream ss;
  ss << in.rdbuf();
  if (!ss.str().empty()) return ss.str();
  const std::string labels = std::string("{gpu=\"0\",UUID=\"") + kGpu +
                             "\",modelName=\"NVIDIA RTX 4000 Ada Generation\",Hostname=\"node-1\","
                             "container=\"cuda\",namespace=\"default\",pod=\"yolo-train-0\"}";
  return "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\nDCGM_FI_DEV_GPU_UTIL" + labels + " 87\n" +
         "# TYPE DCGM_FI_DEV_FB_USED gauge\nDCGM_FI_DEV_FB_USED" + labels + " 7270\n" +
         "# TYPE DCGM_FI_DEV_POWER_USAGE gauge\nDCGM_FI_DEV_POWER_USAGE" + labels + " 61.5\n";
}

// A port nothing listens on now (bound, read back, released).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

TEST(Prometheus, RemoteWritesAScrapedDcgmExporterIntoTheBooks) {
  if (!std::filesystem::exists("/usr/bin/prometheus"))
    GTEST_SKIP() << "no /usr/bin/prometheus: run scripts/install-deps.sh";
  testing::TempDir dir;
  const std::string db = dir.path() + "/prom.db";
  SystemClock clock;  // Prometheus stamps samples with the wall clock; the books must take them
  const TimeMs now = clock.Now();
  std::string token;
  {
    auto ledger = OpenLedger(db);
    ASSERT_TRUE(ledger.ok());
    auto t = MakeToken(Role::kIngest, "", "", now);
    ASSERT_TRUE((*ledger)->PutToken(t->record).ok());
    token = t->secret;
    // The job that holds the GPU, as the scheduler would have registered it.
    ASSERT_TRUE(
        (*ledger)
            ->PutGpus({{kGpu, "node-1", 0, "NVIDIA RTX 4000 Ada Generation", 20475, now - kDayMs, 0, 0, 0}})
            .ok());
    Job j;
    j.id = "yolo-train-0";
    j.user = "zhangsan";
    j.project = "defect-detection-line3";
    j.department = "manufacturing";
    j.start_ms = now - kHourMs;
    j.status = JobStatus::kRunning;
    ASSERT_TRUE((*ledger)->PutJobs({j}).ok());
    ASSERT_TRUE((*ledger)->PutAllocations({{"yolo-train-0", kGpu, now - kHourMs, 0, kFullShare}}).ok());
  }
  // The exporter.
  httplib::Server exporter;
  const std::string page = ExporterPage();
  exporter.Get("/metrics",
               [&](const httplib::Request&, httplib::Response& res) { res.set_content(page, "text/plain"); });
  const int exporter_port = exporter.bind_to_any_port("127.0.0.1");
  std::thread exporter_thread([&] { exporter.listen_after_bind(); });
  // gpuledger.
  ServerOptions opt;
  opt.port = 0;
  auto server_ledger = OpenLedger(db);
  ASSERT_TRUE(server_ledger.ok());
  Server server(std::move(server_ledger).value(), clock, opt);
  ASSERT_TRUE(server.Start().ok());
  // Prometheus.
  const std::string config = dir.File("prometheus.yml",
                                      "global:\n  scrape_interval: 1s\n"
                                      "scrape_configs:\n  - job_name: dcgm\n    static_configs:\n"
                                      "      - targets: ['127.0.0.1:" +
                                          std::to_string(exporter_port) +
                                          "']\n"
                                          "remote_write:\n  - url: http://127.0.0.1:" +
                                          std::to_string(server.port()) +
                                          "/api/v1/write\n    authorization:\n      credentials: " + token +
                                          "\n    queue_config:\n      batch_send_deadline: 1s\n"
                                          "      min_backoff: 100ms\n      max_backoff: 1s\n");
  std::vector<std::string> args = {
      "/usr/bin/prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.path() + "/tsdb",
      "--web.listen-address=127.0.0.1:" + std::to_string(FreePort()), "--log.level=warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t prom = -1;
  ASSERT_EQ(posix_spawn(&prom, argv[0], nullptr, nullptr, argv.data(), environ), 0);

  // Wait (bounded) for Prometheus to scrape and send a few rounds.
  auto count = [&] {
    auto ledger = OpenLedger(db);
    int64_t n = 0;
    (void)(*ledger)->ScanSamples(kGpu, {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++n; });
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  kill(prom, SIGTERM);
  int status = 0;
  waitpid(prom, &status, 0);
  server.Stop();
  exporter.stop();
  exporter_thread.join();

  ASSERT_GE(count(), 3) << "Prometheus did not deliver samples within 60 s";
  EXPECT_GT(server.counters().samples_written.load(), 0);
  auto ledger = OpenLedger(db);
  auto ctx = LoadBooksContext(**ledger);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  auto rows = MeterWindow(**ledger, *ctx, {now - kHourMs, clock.Now() + kMinuteMs}, {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  int64_t covered = 0;
  for (const UsageRow& r : *rows) {
    if (r.job_id == "yolo-train-0") covered += r.covered_ns;
  }
  EXPECT_GT(covered, 0) << "the scraped samples are attributed to the job holding the GPU";
}

}  // namespace
}  // namespace gpuledger
