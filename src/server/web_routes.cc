// The dashboard (docs/DASHBOARD.md): its page and assets, embedded at build time
// (web_assets.h), and its sessions: POST /api/v1/session signs in with an API token,
// GET says who the session (or bearer token) is, DELETE signs out. Sessions live in
// memory only (session.h).
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/web_assets.h"

namespace gpuledger {

namespace {

// Who a principal is, for the page: what it may see follows from these.
nlohmann::json PrincipalJson(const Principal& p) {
  return {{"role", std::string(RoleName(p.role))},
          {"project", p.project},
          {"department", p.department},
          {"token_id", p.token_id}};
}

void SetPageHeaders(httplib::Response& res) {
  // Only this origin's script; ECharts' tooltips set inline styles.
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
}

// The server's now, the ledger's time zone and the month in progress there: the page's
// default month.
Status AddClock(Ledger& ledger, TimeMs now, nlohmann::json& out) {
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(ledger));
  ASSIGN_OR_RETURN(YearMonth month, ctx.tz.MonthOf(now));
  out["now"] = FormatTime(now);
  out["timezone"] = ctx.settings.timezone;
  out["month"] = month.ToString();
  return OkStatus();
}

}  // namespace

void Server::WebRoutes() {
  const bool secure = !options_.tls_cert_file.empty();
  for (const WebAsset& asset : WebAssets()) {
    auto serve = [&asset](const httplib::Request& req, httplib::Response& res) {
      if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
      SetPageHeaders(res);
      res.set_content(reinterpret_cast<const char*>(asset.data), asset.size, asset.content_type);
    };
    http_->Get(asset.path, serve);
    if (std::string_view(asset.path) == "/index.html") http_->Get("/", serve);
  }
  if (WebAssets().empty()) {
    http_->Get("/", [](const httplib::Request&, httplib::Response& res) {
      Reply(res, NotFound("this gpuledger was built without the dashboard (GPULEDGER_WEB=OFF)"));
    });
  }

  // Sign in: {"token": "glt_..."} -> a session cookie and the CSRF token. The token is
  // checked as a bearer token is (throttled, refusals audited).
  http_->Post("/api/v1/session", [this, secure](const httplib::Request& req, httplib::Response& res) {
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string() || body.size() != 1) {
      return Reply(res, InvalidArgument(R"(send {"token": "<API token>"} and nothing else)"));
    }
    const std::string secret = body["token"].get<std::string>();
    httplib::Request as_bearer = req;
    as_bearer.headers.erase("Cookie");
    as_bearer.headers.erase("Authorization");
    as_bearer.headers.emplace("Authorization", "Bearer " + secret);
    auto p = Authenticate(as_bearer, res);
    if (!p) return;
    if (p->role == Role::kIngest) {
      return Deny(req, res, *p, PermissionDenied("ingest tokens do not sign in to the dashboard"));
    }
    const TimeMs now = clock_.Now();
    auto session = sessions_.Create(HashToken(secret), p->token_id, now);
    if (!session.ok()) return Reply(res, session.status());
    nlohmann::json out = PrincipalJson(*p);
    {
      MutexLock lock(ledger_mu_);
      Status s = AddClock(*ledger_, now, out);
      if (s.ok()) s = AuditLocked(req, &*p, 200, "POST /api/v1/session", "signed in");
      if (!s.ok()) {
        sessions_.Remove(session->id);
        return Reply(res, s);
      }
    }
    res.set_header("Set-Cookie", SessionSetCookie(*session, now, secure));
    res.set_header("Cache-Control", "no-store");
    out["csrf_token"] = session->csrf;
    out["expires_at"] = FormatTime(session->expires_ms);
    res.set_content(out.dump() + "\n", "application/json");
  });

  // Who is signed in (the page asks on load; a session's CSRF token comes with it).
  http_->Get("/api/v1/session", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    nlohmann::json out = PrincipalJson(*p);
    {
      MutexLock lock(ledger_mu_);
      if (Status s = AddClock(*ledger_, clock_.Now(), out); !s.ok()) return Reply(res, s);
    }
    const std::string id = CookieValue(req.get_header_value("Cookie"), kSessionCookie);
    if (auto s = sessions_.Find(id, clock_.Now()); s && req.get_header_value("Authorization").empty()) {
      out["csrf_token"] = s->csrf;
      out["expires_at"] = FormatTime(s->expires_ms);
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(out.dump() + "\n", "application/json");
  });

  // Sign out (with a cookie, the CSRF token is required as for any state change).
  http_->Delete("/api/v1/session", [this, secure](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    sessions_.Remove(CookieValue(req.get_header_value("Cookie"), kSessionCookie));
    res.set_header("Set-Cookie", ClearSessionCookie(secure));
    res.set_content("{\"signed_out\":true}\n", "application/json");
  });
}

}  // namespace gpuledger
