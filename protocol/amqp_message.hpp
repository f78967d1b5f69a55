#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "protocol/error.hpp"

namespace warren {

/// One message to publish over AMQP 0-9-1, with publisher confirms.
struct amqp_publish {
  std::string vhost = "/";
  std::string exchange; ///< "" is the default exchange
  std::string routing_key;
  std::string body; ///< raw bytes
  std::string content_type;
  std::string content_encoding;
  std::string headers_json; ///< a JSON object of header values, or "" for none
  bool persistent = true;   ///< delivery_mode 2
  bool mandatory = true;    ///< an unroutable message comes back as returned
  std::string message_id;
  std::string correlation_id;
  std::string reply_to;
  std::string expiration; ///< per-message TTL in ms, as text ("" = none)
  int priority = -1;      ///< 0..255, -1 = none
};

/// How basic.get treats what it took.
enum class ack_mode : uint8_t {
  ack,            ///< remove the messages from the queue
  reject_requeue, ///< put them back (a peek; they come back marked redelivered)
  reject_drop,    ///< drop them (dead-lettered if the queue says so)
};

/// Take up to `count` messages from a queue with basic.get.
struct amqp_get {
  std::string vhost = "/";
  std::string queue;
  uint32_t count = 1;
  ack_mode mode = ack_mode::reject_requeue;
};

/// A request to the AMQP backend: a publish, a get, or a batch of publishes.
struct amqp_request {
  /// publish_each: single publishes that the AMQP pool sends together, as a
  /// publish_batch in which each message stands alone (one that does not validate is
  /// not sent, and the others are).
  enum class kind : uint8_t { publish, get, publish_batch, publish_each };
  kind what = kind::publish;
  amqp_publish publish;
  amqp_get get;
  /// publish_batch and publish_each: the messages, all to the vhost of the first,
  /// published in order on one channel with at most `window` of them waiting for their
  /// confirm.
  std::vector<amqp_publish> batch;
  uint32_t window = 100;
  /// The tool call this request serves (see http_request::call); 0 for none.
  uint64_t call = 0;
};

/// One message basic.get returned.
struct amqp_delivery {
  std::string body; ///< raw bytes, complete
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  uint32_t message_count = 0; ///< messages left in the queue after this one
  std::string content_type;
  std::string content_encoding;
  std::string headers_json; ///< a JSON object, or "" when there were none
  std::string message_id;
  std::string correlation_id;
  std::string reply_to;
  std::string expiration;
  int delivery_mode = 0; ///< 1 transient, 2 persistent, 0 unset
  int priority = -1;
  int64_t timestamp = -1; ///< seconds since the epoch, -1 unset
};

/// What became of one message of a publish_batch.
struct amqp_confirm {
  enum class status : uint8_t {
    confirmed, ///< the broker acked it
    returned,  ///< mandatory and unroutable (acked, but no queue has it)
    nacked,    ///< the broker refused it; not stored
    not_sent,  ///< never sent: certainly not published
    unknown,   ///< sent, but the confirm never came: it may or may not be stored
  };
  status what = status::not_sent;
  uint16_t reply_code = 0;
  std::string reply_text; ///< why, for every status but confirmed
  /// not_sent and unknown: the error a publish of this message alone would have
  /// failed with (backend_unreachable, backend_timeout, broker_refused, cancelled, or
  /// invalid_params for a message that does not validate).
  ec error = ec::none;
};

/// What the broker said.
struct amqp_response {
  enum class outcome : uint8_t {
    confirmed, ///< publish: the broker acked it (it is safely enqueued/routed)
    returned,  ///< publish: mandatory and unroutable; reply_code/reply_text say why
    nacked,    ///< publish: the broker refused it (internal error); not stored
    delivered, ///< get: `messages` holds what was taken (maybe none: queue empty)
  };
  outcome result = outcome::confirmed;
  uint16_t reply_code = 0;
  std::string reply_text;
  std::vector<amqp_delivery> messages;
  std::vector<amqp_confirm> confirms; ///< publish_batch: one per message, in order
  /// publish_batch: the connection failed or overran its deadline part way, which
  /// counts as a backend failure (for the circuit breaker).
  bool broken = false;
  uint64_t backend_ns = 0; ///< time on the wire and at the broker
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, amqp_publish& x) {
  return f(caf::meta::type_name("amqp_publish"), x.vhost, x.exchange, x.routing_key,
           x.body, x.content_type, x.content_encoding, x.headers_json, x.persistent,
           x.mandatory, x.message_id, x.correlation_id, x.reply_to, x.expiration,
           x.priority);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, amqp_get& x) {
  return f(caf::meta::type_name("amqp_get"), x.vhost, x.queue, x.count, x.mode);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, amqp_request& x) {
  return f(caf::meta::type_name("amqp_request"), x.what, x.publish, x.get, x.batch,
           x.window, x.call);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, amqp_delivery& x) {
  return f(caf::meta::type_name("amqp_delivery"), x.body, x.redelivered, x.exchange,
           x.routing_key, x.message_count, x.content_type, x.content_encoding,
           x.headers_json, x.message_id, x.correlation_id, x.reply_to, x.expiration,
           x.delivery_mode, x.priority, x.timestamp);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, amqp_confirm& x) {
  return f(caf::meta::type_name("amqp_confirm"), x.what, x.reply_code, x.reply_text,
           x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, amqp_response& x) {
  return f(caf::meta::type_name("amqp_response"), x.result, x.reply_code, x.reply_text,
           x.messages, x.confirms, x.broken, x.backend_ns);
}

} // namespace warren
