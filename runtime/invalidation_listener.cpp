#include "runtime/invalidation_listener.hpp"

#include <chrono>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <spdlog/spdlog.h>

#include "protocol/cache_invalidation.hpp"

namespace warren {

namespace {

constexpr amqp_channel_t channel = 1;

bool ok(amqp_connection_state_t conn, const char* what) {
  auto reply = amqp_get_rpc_reply(conn);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL)
    return true;
  spdlog::warn("cache invalidation listener: {} failed", what);
  return false;
}

} // namespace

invalidation_listener::invalidation_listener(amqp_endpoint endpoint,
                                             std::string exchange, std::string origin,
                                             apply_fn apply)
    : endpoint_(std::move(endpoint)), exchange_(std::move(exchange)),
      origin_(std::move(origin)), apply_(std::move(apply)) {}

invalidation_listener::~invalidation_listener() {
  stop();
}

void invalidation_listener::start() {
  thread_ = std::thread{[this] { run(); }};
}

void invalidation_listener::stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

void invalidation_listener::run() {
  auto backoff = std::chrono::milliseconds{500};
  while (!stop_) {
    if (consume_once())
      backoff = std::chrono::milliseconds{500};
    for (auto waited = std::chrono::milliseconds{0}; waited < backoff && !stop_;
         waited += std::chrono::milliseconds{100})
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    backoff = std::min(backoff * 2, std::chrono::milliseconds{10000});
  }
}

bool invalidation_listener::consume_once() {
  auto conn = amqp_new_connection();
  auto socket = amqp_tcp_socket_new(conn);
  bool consumed = false;
  timeval connect_timeout{
      static_cast<time_t>(endpoint_.connect_timeout.count() / 1000),
      static_cast<suseconds_t>((endpoint_.connect_timeout.count() % 1000) * 1000)};
  if (socket != nullptr &&
      amqp_socket_open_noblock(socket, endpoint_.host.c_str(), endpoint_.port,
                               &connect_timeout) == AMQP_STATUS_OK) {
    auto login = amqp_login(conn, "/", 0, 131072, 30, AMQP_SASL_METHOD_PLAIN,
                            endpoint_.user.c_str(), endpoint_.password.c_str());
    bool ready = login.reply_type == AMQP_RESPONSE_NORMAL;
    if (ready) {
      amqp_channel_open(conn, channel);
      ready = ok(conn, "channel.open");
    }
    auto exchange = amqp_cstring_bytes(exchange_.c_str());
    if (ready) {
      amqp_exchange_declare(conn, channel, exchange, amqp_cstring_bytes("fanout"), 0, 1,
                            0, 0, amqp_empty_table);
      ready = ok(conn, "exchange.declare");
    }
    amqp_bytes_t queue = amqp_empty_bytes;
    if (ready) {
      // Named after the instance, so that an operator listing queues sees whose it is;
      // exclusive and auto-delete, so it goes with the connection.
      auto name = exchange_ + "." + origin_;
      auto declared =
          amqp_queue_declare(conn, channel, amqp_cstring_bytes(name.c_str()), 0, 0, 1,
                             1, amqp_empty_table);
      ready = ok(conn, "queue.declare") && declared != nullptr;
      if (ready)
        queue = amqp_bytes_malloc_dup(declared->queue);
    }
    if (ready) {
      amqp_queue_bind(conn, channel, queue, exchange, amqp_empty_bytes,
                      amqp_empty_table);
      ready = ok(conn, "queue.bind");
    }
    if (ready) {
      amqp_basic_consume(conn, channel, queue, amqp_empty_bytes, 0, 1, 1,
                         amqp_empty_table);
      ready = ok(conn, "basic.consume");
    }
    if (ready)
      spdlog::info("cache invalidation listener bound to exchange {}", exchange_);
    std::vector<std::string> prefixes;
    while (ready && !stop_) {
      consumed = true;
      amqp_maybe_release_buffers(conn);
      amqp_envelope_t envelope;
      timeval wait{0, 200000};
      auto result = amqp_consume_message(conn, &envelope, &wait, 0);
      if (result.reply_type == AMQP_RESPONSE_NORMAL) {
        std::string body{static_cast<const char*>(envelope.message.body.bytes),
                         envelope.message.body.len};
        if (parse_invalidation(body, origin_, prefixes))
          apply_(prefixes);
        amqp_destroy_envelope(&envelope);
        continue;
      }
      if (result.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
          result.library_error == AMQP_STATUS_TIMEOUT)
        continue;
      spdlog::warn("cache invalidation listener lost its connection; reconnecting");
      break;
    }
    if (queue.bytes != nullptr)
      amqp_bytes_free(queue);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn);
  return consumed;
}

} // namespace warren
