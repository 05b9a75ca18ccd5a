// What answers on the server's address while `gpuledger server --db-wait` waits for its
// database at start, so that probes and clients see a 503 that says why instead of a
// closed port: GET /healthz answers 200 (the process is alive) and GET /readyz 503, both
// with {"status": "starting", "ready": false, "database": {"ok": false, "error": ...}};
// every other request is refused 503 (JSON, Retry-After) before its body is read. Stop()
// closes the port; the server then binds it itself (SO_REUSEADDR), so connections in the
// gap of a few milliseconds between the two are refused. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/http_front.h"

namespace gpuledger {

class StartingFront {
 public:
  // `why`: the database's last error, read on every probe (thread-safe callable).
  StartingFront(HttpFrontOptions options, std::function<std::string()> why);
  Status Start();
  void Stop();
  int port() const { return front_.port(); }

 private:
  std::string Body() const;

  HttpFront front_;
  std::function<std::string()> why_;
};

}  // namespace gpuledger
