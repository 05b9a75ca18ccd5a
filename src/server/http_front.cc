// The HTTP/1.1 front (http_front.h): a poller for TLS handshakes and request heads,
// workers for bodies and handlers, deadlines on every phase.
#include "server/http_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "server/chunked.h"
#include "server/tls.h"

namespace gpuledger {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kSliceMs = 200;  // how often blocked I/O looks at Stop

SteadyClock::time_point After(int ms) { return SteadyClock::now() + std::chrono::milliseconds(ms); }

int MsUntil(SteadyClock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - SteadyClock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

// One non-blocking read or write on a connection, plain or TLS, in TlsSession's shape:
// > 0 bytes; 0 closed or failed; -1 would block, *events says what to poll for.
ssize_t ReadSome(int fd, TlsSession* tls, char* buf, size_t n, short* events) {
  if (tls != nullptr) return tls->Read(buf, n, events);
  for (;;) {
    const ssize_t r = ::recv(fd, buf, n, 0);
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return 0;
    *events = POLLIN;
    return -1;
  }
}

ssize_t WriteSome(int fd, TlsSession* tls, std::string_view data, short* events) {
  if (tls != nullptr) return tls->Write(data.data(), data.size(), events);
  for (;;) {
    const ssize_t r = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r > 0) return r;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return 0;
    *events = POLLOUT;
    return -1;
  }
}

// Sends all of `data` before `deadline`; false on a timeout, a closed peer or Stop.
bool SendAll(int fd, TlsSession* tls, std::string_view data, SteadyClock::time_point deadline,
             const std::atomic<bool>& stopping) {
  while (!data.empty()) {
    short events = POLLOUT;
    const ssize_t n = WriteSome(fd, tls, data, &events);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return false;
    const int left = MsUntil(deadline);
    if (left == 0 || stopping) return false;
    pollfd p{fd, events, 0};
    ::poll(&p, 1, std::min(left, kSliceMs));
  }
  return true;
}

// The first byte of a TLS connection is a handshake record's type (22); an HTTP request
// starts with its method, an upper-case letter.
constexpr unsigned char kTlsHandshakeRecord = 0x16;

}  // namespace

struct HttpFront::Conn {
  int fd = -1;
  std::unique_ptr<TlsSession> tls;  // null: plain HTTP
  short events = POLLIN;            // what the poller waits for (TLS may need POLLOUT)
  std::string peer;
  int peer_port = -1;
  std::string in;  // bytes received and not yet consumed
  SteadyClock::time_point deadline;
  bool head_started = true;  // false: kept alive, waiting for a next request
  bool sniffed = false;      // TLS: the first byte was looked at (plain HTTP is refused)
  int served = 0;
};

HttpFront::HttpFront(HttpFrontOptions options) : options_(std::move(options)) {
  // Sockets are written with MSG_NOSIGNAL; this keeps a process that embeds the server
  // (the CLI, the tests, with their own HTTP clients) alive when a peer goes away, as
  // cpp-httplib's server did by the same call.
  std::signal(SIGPIPE, SIG_IGN);
}

HttpFront::~HttpFront() { Stop(); }

void HttpFront::Get(const std::string& pattern, Handler h) {
  routes_.emplace_back("GET", Route{std::regex(pattern), std::move(h)});
}
void HttpFront::Post(const std::string& pattern, Handler h) {
  routes_.emplace_back("POST", Route{std::regex(pattern), std::move(h)});
}
void HttpFront::Patch(const std::string& pattern, Handler h) {
  routes_.emplace_back("PATCH", Route{std::regex(pattern), std::move(h)});
}
void HttpFront::Put(const std::string& pattern, Handler h) {
  routes_.emplace_back("PUT", Route{std::regex(pattern), std::move(h)});
}
void HttpFront::Delete(const std::string& pattern, Handler h) {
  routes_.emplace_back("DELETE", Route{std::regex(pattern), std::move(h)});
}

size_t HttpFront::open_connections() const {
  MutexLock lock(mu_);
  return open_;
}

Status HttpFront::Start() {
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty())
    return InvalidArgument(
        "a TLS certificate file and a TLS private key file go together: give both or neither");
  if (!options_.tls_cert_file.empty()) {
    ASSIGN_OR_RETURN(tls_, TlsContext::FromPemFiles(options_.tls_cert_file, options_.tls_key_file));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  if (int e = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found); e != 0) {
    return Unavailable("cannot resolve listen address '" + options_.host + "': " + gai_strerror(e));
  }
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 512) == 0) {
      listen_fd_ = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) return Unavailable("cannot listen on " + options_.host + ":" + port + ": " + why);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) return Internal("pipe2 failed");
  stopping_ = false;
  poller_ = std::thread([this] { PollLoop(); });
  for (int i = 0; i < std::max(1, options_.worker_threads); ++i)
    workers_.emplace_back([this] { WorkerLoop(); });
  return OkStatus();
}

void HttpFront::Stop() {
  if (listen_fd_ < 0 && !poller_.joinable()) return;
  {
    MutexLock lock(mu_);  // a worker between its predicate and its wait sees it
    stopping_ = true;
  }
  Wake();
  work_cv_.NotifyAll();
  if (poller_.joinable()) poller_.join();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  std::deque<std::unique_ptr<Conn>> left;
  {
    MutexLock lock(mu_);
    left.swap(work_);
    for (auto& c : returned_) left.push_back(std::move(c));
    returned_.clear();
  }
  for (auto& c : left) Close(std::move(c));
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  for (int& fd : wake_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

void HttpFront::Wake() {
  if (wake_[1] >= 0) {
    const char b = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_[1], &b, 1);
  }
}

void HttpFront::Close(std::unique_ptr<Conn> c) {
  if (!c) return;
  if (c->tls) {
    c->tls->Shutdown();
    c->tls.reset();
  }
  ::close(c->fd);
  MutexLock lock(mu_);
  --open_;
  if (auto it = per_client_.find(c->peer); it != per_client_.end() && --it->second == 0)
    per_client_.erase(it);
}

void HttpFront::Dispatch(std::unique_ptr<Conn> c) {
  {
    MutexLock lock(mu_);
    work_.push_back(std::move(c));
  }
  work_cv_.NotifyOne();
}

namespace {

// Plain HTTP on a TLS front: what the client sent is read (so that closing does not
// reset the connection and lose the answer), answered 400 in plain HTTP, and closed.
void RefusePlainHttpOnTls(int fd, size_t max_head_bytes) {
  char buf[4096];
  for (size_t dropped = 0; dropped < max_head_bytes;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    dropped += static_cast<size_t>(n);
  }
  httplib::Response res;
  res.status = 400;
  res.set_content(
      JsonErrorBody(InvalidArgument("this port serves HTTPS: plain HTTP is refused; use https://")),
      "application/json");
  const std::string out = SerializeResponse(res, false);
  [[maybe_unused]] ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
}

}  // namespace

bool HttpFront::Handshake(Conn& c) {
  if (!c.sniffed) {
    unsigned char first = 0;
    const ssize_t n = ::recv(c.fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      c.events = POLLIN;
      return true;
    }
    if (n <= 0) return false;  // closed before a byte: nothing to count
    if (first != kTlsHandshakeRecord && std::isupper(first)) {
      ++counters_.plain_http_on_tls;
      RefusePlainHttpOnTls(c.fd, options_.max_head_bytes);
      return false;
    }
    c.sniffed = true;  // anything else is OpenSSL's to judge
  }
  std::string why;
  switch (c.tls->Handshake(&why)) {
    case TlsSession::Step::kDone:
    case TlsSession::Step::kWantRead:
      c.events = POLLIN;
      return true;
    case TlsSession::Step::kWantWrite:
      c.events = POLLOUT;
      return true;
    case TlsSession::Step::kFailed:
      break;
  }
  ++counters_.tls_handshake_failures;
  return false;
}

void HttpFront::PollLoop() {
  std::vector<std::unique_ptr<Conn>> waiting;  // for a handshake or a request head
  // One try, never blocking: a refusal the socket cannot take now is not sent.
  auto refuse_now = [](Conn& c, int status, const Status& s) {
    httplib::Response res;
    res.status = status;
    res.set_content(JsonErrorBody(s), "application/json");
    const std::string out = SerializeResponse(res, false);
    short events = 0;
    [[maybe_unused]] ssize_t n = WriteSome(c.fd, c.tls.get(), out, &events);
  };
  // True when `c` holds a complete head (leading blank lines between requests dropped).
  auto head_complete = [](Conn& c) {
    while (c.in.size() >= 2 && c.in[0] == '\r' && c.in[1] == '\n') c.in.erase(0, 2);
    return c.in.find("\r\n\r\n") != std::string::npos;
  };
  while (!stopping_) {
    {
      std::vector<std::unique_ptr<Conn>> back;
      {
        MutexLock lock(mu_);
        back.swap(returned_);
      }
      for (auto& c : back) {
        if (head_complete(*c)) {
          Dispatch(std::move(c));
          continue;
        }
        c->head_started = !c->in.empty();
        c->deadline = After(c->head_started ? options_.head_timeout_ms : options_.idle_timeout_ms);
        c->events = POLLIN;
        waiting.push_back(std::move(c));
      }
    }
    std::vector<pollfd> fds;
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    int timeout = 1000;
    for (const auto& c : waiting) {
      fds.push_back({c->fd, c->events, 0});
      timeout = std::min(timeout, MsUntil(c->deadline) + 1);
      if (c->tls && c->tls->HasPending()) timeout = 0;  // bytes poll cannot see
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      char buf[256];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
    if (fds[1].revents & POLLIN) {
      for (;;) {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        const int fd =
            ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        char host[INET6_ADDRSTRLEN] = "";
        int peer_port = -1;
        if (addr.ss_family == AF_INET6) {
          auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
          ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
          peer_port = ntohs(a->sin6_port);
        } else {
          auto* a = reinterpret_cast<sockaddr_in*>(&addr);
          ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
          peer_port = ntohs(a->sin_port);
        }
        Status over;
        {
          MutexLock lock(mu_);
          const size_t mine = per_client_.count(host) ? per_client_[host] : 0;
          if (open_ >= options_.max_connections) {
            over = Unavailable("the server holds " + std::to_string(open_) + " connections (limit " +
                               std::to_string(options_.max_connections) + "); retry later");
          } else if (mine >= options_.max_connections_per_client) {
            over = Unavailable("client " + std::string(host) + " holds " + std::to_string(mine) +
                               " connections (limit " + std::to_string(options_.max_connections_per_client) +
                               " per client address); retry later");
          } else {
            ++open_;
            ++per_client_[host];
          }
        }
        auto c = std::make_unique<Conn>();
        c->fd = fd;
        if (!over.ok()) {
          ++counters_.connections_refused;
          // Over TLS there is no channel to answer on before a handshake, and the
          // handshake is the work the caps are there to bound: closed unanswered.
          if (!tls_) refuse_now(*c, 503, over);
          ::close(fd);
          continue;
        }
        c->peer = host;
        c->peer_port = peer_port;
        // The whole first head, from accept: a TLS handshake is inside this deadline.
        c->deadline = After(options_.head_timeout_ms);
        if (tls_) {
          c->tls = TlsSession::New(*tls_, fd);
          if (!c->tls) {
            Close(std::move(c));
            continue;
          }
        }
        waiting.push_back(std::move(c));
      }
    }
    // fds[2 + i] is waiting[i] for the connections that were there before accepting.
    const auto now = SteadyClock::now();
    std::vector<std::unique_ptr<Conn>> still;
    for (size_t i = 0; i < waiting.size(); ++i) {
      auto& c = waiting[i];
      const short ev = 2 + i < fds.size() ? fds[2 + i].revents : 0;
      const bool ready = (ev & (POLLIN | POLLOUT | POLLHUP | POLLERR)) || (c->tls && c->tls->HasPending());
      bool closed = false;
      if (ready && c->tls && !c->tls->established() && !Handshake(*c)) {
        Close(std::move(c));
        continue;
      }
      if (ready && (!c->tls || c->tls->established())) {
        char buf[16 << 10];
        for (;;) {
          short want = POLLIN;
          const ssize_t n = ReadSome(c->fd, c->tls.get(), buf, sizeof buf, &want);
          if (n > 0) {
            if (!c->head_started) {
              c->head_started = true;
              c->deadline = After(options_.head_timeout_ms);
            }
            c->in.append(buf, static_cast<size_t>(n));
            if (c->in.size() > options_.max_head_bytes) break;
            continue;
          }
          if (n < 0) {
            c->events = want;
          } else {
            closed = true;
          }
          break;
        }
      }
      if (closed && !head_complete(*c)) {
        Close(std::move(c));
        continue;
      }
      if (head_complete(*c)) {
        if (c->in.find("\r\n\r\n") + 4 > options_.max_head_bytes) {
          ++counters_.heads_too_large;
          refuse_now(*c, 431,
                     InvalidArgument("request head exceeds limit " + std::to_string(options_.max_head_bytes) +
                                     " bytes"));
          Close(std::move(c));
        } else {
          Dispatch(std::move(c));
        }
        continue;
      }
      if (c->in.size() > options_.max_head_bytes) {
        ++counters_.heads_too_large;
        refuse_now(
            *c, 431,
            InvalidArgument("request head of " + std::to_string(c->in.size()) + "+ bytes exceeds limit " +
                            std::to_string(options_.max_head_bytes) + " bytes"));
        Close(std::move(c));
        continue;
      }
      if (c->deadline <= now) {
        if (c->tls && !c->tls->established()) {
          ++counters_.tls_handshake_timeouts;  // no channel to answer on: closed
        } else if (c->head_started) {
          ++counters_.head_timeouts;
          refuse_now(
              *c, 408,
              InvalidArgument("request head not complete within " + std::to_string(options_.head_timeout_ms) +
                              " ms (" + std::to_string(c->in.size()) + " bytes received)"));
        }
        Close(std::move(c));
        continue;
      }
      still.push_back(std::move(c));
    }
    waiting.swap(still);
  }
  for (auto& c : waiting) Close(std::move(c));
}

void HttpFront::WorkerLoop() {
  for (;;) {
    std::unique_ptr<Conn> c;
    {
      MutexLock lock(mu_);
      work_cv_.Wait(mu_, [this]() GL_REQUIRES(mu_) { return stopping_ || !work_.empty(); });
      if (stopping_) return;
      c = std::move(work_.front());
      work_.pop_front();
    }
    if (Serve(*c) && !stopping_) {
      {
        MutexLock lock(mu_);
        returned_.push_back(std::move(c));
      }
      Wake();
    } else {
      Close(std::move(c));
    }
  }
}

bool HttpFront::Serve(Conn& c) {
  const size_t head_end = c.in.find("\r\n\r\n");
  const std::string head = c.in.substr(0, head_end);
  std::string buf = c.in.substr(head_end + 4);  // what came after the head
  size_t pos = 0;
  c.in.clear();
  httplib::Request req;
  httplib::Response res;
  req.remote_addr = c.peer;
  req.remote_port = c.peer_port;
  const SteadyClock::time_point write_deadline = After(options_.write_timeout_ms);
  const SteadyClock::time_point began = SteadyClock::now();
  auto log = [&] {
    if (logger_) {
      logger_(req, res,
              std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - began).count());
    }
  };
  // Answers `s` with `status` (and `headers`) and closes: the rest of the request is not read.
  auto refuse = [&](int status, const Status& s, const httplib::Headers& headers = {}) {
    res.status = status;
    res.headers = headers;
    res.set_content(JsonErrorBody(s), "application/json");
    log();
    if (SendAll(c.fd, c.tls.get(), SerializeResponse(res, false), write_deadline, stopping_)) {
      // A close with unread bytes would reset the connection and could lose the answer:
      // read (and drop) a little of what the client is still sending first (TLS records
      // are dropped undecrypted).
      if (c.tls) c.tls->Shutdown();
      ::shutdown(c.fd, SHUT_WR);
      const SteadyClock::time_point until = After(kSliceMs);
      char tmp[16 << 10];
      for (size_t dropped = 0; dropped < (256u << 10) && MsUntil(until) > 0;) {
        pollfd p{c.fd, POLLIN, 0};
        if (::poll(&p, 1, MsUntil(until)) <= 0) break;
        const ssize_t r = ::recv(c.fd, tmp, sizeof tmp, 0);
        if (r <= 0) break;
        dropped += static_cast<size_t>(r);
      }
    }
    return false;
  };
  if (Status s = ParseRequestHead(head, req); !s.ok()) {
    ++counters_.bad_requests;
    return refuse(400, s);
  }
  if (!options_.trusted_proxies.empty()) {
    std::string forwarded;
    for (size_t i = 0, n = req.get_header_value_count("X-Forwarded-For"); i < n; ++i)
      forwarded += (i ? "," : "") + req.get_header_value("X-Forwarded-For", i);
    req.remote_addr = ClientAddress(c.peer, forwarded, options_.trusted_proxies);
  }
  const Handler* handler = nullptr;
  bool other_method = false;
  for (const auto& [method, route] : routes_) {
    if (!std::regex_match(req.path, req.matches, route.re)) continue;
    if (method == req.method) {
      handler = &route.handler;
      break;
    }
    other_method = true;
  }
  if (handler == nullptr) {
    if (other_method)
      return refuse(405, InvalidArgument("method " + req.method + " is not allowed on " + req.path));
    return refuse(404, NotFound("no route " + req.method + " " + req.path));
  }

  // Framing, encoding and authentication, all before a byte of the body is read.
  bool chunked = false;
  size_t length = 0;
  if (req.has_header("Transfer-Encoding")) {
    const std::string te = ToLower(req.get_header_value("Transfer-Encoding"));
    if (te != "chunked")
      return refuse(
          501, Status(StatusCode::kUnimplemented,
                      "Transfer-Encoding '" + te + "' is not supported: send chunked or a Content-Length"));
    if (req.has_header("Content-Length"))
      return refuse(400, InvalidArgument("both Transfer-Encoding and Content-Length are given"));
    chunked = true;
  } else if (req.has_header("Content-Length")) {
    const std::string cl = req.get_header_value("Content-Length");
    if (req.get_header_value_count("Content-Length") > 1 || cl.empty() || cl.size() > 19 ||
        !std::all_of(cl.begin(), cl.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return refuse(400,
                    InvalidArgument("Content-Length '" + cl.substr(0, 32) + "' is not one decimal number"));
    }
    length = std::stoull(cl);
    if (length > options_.max_body_bytes) {
      ++counters_.bodies_too_large;
      return refuse(413, InvalidArgument("request body " + std::to_string(length) + " bytes exceeds limit " +
                                         std::to_string(options_.max_body_bytes) + " bytes"));
    }
  }
  if (req.has_header("Content-Encoding")) {
    const std::string ce = ToLower(Trim(req.get_header_value("Content-Encoding")));
    if (!ce.empty() && ce != "identity" && ce != "snappy") {
      ++counters_.encodings_refused;
      return refuse(415, InvalidArgument("unsupported Content-Encoding '" + ce.substr(0, 64) +
                                         "': send snappy (remote write) or no encoding"));
    }
  }
  const bool has_body = chunked || length > 0;
  if (has_body && req.method == "GET")
    return refuse(400, InvalidArgument("GET " + req.path + " takes no body"));
  if (admit_) {
    httplib::Response verdict;
    if (Status s = admit_(req, verdict); !s.ok())
      return refuse(verdict.status > 0 ? verdict.status : HttpStatusFor(s), s, verdict.headers);
  }
  if (has_body && ToLower(req.get_header_value("Expect")) == "100-continue") {
    if (!SendAll(c.fd, c.tls.get(), "HTTP/1.1 100 Continue\r\n\r\n", write_deadline, stopping_)) return false;
  }

  // The body: under one deadline and the byte limit, in either framing.
  const SteadyClock::time_point body_deadline = After(options_.body_timeout_ms);
  enum class Got { kOk, kTimeout, kClosed };
  auto need = [&](size_t n) {  // until buf holds n bytes past pos
    char tmp[64 << 10];
    while (buf.size() - pos < n) {
      const int left = MsUntil(body_deadline);
      if (left == 0) return Got::kTimeout;
      if (stopping_) return Got::kClosed;
      // Read before polling: a TLS session may hold decrypted bytes poll cannot see.
      short want = POLLIN;
      const ssize_t r = ReadSome(c.fd, c.tls.get(), tmp, sizeof tmp, &want);
      if (r == 0) return Got::kClosed;
      if (r < 0) {
        pollfd p{c.fd, want, 0};
        ::poll(&p, 1, std::min(left, kSliceMs));
        continue;
      }
      if (pos > (64 << 10)) {
        buf.erase(0, pos);
        pos = 0;
      }
      buf.append(tmp, static_cast<size_t>(r));
    }
    return Got::kOk;
  };
  auto body_failed = [&](Got g) {
    if (g == Got::kClosed) return false;
    ++counters_.body_timeouts;
    return refuse(
        408,
        InvalidArgument("request body not complete within " + std::to_string(options_.body_timeout_ms) +
                        " ms (" + std::to_string(req.body.size() + (buf.size() - pos)) + " bytes received)"));
  };
  if (!chunked) {
    if (Got g = need(length); g != Got::kOk) return body_failed(g);
    req.body = buf.substr(pos, length);
    pos += length;
  } else {
    ChunkedDecoder decoder(options_.max_body_bytes, options_.max_head_bytes);
    for (;;) {
      size_t used = 0;
      StatusOr<bool> done = decoder.Feed(std::string_view(buf).substr(pos), &used, &req.body);
      pos += used;
      if (!done.ok()) {
        switch (decoder.failure()) {
          case ChunkedDecoder::Failure::kTooLarge:
            ++counters_.bodies_too_large;
            return refuse(413, done.status());
          case ChunkedDecoder::Failure::kTrailersTooLarge:
            return refuse(431, done.status());
          default:
            return refuse(400, done.status());
        }
      }
      if (*done) break;
      if (Got g = need(1); g != Got::kOk) return body_failed(g);
    }
  }
  c.in = buf.substr(pos);  // a pipelined next request, if any

  try {
    (*handler)(req, res);
  } catch (const std::exception& e) {
    res = httplib::Response();
    res.status = 500;
    res.set_content(JsonErrorBody(Internal(std::string("handler failed: ") + e.what())), "application/json");
  }
  if (res.status == -1) res.status = 200;
  if (res.status >= 400 && res.body.empty()) {
    res.set_content(
        JsonErrorBody(Status(res.status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument,
                             ReasonPhrase(res.status))),
        "application/json");
  }
  ++c.served;
  const bool keep = req.version == "HTTP/1.1" && ToLower(req.get_header_value("Connection")) != "close" &&
                    c.served < options_.keep_alive_max_requests && !stopping_;
  const bool sent = SendAll(c.fd, c.tls.get(), SerializeResponse(res, keep), write_deadline, stopping_);
  log();
  return sent && keep;
}

}  // namespace gpuledger
