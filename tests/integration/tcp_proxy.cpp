// The fault-injecting TCP proxy of the test kit, checked against a tiny echo server:
// each mode does to a live connection what the fault tests rely on.

#include <atomic>

#include "tests/kit/loopback.hpp"
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "tests/kit/tcp_proxy.hpp"

using namespace std::chrono_literals;
using warren::loopback;
using warren::tcp_proxy;

namespace {

// Echoes every byte back on every connection until destroyed.
class echo_server {
public:
  echo_server() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    auto addr = loopback(0);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    REQUIRE(::pipe2(stop_fds_, O_CLOEXEC) == 0);
    thread_ = std::thread([this] { run(); });
  }
  ~echo_server() {
    (void)!::write(stop_fds_[1], "s", 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(stop_fds_[0]);
    ::close(stop_fds_[1]);
  }
  uint16_t port() const { return port_; }

private:
  void run() {
    std::vector<int> clients;
    for (;;) {
      std::vector<pollfd> fds{{stop_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      for (int fd : clients)
        fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0)
        continue;
      if (fds[0].revents != 0)
        break;
      for (std::size_t i = clients.size(); i-- > 0;) {
        if (fds[i + 2].revents == 0)
          continue;
        char buf[8192];
        auto n = ::recv(clients[i], buf, sizeof buf, 0);
        if (n <= 0) {
          ::close(clients[i]);
          clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
        // Blocking write: the test's reader keeps up.
        for (ssize_t off = 0; off < n;) {
          auto w = ::send(clients[i], buf + off, static_cast<std::size_t>(n - off),
                          MSG_NOSIGNAL);
          if (w <= 0)
            break;
          off += w;
        }
      }
      if (fds[1].revents != 0) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0)
          clients.push_back(fd);
      }
    }
    for (int fd : clients)
      ::close(fd);
  }

  int listen_fd_ = -1;
  int stop_fds_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
};

// A client connection to the proxy.
struct connection {
  int fd = -1;
  explicit connection(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    auto addr = loopback(port);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~connection() { ::close(fd); }
  bool send_all(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // What arrives within `wait` (up to `want` bytes), and whether the peer closed.
  struct reading {
    std::string bytes;
    bool closed = false; ///< EOF or reset seen
  };
  reading read_for(std::size_t want, std::chrono::milliseconds wait) {
    reading r;
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (r.bytes.size() < want) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        break;
      char buf[8192];
      auto n = ::recv(fd, buf, std::min(sizeof buf, want - r.bytes.size()), 0);
      if (n <= 0) {
        r.closed = true;
        break;
      }
      r.bytes.append(buf, static_cast<std::size_t>(n));
    }
    return r;
  }
};

// The proxy counts a forwarded byte just after the peer may have seen it.
template <class Predicate>
bool eventually(Predicate pred) {
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

} // namespace

TEST_CASE("the proxy in pass mode forwards both ways and counts the bytes") {
  echo_server echo;
  tcp_proxy proxy{echo.port()};
  connection c{proxy.port()};
  REQUIRE(c.send_all("hello proxy"));
  auto r = c.read_for(11, 5s);
  CHECK(r.bytes == "hello proxy");
  CHECK(proxy.accepted() == 1);
  CHECK(proxy.bytes_up() == 11);
  CHECK(eventually([&] { return proxy.bytes_down() == 11; }));
  CHECK(proxy.open_connections() == 1);
}

TEST_CASE("a stalled proxy forwards nothing, keeps the connection, and delivers on "
          "pass") {
  echo_server echo;
  tcp_proxy proxy{echo.port()};
  connection c{proxy.port()};
  REQUIRE(c.send_all("before"));
  REQUIRE(c.read_for(6, 5s).bytes == "before");
  proxy.stall();
  REQUIRE(c.send_all("during"));
  auto stalled = c.read_for(6, 300ms);
  CHECK(stalled.bytes.empty());
  CHECK_FALSE(stalled.closed);
  CHECK(proxy.bytes_up() == 6);
  // A connection opened while stalled is accepted but silent too.
  connection late{proxy.port()};
  REQUIRE(late.send_all("late"));
  CHECK(late.read_for(4, 200ms).bytes.empty());
  proxy.pass();
  CHECK(c.read_for(6, 5s).bytes == "during");
  CHECK(late.read_for(4, 5s).bytes == "late");
}

TEST_CASE("cut resets every open connection and forwards new ones") {
  echo_server echo;
  tcp_proxy proxy{echo.port()};
  connection a{proxy.port()};
  connection b{proxy.port()};
  REQUIRE(a.send_all("a"));
  REQUIRE(b.send_all("b"));
  REQUIRE(a.read_for(1, 5s).bytes == "a");
  REQUIRE(b.read_for(1, 5s).bytes == "b");
  proxy.cut();
  CHECK(proxy.open_connections() == 0);
  CHECK(proxy.cut_connections() == 2);
  auto ra = a.read_for(1, 5s);
  CHECK(ra.closed);
  CHECK(ra.bytes.empty());
  // A reset connection refuses writes (at the latest on the second one).
  a.send_all("x");
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(a.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  CHECK((err == ECONNRESET || err == 0));
  CHECK(proxy.current_mode() == tcp_proxy::mode::pass);
  connection fresh{proxy.port()};
  REQUIRE(fresh.send_all("again"));
  CHECK(fresh.read_for(5, 5s).bytes == "again");
}

TEST_CASE("a refusing proxy closes new connections at once and pass lets them in "
          "again") {
  echo_server echo;
  tcp_proxy proxy{echo.port()};
  proxy.refuse();
  connection c{proxy.port()};
  c.send_all("anyone?");
  auto r = c.read_for(7, 5s);
  CHECK(r.closed);
  CHECK(r.bytes.empty());
  CHECK(proxy.accepted() == 1);
  CHECK(proxy.bytes_up() == 0);
  proxy.pass();
  connection d{proxy.port()};
  REQUIRE(d.send_all("now"));
  CHECK(d.read_for(3, 5s).bytes == "now");
}

TEST_CASE("cut_after delivers exactly N bytes of a longer answer, then the "
          "connection ends") {
  echo_server echo;
  tcp_proxy proxy{echo.port()};
  proxy.cut_after(1000);
  connection c{proxy.port()};
  std::string big(20000, 'z');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + i % 26);
  c.send_all(big);
  auto r = c.read_for(big.size(), 5s);
  CHECK(r.closed);
  CHECK(r.bytes.size() == 1000);
  CHECK(r.bytes == big.substr(0, r.bytes.size()));
  CHECK(proxy.cut_connections() == 1);
  // A short answer within the budget passes whole.
  connection d{proxy.port()};
  REQUIRE(d.send_all("short"));
  auto s = d.read_for(5, 5s);
  CHECK(s.bytes == "short");
  CHECK_FALSE(s.closed);
}

TEST_CASE("a proxy whose target is down resets the client's connection") {
  uint16_t dead_port = 0;
  {
    echo_server gone;
    dead_port = gone.port();
  }
  tcp_proxy proxy{dead_port};
  connection c{proxy.port()};
  c.send_all("hello?");
  auto r = c.read_for(6, 5s);
  CHECK(r.closed);
  CHECK(r.bytes.empty());
}

TEST_CASE("a proxy with open stalled connections stops cleanly") {
  echo_server echo;
  std::unique_ptr<connection> c;
  {
    tcp_proxy proxy{echo.port()};
    c = std::make_unique<connection>(proxy.port());
    REQUIRE(c->send_all("x"));
    REQUIRE(c->read_for(1, 5s).bytes == "x");
    proxy.stall();
  }
  auto r = c->read_for(1, 5s);
  CHECK(r.closed);
}
