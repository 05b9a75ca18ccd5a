// Thin RAII wrappers over libpq (PGconn, PGresult): the only place besides
// postgres_ledger.cc that touches the libpq API. Parameters travel as text, in
// PostgreSQL's own input syntax. Not thread-safe: one Conn per thread.
#pragma once

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpuledger::pg {

// A query parameter: text, or SQL NULL.
using Param = std::optional<std::string>;
Param P(int64_t v);
Param P(double v);
Param P(std::string_view v);

class Result {
 public:
  explicit Result(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  // Rows an INSERT/UPDATE/DELETE touched.
  int64_t affected() const { return std::strtoll(PQcmdTuples(r_.get()), nullptr, 10); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
  }
  int64_t Int(int row, int col) const;
  double Double(int row, int col) const;
  const PGresult* raw() const { return r_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

// One row of a Result, with the column accessors ledger/rows.h expects.
struct Row {
  const Result& r;
  int row;
  std::string Text(int col) const { return r.Text(row, col); }
  int64_t Int(int col) const { return r.Int(row, col); }
  double Double(int col) const { return r.Double(row, col); }
  bool IsNull(int col) const { return r.IsNull(row, col); }
};

class Conn {
 public:
  static StatusOr<std::unique_ptr<Conn>> Open(const std::string& url);
  explicit Conn(PGconn* c) : c_(c, &PQfinish) {}  // takes ownership; use Open

  // Runs one statement with $1.. parameters. Errors carry PostgreSQL's SQLSTATE class:
  // connection trouble is kUnavailable (retry), constraint violations kFailedPrecondition.
  StatusOr<Result> Exec(std::string_view sql, const std::vector<Param>& params = {});
  // Runs a script of several statements (no parameters): migrations.
  Status ExecScript(std::string_view sql);

 private:
  friend class Transaction;
  std::unique_ptr<PGconn, void (*)(PGconn*)> c_;
  int tx_depth_ = 0;        // open Transactions on this connection (the outermost one is real)
  bool tx_doomed_ = false;  // an inner one ended without Commit: the outermost must roll back
};

// BEGIN on Begin(); ROLLBACK unless Commit() ran. Transactions nest: an inner one joins
// the outermost (its Begin and Commit do nothing), so a unit of work of several writes
// commits or rolls back as one. An inner one that ends without Commit dooms the whole:
// the outermost's Commit then rolls back and fails, even if the failure was swallowed.
class Transaction {
 public:
  explicit Transaction(Conn& c) : c_(c) {}
  ~Transaction() {
    if (!open_) return;
    if (--c_.tx_depth_ == 0) {
      (void)c_.Exec("ROLLBACK");
      c_.tx_doomed_ = false;
    } else {
      c_.tx_doomed_ = true;
    }
  }
  Status Begin() {
    if (c_.tx_depth_ == 0) {
      RETURN_IF_ERROR(c_.Exec("BEGIN").status());
      c_.tx_doomed_ = false;
    }
    ++c_.tx_depth_;
    open_ = true;
    return OkStatus();
  }
  // Ends a transaction that wrote nothing (a check refused the write): an inner one
  // leaves the outermost as it was, the outermost rolls back.
  void Release() {
    if (!open_) return;
    open_ = false;
    if (--c_.tx_depth_ == 0) (void)c_.Exec("ROLLBACK");
  }
  Status Commit() {
    if (!open_) return Internal("Commit of a transaction that is not open");
    open_ = false;
    if (--c_.tx_depth_ > 0) return OkStatus();
    if (c_.tx_doomed_) {
      c_.tx_doomed_ = false;
      (void)c_.Exec("ROLLBACK");
      return Internal("a write inside this transaction failed: all of it was rolled back");
    }
    return c_.Exec("COMMIT").status();
  }

 private:
  Conn& c_;
  bool open_ = false;
};

}  // namespace gpuledger::pg
