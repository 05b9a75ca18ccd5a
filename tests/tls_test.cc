// `gpuledger server --tls-cert --tls-key` end to end: the real binary serves HTTPS with a
// certificate made at test time, refuses plain HTTP on that port, refuses at start a key
// that is not the certificate's (naming the file), and the real agent ships to it over
// https:// trusting the certificate through --ca-file (and not without it).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "child_process.h"
#include "common/test_util.h"
#include "ledger/ledger.h"
#include "server/auth.h"
#include "server/test_certificate.h"

namespace gpuledger {
namespace {

// Runs the binary with `args` to its end; its exit status and everything it wrote.
std::pair<int, std::string> RunToEnd(const std::string& args) {
  const std::string cmd = std::string(GPULEDGER_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TlsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    const testing::TestCertificate c = testing::MakeTestCertificate();
    cert_ = dir_.File("cert.pem", c.cert_pem);
    key_ = dir_.File("key.pem", c.key_pem);
    db_ = dir_.path() + "/ledger.db";
    auto ledger = OpenLedger(db_);
    ASSERT_TRUE(ledger.ok());
    auto t = MakeToken(Role::kIngest, "", "", 0);
    ASSERT_TRUE((*ledger)->PutToken(t->record).ok());
    token_ = t->secret;
  }
  void TearDown() override {
    if (server_.pid > 0) {
      ::kill(server_.pid, SIGTERM);
      testing::Wait(server_);
    }
  }
  void Start() {
    server_ = testing::StartServer(db_, 0, {"--retention", "0", "--tls-cert", cert_, "--tls-key", key_});
    ASSERT_GT(server_.port, 0);
  }
  std::unique_ptr<httplib::SSLClient> Client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", server_.port);
    c->set_ca_cert_path(cert_);
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(60, 0);
    return c;
  }
  testing::TempDir dir_;
  std::string cert_, key_, db_, token_;
  testing::Child server_;
};

TEST_F(TlsServer, ServesHttpsAndRefusesPlainHttpOnItsPort) {
  Start();
  auto c = Client();
  auto health = c->Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200) << health->body;
  auto metrics = c->Get("/metrics");
  ASSERT_TRUE(metrics);
  httplib::Client plain("127.0.0.1", server_.port);
  auto refused = plain.Get("/healthz");
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->body.find("this port serves HTTPS"), std::string::npos) << refused->body;
  // An untrusting client does not get through: the certificate is the test's own.
  httplib::SSLClient untrusting("127.0.0.1", server_.port);
  untrusting.set_ca_cert_path("/nonexistent");
  untrusting.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusting.Get("/healthz"));
  auto after = c->Get("/metrics");
  ASSERT_TRUE(after);
  EXPECT_NE(after->body.find("gpuledger_http_plain_http_on_tls_total 1"), std::string::npos) << after->body;
}

TEST_F(TlsServer, AKeyThatIsNotTheCertificatesIsRefusedAtStartNamingTheFile) {
  const std::string other = dir_.File("other-key.pem", testing::MakeTestCertificate("other").key_pem);
  const std::string base = "server --db " + db_ + " --listen 127.0.0.1:0 --tls-cert " + cert_;
  auto [code, said] = RunToEnd(base + " --tls-key " + other);
  EXPECT_EQ(code, 1) << said;
  EXPECT_NE(
      said.find("TLS private key file '" + other + "' does not match the certificate in '" + cert_ + "'"),
      std::string::npos)
      << said;
  EXPECT_EQ(said.find("listening"), std::string::npos) << said;
  std::tie(code, said) = RunToEnd(base + " --tls-key " + dir_.path() + "/missing.pem");
  EXPECT_EQ(code, 1) << said;
  EXPECT_NE(said.find("cannot read TLS private key file '" + dir_.path() + "/missing.pem'"),
            std::string::npos)
      << said;
  std::tie(code, said) = RunToEnd(base);
  EXPECT_EQ(code, 1) << said;
  EXPECT_NE(said.find("--tls-cert needs --tls-key"), std::string::npos) << said;
}

TEST_F(TlsServer, TheAgentShipsOverHttpsTrustingItsCaFileAndNotWithoutIt) {
  Start();
  std::ofstream(dir_.path() + "/token") << token_ << "\n";
  const std::string script = dir_.path() + "/nvml-script";
  std::ofstream(script) << "gpu;uuid=GPU-tls-0;name=NVIDIA H100 80GB HBM3;memory_total_mib=81559;util=90;"
                           "mem_used_mib=1000;power_w=500\n";
  auto run_agent = [&](const std::string& name, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {GPULEDGER_BINARY,  "agent",
                                     "--server",        "https://127.0.0.1:" + std::to_string(server_.port),
                                     "--token-file",    dir_.path() + "/token",
                                     "--interval",      "100ms",
                                     "--push-interval", "300ms",
                                     "--buffer-dir",    dir_.path() + "/outbox-" + name,
                                     "--nvml",          FAKE_NVML_LIB,
                                     "--run-for",       "1500ms",
                                     "--drain-timeout", name == "trusting" ? "30s" : "1s"};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string out = dir_.path() + "/agent-" + name + ".out";
    testing::Child agent = testing::Spawn(args, {"FAKE_NVML_SCRIPT=" + script}, out);
    const int status = testing::Wait(agent);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(out);
    return ReadFile(out);
  };
  const std::string untrusting = run_agent("untrusting", {});
  EXPECT_NE(untrusting.find("shipped 0 request(s)"), std::string::npos) << untrusting;
  EXPECT_NE(untrusting.find("SSLServerVerification"), std::string::npos) << untrusting;

  const std::string trusting = run_agent("trusting", {"--ca-file", cert_});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(trusting, m, std::regex(R"((\d+) GPU samples)"))) << trusting;
  const int64_t taken = std::stoll(m[1]);
  EXPECT_GT(taken, 5) << trusting;
  EXPECT_NE(trusting.find(" 0 left in the outbox"), std::string::npos) << trusting;
  ::kill(server_.pid, SIGTERM);
  testing::Wait(server_);
  server_.pid = -1;
  auto ledger = OpenLedger(db_);
  ASSERT_TRUE(ledger.ok());
  int64_t stored = 0;
  ASSERT_TRUE(
      (*ledger)->ScanSamples("GPU-tls-0", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++stored; }).ok());
  EXPECT_EQ(stored, taken) << "every sample the trusting agent took, none from the other\n" << trusting;
}

}  // namespace
}  // namespace gpuledger
