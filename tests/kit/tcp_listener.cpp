#include "tests/kit/tcp_listener.hpp"

#include "tests/kit/loopback.hpp"

#include <cstdio>
#include <cstdlib>
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

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::abort();
}

int bind_loopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("tcp_listener: socket");
  auto addr = loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    die("tcp_listener: bind");
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    die("tcp_listener: getsockname");
  port = ntohs(addr.sin_port);
  return fd;
}

void write_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return; // the client went away; nothing to tell it
    off += static_cast<std::size_t>(n);
  }
}

const std::string ok_answer = "HTTP/1.1 200 OK\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: 2\r\n"
                              "\r\n"
                              "{}";

struct client {
  int fd;
  std::string pending;
  std::size_t answered = 0;
};

} // namespace

tcp_listener::tcp_listener(fault f) : fault_(f) {
  listen_fd_ = bind_loopback(port_);
  if (::listen(listen_fd_, f == fault::never_accept ? 0 : 16) != 0)
    die("tcp_listener: listen");
  if (f == fault::never_accept) {
    // Linux queues backlog + 1 connections; with that one taken, further SYNs are
    // dropped and the client's connect waits.
    backlog_filler_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto addr = loopback(port_);
    if (backlog_filler_fd_ < 0 ||
        ::connect(backlog_filler_fd_, reinterpret_cast<sockaddr*>(&addr),
                  sizeof addr) != 0)
      die("tcp_listener: connect");
  }
  if (::pipe2(wake_fds_, O_CLOEXEC) != 0)
    die("tcp_listener: pipe");
  thread_ = std::thread([this] { run(); });
}

tcp_listener::~tcp_listener() {
  char stop = 's';
  (void)!::write(wake_fds_[1], &stop, 1);
  thread_.join();
  if (backlog_filler_fd_ >= 0)
    ::close(backlog_filler_fd_);
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void tcp_listener::run() {
  std::vector<client> clients;
  auto drop = [&](std::size_t i) {
    ::close(clients[i].fd);
    clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
  };
  for (;;) {
    // A never accepting listener is not watched (fd -1 is skipped by poll).
    int accept_fd = fault_ == fault::never_accept ? -1 : listen_fd_;
    std::vector<pollfd> fds{{wake_fds_[0], POLLIN, 0}, {accept_fd, POLLIN, 0}};
    for (auto& c : clients)
      fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0)
      continue;
    if (fds[0].revents != 0)
      break;
    // Walk clients back to front so that dropping one keeps the others' indices.
    for (std::size_t i = clients.size(); i-- > 0;) {
      if (fds[i + 2].revents == 0)
        continue;
      char buf[4096];
      auto n = ::recv(clients[i].fd, buf, sizeof buf, 0);
      if (n <= 0) {
        drop(i);
        continue;
      }
      auto& c = clients[i];
      c.pending.append(buf, static_cast<std::size_t>(n));
      bool dropped = false;
      for (auto end = c.pending.find("\r\n\r\n"); end != std::string::npos && !dropped;
           end = c.pending.find("\r\n\r\n")) {
        c.pending.erase(0, end + 4);
        switch (fault_) {
        case fault::never_answer:
          break;
        case fault::answer_garbage:
          write_all(c.fd, "SSH-2.0-OpenSSH_9.0 this is not HTTP\r\n\r\n");
          break;
        case fault::close_without_answer:
          dropped = true;
          break;
        case fault::answer_then_close:
          write_all(c.fd, ok_answer);
          dropped = true;
          break;
        case fault::truncate_second_answer:
          if (c.answered == 0) {
            write_all(c.fd, ok_answer);
          } else {
            write_all(c.fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"na");
            dropped = true;
          }
          break;
        case fault::answer_oversized:
          write_all(c.fd, "HTTP/1.1 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: 68157440\r\n"
                          "\r\n"
                          "[");
          break;
        case fault::answer_connection_close:
          write_all(c.fd, "HTTP/1.1 200 OK\r\n"
                          "Connection: close\r\n"
                          "Content-Length: 2\r\n"
                          "\r\n"
                          "{}");
          break;
        }
        ++c.answered;
      }
      if (dropped)
        drop(i);
    }
    if (fds[1].revents != 0) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        ++accepted_;
        clients.push_back({fd, {}, 0});
      }
    }
  }
  for (auto& c : clients)
    ::close(c.fd);
}

uint16_t closed_port() {
  uint16_t port = 0;
  int fd = bind_loopback(port);
  ::close(fd);
  return port;
}

} // namespace warren
