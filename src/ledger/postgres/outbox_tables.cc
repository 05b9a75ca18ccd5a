#include "ledger/postgres/outbox_tables.h"

namespace gpuledger::pg {

namespace {
constexpr const char* kColumns =
    "SELECT id, cause_key, channel, recipients, title, body, state, attempts, created_ms, next_attempt_ms, "
    "sent_ms, last_error FROM deliveries ";
}  // namespace

StatusOr<bool> OutboxTables::PutNotice(const OutboxNotice& n, const std::vector<OutboxDelivery>& deliveries) {
  Transaction tx(c_);
  RETURN_IF_ERROR(tx.Begin());
  ASSIGN_OR_RETURN(Result r, c_.Exec("INSERT INTO notices (cause_key, event, at_ms, job_id, user_name, project, "
                                     "department, fields, enqueued_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
                                     "ON CONFLICT (cause_key) DO NOTHING",
                                     {P(n.cause_key), P(n.event), P(n.at_ms), P(n.job_id), P(n.user),
                                      P(n.project), P(n.department), P(n.fields_json), P(n.enqueued_ms)}));
  if (r.affected() == 0) {
    tx.Release();  // seen before: nothing written
    return false;
  }
  for (const OutboxDelivery& d : deliveries) {
    RETURN_IF_ERROR(c_.Exec("INSERT INTO deliveries (cause_key, channel, recipients, title, body, state, "
                            "attempts, created_ms, next_attempt_ms, sent_ms, last_error) VALUES "
                            "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                            {P(n.cause_key), P(d.channel), P(d.recipients), P(d.title), P(d.text),
                             P(std::string_view(DeliveryStateName(d.state))), P(int64_t{d.attempts}),
                             P(d.created_ms), P(d.next_attempt_ms), P(d.sent_ms), P(d.last_error)})
                        .status()
                        .WithContext("delivery of '" + n.cause_key + "' to channel '" + d.channel + "'"));
  }
  RETURN_IF_ERROR(tx.Commit());
  return true;
}

StatusOr<std::vector<OutboxDelivery>> OutboxTables::DueDeliveries(TimeMs now, size_t limit) {
  ASSIGN_OR_RETURN(Result r, c_.Exec(std::string(kColumns) +
                                         "WHERE state IN ('pending', 'sending') AND next_attempt_ms <= $1 "
                                         "ORDER BY next_attempt_ms, id LIMIT $2",
                                     {P(now), P(static_cast<int64_t>(limit))}));
  return Read(r);
}

Status OutboxTables::UpdateDelivery(const OutboxDelivery& d) {
  ASSIGN_OR_RETURN(Result r, c_.Exec("UPDATE deliveries SET state = $1, attempts = $2, next_attempt_ms = $3, "
                                     "sent_ms = $4, last_error = $5 WHERE id = $6",
                                     {P(std::string_view(DeliveryStateName(d.state))), P(int64_t{d.attempts}),
                                      P(d.next_attempt_ms), P(d.sent_ms), P(d.last_error), P(d.id)}));
  if (r.affected() == 0) return NotFound("no delivery " + std::to_string(d.id));
  return OkStatus();
}

StatusOr<std::vector<OutboxDelivery>> OutboxTables::ListDeliveries(const std::string& cause_key) {
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec(std::string(kColumns) + "WHERE $1 = '' OR cause_key = $1 ORDER BY id", {P(cause_key)}));
  return Read(r);
}

std::vector<OutboxDelivery> OutboxTables::Read(const Result& r) {
  std::vector<OutboxDelivery> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    OutboxDelivery d;
    d.id = r.Int(i, 0);
    d.cause_key = r.Text(i, 1);
    d.channel = r.Text(i, 2);
    d.recipients = r.Text(i, 3);
    d.title = r.Text(i, 4);
    d.text = r.Text(i, 5);
    d.state = ParseDeliveryState(r.Text(i, 6));
    d.attempts = static_cast<int>(r.Int(i, 7));
    d.created_ms = r.Int(i, 8);
    d.next_attempt_ms = r.Int(i, 9);
    d.sent_ms = r.Int(i, 10);
    d.last_error = r.Text(i, 11);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace gpuledger::pg
