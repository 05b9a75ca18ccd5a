// Migration 0008 (tokens' lifecycle, the audit chain) on a ledger written before it:
// existing tokens keep working with defaults, and existing audit rows are chained.
// SQLite always; PostgreSQL when GPULEDGER_TEST_PG names a cluster.
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ledger/audit_chain.h"
#include "ledger/ledger.h"
#include "ledger/migrations.h"
#include "ledger/postgres/pg.h"
#include "ledger/sqlite/sqlite_db.h"
#include "ledger/test_pg.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

// The rows a ledger at migration 0006 held: a token and two audit entries.
const char* kOldRows =
    "INSERT INTO tokens VALUES ('tok_old', 'hash_old', 'user', 'line3', '', 1790812800000, 0);"
    "INSERT INTO audit (at_ms, token_id, role, action, detail) VALUES "
    "(1790812800001, 'tok_old', 'user', 'GET /api/v1/reports/monthly', 'month=2026-09 by=project');"
    "INSERT INTO audit (at_ms, token_id, role, action, detail) VALUES "
    "(1790812800002, 'tok_old', 'user', 'GET /api/v1/jobs/{id}', 'job=j1');";

void ExpectMigrated(Ledger& ledger) {
  auto t = ledger.FindTokenByHash("hash_old");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->id, "tok_old");
  EXPECT_EQ((*t)->project, "line3");
  EXPECT_EQ((*t)->created_ms, kT0);
  EXPECT_FALSE((*t)->revoked);
  EXPECT_EQ((*t)->expires_ms, 0) << "never expires";
  EXPECT_EQ((*t)->name, "");
  EXPECT_EQ((*t)->last_used_ms, 0);
  auto audit = ledger.ListAudit();
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].seq, 1);
  EXPECT_EQ((*audit)[1].detail, "job=j1");
  EXPECT_EQ((*audit)[1].remote, "");
  AuditChainVerifier v;
  ASSERT_TRUE(VerifyAuditLog(ledger, v).ok());
  EXPECT_FALSE(v.first_broken_seq().has_value()) << v.why();
  EXPECT_EQ(v.checked(), 2);
  AuditEntry next;
  next.at_ms = kT0 + 3, next.action = "GET /x";
  ASSERT_TRUE(ledger.AppendAudit(next).ok());
  AuditChainVerifier after;
  ASSERT_TRUE(VerifyAuditLog(ledger, after).ok());
  EXPECT_EQ(after.checked(), 3) << after.why();
}

TEST(Migration0008, SqliteKeepsOldTokensAndChainsOldAuditRows) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/old.db";
  {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        (*db)->Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)").ok());
    for (const Migration& m : SqliteMigrations()) {
      if (m.version >= 8) continue;
      ASSERT_TRUE((*db)->Exec(m.sql).ok()) << m.name;
      ASSERT_TRUE((*db)
                      ->Exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" +
                             m.name + "')")
                      .ok());
    }
    ASSERT_TRUE((*db)->Exec(kOldRows).ok());
  }
  auto ledger = OpenSqliteLedger(path);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ExpectMigrated(**ledger);
}

TEST(Migration0008, PostgresKeepsOldTokensAndChainsOldAuditRows) {
  std::string why;
  auto conninfo = testing::NewPostgresDatabase(&why);
  if (!conninfo) GTEST_SKIP() << why;
  {
    auto c = pg::Conn::Open(*conninfo);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(
        (*c)->ExecScript("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)")
            .ok());
    for (const Migration& m : PostgresMigrations()) {
      if (m.version >= 8) continue;
      ASSERT_TRUE((*c)->ExecScript(m.sql).ok()) << m.name;
      ASSERT_TRUE((*c)->ExecScript("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) +
                                   ", '" + m.name + "')")
                      .ok());
    }
    ASSERT_TRUE((*c)->ExecScript(kOldRows).ok());
  }
  auto ledger = OpenPostgresLedger(*conninfo);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ExpectMigrated(**ledger);
}

}  // namespace
}  // namespace gpuledger
