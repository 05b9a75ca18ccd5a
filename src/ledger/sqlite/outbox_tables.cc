#include "ledger/sqlite/outbox_tables.h"

namespace gpuledger::sqlite {

namespace {
constexpr const char* kColumns =
    "SELECT id, cause_key, channel, recipients, title, body, state, attempts, created_ms, next_attempt_ms, "
    "sent_ms, last_error FROM deliveries ";
}  // namespace

StatusOr<bool> OutboxTables::PutNotice(const OutboxNotice& n, const std::vector<OutboxDelivery>& deliveries) {
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.Begin());
  ASSIGN_OR_RETURN(Stmt ins, db_.Prepare("INSERT OR IGNORE INTO notices (cause_key, event, at_ms, job_id, "
                                         "user_name, project, department, fields, enqueued_ms) VALUES "
                                         "(?,?,?,?,?,?,?,?,?)"));
  RETURN_IF_ERROR(ins.Bind(1, std::string_view(n.cause_key))
                      .Bind(2, std::string_view(n.event))
                      .Bind(3, n.at_ms)
                      .Bind(4, std::string_view(n.job_id))
                      .Bind(5, std::string_view(n.user))
                      .Bind(6, std::string_view(n.project))
                      .Bind(7, std::string_view(n.department))
                      .Bind(8, std::string_view(n.fields_json))
                      .Bind(9, n.enqueued_ms)
                      .Run());
  if (sqlite3_changes(db_.raw()) == 0) {
    tx.Release();  // seen before: nothing written
    return false;
  }
  for (const OutboxDelivery& d : deliveries) {
    ASSIGN_OR_RETURN(Stmt q, db_.Prepare("INSERT INTO deliveries (cause_key, channel, recipients, title, body, "
                                         "state, attempts, created_ms, next_attempt_ms, sent_ms, last_error) "
                                         "VALUES (?,?,?,?,?,?,?,?,?,?,?)"));
    RETURN_IF_ERROR(q.Bind(1, std::string_view(n.cause_key))
                        .Bind(2, std::string_view(d.channel))
                        .Bind(3, std::string_view(d.recipients))
                        .Bind(4, std::string_view(d.title))
                        .Bind(5, std::string_view(d.text))
                        .Bind(6, std::string_view(DeliveryStateName(d.state)))
                        .Bind(7, int64_t{d.attempts})
                        .Bind(8, d.created_ms)
                        .Bind(9, d.next_attempt_ms)
                        .Bind(10, d.sent_ms)
                        .Bind(11, std::string_view(d.last_error))
                        .Run()
                        .WithContext("delivery of '" + n.cause_key + "' to channel '" + d.channel + "'"));
  }
  RETURN_IF_ERROR(tx.Commit());
  return true;
}

StatusOr<std::vector<OutboxDelivery>> OutboxTables::DueDeliveries(TimeMs now, size_t limit) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(std::string(kColumns) +
                                       "WHERE state IN ('pending', 'sending') AND next_attempt_ms <= ? "
                                       "ORDER BY next_attempt_ms, id LIMIT ?"));
  q.Bind(1, now).Bind(2, static_cast<int64_t>(limit));
  return Read(q);
}

Status OutboxTables::UpdateDelivery(const OutboxDelivery& d) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("UPDATE deliveries SET state = ?, attempts = ?, next_attempt_ms = ?, "
                                       "sent_ms = ?, last_error = ? WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, std::string_view(DeliveryStateName(d.state)))
                      .Bind(2, int64_t{d.attempts})
                      .Bind(3, d.next_attempt_ms)
                      .Bind(4, d.sent_ms)
                      .Bind(5, std::string_view(d.last_error))
                      .Bind(6, d.id)
                      .Run());
  if (sqlite3_changes(db_.raw()) == 0) return NotFound("no delivery " + std::to_string(d.id));
  return OkStatus();
}

StatusOr<std::vector<OutboxDelivery>> OutboxTables::ListDeliveries(const std::string& cause_key) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(std::string(kColumns) + "WHERE ? = '' OR cause_key = ? ORDER BY id"));
  q.Bind(1, std::string_view(cause_key)).Bind(2, std::string_view(cause_key));
  return Read(q);
}

StatusOr<std::vector<OutboxDelivery>> OutboxTables::Read(Stmt& q) {
  std::vector<OutboxDelivery> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    OutboxDelivery d;
    d.id = q.Int(0);
    d.cause_key = q.Text(1);
    d.channel = q.Text(2);
    d.recipients = q.Text(3);
    d.title = q.Text(4);
    d.text = q.Text(5);
    d.state = ParseDeliveryState(q.Text(6));
    d.attempts = static_cast<int>(q.Int(7));
    d.created_ms = q.Int(8);
    d.next_attempt_ms = q.Int(9);
    d.sent_ms = q.Int(10);
    d.last_error = q.Text(11);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace gpuledger::sqlite
