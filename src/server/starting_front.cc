#include "server/starting_front.h"

#include <nlohmann/json.hpp>

namespace gpuledger {

StartingFront::StartingFront(HttpFrontOptions options, std::function<std::string()> why)
    : front_(std::move(options)), why_(std::move(why)) {
  front_.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(Body(), "application/json");
  });
  front_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content(Body(), "application/json");
  });
  // Everything else matches here and is refused by the admission check, before a body.
  auto refused = [](const httplib::Request&, httplib::Response& res) { res.status = 503; };
  front_.Get(".*", refused);
  front_.Post(".*", refused);
  front_.Put(".*", refused);
  front_.Patch(".*", refused);
  front_.Delete(".*", refused);
  front_.set_admit([this](const httplib::Request& req, httplib::Response& verdict) {
    if (req.method == "GET" && (req.path == "/healthz" || req.path == "/readyz")) return OkStatus();
    verdict.status = 503;
    verdict.set_header("Retry-After", "5");
    return Unavailable("the server is starting: waiting for its database (" + why_() + ")");
  });
}

Status StartingFront::Start() { return front_.Start(); }

void StartingFront::Stop() { front_.Stop(); }

std::string StartingFront::Body() const {
  const nlohmann::json out = {{"status", "starting"},
                              {"ready", false},
                              {"database", {{"ok", false}, {"error", why_()}}}};
  return out.dump();
}

}  // namespace gpuledger
