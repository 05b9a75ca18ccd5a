#include "agent/shipper.h"

#include <httplib.h>

#include <algorithm>

namespace gpuledger {

bool Shipper::Wait(DurationMs ms) {
  MutexLock lock(mu_);
  clock_.WaitFor(mu_, cv_, ms, [this]() GL_REQUIRES(mu_) { return stop_ || nudged_; });
  nudged_ = false;
  return stop_;
}

void Shipper::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.NotifyAll();
}

void Shipper::Nudge() {
  {
    MutexLock lock(mu_);
    nudged_ = true;
  }
  cv_.NotifyAll();
}

std::string Shipper::last_error() const {
  MutexLock lock(mu_);
  return last_error_;
}

void Shipper::Run(bool drain) {
  // cpp-httplib as Debian builds it has OpenSSL support (CPPHTTPLIB_OPENSSL_SUPPORT, set
  // by its pkg-config flags): an https:// URL makes a verifying TLS client.
  httplib::Client client(options_.url);
  if (!options_.ca_file.empty()) client.set_ca_cert_path(options_.ca_file);
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(options_.timeout_s, 0);
  client.set_read_timeout(options_.timeout_s, 0);
  client.set_write_timeout(options_.timeout_s, 0);
  DurationMs backoff = options_.min_backoff_ms;
  // `what`: the request (or "outbox"); `why`: the cause, logged once per cause (so
  // without what varies from one answer to the next: `detail`, kept in last_error).
  auto fail = [&](const std::string& what, const Status& why, const std::string& detail = "") {
    ++counters_.failures;
    {
      MutexLock lock(mu_);
      last_error_ = what + ": " + why.message() + detail;
    }
    ship_log_.Failed(why);
    const bool stopping = Wait(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff_ms);
    return stopping;
  };
  for (;;) {
    {
      MutexLock lock(mu_);
      if (stop_) return;
    }
    auto front = queue_.Front();
    if (!front.ok()) {
      if (fail("outbox", front.status().WithContext("outbox"))) return;
      continue;
    }
    if (!front->has_value()) {
      if (drain || Wait(kSecondMs)) return;
      continue;
    }
    const QueuedRequest& r = **front;
    httplib::Headers headers = {{"Authorization", "Bearer " + options_.token}};
    if (r.path == "/api/v1/write") {
      headers.emplace("Content-Encoding", "snappy");
      headers.emplace("X-Prometheus-Remote-Write-Version", "0.1.0");
    }
    const std::string what = r.method + " " + r.path;
    auto res = r.method == "PATCH" ? client.Patch(r.path, headers, r.body, r.content_type)
                                   : client.Post(r.path, headers, r.body, r.content_type);
    if (!res) {
      if (fail(what, Unavailable(options_.url + ": " + httplib::to_string(res.error())))) return;
      continue;
    }
    const int code = res->status;
    if (code >= 200 && code < 300) {
      ++counters_.sent;
    } else if (code == 400 || code == 404 || code == 409 || code == 413 || code == 415) {
      ++counters_.rejected;
      log_.Warn("ship_refused", {{"request", what}, {"code", code}, {"body", res->body.substr(0, 512)}});
    } else {
      if (fail(what, Unavailable(options_.url + ": HTTP " + std::to_string(code)), " " + res->body)) return;
      continue;
    }
    backoff = options_.min_backoff_ms;
    ship_log_.Succeeded();
    if (Status s = queue_.Ack(r.seq); !s.ok()) {
      if (fail("outbox", s.WithContext("outbox"))) return;
    }
  }
}

}  // namespace gpuledger
