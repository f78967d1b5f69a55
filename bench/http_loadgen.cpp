// warren_http_loadgen: many concurrent MCP sessions over Streamable HTTP against a
// running `warren serve --http`, each on its own kept-alive connection with one request
// in flight (a closed loop). Prints throughput and latency percentiles as one JSON
// line.
//
//   warren_http_loadgen --url http://127.0.0.1:PORT/mcp --sessions 1000
//       --requests-per-session N --warmup-per-session W
//       [--method tools/call --tool list_queues --arguments '{}' | --method ping]
//       [--threads T] [--ramp-concurrency C] [--request-timeout S] [--timeout S]
//       [--rate-per-session R] [--keep-sessions]
//
// Phases, each finished by every session before the next begins: connect, initialize
// and notifications/initialized (the ramp-up, not measured); W warmup calls per
// session; N measured calls per session, all sessions at once; DELETE of each session.
// A request's latency runs from the start of writing it to the end of reading its
// whole answer. Every failed request is counted as an error, by phase and by kind; a
// session whose connection fails stops, and the calls it did not send are reported as
// unsent. Exit status: 0 when every request succeeded, 1 otherwise, 2 on bad usage.

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

constexpr const char* protocol_version = "2025-11-25";
constexpr std::size_t max_error_samples = 20;
constexpr std::size_t answer_body_limit = 64u << 20;

struct options {
  std::string url;
  std::size_t sessions = 1000;
  std::size_t requests_per_session = 50;
  std::size_t warmup_per_session = 5;
  std::string method = "tools/call";
  std::string tool = "list_queues";
  std::string arguments = "{}";
  std::size_t threads = 1;
  std::size_t ramp_concurrency = 100;
  double request_timeout_s = 30;
  double timeout_s = 600;
  double rate_per_session = 0; ///< calls per second each session starts; 0: closed loop
  bool keep_sessions = false;
};

enum class phase : std::size_t { setup, warmup, measured, teardown };
constexpr std::size_t phase_count = 4;

const char* phase_name(phase p) {
  switch (p) {
  case phase::setup:
    return "setup";
  case phase::warmup:
    return "warmup";
  case phase::measured:
    return "measured";
  case phase::teardown:
    return "teardown";
  }
  return "?";
}

struct target_url {
  std::string host; ///< to resolve (no brackets)
  std::string port;
  std::string path;
  std::string authority; ///< the Host header
};

std::optional<target_url> parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return std::nullopt;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  target_url t;
  t.authority = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (t.authority.empty())
    return std::nullopt;
  auto close = t.authority.rfind(']');
  auto colon = t.authority.rfind(':');
  if (colon == std::string::npos || (close != std::string::npos && colon < close)) {
    t.host = t.authority;
    t.port = "80";
  } else {
    t.host = t.authority.substr(0, colon);
    t.port = t.authority.substr(colon + 1);
  }
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']')
    t.host = t.host.substr(1, t.host.size() - 2);
  return t;
}

/// What came back for one request.
struct answer {
  beast::error_code ec; ///< set: no answer (the connection failed or timed out)
  const char* stage = "";
  unsigned status = 0;
  bool keep_alive = true;
  std::string content_type;
  std::string session_id;
  std::string body;
  int64_t latency_ns = 0;
};

std::string lowered(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string shortened(const std::string& text, std::size_t max = 300) {
  return text.size() <= max ? text : text.substr(0, max) + "...";
}

// The JSON-RPC message of an answer: the body itself, or for an SSE stream the data of
// its last event (the response comes after any notifications).
std::string message_of(const answer& a) {
  if (lowered(a.content_type).rfind("text/event-stream", 0) != 0)
    return a.body;
  std::string last;
  std::size_t pos = 0;
  while (pos < a.body.size()) {
    auto end = a.body.find('\n', pos);
    if (end == std::string::npos)
      end = a.body.size();
    std::string_view line{a.body.data() + pos, end - pos};
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.rfind("data:", 0) == 0) {
      line.remove_prefix(5);
      if (!line.empty() && line.front() == ' ')
        line.remove_prefix(1);
      last = std::string{line};
    }
    pos = end + 1;
  }
  return last;
}

/// Why an answer to request `id` is not a good one: the kind of error and what
/// happened; an empty kind means it is good.
struct verdict {
  std::string kind;
  std::string detail;
};

verdict judge(const answer& a, int64_t id, bool tool_call, rapidjson::Document& doc) {
  if (a.status != 200)
    return {"http_" + std::to_string(a.status), shortened(a.body)};
  auto type = lowered(a.content_type);
  if (type.rfind("application/json", 0) != 0 && type.rfind("text/event-stream", 0) != 0)
    return {"content_type", "Content-Type '" + a.content_type + "'"};
  auto message = message_of(a);
  doc.Parse(message.data(), message.size());
  if (doc.HasParseError() || !doc.IsObject())
    return {"bad_json", shortened(message)};
  auto id_it = doc.FindMember("id");
  if (id_it == doc.MemberEnd() || !id_it->value.IsInt64() ||
      id_it->value.GetInt64() != id)
    return {"wrong_id", shortened(message)};
  if (doc.HasMember("error"))
    return {"jsonrpc_error", shortened(message)};
  auto result = doc.FindMember("result");
  if (result == doc.MemberEnd() || !result->value.IsObject())
    return {"no_result", shortened(message)};
  if (tool_call) {
    auto err = result->value.FindMember("isError");
    if (err != result->value.MemberEnd() && err->value.IsBool() && err->value.GetBool())
      return {"is_error", shortened(message)};
  }
  return {};
}

/// What every session shares.
struct shared_config {
  const options& opts;
  target_url url;
  tcp::resolver::results_type endpoints;
  std::string call_prefix; ///< a call's body up to its id
  std::string call_suffix; ///< and after it
  bool tool_call = true;
  std::chrono::milliseconds request_timeout;
};

class coordinator;

/// One MCP session on its own connection; all its work runs on its strand.
class session : public std::enable_shared_from_this<session> {
public:
  session(std::size_t index, net::io_context& ioc, const shared_config& cfg,
          coordinator& coord)
      : index_(index), stream_(net::make_strand(ioc)), pace_(stream_.get_executor()),
        cfg_(cfg), coord_(coord) {}

  /// Starts the session's part of phase `p` (from any thread).
  void begin(phase p) {
    net::post(stream_.get_executor(), [self = shared_from_this(), p] {
      self->phase_ = p;
      switch (p) {
      case phase::setup:
        return self->connect();
      case phase::warmup:
        self->remaining_ = self->cfg_.opts.warmup_per_session;
        self->start_pacing();
        return self->next_call();
      case phase::measured:
        self->remaining_ = self->cfg_.opts.requests_per_session;
        self->latencies_ns.reserve(self->remaining_);
        self->start_pacing();
        return self->next_call();
      case phase::teardown:
        return self->teardown();
      }
    });
  }

  // The results, read once the io_context has stopped.
  std::vector<int64_t> latencies_ns; ///< measured calls that succeeded
  std::array<std::size_t, phase_count> errors{};
  std::map<std::string, std::size_t> error_kinds;
  std::size_t measured_answered = 0; ///< measured calls that got an answer or failed
  std::size_t late = 0; ///< paced measured calls sent over 1 ms after their time

private:
  void connect() {
    stream_.expires_after(cfg_.request_timeout);
    stream_.async_connect(
        cfg_.endpoints,
        [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (ec)
            return self->die("connect", "connect failed: " + ec.message());
          beast::error_code ignored;
          self->stream_.socket().set_option(tcp::no_delay{true}, ignored);
          self->initialize();
        });
  }

  void initialize() {
    std::string body = R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{)"
                       R"("protocolVersion":")" +
                       std::string{protocol_version} +
                       R"(","capabilities":{},"clientInfo":{"name":)"
                       R"("warren_http_loadgen","version":"1"}}})";
    exchange(http::verb::post, std::move(body), [self = shared_from_this()](answer a) {
      if (a.ec)
        return self->die("transport", std::string{a.stage} + ": " + a.ec.message());
      rapidjson::Document doc;
      auto v = judge(a, 0, false, doc);
      if (v.kind.empty() && a.session_id.empty())
        v = {"no_session_id", "initialize was answered without Mcp-Session-Id"};
      if (!v.kind.empty())
        return self->die(v.kind, "initialize: " + v.detail);
      self->session_id_ = a.session_id;
      if (!a.keep_alive)
        return self->die("closed", "the server closed the connection");
      self->initialized();
    });
  }

  void initialized() {
    exchange(
        http::verb::post, R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
        [self = shared_from_this()](answer a) {
          if (a.ec)
            return self->die("transport", std::string{a.stage} + ": " + a.ec.message());
          if (a.status != 202)
            return self->die("http_" + std::to_string(a.status),
                             "notifications/initialized: " + shortened(a.body));
          if (!a.keep_alive)
            return self->die("closed", "the server closed the connection");
          self->finish_phase();
        });
  }

  // With a rate, the session's calls are due at fixed intervals from a random offset
  // within the first one, so that the sessions do not all send at the same moments.
  void start_pacing() {
    if (cfg_.opts.rate_per_session <= 0)
      return;
    std::uniform_real_distribution<double> offset{0, 1};
    std::mt19937_64 rng{index_ + 1};
    due_ = clock_type::now() +
           std::chrono::duration_cast<clock_type::duration>(interval() * offset(rng));
  }

  clock_type::duration interval() const {
    return std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>{1 / cfg_.opts.rate_per_session});
  }

  void next_call() {
    if (remaining_ == 0)
      return finish_phase();
    if (cfg_.opts.rate_per_session > 0) {
      auto now = clock_type::now();
      if (now < due_) {
        pace_.expires_at(due_);
        return pace_.async_wait([self = shared_from_this()](beast::error_code ec) {
          if (!ec)
            self->send_call();
        });
      }
      if (phase_ == phase::measured && now - due_ > std::chrono::milliseconds{1})
        ++late;
    }
    send_call();
  }

  void send_call() {
    if (cfg_.opts.rate_per_session > 0)
      due_ += interval();
    --remaining_;
    auto id = next_id_++;
    exchange(
        http::verb::post, cfg_.call_prefix + std::to_string(id) + cfg_.call_suffix,
        [self = shared_from_this(), id](answer a) { self->on_call(std::move(a), id); });
  }

  void on_call(answer a, int64_t id) {
    bool measured = phase_ == phase::measured;
    if (measured)
      ++measured_answered;
    if (a.ec)
      return die("transport", std::string{a.stage} + ": " + a.ec.message());
    rapidjson::Document doc;
    auto v = judge(a, id, cfg_.tool_call, doc);
    if (!v.kind.empty())
      record_error(v.kind, "request " + std::to_string(id) + ": " + v.detail);
    else if (measured)
      latencies_ns.push_back(a.latency_ns);
    if (!a.keep_alive)
      return die("closed", "the server closed the connection after request " +
                               std::to_string(id));
    next_call();
  }

  void teardown() {
    if (cfg_.opts.keep_sessions) {
      close();
      return finish_phase();
    }
    exchange(http::verb::delete_, {}, [self = shared_from_this()](answer a) {
      if (a.ec)
        return self->die("transport", std::string{a.stage} + ": " + a.ec.message());
      if (a.status != 204 && a.status != 200 && a.status != 202)
        self->record_error("http_" + std::to_string(a.status),
                           "DELETE: " + shortened(a.body));
      self->close();
      self->finish_phase();
    });
  }

  // Sends one request on the connection and reads its whole answer.
  void exchange(http::verb verb, std::string body, std::function<void(answer)> next) {
    request_ = {};
    request_.method(verb);
    request_.target(cfg_.url.path);
    request_.version(11);
    request_.set(http::field::host, cfg_.url.authority);
    request_.set(http::field::user_agent, "warren_http_loadgen");
    request_.set(http::field::accept, "application/json, text/event-stream");
    if (!session_id_.empty()) {
      request_.set("Mcp-Session-Id", session_id_);
      request_.set("MCP-Protocol-Version", protocol_version);
    }
    if (verb == http::verb::post)
      request_.set(http::field::content_type, "application/json");
    request_.keep_alive(true);
    request_.body() = std::move(body);
    request_.prepare_payload();
    sent_at_ = clock_type::now();
    stream_.expires_after(cfg_.request_timeout);
    http::async_write(stream_, request_,
                      [self = shared_from_this(), next = std::move(next)](
                          beast::error_code ec, std::size_t) mutable {
                        if (ec) {
                          answer a;
                          a.ec = ec;
                          a.stage = "write";
                          return next(std::move(a));
                        }
                        self->read_answer(std::move(next));
                      });
  }

  void read_answer(std::function<void(answer)> next) {
    parser_.emplace();
    parser_->body_limit(answer_body_limit);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this(), next = std::move(next)](beast::error_code ec,
                                                            std::size_t) {
          answer a;
          a.latency_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             clock_type::now() - self->sent_at_)
                             .count();
          if (ec) {
            a.ec = ec;
            a.stage = "read";
            return next(std::move(a));
          }
          auto res = self->parser_->release();
          a.status = res.result_int();
          a.keep_alive = res.keep_alive();
          if (auto it = res.find(http::field::content_type); it != res.end())
            a.content_type.assign(it->value().data(), it->value().size());
          if (auto it = res.find("Mcp-Session-Id"); it != res.end())
            a.session_id.assign(it->value().data(), it->value().size());
          a.body = std::move(res.body());
          next(std::move(a));
        });
  }

  void record_error(const std::string& kind, const std::string& detail);
  void die(const std::string& kind, const std::string& detail);
  void finish_phase();

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  std::size_t index_;
  beast::tcp_stream stream_;
  net::steady_timer pace_; ///< waits for the next paced call
  const shared_config& cfg_;
  coordinator& coord_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string session_id_;
  phase phase_ = phase::setup;
  std::size_t remaining_ = 0;
  int64_t next_id_ = 1;
  clock_type::time_point due_; ///< when the next paced call is due
  clock_type::time_point sent_at_;
  bool dead_ = false;
};

/// Moves all sessions through the phases together: a phase begins for every live
/// session once the previous one has ended for all. Any thread may call it.
class coordinator {
public:
  coordinator(net::io_context& ioc, const options& opts) : ioc_(ioc), opts_(opts) {}

  void start(std::vector<std::shared_ptr<session>> sessions) {
    std::lock_guard<std::mutex> guard{mutex_};
    sessions_ = std::move(sessions);
    current_ = phase::setup;
    pending_ = sessions_.size();
    ramp_start_ = clock_type::now();
    if (pending_ == 0)
      return advance_locked();
    auto first =
        std::min(sessions_.size(), std::max<std::size_t>(1, opts_.ramp_concurrency));
    for (; next_to_start_ < first; ++next_to_start_)
      sessions_[next_to_start_]->begin(phase::setup);
  }

  /// Session `index` is done with the current phase; `alive`: it takes part in the
  /// next.
  void phase_done(std::size_t index, bool alive) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (alive)
      next_.push_back(index);
    if (current_ == phase::setup && next_to_start_ < sessions_.size())
      sessions_[next_to_start_++]->begin(phase::setup);
    if (--pending_ == 0)
      advance_locked();
  }

  void note_error(phase p, std::size_t index, const std::string& kind,
                  const std::string& detail) {
    std::lock_guard<std::mutex> guard{mutex_};
    ++noted_;
    if (samples_.size() < max_error_samples)
      samples_.push_back(std::string{phase_name(p)} + ", session " +
                         std::to_string(index) + ": " + kind + ": " + detail);
  }

  /// Why the run ended early (the overall timeout), or "".
  void give_up(const std::string& why) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (finished_)
      return;
    failure_ = why + " in phase " + phase_name(current_) + ", " +
               std::to_string(pending_) + " session(s) not done with it";
    finished_ = true;
    ioc_.stop();
  }

  // Read once the io_context has stopped.
  std::size_t connected = 0;
  double ramp_s = 0;
  double measured_s = 0;
  const std::vector<std::string>& samples() const { return samples_; }
  std::size_t noted() const { return noted_; }
  const std::string& failure() const { return failure_; }
  bool finished() const { return finished_; }

private:
  void advance_locked() {
    auto now = clock_type::now();
    switch (current_) {
    case phase::setup:
      ramp_s = seconds(now - ramp_start_);
      connected = next_.size();
      current_ = phase::warmup;
      break;
    case phase::warmup:
      measured_start_ = now;
      current_ = phase::measured;
      break;
    case phase::measured:
      measured_s = seconds(now - measured_start_);
      current_ = phase::teardown;
      break;
    case phase::teardown:
      finished_ = true;
      ioc_.stop();
      return;
    }
    std::vector<std::size_t> taking_part;
    taking_part.swap(next_);
    pending_ = taking_part.size();
    if (pending_ == 0)
      return advance_locked();
    for (auto i : taking_part)
      sessions_[i]->begin(current_);
  }

  static double seconds(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
  }

  net::io_context& ioc_;
  const options& opts_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<session>> sessions_;
  std::vector<std::size_t> next_;
  std::size_t next_to_start_ = 0;
  std::size_t pending_ = 0;
  phase current_ = phase::setup;
  clock_type::time_point ramp_start_;
  clock_type::time_point measured_start_;
  std::vector<std::string> samples_;
  std::size_t noted_ = 0;
  std::string failure_;
  bool finished_ = false;
};

void session::record_error(const std::string& kind, const std::string& detail) {
  ++errors[static_cast<std::size_t>(phase_)];
  ++error_kinds[kind];
  coord_.note_error(phase_, index_, kind, detail);
}

void session::die(const std::string& kind, const std::string& detail) {
  record_error(kind, detail);
  dead_ = true;
  close();
  // The phases after this one go on without it.
  coord_.phase_done(index_, false);
}

void session::finish_phase() {
  coord_.phase_done(index_, !dead_);
}

// The file-descriptor limit up to its hard limit: each session is a socket.
void raise_file_limit(std::size_t sessions) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < sessions + 64)
    std::cerr << "warren_http_loadgen: warning: the open-file limit is " << lim.rlim_cur
              << ", too low for " << sessions << " sessions\n";
}

double percentile_ms(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty())
    return 0;
  auto rank =
      static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1e6;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  CLI::App app{"Drives `warren serve --http` with many concurrent MCP sessions and "
               "measures it."};
  app.add_option("--url", opts.url, "the MCP endpoint, http://HOST:PORT/mcp")
      ->required();
  app.add_option("--sessions", opts.sessions,
                 "concurrent sessions, one connection each")
      ->check(CLI::PositiveNumber);
  app.add_option("--requests-per-session", opts.requests_per_session,
                 "measured calls per session");
  app.add_option("--warmup-per-session", opts.warmup_per_session,
                 "calls per session before measuring");
  app.add_option("--method", opts.method, "tools/call or ping")
      ->check(CLI::IsMember({"tools/call", "ping"}));
  app.add_option("--tool", opts.tool, "the tool tools/call calls");
  app.add_option("--arguments", opts.arguments, "its arguments, a JSON object");
  app.add_option("--threads", opts.threads, "threads running the client's io_context")
      ->check(CLI::Range(1, 64));
  app.add_option("--ramp-concurrency", opts.ramp_concurrency,
                 "sessions being set up at once during the ramp-up")
      ->check(CLI::PositiveNumber);
  app.add_option("--request-timeout", opts.request_timeout_s,
                 "seconds to wait for any one answer (or connect)")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", opts.timeout_s, "seconds for the whole run")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate-per-session", opts.rate_per_session,
                 "calls per second each session starts, still one in flight (an "
                 "open loop while the server keeps up); 0: each call right after "
                 "the previous answer")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--keep-sessions", opts.keep_sessions,
               "close the connections at the end without DELETE-ing the sessions");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto url = parse_url(opts.url);
  if (!url) {
    std::cerr << "warren_http_loadgen: --url must look like http://HOST:PORT/PATH\n";
    return 2;
  }
  rapidjson::Document args_doc;
  args_doc.Parse(opts.arguments.c_str());
  if (args_doc.HasParseError() || !args_doc.IsObject()) {
    std::cerr << "warren_http_loadgen: --arguments must be a JSON object\n";
    return 2;
  }
  raise_file_limit(opts.sessions);

  net::io_context ioc{static_cast<int>(opts.threads)};
  shared_config cfg{
      opts,
      *url,
      {},
      {},
      {},
      opts.method == "tools/call",
      std::chrono::milliseconds{static_cast<int64_t>(opts.request_timeout_s * 1000)}};
  {
    beast::error_code ec;
    tcp::resolver resolver{ioc};
    cfg.endpoints = resolver.resolve(url->host, url->port, ec);
    if (ec) {
      std::cerr << "warren_http_loadgen: cannot resolve " << url->host << ": "
                << ec.message() << "\n";
      return 2;
    }
  }
  cfg.call_prefix = R"({"jsonrpc":"2.0","id":)";
  if (cfg.tool_call) {
    rapidjson::StringBuffer name;
    rapidjson::Writer<rapidjson::StringBuffer> w{name};
    w.String(opts.tool.data(), static_cast<rapidjson::SizeType>(opts.tool.size()));
    rapidjson::StringBuffer args;
    rapidjson::Writer<rapidjson::StringBuffer> aw{args};
    args_doc.Accept(aw);
    cfg.call_suffix = R"(,"method":"tools/call","params":{"name":)" +
                      std::string{name.GetString()} + R"(,"arguments":)" +
                      args.GetString() + "}}";
  } else {
    cfg.call_suffix = R"(,"method":"ping"})";
  }

  coordinator coord{ioc, opts};
  std::vector<std::shared_ptr<session>> sessions;
  sessions.reserve(opts.sessions);
  for (std::size_t i = 0; i < opts.sessions; ++i)
    sessions.push_back(std::make_shared<session>(i, ioc, cfg, coord));

  net::steady_timer deadline{ioc};
  deadline.expires_after(
      std::chrono::milliseconds{static_cast<int64_t>(opts.timeout_s * 1000)});
  deadline.async_wait([&coord, &opts](beast::error_code ec) {
    if (!ec)
      coord.give_up("the run did not end within " + std::to_string(opts.timeout_s) +
                    " s (--timeout)");
  });
  coord.start(sessions);
  std::vector<std::thread> extra;
  for (std::size_t i = 1; i < opts.threads; ++i)
    extra.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : extra)
    t.join();

  // Everything below reads the sessions with no handler running any more.
  std::vector<int64_t> latencies;
  std::array<std::size_t, phase_count> errors{};
  std::map<std::string, std::size_t> kinds;
  std::size_t answered = 0;
  std::size_t late = 0;
  for (auto& s : sessions) {
    latencies.insert(latencies.end(), s->latencies_ns.begin(), s->latencies_ns.end());
    for (std::size_t p = 0; p < phase_count; ++p)
      errors[p] += s->errors[p];
    for (auto& [kind, n] : s->error_kinds)
      kinds[kind] += n;
    answered += s->measured_answered;
    late += s->late;
  }
  std::size_t total_errors = 0;
  for (auto n : errors)
    total_errors += n;
  // Measured calls never sent: their session died first, or the run timed out.
  auto planned = coord.connected * opts.requests_per_session;
  auto unsent = planned > answered ? planned - answered : 0;
  std::sort(latencies.begin(), latencies.end());

  for (auto& sample : coord.samples())
    std::cerr << "warren_http_loadgen: error: " << sample << "\n";
  if (coord.noted() > coord.samples().size())
    std::cerr << "warren_http_loadgen: ... and "
              << coord.noted() - coord.samples().size() << " more errors\n";
  if (!coord.failure().empty())
    std::cerr << "warren_http_loadgen: " << coord.failure() << "\n";

  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto key = [&w](const char* k) { w.Key(k); };
  auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
  w.StartObject();
  key("url");
  w.String(opts.url.c_str());
  key("method");
  w.String(opts.method.c_str());
  if (cfg.tool_call) {
    key("tool");
    w.String(opts.tool.c_str());
  }
  key("sessions");
  w.Uint64(opts.sessions);
  key("connected");
  w.Uint64(coord.connected);
  key("threads");
  w.Uint64(opts.threads);
  key("rate_per_session");
  w.Double(opts.rate_per_session);
  key("warmup_per_session");
  w.Uint64(opts.warmup_per_session);
  key("requests_per_session");
  w.Uint64(opts.requests_per_session);
  key("requests");
  w.Uint64(answered);
  key("ok");
  w.Uint64(latencies.size());
  key("errors");
  w.Uint64(total_errors);
  for (std::size_t p = 0; p < phase_count; ++p) {
    auto name = std::string{"errors_"} + phase_name(static_cast<phase>(p));
    w.Key(name.c_str());
    w.Uint64(errors[p]);
  }
  key("error_kinds");
  w.StartObject();
  for (auto& [kind, n] : kinds) {
    w.Key(kind.c_str());
    w.Uint64(n);
  }
  w.EndObject();
  key("unsent");
  w.Uint64(unsent);
  if (opts.rate_per_session > 0) {
    key("late");
    w.Uint64(late);
  }
  key("ramp_s");
  w.Double(round3(coord.ramp_s));
  key("duration_s");
  w.Double(round3(coord.measured_s));
  key("throughput");
  w.Double(std::round(coord.measured_s > 0
                          ? static_cast<double>(latencies.size()) / coord.measured_s
                          : 0));
  key("p50_ms");
  w.Double(round3(percentile_ms(latencies, 0.50)));
  key("p95_ms");
  w.Double(round3(percentile_ms(latencies, 0.95)));
  key("p99_ms");
  w.Double(round3(percentile_ms(latencies, 0.99)));
  key("max_ms");
  w.Double(round3(latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1e6));
  key("failure");
  w.String(coord.failure().c_str());
  w.EndObject();
  std::cout << buf.GetString() << std::endl;

  bool clean = total_errors == 0 && unsent == 0 && coord.failure().empty() &&
               coord.connected == opts.sessions;
  return clean ? 0 : 1;
}
