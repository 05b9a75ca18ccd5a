#include "agent/shipper.h"

#include <httplib.h>

#include <algorithm>
#include <iostream>

namespace gpuledger {

bool Shipper::Wait(DurationMs ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_ || nudged_; });
  nudged_ = false;
  return stop_;
}

void Shipper::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void Shipper::Nudge() {
  {
    std::lock_guard lock(mu_);
    nudged_ = true;
  }
  cv_.notify_all();
}

std::string Shipper::last_error() const {
  std::lock_guard lock(mu_);
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
  auto fail = [&](const std::string& why) {
    ++counters_.failures;
    {
      std::lock_guard lock(mu_);
      last_error_ = why;
    }
    const bool stopping = Wait(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff_ms);
    return stopping;
  };
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    auto front = queue_.Front();
    if (!front.ok()) {
      if (fail("outbox: " + front.status().ToString())) return;
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
      if (fail(what + ": " + httplib::to_string(res.error()))) return;
      continue;
    }
    const int code = res->status;
    if (code >= 200 && code < 300) {
      ++counters_.sent;
    } else if (code == 400 || code == 404 || code == 409 || code == 413 || code == 415) {
      ++counters_.rejected;
      std::cerr << "gpuledger agent: the server refused " << what << " (" << code << "): " << res->body
                << std::endl;
    } else {
      if (fail(what + ": HTTP " + std::to_string(code) + " " + res->body)) return;
      continue;
    }
    backoff = options_.min_backoff_ms;
    if (Status s = queue_.Ack(r.seq); !s.ok()) {
      if (fail("outbox: " + s.ToString())) return;
    }
  }
}

}  // namespace gpuledger
