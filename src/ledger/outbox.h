// The notification outbox's rows (docs/NOTIFICATIONS.md, "The outbox"): a notice, kept
// once per cause_key, and one delivery per (notice, channel), each carrying the message
// rendered for its channel and its own retry state. The Ledger stores them (PutNotice,
// DueDeliveries, UpdateDelivery, ListDeliveries); notify/ decides what goes in. Plain
// types; thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "common/time.h"

namespace gpuledger {

struct OutboxNotice {
  std::string cause_key;  // unique: a second notice with the same key stores nothing
  std::string event;      // the template ("breaker.paused", "budget.80", ...)
  TimeMs at_ms = 0;       // when the decision was made
  std::string job_id, user, project, department;
  std::string fields_json;  // the notice's fields, a JSON array of [name, value] pairs
  TimeMs enqueued_ms = 0;
};

// pending: due at next_attempt_ms. sending: an attempt began and its outcome was not
// recorded (the process stopped during a send: the one window, NOTIFICATIONS.md).
// sent: the service answered 2xx (and, where it has one, its own success code).
// failed: given up; last_error says why.
enum class DeliveryState { kPending, kSending, kSent, kFailed };
const char* DeliveryStateName(DeliveryState s);
// kPending for a name it does not know (a row is only ever written by the four above).
DeliveryState ParseDeliveryState(const std::string& name);

struct OutboxDelivery {
  int64_t id = 0;  // assigned by PutNotice
  std::string cause_key;
  std::string channel;     // the configured channel's name
  std::string recipients;  // mail: the addresses, comma-separated; others empty
  std::string title;       // rendered (mail: the subject)
  std::string text;        // rendered in the channel's format and language
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;
  TimeMs created_ms = 0;
  TimeMs next_attempt_ms = 0;
  TimeMs sent_ms = 0;  // when the 2xx came (sent only)
  std::string last_error;
};

}  // namespace gpuledger
