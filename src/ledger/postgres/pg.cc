#include "ledger/postgres/pg.h"

#include <charconv>
#include <cstdlib>

namespace gpuledger::pg {

Param P(int64_t v) { return std::to_string(v); }

Param P(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form, never a comma
  return std::string(buf, r.ptr);
}

Param P(std::string_view v) { return std::string(v); }

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

StatusOr<std::unique_ptr<Conn>> Conn::Open(const std::string& url) {
  auto conn = std::make_unique<Conn>(PQconnectdb(url.c_str()));
  PGconn* raw = conn->c_.get();
  if (raw == nullptr) return Unavailable("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(raw) != CONNECTION_OK) {
    return Unavailable("cannot connect to PostgreSQL at " + url + ": " + PQerrorMessage(raw));
  }
  // Quiet NOTICEs (e.g. "relation already exists, skipping") would otherwise go to stderr.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  return conn;
}

namespace {

// PostgreSQL's SQLSTATE classes -> our codes: 08 (connection) and 40 (serialization,
// deadlock) can be retried; 23 (integrity) needs the state fixed; the rest is ours.
Status ResultStatus(PGconn* c, const PGresult* r, std::string_view sql) {
  if (r == nullptr) return Unavailable(std::string("PostgreSQL: ") + PQerrorMessage(c));
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return OkStatus();
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const std::string code = state ? state : "";
  const std::string msg =
      "PostgreSQL " + code + ": " + PQresultErrorMessage(r) + " in: " + std::string(sql.substr(0, 80));
  if (PQstatus(c) != CONNECTION_OK || code.rfind("08", 0) == 0 || code.rfind("40", 0) == 0 ||
      code == "57P01") {
    return Unavailable(msg);
  }
  if (code.rfind("23", 0) == 0) return FailedPrecondition(msg);
  return Internal(msg);
}

}  // namespace

StatusOr<Result> Conn::Exec(std::string_view sql, const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  const std::string text(sql);
  Result r(PQexecParams(c_.get(), text.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                        nullptr, nullptr, 0));
  RETURN_IF_ERROR(ResultStatus(c_.get(), r.raw(), sql));
  return r;
}

Status Conn::ExecScript(std::string_view sql) {
  const std::string text(sql);
  Result r(PQexec(c_.get(), text.c_str()));
  return ResultStatus(c_.get(), r.raw(), sql);
}

}  // namespace gpuledger::pg
