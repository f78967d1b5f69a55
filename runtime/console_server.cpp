#include "runtime/console_server.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <spdlog/spdlog.h>

#include "protocol/error.hpp"
#include "protocol/json_writer.hpp"
#include "runtime/console_commands.hpp"

namespace warren {

namespace {

// Longest command line an operator may send.
constexpr std::size_t max_command_bytes = 64 * 1024;

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string reply_line(const console_reply& reply) {
  rapidjson::StringBuffer buf;
  json_writer<rapidjson::StringBuffer> w{buf};
  w.StartObject();
  w.Key("ok");
  w.Bool(reply.ok);
  w.Key("output");
  w.String(reply.output);
  w.EndObject();
  return std::string{buf.GetString()} + "\n";
}

caf::error socket_error(const std::string& what, const std::string& path) {
  return make_error(ec::invalid_config, "server.console_socket: cannot " + what + " " +
                                            path + ": " + std::strerror(errno));
}

} // namespace

console_server::console_server(std::string path, control_plane& control)
    : path_(std::move(path)), control_(control) {}

console_server::~console_server() {
  stop();
}

caf::error console_server::start() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path))
    return make_error(ec::invalid_config, "server.console_socket: path too long");
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  // A socket left behind by a warren that died is replaced; any other file is not.
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(ec::invalid_config, "server.console_socket: " + path_ +
                                                " exists and is not a socket");
    ::unlink(path_.c_str());
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0)
    return socket_error("create a socket for", path_);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    auto err = socket_error("bind", path_);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return err;
  }
  // Before listen(): nobody can connect while the mode is still the umask's.
  if (::chmod(path_.c_str(), 0600) != 0 || ::listen(listen_fd_, 16) != 0) {
    auto err = socket_error("secure or listen on", path_);
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(path_.c_str());
    return err;
  }
  if (::pipe2(wake_, O_CLOEXEC) != 0)
    return socket_error("create a wake-up pipe for", path_);
  acceptor_ = std::thread{[this] { accept_loop(); }};
  spdlog::info("console listening on {}", path_);
  return {};
}

void console_server::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    if (fds[1].revents != 0 || stopping_)
      return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    // Only the user warren runs as (or root) may steer it, whatever the file's mode.
    ucred peer{};
    socklen_t len = sizeof(peer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 ||
        (peer.uid != ::geteuid() && peer.uid != 0)) {
      spdlog::warn("console: refused a connection from uid {}", peer.uid);
      ::close(fd);
      continue;
    }
    std::lock_guard<std::mutex> guard{mtx_};
    client_fds_.push_back(fd);
    clients_.emplace_back([this, fd] { serve(fd); });
  }
}

void console_server::serve(int fd) {
  console_session session{control_};
  std::string buffer;
  char chunk[4096];
  bool open = true;
  while (open && !stopping_) {
    auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t newline;
    while (open && (newline = buffer.find('\n')) != std::string::npos) {
      auto line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      if (line == "quit" || line == "exit") {
        open = false;
        break;
      }
      console_reply reply;
      try {
        reply = session.run(line);
      } catch (const std::exception& e) {
        reply = {false, std::string{"the command failed: "} + e.what()};
      }
      open = write_all(fd, reply_line(reply));
    }
    if (buffer.size() > max_command_bytes) {
      write_all(fd, reply_line({false, "command line too long"}));
      break;
    }
  }
  std::lock_guard<std::mutex> guard{mtx_};
  client_fds_.remove(fd);
  ::close(fd);
}

void console_server::stop() {
  if (listen_fd_ < 0)
    return;
  stopping_ = true;
  if (wake_[1] >= 0 && ::write(wake_[1], "x", 1) < 0) {
    // The acceptor also ends when the listening socket closes below.
  }
  if (acceptor_.joinable())
    acceptor_.join();
  std::list<std::thread> clients;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (int fd : client_fds_)
      ::shutdown(fd, SHUT_RDWR);
    clients.swap(clients_);
  }
  for (auto& t : clients)
    if (t.joinable())
      t.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  for (int& fd : wake_)
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  ::unlink(path_.c_str());
}

} // namespace warren
