// slow_clients: the slow-client attack of the soak (bench/soak.sh). N connections, spread
// over the source addresses 127.0.0.2, 127.0.0.3, ... (an attack from many hosts, so the
// server's per-address cap does not simply refuse them all), each sending one byte of a
// request head a second and never finishing it. A connection the server closes (its head
// deadline, a connection cap) or answers is opened again at the next tick, so the attack
// keeps N connections pressing for as long as it runs. No token is used.
//
//   slow_clients --port P [--clients 500] [--addresses 50] [--seconds 1800] [--report 60]
//
// Prints a line every --report seconds and at the end: connections open, opened in all,
// closed by the server, answered by the server (any bytes back), failed to connect.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// What a slow client trickles: a request line, then an endless run of short header lines.
constexpr std::string_view kHead = "POST /api/v1/write HTTP/1.1\r\nHost: gpuledger\r\n";
constexpr std::string_view kFill = "X-Slow: a\r\n";

struct Client {
  int fd = -1;
  size_t sent = 0;  // bytes of the head sent on this connection
};

struct Counts {
  long opened = 0, closed = 0, answered = 0, connect_failed = 0;
};

int Open(int port, int address_index, Counts& counts) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ++counts.connect_failed;
    return -1;
  }
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + static_cast<uint32_t>(address_index));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    ++counts.connect_failed;
    return -1;
  }
  ++counts.opened;
  return fd;
}

// One tick of one client: notice a close or an answer, else send its next byte.
void Tick(Client& c, Counts& counts) {
  char buf[512];
  const ssize_t got = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
  if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)) {
    ++counts.closed;
  } else if (got > 0) {
    ++counts.answered;
  } else {
    const char next = c.sent < kHead.size() ? kHead[c.sent] : kFill[(c.sent - kHead.size()) % kFill.size()];
    const ssize_t put = ::send(c.fd, &next, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (put == 1) {
      ++c.sent;
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN) return;  // connecting
    ++counts.closed;
  }
  ::close(c.fd);
  c.fd = -1;
  c.sent = 0;
}

long Arg(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == name) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const long port = Arg(argc, argv, "--port", 0);
  const long clients = Arg(argc, argv, "--clients", 500);
  const long addresses = Arg(argc, argv, "--addresses", 50);
  const long seconds = Arg(argc, argv, "--seconds", 1800);
  const long report = Arg(argc, argv, "--report", 60);
  if (port <= 0 || port > 65535 || clients < 1 || addresses < 1 || addresses > 250 || seconds < 1 ||
      report < 1) {
    std::fprintf(stderr,
                 "usage: slow_clients --port P [--clients 500] [--addresses 1..250] [--seconds 1800] "
                 "[--report 60]\n");
    return 2;
  }
  rlimit fds{};
  ::getrlimit(RLIMIT_NOFILE, &fds);
  fds.rlim_cur = fds.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &fds);
  std::vector<Client> all(static_cast<size_t>(clients));
  Counts counts;
  const auto start = std::chrono::steady_clock::now();
  auto print = [&](long t) {
    long open = 0;
    for (const Client& c : all) open += c.fd >= 0;
    std::printf("t=%ld s open=%ld opened=%ld closed_by_server=%ld answered=%ld connect_failed=%ld\n", t, open,
                counts.opened, counts.closed, counts.answered, counts.connect_failed);
    std::fflush(stdout);
  };
  for (long t = 0; t < seconds; ++t) {
    for (size_t i = 0; i < all.size(); ++i) {
      Client& c = all[i];
      if (c.fd < 0) {
        c.fd = Open(static_cast<int>(port), static_cast<int>(i % static_cast<size_t>(addresses)), counts);
      } else {
        Tick(c, counts);
      }
    }
    if ((t + 1) % report == 0) print(t + 1);
    std::this_thread::sleep_until(start + std::chrono::seconds(t + 1));
  }
  print(seconds);
  for (Client& c : all) {
    if (c.fd >= 0) ::close(c.fd);
  }
  return 0;
}
