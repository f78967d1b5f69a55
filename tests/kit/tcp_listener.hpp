#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace warren {

/// A loopback TCP server that stands in for the management API and misbehaves in one
/// chosen way: fault injection for client tests. It treats every "\r\n\r\n" it reads
/// as the end of one request (tests send GETs without a body) and answers with canned
/// bytes; it is not an HTTP server.
class tcp_listener {
public:
  enum class fault {
    /// Accepts and reads, never writes.
    never_answer,
    /// Answers every request with bytes that are not HTTP.
    answer_garbage,
    /// Reads one request, then closes without answering.
    close_without_answer,
    /// Answers every request with a keep-alive 200, then closes the connection: what
    /// a server closing an idle keep-alive connection looks like to the client.
    answer_then_close,
    /// Answers the first request on a connection; sends half of the second answer,
    /// then closes.
    truncate_second_answer,
    /// Announces a body above 64 MiB.
    answer_oversized,
    /// Answers with "Connection: close" but leaves the socket open.
    answer_connection_close,
    /// Never accepts, and its backlog is full: a connect hangs until it times out.
    never_accept,
  };

  /// Listens on 127.0.0.1 on a free port; aborts the test run if it cannot.
  explicit tcp_listener(fault f);
  ~tcp_listener();
  tcp_listener(const tcp_listener&) = delete;
  tcp_listener& operator=(const tcp_listener&) = delete;

  uint16_t port() const { return port_; }

  /// Connections accepted so far.
  std::size_t accepted() const { return accepted_.load(); }

private:
  void run();

  fault fault_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  int backlog_filler_fd_ = -1; ///< the connection that fills the backlog (never_accept)
  uint16_t port_ = 0;
  std::atomic<std::size_t> accepted_{0};
  std::thread thread_;
};

/// A loopback port nothing listens on (it was free a moment ago), for "connection
/// refused" tests.
uint16_t closed_port();

} // namespace warren
