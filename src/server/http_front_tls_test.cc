// The HTTP front over TLS: real clients (cpp-httplib's and OpenSSL's own) answered,
// plain HTTP refused, handshakes that stall or trickle dropped at the head deadline
// without holding a worker, certificate files checked at start. A self-signed
// certificate is made at test time (test_certificate.h). Real sockets on port 0; short
// server-side deadlines instead of sleeps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/test_util.h"
#include "server/http_front.h"
#include "server/test_certificate.h"
#include "server/tls.h"

namespace gpuledger {
namespace {

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};  // a safety net: no answer in 10 s fails the test, it never waits for it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A TCP client that speaks no TLS: what it sends and what comes back, byte for byte.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(Connect(port)) {}
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool Send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Everything until the server closes (or the safety net).
  std::string ReadToClose() {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
};

// OpenSSL's own client, blocking, trusting `ca_file`; max_version caps the protocol.
class TlsClient {
 public:
  TlsClient(int port, const std::string& ca_file, int max_version = 0) : fd_(Connect(port)) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (max_version != 0) {
      // An old client: allowed to offer what OpenSSL's defaults no longer would.
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
      SSL_CTX_set_min_proto_version(ctx_, 0);
      SSL_CTX_set_max_proto_version(ctx_, max_version);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set1_host(ssl_, "localhost");
    handshaken_ = fd_ >= 0 && SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;
  bool handshaken() const { return handshaken_; }
  std::string version() const { return SSL_get_version(ssl_); }
  bool Send(const std::string& s) { return SSL_write(ssl_, s.data(), static_cast<int>(s.size())) > 0; }
  std::string ReadToClose() {
    std::string out;
    char buf[4096];
    for (;;) {
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
};

int StatusOf(const std::string& answer) {
  return answer.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(answer.substr(9, 3)) : -1;
}
bool IsJsonError(const std::string& answer, const std::string& message_part) {
  const size_t h = answer.find("\r\n\r\n");
  const auto j = nlohmann::json::parse(h == std::string::npos ? "" : answer.substr(h + 4), nullptr, false);
  return j.is_object() && j.contains("error") && j["error"].is_string() && j.contains("message") &&
         j["message"].get<std::string>().find(message_part) != std::string::npos;
}

// The first bytes of a TLS record that announces 512 bytes of handshake and never
// sends them all: OpenSSL waits for the rest.
const std::string kPartialClientHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);

// Spins until `done` (the front counts and closes on its own threads); false after the
// 10 s safety net.
template <typename F>
bool Eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

// Bumps this process's descriptor limit; returns how many slow clients fit (at most
// `want`): each costs two descriptors, its end and the server's.
int SlowClientsThatFit(int want) {
  rlimit fds{};
  ::getrlimit(RLIMIT_NOFILE, &fds);
  fds.rlim_cur = std::max(fds.rlim_cur, std::min<rlim_t>(fds.rlim_max, 4096));
  ::setrlimit(RLIMIT_NOFILE, &fds);
  return static_cast<int>(std::min<rlim_t>(want, (fds.rlim_cur - 100) / 2));
}

class TlsFiles {
 public:
  TlsFiles() {
    const testing::TestCertificate c = testing::MakeTestCertificate();
    cert_ = dir_.File("cert.pem", c.cert_pem);
    key_ = dir_.File("key.pem", c.key_pem);
  }
  const std::string& cert() const { return cert_; }
  const std::string& key() const { return key_; }
  std::string File(const std::string& name, const std::string& contents) const {
    return dir_.File(name, contents);
  }

 private:
  testing::TempDir dir_;
  std::string cert_, key_;
};

TEST(TlsContext, LoadsAMatchingPair) {
  TlsFiles f;
  auto ctx = TlsContext::FromPemFiles(f.cert(), f.key());
  EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
}

TEST(TlsContext, FilesThatCannotBeUsedAreNamedWithWhatIsWrong) {
  TlsFiles f;
  const testing::TestCertificate other = testing::MakeTestCertificate("another");
  const std::string other_key = f.File("other-key.pem", other.key_pem);
  const std::string junk = f.File("junk.pem", "not a certificate\n");
  struct Case {
    std::string cert, key, message;
  } cases[] = {
      {f.cert(), other_key,
       "TLS private key file '" + other_key + "' does not match the certificate in '" + f.cert() + "'"},
      {"/nonexistent/cert.pem", f.key(),
       "cannot read TLS certificate file '/nonexistent/cert.pem': No such file or directory"},
      {f.cert(), "/nonexistent/key.pem",
       "cannot read TLS private key file '/nonexistent/key.pem': No such file or directory"},
      {junk, f.key(), "TLS certificate file '" + junk + "' holds no usable PEM certificate"},
      {f.cert(), junk, "TLS private key file '" + junk + "' holds no usable PEM private key"},
      {f.key(), f.key(), "TLS certificate file '" + f.key() + "' holds no usable PEM certificate"},
  };
  for (const Case& k : cases) {
    auto ctx = TlsContext::FromPemFiles(k.cert, k.key);
    ASSERT_FALSE(ctx.ok()) << k.message;
    EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ctx.status().message().find(k.message), std::string::npos) << ctx.status().message();
  }
}

TEST(TlsContext, TheFrontRefusesToStartOnAPairThatDoesNotMatch) {
  TlsFiles f;
  const std::string other_key = f.File("other-key.pem", testing::MakeTestCertificate("x").key_pem);
  HttpFrontOptions o;
  o.tls_cert_file = f.cert();
  o.tls_key_file = other_key;
  HttpFront front(o);
  const Status s = front.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TLS private key file '" + other_key + "' does not match"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(front.port(), 0) << "nothing was bound";
  o.tls_key_file.clear();
  HttpFront half(o);
  EXPECT_NE(half.Start().message().find("give both or neither"), std::string::npos);
}

class HttpFrontTlsTest : public ::testing::Test {
 protected:
  void StartWith(HttpFrontOptions o) {
    o.port = 0;
    o.tls_cert_file = files_.cert();
    o.tls_key_file = files_.key();
    front_ = std::make_unique<HttpFront>(o);
    front_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    front_->Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(3 << 20, 'b'), "text/plain");
    });
    front_->Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::to_string(req.body.size()) + ":" + req.body.substr(0, 16), "text/plain");
    });
    front_->set_admit([](const httplib::Request& req, httplib::Response&) {
      if (req.path != "/echo") return OkStatus();
      return req.get_header_value("Authorization") == "Bearer good" ? OkStatus()
                                                                    : Unauthenticated("unknown API token");
    });
    ASSERT_TRUE(front_->Start().ok());
    ASSERT_TRUE(front_->tls());
  }
  void TearDown() override {
    if (front_) front_->Stop();
  }
  std::unique_ptr<httplib::SSLClient> Client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", front_->port());
    c->set_ca_cert_path(files_.cert());
    c->enable_server_certificate_verification(true);
    c->set_keep_alive(true);
    c->set_read_timeout(10, 0);
    return c;
  }
  // A TLS /healthz on a fresh connection; its status (-1: no answer) and milliseconds.
  std::pair<int, int64_t> Healthz() {
    const auto began = std::chrono::steady_clock::now();
    auto c = Client();
    auto res = c->Get("/healthz");
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began)
            .count();
    return {res ? res->status : -1, ms};
  }
  TlsFiles files_;
  std::unique_ptr<HttpFront> front_;
};

TEST_F(HttpFrontTlsTest, ARealTlsClientIsAnsweredOverOneKeptAliveConnection) {
  StartWith({});
  auto c = Client();
  auto health = c->Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  // A body and an answer of many TLS records each: partial reads and writes, records
  // OpenSSL holds decrypted between the front's reads.
  const std::string body(1 << 20, 'a');
  auto echo = c->Post("/echo", {{"Authorization", "Bearer good"}}, body, "application/octet-stream");
  ASSERT_TRUE(echo) << httplib::to_string(echo.error());
  EXPECT_EQ(echo->status, 200);
  EXPECT_EQ(echo->body, "1048576:aaaaaaaaaaaaaaaa");
  auto big = c->Get("/big");
  ASSERT_TRUE(big) << httplib::to_string(big.error());
  EXPECT_EQ(big->body.size(), 3u << 20);
  // Refused before its body is read, the answer then closing the connection: a small
  // body, so that the client has sent it all before it reads the answer.
  auto refused = c->Post("/echo", {{"Authorization", "Bearer bad"}}, "x", "application/octet-stream");
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(front_->counters().tls_handshake_failures.load(), 0);

  TlsClient raw(front_->port(), files_.cert());
  ASSERT_TRUE(raw.handshaken());
  EXPECT_EQ(raw.version(), "TLSv1.3");
  raw.Send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  const std::string a = raw.ReadToClose();
  EXPECT_EQ(StatusOf(a), 200) << a;
}

TEST_F(HttpFrontTlsTest, TlsOlderThan12IsRefused) {
  StartWith({});
  TlsClient tls12(front_->port(), files_.cert(), TLS1_2_VERSION);
  EXPECT_TRUE(tls12.handshaken());
  EXPECT_EQ(tls12.version(), "TLSv1.2");
  TlsClient tls11(front_->port(), files_.cert(), TLS1_1_VERSION);
  EXPECT_FALSE(tls11.handshaken());
  ASSERT_TRUE(Eventually([&] { return front_->counters().tls_handshake_failures.load() >= 1; }));
  EXPECT_EQ(front_->counters().tls_handshake_failures.load(), 1);
}

TEST_F(HttpFrontTlsTest, PlainHttpToTheTlsPortIsAnswered400AndClosed) {
  StartWith({});
  RawClient c(front_->port());
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string a = c.ReadToClose();
  EXPECT_EQ(StatusOf(a), 400) << a;
  EXPECT_TRUE(IsJsonError(a, "this port serves HTTPS: plain HTTP is refused; use https://")) << a;
  EXPECT_NE(a.find("Connection: close"), std::string::npos) << a;
  EXPECT_EQ(front_->counters().plain_http_on_tls.load(), 1);
  // Bytes that are neither: OpenSSL refuses the handshake.
  RawClient junk(front_->port());
  junk.Send(std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(junk.ReadToClose().substr(0, 4).find("HTTP"), std::string::npos);
  EXPECT_EQ(Healthz().first, 200);
  EXPECT_EQ(front_->counters().tls_handshake_failures.load(), 1);
}

TEST_F(HttpFrontTlsTest, AStalledHandshakeIsDroppedAtTheHeadDeadlineWhileHealthzAnswers) {
  HttpFrontOptions o;
  o.head_timeout_ms = 1000;
  o.worker_threads = 1;
  StartWith(o);
  RawClient silent(front_->port());   // TCP, then nothing
  RawClient partial(front_->port());  // the start of a ClientHello, then nothing
  ASSERT_TRUE(partial.Send(kPartialClientHello));
  TlsClient handshaken(front_->port(), files_.cert());  // a handshake, then no request
  ASSERT_TRUE(handshaken.handshaken());
  EXPECT_EQ(Healthz().first, 200);
  // At the deadline: closed without an answer (there is no TLS to answer in), and the
  // one that got through its handshake is answered 408 over TLS.
  EXPECT_EQ(silent.ReadToClose(), "");
  EXPECT_EQ(partial.ReadToClose(), "");
  const std::string late = handshaken.ReadToClose();
  EXPECT_EQ(StatusOf(late), 408) << late;
  EXPECT_TRUE(IsJsonError(late, "request head not complete within 1000 ms (0 bytes received)")) << late;
  EXPECT_EQ(front_->counters().tls_handshake_timeouts.load(), 2);
  EXPECT_EQ(front_->counters().head_timeouts.load(), 1);
  ASSERT_TRUE(Eventually([&] { return front_->open_connections() == 0; }));
  EXPECT_EQ(Healthz().first, 200);
}

TEST_F(HttpFrontTlsTest, ATrickledHandshakeIsCutAtTheWholeDeadlineNotPerRead) {
  HttpFrontOptions o;
  o.head_timeout_ms = 800;
  StartWith(o);
  RawClient c(front_->port());
  // One byte every 100 ms of a record announcing 512 bytes: every read brings progress,
  // only a deadline for the whole handshake ends it (after about 8 bytes).
  std::string record = "\x16\x03\x01\x02\x00" + std::string(512, '\x01');
  size_t sent = 0;
  for (; sent < record.size(); ++sent) {
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) break;  // the server closed
    if (!c.Send(record.substr(sent, 1))) break;
  }
  EXPECT_EQ(c.ReadToClose(), "");
  EXPECT_LT(sent, 40u) << "the handshake's deadline is for all of it";
  EXPECT_EQ(front_->counters().tls_handshake_timeouts.load(), 1);
  EXPECT_EQ(front_->counters().tls_handshake_failures.load(), 0);
}

TEST_F(HttpFrontTlsTest, HundredsOfStalledHandshakesHoldNoWorkerAndAWellBehavedClientIsServed) {
  HttpFrontOptions o;
  o.worker_threads = 2;
  o.head_timeout_ms = 3000;
  o.max_connections_per_client = 1000;  // every test client is 127.0.0.1
  StartWith(o);
  const int slow_clients = SlowClientsThatFit(500);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < slow_clients; ++i) {
    slow.push_back(std::make_unique<RawClient>(front_->port()));
    ASSERT_TRUE(slow.back()->connected());
    if (i % 2 == 0) {  // the others send nothing
      ASSERT_TRUE(slow.back()->Send(kPartialClientHello));
    }
  }
  // All of them held by the poller (or, on a slow machine, the first already timed out).
  ASSERT_TRUE(Eventually([&] {
    return front_->open_connections() + front_->counters().tls_handshake_timeouts.load() >=
           static_cast<size_t>(slow_clients);
  }));
  // Two workers, five hundred unfinished handshakes: a well-behaved client is served.
  int64_t slowest_ms = 0;
  for (int i = 0; i < 5; ++i) {
    const auto [status, ms] = Healthz();
    EXPECT_EQ(status, 200);
    slowest_ms = std::max(slowest_ms, ms);
  }
  std::cout << "slowest TLS /healthz beside " << slow_clients << " stalled handshakes: " << slowest_ms
            << " ms (handshake included)\n";
  for (auto& c : slow) EXPECT_EQ(c->ReadToClose(), "");
  EXPECT_EQ(front_->counters().tls_handshake_timeouts.load(), slow_clients);
  ASSERT_TRUE(Eventually([&] { return front_->open_connections() == 0; }));
}

TEST_F(HttpFrontTlsTest, TheConnectionCapsCountHandshakes) {
  HttpFrontOptions o;
  o.max_connections_per_client = 3;
  StartWith(o);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(front_->port()));
    held.back()->Send(kPartialClientHello);
  }
  ASSERT_TRUE(Eventually([&] { return front_->open_connections() == 3; }));
  // Over the cap, before any TLS: closed unanswered (no handshake is spent on it).
  TlsClient fourth(front_->port(), files_.cert());
  EXPECT_FALSE(fourth.handshaken());
  EXPECT_EQ(front_->counters().connections_refused.load(), 1);
  held.clear();
  ASSERT_TRUE(Eventually([&] { return front_->open_connections() == 0; }));
  EXPECT_EQ(Healthz().first, 200);
}

}  // namespace
}  // namespace gpuledger
