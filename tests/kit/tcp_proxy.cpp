#include "tests/kit/tcp_proxy.hpp"

#include "tests/kit/loopback.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace warren {

namespace {

// Per direction: what was read from one side and not yet written to the other. A
// full buffer stops reading, so a slow reader slows the writer as TCP would.
constexpr std::size_t buffer_cap = 64 * 1024;
constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::abort();
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Closing with SO_LINGER 0 sends RST instead of FIN: the peer sees a reset, not an
// orderly end.
void close_with_reset(int fd) {
  if (fd < 0)
    return;
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// A blocking connect is fine: the target is on loopback, where a connect completes or
// is refused at once.
int connect_upstream(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  auto addr = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  set_nonblocking(fd);
  return fd;
}

} // namespace

struct tcp_proxy::link {
  int client = -1;
  int server = -1;
  std::string to_server; ///< read from the client, not yet written to the server
  std::string to_client;
  bool client_eof = false; ///< the client sent FIN
  bool server_eof = false;
  bool server_shut = false; ///< FIN passed on to the server
  bool client_shut = false;
  std::size_t down_budget = unlimited; ///< bytes still allowed server → client
  bool closed = false;

  // How many more bytes may be read from the server now.
  std::size_t down_room() const {
    auto room = buffer_cap - std::min(buffer_cap, to_client.size());
    if (down_budget != unlimited)
      room = std::min(room, down_budget - std::min(down_budget, to_client.size()));
    return room;
  }
  // The budget is spent and delivered: the next byte from the server triggers the cut.
  bool spent() const {
    return down_budget != unlimited && down_room() == 0 && to_client.empty();
  }
};

tcp_proxy::tcp_proxy(uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0)
    die("tcp_proxy: socket");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto addr = loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    die("tcp_proxy: bind");
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    die("tcp_proxy: getsockname");
  port_ = ntohs(addr.sin_port);
  if (::listen(listen_fd_, 128) != 0)
    die("tcp_proxy: listen");
  set_nonblocking(listen_fd_);
  if (::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0)
    die("tcp_proxy: pipe");
  thread_ = std::thread([this] { run(); });
}

tcp_proxy::~tcp_proxy() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
  }
  char stop = 's';
  (void)!::write(wake_fds_[1], &stop, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void tcp_proxy::apply(mode m, std::size_t cut_after_bytes, bool cut_now) {
  std::unique_lock<std::mutex> lock{mutex_};
  next_mode_ = m;
  next_cut_after_ = cut_after_bytes;
  next_cut_now_ = cut_now;
  auto ticket = ++posted_;
  char wake = 'w';
  (void)!::write(wake_fds_[1], &wake, 1);
  applied_cv_.wait(lock, [&] { return applied_ >= ticket; });
}

void tcp_proxy::run() {
  std::vector<link> links;
  // Counters change before the sockets close, so a peer that saw the close reads
  // them up to date.
  auto close_link = [&](link& l, bool reset) {
    if (l.closed)
      return;
    l.closed = true;
    --open_;
    if (reset) {
      ++cut_;
      close_with_reset(l.client);
      close_with_reset(l.server);
    } else {
      ::close(l.client);
      ::close(l.server);
    }
  };
  // A peer that reset or failed: pass the reset on to the other side.
  auto drop_link = [&](link& l) {
    if (l.closed)
      return;
    l.closed = true;
    --open_;
    close_with_reset(l.client);
    close_with_reset(l.server);
  };

  std::vector<pollfd> fds;
  for (;;) {
    auto m = mode_.load();
    bool forwarding = m == mode::pass || m == mode::cut_after;
    fds.clear();
    fds.push_back({wake_fds_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& l : links) {
      short client_events = 0;
      short server_events = 0;
      if (forwarding) {
        if (!l.client_eof && l.to_server.size() < buffer_cap)
          client_events |= POLLIN;
        if (!l.to_server.empty())
          server_events |= POLLOUT;
        if (!l.server_eof && (l.down_room() > 0 || l.spent()))
          server_events |= POLLIN;
        if (!l.to_client.empty())
          client_events |= POLLOUT;
      }
      fds.push_back({l.client, client_events, 0});
      fds.push_back({l.server, server_events, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR)
        continue;
      die("tcp_proxy: poll");
    }

    if (fds[0].revents != 0) {
      char drain[64];
      while (::read(wake_fds_[0], drain, sizeof drain) > 0) {
      }
      std::lock_guard<std::mutex> guard{mutex_};
      if (stopping_)
        break;
      if (applied_ < posted_) {
        if (next_cut_now_)
          for (auto& l : links)
            close_link(l, true);
        if (next_mode_ == mode::cut_after)
          for (auto& l : links)
            l.down_budget = next_cut_after_;
        else
          for (auto& l : links)
            l.down_budget = unlimited;
        mode_ = next_mode_;
        applied_ = posted_;
        applied_cv_.notify_all();
      }
      links.erase(std::remove_if(links.begin(), links.end(),
                                 [](const link& l) { return l.closed; }),
                  links.end());
      // The poll set was built for the old mode; build it anew.
      continue;
    }

    for (std::size_t i = 0; i < links.size(); ++i) {
      auto& l = links[i];
      auto client_rev = fds[2 + 2 * i].revents;
      auto server_rev = fds[3 + 2 * i].revents;
      if (client_rev == 0 && server_rev == 0)
        continue;
      if (!forwarding) {
        // Stalled: nothing is read or written, but a peer that reset is gone for good
        // (and would make poll report it forever).
        if ((client_rev | server_rev) & (POLLERR | POLLHUP))
          drop_link(l);
        continue;
      }
      if ((client_rev | server_rev) & POLLERR) {
        // A reset: whatever was in flight is lost on that side anyway.
        drop_link(l);
        continue;
      }
      char buf[16 * 1024];
      // client → server
      if (client_rev & (POLLIN | POLLHUP | POLLERR)) {
        auto room = buffer_cap - l.to_server.size();
        auto n = ::recv(l.client, buf, std::min(room, sizeof buf), 0);
        if (n > 0) {
          l.to_server.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0) {
          l.client_eof = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          drop_link(l);
          continue;
        }
      }
      if (!l.to_server.empty()) {
        auto n = ::send(l.server, l.to_server.data(), l.to_server.size(),
                        MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          l.to_server.erase(0, static_cast<std::size_t>(n));
          bytes_up_ += static_cast<uint64_t>(n);
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          drop_link(l);
          continue;
        }
      }
      // server → client, within the budget of cut_after
      if (server_rev & (POLLIN | POLLHUP | POLLERR)) {
        if (l.spent()) {
          // The server sends past the budget: this is the cut mid-response.
          close_link(l, true);
          continue;
        }
        auto room = l.down_room();
        auto n = room == 0 ? ssize_t{0}
                           : ::recv(l.server, buf, std::min(room, sizeof buf), 0);
        if (room == 0) {
          // Budget left but undelivered: deliver first.
        } else if (n > 0) {
          l.to_client.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0) {
          l.server_eof = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          drop_link(l);
          continue;
        }
      }
      if (!l.to_client.empty()) {
        auto n = ::send(l.client, l.to_client.data(), l.to_client.size(),
                        MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          l.to_client.erase(0, static_cast<std::size_t>(n));
          bytes_down_ += static_cast<uint64_t>(n);
          if (l.down_budget != unlimited)
            l.down_budget -= std::min(l.down_budget, static_cast<std::size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          drop_link(l);
          continue;
        }
      }
      // Pass an orderly end on once everything before it was delivered.
      if (l.client_eof && l.to_server.empty() && !l.server_shut) {
        ::shutdown(l.server, SHUT_WR);
        l.server_shut = true;
      }
      if (l.server_eof && l.to_client.empty() && !l.client_shut) {
        ::shutdown(l.client, SHUT_WR);
        l.client_shut = true;
      }
      if (l.server_shut && l.client_shut)
        close_link(l, false);
    }
    links.erase(std::remove_if(links.begin(), links.end(),
                               [](const link& l) { return l.closed; }),
                links.end());

    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
          break;
        ++accepted_;
        if (mode_.load() == mode::refuse) {
          ++cut_;
          close_with_reset(fd);
          continue;
        }
        int server = connect_upstream(target_port_);
        if (server < 0) {
          // The server is down: the client sees its connection reset.
          close_with_reset(fd);
          continue;
        }
        link l;
        l.client = fd;
        l.server = server;
        if (mode_.load() == mode::cut_after) {
          std::lock_guard<std::mutex> guard{mutex_};
          l.down_budget = next_cut_after_;
        }
        links.push_back(std::move(l));
        ++open_;
      }
    }
  }
  for (auto& l : links)
    if (!l.closed) {
      ::close(l.client);
      ::close(l.server);
      --open_;
    }
}

} // namespace warren
