#include "ledger/outbox.h"

namespace gpuledger {

const char* DeliveryStateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending: return "pending";
    case DeliveryState::kSending: return "sending";
    case DeliveryState::kSent: return "sent";
    case DeliveryState::kFailed: return "failed";
  }
  return "pending";
}

DeliveryState ParseDeliveryState(const std::string& name) {
  if (name == "sending") return DeliveryState::kSending;
  if (name == "sent") return DeliveryState::kSent;
  if (name == "failed") return DeliveryState::kFailed;
  return DeliveryState::kPending;
}

}  // namespace gpuledger
