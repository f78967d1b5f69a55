#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace warren {

/// Where the Redis L2 cache lives.
struct redis_endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  int db = 0;
  std::string password; ///< never logged or put in an error
  std::chrono::milliseconds connect_timeout{1000};
};

/// Parses redis://[:password@]host[:port][/db]. Errors name what is wrong, without
/// the password.
caf::expected<redis_endpoint> parse_redis_url(const std::string& url);

/// A blocking Redis client (hiredis) on one connection, used only from its actor's own
/// thread. Every call has a deadline. Keys are used as given (the caller namespaces
/// them). Errors: ec::backend_unreachable (refused, reset: the next call reconnects),
/// ec::backend_timeout (the connection is dropped), ec::backend_protocol.
class redis_client {
public:
  explicit redis_client(redis_endpoint endpoint);
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  /// The value, or nullopt when the key is absent.
  caf::expected<std::optional<std::string>> get(const std::string& key,
                                                std::chrono::milliseconds timeout);

  /// SET key value PX ttl.
  caf::error set(const std::string& key, const std::string& value,
                 std::chrono::milliseconds ttl, std::chrono::milliseconds timeout);

  /// Deletes every key that starts with one of `prefixes` (SCAN MATCH with the glob
  /// characters of the prefix escaped, then UNLINK); returns how many went.
  caf::expected<uint64_t> erase_prefixes(const std::vector<std::string>& prefixes,
                                         std::chrono::milliseconds timeout);

  /// Makes a call in progress on another thread return at once, and every later call
  /// fail with ec::cancelled. The one method that may be called from any thread.
  void abort();

  bool connected() const;
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace warren
