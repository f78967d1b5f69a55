#include "runtime/http_client.hpp"

#include <atomic>

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "protocol/error.hpp"

namespace warren {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

constexpr std::uint64_t max_body_bytes = 64u << 20;
// RabbitMQ's headers are small; the default 8 KiB leaves little room for proxies.
constexpr std::uint32_t max_header_bytes = 64u << 10;
constexpr const char* user_agent = "warren/0.1.0";

std::string basic_credentials(const std::string& user, const std::string& password) {
  auto plain = user + ':' + password;
  std::string out(beast::detail::base64::encoded_size(plain.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), plain.data(), plain.size()));
  return "Basic " + out;
}

long long millis(std::chrono::milliseconds d) {
  return static_cast<long long>(d.count());
}

// "host:port" as the Host header wants it: an IPv6 literal goes in brackets.
std::string authority(const http_endpoint& ep) {
  auto host = ep.host.find(':') == std::string::npos ? ep.host : '[' + ep.host + ']';
  return host + ':' + std::to_string(ep.port);
}

// A short phrase for the usual socket errors; the system's text otherwise.
std::string describe(const beast::error_code& err) {
  if (err == net::error::connection_refused)
    return "connection refused";
  if (err == net::error::connection_reset)
    return "connection reset";
  if (err == net::error::host_not_found || err == net::error::host_not_found_try_again)
    return "host not found";
  if (err == net::error::network_unreachable)
    return "network unreachable";
  if (err == net::error::host_unreachable)
    return "host unreachable";
  if (err == net::error::broken_pipe)
    return "broken pipe";
  if (err == net::error::eof || err == http::error::end_of_stream)
    return "closed by the server";
  return err.message();
}

} // namespace

struct http_client::impl {
  impl(http_endpoint ep, std::string auth, std::chrono::milliseconds connect_timeout)
      : endpoint(std::move(ep)), where(authority(endpoint)),
        authorization(std::move(auth)), connect_timeout(connect_timeout),
        resolver(ioc) {
    // Beast reads as much as the buffer has room for; a small buffer turns one answer
    // into many 512-byte reads.
    buffer.reserve(64 * 1024);
  }

  http_endpoint endpoint;
  std::string where; ///< "host:port", for the Host header and messages
  std::string authorization;
  std::chrono::milliseconds connect_timeout;
  std::size_t connects = 0;
  std::size_t requests = 0;
  std::atomic<bool> aborted{false};

  // Declared first so that it outlives the I/O objects bound to it.
  net::io_context ioc;
  tcp::resolver resolver;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  bool is_open() const { return stream && stream->socket().is_open(); }

  void close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->socket().close(ignored);
      stream.reset();
    }
    buffer.clear();
  }

  // Drives the private io_context until `done`. The stream's own expiry ends every
  // socket operation at its deadline; `hard_stop` only guards against an operation
  // that ignores it: past it the socket is closed, which completes everything on it,
  // and the result is false (count it as a timeout).
  bool run_until(const bool& done, clock_type::time_point hard_stop) {
    ioc.restart();
    while (!done) {
      auto now = clock_type::now();
      if (now >= hard_stop) {
        if (stream) {
          beast::error_code ignored;
          stream->socket().close(ignored);
        }
        // Operations on a closed socket complete at once (aborted); their handlers
        // refer to the caller's stack, so they must run before it returns.
        while (!done)
          ioc.run_one();
        return false;
      }
      ioc.run_one_for(hard_stop - now);
    }
    return true;
  }

  caf::error unreachable(const beast::error_code& err) const {
    if (err == net::error::host_not_found ||
        err == net::error::host_not_found_try_again)
      return make_error(ec::backend_unreachable,
                        "cannot reach the RabbitMQ management API at " + where +
                            " (host not found); check the host in "
                            "RABBITMQ_MANAGEMENT_URL");
    return make_error(
        ec::backend_unreachable,
        "cannot reach the RabbitMQ management API at " + where + " (" + describe(err) +
            "); is the broker running and the management plugin enabled?");
  }

  caf::error answer_timeout(std::chrono::milliseconds timeout) const {
    return make_error(ec::backend_timeout, "the management API at " + where +
                                               " did not answer within " +
                                               std::to_string(millis(timeout)) + " ms");
  }

  caf::error connect(clock_type::time_point deadline) {
    close();
    auto connect_deadline = std::min(deadline, clock_type::now() + connect_timeout);
    auto bound = std::chrono::duration_cast<std::chrono::milliseconds>(
        connect_deadline - clock_type::now());
    auto connect_timed_out = [&] {
      return make_error(
          ec::backend_timeout,
          "the management API at " + where + " did not accept a connection within " +
              std::to_string(std::max<long long>(0, millis(bound))) + " ms");
    };
    // The resolver has no expiry of its own and a late completion may arrive after
    // we gave up, so its handler owns what it writes to.
    struct resolve_state {
      bool done = false;
      beast::error_code err;
      tcp::resolver::results_type results;
    };
    auto rs = std::make_shared<resolve_state>();
    resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                           [rs](beast::error_code err, tcp::resolver::results_type r) {
                             rs->done = true;
                             rs->err = err;
                             rs->results = std::move(r);
                           });
    ioc.restart();
    while (!rs->done) {
      auto now = clock_type::now();
      if (now >= connect_deadline)
        break;
      ioc.run_one_for(connect_deadline - now);
    }
    if (!rs->done) {
      resolver.cancel();
      return connect_timed_out();
    }
    if (rs->err)
      return unreachable(rs->err);
    stream.emplace(ioc);
    stream->expires_at(connect_deadline);
    bool done = false;
    beast::error_code err;
    stream->async_connect(rs->results, [&](beast::error_code e, const tcp::endpoint&) {
      err = e;
      done = true;
    });
    if (!run_until(done, connect_deadline + std::chrono::seconds(1)))
      err = beast::error::timeout;
    if (err == beast::error::timeout) {
      close();
      return connect_timed_out();
    }
    if (err) {
      close();
      return unreachable(err);
    }
    beast::error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
    ++connects;
    return {};
  }

  // Reads the response header (or the rest of the response) into `parser`; an
  // operation the deadline did not end reports as a timeout too.
  beast::error_code read_part(http::response_parser<http::string_body>& parser,
                              clock_type::time_point deadline,
                              clock_type::time_point hard_stop, bool header_only) {
    bool done = false;
    beast::error_code err;
    auto on_read = [&](beast::error_code e, std::size_t) {
      err = e;
      done = true;
    };
    stream->expires_at(deadline);
    if (header_only)
      http::async_read_header(*stream, buffer, parser, on_read);
    else
      http::async_read(*stream, buffer, parser, on_read);
    if (!run_until(done, hard_stop))
      return beast::error::timeout;
    return err;
  }

  // One write and read on the open connection. `stale` is set when the failure looks
  // like a connection the server had already closed: nothing of an answer arrived.
  caf::expected<http_response> exchange(const http::request<http::string_body>& req,
                                        clock_type::time_point deadline,
                                        std::chrono::milliseconds timeout,
                                        bool& stale) {
    stale = false;
    auto hard_stop = deadline + std::chrono::seconds(1);
    ++requests;
    bool done = false;
    beast::error_code err;
    stream->expires_at(deadline);
    http::async_write(*stream, req, [&](beast::error_code e, std::size_t) {
      err = e;
      done = true;
    });
    if (!run_until(done, hard_stop))
      err = beast::error::timeout;
    if (err == beast::error::timeout) {
      close();
      return answer_timeout(timeout);
    }
    if (err) {
      close();
      stale = true;
      return unreachable(err);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body_bytes);
    parser.header_limit(max_header_bytes);
    // Header first: Beast 1.74's eager parse (what async_read sets up) loses the
    // body_limit error of a too large Content-Length; a header-only read reports it,
    // and the explicit check keeps that true whatever Beast does.
    err = read_part(parser, deadline, hard_stop, true);
    if (!err && parser.content_length() && *parser.content_length() > max_body_bytes)
      err = http::error::body_limit;
    if (!err && !parser.is_done())
      err = read_part(parser, deadline, hard_stop, false);
    if (err) {
      bool nothing_arrived = !parser.got_some() && buffer.size() == 0;
      close();
      if (err == beast::error::timeout)
        return answer_timeout(timeout);
      if (err == http::error::body_limit)
        return make_error(ec::backend_protocol,
                          "the management API answer exceeds 64 MiB; ask for a "
                          "smaller page or fewer columns");
      if (err == http::error::end_of_stream ||
          (nothing_arrived &&
           (err == net::error::eof || err == net::error::connection_reset))) {
        stale = true;
        return unreachable(err);
      }
      if (err == http::error::partial_message || err == net::error::eof ||
          err == net::error::connection_reset)
        return make_error(ec::backend_unreachable,
                          "the management API at " + where +
                              " closed the connection in the middle of its answer (" +
                              describe(err) + ")");
      if (err.category() == http::make_error_code(http::error::bad_version).category())
        return make_error(ec::backend_protocol,
                          "the management API at " + where +
                              " answered with something that is not HTTP (" +
                              err.message() + "); check RABBITMQ_MANAGEMENT_URL");
      return unreachable(err);
    }
    auto& msg = parser.get();
    http_response res;
    res.status = static_cast<int>(msg.result_int());
    res.body = std::move(msg.body());
    if (!msg.keep_alive())
      close();
    return res;
  }
};

http_client::http_client(http_endpoint endpoint, const std::string& user,
                         const std::string& password,
                         std::chrono::milliseconds connect_timeout)
    : impl_(std::make_unique<impl>(
          std::move(endpoint), basic_credentials(user, password), connect_timeout)) {}

http_client::~http_client() {
  impl_->close();
}

caf::expected<http_response> http_client::send(const http_request& request,
                                               std::chrono::milliseconds timeout) {
  auto shutting_down = [] {
    return make_error(ec::cancelled, "warren is shutting down; the call was abandoned");
  };
  if (impl_->aborted)
    return shutting_down();
  auto result = send_unguarded(request, timeout);
  if (!result && impl_->aborted)
    return shutting_down();
  return result;
}

void http_client::abort() {
  impl_->aborted = true;
  // Runs on the thread inside send() (or at its next start): closing the socket
  // completes every operation on it at once.
  net::post(impl_->ioc, [d = impl_.get()] {
    if (d->stream) {
      beast::error_code ignored;
      d->stream->socket().close(ignored);
    }
  });
}

caf::expected<http_response>
http_client::send_unguarded(const http_request& request,
                            std::chrono::milliseconds timeout) {
  try {
    auto& d = *impl_;
    auto deadline = clock_type::now() + timeout;
    auto verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown)
      return make_error(ec::internal, "unknown HTTP method '" + request.method + "'");
    auto target = d.endpoint.base_path + request.target;
    if (target.empty())
      target = "/";
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, d.where);
    req.set(http::field::authorization, d.authorization);
    // The broker answers 406 to some DELETEs (purge) that accept only JSON.
    req.set(http::field::accept, "application/json, */*;q=0.5");
    req.set(http::field::user_agent, user_agent);
    if (!request.body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = request.body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    // A server closes idle keep-alive connections at will; the first request on a
    // reused one may find it gone, so that one (and only that one) goes again.
    for (int attempt = 0;; ++attempt) {
      bool reused = d.is_open();
      if (!reused)
        if (auto err = d.connect(deadline))
          return err;
      bool stale = false;
      auto res = d.exchange(req, deadline, timeout, stale);
      if (res || !stale || !reused || attempt > 0)
        return res;
    }
  } catch (const std::exception& e) {
    impl_->close();
    return make_error(ec::internal,
                      std::string{"the management API client failed: "} + e.what());
  }
}

bool http_client::connected() const {
  return impl_->is_open();
}

void http_client::close() {
  impl_->close();
}

std::size_t http_client::connects() const {
  return impl_->connects;
}

std::size_t http_client::requests() const {
  return impl_->requests;
}

} // namespace warren
