#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The rules of MCP's Streamable HTTP transport (revision 2025-11-25) that need no
// socket: which requests are refused before they reach a session, with what status,
// and the token buckets that rate-limit them. The HTTP server (runtime/) applies them.
namespace warren {

/// The revision assumed when a request carries no MCP-Protocol-Version header.
inline constexpr std::string_view assumed_protocol_version = "2025-03-26";

/// Why a request is refused before any session sees it: an HTTP status and the
/// JSON-RPC error (without id) for its body. status 0: it may go on.
struct http_refusal {
  int status = 0;
  int code = -32600;
  std::string message;
  /// Seconds after which the client may try again (429), else 0.
  uint32_t retry_after_s = 0;

  explicit operator bool() const { return status != 0; }
};

/// {"jsonrpc":"2.0","id":null,"error":{"code":..,"message":..}}
std::string refusal_body(const http_refusal& refusal);

/// The Host and Origin values a listener accepts (the DNS-rebinding defence): by
/// default its own address, and for a loopback address every loopback name, on its
/// port; plus what the operator adds.
struct http_allow_list {
  std::vector<std::string> hosts;   ///< "host:port", lower case
  std::vector<std::string> origins; ///< "scheme://host:port", lower case
};

http_allow_list default_allow_list(std::string_view listen_host, uint16_t port);

/// True for 127.0.0.0/8, ::1 and localhost.
bool is_loopback_host(std::string_view host);

/// The Host header names an allowed host (compared without case).
bool host_allowed(const http_allow_list& allowed, std::string_view host_header);

/// No Origin header (not a browser) is allowed; a present one must be listed.
bool origin_allowed(const http_allow_list& allowed,
                    std::optional<std::string_view> origin);

/// 400 for an MCP-Protocol-Version warren does not speak; absent is fine (the
/// assumed revision).
http_refusal check_protocol_version(std::optional<std::string_view> header);

/// True when an Accept header admits `media_type` ("application/json"): listed, or
/// covered by "type/*" or "*/*", and not with q=0. An absent header admits anything.
bool accepts(std::optional<std::string_view> accept, std::string_view media_type);

/// "Bearer <token>" with exactly `token`, compared in constant time.
bool bearer_matches(std::optional<std::string_view> authorization,
                    std::string_view token);

/// A session id as the transport allows it: 1 to 128 visible ASCII characters.
bool valid_session_id(std::string_view id);

/// A token bucket: `burst` tokens at most, refilled at `per_second`.
class token_bucket {
public:
  using time_point = std::chrono::steady_clock::time_point;

  token_bucket(double per_second, double burst);

  /// Takes one token if there is one at `now`.
  bool take(time_point now);

  /// How long until a token will be there (0 if there is one now), rounded up to
  /// whole seconds as Retry-After wants them.
  uint32_t seconds_until_next(time_point now) const;

private:
  double available(time_point now) const;

  double per_second_;
  double burst_;
  double tokens_;
  time_point last_{};
  bool started_ = false;
};

} // namespace warren
