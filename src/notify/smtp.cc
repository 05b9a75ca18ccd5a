#include "notify/smtp.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "notify/sign.h"

namespace gpuledger {

namespace {

constexpr size_t kMaxReplyBytes = 64 << 10;  // a relay that talks past this is cut off

std::string Rfc5322Date(TimeMs t) {
  const auto s = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);  // C locale names
  return buf;
}

std::string Base64Lines(const std::string& bytes) {
  const std::string b = Base64(bytes);
  std::string out;
  for (size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

// One SMTP session over a blocking socket with send/receive timeouts, in the clear or
// (after STARTTLS) through OpenSSL.
class Session {
 public:
  ~Session() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  Status Connect(const std::string& host, int port, int timeout_s) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port_s = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0) {
      return Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> hold(res, freeaddrinfo);
    std::string last = "no address";
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      timeval tv{timeout_s, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
        return OkStatus();
      }
      last = std::strerror(errno);
      ::close(fd);
    }
    return Unavailable("cannot connect to " + host + ":" + port_s + ": " + last);
  }

  Status Write(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = 0;
      if (ssl_ != nullptr) {
        n = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
      } else {
        n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      }
      if (n <= 0) {
        if (ssl_ == nullptr && n < 0 && errno == EINTR) continue;
        return Unavailable(std::string("the relay's connection failed while sending: ") +
                           (n < 0 ? std::strerror(errno) : "closed"));
      }
      off += static_cast<size_t>(n);
    }
    return OkStatus();
  }

  // One reply, multi-line ("250-...", ..., "250 ...") joined: its code and text.
  StatusOr<std::pair<int, std::string>> Reply() {
    std::string text;
    for (;;) {
      ASSIGN_OR_RETURN(std::string line, Line());
      if (line.size() < 3 || !isdigit(static_cast<unsigned char>(line[0])) ||
          !isdigit(static_cast<unsigned char>(line[1])) || !isdigit(static_cast<unsigned char>(line[2]))) {
        return Unavailable("the relay answered something that is not an SMTP reply: '" + line.substr(0, 80) + "'");
      }
      text += line + "\n";
      if (line.size() == 3 || line[3] == ' ') return std::make_pair(std::stoi(line.substr(0, 3)), text);
      if (line[3] != '-') return Unavailable("malformed SMTP reply line: '" + line.substr(0, 80) + "'");
    }
  }

  Status StartTls(const std::string& host, const std::string& ca_file) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) return Internal("OpenSSL: cannot make a client context");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    const int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_)
                                       : SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    if (loaded != 1) return FailedPrecondition("cannot load the certificates to trust from '" + ca_file + "'");
    ssl_ = SSL_new(ctx_);
    if (ssl_ == nullptr) return Internal("OpenSSL: cannot make a session");
    SSL_set_fd(ssl_, fd_);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {  // not an IP address: a name
      SSL_set_tlsext_host_name(ssl_, host.c_str());
      SSL_set1_host(ssl_, host.c_str());
    }
    if (SSL_connect(ssl_) != 1) {
      const long verify = SSL_get_verify_result(ssl_);
      std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "handshake failed";
      SSL_free(ssl_);
      ssl_ = nullptr;
      return Unavailable("STARTTLS with " + host + " failed: " + why);
    }
    buf_.clear();  // nothing read in the clear may be taken as encrypted
    return OkStatus();
  }

 private:
  StatusOr<std::string> Line() {
    for (;;) {
      const size_t eol = buf_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        return line;
      }
      if (buf_.size() > kMaxReplyBytes) return Unavailable("the relay's reply line is over 64 KiB");
      char chunk[4096];
      ssize_t n = 0;
      if (ssl_ != nullptr) {
        n = SSL_read(ssl_, chunk, sizeof chunk);
      } else {
        n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
      }
      if (n <= 0) {
        return Unavailable(std::string("the relay's connection failed while reading: ") +
                           (n < 0 && ssl_ == nullptr ? std::strerror(errno) : "closed or timed out"));
      }
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

ReplyVerdict Retry(const Status& s) { return {Verdict::kRetry, -1, s.message()}; }

// The verdict on a reply that is not the one expected: 4xx retried, 5xx given up.
ReplyVerdict Refused(const std::string& step, int code, const std::string& text) {
  ReplyVerdict v;
  v.verdict = code >= 500 ? Verdict::kGiveUp : Verdict::kRetry;
  v.why = "SMTP " + step + " answered " + text.substr(0, 200);
  while (!v.why.empty() && v.why.back() == '\n') v.why.pop_back();
  return v;
}

}  // namespace

std::string FormatMail(const MailMessage& m) {
  std::string to;
  for (const std::string& a : m.to) to += (to.empty() ? "" : ", ") + a;
  std::string out;
  out += "From: " + m.from + "\r\n";
  out += "To: " + to + "\r\n";
  out += "Subject: =?UTF-8?B?" + Base64(m.subject) + "?=\r\n";
  out += "Date: " + Rfc5322Date(m.date_ms) + "\r\n";
  out += "Message-ID: " + m.message_id + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "\r\n";
  out += Base64Lines(m.text);
  return out;
}

std::vector<std::string> SplitRecipients(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t comma = joined.find(',', start);
    if (comma == std::string::npos) comma = joined.size();
    std::string a = joined.substr(start, comma - start);
    while (!a.empty() && a.front() == ' ') a.erase(0, 1);
    while (!a.empty() && a.back() == ' ') a.pop_back();
    if (!a.empty()) out.push_back(a);
    start = comma + 1;
  }
  return out;
}

ReplyVerdict SendMail(const ChannelConfig& c, const MailMessage& m) {
  Session s;
  if (Status st = s.Connect(c.host, c.port, c.timeout_s); !st.ok()) return Retry(st);
  auto expect = [&](const std::string& step, int want_class) -> std::optional<ReplyVerdict> {
    auto r = s.Reply();
    if (!r.ok()) return Retry(r.status());
    if (r->first / 100 != want_class) return Refused(step, r->first, r->second);
    return std::nullopt;
  };
  auto command = [&](const std::string& line, const std::string& step, int want_class) -> std::optional<ReplyVerdict> {
    if (Status st = s.Write(line + "\r\n"); !st.ok()) return Retry(st);
    return expect(step, want_class);
  };
  if (auto v = expect("greeting", 2)) return *v;
  if (Status st = s.Write("EHLO gpuledger\r\n"); !st.ok()) return Retry(st);
  auto ehlo = s.Reply();
  if (!ehlo.ok()) return Retry(ehlo.status());
  if (ehlo->first / 100 != 2) return Refused("EHLO", ehlo->first, ehlo->second);
  if (c.starttls) {
    if (ehlo->second.find("STARTTLS") == std::string::npos) {
      return {Verdict::kRetry, -1, "the relay " + c.host + " does not offer STARTTLS, which the channel requires"};
    }
    if (auto v = command("STARTTLS", "STARTTLS", 2)) return *v;
    if (Status st = s.StartTls(c.host, c.ca_file); !st.ok()) return Retry(st);
    if (auto v = command("EHLO gpuledger", "EHLO", 2)) return *v;
    if (!c.username.empty()) {
      const std::string plain = std::string(1, '\0') + c.username + std::string(1, '\0') + c.password;
      if (auto v = command("AUTH PLAIN " + Base64(plain), "AUTH", 2)) return *v;
    }
  }
  if (auto v = command("MAIL FROM:<" + m.from + ">", "MAIL FROM", 2)) return *v;
  for (const std::string& a : m.to) {
    if (auto v = command("RCPT TO:<" + a + ">", "RCPT TO <" + a + ">", 2)) return *v;
  }
  if (auto v = command("DATA", "DATA", 3)) return *v;
  // Dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets one more.
  const std::string text = FormatMail(m);
  std::string stuffed;
  stuffed.reserve(text.size() + 8);
  bool line_start = true;
  for (char ch : text) {
    if (line_start && ch == '.') stuffed.push_back('.');
    stuffed.push_back(ch);
    line_start = ch == '\n';
  }
  if (Status st = s.Write(stuffed + ".\r\n"); !st.ok()) return Retry(st);
  if (auto v = expect("the message", 2)) return *v;
  (void)s.Write("QUIT\r\n");  // accepted already: a failed QUIT changes nothing
  return {Verdict::kSent, -1, ""};
}

}  // namespace gpuledger
