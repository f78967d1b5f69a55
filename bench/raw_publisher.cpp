// warren_raw_publisher: the broker's publish rate with publisher confirms, measured
// with rabbitmq-c alone, as the yardstick for warren's batch_publish_messages.
//
//   warren_raw_publisher --url amqp://guest:guest@127.0.0.1:5672/%2f --routing-key Q
//                        [--messages 1000] [--size 256] [--window 100] [--transient]
//                        [--rounds]
//
// One connection, one channel in confirm mode, messages of --size bytes to the default
// exchange (or --exchange) with at most --window of them unconfirmed, mandatory like
// warren's publish_message. With --rounds it publishes --window messages and waits
// for all their confirms before the next --window, as one batch call at a time does;
// without, it sends the next message as soon as one is confirmed. The clock runs from
// the first publish to the last confirm (connecting is not timed). Prints one JSON
// line:
// {"messages":N,"nacked":K,"returned":R,"seconds":S,"msgs_per_s":M}. Exit code 0 when
// every message was confirmed (ack) and routed, 1 on a failure, a nack or a return,
// 2 for bad usage.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

namespace {

constexpr amqp_channel_t channel = 1;

struct options {
  std::string url = "amqp://guest:guest@127.0.0.1:5672/%2f";
  std::string exchange;
  std::string routing_key;
  std::size_t messages = 1000;
  std::size_t size = 256;
  std::size_t window = 100;
  bool transient = false;
  bool rounds = false;
};

// True when an RPC reply is a success; prints what went wrong otherwise.
bool rpc_ok(amqp_rpc_reply_t reply, const char* what) {
  if (reply.reply_type == AMQP_RESPONSE_NORMAL)
    return true;
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
    std::fprintf(stderr, "warren_raw_publisher: %s: %s\n", what,
                 amqp_error_string2(reply.library_error));
  else
    std::fprintf(stderr, "warren_raw_publisher: %s: the broker refused (method %08x)\n",
                 what, reply.reply.id);
  return false;
}

// Tracks which delivery tags (1..N) are confirmed; an ack or nack with `multiple`
// settles every tag up to its own.
class confirm_tracker {
public:
  explicit confirm_tracker(std::size_t n) : settled_(n + 1, false) {}

  void settle(uint64_t tag, bool multiple, bool nack) {
    if (tag >= settled_.size())
      return; // not one of ours; the broker never sends it
    uint64_t from = multiple ? lowest_ : tag;
    for (uint64_t t = from; t <= tag; ++t) {
      if (!settled_[t]) {
        settled_[t] = true;
        ++count_;
        nacked_ += nack ? 1 : 0;
      }
    }
    while (lowest_ < settled_.size() && settled_[lowest_])
      ++lowest_;
  }

  std::size_t settled() const { return count_; }
  std::size_t nacked() const { return nacked_; }

private:
  std::vector<bool> settled_; ///< by delivery tag; tag 0 is unused
  uint64_t lowest_ = 1;       ///< the lowest tag not settled yet
  std::size_t count_ = 0;
  std::size_t nacked_ = 0;
};

// Publishes and waits for confirms; false (with a message printed) on any failure.
bool publish_all(amqp_connection_state_t conn, const options& opts, double& seconds,
                 std::size_t& nacked, std::size_t& returned) {
  std::string body(opts.size, 'x');
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.delivery_mode = opts.transient ? 1 : 2;
  auto exchange = amqp_cstring_bytes(opts.exchange.c_str());
  auto key = amqp_cstring_bytes(opts.routing_key.c_str());
  amqp_bytes_t payload{body.size(), body.data()};

  confirm_tracker confirms{opts.messages};
  std::size_t sent = 0;
  auto start = std::chrono::steady_clock::now();
  while (confirms.settled() < opts.messages) {
    auto room = [&] {
      return opts.rounds ? sent == confirms.settled() || sent % opts.window != 0
                         : sent - confirms.settled() < opts.window;
    };
    while (sent < opts.messages && room()) {
      int status =
          amqp_basic_publish(conn, channel, exchange, key, 1, 0, &props, payload);
      if (status != AMQP_STATUS_OK) {
        std::fprintf(stderr, "warren_raw_publisher: publish: %s\n",
                     amqp_error_string2(status));
        return false;
      }
      ++sent;
    }
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame(conn, &frame);
    if (status != AMQP_STATUS_OK) {
      std::fprintf(stderr, "warren_raw_publisher: waiting for confirms: %s\n",
                   amqp_error_string2(status));
      return false;
    }
    if (frame.frame_type != AMQP_FRAME_METHOD)
      continue;
    auto id = frame.payload.method.id;
    if (id == AMQP_BASIC_ACK_METHOD) {
      auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      confirms.settle(ack->delivery_tag, ack->multiple != 0, false);
    } else if (id == AMQP_BASIC_NACK_METHOD) {
      auto* nack = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
      confirms.settle(nack->delivery_tag, nack->multiple != 0, true);
    } else if (id == AMQP_BASIC_RETURN_METHOD) {
      ++returned; // no queue took it; its header and body frames follow, ignored
    } else if (id == AMQP_CHANNEL_CLOSE_METHOD || id == AMQP_CONNECTION_CLOSE_METHOD) {
      std::fprintf(stderr, "warren_raw_publisher: the broker closed the %s\n",
                   id == AMQP_CHANNEL_CLOSE_METHOD ? "channel" : "connection");
      return false;
    }
    amqp_maybe_release_buffers(conn);
  }
  seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nacked = confirms.nacked();
  return true;
}

int run(const options& opts) {
  std::vector<char> url(opts.url.begin(), opts.url.end());
  url.push_back('\0');
  amqp_connection_info info;
  if (amqp_parse_url(url.data(), &info) != AMQP_STATUS_OK) {
    std::fprintf(stderr, "warren_raw_publisher: cannot parse --url '%s'\n",
                 opts.url.c_str());
    return 2;
  }
  amqp_connection_state_t conn = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(conn);
  int code = 1;
  double seconds = 0;
  std::size_t nacked = 0, returned = 0;
  if (!socket || amqp_socket_open(socket, info.host, info.port) != AMQP_STATUS_OK) {
    std::fprintf(stderr, "warren_raw_publisher: cannot connect to %s:%d\n", info.host,
                 info.port);
  } else if (rpc_ok(amqp_login(conn, info.vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0,
                               AMQP_SASL_METHOD_PLAIN, info.user, info.password),
                    "login") &&
             amqp_channel_open(conn, channel) &&
             rpc_ok(amqp_get_rpc_reply(conn), "channel.open") &&
             amqp_confirm_select(conn, channel) &&
             rpc_ok(amqp_get_rpc_reply(conn), "confirm.select") &&
             publish_all(conn, opts, seconds, nacked, returned)) {
    std::printf("{\"messages\":%zu,\"nacked\":%zu,\"returned\":%zu,\"seconds\":%.6f,"
                "\"msgs_per_s\":%.1f}\n",
                opts.messages, nacked, returned, seconds,
                seconds > 0 ? static_cast<double>(opts.messages) / seconds : 0.0);
    code = nacked == 0 && returned == 0 ? 0 : 1;
    amqp_channel_close(conn, channel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn);
  return code;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  CLI::App app{"Publishes with confirms straight through rabbitmq-c, for comparison"};
  app.add_option("--url", opts.url, "amqp://user:password@host:port/vhost");
  app.add_option("--exchange", opts.exchange,
                 "exchange (default: the default exchange)");
  app.add_option("--routing-key", opts.routing_key, "routing key (the queue's name)")
      ->required();
  app.add_option("--messages", opts.messages, "messages to publish")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
  app.add_option("--size", opts.size, "body bytes per message");
  app.add_option("--window", opts.window, "most messages waiting for their confirm")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  app.add_flag("--transient", opts.transient,
               "delivery mode 1 (default: persistent, delivery mode 2)");
  app.add_flag("--rounds", opts.rounds,
               "send --window, wait for all their confirms, and so on");
  CLI11_PARSE(app, argc, argv);
  return run(opts);
}
