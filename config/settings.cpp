#include "config/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string_view>

#include <toml++/toml.h>

#include "protocol/error.hpp"
#include "protocol/http_rules.hpp"

namespace warren {

namespace {

// --- the one table -------------------------------------------------------------------

enum class value_kind { text, count, millis, flag };

// A text check returns "" when the value is fine, else the complaint (without the
// source). It may derive fields (the management URL fills s.management).
using text_check = std::string (*)(settings& s);

struct key_spec {
  const char* key;
  const char* env;
  const char* flag;
  const char* placeholder;
  const char* help;
  value_kind kind;
  std::string settings::*text;
  std::size_t settings::*count;
  std::chrono::milliseconds settings::*millis;
  uint64_t min;
  uint64_t max;
  const char* unit; // appended to range messages: "ms", "bytes" or ""
  text_check check;
  bool secret;                       // never echo the value
  bool settings::*boolean = nullptr; // value_kind::flag
};

constexpr uint64_t kib = 1024;
constexpr uint64_t gib = kib * kib * kib;
constexpr uint64_t ten_minutes_ms = 10 * 60 * 1000;
constexpr uint64_t one_day_ms = 24 * 60 * 60 * 1000;

key_spec text_key(const char* key, const char* env, const char* flag,
                  const char* placeholder, const char* help,
                  std::string settings::*member, text_check check,
                  bool secret = false) {
  return {key,    env,     flag,    placeholder, help, value_kind::text,
          member, nullptr, nullptr, 0,           0,    "",
          check,  secret};
}

key_spec count_key(const char* key, const char* env, const char* flag, const char* help,
                   std::size_t settings::*member, uint64_t min, uint64_t max,
                   const char* unit = "") {
  return {key,    env,     flag, "N", help, value_kind::count, nullptr,
          member, nullptr, min,  max, unit, nullptr,           false};
}

key_spec millis_key(const char* key, const char* env, const char* flag,
                    const char* help, std::chrono::milliseconds settings::*member,
                    uint64_t min = 1, uint64_t max = ten_minutes_ms) {
  return {key, env, flag, "MS",    help, value_kind::millis, nullptr, nullptr, member,
          min, max, "ms", nullptr, false};
}

// A switch: "--allow-writes" on the command line, true/false in the file, 1/0 (or
// true/false, yes/no, on/off) in the environment.
key_spec flag_key(const char* key, const char* env, const char* flag, const char* help,
                  bool settings::*member) {
  key_spec spec{key,     env,     flag, "", help, value_kind::flag, nullptr,
                nullptr, nullptr, 0,    1,  "",   nullptr,          false};
  spec.boolean = member;
  return spec;
}

std::string check_management_url(settings& s);
std::string check_amqp_url(settings& s);
std::string check_user(settings& s);
std::string check_log_level(settings& s);
std::string check_metrics(settings& s);
std::string check_console_socket(settings& s);
std::string check_scheduler(settings& s);
std::string check_invalidation_exchange(settings& s);
std::string check_cache_backend(settings& s);
std::string check_redis_url(settings& s);
std::string check_tool_families(settings& s);
std::string check_pool_policy(settings& s);
std::string check_http_listen(settings& s);
std::string check_session_prefix(settings& s);

const std::vector<key_spec>& specs() {
  static const std::vector<key_spec> table = {
      text_key("rabbitmq.management_url", "RABBITMQ_MANAGEMENT_URL", "--management-url",
               "URL", "Base URL of the RabbitMQ management HTTP API (http:// only).",
               &settings::management_url, check_management_url),
      text_key("rabbitmq.url", "RABBITMQ_URL", "--amqp-url", "URL",
               "AMQP 0-9-1 URL of the broker, for publishing and getting messages.",
               &settings::amqp_url, check_amqp_url),
      text_key("rabbitmq.user", "RABBITMQ_USER", "--user", "NAME",
               "User for the management API.", &settings::user, check_user),
      text_key("rabbitmq.password", "RABBITMQ_PASSWORD", "--password", "SECRET",
               "Password for the management API. Prefer the environment variable "
               "RABBITMQ_PASSWORD: flags are visible to other users in ps.",
               &settings::password, nullptr, true),
      text_key("server.log_level", "WARREN_LOG_LEVEL", "--log-level", "LEVEL",
               "Log level: trace, debug, info, warn, error or off. Logs go to stderr.",
               &settings::log_level, check_log_level),
      text_key("server.metrics", "WARREN_METRICS", "--metrics", "HOST:PORT",
               "Serve Prometheus metrics at http://HOST:PORT/metrics (e.g. "
               "127.0.0.1:9464); empty: off.",
               &settings::metrics, check_metrics),
      text_key("server.console_socket", "WARREN_CONSOLE_SOCKET", "--console-socket",
               "PATH",
               "Unix socket (created with mode 0600) for `warren console` and "
               "`warren report`; empty: off.",
               &settings::console_socket, check_console_socket),
      count_key("server.max_line_bytes", "WARREN_MAX_LINE_BYTES", "--max-line-bytes",
                "Longest JSON-RPC line accepted from the client, in bytes.",
                &settings::max_line_bytes, kib, gib, "bytes"),
      count_key("server.max_in_flight", "WARREN_MAX_IN_FLIGHT", "--max-in-flight",
                "Requests one session may have in flight; reading pauses past it.",
                &settings::max_in_flight, 1, 100000),
      count_key("server.tools_page_size", "WARREN_TOOLS_PAGE_SIZE", "--tools-page-size",
                "Tools per tools/list page.", &settings::tools_page_size, 1, 1000),
      millis_key("server.request_timeout_ms", "WARREN_REQUEST_TIMEOUT_MS",
                 "--request-timeout-ms", "Deadline of one tool call, in milliseconds.",
                 &settings::request_timeout),
      millis_key("server.shutdown_grace_ms", "WARREN_SHUTDOWN_GRACE_MS",
                 "--shutdown-grace-ms",
                 "How long in-flight calls may finish after EOF or SIGTERM, in "
                 "milliseconds.",
                 &settings::shutdown_grace),
      flag_key("server.allow_writes", "WARREN_ALLOW_WRITES", "--allow-writes",
               "List and allow the tools that change the broker (create, delete, "
               "purge, publish, ...). Off by default: warren is read-only.",
               &settings::allow_writes),
      text_key("server.tools", "WARREN_TOOLS", "--tools", "FAMILIES",
               "Which tools to offer: direct (one tool per task), discovery "
               "(search-ids, get-id, call-id over the whole management API) or all.",
               &settings::tool_families, check_tool_families),
      count_key("server.max_body_bytes", "WARREN_MAX_BODY_BYTES", "--max-body-bytes",
                "get_messages cuts message bodies longer than this (and says so).",
                &settings::max_body_bytes, 16, gib, "bytes"),
      text_key("server.scheduler", "WARREN_SCHEDULER", "--scheduler", "POLICY",
               "Actor scheduler: sharing (idle workers sleep until woken; best when "
               "warren shares the machine) or stealing (idle workers poll; for "
               "dedicated cores).",
               &settings::scheduler, check_scheduler),
      count_key("server.scheduler_threads", "WARREN_SCHEDULER_THREADS",
                "--scheduler-threads",
                "Actor scheduler threads; 0 means one per CPU core over HTTP, and "
                "over stdio one fewer (at least one), leaving a core to the stdio "
                "and connection threads.",
                &settings::scheduler_threads, 0, 256),
      flag_key("server.conformance_fixtures", "WARREN_CONFORMANCE_FIXTURES",
               "--conformance-fixtures",
               "Also serve the fixture tools, resources, prompts and completions the "
               "official MCP conformance suite expects (for testing clients and "
               "warren itself).",
               &settings::conformance_fixtures),
      count_key("http_pool.min", "WARREN_HTTP_POOL_MIN", "--http-pool-min",
                "Management API connections kept open even when idle.",
                &settings::http_pool_min, 0, 1000),
      count_key("http_pool.max", "WARREN_HTTP_POOL_MAX", "--http-pool-max",
                "Most management API connections open at once.",
                &settings::http_pool_max, 1, 1000),
      millis_key("http_pool.idle_timeout_ms", "WARREN_HTTP_IDLE_TIMEOUT_MS",
                 "--http-idle-timeout-ms",
                 "Idle management API connections above the minimum close after this "
                 "many milliseconds.",
                 &settings::http_idle_timeout),
      millis_key("http_pool.connect_timeout_ms", "WARREN_HTTP_CONNECT_TIMEOUT_MS",
                 "--http-connect-timeout-ms",
                 "Deadline for opening a management API connection, in milliseconds.",
                 &settings::http_connect_timeout),
      count_key("amqp_pool.max", "WARREN_AMQP_POOL_MAX", "--amqp-pool-max",
                "Most AMQP connections (one confirm-mode channel each) per vhost.",
                &settings::amqp_pool_max, 1, 1000),
      text_key("pool.policy", "WARREN_POOL_POLICY", "--pool-policy", "POLICY",
               "What a request does when every connection of its pool is busy: block "
               "(wait up to pool.wait_ms), queue (wait up to its own deadline) or "
               "fail_fast (fail at once); block and queue hold at most pool.queue "
               "waiting requests per pool.",
               &settings::pool_policy, check_pool_policy),
      millis_key("pool.wait_ms", "WARREN_POOL_WAIT_MS", "--pool-wait-ms",
                 "Longest wait for a free connection under the block policy, in "
                 "milliseconds.",
                 &settings::pool_wait),
      count_key("pool.queue", "WARREN_POOL_QUEUE", "--pool-queue",
                "Requests that may wait for a free connection in each pool; past it "
                "they fail fast.",
                &settings::pool_queue, 0, 100000),
      count_key("breaker.failures", "WARREN_BREAKER_FAILURES", "--breaker-failures",
                "Consecutive failed calls to a backend that open its circuit breaker.",
                &settings::breaker_failures, 1, 100000),
      count_key("breaker.failure_rate", "WARREN_BREAKER_FAILURE_RATE",
                "--breaker-failure-rate",
                "Percent of failed calls within the window that opens the breaker "
                "(once the window holds breaker.min_calls calls); 0 turns this rule "
                "off.",
                &settings::breaker_failure_rate, 0, 100, "%"),
      count_key("breaker.min_calls", "WARREN_BREAKER_MIN_CALLS", "--breaker-min-calls",
                "Calls the window must hold before the failure rate can open the "
                "breaker.",
                &settings::breaker_min_calls, 1, 1000000),
      millis_key("breaker.window_ms", "WARREN_BREAKER_WINDOW_MS", "--breaker-window-ms",
                 "The sliding window over which the failure rate is measured, in "
                 "milliseconds.",
                 &settings::breaker_window),
      millis_key("breaker.open_ms", "WARREN_BREAKER_OPEN_MS", "--breaker-open-ms",
                 "How long an open breaker fails calls at once before it lets probe "
                 "calls through, in milliseconds.",
                 &settings::breaker_open),
      count_key("breaker.probes", "WARREN_BREAKER_PROBES", "--breaker-probes",
                "Probe calls a half-open breaker lets through; all must succeed for it "
                "to close.",
                &settings::breaker_probes, 1, 1000),
      count_key("retry.attempts", "WARREN_RETRY_ATTEMPTS", "--retry-attempts",
                "Tries of an idempotent management API read in all, the first "
                "included; 1 turns retries off.",
                &settings::retry_attempts, 1, 10),
      millis_key(
          "retry.base_ms", "WARREN_RETRY_BASE_MS", "--retry-base-ms",
          "The first retry waits a random time up to this, in milliseconds; each "
          "further one up to retry.factor times longer.",
          &settings::retry_base),
      count_key("retry.factor", "WARREN_RETRY_FACTOR", "--retry-factor",
                "How much the longest wait grows from one retry to the next.",
                &settings::retry_factor, 1, 10),
      millis_key("retry.max_ms", "WARREN_RETRY_MAX_MS", "--retry-max-ms",
                 "Longest wait before a retry, in milliseconds.", &settings::retry_max),
      count_key("retry.budget_percent", "WARREN_RETRY_BUDGET_PERCENT",
                "--retry-budget-percent",
                "Retries stay under this percent of calls (plus a reserve of 10), so "
                "that a failing broker does not get more load.",
                &settings::retry_budget_percent, 0, 100, "%"),
      count_key("cache.ttl_lists", "CACHE_TTL_LISTS", "--cache-ttl-lists",
                "Seconds a read result (lists, queue details, overview) stays cached; "
                "0 turns the cache off.",
                &settings::cache_ttl_lists, 0, 86400, "s"),
      count_key("cache.max_size", "CACHE_MAX_SIZE", "--cache-max-size",
                "Most cached results, all shards together.", &settings::cache_max_size,
                0, 10000000),
      count_key("cache.max_bytes", "CACHE_MAX_BYTES", "--cache-max-bytes",
                "Most bytes of cached results, all shards together.",
                &settings::cache_max_bytes, 0, 64 * gib, "bytes"),
      count_key("cache.shards", "WARREN_CACHE_SHARDS", "--cache-shards",
                "Cache shard actors; 0 picks a power of two at least four times the "
                "scheduler threads.",
                &settings::cache_shards, 0, 1024),
      millis_key("cache.settle_ms", "WARREN_CACHE_SETTLE_MS", "--cache-settle-ms",
                 "After a write, results fetched for the keys it touched are kept only "
                 "until this long after it: the management API's statistics trail the "
                 "broker by a few seconds.",
                 &settings::cache_settle),
      millis_key("cache.merge_wait_ms", "WARREN_CACHE_MERGE_WAIT_MS",
                 "--cache-merge-wait-ms",
                 "With the cache off (cache.ttl_lists 0), after a fetch that several "
                 "clients shared, the next fetch of that key waits up to this long "
                 "for as many to ask again, so that they share it too; 0 begins it "
                 "at once.",
                 &settings::cache_merge_wait, 0, 1000),
      text_key("cache.warm_vhosts", "WARREN_CACHE_WARM_VHOSTS", "--cache-warm-vhosts",
               "VHOSTS",
               "Comma-separated vhosts whose queue, exchange and binding lists are "
               "fetched into the cache at start, without delaying the first answer.",
               &settings::cache_warm_vhosts, nullptr),
      text_key("cache.backend", "CACHE_BACKEND", "--cache-backend", "BACKEND",
               "memory (in-process shards only) or redis (a shared L2 behind them, at "
               "REDIS_URL).",
               &settings::cache_backend, check_cache_backend),
      text_key("cache.redis_url", "REDIS_URL", "--redis-url", "URL",
               "Where the Redis L2 cache lives: redis://[:password@]host[:port][/db].",
               &settings::redis_url, check_redis_url),
      text_key("cache.invalidation_exchange", "WARREN_CACHE_INVALIDATION_EXCHANGE",
               "--cache-invalidation-exchange", "NAME",
               "Fanout exchange on which warren instances sharing a broker tell each "
               "other which cached results their writes made stale; empty keeps each "
               "cache to itself.",
               &settings::cache_invalidation_exchange, check_invalidation_exchange),
      count_key("batch.max_items", "WARREN_BATCH_MAX_ITEMS", "--batch-max-items",
                "Most items one batch tool call may carry; a bigger batch is refused "
                "before any work.",
                &settings::batch_max_items, 1, 100000),
      count_key("batch.max_bytes", "WARREN_BATCH_MAX_BYTES", "--batch-max-bytes",
                "Most bytes of arguments one batch tool call may carry; a bigger "
                "batch is refused before any work.",
                &settings::batch_max_bytes, 1, gib, "bytes"),
      count_key("batch.parallelism", "WARREN_BATCH_PARALLELISM", "--batch-parallelism",
                "Items (or chunks of messages) a batch job runs at once, unless the "
                "call asks for another number.",
                &settings::batch_parallelism, 1, 64),
      count_key("batch.confirm_window", "WARREN_BATCH_CONFIRM_WINDOW",
                "--batch-confirm-window",
                "Published messages a batch may have waiting for their publisher "
                "confirm on one channel.",
                &settings::batch_confirm_window, 1, 10000),
      millis_key("batch.timeout_ms", "WARREN_BATCH_TIMEOUT_MS", "--batch-timeout-ms",
                 "Deadline of one batch job, in milliseconds; items not started by "
                 "then are skipped.",
                 &settings::batch_timeout),
      text_key("http.listen", "WARREN_HTTP", "--http", "HOST:PORT",
               "Serve MCP over Streamable HTTP at http://HOST:PORT/mcp instead of "
               "stdio (e.g. 127.0.0.1:8765; port 0 picks a free one, logged at start). "
               "Off loopback a bearer token is required.",
               &settings::http_listen, check_http_listen),
      text_key("http.token", "WARREN_HTTP_TOKEN", "--http-token", "SECRET",
               "Bearer token every HTTP request must carry (Authorization: Bearer "
               "...). Prefer the environment variable or http.token_file.",
               &settings::http_token, nullptr, true),
      text_key("http.token_file", "WARREN_HTTP_TOKEN_FILE", "--http-token-file", "PATH",
               "File whose first line is the bearer token (instead of http.token).",
               &settings::http_token_file, nullptr),
      text_key("http.allowed_hosts", "WARREN_HTTP_ALLOWED_HOSTS",
               "--http-allowed-hosts", "HOSTS",
               "Comma-separated Host header values accepted besides the listen "
               "address (e.g. a load balancer's name: mcp.example.com).",
               &settings::http_allowed_hosts, nullptr),
      text_key("http.allowed_origins", "WARREN_HTTP_ALLOWED_ORIGINS",
               "--http-allowed-origins", "ORIGINS",
               "Comma-separated browser Origins accepted besides the listen address's "
               "own (e.g. https://console.example.com).",
               &settings::http_allowed_origins, nullptr),
      key_spec{"http.session_idle_ms", "WARREN_HTTP_SESSION_IDLE_MS",
               "--http-session-idle-ms", "MS",
               "An HTTP session with no request and no open stream for this many "
               "milliseconds ends; its id then answers 404.",
               value_kind::millis, nullptr, nullptr, &settings::http_session_idle, 1000,
               one_day_ms, "ms", nullptr, false},
      count_key("http.max_sessions", "WARREN_HTTP_MAX_SESSIONS", "--http-max-sessions",
                "Most HTTP sessions open at once; past it initialize is refused (503).",
                &settings::http_max_sessions, 1, 1000000),
      count_key("http.rate_session", "WARREN_HTTP_RATE_SESSION", "--http-rate-session",
                "Requests per second one HTTP session may send (bursts of twice that); "
                "past it warren answers 429 with Retry-After. 0 turns it off.",
                &settings::http_rate_session, 0, 1000000),
      count_key("http.rate_global", "WARREN_HTTP_RATE_GLOBAL", "--http-rate-global",
                "Requests per second all HTTP clients together may send (bursts of "
                "twice that); 0 turns it off.",
                &settings::http_rate_global, 0, 10000000),
      count_key("http.threads", "WARREN_HTTP_THREADS", "--http-threads",
                "Threads serving HTTP connections (the work itself runs on the actor "
                "scheduler).",
                &settings::http_threads, 1, 64),
      text_key("http.session_prefix", "WARREN_HTTP_SESSION_PREFIX",
               "--http-session-prefix", "PREFIX",
               "Text (up to 32 letters, digits, '.', '_' or '-') that starts every "
               "session id of this instance, so that a load balancer can send each "
               "session's requests to the instance that holds it (e.g. w1-).",
               &settings::http_session_prefix, check_session_prefix),
  };
  return table;
}

const key_spec* find_spec(std::string_view key) {
  for (const auto& spec : specs())
    if (key == spec.key)
      return &spec;
  return nullptr;
}

// --- small text helpers --------------------------------------------------------------

std::string lower(std::string_view text) {
  std::string result(text);
  for (auto& c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Quotes a value for an error message; control characters are escaped so that a
// stray byte cannot garble the operator's terminal.
std::string shown_value(std::string_view text) {
  std::string result = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      result += '\\';
      result += c;
    } else if (u < 0x20 || u == 0x7f) {
      static const char* hex = "0123456789abcdef";
      result += "\\x";
      result += hex[u >> 4];
      result += hex[u & 0xf];
    } else {
      result += c;
    }
  }
  result += '"';
  return result;
}

// Replaces the password part of a URL's user info with "***" (amqp://guest:***@host),
// so URLs can be echoed in errors and in `config check` output.
std::string redact_userinfo(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return url;
  auto authority_begin = scheme_end + 3;
  // The last '@' before any query, not before the first '/': a password may hold an
  // unescaped '/', and over-redacting an odd URL is better than leaking a secret.
  auto end = std::min(url.find_first_of("?#", authority_begin), url.size());
  auto at = url.rfind('@', end == 0 ? 0 : end - 1);
  if (at == std::string::npos || at < authority_begin)
    return url;
  auto colon = url.find(':', authority_begin);
  auto user_end = (colon != std::string::npos && colon < at) ? colon : at;
  return url.substr(0, user_end) + ":***" + url.substr(at);
}

std::string with_source(std::string message, const std::string& source) {
  if (!source.empty())
    message += "; " + source;
  return message;
}

caf::error config_error(std::string message) {
  return make_error(ec::invalid_config, std::move(message));
}

std::string range_text(const key_spec& spec) {
  std::string result =
      "between " + std::to_string(spec.min) + " and " + std::to_string(spec.max);
  if (*spec.unit != '\0')
    result += std::string(" ") + spec.unit;
  return result;
}

uint64_t number_of(const settings& s, const key_spec& spec) {
  if (spec.kind == value_kind::count)
    return s.*spec.count;
  if (spec.kind == value_kind::flag)
    return s.*spec.boolean ? 1 : 0;
  auto ms = (s.*spec.millis).count();
  return ms < 0 ? 0 : static_cast<uint64_t>(ms);
}

std::string value_text(const settings& s, const key_spec& spec) {
  if (spec.kind == value_kind::text)
    return s.*spec.text;
  if (spec.kind == value_kind::flag)
    return s.*spec.boolean ? "true" : "false";
  auto ms = spec.kind == value_kind::millis ? (s.*spec.millis).count() : 0;
  if (ms < 0)
    return std::to_string(ms);
  return std::to_string(number_of(s, spec));
}

// --- setting one value ---------------------------------------------------------------

caf::error range_error(const key_spec& spec, const std::string& shown,
                       const std::string& source) {
  return config_error(with_source("invalid value for " + std::string(spec.key) + ": " +
                                      shown + " (must be " + range_text(spec) + ")",
                                  source));
}

// Stores a number that has been parsed already; out-of-range values are refused here
// so that the error can say where they came from.
caf::error set_number(settings& s, const key_spec& spec, uint64_t value,
                      const std::string& source) {
  if (value < spec.min || value > spec.max)
    return range_error(spec, std::to_string(value), source);
  if (spec.kind == value_kind::count)
    s.*spec.count = static_cast<std::size_t>(value);
  else
    s.*spec.millis = std::chrono::milliseconds{static_cast<int64_t>(value)};
  return {};
}

// Applies a value given as text (environment variable or flag).
caf::error set_from_text(settings& s, const key_spec& spec, const std::string& value,
                         const std::string& source) {
  if (spec.kind == value_kind::text) {
    s.*spec.text = value;
    return {};
  }
  if (spec.kind == value_kind::flag) {
    auto v = lower(value);
    if (v == "1" || v == "true" || v == "yes" || v == "on") {
      s.*spec.boolean = true;
      return {};
    }
    if (v == "0" || v == "false" || v == "no" || v == "off") {
      s.*spec.boolean = false;
      return {};
    }
    return config_error(with_source("invalid value for " + std::string(spec.key) +
                                        ": " + shown_value(value) +
                                        " (must be 1 or 0, true or false)",
                                    source));
  }
  uint64_t number = 0;
  auto first = value.data();
  auto last = value.data() + value.size();
  auto [ptr, err] = std::from_chars(first, last, number);
  if (value.empty() || err != std::errc{} || ptr != last)
    return config_error(with_source(
        "invalid value for " + std::string(spec.key) + ": " + shown_value(value) +
            " (must be a whole number " + range_text(spec) + ")",
        source));
  return set_number(s, spec, number, source);
}

std::string type_name(toml::node_type type) {
  std::ostringstream os;
  os << type;
  return os.str();
}

caf::error set_from_toml(settings& s, const key_spec& spec, const toml::node& node,
                         const std::string& source) {
  if (spec.kind == value_kind::flag) {
    if (auto flag = node.value_exact<bool>()) {
      s.*spec.boolean = *flag;
      return {};
    }
    return config_error(with_source("invalid value for " + std::string(spec.key) +
                                        ": expected true or false, got " +
                                        type_name(node.type()),
                                    source));
  }
  if (spec.kind == value_kind::text) {
    if (auto text = node.value_exact<std::string>()) {
      s.*spec.text = *text;
      return {};
    }
    return config_error(with_source("invalid value for " + std::string(spec.key) +
                                        ": expected a string, got " +
                                        type_name(node.type()),
                                    source));
  }
  if (auto number = node.value_exact<int64_t>()) {
    if (*number < 0)
      return range_error(spec, std::to_string(*number), source);
    return set_number(s, spec, static_cast<uint64_t>(*number), source);
  }
  return config_error(with_source("invalid value for " + std::string(spec.key) +
                                      ": expected an integer " + range_text(spec) +
                                      ", got " + type_name(node.type()),
                                  source));
}

// --- the config file -----------------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_key_error(const std::string& key, const std::string& file) {
  std::string message = "unknown key " + key + " in " + file;
  const key_spec* best = nullptr;
  std::size_t best_distance = 4; // suggest only near misses
  for (const auto& spec : specs()) {
    auto distance = edit_distance(key, spec.key);
    if (distance < best_distance) {
      best = &spec;
      best_distance = distance;
    }
  }
  if (best != nullptr)
    message += " (did you mean " + std::string(best->key) + "?)";
  return message;
}

caf::expected<toml::table> read_toml(const std::string& file) {
  std::error_code fs_err;
  auto status = std::filesystem::status(file, fs_err);
  if (!std::filesystem::exists(status))
    return config_error("config file " + file + " does not exist");
  if (std::filesystem::is_directory(status))
    return config_error("config file " + file + " is a directory, not a file");
#if TOML_EXCEPTIONS
  try {
    return toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return config_error(
        "cannot parse config file " + file + ":" + std::to_string(where.line) + ":" +
        std::to_string(where.column) + ": " + std::string(e.description()));
  }
#else
  auto result = toml::parse_file(file);
  if (!result) {
    const auto& where = result.error().source().begin;
    return config_error("cannot parse config file " + file + ":" +
                        std::to_string(where.line) + ":" +
                        std::to_string(where.column) + ": " +
                        std::string(result.error().description()));
  }
  return std::move(result).table();
#endif
}

caf::error apply_file(settings& s, const std::string& file,
                      std::map<std::string, std::string>& sources) {
  auto doc = read_toml(file);
  if (!doc)
    return std::move(doc.error());
  auto source = "set in config file " + file;
  for (const auto& [section_name, section] : *doc) {
    std::string section_key(section_name.str());
    const auto* table = section.as_table();
    if (table == nullptr)
      return config_error(unknown_key_error(section_key, file));
    for (const auto& [name, node] : *table) {
      auto key = section_key + "." + std::string(name.str());
      const auto* spec = find_spec(key);
      if (spec == nullptr)
        return config_error(unknown_key_error(key, file));
      if (auto err = set_from_toml(s, *spec, node, source))
        return err;
      sources[key] = source;
    }
  }
  return {};
}

// --- checks of text values -----------------------------------------------------------

std::string check_management_url(settings& s) {
  const std::string& url = s.management_url;
  const std::string prefix = "rabbitmq.management_url: ";
  auto shown = shown_value(redact_userinfo(url));
  auto scheme_end = url.find("://");
  auto scheme = lower(url.substr(0, scheme_end == std::string::npos ? 0 : scheme_end));
  if (scheme == "https")
    return prefix + shown + " is an https:// URL; https is not supported yet, use " +
           "http://";
  if (scheme != "http")
    return prefix + shown + " is not an http:// URL (https is not supported yet)";
  auto rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string::npos)
    return prefix + shown + " must not contain a query or a fragment";
  auto path_begin = rest.find('/');
  auto authority = rest.substr(0, path_begin);
  auto path = path_begin == std::string::npos ? std::string{} : rest.substr(path_begin);
  if (authority.find('@') != std::string::npos)
    return "rabbitmq.management_url must not contain credentials; set rabbitmq.user "
           "and rabbitmq.password instead";
  if (std::any_of(url.begin(), url.end(), [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) ||
               std::iscntrl(static_cast<unsigned char>(c));
      }))
    return prefix + shown + " must not contain spaces or control characters";
  std::string host;
  std::string port_text;
  if (starts_with(authority, "[")) { // IPv6 literal: [::1]:15672
    auto close = authority.find(']');
    if (close == std::string::npos)
      return prefix + shown + " has an unterminated IPv6 address";
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':')
        return prefix + shown + " has junk after the IPv6 address";
      port_text = after.substr(1);
      if (port_text.empty())
        return prefix + shown + " has an empty port";
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty())
        return prefix + shown + " has an empty port";
    }
  }
  if (host.empty())
    return prefix + shown + " has no host";
  uint16_t port = 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto last = port_text.data() + port_text.size();
    auto [ptr, err] = std::from_chars(port_text.data(), last, value);
    if (err != std::errc{} || ptr != last || value < 1 || value > 65535)
      return prefix + shown + " has an invalid port (must be between 1 and 65535)";
    port = static_cast<uint16_t>(value);
  }
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  s.management.host = host;
  s.management.port = port;
  s.management.base_path = path;
  return {};
}

std::string check_amqp_url(settings& s) {
  auto scheme_end = s.amqp_url.find("://");
  auto scheme =
      lower(s.amqp_url.substr(0, scheme_end == std::string::npos ? 0 : scheme_end));
  auto shown = shown_value(redact_userinfo(s.amqp_url));
  if (scheme != "amqp")
    return "rabbitmq.url: " + shown +
           " is not an amqp:// URL (amqps is not supported yet)";
  auto rest = s.amqp_url.substr(scheme_end + 3);
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  auto host = authority.substr(
      authority.rfind('@') == std::string::npos ? 0 : authority.rfind('@') + 1);
  if (host.empty() || host[0] == ':')
    return "rabbitmq.url: " + shown + " has no host";
  return {};
}

std::string check_user(settings& s) {
  if (s.user.empty())
    return "rabbitmq.user must not be empty";
  return {};
}

// A value that must be one of a few words, in any case: stored in lower case, or the
// complaint that lists the words.
std::string check_choice(std::string& value, const char* key,
                         std::initializer_list<const char*> choices) {
  auto lowered = lower(value);
  std::string list;
  for (const char* choice : choices) {
    if (lowered == choice) {
      value = lowered;
      return {};
    }
    list += (list.empty() ? "" : ", ") + std::string{choice};
  }
  return std::string{key} + ": " + shown_value(value) + " is not one of " + list;
}

std::string check_log_level(settings& s) {
  return check_choice(s.log_level, "server.log_level",
                      {"trace", "debug", "info", "warn", "error", "off"});
}

// "" when `value` is empty or HOST:PORT, else the complaint. Port 0 (any free
// port) only where `any_port`.
std::string check_host_port(const std::string& value, const char* key,
                            const char* example, bool any_port = false) {
  if (value.empty())
    return {};
  auto colon = value.rfind(':');
  uint64_t port = 0;
  auto digits = colon == std::string::npos ? std::string_view{}
                                           : std::string_view{value}.substr(colon + 1);
  auto [ptr, err] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (colon == 0 || colon == std::string::npos || digits.empty() ||
      err != std::errc{} || ptr != digits.data() + digits.size() ||
      (port == 0 && !any_port) || port > 65535)
    return std::string{key} + ": " + shown_value(value) + " is not HOST:PORT (e.g. " +
           example + ")";
  return {};
}

std::string check_metrics(settings& s) {
  return check_host_port(s.metrics, "server.metrics", "127.0.0.1:9464");
}

std::string check_session_prefix(settings& s) {
  auto ok = s.http_session_prefix.size() <= 32 &&
            std::all_of(s.http_session_prefix.begin(), s.http_session_prefix.end(),
                        [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) ||
                                 c == '.' || c == '_' || c == '-';
                        });
  if (ok)
    return {};
  return "http.session_prefix: " + shown_value(s.http_session_prefix) +
         " must be at most 32 letters, digits, '.', '_' or '-'";
}

// Off loopback anyone who can reach the port could drive the broker: a token is a
// must there, checked before anything listens.
std::string check_http_listen(settings& s) {
  if (auto complaint =
          check_host_port(s.http_listen, "http.listen", "127.0.0.1:8765", true);
      !complaint.empty())
    return complaint;
  if (s.http_listen.empty() || !s.http_token.empty() || !s.http_token_file.empty())
    return {};
  if (is_loopback_host(
          std::string_view{s.http_listen}.substr(0, s.http_listen.rfind(':'))))
    return {};
  return "http.listen: " + shown_value(s.http_listen) +
         " is not a loopback address, so every request must carry a bearer token: set "
         "WARREN_HTTP_TOKEN (or http.token_file) and give clients the same token";
}

std::string check_console_socket(settings& s) {
  // sockaddr_un holds 108 bytes with the terminating zero.
  if (s.console_socket.size() > 107)
    return "server.console_socket: the path is " +
           std::to_string(s.console_socket.size()) +
           " bytes long; Unix socket paths can be at most 107";
  return {};
}

std::string check_tool_families(settings& s) {
  return check_choice(s.tool_families, "server.tools", {"direct", "discovery", "all"});
}

std::string check_pool_policy(settings& s) {
  return check_choice(s.pool_policy, "pool.policy", {"block", "queue", "fail_fast"});
}

std::string check_cache_backend(settings& s) {
  return check_choice(s.cache_backend, "cache.backend", {"memory", "redis"});
}

std::string check_redis_url(settings& s) {
  if (s.redis_url.rfind("redis://", 0) == 0 && s.redis_url.size() > 8)
    return {};
  return "cache.redis_url: " + shown_value(redact_userinfo(s.redis_url)) +
         " is not a redis:// URL";
}

std::string check_invalidation_exchange(settings& s) {
  if (s.cache_invalidation_exchange.size() > 255)
    return "cache.invalidation_exchange: an exchange name is at most 255 bytes";
  if (s.cache_invalidation_exchange.rfind("amq.", 0) == 0)
    return "cache.invalidation_exchange: names starting with amq. belong to the broker";
  return {};
}

std::string check_scheduler(settings& s) {
  return check_choice(s.scheduler, "server.scheduler", {"sharing", "stealing"});
}

// --- validation ----------------------------------------------------------------------

caf::error validate_impl(settings& s,
                         const std::map<std::string, std::string>& sources) {
  auto source_of = [&](const std::string& key) {
    auto i = sources.find(key);
    return i == sources.end() ? std::string{} : i->second;
  };
  for (const auto& spec : specs()) {
    if (spec.kind == value_kind::text) {
      if (spec.check == nullptr)
        continue;
      auto complaint = spec.check(s);
      if (!complaint.empty())
        return config_error(with_source(std::move(complaint), source_of(spec.key)));
      continue;
    }
    if (spec.kind == value_kind::flag)
      continue;
    auto value = number_of(s, spec);
    if (value < spec.min || value > spec.max)
      return range_error(spec, value_text(s, spec), source_of(spec.key));
  }
  if (s.http_pool_min > s.http_pool_max) {
    std::string message = "http_pool.min (" + std::to_string(s.http_pool_min) +
                          ") must not exceed http_pool.max (" +
                          std::to_string(s.http_pool_max) + ")";
    for (const char* key : {"http_pool.min", "http_pool.max"})
      if (auto source = source_of(key); !source.empty())
        message += "; " + std::string(key) + " " + source;
    return config_error(std::move(message));
  }
  return {};
}

std::string toml_string(const std::string& text) {
  std::ostringstream os;
  os << toml::value<std::string>{text};
  return os.str();
}

std::string section_of(const key_spec& spec) {
  std::string_view key = spec.key;
  return std::string(key.substr(0, key.find('.')));
}

} // namespace

const std::vector<setting_key>& setting_keys() {
  static const std::vector<setting_key> keys = [] {
    std::vector<setting_key> result;
    settings defaults;
    for (const auto& spec : specs())
      result.push_back(
          {spec.key, spec.env, spec.flag, spec.placeholder, spec.help,
           spec.secret ? std::string{} : redact_userinfo(value_text(defaults, spec)),
           spec.kind == value_kind::flag});
    return result;
  }();
  return keys;
}

std::optional<std::string> process_env(const std::string& name) {
  if (const char* value = std::getenv(name.c_str()))
    return std::string(value);
  return std::nullopt;
}

caf::expected<settings> load_settings(const std::optional<std::string>& config_file,
                                      const env_lookup& env,
                                      const std::map<std::string, std::string>& flags) {
  try {
    settings s;
    std::map<std::string, std::string> sources; // key -> where its value came from
    if (config_file)
      if (auto err = apply_file(s, *config_file, sources))
        return err;
    for (const auto& spec : specs()) {
      auto value = env ? env(spec.env) : std::nullopt;
      // An empty variable counts as unset: compose files and wrappers often pass
      // variables through empty.
      if (!value || value->empty())
        continue;
      auto source = "set by environment variable " + std::string(spec.env);
      if (auto err = set_from_text(s, spec, *value, source))
        return err;
      sources[spec.key] = source;
    }
    for (const auto& [key, value] : flags) {
      const auto* spec = find_spec(key);
      if (spec == nullptr)
        return config_error("unknown setting " + shown_value(key));
      auto source = "set by flag " + std::string(spec->flag);
      if (auto err = set_from_text(s, *spec, value, source))
        return err;
      sources[key] = source;
    }
    if (auto err = validate_impl(s, sources))
      return err;
    return s;
  } catch (const std::exception& e) {
    return make_error(ec::internal, std::string("cannot load settings: ") + e.what());
  } catch (...) {
    return make_error(ec::internal, "cannot load settings: unknown failure");
  }
}

caf::error set_setting(settings& s, const std::string& key, const std::string& value) {
  try {
    const auto* spec = find_spec(key);
    if (spec == nullptr)
      return config_error("unknown setting " + shown_value(key) +
                          " (`config get` lists them all)");
    auto changed = s;
    if (auto err = set_from_text(changed, *spec, value, {}))
      return err;
    if (auto err = validate_impl(changed, {}))
      return err;
    s = std::move(changed);
    return {};
  } catch (const std::exception& e) {
    return make_error(ec::internal, std::string("cannot set ") + key + ": " + e.what());
  }
}

std::optional<std::string> setting_value(const settings& s, const std::string& key) {
  const auto* spec = find_spec(key);
  if (spec == nullptr)
    return std::nullopt;
  if (spec->secret)
    return std::string{"***"};
  return redact_userinfo(value_text(s, *spec));
}

caf::error validate(settings& s) {
  try {
    return validate_impl(s, {});
  } catch (const std::exception& e) {
    return make_error(ec::internal,
                      std::string("cannot validate settings: ") + e.what());
  } catch (...) {
    return make_error(ec::internal, "cannot validate settings: unknown failure");
  }
}

std::vector<std::string> setting_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = std::min(text.find(',', start), text.size());
    auto item = std::string_view{text}.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (!item.empty())
      items.emplace_back(item);
    start = end + 1;
  }
  return items;
}

std::string to_toml(const settings& s) {
  std::string out;
  std::string current_section;
  for (const auto& spec : specs()) {
    auto section = section_of(spec);
    if (section != current_section) {
      if (!current_section.empty())
        out += '\n';
      out += "[" + section + "]\n";
      current_section = section;
    }
    out += std::string(spec.key).substr(section.size() + 1) + " = ";
    if (spec.kind != value_kind::text)
      out += value_text(s, spec);
    else if (spec.secret)
      out += toml_string("***");
    else
      out += toml_string(redact_userinfo(s.*spec.text));
    out += '\n';
  }
  return out;
}

} // namespace warren
