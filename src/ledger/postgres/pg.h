// Thin RAII wrappers over libpq (PGconn, PGresult): the only place besides
// postgres_ledger.cc that touches the libpq API. Parameters travel as text, in
// PostgreSQL's own input syntax.
//
// Connections come back: a Conn whose server restarted, crashed or dropped it is replaced
// by a new one before its next statement outside a transaction, no sooner than the
// shared Reachability's backoff allows (callers are answered Unavailable meanwhile; none
// waits). Inside a transaction it is not: the transaction died with its connection, and
// the statement fails. What a failed call may have left committed is tracked (Mark,
// SafeToRetrySince) so that the pool (pool.h) re-runs only what certainly did not commit.
//
// Thread-safety: Reachability is thread-safe; Conn, Result and Transaction are not (one
// Conn per thread at a time; the pool hands them out).
#pragma once

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"

namespace gpuledger::pg {

// A query parameter: text, or SQL NULL.
using Param = std::optional<std::string>;
Param P(int64_t v);
Param P(double v);
Param P(std::string_view v);
Param P(float v);  // as a double: PostgreSQL's float8 columns

// A text[] literal: every element double-quoted, with \\ and " escaped.
Param TextArray(const std::vector<std::string>& values);

// Rows sent as one array per column ("{1,2,3}"), unnest()ed by the statement: one round
// trip for thousands of rows. Values here are numbers only (no quoting needed).
class ArrayColumns {
 public:
  explicit ArrayColumns(size_t n) : cols_(n, "{") {}
  void Add(size_t col, const Param& v) {
    std::string& c = cols_[col];
    if (c.size() > 1) c += ',';
    c += *v;
  }
  std::vector<Param> Params() const;

 private:
  std::vector<std::string> cols_;
};

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

// Whether one PostgreSQL server answers, shared by the connections to it: the last
// error, since when it is away, and when a new connection may next be tried (capped
// exponential backoff on the injected clock). A connection that breaks marks the server
// away without backing off (the first reconnect is tried at once: after a restart it
// usually works); each failed connect backs off further; a connect that works resets it.
// Thread-safe: mu_ guards backoff_ and state_.
class Reachability {
 public:
  struct State {
    bool up = true;
    Status last_error;           // the latest loss or failed connect (kept after recovery)
    TimeMs down_since_ms = 0;    // while !up
    TimeMs next_attempt_ms = 0;  // while !up: no connect is tried before this
    int failed_connects = 0;     // in a row
    int64_t losses = 0;          // open connections that broke, since start
    int64_t reconnects = 0;      // connections made again after a loss or failure
    bool connecting = false;     // while !up: a claimed connect is being tried
  };

  explicit Reachability(const Clock& clock, BackoffOptions o = {}) : clock_(clock), backoff_(o) {}

  // Whether a connect may be tried now (a query: claims nothing).
  bool ConnectDue() const;
  // Claims the connect to try now: OK, or Unavailable naming since when PostgreSQL has
  // been away, the last error and when the next attempt is due. While PostgreSQL is away
  // one connect at a time is tried across the pool (a server that drops packets holds
  // it for connect_timeout; the other callers are answered at once); every claim is
  // followed by ConnectFailed or Connected.
  Status BeginConnect();
  void ConnectFailed(const Status& why);
  void Connected();
  void Lost(const Status& why);
  State Get() const;

 private:
  const Clock& clock_;
  mutable Mutex mu_;
  Backoff backoff_ GL_GUARDED_BY(mu_);
  State state_ GL_GUARDED_BY(mu_);
};

class Conn {
 public:
  // Connects to `url` (a libpq URL or keyword string). Unless the URL sets them,
  // connect_timeout is 5 s and TCP keepalives and tcp_user_timeout find a peer that
  // vanished without closing (a dropped network) within a minute or two.
  // `reach` (optional; it outlives the Conn) gates connects and reconnects and hears of
  // every loss; without one a lost connection is reconnected at its next use.
  static StatusOr<std::unique_ptr<Conn>> Open(const std::string& url, Reachability* reach = nullptr);

  // Runs one statement with $1.. parameters. Errors carry PostgreSQL's SQLSTATE class:
  // connection trouble is kUnavailable (retry), constraint violations kFailedPrecondition.
  StatusOr<Result> Exec(std::string_view sql, const std::vector<Param>& params = {});
  // Runs a script of several statements (no parameters): migrations.
  Status ExecScript(std::string_view sql);

  // What the retry rule needs: statements sent that could commit on their own (a COMMIT,
  // or anything but a SELECT outside a transaction) and connections lost, both counted.
  struct Mark {
    uint64_t effects = 0;
    uint64_t losses = 0;
  };
  Mark mark() const { return {effects_, losses_}; }
  // Whether a call that began at `m` and failed may be run again on a new connection:
  // its connection broke during it and it sent nothing that could have committed on its
  // own, so PostgreSQL rolled back all it did. A COMMIT in flight when the connection
  // broke has an unknown outcome: never retried here.
  bool SafeToRetrySince(Mark m) const { return losses_ > m.losses && effects_ == m.effects; }
  bool broken() const { return broken_; }

  Conn(PGconn* c, std::string url, Reachability* reach)  // takes ownership; use Open
      : c_(c, &PQfinish), url_(std::move(url)), reach_(reach) {}

 private:
  friend class Transaction;
  enum class Kind { kStatement, kScript, kBegin, kCommit, kRollback };
  StatusOr<Result> Run(std::string_view sql, const std::vector<Param>& params, Kind kind);
  // Before a statement: a connection the server closed meanwhile is found (by reading
  // what it sent) and, outside a transaction, replaced.
  Status Ready();
  void Broke(const Status& why);
  // BEGIN; COMMIT or ROLLBACK of the outermost Transaction.
  Status BeginTx();
  Status EndTx(bool commit);

  std::unique_ptr<PGconn, void (*)(PGconn*)> c_;
  std::string url_;
  Reachability* reach_;  // optional
  bool broken_ = false;  // c_ is gone (the server closed it, or it failed); replaced in Ready
  Status lost_;          // why, while broken_
  bool in_tx_ = false;   // a BEGIN on c_ not yet ended
  uint64_t effects_ = 0;
  uint64_t losses_ = 0;
  int tx_depth_ = 0;        // open Transactions on this connection (the outermost one is real)
  bool tx_doomed_ = false;  // an inner one ended without Commit: the outermost must roll back
};

// BEGIN on Begin(); ROLLBACK unless Commit() ran. Transactions nest: an inner one joins
// the outermost (its Begin and Commit do nothing), so a unit of work of several writes
// commits or rolls back as one. An inner one that ends without Commit dooms the whole:
// the outermost's Commit then rolls back and fails, even if the failure was swallowed.
// A connection lost inside the transaction fails its statements and its Commit
// (Unavailable: PostgreSQL rolled it back); one lost during COMMIT fails the Commit with
// an unknown outcome.
class Transaction {
 public:
  explicit Transaction(Conn& c) : c_(c) {}
  ~Transaction() {
    if (!open_) return;
    if (--c_.tx_depth_ == 0) {
      (void)c_.EndTx(false);
      c_.tx_doomed_ = false;
    } else {
      c_.tx_doomed_ = true;
    }
  }
  Status Begin() {
    if (c_.tx_depth_ == 0) {
      RETURN_IF_ERROR(c_.BeginTx());
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
    if (--c_.tx_depth_ == 0) (void)c_.EndTx(false);
  }
  Status Commit() {
    if (!open_) return Internal("Commit of a transaction that is not open");
    open_ = false;
    if (--c_.tx_depth_ > 0) return OkStatus();
    if (c_.tx_doomed_) {
      c_.tx_doomed_ = false;
      (void)c_.EndTx(false);
      return Internal("a write inside this transaction failed: all of it was rolled back");
    }
    return c_.EndTx(true);
  }

 private:
  Conn& c_;
  bool open_ = false;
};

}  // namespace gpuledger::pg
