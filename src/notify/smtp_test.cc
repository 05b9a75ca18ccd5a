// Mail through a fake SMTP relay that speaks real SMTP over a real socket (and
// STARTTLS with a certificate made at test time): the envelope, the headers, the
// base64 UTF-8 body decoded back, dot-stuffing, AUTH only after TLS, and how the
// relay's 4xx and 5xx are read.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/test_util.h"
#include "notify/outbox_sender.h"
#include "notify/outbox_sink.h"
#include "notify/smtp.h"
#include "server/test_certificate.h"

namespace gpuledger {
namespace {

std::string Unbase64(const std::string& b64) {
  std::string clean;
  for (char c : b64) {
    if (c != '\r' && c != '\n') clean.push_back(c);
  }
  std::string out(clean.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (n < 0) return "";
  out.resize(static_cast<size_t>(n));
  while (!clean.empty() && clean.back() == '=') {  // EVP_DecodeBlock keeps the padding's zero bytes
    clean.pop_back();
    out.pop_back();
  }
  return out;
}

// One relay, one connection at a time, on 127.0.0.1. `rcpt_reply` answers every RCPT.
class FakeRelay {
 public:
  struct Session {
    std::vector<std::string> commands;  // as received (AUTH's argument included)
    std::string data;                   // between DATA's 354 and the final "."
    bool tls = false;
  };

  explicit FakeRelay(bool offer_tls = false, std::string rcpt_reply = "250 ok") : rcpt_reply_(std::move(rcpt_reply)) {
    if (offer_tls) {
      cert_ = testing::MakeTestCertificate();
      ctx_ = SSL_CTX_new(TLS_server_method());
      BIO* cb = BIO_new_mem_buf(cert_.cert_pem.data(), static_cast<int>(cert_.cert_pem.size()));
      X509* x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
      BIO* kb = BIO_new_mem_buf(cert_.key_pem.data(), static_cast<int>(cert_.key_pem.size()));
      EVP_PKEY* k = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
      SSL_CTX_use_certificate(ctx_, x);
      SSL_CTX_use_PrivateKey(ctx_, k);
      X509_free(x);
      EVP_PKEY_free(k);
      BIO_free(cb);
      BIO_free(kb);
    }
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 4);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeRelay() {
    ::shutdown(listen_, SHUT_RDWR);
    ::close(listen_);
    thread_.join();
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  const std::string& cert_pem() const { return cert_.cert_pem; }
  // Waits (no deadline) until n sessions have ended, and returns them.
  std::vector<Session> WaitSessions(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return sessions_.size() >= n; });
    return sessions_;
  }

 private:
  void Serve() {
    for (;;) {
      const int fd = ::accept(listen_, nullptr, nullptr);
      if (fd < 0) return;
      Session s = Talk(fd);
      {
        std::lock_guard<std::mutex> l(mu_);
        sessions_.push_back(std::move(s));
      }
      cv_.notify_all();
      ::close(fd);
    }
  }
  Session Talk(int fd) {
    Session s;
    SSL* ssl = nullptr;
    std::string buf;
    auto send = [&](const std::string& line) {
      const std::string out = line + "\r\n";
      if (ssl != nullptr) {
        SSL_write(ssl, out.data(), static_cast<int>(out.size()));
      } else {
        (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      }
    };
    auto line = [&](std::string* l) {
      for (;;) {
        const size_t eol = buf.find("\r\n");
        if (eol != std::string::npos) {
          *l = buf.substr(0, eol);
          buf.erase(0, eol + 2);
          return true;
        }
        char c[4096];
        const int n = ssl != nullptr ? SSL_read(ssl, c, sizeof c) : static_cast<int>(::recv(fd, c, sizeof c, 0));
        if (n <= 0) return false;
        buf.append(c, static_cast<size_t>(n));
      }
    };
    send("220 fake.relay ESMTP");
    std::string l;
    while (line(&l)) {
      s.commands.push_back(l);
      if (l.rfind("EHLO", 0) == 0) {
        send("250-fake.relay");
        if (ctx_ != nullptr && ssl == nullptr) send("250-STARTTLS");
        send("250 AUTH PLAIN");
      } else if (l == "STARTTLS") {
        send("220 go ahead");
        ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) break;
        s.tls = true;
        buf.clear();
      } else if (l.rfind("AUTH PLAIN", 0) == 0) {
        send("235 ok");
      } else if (l.rfind("MAIL FROM:", 0) == 0) {
        send("250 ok");
      } else if (l.rfind("RCPT TO:", 0) == 0) {
        send(rcpt_reply_);
      } else if (l == "DATA") {
        send("354 go");
        std::string d;
        while (line(&d) && d != ".") s.data += d + "\r\n";
        send("250 queued as 1");
      } else if (l == "QUIT") {
        send("221 bye");
        break;
      } else {
        send("500 what");
      }
    }
    if (ssl != nullptr) SSL_free(ssl);
    return s;
  }

  std::string rcpt_reply_;
  testing::TestCertificate cert_;
  SSL_CTX* ctx_ = nullptr;
  int listen_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Session> sessions_;
};

MailMessage Message() {
  MailMessage m;
  m.from = "gpuledger@corp.example";
  m.to = {"lisi@corp.example", "ops@corp.example"};
  m.subject = "预算提醒：yolo-edge 已用 80%";
  m.text = "yolo-edge 本月至今的成本已达到月度预算的 80%。\n.a line that starts with a dot\n";
  m.message_id = "<gpuledger.7.1@corp.example>";
  m.date_ms = 1796205600000;
  return m;
}

ChannelConfig Mail(int port) {
  ChannelConfig c;
  c.name = "mail";
  c.type = ChannelType::kSmtp;
  c.host = "127.0.0.1";
  c.port = port;
  c.from = "gpuledger@corp.example";
  c.timeout_s = 5;
  return c;
}

TEST(Smtp, APlainRelayGetsTheEnvelopeAndAUtf8Message) {
  FakeRelay relay;
  const ReplyVerdict v = SendMail(Mail(relay.port()), Message());
  ASSERT_EQ(v.verdict, Verdict::kSent) << v.why;
  const auto sessions = relay.WaitSessions(1);
  ASSERT_EQ(sessions.size(), 1u);
  const auto& s = sessions[0];
  EXPECT_EQ(s.commands[0], "EHLO gpuledger");
  EXPECT_EQ(s.commands[1], "MAIL FROM:<gpuledger@corp.example>");
  EXPECT_EQ(s.commands[2], "RCPT TO:<lisi@corp.example>");
  EXPECT_EQ(s.commands[3], "RCPT TO:<ops@corp.example>");
  EXPECT_EQ(s.commands[4], "DATA");
  EXPECT_EQ(s.commands.back(), "QUIT");
  const size_t blank = s.data.find("\r\n\r\n");
  ASSERT_NE(blank, std::string::npos);
  const std::string head = s.data.substr(0, blank + 2);
  EXPECT_NE(head.find("To: lisi@corp.example, ops@corp.example\r\n"), std::string::npos);
  EXPECT_NE(head.find("Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(head.find("Message-ID: <gpuledger.7.1@corp.example>\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
  const size_t subj = head.find("Subject: =?UTF-8?B?");
  ASSERT_NE(subj, std::string::npos);
  const size_t end = head.find("?=", subj);
  EXPECT_EQ(Unbase64(head.substr(subj + 19, end - subj - 19)), "预算提醒：yolo-edge 已用 80%");
  EXPECT_EQ(Unbase64(s.data.substr(blank + 4)), Message().text);
}

TEST(Smtp, DotStuffingKeepsALineThatIsADot) {
  const std::string formatted = FormatMail(Message());
  EXPECT_EQ(formatted.find("\r\n.\r\n"), std::string::npos);  // base64 bodies never start a line with "."
}

TEST(Smtp, StartTlsIsVerifiedAndAuthGoesOnlyInsideIt) {
  FakeRelay relay(/*offer_tls=*/true);
  testing::TempDir dir;
  const std::string ca = dir.path() + "/ca.pem";
  std::ofstream(ca) << relay.cert_pem();
  ChannelConfig c = Mail(relay.port());
  c.starttls = true;
  c.ca_file = ca;
  c.username = "robot";
  c.password = "hunter2";
  const ReplyVerdict v = SendMail(c, Message());
  ASSERT_EQ(v.verdict, Verdict::kSent) << v.why;
  const auto s = relay.WaitSessions(1).at(0);
  EXPECT_TRUE(s.tls);
  ASSERT_GE(s.commands.size(), 4u);
  EXPECT_EQ(s.commands[1], "STARTTLS");
  EXPECT_EQ(s.commands[2], "EHLO gpuledger");  // again, inside TLS
  EXPECT_EQ(s.commands[3], "AUTH PLAIN " + std::string("AHJvYm90AGh1bnRlcjI="));  // \0robot\0hunter2
}

TEST(Smtp, ACertificateThatDoesNotVerifyIsNotTrusted) {
  FakeRelay relay(/*offer_tls=*/true);
  ChannelConfig c = Mail(relay.port());
  c.starttls = true;  // the system's store does not hold the test's self-signed certificate
  const ReplyVerdict v = SendMail(c, Message());
  EXPECT_EQ(v.verdict, Verdict::kRetry);
  EXPECT_NE(v.why.find("STARTTLS with 127.0.0.1 failed"), std::string::npos) << v.why;
}

TEST(Smtp, ARelayWithoutStartTlsIsRefusedWhenTheChannelRequiresIt) {
  FakeRelay relay;
  ChannelConfig c = Mail(relay.port());
  c.starttls = true;
  const ReplyVerdict v = SendMail(c, Message());
  EXPECT_EQ(v.verdict, Verdict::kRetry);
  EXPECT_NE(v.why.find("does not offer STARTTLS"), std::string::npos);
  const auto sessions = relay.WaitSessions(1);
  for (const std::string& cmd : sessions.at(0).commands) EXPECT_NE(cmd.rfind("MAIL", 0), 0u);
}

TEST(Smtp, A5xxIsGivenUpAndA4xxRetried) {
  {
    FakeRelay relay(false, "550 no such user");
    const ReplyVerdict v = SendMail(Mail(relay.port()), Message());
    EXPECT_EQ(v.verdict, Verdict::kGiveUp);
    EXPECT_EQ(v.why, "SMTP RCPT TO <lisi@corp.example> answered 550 no such user");
  }
  {
    FakeRelay relay(false, "451 try later");
    EXPECT_EQ(SendMail(Mail(relay.port()), Message()).verdict, Verdict::kRetry);
  }
}

TEST(Smtp, TheSenderMailsANoticeToTheJobOwnersAddress) {
  FakeRelay relay;
  testing::TempDir dir;
  auto cfg = ParseNotifyConfig(R"({"channels": {"m": {"type": "smtp", "host": "127.0.0.1", "port": )" +
                               std::to_string(relay.port()) +
                               R"(, "from": "gpuledger@corp.example", "to": ["{user}@corp.example"], "language": "en"}},
      "audiences": {"job_owner": ["m"]}})");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto ledger = OpenSqliteLedger(dir.path() + "/l.db");
  ASSERT_TRUE(ledger.ok());
  SimulatedClock clock(1796205600000);
  OutboxSink sink(**ledger, *cfg, clock);
  Notice n;
  n.cause_key = "duration/j9";
  n.event = "duration.warn";
  n.job_id = "j9";
  n.user = "wangwu";
  n.audiences = {Audience::kJobOwner};
  ASSERT_TRUE(sink.Enqueue(n).ok());
  OutboxSender sender(DirectLedgerAccess(**ledger), *cfg, clock);
  ASSERT_TRUE(sender.DeliverDue().ok());
  const auto s = relay.WaitSessions(1).at(0);
  EXPECT_EQ(s.commands[2], "RCPT TO:<wangwu@corp.example>");
  const OutboxDelivery d = (*ledger)->ListDeliveries("")->front();
  EXPECT_EQ(d.state, DeliveryState::kSent);
  EXPECT_NE(s.data.find("Message-ID: <gpuledger." + std::to_string(d.id) + "."), std::string::npos);
  const size_t blank = s.data.find("\r\n\r\n");
  EXPECT_NE(Unbase64(s.data.substr(blank + 4)).find("Job j9 is close to its duration limit."), std::string::npos);
}

}  // namespace
}  // namespace gpuledger
