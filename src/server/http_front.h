// The server's HTTP/1.1 front: accepting, reading request heads and bodies under
// deadlines and limits, and writing answers. Handlers keep cpp-httplib's Request and
// Response types (routes.cc); cpp-httplib's own server loop is not used because it
// bounds only single reads (a client sending one byte a second holds a worker thread
// for ever), reads bodies of any length when chunked, and decodes gzip bodies before a
// handler could refuse them (docs/ARCHITECTURE.md, "The HTTP front").
//
// One thread polls every connection that is waiting for a request head (so slow or idle
// clients cost a file descriptor, not a thread); a complete head goes to a worker,
// which asks `admit` (authentication) before any byte of the body is read, reads the
// body under its own deadline and byte limit, runs the route's handler and writes the
// answer; a kept-alive connection then goes back to the poller.
//
// With a certificate and key (tls_cert_file, tls_key_file) every connection is TLS
// (tls.h): the poller drives each handshake without blocking, under the same deadline
// as the first request head (both must be done within head_timeout_ms of the accept)
// and inside the same connection caps, so a client that never finishes a handshake
// holds a descriptor until its deadline and no thread at all. Plain HTTP sent to a TLS
// front is answered 400 in plain HTTP and closed.
//
// Thread-safety: Get/Post/Patch/Delete/set_admit before Start; Start/Stop from one thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "server/forwarded.h"
#include "server/http_message.h"

namespace gpuledger {

class TlsContext;

struct HttpFrontOptions {
  std::string host = "127.0.0.1";
  int port = 0;                            // 0: any free port
  size_t max_body_bytes = 8 << 20;         // as sent on the wire, in any transfer encoding
  size_t max_head_bytes = 16 << 10;        // request line and headers together
  int head_timeout_ms = 10'000;            // from a head's first byte to its blank line
  int body_timeout_ms = 30'000;            // the whole body
  int idle_timeout_ms = 5'000;             // a kept-alive connection waiting for its next request
  int write_timeout_ms = 10'000;           // the whole answer
  size_t max_connections = 1024;           // open at once; more are answered 503 and closed
  size_t max_connections_per_client = 64;  // from one client address
  int keep_alive_max_requests = 100;       // then the connection is closed
  int worker_threads = 8;
  // Both or neither: PEM files of the certificate chain and its unencrypted private key.
  // Given, the front speaks only TLS (1.2 or later); Start fails, naming the file, when
  // either cannot be loaded or they do not match.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Reverse proxies whose X-Forwarded-For is believed (forwarded.h): a request from one
  // has req.remote_addr set to the client it names. The connection caps count peers (the
  // proxy), since they act before a head is read.
  TrustedProxies trusted_proxies;
};

struct HttpFrontCounters {
  std::atomic<int64_t> connections_refused{0}, head_timeouts{0}, body_timeouts{0}, bodies_too_large{0},
      heads_too_large{0}, bad_requests{0}, encodings_refused{0};
  // TLS: handshakes not done by the head deadline, handshakes that failed (a bad
  // ClientHello, no common protocol, the client gave up), plain HTTP sent to TLS.
  std::atomic<int64_t> tls_handshake_timeouts{0}, tls_handshake_failures{0}, plain_http_on_tls{0};
};

class HttpFront {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Called with the request head (no body yet); an error is answered at once, the body
  // left unread and the connection closed: with the status and headers the callback set
  // on `verdict` (a 429's Retry-After), else the Status's own HTTP status.
  using Admit = std::function<Status(const httplib::Request&, httplib::Response& verdict)>;
  // Called on the worker after each answer the workers send (handled or refused), with
  // how long the request took from its head's arrival at the worker.
  using Logger = std::function<void(const httplib::Request&, const httplib::Response&, int64_t duration_ms)>;

  explicit HttpFront(HttpFrontOptions options);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // `pattern` is a regular expression over the whole decoded path (cpp-httplib's rule).
  void Get(const std::string& pattern, Handler h);
  void Post(const std::string& pattern, Handler h);
  void Patch(const std::string& pattern, Handler h);
  void Put(const std::string& pattern, Handler h);
  void Delete(const std::string& pattern, Handler h);
  void set_admit(Admit a) { admit_ = std::move(a); }
  void set_logger(Logger l) { logger_ = std::move(l); }

  // Loads the TLS files (if any), binds, listens and starts the poller and workers.
  Status Start();
  // Stops accepting, lets handlers in flight finish, closes every connection, joins.
  void Stop();
  int port() const { return port_; }
  size_t open_connections() const;
  bool tls() const { return tls_ != nullptr; }
  const HttpFrontCounters& counters() const { return counters_; }

 private:
  struct Conn;
  struct Route {
    std::regex re;
    Handler handler;
  };
  void PollLoop();
  void WorkerLoop();
  // Advances a TLS connection's handshake (poller); false: it is over, close it.
  bool Handshake(Conn& c);
  // One request on a connection whose buffer holds a complete head; true: keep it.
  bool Serve(Conn& c);
  void Close(std::unique_ptr<Conn> c);
  void Dispatch(std::unique_ptr<Conn> c);  // to a worker
  void Wake();

  HttpFrontOptions options_;
  std::vector<std::pair<std::string, Route>> routes_;  // (method, route)
  Admit admit_;
  Logger logger_;
  HttpFrontCounters counters_;
  std::unique_ptr<TlsContext> tls_;  // null: plain HTTP
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
  std::vector<std::thread> workers_;

  mutable Mutex mu_;
  CondVar work_cv_;
  std::deque<std::unique_ptr<Conn>> work_ GL_GUARDED_BY(mu_);  // heads waiting for a worker
  std::vector<std::unique_ptr<Conn>> returned_ GL_GUARDED_BY(mu_);  // kept-alive, back to the poller
  std::map<std::string, size_t> per_client_ GL_GUARDED_BY(mu_);     // open connections by client address
  size_t open_ GL_GUARDED_BY(mu_) = 0;
};

}  // namespace gpuledger
