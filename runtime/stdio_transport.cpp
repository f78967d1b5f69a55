#include "runtime/stdio_transport.hpp"

#include <cerrno>
#include <poll.h>
#include <unistd.h>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

namespace warren {

// -- credit_gate
// -----------------------------------------------------------------------

bool credit_gate::acquire() {
  std::unique_lock<std::mutex> guard{mutex_};
  cv_.wait(guard, [this] { return closed_ || available_ > 0; });
  if (closed_)
    return false;
  --available_;
  return true;
}

void credit_gate::release() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    ++available_;
  }
  cv_.notify_one();
}

void credit_gate::close() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    closed_ = true;
  }
  cv_.notify_all();
}

// -- line_writer
// -----------------------------------------------------------------------

line_writer::line_writer(int fd) : fd_(fd), thread_([this] { run(); }) {}

line_writer::~line_writer() {
  close();
}

void line_writer::write(std::string line) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    queued_ += line;
    queued_ += '\n';
  }
  cv_.notify_one();
}

void line_writer::close() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    closing_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable())
    thread_.join();
}

void line_writer::run() {
  std::string batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> guard{mutex_};
      cv_.wait(guard, [this] { return closing_ || !queued_.empty(); });
      if (queued_.empty() && closing_)
        return;
      batch.swap(queued_);
    }
    std::size_t written = 0;
    while (written < batch.size()) {
      auto n = ::write(fd_, batch.data() + written, batch.size() - written);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        // The client went away; nothing more can reach it.
        spdlog::warn("stdout closed; dropping {} bytes of output",
                     batch.size() - written);
        break;
      }
      written += static_cast<std::size_t>(n);
    }
    batch.clear();
  }
}

// -- line_reader
// -----------------------------------------------------------------------

line_reader::line_reader(int fd, int wake_fd, std::size_t max_line_bytes,
                         credit_gate& gate, session_actor session)
    : fd_(fd), wake_fd_(wake_fd), max_line_bytes_(max_line_bytes), gate_(gate),
      session_(std::move(session)) {}

line_reader::~line_reader() {
  join();
}

void line_reader::start() {
  thread_ = std::thread{[this] { run(); }};
}

void line_reader::join() {
  if (thread_.joinable())
    thread_.join();
}

bool line_reader::deliver(std::string line) {
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  if (line.find_first_not_of(" \t") == std::string::npos)
    return true; // blank lines carry nothing
  if (!gate_.acquire())
    return false;
  caf::anon_send(session_, line_atom::value, std::move(line));
  return true;
}

void line_reader::run() {
  std::string line;
  std::size_t skipped = 0; // > 0 while skipping the rest of an oversized line
  char buffer[65536];
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  bool more = true;
  while (more) {
    if (::poll(fds, wake_fd_ >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (wake_fd_ >= 0 && (fds[1].revents & POLLIN) != 0)
      break;
    auto n = ::read(fd_, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      break;
    std::string_view chunk{buffer, static_cast<std::size_t>(n)};
    while (more && !chunk.empty()) {
      auto newline = chunk.find('\n');
      auto piece = chunk.substr(0, newline);
      if (skipped > 0 || line.size() + piece.size() > max_line_bytes_) {
        skipped += line.size() + piece.size();
        line.clear();
      } else {
        line.append(piece);
      }
      if (newline == std::string_view::npos)
        break;
      chunk.remove_prefix(newline + 1);
      if (skipped > 0) {
        if (!gate_.acquire()) {
          more = false;
          break;
        }
        caf::anon_send(session_, oversize_atom::value, static_cast<uint64_t>(skipped));
        skipped = 0;
      } else {
        more = deliver(std::move(line));
        line.clear();
      }
    }
  }
  // A last line without a newline still counts.
  if (more && skipped == 0 && !line.empty())
    deliver(std::move(line));
  caf::anon_send(session_, eof_atom::value);
}

} // namespace warren
