#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "config/settings.hpp"
#include "protocol/http_message.hpp"

namespace warren {

/// A blocking HTTP/1.1 client on one kept-alive TCP connection to the management API
/// (Boost.Beast). Used only from a connection actor's own thread. Every call has a
/// deadline; nothing blocks past it.
class http_client {
public:
  /// `user`/`password` become a Basic Authorization header; they are never logged.
  http_client(http_endpoint endpoint, const std::string& user,
              const std::string& password, std::chrono::milliseconds connect_timeout);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends `request` (target below the endpoint's base path) and reads the answer,
  /// connecting first if needed. If a reused connection turns out to have been closed
  /// by the server before any answer arrived, sends once more on a fresh connection.
  /// Errors (warren::ec): backend_unreachable (refused, reset, closed),
  /// backend_timeout (deadline passed; the connection is closed), backend_protocol
  /// (not HTTP). The error message never contains the credentials.
  caf::expected<http_response> send(const http_request& request,
                                    std::chrono::milliseconds timeout);

  /// True while a connection is open.
  bool connected() const;

  /// Closes the connection (the next send reconnects).
  void close();

  /// Makes a send in progress on another thread return at once, and every later send
  /// fail, with ec::cancelled. The one method that may be called from any thread.
  void abort();

  /// How many TCP connections this client has opened, and how many requests went over
  /// an already open one: reuse = requests - connects.
  std::size_t connects() const;
  std::size_t requests() const;

private:
  caf::expected<http_response> send_unguarded(const http_request& request,
                                              std::chrono::milliseconds timeout);

  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace warren
