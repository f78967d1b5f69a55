#include "protocol/http_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "protocol/jsonrpc.hpp"
#include "protocol/mcp_session.hpp"

namespace warren {

namespace {

std::string lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

bool listed(const std::vector<std::string>& list, std::string_view value) {
  auto wanted = lower(trim(value));
  return std::find(list.begin(), list.end(), wanted) != list.end();
}

// "[::1]" and "::1" name the same host.
std::string bracketed(std::string_view host) {
  if (host.find(':') != std::string_view::npos && host.front() != '[')
    return "[" + std::string{host} + "]";
  return std::string{host};
}

} // namespace

std::string refusal_body(const http_refusal& refusal) {
  return R"({"jsonrpc":"2.0","id":null,"error":{"code":)" +
         std::to_string(refusal.code) + R"(,"message":)" + quote_json(refusal.message) +
         "}}";
}

bool is_loopback_host(std::string_view host) {
  auto h = lower(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

http_allow_list default_allow_list(std::string_view listen_host, uint16_t port) {
  http_allow_list allowed;
  auto p = ":" + std::to_string(port);
  std::vector<std::string> names{bracketed(lower(listen_host))};
  if (is_loopback_host(listen_host))
    for (auto name : {"127.0.0.1", "localhost", "[::1]"})
      if (std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(name);
  for (auto& name : names) {
    allowed.hosts.push_back(name + p);
    allowed.origins.push_back("http://" + name + p);
  }
  return allowed;
}

bool host_allowed(const http_allow_list& allowed, std::string_view host_header) {
  return listed(allowed.hosts, host_header);
}

bool origin_allowed(const http_allow_list& allowed,
                    std::optional<std::string_view> origin) {
  return !origin || listed(allowed.origins, *origin);
}

http_refusal check_protocol_version(std::optional<std::string_view> header) {
  if (!header)
    return {};
  auto version = trim(*header);
  for (auto known : supported_protocol_versions)
    if (version == known)
      return {};
  std::string list;
  for (auto known : supported_protocol_versions)
    list += (list.empty() ? "" : ", ") + std::string{known};
  return {400, -32600,
          "unsupported MCP-Protocol-Version '" + std::string{version.substr(0, 40)} +
              "'; warren speaks " + list};
}

bool accepts(std::optional<std::string_view> accept, std::string_view media_type) {
  if (!accept)
    return true;
  auto wanted = lower(media_type);
  auto family = wanted.substr(0, wanted.find('/')) + "/*";
  std::string_view rest = *accept;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    rest =
        comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto semi = item.find(';');
    auto type = lower(trim(item.substr(0, semi)));
    if (type != wanted && type != family && type != "*/*")
      continue;
    // A q=0 parameter rules the type out.
    bool refused = false;
    for (auto params = semi == std::string_view::npos ? std::string_view{}
                                                      : item.substr(semi + 1);
         !params.empty();) {
      auto next = params.find(';');
      auto param = lower(trim(params.substr(0, next)));
      params =
          next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      if (param.rfind("q=", 0) == 0 && std::strtod(param.c_str() + 2, nullptr) <= 0)
        refused = true;
    }
    if (!refused)
      return true;
  }
  return false;
}

bool bearer_matches(std::optional<std::string_view> authorization,
                    std::string_view token) {
  if (!authorization || token.empty())
    return false;
  auto value = trim(*authorization);
  if (value.size() < 7 || lower(value.substr(0, 7)) != "bearer ")
    return false;
  auto given = trim(value.substr(7));
  // Constant time in the token's length: no early exit on the first difference.
  unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(token[i]) ^
            static_cast<unsigned char>(i < given.size() ? given[i] : 0);
  return diff == 0;
}

bool valid_session_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 &&
         std::all_of(id.begin(), id.end(),
                     [](char c) { return c >= 0x21 && c <= 0x7e; });
}

token_bucket::token_bucket(double per_second, double burst)
    : per_second_(std::max(per_second, 0.0)), burst_(std::max(burst, 1.0)),
      tokens_(burst_) {}

double token_bucket::available(time_point now) const {
  if (!started_ || now <= last_)
    return tokens_;
  auto elapsed = std::chrono::duration<double>(now - last_).count();
  return std::min(burst_, tokens_ + elapsed * per_second_);
}

bool token_bucket::take(time_point now) {
  tokens_ = available(now);
  if (!started_ || now > last_)
    last_ = now;
  started_ = true;
  if (tokens_ < 1.0)
    return false;
  tokens_ -= 1.0;
  return true;
}

uint32_t token_bucket::seconds_until_next(time_point now) const {
  auto have = available(now);
  if (have >= 1.0)
    return 0;
  if (per_second_ <= 0)
    return 3600; // never refills: say an hour rather than forever
  return static_cast<uint32_t>(std::ceil((1.0 - have) / per_second_));
}

} // namespace warren
