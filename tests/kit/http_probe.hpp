#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "tests/kit/broker_env.hpp"
#include "tests/kit/subprocess.hpp"

namespace warren {

/// Header fields as sent or received, in order ("Name", "value").
using http_fields = std::vector<std::pair<std::string, std::string>>;

/// One Server-Sent Event: its type ("message" when the stream named none) and its
/// data lines joined with '\n'.
struct sse_event {
  std::string name;
  std::string data;
};

/// The events in a text/event-stream body, in order. Comment lines (": keepalive")
/// and events without data are skipped, as a browser's EventSource does; an event
/// not ended by a blank line is left out.
std::vector<sse_event> parse_sse(std::string_view text);

/// A response as the test client saw it.
struct http_probe_response {
  int status = 0;
  http_fields headers;
  std::string body; ///< decoded (chunked framing removed)
  /// The parsed events when the answer is text/event-stream, else empty.
  std::vector<sse_event> events;

  /// The first header called `name` (compared without case), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  /// Content-Type without parameters, lower case ("" when absent).
  std::string media_type() const;
  bool is_sse() const { return media_type() == "text/event-stream"; }
};

/// A small blocking HTTP/1.1 client on Boost.Beast for the transport tests: one
/// kept-alive connection to a fixed address, reopened when the server closed it.
/// Requests carry exactly the given headers plus Host ("host:port" of the address,
/// unless the caller gives one) and Content-Length. Not thread-safe: a probe runs on
/// the thread that made it, whose probes share one I/O context, so that a thread can
/// hold thousands of connections.
class http_probe {
public:
  http_probe(std::string host, uint16_t port);
  ~http_probe();
  http_probe(const http_probe&) = delete;
  http_probe& operator=(const http_probe&) = delete;

  /// Writes a request and reads its whole response (an SSE answer until its last
  /// chunk). Fails with a message on connect, write or read errors and timeouts.
  caf::expected<http_probe_response>
  send(std::string_view method, std::string_view target, const http_fields& headers,
       std::string_view body,
       std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// The first half of send(): connects if need be and writes the request.
  caf::error
  write_request(std::string_view method, std::string_view target,
                const http_fields& headers, std::string_view body,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// The second half of send(): reads one whole response.
  caf::expected<http_probe_response>
  read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Writes a request and reads only the response's head, for answers that stream
  /// (a GET on /mcp, a POST answered with SSE); then next_event() reads the body as
  /// it comes. A response that is not a 200 event stream is read whole.
  caf::expected<http_probe_response>
  open_stream(std::string_view method, std::string_view target,
              const http_fields& headers, std::string_view body = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// The next event of the stream open_stream() began; nullopt when none came within
  /// `timeout` or the stream ended (see stream_ended()).
  std::optional<sse_event> next_event(std::chrono::milliseconds timeout);

  /// True once the streamed response was complete (its last chunk came) or the
  /// connection closed.
  bool stream_ended() const;

  /// Opens the connection now (send() does it when needed).
  caf::error connect(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  bool is_open() const;
  void close();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// How to start `warren serve --http ...` for a test.
struct http_warren_options {
  std::string binary;                 ///< "" = warren_binary_path()
  std::string listen = "127.0.0.1:0"; ///< --http; port 0: warren picks one
  std::vector<std::string> args;      ///< further flags after --http
  std::optional<broker_env> broker;   ///< adds broker_environment(*broker)
  std::vector<std::string> env;       ///< KEY=VALUE, applied after the broker's
  /// How long warren may take to say where it listens.
  std::chrono::milliseconds timeout = std::chrono::seconds(15);
};

/// A running `warren serve --http`.
struct http_warren {
  std::unique_ptr<subprocess> process;
  uint16_t port = 0;

  /// What warren wrote to stderr so far, for failure messages.
  std::string stderr_text() const {
    return process ? process->stderr_text() : std::string{};
  }
};

/// The port in warren's "warren serving MCP at http://HOST:PORT/mcp" log line (a JSON
/// line on stderr), or nullopt when no such line is in `stderr_text`.
std::optional<uint16_t> serving_port(std::string_view stderr_text);

/// Starts warren and waits until it logs the port it serves on. Fails with warren's
/// exit code (when it ended) and stderr in the message.
caf::expected<http_warren> start_http_warren(http_warren_options opts);

} // namespace warren
