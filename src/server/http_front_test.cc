// The HTTP front against hostile clients: slow heads, unbounded and encoded bodies,
// connection floods, requests refused before their body is read. Real sockets on port
// 0; short server-side deadlines instead of sleeps.
#include "server/http_front.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace gpuledger {
namespace {

// A raw client socket: what it sends and what comes back, byte for byte.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};  // a safety net: no answer in 10 s fails the test, it never waits for it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool connected() const { return connected_; }
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
  // One answer: its head and a Content-Length body.
  std::string ReadAnswer() {
    std::string out;
    char buf[4096];
    for (;;) {
      const size_t head = out.find("\r\n\r\n");
      if (head != std::string::npos) {
        const size_t cl = out.find("Content-Length: ");
        const size_t len = cl == std::string::npos || cl > head ? 0 : std::stoul(out.substr(cl + 16));
        if (out.size() >= head + 4 + len) return out;
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int StatusOf(const std::string& answer) {
  return answer.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(answer.substr(9, 3)) : -1;
}
std::string BodyOf(const std::string& answer) {
  const size_t h = answer.find("\r\n\r\n");
  return h == std::string::npos ? "" : answer.substr(h + 4);
}
// The documented error shape: {"error": CODE, "message": "..."}.
bool IsJsonError(const std::string& answer, const std::string& message_part) {
  const auto j = nlohmann::json::parse(BodyOf(answer), nullptr, false);
  return j.is_object() && j.contains("error") && j["error"].is_string() && j.contains("message") &&
         j["message"].get<std::string>().find(message_part) != std::string::npos;
}

class HttpFrontTest : public ::testing::Test {
 protected:
  void StartWith(HttpFrontOptions o) {
    o.port = 0;
    front_ = std::make_unique<HttpFront>(o);
    front_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    front_->Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      ++handled_;
      res.set_content(std::to_string(req.body.size()) + ":" + req.body.substr(0, 16), "text/plain");
    });
    front_->Post("/empty-error", [](const httplib::Request&, httplib::Response& res) { res.status = 409; });
    front_->set_admit([](const httplib::Request& req, httplib::Response&) {
      if (req.path == "/healthz") return OkStatus();
      return req.get_header_value("Authorization") == "Bearer good" ? OkStatus()
                                                                    : Unauthenticated("unknown API token");
    });
    ASSERT_TRUE(front_->Start().ok());
  }
  void TearDown() override {
    if (front_) front_->Stop();
  }
  std::string Healthz() {
    RawClient c(front_->port());
    c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return c.ReadToClose();
  }
  std::unique_ptr<HttpFront> front_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpFrontTest, ManySlowHeadsHoldNoWorkerAndAreClosedAtTheirDeadline) {
  HttpFrontOptions o;
  o.worker_threads = 2;
  o.head_timeout_ms = 1500;
  o.max_connections_per_client = 1000;  // every test client is 127.0.0.1
  StartWith(o);
  // Each slow client costs this process two descriptors (its end and the server's): 500
  // of them, or as many as the descriptor limit allows.
  rlimit fds{};
  ::getrlimit(RLIMIT_NOFILE, &fds);
  fds.rlim_cur = std::max(fds.rlim_cur, std::min<rlim_t>(fds.rlim_max, 4096));
  ::setrlimit(RLIMIT_NOFILE, &fds);
  const int slow_clients = static_cast<int>(std::min<rlim_t>(500, (fds.rlim_cur - 100) / 2));
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < slow_clients; ++i) {
    slow.push_back(std::make_unique<RawClient>(front_->port()));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->Send("GET /hea"));  // a head that never ends
  }
  // Two workers, five hundred unfinished heads: a well-behaved client is served.
  for (int i = 0; i < 5; ++i) {
    const std::string a = Healthz();
    EXPECT_EQ(StatusOf(a), 200) << a;
    EXPECT_EQ(BodyOf(a), "ok\n");
  }
  // At the head deadline each is answered 408 and closed.
  const std::string late = slow.front()->ReadToClose();
  EXPECT_EQ(StatusOf(late), 408) << late;
  EXPECT_TRUE(IsJsonError(late, "request head not complete within 1500 ms (8 bytes received)")) << late;
  for (auto& c : slow) c->ReadToClose();
  EXPECT_GE(front_->counters().head_timeouts.load(), slow_clients);
}

TEST_F(HttpFrontTest, ConnectionsOverTheCapsAreRefusedWith503) {
  HttpFrontOptions o;
  o.max_connections_per_client = 3;
  StartWith(o);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(front_->port()));
    held.back()->Send("G");
  }
  // The front counts a connection once it has accepted it: the fourth is over.
  while (front_->open_connections() < 3) {
  }
  RawClient fourth(front_->port());
  const std::string a = fourth.ReadToClose();
  EXPECT_EQ(StatusOf(a), 503) << a;
  EXPECT_TRUE(IsJsonError(a, "client 127.0.0.1 holds 3 connections (limit 3 per client address)")) << a;
  EXPECT_EQ(front_->counters().connections_refused.load(), 1);
  held.clear();
  while (front_->open_connections() > 0) {
  }
  EXPECT_EQ(StatusOf(Healthz()), 200);
}

TEST_F(HttpFrontTest, TheTotalConnectionCapHolds) {
  HttpFrontOptions o;
  o.max_connections = 2;
  StartWith(o);
  RawClient a(front_->port()), b(front_->port());
  a.Send("G");
  b.Send("G");
  while (front_->open_connections() < 2) {
  }
  RawClient c(front_->port());
  const std::string got = c.ReadToClose();
  EXPECT_EQ(StatusOf(got), 503) << got;
  EXPECT_TRUE(IsJsonError(got, "the server holds 2 connections (limit 2)")) << got;
}

TEST_F(HttpFrontTest, AGzipBodyIsRefusedBeforeAByteOfItIsRead) {
  StartWith({});
  RawClient c(front_->port());
  // Headers only: the 500,000 bytes announced are never sent, yet the answer comes.
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Encoding: gzip\r\n"
      "Content-Length: 500000\r\n\r\n");
  const std::string a = c.ReadToClose();
  EXPECT_EQ(StatusOf(a), 415) << a;
  EXPECT_TRUE(IsJsonError(a, "unsupported Content-Encoding 'gzip'")) << a;
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpFrontTest, AnUnknownTokenIsRefusedBeforeTheBodyIsRead) {
  StartWith({});
  RawClient c(front_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bad\r\nContent-Length: 1000000\r\n\r\n");
  const std::string a = c.ReadToClose();
  EXPECT_EQ(StatusOf(a), 401) << a;
  EXPECT_TRUE(IsJsonError(a, "unknown API token")) << a;
  RawClient chunked(front_->port());
  chunked.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n");
  EXPECT_EQ(StatusOf(chunked.ReadToClose()), 401);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpFrontTest, AChunkedBodyIsBoundedByTheBodyLimit) {
  HttpFrontOptions o;
  o.max_body_bytes = 1000;
  StartWith(o);
  {  // within the limit: decoded and handed over whole
    RawClient c(front_->port());
    c.Send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    const std::string a = c.ReadAnswer();
    EXPECT_EQ(StatusOf(a), 200) << a;
    EXPECT_EQ(BodyOf(a), "11:hello world");
  }
  // Over it, chunk by chunk: refused when the chunk that passes it is announced.
  RawClient c(front_->port());
  std::string body;
  for (int i = 0; i < 3; ++i) body += "190\r\n" + std::string(400, 'a') + "\r\n";
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nTransfer-Encoding: chunked\r\n\r\n" +
      body);
  const std::string a = c.ReadToClose();
  EXPECT_EQ(StatusOf(a), 413) << a;
  EXPECT_TRUE(IsJsonError(a, "chunked request body of 1200+ bytes exceeds limit 1000 bytes")) << a;
  RawClient big(front_->port());
  big.Send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 1001\r\n\r\n");
  const std::string b = big.ReadToClose();
  EXPECT_EQ(StatusOf(b), 413) << b;
  EXPECT_TRUE(IsJsonError(b, "request body 1001 bytes exceeds limit 1000 bytes")) << b;
  EXPECT_EQ(handled_, 1);
}

TEST_F(HttpFrontTest, ASlowBodyIsCutAtItsDeadline) {
  HttpFrontOptions o;
  o.body_timeout_ms = 300;
  StartWith(o);
  RawClient c(front_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 100\r\n\r\nabc");
  const std::string a = c.ReadToClose();
  EXPECT_EQ(StatusOf(a), 408) << a;
  EXPECT_TRUE(IsJsonError(a, "request body not complete within 300 ms (3 bytes received)")) << a;
}

TEST_F(HttpFrontTest, KeepAliveServesPipelinedRequestsUpToItsLimit) {
  HttpFrontOptions o;
  o.keep_alive_max_requests = 2;
  StartWith(o);
  RawClient c(front_->port());
  const std::string one =
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 3\r\n\r\nabc";
  c.Send(one + one + one);
  const std::string all = c.ReadToClose();
  size_t answers = 0;
  for (size_t at = all.find("HTTP/1.1 200"); at != std::string::npos; at = all.find("HTTP/1.1 200", at + 1))
    ++answers;
  EXPECT_EQ(answers, 2u) << all;
  EXPECT_NE(all.find("Connection: close"), std::string::npos) << all;
}

TEST_F(HttpFrontTest, AnIdleKeptAliveConnectionIsClosedQuietly) {
  HttpFrontOptions o;
  o.idle_timeout_ms = 200;
  StartWith(o);
  RawClient c(front_->port());
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string a = c.ReadAnswer();
  EXPECT_EQ(StatusOf(a), 200) << a;
  EXPECT_NE(a.find("Connection: keep-alive"), std::string::npos) << a;
  EXPECT_EQ(c.ReadToClose(), "") << "closed at the idle deadline, with no answer to no request";
  while (front_->open_connections() > 0) {
  }
}

TEST_F(HttpFrontTest, ItsOwnRefusalsAreJsonErrors) {
  StartWith({});
  struct Case {
    std::string request;
    int status;
    const char* message;
  } cases[] = {
      {"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404, "no route GET /nowhere"},
      {"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method GET is not allowed on /echo"},
      {"NONSENSE\r\n\r\n", 400, "request line is not"},
      {"GET /healthz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400, "GET /healthz takes no body"},
      {"POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
       "Transfer-Encoding 'gzip' is not supported"},
      {"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
       "not one decimal number"},
      {"POST /echo HTTP/1.1\r\nAuthorization: Bearer good\r\nContent-Length: 0\r\n\r\n", 200, nullptr},
      {"POST /empty-error HTTP/1.1\r\nAuthorization: Bearer good\r\nContent-Length: 0\r\n\r\n", 409,
       "Conflict"},
      {"GET /healthz HTTP/1.1\r\n" + std::string(20000, 'X') + "\r\n\r\n", 431, "request head"},
  };
  for (const Case& k : cases) {
    RawClient c(front_->port());
    c.Send(k.request);
    const std::string a = c.ReadAnswer();
    EXPECT_EQ(StatusOf(a), k.status) << k.request.substr(0, 40) << "\n" << a;
    if (k.message) {
      EXPECT_TRUE(IsJsonError(a, k.message)) << a;
    }
  }
}

}  // namespace
}  // namespace gpuledger
