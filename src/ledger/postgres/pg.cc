#include "ledger/postgres/pg.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "ledger/ledger.h"

namespace gpuledger::pg {

Param P(int64_t v) { return std::to_string(v); }

Param P(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form, never a comma
  return std::string(buf, r.ptr);
}

Param P(std::string_view v) { return std::string(v); }

Param P(float v) { return P(static_cast<double>(v)); }

Param TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char ch : values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

std::vector<Param> ArrayColumns::Params() const {
  std::vector<Param> out;
  out.reserve(cols_.size());
  for (const std::string& c : cols_) out.emplace_back(c + "}");
  return out;
}

int64_t Result::Int(int row, int col) const {
  int64_t v = 0;
  const char* s = PQgetvalue(r_.get(), row, col);
  std::from_chars(s, s + PQgetlength(r_.get(), row, col), v);
  return v;
}

double Result::Double(int row, int col) const {
  double v = 0;
  const char* s = PQgetvalue(r_.get(), row, col);
  std::from_chars(s, s + PQgetlength(r_.get(), row, col), v);
  return v;
}

bool Reachability::ConnectDue() const {
  MutexLock lock(mu_);
  return state_.up || (!state_.connecting && backoff_.Due(clock_.Now()));
}

Status Reachability::BeginConnect() {
  MutexLock lock(mu_);
  if (state_.up) return OkStatus();  // a pool's first connections, or a reconnect after a loss seen up
  const TimeMs now = clock_.Now();
  const std::string away = "PostgreSQL unreachable for " + std::to_string(now - state_.down_since_ms) +
                           " ms (" + std::to_string(state_.failed_connects) +
                           " failed connects; last: " + state_.last_error.message() + ")";
  if (state_.connecting) return Unavailable(away + "; a reconnect is being tried");
  if (!backoff_.Due(now)) {
    return Unavailable(away + "; next attempt in " + std::to_string(backoff_.next_at_ms() - now) + " ms");
  }
  state_.connecting = true;
  return OkStatus();
}

void Reachability::ConnectFailed(const Status& why) {
  MutexLock lock(mu_);
  const TimeMs now = clock_.Now();
  if (state_.up) state_.down_since_ms = now;
  state_.up = false;
  state_.connecting = false;
  state_.last_error = why;
  backoff_.Failed(now);
  state_.failed_connects = backoff_.failures();
  state_.next_attempt_ms = backoff_.next_at_ms();
}

void Reachability::Connected() {
  MutexLock lock(mu_);
  if (!state_.up || backoff_.failures() > 0) ++state_.reconnects;
  state_.up = true;
  state_.connecting = false;
  state_.down_since_ms = 0;
  state_.next_attempt_ms = 0;
  state_.failed_connects = 0;
  backoff_.Succeeded();
}

void Reachability::Lost(const Status& why) {
  MutexLock lock(mu_);
  ++state_.losses;
  state_.last_error = why;
  if (!state_.up) return;  // already away: the backoff in force stays
  state_.up = false;
  state_.down_since_ms = clock_.Now();
  state_.next_attempt_ms = state_.down_since_ms;  // the first reconnect at once
}

Reachability::State Reachability::Get() const {
  MutexLock lock(mu_);
  return state_;
}

namespace {

StatusOr<PGconn*> Connect(const std::string& url) {
  // A server that does not answer (a dropped network) must not hold a caller for the
  // operating system's TCP timeouts (minutes to hours); the URL's own settings, given
  // later, win.
  const char* keys[] = {"connect_timeout",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "dbname",
                        nullptr};
  const char* values[] = {"5", "30", "10", "3", "60000", url.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (raw == nullptr) return Unavailable("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string why = PQerrorMessage(raw);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    PQfinish(raw);
    return Unavailable("cannot connect to PostgreSQL at " + RedactLedgerUrl(url) + ": " + why);
  }
  // Quiet NOTICEs (e.g. "relation already exists, skipping") would otherwise go to stderr.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  return raw;
}

std::string SqlState(const PGresult* r) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}

// The connection is gone: libpq says so, or PostgreSQL's SQLSTATE does (class 08
// connection exception; 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
// connect now).
bool IsConnectionLoss(PGconn* c, const PGresult* r) {
  if (r == nullptr || PQstatus(c) != CONNECTION_OK) return true;
  const std::string code = SqlState(r);
  return code.rfind("08", 0) == 0 || code == "57P01" || code == "57P02" || code == "57P03";
}

// PostgreSQL's SQLSTATE classes -> our codes: 08 (connection), 57P0x (shutdown) and 40
// (serialization, deadlock) can be retried; 23 (integrity) needs the state fixed; the
// rest is ours.
Status ResultStatus(PGconn* c, const PGresult* r, std::string_view sql) {
  if (r == nullptr) return Unavailable(std::string("PostgreSQL: ") + PQerrorMessage(c));
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return OkStatus();
  const std::string code = SqlState(r);
  std::string why = PQresultErrorMessage(r);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  const std::string msg = "PostgreSQL " + code + ": " + why + " in: " + std::string(sql.substr(0, 80));
  if (IsConnectionLoss(c, r) || code.rfind("40", 0) == 0) return Unavailable(msg);
  if (code.rfind("23", 0) == 0) return FailedPrecondition(msg);
  return Internal(msg);
}

// A statement that cannot change anything by itself (the retry rule's reads). Only a
// plain SELECT counts; anything else outside a transaction may have committed.
bool IsRead(std::string_view sql) {
  while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n')) sql.remove_prefix(1);
  if (sql.size() < 6) return false;
  for (size_t i = 0; i < 6; ++i) {
    if (std::toupper(static_cast<unsigned char>(sql[i])) != "SELECT"[i]) return false;
  }
  return true;
}

}  // namespace

StatusOr<std::unique_ptr<Conn>> Conn::Open(const std::string& url, Reachability* reach) {
  if (reach != nullptr) RETURN_IF_ERROR(reach->BeginConnect());
  StatusOr<PGconn*> raw = Connect(url);
  if (!raw.ok()) {
    if (reach != nullptr) reach->ConnectFailed(raw.status());
    return raw.status();
  }
  if (reach != nullptr) reach->Connected();
  return std::make_unique<Conn>(*raw, url, reach);
}

void Conn::Broke(const Status& why) {
  if (broken_) return;
  broken_ = true;
  lost_ = why;
  ++losses_;
  if (reach_ != nullptr) reach_->Lost(why);
}

Status Conn::Ready() {
  if (!broken_ && !in_tx_) {
    // A server that shut down or crashed has closed this idle connection, often after a
    // FATAL or WARNING message: reading what it sent tells (twice: the message, then the
    // end of the stream). Two non-blocking reads; nothing is sent.
    PGconn* c = c_.get();
    for (int i = 0; i < 2 && PQstatus(c) == CONNECTION_OK; ++i) {
      if (PQconsumeInput(c) == 0) break;
      (void)PQisBusy(c);  // parses it (an idle connection's error arrives as a notice)
    }
    if (PQstatus(c) != CONNECTION_OK) {
      std::string why = PQerrorMessage(c);
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      Broke(Unavailable("PostgreSQL closed the connection: " + why));
    }
  }
  if (!broken_) return OkStatus();
  if (in_tx_) {
    return Unavailable(
        "the connection to PostgreSQL was lost inside a transaction, which PostgreSQL rolled "
        "back (" +
        lost_.message() + ")");
  }
  if (reach_ != nullptr) RETURN_IF_ERROR(reach_->BeginConnect());
  StatusOr<PGconn*> fresh = Connect(url_);
  if (!fresh.ok()) {
    if (reach_ != nullptr) reach_->ConnectFailed(fresh.status());
    return fresh.status();
  }
  c_.reset(*fresh);
  broken_ = false;
  lost_ = OkStatus();
  if (reach_ != nullptr) reach_->Connected();
  return OkStatus();
}

StatusOr<Result> Conn::Run(std::string_view sql, const std::vector<Param>& params, Kind kind) {
  RETURN_IF_ERROR(Ready());
  if (kind == Kind::kCommit ||
      (!in_tx_ && (kind == Kind::kScript || (kind == Kind::kStatement && !IsRead(sql)))))
    ++effects_;  // sent from here on: it may commit even if its answer never comes
  const std::string text(sql);
  PGresult* raw = nullptr;
  if (kind == Kind::kStatement) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
    raw = PQexecParams(c_.get(), text.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                       nullptr, nullptr, 0);
  } else {
    raw = PQexec(c_.get(), text.c_str());
  }
  Result r(raw);
  Status s = ResultStatus(c_.get(), r.raw(), sql);
  if (!s.ok() && IsConnectionLoss(c_.get(), r.raw())) Broke(s);
  RETURN_IF_ERROR(s);
  return r;
}

StatusOr<Result> Conn::Exec(std::string_view sql, const std::vector<Param>& params) {
  return Run(sql, params, Kind::kStatement);
}

Status Conn::ExecScript(std::string_view sql) { return Run(sql, {}, Kind::kScript).status(); }

Status Conn::BeginTx() {
  RETURN_IF_ERROR(Run("BEGIN", {}, Kind::kBegin).status());
  in_tx_ = true;
  return OkStatus();
}

Status Conn::EndTx(bool commit) {
  if (!in_tx_) return commit ? Internal("COMMIT with no transaction open") : OkStatus();
  if (broken_) {
    in_tx_ = false;
    if (!commit) return OkStatus();  // PostgreSQL rolled it back when the connection went
    return Unavailable(
        "the connection to PostgreSQL was lost before COMMIT; PostgreSQL rolled the "
        "transaction back (" +
        lost_.message() + ")");
  }
  Status s = Run(commit ? "COMMIT" : "ROLLBACK", {}, commit ? Kind::kCommit : Kind::kRollback).status();
  in_tx_ = false;
  if (!s.ok() && commit && broken_) {
    return Unavailable(
        "the connection to PostgreSQL was lost during COMMIT: whether the transaction "
        "committed is unknown (" +
        s.message() + ")");
  }
  return s;
}

}  // namespace gpuledger::pg
