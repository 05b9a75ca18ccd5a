// OpenSSL behind the HTTP front (tls.h).
#include "server/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace gpuledger {

namespace {

// What OpenSSL's error queue says, reasons only ("no start line; key values mismatch"),
// emptied; `fallback` when it says nothing.
std::string OpenSslErrors(const char* fallback) {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason != nullptr ? reason : "error " + std::to_string(e);
  }
  return out.empty() ? fallback : out;
}

// Never prompt on a terminal for a passphrase (a server has none to ask).
int NoPassphrase(char*, int, int, void*) { return 0; }

// A server speaks HTTP/1.1 only: ALPN picks it when offered, else no protocol is chosen
// (clients without ALPN, and curl's h2-then-http/1.1 offer, both work).
int SelectHttp11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                 unsigned int inlen, void*) {
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kHttp11, sizeof kHttp11, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// A file we cannot open gets the system's reason before OpenSSL's less direct one.
Status Readable(const std::string& path, const char* what) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr)
    return InvalidArgument(std::string("cannot read ") + what + " '" + path + "': " + std::strerror(errno));
  std::fclose(f);
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<TlsContext>> TlsContext::FromPemFiles(const std::string& cert_file,
                                                               const std::string& key_file) {
  RETURN_IF_ERROR(Readable(cert_file, "TLS certificate file"));
  RETURN_IF_ERROR(Readable(key_file, "TLS private key file"));
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return Internal("cannot make a TLS context: " + OpenSslErrors("out of memory"));
  std::unique_ptr<TlsContext> ctx(new TlsContext(raw));  // private constructor: no make_unique
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  // Renegotiation is a client's way to make the server do handshake work on demand;
  // compression leaks secrets (CRIME). The write modes fit a non-blocking writer that
  // retries with the same bytes; idle connections give their buffers back.
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(
      raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_passwd_cb(raw, NoPassphrase);
  SSL_CTX_set_alpn_select_cb(raw, SelectHttp11, nullptr);
  if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
    return InvalidArgument("TLS certificate file '" + cert_file +
                           "' holds no usable PEM certificate: " + OpenSslErrors("unknown OpenSSL error"));
  }
  std::FILE* f = std::fopen(key_file.c_str(), "r");
  if (f == nullptr)
    return InvalidArgument("cannot read TLS private key file '" + key_file + "': " + std::strerror(errno));
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, NoPassphrase, nullptr);
  std::fclose(f);
  if (key == nullptr) {
    return InvalidArgument(
        "TLS private key file '" + key_file +
        "' holds no usable PEM private key (an encrypted key needs its passphrase removed): " +
        OpenSslErrors("unknown OpenSSL error"));
  }
  const bool used = SSL_CTX_use_PrivateKey(raw, key) == 1 && SSL_CTX_check_private_key(raw) == 1;
  EVP_PKEY_free(key);
  if (!used) {
    return InvalidArgument("TLS private key file '" + key_file + "' does not match the certificate in '" +
                           cert_file + "': " + OpenSslErrors("key values mismatch"));
  }
  return ctx;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<TlsSession> TlsSession::New(const TlsContext& ctx, int fd) {
  SSL* ssl = SSL_new(ctx.get());
  if (ssl == nullptr) return nullptr;
  std::unique_ptr<TlsSession> s(new TlsSession(ssl));
  if (SSL_set_fd(ssl, fd) != 1) return nullptr;
  SSL_set_accept_state(ssl);
  return s;
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::Step TlsSession::Handshake(std::string* why) {
  if (failed_) return Step::kFailed;
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    established_ = true;
    return Step::kDone;
  }
  const int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (e == SSL_ERROR_WANT_WRITE) return Step::kWantWrite;
  failed_ = true;
  if (why != nullptr) {
    *why = e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN
               ? "the client closed the connection during the handshake"
               : OpenSslErrors("handshake failed");
  }
  ERR_clear_error();
  return Step::kFailed;
}

ssize_t TlsSession::Read(char* buf, size_t n, short* poll_events) {
  if (failed_ || n == 0) return 0;
  ERR_clear_error();
  size_t got = 0;
  const int r = SSL_read_ex(ssl_, buf, n, &got);
  if (r == 1) return static_cast<ssize_t>(got);
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ:
      *poll_events = POLLIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      *poll_events = POLLOUT;
      return -1;
    case SSL_ERROR_ZERO_RETURN:  // close_notify: an orderly end, the session stays healthy
      return 0;
    default:  // a reset, an EOF without close_notify, a bad record
      failed_ = true;
      ERR_clear_error();
      return 0;
  }
}

ssize_t TlsSession::Write(const char* buf, size_t n, short* poll_events) {
  if (failed_ || n == 0) return 0;
  ERR_clear_error();
  size_t put = 0;
  const int r = SSL_write_ex(ssl_, buf, n, &put);
  if (r == 1) return static_cast<ssize_t>(put);
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_WRITE:
      *poll_events = POLLOUT;
      return -1;
    case SSL_ERROR_WANT_READ:
      *poll_events = POLLIN;
      return -1;
    default:
      failed_ = true;
      ERR_clear_error();
      return 0;
  }
}

bool TlsSession::HasPending() const { return !failed_ && SSL_pending(ssl_) > 0; }

void TlsSession::Shutdown() {
  if (failed_ || !established_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // one close_notify, sent if the socket takes it now; no wait for the peer's
  ERR_clear_error();
}

std::string TlsSession::version() const { return SSL_get_version(ssl_); }

}  // namespace gpuledger
