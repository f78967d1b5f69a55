#include "runtime/http_server.hpp"

#include <atomic>
#include <deque>
#include <optional>
#include <thread>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "protocol/error.hpp"
#include "protocol/jsonrpc.hpp"

namespace warren {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using request_type = http::request<http::string_body>;
using response_type = http::response<http::string_body>;
using clock_type = std::chrono::steady_clock;

constexpr auto write_timeout = std::chrono::seconds{30};
constexpr std::size_t header_limit = 64 * 1024;
constexpr std::string_view session_header = "Mcp-Session-Id";

std::optional<std::string_view> header(const request_type& req, std::string_view name) {
  auto i = req.find(beast::string_view{name.data(), name.size()});
  if (i == req.end())
    return std::nullopt;
  return std::string_view{i->value().data(), i->value().size()};
}

std::optional<std::string_view> header(const request_type& req, http::field field) {
  auto i = req.find(field);
  if (i == req.end())
    return std::nullopt;
  return std::string_view{i->value().data(), i->value().size()};
}

// "application/json; charset=utf-8" is application/json.
bool is_json_content(std::optional<std::string_view> content_type) {
  if (!content_type)
    return false;
  auto type = content_type->substr(0, content_type->find(';'));
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  std::string lowered{type};
  for (auto& c : lowered)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered == "application/json";
}

std::string sse_event(const std::string& line) {
  return "event: message\ndata: " + line + "\n\n";
}

// Whether an answer line is a JSON-RPC error (only initialize's answers are asked).
bool is_error_answer(const std::string& line) {
  auto msg = parse_jsonrpc(line);
  return msg.kind == message_kind::response && msg.document.IsObject() &&
         msg.document.HasMember("error");
}

/// What the connections share: the settings, the sessions, the rate limit.
struct server_state {
  server_state(http_server_config c, http_session_table::session_factory factory,
               readiness_check r)
      : cfg(std::move(c)), ready(std::move(r)),
        sessions(cfg.max_sessions, cfg.rate_session, std::move(factory),
                 cfg.session_prefix) {
    if (cfg.rate_global > 0)
      global = std::make_unique<token_bucket>(cfg.rate_global, 2 * cfg.rate_global);
  }

  /// Takes a token from the global rate limit.
  bool admit(clock_type::time_point now, uint32_t& retry_after_s) {
    if (!global)
      return true;
    std::lock_guard<std::mutex> guard{global_mutex};
    if (global->take(now))
      return true;
    retry_after_s = global->seconds_until_next(now);
    return false;
  }

  http_server_config cfg;
  readiness_check ready;
  http_session_table sessions;
  std::mutex global_mutex;
  std::unique_ptr<token_bucket> global;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> writes_queued{0}; ///< not yet written, over all connections
};

/// One HTTP/1.1 connection: reads a request, answers it (at once, or when its MCP
/// session answers), then reads the next. All its work runs on its strand.
class connection : public std::enable_shared_from_this<connection> {
public:
  connection(tcp::socket socket, std::shared_ptr<server_state> server)
      : stream_(std::move(socket)), server_(std::move(server)),
        keepalive_(stream_.get_executor()) {}

  void start() {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->read_next(); });
  }

  /// A line for the exchange in progress (any thread).
  void push(std::string line, bool last) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), line = std::move(line), last]() mutable {
                self->deliver(std::move(line), last);
              });
  }

private:
  /// How the connection's current MCP request is being answered.
  struct exchange {
    std::shared_ptr<http_session> session;
    bool json_ok = true;
    bool sse_ok = true;
    bool new_session = false;
    bool streaming = false; ///< the SSE head has been sent
  };

  using write_done = std::function<void(beast::error_code)>;
  using write_op = std::function<void(write_done)>;

  /// Forwards a session's lines to this connection. It keeps the connection alive
  /// while the session may still write to it: until the answer (a POST), or until
  /// the stream ends (a GET).
  class sink : public http_sink {
  public:
    explicit sink(std::shared_ptr<connection> conn) : conn_(std::move(conn)) {}
    void push(std::string line, bool last) override {
      conn_->push(std::move(line), last);
    }

  private:
    std::shared_ptr<connection> conn_;
  };

  void read_next() {
    if (closed_ || server_->stopping)
      return shut();
    parser_.emplace();
    parser_->body_limit(server_->cfg.max_body_bytes);
    parser_->header_limit(header_limit);
    stream_.expires_after(server_->cfg.session_idle);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit)
      return refuse_and_close(
          {413, -32600,
           "message too large: the body exceeds the limit of " +
               std::to_string(server_->cfg.max_body_bytes) +
               " bytes (server.max_line_bytes); it was not processed"});
    if (ec == http::error::header_limit)
      return refuse_and_close({431, -32600, "request headers too large"});
    if (ec &&
        ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return refuse_and_close({400, -32600, "malformed HTTP request: " + ec.message()});
    if (ec)
      return shut();
    request_ = parser_->release();
    keep_alive_ = request_.keep_alive();
    try {
      route();
    } catch (const std::exception& e) {
      spdlog::error("HTTP request failed: {}", e.what());
      refuse_and_close({500, -32603, "internal error; the request was not processed"});
    }
  }

  void route() {
    auto target = std::string_view{request_.target().data(), request_.target().size()};
    auto path = target.substr(0, target.find('?'));
    if (path == "/healthz")
      return reply(200, R"({"status":"ok"})");
    if (path == "/readyz") {
      auto reason = server_->ready ? server_->ready() : std::string{};
      if (reason.empty())
        return reply(200, R"({"status":"ready"})");
      return reply(503,
                   R"({"status":"not ready","reason":)" + quote_json(reason) + "}");
    }
    if (path != "/mcp")
      return refuse({404, -32600, "no such endpoint; MCP is served at /mcp"});
    if (auto refusal = check_common())
      return refuse(std::move(*refusal));
    switch (request_.method()) {
    case http::verb::post:
      return post();
    case http::verb::get:
      return get();
    case http::verb::delete_:
      return end_session();
    default:
      return refuse(
          {405, -32600, "method not allowed; /mcp takes POST, GET and DELETE"});
    }
  }

  // The rules every /mcp request must pass, in order: DNS-rebinding defence, then
  // authentication, then the protocol revision, then the global rate limit.
  std::optional<http_refusal> check_common() {
    const auto& cfg = server_->cfg;
    auto host = header(request_, http::field::host);
    if (!host || !host_allowed(cfg.allowed, *host))
      return http_refusal{403, -32600,
                          "Host '" + std::string{host.value_or("").substr(0, 100)} +
                              "' is not allowed (http.allowed_hosts)"};
    if (auto origin = header(request_, http::field::origin);
        !origin_allowed(cfg.allowed, origin))
      return http_refusal{403, -32600,
                          "Origin '" + std::string{origin->substr(0, 100)} +
                              "' is not allowed (http.allowed_origins)"};
    if (!cfg.token.empty() &&
        !bearer_matches(header(request_, http::field::authorization), cfg.token))
      return http_refusal{401, -32600,
                          "authentication required: send Authorization: Bearer <token> "
                          "with warren's token (WARREN_HTTP_TOKEN)"};
    if (auto refusal = check_protocol_version(header(request_, "MCP-Protocol-Version")))
      return refusal;
    uint32_t retry = 0;
    if (!server_->admit(clock_type::now(), retry))
      return http_refusal{429, -32000,
                          "warren is over its request rate (http.rate_global); retry "
                          "after " +
                              std::to_string(retry) + " s",
                          retry};
    return std::nullopt;
  }

  // The session a request names, or why there is none.
  std::shared_ptr<http_session> named_session(http_refusal& refusal) {
    auto id = header(request_, session_header);
    if (!id) {
      refusal = {400, -32600,
                 "Mcp-Session-Id header required; send initialize (without it) to "
                 "start a session"};
      return nullptr;
    }
    if (!valid_session_id(*id)) {
      refusal = {400, -32600, "malformed Mcp-Session-Id header"};
      return nullptr;
    }
    auto session = server_->sessions.find(std::string{*id});
    if (!session)
      refusal = {404, -32001,
                 "session not found: it ended or expired; send initialize (without "
                 "Mcp-Session-Id) to start a new one"};
    return session;
  }

  void post() {
    if (!is_json_content(header(request_, http::field::content_type)))
      return refuse({415, -32600, "Content-Type must be application/json"});
    auto accept = header(request_, http::field::accept);
    exchange ex;
    ex.json_ok = accepts(accept, "application/json");
    ex.sse_ok = accepts(accept, "text/event-stream");
    if (!ex.json_ok && !ex.sse_ok)
      return refuse(
          {406, -32600, "Accept must allow application/json and text/event-stream"});
    auto msg = parse_jsonrpc(request_.body());
    if (msg.kind == message_kind::invalid)
      return reply(400, make_error_response(msg.id_json, msg.error));
    auto now = clock_type::now();
    bool initialize = msg.kind == message_kind::request && msg.method == "initialize";
    http_refusal refusal;
    if (initialize && !header(request_, session_header)) {
      if (server_->stopping)
        return refuse({503, -32000, "warren is shutting down; try another instance"});
      ex.session = server_->sessions.create(now);
      if (!ex.session)
        return refuse({503, -32000,
                       "too many sessions (http.max_sessions is " +
                           std::to_string(server_->cfg.max_sessions) +
                           "); try again later"},
                      1);
      ex.new_session = true;
    } else if (ex.session = named_session(refusal); !ex.session) {
      return refuse(std::move(refusal));
    }
    uint32_t retry = 0;
    if (!ex.session->admit(now, retry))
      return refuse(
          {429, -32000,
           "this session is over its request rate (http.rate_session is " +
               std::to_string(static_cast<uint64_t>(server_->cfg.rate_session)) +
               " per second); retry after " + std::to_string(retry) + " s",
           retry});
    if (msg.kind != message_kind::request) {
      // Notifications (a cancel above all) and the client's answers to warren's own
      // questions get no answer of their own, and are never refused for the calls
      // in flight: they are how those end.
      caf::anon_send(ex.session->actor, line_atom::value, std::move(request_.body()));
      return reply(202, {});
    }
    using admission = http_session_output::admission;
    switch (ex.session->out->expect(msg.id_json,
                                    std::make_shared<sink>(shared_from_this()),
                                    server_->cfg.max_in_flight)) {
    case admission::admitted:
      break;
    case admission::duplicate_id:
      return reply(400,
                   make_error_response(
                       msg.id_json,
                       make_error(ec::invalid_request,
                                  "request id " + msg.id_json +
                                      " is already in use by a request in flight")));
    case admission::full:
      return refuse({429, -32000,
                     "this session has " + std::to_string(server_->cfg.max_in_flight) +
                         " requests in flight (server.max_in_flight); wait for their "
                         "answers",
                     1});
    }
    exchange_ = std::move(ex);
    caf::anon_send(exchange_->session->actor, line_atom::value,
                   std::move(request_.body()));
  }

  void get() {
    if (!accepts(header(request_, http::field::accept), "text/event-stream"))
      return refuse({406, -32600, "Accept must allow text/event-stream"});
    http_refusal refusal;
    auto session = named_session(refusal);
    if (!session)
      return refuse(std::move(refusal));
    session->touch(clock_type::now());
    stream_session_ = session;
    stream_sink_ = std::make_shared<sink>(shared_from_this());
    open_sse();
    session->out->open_stream(stream_sink_);
  }

  void end_session() {
    http_refusal refusal;
    auto session = named_session(refusal);
    if (!session)
      return refuse(std::move(refusal));
    if (server_->sessions.remove(session->id)) {
      spdlog::info("HTTP session {} ended by its client", session->id.substr(0, 8));
      session->out->end_stream();
      caf::anon_send(session->actor, eof_atom::value);
    }
    reply(204, {});
  }

  // --- answers ---------------------------------------------------------------------

  void deliver(std::string line, bool last) {
    if (closed_)
      return;
    if (stream_session_) { // the session's GET stream
      if (!last)
        return queue_chunk(sse_event(line));
      stream_session_.reset();
      stream_sink_.reset();
      queue_last_chunk();
      return queue([self = shared_from_this()](write_done) { self->shut(); });
    }
    if (!exchange_)
      return;
    auto& ex = *exchange_;
    if (!last) {
      if (!ex.sse_ok)
        return; // the client takes only JSON: notifications are dropped
      if (!ex.streaming) {
        ex.streaming = true;
        open_sse(ex.new_session ? ex.session->id : std::string{});
      }
      return queue_chunk(sse_event(line));
    }
    // A failed initialize leaves no session behind, and names none.
    if (ex.new_session && !line.empty() && is_error_answer(line)) {
      if (server_->sessions.remove(ex.session->id))
        caf::anon_send(ex.session->actor, eof_atom::value);
      ex.new_session = false;
    }
    auto named = ex.new_session ? ex.session->id : std::string{};
    if (line.empty()) {
      // The request was cancelled: no answer will come. An empty event stream (or
      // 204 for a client that takes only JSON) ends the exchange.
      if (!ex.streaming && ex.sse_ok)
        open_sse(named);
      if (ex.streaming || ex.sse_ok)
        queue_last_chunk();
      else
        queue_message(make_response(204, {}));
    } else if (ex.streaming || !ex.json_ok) {
      if (!ex.streaming)
        open_sse(named);
      queue_chunk(sse_event(line));
      queue_last_chunk();
    } else {
      auto res = make_response(200, std::move(line));
      if (!named.empty())
        res->set(beast::string_view{session_header.data(), session_header.size()},
                 named);
      queue_message(std::move(res));
    }
    exchange_.reset();
    then_read_next();
  }

  std::shared_ptr<response_type> make_response(unsigned status, std::string body) {
    auto res = std::make_shared<response_type>(static_cast<http::status>(status),
                                               request_.version());
    res->set(http::field::server, "warren");
    if (!body.empty())
      res->set(http::field::content_type, "application/json");
    res->keep_alive(keep_alive_ && !server_->stopping);
    res->body() = std::move(body);
    res->prepare_payload();
    return res;
  }

  void reply(unsigned status, std::string body) {
    queue_message(make_response(status, std::move(body)));
    then_read_next();
  }

  void refuse(http_refusal refusal, uint32_t retry_after_s = 0) {
    auto res =
        make_response(static_cast<unsigned>(refusal.status), refusal_body(refusal));
    auto retry = std::max(refusal.retry_after_s, retry_after_s);
    if (retry > 0)
      res->set(http::field::retry_after, std::to_string(retry));
    if (refusal.status == 401)
      res->set(http::field::www_authenticate, R"(Bearer realm="warren")");
    if (refusal.status == 405)
      res->set(http::field::allow, "GET, POST, DELETE");
    queue_message(std::move(res));
    then_read_next();
  }

  void refuse_and_close(http_refusal refusal) {
    keep_alive_ = false;
    refuse(std::move(refusal));
  }

  void then_read_next() {
    queue([self = shared_from_this()](write_done done) {
      if (self->keep_alive_ && !self->server_->stopping)
        self->read_next();
      else
        self->shut();
      done({});
    });
  }

  // The head of an event stream; `session_id` (a new session's) is named in it.
  void open_sse(const std::string& session_id = {}) {
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::ok,
                                                                  request_.version());
    res->set(http::field::server, "warren");
    if (!session_id.empty())
      res->set(beast::string_view{session_header.data(), session_header.size()},
               session_id);
    res->set(http::field::content_type, "text/event-stream");
    res->set(http::field::cache_control, "no-cache");
    res->set("X-Accel-Buffering", "no"); // nginx passes events on at once
    res->keep_alive(keep_alive_);
    res->chunked(true);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    queue([self = shared_from_this(), res, sr](write_done done) {
      http::async_write_header(
          self->stream_, *sr,
          [res, sr, done](beast::error_code ec, std::size_t) { done(ec); });
    });
    arm_keepalive();
  }

  void arm_keepalive() {
    keepalive_.expires_after(server_->cfg.keepalive);
    keepalive_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_)
        return;
      bool streaming =
          self->stream_session_ || (self->exchange_ && self->exchange_->streaming);
      if (!streaming)
        return;
      self->queue_chunk(": keepalive\n\n");
      self->arm_keepalive();
    });
  }

  void queue_chunk(std::string data) {
    auto text = std::make_shared<std::string>(std::move(data));
    queue([self = shared_from_this(), text](write_done done) {
      net::async_write(self->stream_, http::make_chunk(net::buffer(*text)),
                       [text, done](beast::error_code ec, std::size_t) { done(ec); });
    });
  }

  void queue_last_chunk() {
    queue([self = shared_from_this()](write_done done) {
      net::async_write(self->stream_, http::make_chunk_last(),
                       [done](beast::error_code ec, std::size_t) { done(ec); });
    });
  }

  void queue_message(std::shared_ptr<response_type> res) {
    queue([self = shared_from_this(), res](write_done done) {
      http::async_write(self->stream_, *res,
                        [res, done](beast::error_code ec, std::size_t) { done(ec); });
    });
  }

  void queue(write_op op) {
    if (closed_)
      return;
    ++server_->writes_queued;
    writes_.push_back(std::move(op));
    if (!writing_)
      next_write();
  }

  void next_write() {
    if (writes_.empty() || closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    auto op = std::move(writes_.front());
    writes_.pop_front();
    stream_.expires_after(write_timeout);
    op([self = shared_from_this()](beast::error_code ec) {
      --self->server_->writes_queued;
      if (ec)
        return self->shut();
      self->next_write();
    });
  }

  void shut() {
    if (closed_)
      return;
    closed_ = true;
    server_->writes_queued -= writes_.size();
    writes_.clear();
    keepalive_.cancel();
    if (stream_session_) {
      // The client left its GET stream: the session stops writing to it.
      stream_session_->out->close_stream(stream_sink_.get());
      stream_session_.reset();
      stream_sink_.reset();
    }
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<server_state> server_;
  net::steady_timer keepalive_;
  std::optional<http::request_parser<http::string_body>> parser_;
  request_type request_;
  bool keep_alive_ = true;
  std::optional<exchange> exchange_;
  std::shared_ptr<http_session> stream_session_; ///< set while this is a GET stream
  std::shared_ptr<http_sink> stream_sink_;       ///< the GET stream's sink
  std::deque<write_op> writes_;
  bool writing_ = false;
  bool closed_ = false;
};

} // namespace

struct http_server::impl {
  impl(caf::actor_system& sys, http_server_config cfg,
       http_session_table::session_factory factory, readiness_check ready)
      : sys(sys), state(std::make_shared<server_state>(
                      std::move(cfg), std::move(factory), std::move(ready))),
        acceptor(ioc), sweeper(ioc), work(net::make_work_guard(ioc)) {}

  void accept() {
    acceptor.async_accept(
        net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec != net::error::operation_aborted)
              spdlog::warn("HTTP accept failed: {}", ec.message());
            if (!acceptor.is_open())
              return;
          } else {
            std::make_shared<connection>(std::move(socket), state)->start();
          }
          accept();
        });
  }

  // Ends the sessions idle for longer than http.session_idle_ms.
  void sweep() {
    auto period = std::min<std::chrono::milliseconds>(state->cfg.session_idle / 4,
                                                      std::chrono::seconds{1});
    sweeper.expires_after(period);
    sweeper.async_wait([this](beast::error_code ec) {
      if (ec)
        return;
      auto before = clock_type::now() - state->cfg.session_idle;
      for (auto& session : state->sessions.expire(before)) {
        spdlog::info("HTTP session {} expired after {} ms without use",
                     session->id.substr(0, 8), state->cfg.session_idle.count());
        caf::anon_send(session->actor, eof_atom::value);
      }
      sweep();
    });
  }

  caf::actor_system& sys;
  std::shared_ptr<server_state> state;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer sweeper;
  net::executor_work_guard<net::io_context::executor_type> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;
};

http_server::http_server(caf::actor_system& sys, http_server_config cfg,
                         http_session_table::session_factory factory,
                         readiness_check ready)
    : impl_(std::make_unique<impl>(sys, std::move(cfg), std::move(factory),
                                   std::move(ready))) {}

http_server::~http_server() {
  stop(std::chrono::milliseconds{0});
}

caf::error http_server::start() {
  auto& cfg = impl_->state->cfg;
  beast::error_code ec;
  auto address = net::ip::make_address(
      cfg.host.size() > 2 && cfg.host.front() == '['
          ? cfg.host.substr(1, cfg.host.size() - 2)
          : (cfg.host == "localhost" ? std::string{"127.0.0.1"} : cfg.host),
      ec);
  if (ec)
    return make_error(ec::invalid_config,
                      "http.listen: '" + cfg.host +
                          "' is not an IP address: " + ec.message());
  tcp::endpoint endpoint{address, cfg.port};
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ec::invalid_config, "http.listen: cannot listen on " + cfg.host +
                                              ":" + std::to_string(cfg.port) + ": " +
                                              ec.message());
  impl_->port = acceptor.local_endpoint().port();
  // The allow-list names the port; with port 0 it is known only now.
  if (cfg.port == 0) {
    auto extra = cfg.allowed;
    cfg.allowed = default_allow_list(cfg.host, impl_->port);
    for (auto& h : extra.hosts)
      cfg.allowed.hosts.push_back(h);
    for (auto& o : extra.origins)
      cfg.allowed.origins.push_back(o);
  }
  impl_->accept();
  impl_->sweep();
  for (std::size_t i = 0; i < std::max<std::size_t>(1, cfg.threads); ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return {};
}

uint16_t http_server::port() const {
  return impl_->port;
}

void http_server::stop(std::chrono::milliseconds grace) {
  if (impl_->threads.empty())
    return;
  auto& state = *impl_->state;
  state.stopping = true;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->sweeper.cancel();
  });
  // Every session hears that its input ended: it answers what is in flight (or gives
  // up after server.shutdown_grace_ms) and quits.
  auto sessions = state.sessions.remove_all();
  {
    caf::scoped_actor waiter{impl_->sys};
    for (auto& session : sessions) {
      waiter->monitor(session->actor);
      session->out->end_stream();
      caf::anon_send(session->actor, eof_atom::value);
    }
    std::size_t down = 0;
    bool late = false;
    while (down < sessions.size() && !late)
      waiter->receive([&](caf::down_msg&) { ++down; },
                      caf::after(grace) >> [&] { late = true; });
    if (late)
      spdlog::warn("{} HTTP session(s) did not end within {} ms",
                   sessions.size() - down, grace.count());
  }
  // Then their last answers are written, or given up on.
  auto deadline = clock_type::now() + std::chrono::seconds{2};
  while (state.writes_queued > 0 && clock_type::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    t.join();
  impl_->threads.clear();
}

std::vector<caf::actor> http_server::sessions() const {
  return impl_->state->sessions.actors();
}

} // namespace warren
