#include "cli/cmd_insight.h"

#include "cli/read_books.h"
#include "policy/policy_config.h"
#include "report/compare.h"
#include "report/digest_books.h"
#include "report/statement.h"
#include "report/trends.h"

namespace gpuledger {

namespace {

constexpr const char* kDbHelp = "ledger: a SQLite file, sqlite:///path or postgresql://...";

struct Scope {
  std::string project, department;
  ReportScope ToScope() const { return {project, department}; }
};

struct CompareArgs {
  std::string db, by = "image", month, a, b, as_of, format = "table";
  Scope scope;
};

struct TrendsArgs {
  std::string db, project, department, from, to, as_of, format = "table";
};

struct StatementArgs {
  std::string db, project, month, as_of, format = "table";
};

struct DigestArgs {
  std::string db, at, policy_file, format = "table";
};

StatusOr<std::optional<YearMonth>> OptMonth(const std::string& text, const char* flag) {
  if (text.empty()) return std::optional<YearMonth>();
  auto m = ParseYearMonth(text);
  if (!m.ok()) return InvalidArgument(std::string(flag) + ": " + m.status().message());
  return std::optional<YearMonth>(*m);
}

Status RunCompare(const CompareArgs& a, const Clock& clock, std::ostream& out) {
  CompareOptions o;
  ASSIGN_OR_RETURN(o.by, ParseCompareBy(a.by));
  ASSIGN_OR_RETURN(o.month, OptMonth(a.month, "--month"));
  o.scope = a.scope.ToScope();
  o.a = a.a;
  o.b = a.b;
  ASSIGN_OR_RETURN(OpenedBooks ob, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  ASSIGN_OR_RETURN(Comparison c, BuildComparison(*ob.ledger, ob.ctx, o, as_of));
  out << (a.format == "json" ? RenderComparisonJson(c) : RenderComparisonTable(c));
  return OkStatus();
}

Status RunTrends(const TrendsArgs& a, const Clock& clock, std::ostream& out) {
  TrendsOptions o;
  o.project = a.project;
  o.scope.department = a.department;
  ASSIGN_OR_RETURN(o.from, OptMonth(a.from, "--from"));
  ASSIGN_OR_RETURN(o.to, OptMonth(a.to, "--to"));
  ASSIGN_OR_RETURN(OpenedBooks ob, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  ASSIGN_OR_RETURN(Trends t, BuildTrends(*ob.ledger, ob.ctx, o, as_of));
  out << (a.format == "json" ? RenderTrendsJson(t) : RenderTrendsTable(t));
  return OkStatus();
}

Status RunStatement(const StatementArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(OpenedBooks ob, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  ASSIGN_OR_RETURN(YearMonth month, MonthOrLast(a.month, ob.ctx.tz, as_of));
  ASSIGN_OR_RETURN(ProjectStatement s, BuildProjectStatement(*ob.ledger, ob.ctx, month, as_of, a.project));
  out << (a.format == "json" ? RenderStatementJson(s) : RenderStatementText(s));
  return OkStatus();
}

// A preview: the users the digest of the period before --at would write to, with their
// worst jobs and advice. Sending is the server's (POST /api/v1/policy/digest, or its
// maintenance loop), through its outbox; this tells nobody.
Status RunDigest(const DigestArgs& a, const Clock& clock, std::ostream& out) {
  DigestRule rule;
  if (!a.policy_file.empty()) {
    ASSIGN_OR_RETURN(PolicyRules rules, LoadPolicyRulesFile(a.policy_file));
    rule = rules.org().digest;
  }
  ASSIGN_OR_RETURN(OpenedBooks ob, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs at, AsOfArg(a.at, clock));
  const Window period = DigestPeriodBefore(rule, at);
  ASSIGN_OR_RETURN(std::vector<DigestEntry> entries, BuildDigest(*ob.ledger, ob.ctx, rule, period));
  out << (a.format == "json" ? RenderDigestJson(entries, period, false)
                             : RenderDigestText(entries, period, rule));
  return OkStatus();
}

class Commands : public InsightCommands {
 public:
  explicit Commands(CLI::App& app) {
    compare_ = app.add_subcommand("compare",
                                  "versions and variants side by side: share of cost, normalised time per "
                                  "epoch, memory, fit per GPU, mAP@0.5");
    compare_->add_option("--db", cmp_.db, kDbHelp)->required();
    compare_->add_option("--by", cmp_.by, "image (tag) | framework (version) | model (type)")
        ->check(CLI::IsMember({"image", "framework", "model"}))
        ->capture_default_str();
    compare_->add_option("--month", cmp_.month,
                         "only runs that started in this month (YYYY-MM; default: all)");
    compare_->add_option("--a", cmp_.a,
                         "a variant to set beside --b (an image tag, framework or model type)");
    compare_->add_option("--b", cmp_.b, "the variant set beside --a");
    compare_->add_option("--project", cmp_.scope.project, "only this project's runs");
    compare_->add_option("--department", cmp_.scope.department, "only this department's runs");
    compare_->add_option("--as-of", cmp_.as_of, "the books as of this instant (RFC 3339; default: now)");
    compare_->add_option("--format", cmp_.format, "table | json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();

    trends_ = app.add_subcommand("trends",
                                 "behaviour over time per project: runs per model size and cost per run, "
                                 "runs over 72 h, checkpoint vs scratch");
    trends_->add_option("--db", tr_.db, kDbHelp)->required();
    trends_->add_option("--project", tr_.project, "one project (default: every project)");
    trends_->add_option("--department", tr_.department, "only this department's projects");
    trends_->add_option("--from", tr_.from, "first month (YYYY-MM) the runs started in");
    trends_->add_option("--to", tr_.to, "last month (YYYY-MM), inclusive");
    trends_->add_option("--as-of", tr_.as_of, "the books as of this instant (RFC 3339; default: now)");
    trends_->add_option("--format", tr_.format, "table | json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();

    statement_ = app.add_subcommand(
        "statement",
        "a project's monthly statement: each user's GPU-hours, cost, share and density; its rank");
    statement_->add_option("--db", st_.db, kDbHelp)->required();
    statement_->add_option("--project", st_.project, "the project")->required();
    statement_->add_option("--month", st_.month, "YYYY-MM, in the ledger's time zone (default: last month)");
    statement_->add_option("--as-of", st_.as_of, "the books as of this instant (RFC 3339; default: now)");
    statement_->add_option("--format", st_.format, "table | json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();

    digest_ = app.add_subcommand(
        "digest",
        "preview the low-efficiency digest: the users under the density bound in the "
        "period before --at, their worst jobs and advice (tells nobody; the server sends)");
    digest_->add_option("--db", dg_.db, kDbHelp)->required();
    digest_->add_option("--at", dg_.at,
                        "the period is the one that ended last before this instant (RFC 3339; default: now)");
    digest_->add_option("--policy-file", dg_.policy_file,
                        "the server's policy rules file: its digest section (default: the built-in rule)");
    digest_->add_option("--format", dg_.format, "table | json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
  }

  std::optional<Status> Run(const Clock& clock, std::ostream& out) override {
    if (*digest_) return RunDigest(dg_, clock, out);
    if (*compare_) return RunCompare(cmp_, clock, out);
    if (*trends_) return RunTrends(tr_, clock, out);
    if (*statement_) return RunStatement(st_, clock, out);
    return std::nullopt;
  }

 private:
  CLI::App* compare_ = nullptr;
  CLI::App* trends_ = nullptr;
  CLI::App* statement_ = nullptr;
  CLI::App* digest_ = nullptr;
  StatementArgs st_;
  DigestArgs dg_;
  CompareArgs cmp_;
  TrendsArgs tr_;
};

}  // namespace

std::unique_ptr<InsightCommands> AddInsightCommands(CLI::App& app) { return std::make_unique<Commands>(app); }

}  // namespace gpuledger
