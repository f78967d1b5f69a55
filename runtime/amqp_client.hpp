#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "protocol/amqp_message.hpp"

namespace warren {

/// Where and as whom to connect over AMQP 0-9-1; the vhost is chosen per client.
struct amqp_endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 5672;
  std::string user = "guest";
  std::string password = "guest"; ///< never logged or put in an error
  std::chrono::milliseconds connect_timeout{5000};
  uint16_t heartbeat_seconds = 30;
};

/// Parses an amqp:// URL ("amqp://user:pass@host:port/vhost"); the vhost is ignored
/// (warren opens one connection per vhost it needs). Errors name what is wrong,
/// without the password.
caf::expected<amqp_endpoint> parse_amqp_url(const std::string& url);

/// A blocking AMQP 0-9-1 client (rabbitmq-c) on one connection to one vhost, with one
/// channel in confirm mode. Used only from a connection actor's own thread. Every call
/// has a deadline; nothing blocks past it.
class amqp_client {
public:
  amqp_client(amqp_endpoint endpoint, std::string vhost);
  ~amqp_client();
  amqp_client(const amqp_client&) = delete;
  amqp_client& operator=(const amqp_client&) = delete;

  /// Publishes and waits for the broker's confirm. A mandatory message that no queue
  /// takes comes back as outcome::returned; a nack as outcome::nacked. A channel the
  /// broker closes (e.g. 404 no such exchange) is replaced for the next call and the
  /// call fails with ec::broker_refused carrying the broker's reply text. If the
  /// connection fails after the message was sent and before its confirm, the error
  /// (ec::backend_unreachable) says the outcome is unknown; it is never retried here.
  caf::expected<amqp_response> publish(const amqp_publish& message,
                                       std::chrono::milliseconds timeout);

  /// Publishes `messages` in order, all to this client's vhost, keeping at most
  /// `window` (at least 1) of them waiting for their confirm. Fails as a whole only
  /// when nothing was sent: a message that does not validate (the error names its
  /// index), a connection that cannot be made, a broker blocking publishers, abort().
  /// Otherwise `confirms` holds one entry per message, in order: confirmed, nacked,
  /// returned (mandatory and unroutable, matched by message_id, else by exchange and
  /// routing key), or, when the channel or connection failed, abort() was called or
  /// the deadline passed, unknown (sent, never confirmed) and not_sent; reply_text
  /// says why, and the response's reply_code/reply_text say what stopped the batch.
  /// A closed channel is replaced for the next call, as for publish.
  caf::expected<amqp_response> publish_batch(const std::vector<amqp_publish>& messages,
                                             uint32_t window,
                                             std::chrono::milliseconds timeout);

  /// publish_batch for messages that are not one batch but single publishes sent
  /// together: one that does not validate is not sent (its confirm is not_sent with
  /// ec::invalid_params) and the others are. Each confirm that is not_sent or unknown
  /// carries the error the message alone would have got.
  caf::expected<amqp_response> publish_each(const std::vector<amqp_publish>& messages,
                                            uint32_t window,
                                            std::chrono::milliseconds timeout);

  /// basic.get up to `count` messages, then acks, or rejects with or without requeue,
  /// as asked. Errors as for publish (404 no such queue → ec::broker_refused).
  caf::expected<amqp_response> get(const amqp_get& request,
                                   std::chrono::milliseconds timeout);

  /// Makes a call in progress on another thread return at once, and every later call
  /// fail, with ec::cancelled. The one method that may be called from any thread.
  void abort();

  bool connected() const;
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace warren
