// The dashboard's server side through the real server (SQLite, port 0): sessions signed
// in with a token (cookie flags, CSRF on state changes, the end of a session at the
// token's revocation or expiry, sign-out), the embedded page, and the list reads
// GET /api/v1/jobs (role-scoped, filtered, paged), /api/v1/jobs/{id}/progress and
// /api/v1/leaderboard.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "server/auth.h"
#include "server/server.h"
#include "server/web_assets.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1794744000000;  // 2026-11-15T12:00:00Z

class DashboardServerTest : public ::testing::Test {
 protected:
  std::string Token(Role role, const std::string& project = "", const std::string& department = "",
                    TimeMs expires_ms = 0) {
    auto t = MakeToken(role, project, department, clock_.Now());
    EXPECT_TRUE(t.ok());
    t->record.expires_ms = expires_ms;
    EXPECT_TRUE(Open()->PutToken(t->record).ok());
    ids_[t->secret] = t->record.id;
    return t->secret;
  }
  static Job MakeJob(const std::string& id, const std::string& user, const std::string& project,
                     const std::string& department, TimeMs submitted, JobStatus status) {
    Job j;
    j.id = id, j.user = user, j.project = project, j.department = department, j.model_type = "yolov8s";
    j.gpu_model = id == "j3" ? "A100-SXM4-80GB" : "A10G";
    j.submitted_ms = submitted, j.start_ms = submitted, j.status = status;
    if (status != JobStatus::kRunning) j.end_ms = submitted + kHourMs;
    return j;
  }
  // A connection of the test's own to the server's ledger file.
  std::unique_ptr<Ledger> Open() {
    auto l = OpenLedger(dir_.path() + "/dash.db");
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? std::move(l).value() : nullptr;
  }
  void SetUp() override {
    std::unique_ptr<Ledger> ledger = Open();
    ASSERT_TRUE(ledger);
    ASSERT_TRUE(
        ledger
            ->PutJobs(
                {MakeJob("j1", "zhangsan", "line3", "manufacturing", kT0 - kDayMs, JobStatus::kRunning),
                 MakeJob("j2", "lisi", "line4", "manufacturing", kT0 - 2 * kDayMs, JobStatus::kSucceeded),
                 MakeJob("j3", "wangwu", "vision", "research", kT0 - 3 * kDayMs, JobStatus::kFailed),
                 MakeJob("j0", "zhangsan", "line3", "manufacturing", kT0 - 40 * kDayMs,
                         JobStatus::kSucceeded)})
            .ok());
    ASSERT_TRUE(ledger->PutProgress("j1", {{1, 60.0, 1.5, 1.6, 0.5, 0.4, 0.31, 0.2}}).ok());
    admin_ = Token(Role::kAdmin);
    ServerOptions opt;
    opt.port = 0;
    opt.raw_retention_ms = 0;
    opt.auth_throttle = {100, kMinuteMs, 1000};
    server_ = std::make_unique<Server>(std::move(ledger), clock_, opt);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  static int Code(const httplib::Result& r) { return r ? r->status : -1; }
  static httplib::Headers Bearer(const std::string& secret) {
    return {{"Authorization", "Bearer " + secret}};
  }
  struct Signed {
    std::string cookie;  // "gl_session=..."
    std::string csrf;
    std::string set_cookie;
    std::string body;  // the sign-in's answer
    nlohmann::json Body() const { return nlohmann::json::parse(body); }
  };
  Signed SignIn(const std::string& secret) {
    auto r = client_->Post("/api/v1/session", nlohmann::json{{"token", secret}}.dump(), "application/json");
    EXPECT_EQ(Code(r), 200) << (r ? r->body : "");
    Signed s;
    if (Code(r) != 200) return s;
    s.set_cookie = r->get_header_value("Set-Cookie");
    s.cookie = s.set_cookie.substr(0, s.set_cookie.find(';'));
    s.body = r->body;
    s.csrf = s.Body()["csrf_token"];
    return s;
  }
  nlohmann::json Jobs(const std::string& secret, const std::string& query, int want = 200) {
    auto r = client_->Get("/api/v1/jobs" + query, Bearer(secret));
    EXPECT_EQ(Code(r), want) << (r ? r->body : "");
    return r && r->status == 200 ? nlohmann::json::parse(r->body) : nlohmann::json();
  }
  static std::vector<std::string> Ids(const nlohmann::json& list) {
    std::vector<std::string> ids;
    for (const auto& j : list["jobs"]) ids.push_back(j["id"]);
    return ids;
  }

  SimulatedClock clock_{kT0};
  testing::TempDir dir_;
  std::string admin_;
  std::map<std::string, std::string> ids_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(DashboardServerTest, SignInSetsAStrictHttpOnlyCookieAndTheCookieReadsAsTheToken) {
  const std::string user = Token(Role::kUser, "line3");
  Signed s = SignIn(user);
  EXPECT_NE(s.set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(s.set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(s.set_cookie.find("Secure"), std::string::npos);  // plain HTTP here
  EXPECT_EQ(s.Body()["role"], "user");
  EXPECT_EQ(s.Body()["project"], "line3");
  EXPECT_EQ(s.Body()["month"], "2026-11");
  EXPECT_EQ(s.Body()["timezone"], "Asia/Shanghai");
  auto me = client_->Get("/api/v1/session", {{"Cookie", s.cookie}});
  ASSERT_EQ(Code(me), 200);
  EXPECT_EQ(nlohmann::json::parse(me->body)["csrf_token"], s.csrf);
  EXPECT_EQ(Code(client_->Get("/api/v1/jobs/j1", {{"Cookie", s.cookie}})), 200);
  EXPECT_EQ(Code(client_->Get("/api/v1/jobs/j3", {{"Cookie", s.cookie}})), 404);  // another project's
  // A wrong token signs nobody in, and an ingest token does not sign in.
  EXPECT_EQ(Code(client_->Post("/api/v1/session", R"({"token": "glt_nope"})", "application/json")), 401);
  EXPECT_EQ(Code(client_->Post("/api/v1/session", R"({"token": 5})", "application/json")), 400);
  const std::string ingest = Token(Role::kIngest);
  EXPECT_EQ(
      Code(client_->Post("/api/v1/session", nlohmann::json{{"token", ingest}}.dump(), "application/json")),
      403);
}

TEST_F(DashboardServerTest, AStateChangeWithTheCookieNeedsTheCsrfToken) {
  Signed s = SignIn(Token(Role::kUser, "line3"));
  auto bare = client_->Post("/api/v1/jobs/j1/stop", {{"Cookie", s.cookie}}, "", "application/json");
  EXPECT_EQ(Code(bare), 403) << bare->body;
  EXPECT_NE(bare->body.find("X-CSRF-Token"), std::string::npos);
  auto wrong =
      client_->Post("/api/v1/jobs/j1/stop", {{"Cookie", s.cookie}, {"X-CSRF-Token", std::string(64, 'a')}},
                    "", "application/json");
  EXPECT_EQ(Code(wrong), 403);
  auto none = Open()->GetStopRequest("j1");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());  // the refused requests stored nothing
  auto ok = client_->Post("/api/v1/jobs/j1/stop", {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}},
                          R"({"reason": "dashboard"})", "application/json");
  EXPECT_EQ(Code(ok), 202) << ok->body;
  auto stop = Open()->GetStopRequest("j1");
  ASSERT_TRUE(stop.ok() && stop->has_value());
  EXPECT_EQ((*stop)->reason, "dashboard");
  // Sign-out is a state change too.
  EXPECT_EQ(Code(client_->Delete("/api/v1/session", {{"Cookie", s.cookie}})), 403);
}

TEST_F(DashboardServerTest, ASessionEndsWithSignOutRevocationAndExpiry) {
  Signed out = SignIn(Token(Role::kUser, "line3"));
  auto bye = client_->Delete("/api/v1/session", {{"Cookie", out.cookie}, {"X-CSRF-Token", out.csrf}});
  ASSERT_EQ(Code(bye), 200);
  EXPECT_NE(bye->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Code(client_->Get("/api/v1/session", {{"Cookie", out.cookie}})), 401);

  const std::string revoked = Token(Role::kDeptAdmin, "", "manufacturing");
  Signed r = SignIn(revoked);
  EXPECT_EQ(Code(client_->Get("/api/v1/jobs", {{"Cookie", r.cookie}})), 200);
  ASSERT_EQ(Code(client_->Delete("/api/v1/tokens/" + ids_[revoked], Bearer(admin_))), 200);
  EXPECT_EQ(Code(client_->Get("/api/v1/jobs", {{"Cookie", r.cookie}})), 401);

  Signed e = SignIn(Token(Role::kUser, "line3", "", kT0 + kHourMs));
  EXPECT_EQ(Code(client_->Get("/api/v1/session", {{"Cookie", e.cookie}})), 200);
  clock_.Advance(kHourMs);
  EXPECT_EQ(Code(client_->Get("/api/v1/session", {{"Cookie", e.cookie}})), 401);

  // A session outlives no token, and no token outlives kMaxAgeMs in a session.
  Signed old = SignIn(Token(Role::kUser, "line3"));
  clock_.Advance(SessionStore::kMaxAgeMs);
  EXPECT_EQ(Code(client_->Get("/api/v1/session", {{"Cookie", old.cookie}})), 401);
}

TEST_F(DashboardServerTest, ThePageIsServedWithoutATokenUnderAStrictPolicy) {
  auto page = client_->Get("/");
  if (WebAssets().empty()) {
    EXPECT_EQ(Code(page), 404);
    GTEST_SKIP() << "built with GPULEDGER_WEB=OFF";
  }
  ASSERT_EQ(Code(page), 200);
  EXPECT_NE(page->body.find("/app.js"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  auto js = client_->Get("/app.js");
  ASSERT_EQ(Code(js), 200);
  EXPECT_GT(js->body.size(), 10'000u);
  EXPECT_EQ(js->get_header_value("Content-Type").rfind("text/javascript", 0), 0u);
  EXPECT_EQ(Code(client_->Get("/api/v1/jobs")), 401);  // the API still needs a token
}

TEST_F(DashboardServerTest, JobListIsScopedAsAJobReadIs) {
  EXPECT_EQ(Ids(Jobs(admin_, "")), (std::vector<std::string>{"j1", "j2", "j3", "j0"}));  // newest first
  const std::string user = Token(Role::kUser, "line3");
  EXPECT_EQ(Ids(Jobs(user, "")), (std::vector<std::string>{"j1", "j0"}));
  EXPECT_TRUE(Ids(Jobs(user, "?project=vision")).empty());  // another project's: nothing
  const std::string dept = Token(Role::kDeptAdmin, "", "manufacturing");
  EXPECT_EQ(Ids(Jobs(dept, "")), (std::vector<std::string>{"j1", "j2", "j0"}));
  EXPECT_EQ(Ids(Jobs(dept, "?project=line4")), (std::vector<std::string>{"j2"}));
  Jobs(Token(Role::kFinance), "", 403);
  Jobs(Token(Role::kIngest), "", 403);
}

TEST_F(DashboardServerTest, JobListFiltersAndPages) {
  EXPECT_EQ(Ids(Jobs(admin_, "?month=2026-11")), (std::vector<std::string>{"j1", "j2", "j3"}));
  EXPECT_EQ(Ids(Jobs(admin_, "?month=2026-10")), (std::vector<std::string>{"j0"}));
  EXPECT_EQ(Ids(Jobs(admin_, "?status=running")), (std::vector<std::string>{"j1"}));
  EXPECT_EQ(Ids(Jobs(admin_, "?user=lisi")), (std::vector<std::string>{"j2"}));
  EXPECT_EQ(Ids(Jobs(admin_, "?model=yolov8s&from=2026-11-12T00:00:00Z&to=2026-11-13T00:00:00Z")),
            (std::vector<std::string>{"j3"}));
  EXPECT_EQ(Ids(Jobs(admin_, "?gpu_model=A10G")), (std::vector<std::string>{"j1", "j2", "j0"}));
  EXPECT_EQ(Ids(Jobs(admin_, "?gpu_model=A100-SXM4-80GB&month=2026-11")), (std::vector<std::string>{"j3"}));
  const nlohmann::json page = Jobs(admin_, "?limit=2&offset=1");
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"j2", "j3"}));
  EXPECT_EQ(page["total"], 4);
  EXPECT_EQ(page["currency"], "CNY");
  EXPECT_EQ(page["jobs"][0]["cost"], "0.00");
  Jobs(admin_, "?status=sleeping", 400);
  Jobs(admin_, "?limit=501", 400);
  Jobs(admin_, "?month=2026-11&from=2026-11-01T00:00:00Z", 400);
  Jobs(admin_, "?sort=id", 400);
}

// GET /api/v1/gpus: admins see which jobs hold an idle GPU, finance only how many;
// no other role reads the cluster's GPUs.
TEST_F(DashboardServerTest, TheGpusNowAreForAdminsWithJobsAndFinanceWithout) {
  {
    std::unique_ptr<Ledger> l = Open();
    ASSERT_TRUE(l);
    Gpu g;
    g.uuid = "GPU-now-1", g.node = "n1", g.model = "A10G", g.in_service_from = kT0 - kDayMs;
    ASSERT_TRUE(l->PutGpus({g}).ok());
    ASSERT_TRUE(l->PutAllocations({{"j1", "GPU-now-1", kT0 - kHourMs, 0, kFullShare}}).ok());
    Sample s;
    s.t = kT0 - kMinuteMs, s.util_pct = 0;
    ASSERT_TRUE(l->PutSamples({{"GPU-now-1", s}}).ok());
  }
  auto admin = client_->Get("/api/v1/gpus", Bearer(admin_));
  ASSERT_EQ(Code(admin), 200) << (admin ? admin->body : "");
  const auto a = nlohmann::json::parse(admin->body);
  ASSERT_EQ(a["gpus"].size(), 1u);
  EXPECT_EQ(a["gpus"][0]["state"], "idle_held");
  EXPECT_EQ(a["gpus"][0]["jobs"], nlohmann::json::parse(R"(["j1"])"));
  EXPECT_EQ(a["counts"]["idle_held"], 1);
  auto fin = client_->Get("/api/v1/gpus", Bearer(Token(Role::kFinance)));
  ASSERT_EQ(Code(fin), 200);
  const auto f = nlohmann::json::parse(fin->body);
  EXPECT_FALSE(f["gpus"][0].contains("jobs"));
  EXPECT_EQ(f["gpus"][0]["held_by_jobs"], 1);
  EXPECT_EQ(fin->body.find("j1"), std::string::npos) << "finance's answer names no job";
  EXPECT_EQ(Code(client_->Get("/api/v1/gpus", Bearer(Token(Role::kUser, "line3")))), 403);
  EXPECT_EQ(Code(client_->Get("/api/v1/gpus", Bearer(Token(Role::kDeptAdmin, "", "manufacturing")))), 403);
  EXPECT_EQ(Code(client_->Get("/api/v1/gpus", Bearer(Token(Role::kIngest)))), 403);
  EXPECT_EQ(Code(client_->Get("/api/v1/gpus?all=1", Bearer(admin_))), 400);
}

TEST_F(DashboardServerTest, ProgressAndLeaderboardReads) {
  const std::string user = Token(Role::kUser, "line3");
  auto p = client_->Get("/api/v1/jobs/j1/progress", Bearer(user));
  ASSERT_EQ(Code(p), 200) << p->body;
  const auto epochs = nlohmann::json::parse(p->body)["epochs"];
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_DOUBLE_EQ(epochs[0]["map50"].get<double>(), 0.31);
  EXPECT_EQ(Code(client_->Get("/api/v1/jobs/j3/progress", Bearer(user))), 404);
  EXPECT_EQ(Code(client_->Get("/api/v1/jobs/j1/progress", Bearer(Token(Role::kFinance)))), 403);
  auto lb = client_->Get("/api/v1/leaderboard?month=2026-11", Bearer(Token(Role::kFinance)));
  ASSERT_EQ(Code(lb), 200) << lb->body;
  EXPECT_TRUE(nlohmann::json::parse(lb->body)["rows"].is_array());
  EXPECT_EQ(Code(client_->Get("/api/v1/leaderboard?month=nope", Bearer(user))), 400);
}

// Each row carries the parts density is made of (busy, covered and dense GPU-hours); with
// no sample behind them, density and mean utilisation are null, not 0.
TEST_F(DashboardServerTest, JobListRowsCarryDensitysPartsAndNullWithoutSamples) {
  const nlohmann::json list = Jobs(admin_, "");
  ASSERT_EQ(list["jobs"].size(), 4u) << list.dump();
  for (const auto& j : list["jobs"]) {
    for (const char* k : {"gpu_hours", "busy_gpu_hours", "covered_gpu_hours", "dense_gpu_hours"}) {
      ASSERT_TRUE(j[k].is_number()) << k << " " << j.dump();
      EXPECT_DOUBLE_EQ(j[k].get<double>(), 0.0) << k;  // these jobs hold no GPU: a real 0
    }
    EXPECT_TRUE(j["density"].is_null()) << j.dump();
    EXPECT_TRUE(j["mean_util_pct"].is_null()) << j.dump();
  }
}

// The leaderboard says its as-of and whether its month was over then (November is in
// progress at kT0, October is not; all months to date are always partial).
TEST_F(DashboardServerTest, TheLeaderboardCarriesAsOfAndPartial) {
  const std::string finance = Token(Role::kFinance);
  auto read = [&](const std::string& query) {
    auto r = client_->Get("/api/v1/leaderboard" + query, Bearer(finance));
    EXPECT_EQ(Code(r), 200) << (r ? r->body : "");
    return r && r->status == 200 ? nlohmann::json::parse(r->body) : nlohmann::json();
  };
  const nlohmann::json nov = read("?month=2026-11"), oct = read("?month=2026-10"), all = read("");
  EXPECT_EQ(nov["as_of"], "2026-11-15T12:00:00Z");
  EXPECT_EQ(nov["partial"], true);
  EXPECT_EQ(oct["partial"], false);
  EXPECT_EQ(all["partial"], true);
  EXPECT_TRUE(all["as_of"].is_string());
}

}  // namespace
}  // namespace gpuledger
