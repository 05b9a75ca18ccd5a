#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger::sqlite {

Stmt::~Stmt() {
  if (s_ == nullptr) return;
  if (pool_ != nullptr) {
    pool_->GiveBack(s_);
  } else {
    sqlite3_finalize(s_);
  }
}

StatusOr<bool> Stmt::Step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string msg = sqlite3_errmsg(db_);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Unavailable("sqlite busy: " + msg);
  if (rc == SQLITE_FULL) return Status(StatusCode::kResourceExhausted, "sqlite: disk full: " + msg);
  if (rc == SQLITE_CONSTRAINT) return FailedPrecondition("sqlite constraint: " + msg);
  return Internal("sqlite step: " + msg);
}

Status Stmt::Run() {
  StatusOr<bool> r = Step();
  while (r.ok() && *r) r = Step();
  Reset();
  return r.status();
}

StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr);         // one thread per Db
  auto db = std::make_unique<Db>(raw);  // owns raw even when the open failed
  if (rc != SQLITE_OK) {
    return Unavailable("cannot open ledger '" + path + "': " + (raw ? db->Error() : "out of memory"));
  }
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Status Db::Exec(std::string_view sql) {
  char* err = nullptr;
  const std::string s(sql);
  if (sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("sqlite: " + msg);
  }
  return OkStatus();
}

Db::~Db() {
  for (auto& [sql, list] : idle_) {
    for (sqlite3_stmt* s : list) sqlite3_finalize(s);
  }
}

void Db::GiveBack(sqlite3_stmt* s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  std::vector<sqlite3_stmt*>& list = idle_[sqlite3_sql(s)];
  if (list.size() >= 4) {  // bounded: a text that never matches its key would pile up
    sqlite3_finalize(s);
    return;
  }
  list.push_back(s);
}

StatusOr<Stmt> Db::Prepare(std::string_view sql) {
  auto it = idle_.find(std::string(sql));
  if (it != idle_.end() && !it->second.empty()) {
    sqlite3_stmt* s = it->second.back();
    it->second.pop_back();
    return Stmt(db_.get(), s, this);
  }
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                         nullptr) != SQLITE_OK) {
    return Internal("sqlite prepare: " + Error() + " in: " + std::string(sql.substr(0, 80)));
  }
  if (s == nullptr) return Internal("sqlite prepare: no statement in: " + std::string(sql.substr(0, 80)));
  return Stmt(db_.get(), s, this);
}

}  // namespace gpuledger::sqlite
