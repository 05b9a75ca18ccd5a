// Token lifecycle and the audit log as clients and operators see them: tokens made,
// listed and revoked through the API and the CLI, expiry, the cache bound on a revocation
// made elsewhere, the throttle on failed authentication, the audit chain verified and
// broken, and the access log. Real SQLite or PostgreSQL, real sockets (port 0).
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli/cli.h"
#include "common/test_util.h"
#include "ledger/audit_chain.h"
#include "ledger/postgres/pg.h"
#include "ledger/sqlite/sqlite_db.h"
#include "ledger/test_pg.h"
#include "server/auth.h"
#include "server/server.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1794744000000;  // 2026-11-15T12:00:00Z

class ServerTokensTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Ledger> Open() {
    auto l = GetParam() == "postgres" ? OpenPostgresLedger(conninfo_) : OpenLedger(db_);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? std::move(l).value() : nullptr;
  }
  Status RawSql(const std::string& sql) {
    if (GetParam() == "postgres") {
      ASSIGN_OR_RETURN(std::unique_ptr<pg::Conn> c, pg::Conn::Open(conninfo_));
      return c->Exec(sql).status();
    }
    ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Db> db, sqlite::Db::Open(db_));
    return db->Exec(sql);
  }
  // A token put straight into the ledger (as `admin token create` does).
  std::string Token(Role role, const std::string& project = "", TimeMs expires_ms = 0) {
    auto t = MakeToken(role, project, "", clock_.Now());
    EXPECT_TRUE(t.ok());
    t->record.expires_ms = expires_ms;
    EXPECT_TRUE(Open()->PutToken(t->record).ok());
    ids_[t->secret] = t->record.id;
    return t->secret;
  }
  void SetUp() override {
    db_ = dir_.path() + "/tokens.db";
    if (GetParam() == "postgres") {
      std::string why;
      auto conninfo = testing::NewPostgresDatabase(&why);
      if (!conninfo) GTEST_SKIP() << why;
      conninfo_ = *conninfo;
    }
    auto ledger = Open();
    ASSERT_TRUE(ledger);
    Job j;
    j.id = "j1", j.user = "zhangsan", j.project = "line3", j.department = "manufacturing";
    j.start_ms = kT0 - kDayMs;
    ASSERT_TRUE(ledger->PutJobs({j}).ok());
    admin_ = Token(Role::kAdmin);
    ServerOptions opt;
    opt.port = 0;
    opt.journal_dir = "";
    opt.raw_retention_ms = 0;
    opt.access_log = dir_.path() + "/access.log";
    opt.auth_throttle = {3, kMinuteMs, 1000};
    server_ = std::make_unique<Server>(Open(), clock_, opt);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  static httplib::Headers Bearer(const std::string& secret) {
    return {{"Authorization", "Bearer " + secret}};
  }
  static int Code(const httplib::Result& r) { return r ? r->status : -1; }
  // A cheap authenticated read: the series of job j1 (which has no samples).
  int ReadSeries(const std::string& secret) {
    return Code(client_->Get("/api/v1/series?job=j1", Bearer(secret)));
  }
  nlohmann::json Metrics(const std::string& name) {
    auto m = client_->Get("/metrics");
    const size_t at = m->body.find("\n" + name + " ");
    if (at == std::string::npos) return nullptr;
    return std::stoll(m->body.substr(at + name.size() + 2));
  }
  std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  SimulatedClock clock_{kT0};
  testing::TempDir dir_;
  std::string db_, conninfo_, admin_;
  std::map<std::string, std::string> ids_;  // secret -> token id
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_P(ServerTokensTest, AdminsCreateListAndRevokeTokensAndARevocationTakesEffectAtOnce) {
  auto made =
      client_->Post("/api/v1/tokens", Bearer(admin_),
                    R"({"role": "user", "project": "line3", "name": "ci pipeline", "owner": "zhangsan",
                                "expires_at": "2027-01-01T00:00:00Z"})",
                    "application/json");
  ASSERT_EQ(Code(made), 201) << made->body;
  const auto token = nlohmann::json::parse(made->body);
  const std::string secret = token["secret"], id = token["id"];
  EXPECT_EQ(token["expires_at"], "2027-01-01T00:00:00Z");
  EXPECT_EQ(token["state"], "active");
  EXPECT_EQ(ReadSeries(secret), 200);

  auto listed = client_->Get("/api/v1/tokens", Bearer(admin_));
  ASSERT_EQ(Code(listed), 200);
  EXPECT_EQ(listed->body.find(secret), std::string::npos) << "a list never shows a secret";
  EXPECT_EQ(listed->body.find(HashToken(secret)), std::string::npos) << "nor a hash";
  const auto tokens = nlohmann::json::parse(listed->body)["tokens"];
  ASSERT_EQ(tokens.size(), 2u);
  const auto& mine = tokens[0]["id"] == id ? tokens[0] : tokens[1];
  EXPECT_EQ(mine["name"], "ci pipeline");
  EXPECT_EQ(mine["owner"], "zhangsan");
  EXPECT_EQ(mine["last_used_at"], "2026-11-15T12:00:00Z");

  // Cached by the read above, yet refused on its very next request.
  EXPECT_EQ(ReadSeries(secret), 200);
  ASSERT_EQ(Code(client_->Delete(("/api/v1/tokens/" + id).c_str(), Bearer(admin_))), 200);
  auto refused = client_->Get("/api/v1/series?job=j1", Bearer(secret));
  EXPECT_EQ(Code(refused), 401);
  EXPECT_NE(refused->body.find(id + " is revoked"), std::string::npos) << refused->body;
  EXPECT_EQ(Code(client_->Delete("/api/v1/tokens/tok_nope", Bearer(admin_))), 404);
}

TEST_P(ServerTokensTest, TokenRequestsAreCheckedAndOnlyAdminsMakeThem) {
  auto post = [&](const std::string& secret, const std::string& body) {
    return client_->Post("/api/v1/tokens", Bearer(secret), body, "application/json");
  };
  auto unknown = post(admin_, R"({"role": "user", "project": "line4"})");
  EXPECT_EQ(Code(unknown), 404);
  EXPECT_NE(unknown->body.find("project 'line4' is not in the books"), std::string::npos) << unknown->body;
  auto dept = post(admin_, R"({"role": "dept_admin", "department": "nowhere"})");
  EXPECT_EQ(Code(dept), 404);
  auto field = post(admin_, R"({"role": "admin", "colour": "red"})");
  EXPECT_EQ(Code(field), 400);
  EXPECT_NE(field->body.find("unknown field 'colour'"), std::string::npos);
  auto past = post(admin_, R"({"role": "admin", "expires_at": "2026-01-01T00:00:00Z"})");
  EXPECT_EQ(Code(past), 400);
  EXPECT_NE(past->body.find("is not after now"), std::string::npos) << past->body;
  const std::string user = Token(Role::kUser, "line3");
  EXPECT_EQ(Code(post(user, R"({"role": "admin"})")), 403);
  EXPECT_EQ(Code(client_->Get("/api/v1/tokens", Bearer(user))), 403);
  EXPECT_EQ(Code(client_->Get("/api/v1/audit", Bearer(user))), 403);
  EXPECT_EQ(Code(client_->Delete(("/api/v1/tokens/" + ids_[admin_]).c_str(), Bearer(user))), 403);
  EXPECT_EQ(ReadSeries(admin_), 200) << "the refused revocation did nothing";
}

TEST_P(ServerTokensTest, AnExpiredTokenIsRefused) {
  const std::string secret = Token(Role::kUser, "line3", kT0 + 1000);
  EXPECT_EQ(ReadSeries(secret), 200);
  clock_.Advance(1000);
  auto refused = client_->Get("/api/v1/series?job=j1", Bearer(secret));
  EXPECT_EQ(Code(refused), 401);
  EXPECT_NE(refused->body.find("expired at 2026-11-15T12:00:01Z"), std::string::npos) << refused->body;
}

TEST_P(ServerTokensTest, ARevocationMadeElsewhereTakesEffectWithinTheCacheTtl) {
  const std::string secret = Token(Role::kUser, "line3");
  EXPECT_EQ(ReadSeries(secret), 200);                                 // now cached
  ASSERT_TRUE(Open()->RevokeToken(ids_[secret], clock_.Now()).ok());  // what `admin token revoke` does
  clock_.Advance(TokenCache::kTtlMs - 1);
  EXPECT_EQ(ReadSeries(secret), 200) << "the documented bound: the cache's TTL";
  clock_.Advance(1);
  EXPECT_EQ(ReadSeries(secret), 401);
}

TEST_P(ServerTokensTest, RepeatedFailuresFromOneAddressAreSlowedDownAndCounted) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ReadSeries("glt_guess" + std::to_string(i)), 401) << i;
  auto held = client_->Get("/api/v1/series?job=j1", Bearer("glt_guess3"));
  EXPECT_EQ(Code(held), 429);
  EXPECT_EQ(held->get_header_value("Retry-After"), "60");
  EXPECT_EQ(ReadSeries(admin_), 429) << "the address is held back whatever it sends";
  EXPECT_EQ(Metrics("gpuledger_auth_failures_total"), 3);
  EXPECT_EQ(Metrics("gpuledger_auth_throttled_total"), 2);
  clock_.Advance(kMinuteMs);
  EXPECT_EQ(ReadSeries(admin_), 200) << "the window is over";
  // Refusals are audited; the throttled requests are not (counted instead).
  auto audit = Open()->ListAudit();
  ASSERT_TRUE(audit.ok());
  int refused = 0;
  for (const AuditEntry& e : *audit) {
    if (e.status == 401) {
      ++refused;
      EXPECT_EQ(e.remote, "127.0.0.1");
      EXPECT_EQ(e.action, "GET /api/v1/series");
      EXPECT_EQ(e.detail, "unknown API token");
    }
    EXPECT_NE(e.status, 429);
  }
  EXPECT_EQ(refused, 3);
}

// Behind a reverse proxy every peer is the proxy: with --trusted-proxy its
// X-Forwarded-For names the client, for the throttle, the audit log and the access log;
// without it the header is not believed (forwarded.h).
TEST_P(ServerTokensTest, BehindATrustedProxyTheForwardedClientIsThrottledAndAuditedNotTheProxy) {
  server_->Stop();
  ServerOptions opt;
  opt.port = 0;
  opt.journal_dir = "";
  opt.raw_retention_ms = 0;
  opt.access_log = dir_.path() + "/proxied.log";
  opt.auth_throttle = {3, kMinuteMs, 1000};
  auto trusted = TrustedProxies::Parse({"127.0.0.0/8", "::1"});
  ASSERT_TRUE(trusted.ok());
  opt.trusted_proxies = *trusted;
  server_ = std::make_unique<Server>(Open(), clock_, opt);
  ASSERT_TRUE(server_->Start().ok());
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  auto from = [&](const std::string& client, const std::string& secret) {
    httplib::Headers h = Bearer(secret);
    h.emplace("X-Forwarded-For", client);
    return Code(client_->Get("/api/v1/series?job=j1", h));
  };
  // nginx appends the address it saw; whatever the client put before it is not believed.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(from("10.66.0." + std::to_string(i) + ", 203.0.113.7", "glt_guess"), 401);
  EXPECT_EQ(from("203.0.113.7", admin_), 429) << "the guessing client is held back";
  EXPECT_EQ(from("198.51.100.2", admin_), 200) << "another client behind the same proxy is not";
  EXPECT_EQ(ReadSeries(admin_), 200) << "nor the proxy itself";
  auto audit = Open()->ListAudit();
  ASSERT_TRUE(audit.ok());
  int refused = 0;
  for (const AuditEntry& e : *audit) {
    if (e.status == 401) {
      ++refused;
      EXPECT_EQ(e.remote, "203.0.113.7");
    }
  }
  EXPECT_EQ(refused, 3);
  EXPECT_NE(ReadFile(dir_.path() + "/proxied.log").find("remote=203.0.113.7:"), std::string::npos);
  // Without --trusted-proxy (the fixture's server, as before): the header names nobody.
  server_->Stop();
  opt.trusted_proxies = {};
  opt.access_log.clear();
  clock_.Advance(kMinuteMs);
  server_ = std::make_unique<Server>(Open(), clock_, opt);
  ASSERT_TRUE(server_->Start().ok());
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(from("203.0.113." + std::to_string(50 + i), "glt_guess"), 401);
  EXPECT_EQ(from("203.0.113.99", admin_), 429) << "every guess came from 127.0.0.1, whatever the header said";
}

TEST_P(ServerTokensTest, TheAuditLogRecordsWhoWhatWhenAndWhereAndItsChainHolds) {
  const std::string user = Token(Role::kUser, "line3");
  EXPECT_EQ(ReadSeries(user), 200);
  EXPECT_EQ(Code(client_->Get("/api/v1/series?gpu=GPU-1", Bearer(user))), 403);
  EXPECT_EQ(Code(client_->Get("/api/v1/series?job=j1")), 401);
  const std::string job = R"({"id": "j2", "user": "lisi", "project": "line3", "department": "manufacturing",
    "start": "2026-11-02T00:00:00Z"})";
  EXPECT_EQ(Code(client_->Post("/api/v1/jobs", Bearer(admin_), job, "application/json")), 201);
  clock_.Advance(5000);
  auto page = client_->Get("/api/v1/audit?limit=1000", Bearer(admin_));
  ASSERT_EQ(Code(page), 200) << page->body;
  const auto entries = nlohmann::json::parse(page->body)["entries"];
  ASSERT_EQ(entries.size(), 4u) << page->body;
  EXPECT_EQ(entries[0]["action"], "GET /api/v1/series");
  EXPECT_EQ(entries[0]["token_id"], ids_[user]);
  EXPECT_EQ(entries[0]["role"], "user");
  EXPECT_EQ(entries[0]["remote"], "127.0.0.1");
  EXPECT_EQ(entries[0]["status"], 200);
  EXPECT_EQ(entries[0]["at"], "2026-11-15T12:00:00Z");
  EXPECT_NE(entries[0]["detail"].get<std::string>().find("job=j1"), std::string::npos);
  EXPECT_EQ(entries[1]["status"], 403);
  EXPECT_EQ(entries[2]["status"], 401);
  EXPECT_EQ(entries[2]["token_id"], "");
  EXPECT_EQ(entries[3]["action"], "POST /api/v1/jobs");
  EXPECT_EQ(entries[3]["detail"], "job=j2 allocations=0");
  EXPECT_EQ(entries[1]["prev_hash"], entries[0]["hash"]);
  auto next = client_->Get("/api/v1/audit?after=4&limit=10", Bearer(admin_));
  ASSERT_EQ(Code(next), 200);
  EXPECT_EQ(nlohmann::json::parse(next->body)["entries"][0]["action"], "GET /api/v1/audit")
      << "audit reads too";
  EXPECT_EQ(Code(client_->Get("/api/v1/audit?limit=0", Bearer(admin_))), 400);

  auto ledger = Open();
  AuditChainVerifier good;
  ASSERT_TRUE(VerifyAuditLog(*ledger, good).ok());
  EXPECT_FALSE(good.first_broken_seq().has_value()) << good.why();
  ASSERT_TRUE(RawSql("UPDATE audit SET remote = '10.9.9.9' WHERE seq = 2").ok());
  AuditChainVerifier bad;
  ASSERT_TRUE(VerifyAuditLog(*ledger, bad).ok());
  EXPECT_EQ(bad.first_broken_seq(), 2);
}

TEST_P(ServerTokensTest, TheAccessLogHasALinePerRequestAndNoSecret) {
  // A secret in the query never reaches the log (the route refuses the unknown parameter).
  EXPECT_EQ(Code(client_->Get("/api/v1/series?job=j1&token=hunter2", Bearer(admin_))), 400);
  EXPECT_EQ(Code(client_->Get("/api/v1/series?job=j1", Bearer(admin_))), 200);
  EXPECT_EQ(Code(client_->Get("/api/v1/series?job=j1")), 401);
  EXPECT_EQ(Code(client_->Get("/healthz")), 200);
  server_->Stop();
  const std::string log = ReadFile(dir_.path() + "/access.log");
  EXPECT_EQ(log.find("hunter2"), std::string::npos) << log;
  EXPECT_EQ(log.find(admin_), std::string::npos) << "never the token";
  EXPECT_NE(log.find("ts=2026-11-15T12:00:00Z remote=127.0.0.1:"), std::string::npos) << log;
  // The duration is the front's (a steady clock): any number of milliseconds.
  auto has = [&](const std::string& before, const std::string& after) {
    return std::regex_search(log, std::regex(before + " duration_ms=[0-9]+ " + after + "\n"));
  };
  EXPECT_TRUE(has(" method=GET path=/api/v1/series status=400", "token=" + ids_[admin_])) << log;
  EXPECT_TRUE(has(" method=GET path=/api/v1/series status=200", "token=" + ids_[admin_])) << log;
  EXPECT_TRUE(has(" method=GET path=/api/v1/series status=401", "token=-")) << log;
  EXPECT_TRUE(has(" method=GET path=/healthz status=200", "token=-")) << log;
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerTokensTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

// The CLI's side: create (scopes checked), list (no secrets), revoke, audit list and
// verify (which fails, naming the entry, once a row is edited).
int Cli(std::vector<std::string> args, std::string* out, std::string* err = nullptr) {
  static const SimulatedClock clock(kT0);
  std::vector<const char*> argv = {"gpuledger"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream o, e;
  const int code = RunCli(static_cast<int>(argv.size()), argv.data(), clock, o, e);
  *out = o.str();
  if (err) *err = e.str();
  return code;
}

TEST(AdminCli, TokensAreMadeListedAndRevokedAndTheAuditChainIsVerified) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/cli.db";
  {
    auto ledger = OpenLedger(db);
    ASSERT_TRUE(ledger.ok());
    Job j;
    j.id = "j1", j.user = "zhangsan", j.project = "line3", j.department = "manufacturing", j.start_ms = kT0;
    ASSERT_TRUE((*ledger)->PutJobs({j}).ok());
  }
  std::string out, err;
  EXPECT_EQ(Cli({"admin", "token", "create", "--db", db, "--role", "user", "--project", "line4"}, &out, &err),
            1);
  EXPECT_NE(err.find("project 'line4' is not in the books"), std::string::npos) << err;
  ASSERT_EQ(Cli({"admin", "token", "create", "--db", db, "--role", "user", "--project", "line3", "--name",
                 "ci", "--owner", "zhangsan", "--expires", "720h"},
                &out, &err),
            0)
      << err;
  const std::string secret = out.substr(0, out.find('\n'));
  ASSERT_EQ(secret.rfind("glt_", 0), 0u) << out;
  ASSERT_EQ(Cli({"admin", "token", "list", "--db", db, "--format", "json"}, &out), 0);
  EXPECT_EQ(out.find(secret), std::string::npos);
  EXPECT_EQ(out.find(HashToken(secret)), std::string::npos);
  const auto tokens = nlohmann::json::parse(out)["tokens"];
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0]["expires_at"], "2026-12-15T12:00:00Z");
  const std::string id = tokens[0]["id"];
  ASSERT_EQ(Cli({"admin", "token", "list", "--db", db}, &out), 0);
  EXPECT_NE(out.find(id), std::string::npos);
  EXPECT_NE(out.find("active"), std::string::npos);
  EXPECT_EQ(out.find(secret), std::string::npos);
  ASSERT_EQ(Cli({"admin", "token", "revoke", "--db", db, id}, &out, &err), 0) << err;
  EXPECT_NE(out.find("up to 60 s"), std::string::npos) << out;
  EXPECT_EQ(Cli({"admin", "token", "revoke", "--db", db, "tok_nope"}, &out, &err), 1);
  ASSERT_EQ(Cli({"admin", "token", "list", "--db", db}, &out), 0);
  EXPECT_NE(out.find("revoked"), std::string::npos) << out;

  ASSERT_EQ(Cli({"admin", "audit", "list", "--db", db, "--format", "json"}, &out), 0);
  const auto entries = nlohmann::json::parse(out)["entries"];
  ASSERT_EQ(entries.size(), 2u) << out;
  EXPECT_EQ(entries[0]["action"], "admin token create");
  EXPECT_EQ(entries[0]["role"], "cli");
  EXPECT_EQ(entries[1]["action"], "admin token revoke");
  ASSERT_EQ(Cli({"admin", "audit", "verify", "--db", db}, &out, &err), 0) << err;
  EXPECT_NE(out.find("audit log ok: 2 entries, head seq 2"), std::string::npos) << out;
  {
    auto raw = sqlite::Db::Open(db);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE((*raw)->Exec("UPDATE audit SET detail = 'token=tok_other' WHERE seq = 2").ok());
  }
  EXPECT_EQ(Cli({"admin", "audit", "verify", "--db", db}, &out, &err), 1);
  EXPECT_NE(out.find("audit log BROKEN at seq 2"), std::string::npos) << out;
  EXPECT_NE(err.find("audit log broken at seq 2"), std::string::npos) << err;
  EXPECT_EQ(Cli({"admin", "audit", "verify", "--db", dir.path() + "/missing.db"}, &out, &err), 1);
}

}  // namespace
}  // namespace gpuledger
