// End to end: the real agent (with the fake NVML library) and the real server. A
// simulated training process holds GPU 0 and writes results.csv; the agent registers its
// job from the process environment, ships samples and epochs; the server is killed and
// restarted mid-run. Afterwards the ledger holds every sample the agent took exactly
// once, attributed to the job, and every epoch.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "common/test_util.h"
#include "domain/gpu_model.h"
#include "ledger/ledger.h"
#include "server/auth.h"

namespace gpuledger {
namespace {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

constexpr const char* kHeader =
    "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),"
    "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n";

std::string Epoch(int e) {
  return std::to_string(e) + "," + std::to_string(30 * e) + ",1.2,2.3,1.1,0.5,0.4,0." +
         std::to_string(30 + e) + ",0.2,1.3,2.0,1.2,0.01,0.01,0.01\n";
}

TEST(AgentEndToEnd, EverySampleOnceAcrossAServerCrashAttributedWithItsEpochs) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/ledger.db", run = dir.path() + "/run";
  std::string token;
  {
    auto ledger = OpenLedger(db);
    ASSERT_TRUE(ledger.ok());
    auto t = MakeToken(Role::kIngest, "", "", 0);
    ASSERT_TRUE((*ledger)->PutToken(t->record).ok());
    token = t->secret;
  }
  std::ofstream(dir.path() + "/token") << token << "\n";
  std::filesystem::create_directories(run);

  // The "training": a process whose environment names its job, as submission injects it.
  testing::Child training = testing::Spawn(
      {"/bin/sleep", "60"},
      {"GPULEDGER_JOB_ID=e2e-run", "GPULEDGER_USER=lisi", "GPULEDGER_PROJECT=pcb-solder-qc",
       "GPULEDGER_DEPARTMENT=manufacturing", "GPULEDGER_MODEL_TYPE=yolo11n", "GPULEDGER_RUN_DIR=" + run});
  const std::string script = dir.path() + "/nvml-script";
  std::ofstream(script)
      << "gpu;uuid=GPU-e2e-0;name=NVIDIA H100 80GB HBM3;memory_total_mib=81559;util=100,97,99;"
         "mem_used_mib=19818;power_w=631.95;pids="
      << training.pid << ":4000\n"
      << "gpu;uuid=GPU-e2e-1;name=NVIDIA H100 80GB HBM3;memory_total_mib=81559;util=0;"
         "mem_used_mib=0;power_w=70\n";

  const int port = FreePort();
  testing::Child server = testing::StartServer(db, port, {"--retention", "0"});
  ASSERT_EQ(server.port, port);
  const std::string agent_out = dir.path() + "/agent.out";
  testing::Child agent = testing::Spawn(
      {GPULEDGER_BINARY, "agent", "--server", "http://127.0.0.1:" + std::to_string(port), "--token-file",
       dir.path() + "/token", "--interval", "100ms", "--push-interval", "300ms", "--buffer-dir",
       dir.path() + "/outbox", "--nvml", FAKE_NVML_LIB, "--run-for", "6s", "--drain-timeout", "30s"},
      {"FAKE_NVML_SCRIPT=" + script}, agent_out);

  std::ofstream(run + "/results.csv") << kHeader << Epoch(1);
  Sleep(1500);
  kill(server.pid, SIGKILL);  // a crash: requests in flight are not acknowledged
  testing::Wait(server);
  std::ofstream(run + "/results.csv", std::ios::app) << Epoch(2);
  Sleep(2000);  // the agent keeps sampling into its outbox
  server = testing::StartServer(db, port, {"--retention", "0"});
  ASSERT_EQ(server.port, port);
  std::ofstream(run + "/results.csv", std::ios::app) << Epoch(3);
  const int agent_status = testing::Wait(agent);
  kill(training.pid, SIGKILL);
  testing::Wait(training);
  kill(server.pid, SIGTERM);
  testing::Wait(server);

  const std::string said = ReadFile(agent_out);
  ASSERT_TRUE(WIFEXITED(agent_status) && WEXITSTATUS(agent_status) == 0) << said;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(said, m, std::regex(R"((\d+) GPU samples)"))) << said;
  const int64_t taken = std::stoll(m[1]);
  EXPECT_GT(taken, 80) << said;  // ~6 s x 10/s x 2 GPUs
  EXPECT_NE(said.find(" 0 left in the outbox"), std::string::npos) << said;
  ASSERT_TRUE(std::regex_search(said, m, std::regex(R"(\((\d+) failed attempt)"))) << said;
  EXPECT_GT(std::stoll(m[1]), 0) << "the outage was noticed and ridden out: " << said;
  EXPECT_NE(said.find(" 0 dropped for space"), std::string::npos) << said;

  auto ledger = OpenLedger(db);
  ASSERT_TRUE(ledger.ok());
  int64_t stored = 0;
  for (const char* gpu : {"GPU-e2e-0", "GPU-e2e-1"}) {
    ASSERT_TRUE((*ledger)->ScanSamples(gpu, {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++stored; }).ok());
  }
  EXPECT_EQ(stored, taken) << "every sample the agent took, exactly once\n" << said;

  // The agent registered its GPUs with what remote write labels lack.
  auto gpus = (*ledger)->ListGpus();
  ASSERT_TRUE(gpus.ok());
  ASSERT_EQ(gpus->size(), 2u);
  for (const Gpu& g : *gpus) {
    EXPECT_EQ(g.memory_mib, 81559) << g.uuid;
    EXPECT_EQ(g.sample_interval_ms, 100) << g.uuid;  // --interval
    EXPECT_EQ(g.model, CanonicalGpuModel("NVIDIA H100 80GB HBM3")) << g.uuid;
  }

  auto job = (*ledger)->GetJob("e2e-run");
  ASSERT_TRUE(job.ok() && job->has_value()) << "the agent registered the job from its environment";
  EXPECT_EQ((*job)->user, "lisi");
  EXPECT_EQ((*job)->model_type, "yolo11n");
  auto allocs = (*ledger)->AllocationsOverlapping({kMinTimeMs, kMaxTimeMs});
  ASSERT_TRUE(allocs.ok());
  int on_gpu0 = 0;
  for (const Allocation& a : *allocs) {
    EXPECT_EQ(a.job_id, "e2e-run");
    EXPECT_EQ(a.gpu_uuid, "GPU-e2e-0") << "the idle GPU belongs to no job";
    ++on_gpu0;
  }
  EXPECT_GE(on_gpu0, 1);
  auto epochs = (*ledger)->GetProgress("e2e-run");
  ASSERT_TRUE(epochs.ok());
  ASSERT_EQ(epochs->size(), 3u) << said;
  EXPECT_DOUBLE_EQ(*(*epochs)[2].map50, 0.33);
}

}  // namespace
}  // namespace gpuledger
