#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

namespace warren {

/// A loopback TCP proxy between a client under test and a real server on
/// 127.0.0.1:<target port>, whose link can be broken on command: fault injection that
/// sees only bytes (no protocol parsing), so it serves HTTP and AMQP alike.
///
/// Every mode switch is synchronous: when the call returns, the proxy's thread has
/// applied it (after stall() no further byte is forwarded; after cut() every
/// connection that was open is closed). All members are safe from any thread.
class tcp_proxy {
public:
  enum class mode {
    /// Forward both ways.
    pass,
    /// Keep the connections (and accept new ones) but forward nothing and read
    /// nothing more, so the peers' writes back up in the kernel.
    stall,
    /// Accept new connections and close them at once (with RST).
    refuse,
    /// Forward the first N bytes (see cut_after) from the server on each connection,
    /// then close both sides with RST: a connection cut mid-response.
    cut_after,
  };

  /// Listens on 127.0.0.1 on a free port in mode pass; aborts the test run if it
  /// cannot.
  explicit tcp_proxy(uint16_t target_port);
  /// Stops the thread and closes every socket.
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  uint16_t port() const { return port_; }
  uint16_t target_port() const { return target_port_; }

  void pass() { apply(mode::pass, 0, false); }
  void stall() { apply(mode::stall, 0, false); }
  void refuse() { apply(mode::refuse, 0, false); }
  /// Closes every open connection now with RST, then forwards new ones (mode pass).
  void cut() { apply(mode::pass, 0, true); }
  /// Each connection, the open ones included, forwards `bytes` more bytes from the
  /// server, then is closed with RST.
  void cut_after(std::size_t bytes) { apply(mode::cut_after, bytes, false); }

  mode current_mode() const { return mode_.load(); }

  /// Connections accepted so far (those refused included).
  std::size_t accepted() const { return accepted_.load(); }
  /// Connections closed by the proxy itself (cut, refuse, cut_after).
  std::size_t cut_connections() const { return cut_.load(); }
  /// Connections open now.
  std::size_t open_connections() const { return open_.load(); }
  /// Bytes forwarded from clients to the server.
  uint64_t bytes_up() const { return bytes_up_.load(); }
  /// Bytes forwarded from the server to clients.
  uint64_t bytes_down() const { return bytes_down_.load(); }

private:
  struct link;
  void apply(mode m, std::size_t cut_after_bytes, bool cut_now);
  void run();

  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};

  // The command the caller posts; the thread applies it and bumps applied_.
  std::mutex mutex_;
  std::condition_variable applied_cv_;
  uint64_t posted_ = 0;
  uint64_t applied_ = 0;
  mode next_mode_ = mode::pass;
  std::size_t next_cut_after_ = 0;
  bool next_cut_now_ = false;
  bool stopping_ = false;

  std::atomic<mode> mode_{mode::pass};
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> cut_{0};
  std::atomic<std::size_t> open_{0};
  std::atomic<uint64_t> bytes_up_{0};
  std::atomic<uint64_t> bytes_down_{0};
  std::thread thread_;
};

} // namespace warren
