#include "tests/kit/http_probe.hpp"

#include <cctype>
#include <charconv>
#include <thread>

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <rapidjson/document.h>

#include "protocol/error.hpp"
#include "tests/kit/mcp_client.hpp"

namespace warren {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using response_parser = http::response_parser<http::string_body>;

// Larger than any answer a test provokes; a runaway body still ends.
constexpr std::uint64_t body_limit = 256u << 20;

std::string lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Every probe on a thread runs its operations to completion on the thread's one I/O
// context: no thread of its own, and only a socket per connection.
net::io_context& thread_context() {
  thread_local net::io_context ioc;
  return ioc;
}

// Runs the operation `start` begins until it completes (the stream's timer bounds
// it); returns its error.
template <class Start>
beast::error_code run_op(beast::tcp_stream& stream, std::chrono::milliseconds timeout,
                         Start start) {
  beast::error_code result = net::error::would_block;
  stream.expires_after(timeout);
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  auto& ioc = thread_context();
  ioc.restart();
  ioc.run();
  return result;
}

http_probe_response to_response(const http::response<http::string_body>& msg) {
  http_probe_response r;
  r.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg)
    r.headers.emplace_back(std::string{field.name_string()},
                           std::string{field.value()});
  r.body = msg.body();
  if (r.is_sse())
    r.events = parse_sse(r.body);
  return r;
}

// Takes the first complete event out of `pending` (a stream's unparsed text), if
// there is one; blocks holding only comments are dropped on the way.
std::optional<sse_event> take_event(std::string& pending) {
  sse_event event;
  bool has_data = false;
  std::size_t pos = 0;
  while (pos < pending.size()) {
    auto nl = pending.find('\n', pos);
    if (nl == std::string::npos)
      return std::nullopt; // the line is not complete yet
    std::string_view line{pending.data() + pos, nl - pos};
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty()) {
      if (has_data) {
        pending.erase(0, pos);
        if (event.name.empty())
          event.name = "message";
        return event;
      }
      pending.erase(0, pos);
      pos = 0;
      event = sse_event{};
      continue;
    }
    if (line.front() == ':')
      continue;
    auto colon = line.find(':');
    auto field = line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    if (field == "event") {
      event.name = std::string{value};
    } else if (field == "data") {
      if (has_data)
        event.data += '\n';
      event.data += value;
      has_data = true;
    }
  }
  return std::nullopt;
}

} // namespace

std::vector<sse_event> parse_sse(std::string_view text) {
  std::vector<sse_event> events;
  std::string pending{text};
  while (auto event = take_event(pending))
    events.push_back(std::move(*event));
  return events;
}

std::optional<std::string> http_probe_response::header(std::string_view name) const {
  auto wanted = lower(name);
  for (const auto& [key, value] : headers)
    if (lower(key) == wanted)
      return value;
  return std::nullopt;
}

std::string http_probe_response::media_type() const {
  auto type = header("Content-Type");
  if (!type)
    return {};
  auto bare = type->substr(0, type->find(';'));
  while (!bare.empty() && bare.back() == ' ')
    bare.pop_back();
  return lower(bare);
}

// -- http_probe ---------------------------------------------------------------------

struct http_probe::impl {
  impl(std::string h, uint16_t p)
      : host(std::move(h)), port(p), stream(thread_context()) {}

  std::string host;
  uint16_t port;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool open = false;
  // The response open_stream() began, and its body text not yet taken as events.
  std::optional<response_parser> streaming;
  std::string pending;
  bool ended = false;

  void close() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    buffer.clear();
    open = false;
    streaming.reset();
    pending.clear();
  }

  // A kept-alive connection the server has closed (or written to unasked) since the
  // last answer reads as ready: it is not reused.
  bool peer_went_away() {
    if (!open || !stream.socket().is_open())
      return true;
    pollfd p{stream.socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  std::string where() const { return host + ":" + std::to_string(port); }
};

http_probe::http_probe(std::string host, uint16_t port)
    : impl_(std::make_unique<impl>(std::move(host), port)) {
  // nop
}

http_probe::~http_probe() {
  impl_->close();
}

caf::error http_probe::connect(std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  p.close();
  beast::error_code ec;
  auto address = net::ip::make_address(p.host, ec);
  if (ec)
    return make_error(ec::internal,
                      "http_probe: '" + p.host + "' is not an IP address");
  tcp::endpoint endpoint{address, p.port};
  ec = run_op(p.stream, timeout,
              [&](auto handler) { p.stream.async_connect(endpoint, handler); });
  if (ec)
    return make_error(ec::backend_unreachable, "http_probe: cannot connect to " +
                                                   p.where() + ": " + ec.message());
  p.open = true;
  return {};
}

bool http_probe::is_open() const {
  return impl_->open;
}

void http_probe::close() {
  impl_->close();
}

caf::error http_probe::write_request(std::string_view method, std::string_view target,
                                     const http_fields& headers, std::string_view body,
                                     std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  p.streaming.reset();
  p.pending.clear();
  p.ended = false;
  if (p.peer_went_away())
    if (auto err = connect(timeout))
      return err;
  http::request<http::string_body> req;
  req.version(11);
  auto verb = http::string_to_verb(beast::string_view{method.data(), method.size()});
  if (verb == http::verb::unknown)
    req.method_string(beast::string_view{method.data(), method.size()});
  else
    req.method(verb);
  req.target(beast::string_view{target.data(), target.size()});
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    req.insert(name, value);
    has_host = has_host || lower(name) == "host";
  }
  if (!has_host)
    req.set(http::field::host, p.where());
  req.body() = std::string{body};
  req.prepare_payload();
  auto ec = run_op(p.stream, timeout,
                   [&](auto handler) { http::async_write(p.stream, req, handler); });
  if (ec) {
    p.close();
    return make_error(ec::backend_unreachable, "http_probe: cannot send " +
                                                   std::string{method} + " " +
                                                   std::string{target} + " to " +
                                                   p.where() + ": " + ec.message());
  }
  return {};
}

caf::expected<http_probe_response>
http_probe::read_response(std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  if (!p.open)
    return make_error(ec::internal, "http_probe: no request was sent");
  response_parser parser;
  parser.body_limit(body_limit);
  auto ec = run_op(p.stream, timeout, [&](auto handler) {
    http::async_read(p.stream, p.buffer, parser, handler);
  });
  if (ec) {
    p.close();
    return make_error(
        ec == beast::error::timeout ? ec::backend_timeout : ec::backend_unreachable,
        "http_probe: no response from " + p.where() + ": " + ec.message());
  }
  auto msg = parser.release();
  if (!msg.keep_alive())
    p.close();
  return to_response(msg);
}

caf::expected<http_probe_response> http_probe::send(std::string_view method,
                                                    std::string_view target,
                                                    const http_fields& headers,
                                                    std::string_view body,
                                                    std::chrono::milliseconds timeout) {
  if (auto err = write_request(method, target, headers, body, timeout))
    return err;
  return read_response(timeout);
}

caf::expected<http_probe_response>
http_probe::open_stream(std::string_view method, std::string_view target,
                        const http_fields& headers, std::string_view body,
                        std::chrono::milliseconds timeout) {
  if (auto err = write_request(method, target, headers, body, timeout))
    return err;
  auto& p = *impl_;
  auto& parser = p.streaming.emplace();
  parser.body_limit(body_limit);
  auto ec = run_op(p.stream, timeout, [&](auto handler) {
    http::async_read_header(p.stream, p.buffer, parser, handler);
  });
  if (ec) {
    p.close();
    return make_error(ec::backend_unreachable, "http_probe: no response head from " +
                                                   p.where() + ": " + ec.message());
  }
  http_probe_response head;
  head.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get())
    head.headers.emplace_back(std::string{field.name_string()},
                              std::string{field.value()});
  if (head.status == 200 && head.is_sse())
    return head;
  // Not a stream (a refusal): its body is short and whole.
  if (!parser.is_done()) {
    ec = run_op(p.stream, timeout, [&](auto handler) {
      http::async_read(p.stream, p.buffer, parser, handler);
    });
    if (ec) {
      p.close();
      return make_error(ec::backend_unreachable, "http_probe: no response body from " +
                                                     p.where() + ": " + ec.message());
    }
  }
  auto msg = parser.release();
  p.streaming.reset();
  p.ended = true;
  if (!msg.keep_alive())
    p.close();
  return to_response(msg);
}

std::optional<sse_event> http_probe::next_event(std::chrono::milliseconds timeout) {
  auto& p = *impl_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto event = take_event(p.pending))
      return event;
    if (!p.streaming || p.ended)
      return std::nullopt;
    auto& parser = *p.streaming;
    if (parser.is_done()) {
      p.ended = true;
      return std::nullopt;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    // No stream timer here: a wait that times out must leave the stream usable, so
    // the read is cancelled instead of the socket closed.
    beast::error_code result = net::error::would_block;
    bool done = false;
    p.stream.expires_never();
    http::async_read_some(p.stream, p.buffer, parser,
                          [&](beast::error_code ec, std::size_t) {
                            result = ec;
                            done = true;
                          });
    auto& ioc = thread_context();
    ioc.restart();
    ioc.run_for(left);
    if (!done) {
      beast::error_code ignored;
      p.stream.socket().cancel(ignored);
      ioc.restart();
      ioc.run();
    }
    p.pending += parser.get().body();
    parser.get().body().clear();
    if (result == net::error::operation_aborted)
      return take_event(p.pending); // the wait timed out; the stream goes on
    if (result) {
      p.ended = true;
      p.open = false;
      return take_event(p.pending);
    }
  }
}

bool http_probe::stream_ended() const {
  return impl_->ended;
}

// -- starting warren ----------------------------------------------------------------

std::optional<uint16_t> serving_port(std::string_view stderr_text) {
  constexpr std::string_view marker = "warren serving MCP at http://";
  std::size_t pos = 0;
  while (pos < stderr_text.size()) {
    auto nl = stderr_text.find('\n', pos);
    if (nl == std::string_view::npos)
      break; // a line still being written
    auto line = stderr_text.substr(pos, nl - pos);
    pos = nl + 1;
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("msg") ||
        !doc["msg"].IsString())
      continue;
    std::string_view msg{doc["msg"].GetString(), doc["msg"].GetStringLength()};
    if (msg.compare(0, marker.size(), marker) != 0)
      continue;
    auto authority = msg.substr(marker.size());
    authority = authority.substr(0, authority.find('/'));
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos)
      continue;
    auto digits = authority.substr(colon + 1);
    unsigned port = 0;
    auto [end, err] =
        std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (err == std::errc{} && end == digits.data() + digits.size() && port > 0 &&
        port <= 65535)
      return static_cast<uint16_t>(port);
  }
  return std::nullopt;
}

caf::expected<http_warren> start_http_warren(http_warren_options opts) {
  std::vector<std::string> argv{opts.binary.empty() ? warren_binary_path()
                                                    : opts.binary,
                                "serve", "--http", opts.listen};
  argv.insert(argv.end(), opts.args.begin(), opts.args.end());
  std::vector<std::string> env;
  if (opts.broker)
    env = broker_environment(*opts.broker);
  env.insert(env.end(), opts.env.begin(), opts.env.end());
  auto process = subprocess::spawn(argv, env);
  if (!process)
    return std::move(process.error());
  http_warren result;
  result.process = std::move(*process);
  auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  for (;;) {
    auto text = result.process->stderr_text();
    if (auto port = serving_port(text)) {
      result.port = *port;
      return result;
    }
    if (auto code = result.process->exit_code())
      return make_error(ec::internal, "warren exited with code " +
                                          std::to_string(*code) +
                                          " before serving HTTP; its stderr:\n" +
                                          result.process->stderr_text());
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(ec::backend_timeout,
                        "warren did not say where it serves HTTP within " +
                            std::to_string(opts.timeout.count()) +
                            " ms; its stderr:\n" + text);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace warren
