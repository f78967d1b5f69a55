#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

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

/// A request to the AMQP backend: a publish or a get.
struct amqp_request {
  enum class kind : uint8_t { publish, get };
  kind what = kind::publish;
  amqp_publish publish;
  amqp_get get;
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
  return f(caf::meta::type_name("amqp_request"), x.what, x.publish, x.get, x.call);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, amqp_delivery& x) {
  return f(caf::meta::type_name("amqp_delivery"), x.body, x.redelivered, x.exchange,
           x.routing_key, x.message_count, x.content_type, x.content_encoding,
           x.headers_json, x.message_id, x.correlation_id, x.reply_to, x.expiration,
           x.delivery_mode, x.priority, x.timestamp);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, amqp_response& x) {
  return f(caf::meta::type_name("amqp_response"), x.result, x.reply_code, x.reply_text,
           x.messages, x.backend_ns);
}

} // namespace warren
