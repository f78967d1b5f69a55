#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/amqp_client.hpp"

namespace warren {

/// Keeps the caches of several warren instances coherent through RabbitMQ itself:
/// each instance publishes the key prefixes its writes invalidate on a fanout exchange
/// (protocol/cache_invalidation.hpp), and this listener, on its own thread and AMQP
/// connection, binds a private queue to that exchange and hands every peer's prefixes
/// to `apply`. It reconnects with backoff when the broker goes away; while it is away,
/// peers' writes are missed and the cache's time to live bounds the staleness.
class invalidation_listener {
public:
  using apply_fn = std::function<void(std::vector<std::string> prefixes)>;

  invalidation_listener(amqp_endpoint endpoint, std::string exchange,
                        std::string origin, apply_fn apply);
  ~invalidation_listener();
  invalidation_listener(const invalidation_listener&) = delete;
  invalidation_listener& operator=(const invalidation_listener&) = delete;

  void start();
  /// Stops and joins the thread (within about 200 ms).
  void stop();

private:
  void run();
  bool consume_once(); ///< one connection's life; false if it never got going

  amqp_endpoint endpoint_;
  std::string exchange_;
  std::string origin_;
  apply_fn apply_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace warren
