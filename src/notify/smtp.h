// Mail over SMTP (RFC 5321) to a relay (docs/NOTIFICATIONS.md, "Mail"): EHLO, STARTTLS
// when the channel requires it (OpenSSL, the relay's certificate verified against the
// channel's ca_file or the system's store, its name checked), AUTH PLAIN only over TLS,
// MAIL FROM, RCPT TO each address, DATA with the message dot-stuffed, QUIT. One
// blocking connection per message, every read and write bounded by the channel's
// timeout. A 2xx to the final "." is the relay's acceptance: the delivery is sent.
// 4xx (and no answer) is retried, 5xx given up. Thread-safe (nothing shared).
#pragma once

#include <string>
#include <vector>

#include "common/time.h"
#include "notify/channels.h"
#include "notify/config.h"

namespace gpuledger {

struct MailMessage {
  std::string from;
  std::vector<std::string> to;
  std::string subject;  // UTF-8: sent as an RFC 2047 encoded-word
  std::string text;     // UTF-8: sent base64 in text/plain; charset=UTF-8
  std::string message_id;  // "<...>": the same on every attempt of one delivery
  TimeMs date_ms = 0;
};

// The message as RFC 5322 text with CRLF line ends (headers, blank line, base64 body),
// before dot-stuffing.
std::string FormatMail(const MailMessage& m);
// "a@b, c@d" -> {"a@b", "c@d"}; the recipients a delivery stores.
std::vector<std::string> SplitRecipients(const std::string& joined);

ReplyVerdict SendMail(const ChannelConfig& c, const MailMessage& m);

}  // namespace gpuledger
