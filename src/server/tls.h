// TLS for the HTTP front (http_front.h), with OpenSSL used directly: a server context
// loaded from PEM files, and one non-blocking session per connection. The front drives
// the handshake from its poll loop, under the deadline and the connection caps of a
// request head, so a client that never finishes a handshake costs a descriptor, not a
// thread (docs/ARCHITECTURE.md, "TLS").
//
// Thread-safety: a TlsContext is immutable once made and shared by every session (an
// SSL_CTX may be used by many threads). A TlsSession is used by one thread at a time: the
// poller or the worker that holds its connection, handed over under the front's mutex.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/status.h"

struct ssl_ctx_st;
struct ssl_st;

namespace gpuledger {

class TlsContext {
 public:
  // A server context: TLS 1.2 at least, no renegotiation, no compression, ALPN
  // "http/1.1", the certificate chain in `cert_file` (PEM, leaf first) and the
  // unencrypted private key in `key_file` (PEM). Errors name the file and say what was
  // wrong: unreadable, no PEM certificate or key in it, or a key that is not the
  // certificate's.
  static StatusOr<std::unique_ptr<TlsContext>> FromPemFiles(const std::string& cert_file,
                                                            const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ssl_ctx_st* get() const { return ctx_; }

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

// One connection's TLS state, the server's side. Does not own the socket; the socket
// must be non-blocking. Reads and writes have the shape of recv/send on such a socket:
// > 0 bytes moved; 0 the peer closed or the session failed (it is then unusable); -1
// it would block, and *poll_events says what to poll for (TLS may need to write to read
// or read to write).
class TlsSession {
 public:
  enum class Step { kDone, kWantRead, kWantWrite, kFailed };

  // nullptr when OpenSSL cannot allocate one.
  static std::unique_ptr<TlsSession> New(const TlsContext& ctx, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Advances the handshake with what the socket holds; on kFailed, *why says why.
  Step Handshake(std::string* why);
  bool established() const { return established_; }
  ssize_t Read(char* buf, size_t n, short* poll_events);
  ssize_t Write(const char* buf, size_t n, short* poll_events);
  // Decrypted bytes held inside OpenSSL: poll would not see them, read them first.
  bool HasPending() const;
  // Sends close_notify if the session is healthy; never blocks, never fails.
  void Shutdown();
  // The protocol negotiated ("TLSv1.3"), for tests and logs.
  std::string version() const;

 private:
  explicit TlsSession(ssl_st* ssl) : ssl_(ssl) {}
  ssl_st* ssl_;
  bool established_ = false;
  bool failed_ = false;  // OpenSSL forbids SSL_shutdown after a fatal error
};

}  // namespace gpuledger
