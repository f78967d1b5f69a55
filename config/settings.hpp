#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace warren {

/// Where the management API lives, split out of RABBITMQ_MANAGEMENT_URL.
struct http_endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 15672;
  std::string base_path; ///< "" or a prefix such as "/rabbitmq", never a trailing '/'
};

/// Everything warren can be told. Defaults are the product's defaults; a value set in
/// the config file is overridden by the environment, which is overridden by flags.
struct settings {
  // [rabbitmq]
  std::string management_url = "http://127.0.0.1:15672"; ///< RABBITMQ_MANAGEMENT_URL
  std::string amqp_url = "amqp://guest:guest@127.0.0.1:5672/%2f"; ///< RABBITMQ_URL
  std::string user = "guest";                                     ///< RABBITMQ_USER
  std::string password = "guest"; ///< RABBITMQ_PASSWORD; never logged or echoed

  // [server]
  std::string log_level = "info";         ///< trace|debug|info|warn|error|off
  std::string metrics;                    ///< HOST:PORT serving /metrics; "" off
  std::string console_socket;             ///< Unix socket of the console; "" off
  std::size_t max_line_bytes = 10u << 20; ///< longest accepted JSON-RPC line
  std::size_t max_in_flight = 64;         ///< per session; reading pauses past it
  std::size_t tools_page_size = 50;       ///< tools/list page size
  std::chrono::milliseconds request_timeout{30000}; ///< deadline of one tool call
  std::chrono::milliseconds shutdown_grace{5000};   ///< how long in-flight calls may
                                                    ///< finish after EOF/SIGTERM
  /// CAF's scheduler. "sharing" wakes sleeping workers when work arrives; CAF's default
  /// "stealing" polls, which on a small shared machine takes CPU from the broker
  /// (measured: sharing serves 1.4x the list_queues calls at 16 in flight on 2 cores).
  std::string scheduler = "sharing";
  bool allow_writes = false;              ///< tools that change the broker are offered
  std::string tool_families = "all";      ///< direct | discovery | all
  std::size_t max_body_bytes = 64 * 1024; ///< get_messages cuts longer bodies
  std::size_t scheduler_threads = 0;      ///< 0: one per CPU core
  bool conformance_fixtures =
      false; ///< also serve the MCP conformance suite's fixtures

  // [http_pool]
  std::size_t http_pool_min = 5;
  std::size_t http_pool_max = 50;
  std::chrono::milliseconds http_idle_timeout{60000};
  std::chrono::milliseconds http_connect_timeout{5000};

  // [amqp_pool]
  std::size_t amqp_pool_max = 10; ///< AMQP connections per vhost

  // [pool]: what both pools do when every connection is busy
  std::string pool_policy = "block";          ///< block | fail_fast | queue
  std::chrono::milliseconds pool_wait{10000}; ///< block: longest wait for a connection
  std::size_t pool_queue = 1000;              ///< requests waiting, at most, per pool

  // [breaker]: one per backend (management API, AMQP, Redis)
  std::size_t breaker_failures = 5;      ///< consecutive failures that open it
  std::size_t breaker_failure_rate = 50; ///< percent of calls in the window; 0: off
  std::size_t breaker_min_calls = 20;    ///< calls in the window before the rate counts
  std::chrono::milliseconds breaker_window{30000};
  std::chrono::milliseconds breaker_open{60000}; ///< how long it refuses calls
  std::size_t breaker_probes = 3; ///< half-open calls that must succeed to close it

  // [retry]: idempotent management API reads only
  std::size_t retry_attempts = 3; ///< tries in all, the first included
  std::chrono::milliseconds retry_base{1000};
  std::size_t retry_factor = 2;
  std::chrono::milliseconds retry_max{10000};
  std::size_t retry_budget_percent = 10; ///< retries stay under this share of calls

  // [cache]
  std::size_t cache_ttl_lists = 60;         ///< seconds a read result is kept; 0: off
  std::size_t cache_max_size = 1000;        ///< entries, all shards together
  std::size_t cache_max_bytes = 100u << 20; ///< bytes, all shards together
  std::size_t cache_shards = 0;             ///< 0: a power of two >= 4x the threads
  std::chrono::milliseconds cache_settle{10000}; ///< results for keys a write touched
                                                 ///< are kept until this long after it
  std::chrono::milliseconds cache_merge_wait{5}; ///< ttl 0: a key several read at
                                                 ///< once waits this for them again
  std::string cache_backend = "memory"; ///< memory | redis (an L2 behind the shards)
  std::string cache_warm_vhosts;        ///< comma-separated vhosts listed at start
  std::string redis_url = "redis://127.0.0.1:6379/0"; ///< REDIS_URL, for redis
  /// Fanout exchange on which instances share their invalidations; "" keeps them local.
  std::string cache_invalidation_exchange = "warren.cache.invalidate";

  // [batch]
  std::size_t batch_max_items = 100;
  std::size_t batch_max_bytes = 10u << 20;
  std::size_t batch_parallelism = 10;
  std::size_t batch_confirm_window = 100;
  std::chrono::milliseconds batch_timeout{300000};

  // [http]: the Streamable HTTP transport (`warren serve --http HOST:PORT`)
  std::string http_listen;        ///< HOST:PORT of the MCP endpoint; "" serves stdio
  std::string http_token;         ///< bearer token clients must send; never logged
  std::string http_token_file;    ///< or a file holding it (first line)
  std::string http_allowed_hosts; ///< comma-separated extra Host values (host[:port])
  std::string
      http_allowed_origins; ///< comma-separated extra Origins (scheme://host[:port])
  std::chrono::milliseconds http_session_idle{600000}; ///< idle sessions end after it
  std::size_t http_max_sessions = 10000;
  std::size_t http_rate_session = 100;  ///< requests per second per session; 0: off
  std::size_t http_rate_global = 10000; ///< requests per second in all; 0: off
  std::size_t http_threads = 1;         ///< threads serving HTTP connections
  std::string http_session_prefix;      ///< starts this instance's session ids

  // Derived by validate(): the parsed management URL.
  http_endpoint management;
};

/// One settable key as the config file, the environment and the command line name it.
/// The single table of these lives in settings.cpp; the file, environment and flag
/// loaders and the CLI option registration all read it.
struct setting_key {
  std::string key;           ///< "http_pool.max", i.e. `max = ...` under [http_pool]
  std::string env;           ///< "WARREN_HTTP_POOL_MAX"
  std::string flag;          ///< "--http-pool-max"
  std::string placeholder;   ///< "N", "MS", "URL": the value's name in --help
  std::string help;          ///< one sentence for --help
  std::string default_value; ///< as text; empty for the password
  bool is_flag = false;      ///< a switch: the flag takes no value
};

/// Every settable key, in documentation order.
const std::vector<setting_key>& setting_keys();

/// Reads an environment variable; returns nullopt when it is not set. Injected so that
/// tests need not touch the process environment.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
std::optional<std::string> process_env(const std::string& name);

/// Builds settings from defaults, then the TOML file at `config_file` (if any), then
/// the environment, then `flags` (key → value, keys as in the config file, e.g.
/// "rabbitmq.management_url", "http_pool.max"). Validates the result. On error the
/// message names the offending key and says what is accepted.
caf::expected<settings> load_settings(const std::optional<std::string>& config_file,
                                      const env_lookup& env,
                                      const std::map<std::string, std::string>& flags);

/// Sets one key from text and validates the result, as a value from the environment
/// would be; on error `s` is unchanged and the error names the key and what it takes.
caf::error set_setting(settings& s, const std::string& key, const std::string& value);

/// The value of a key as text (the password as "***", URLs without their password);
/// nullopt for an unknown key.
std::optional<std::string> setting_value(const settings& s, const std::string& key);

/// Checks ranges and relations and fills `s.management`. The error names the key.
caf::error validate(settings& s);

/// The items of a comma-separated setting (cache.warm_vhosts, http.allowed_hosts, ...),
/// without the blanks around them; empty items are dropped.
std::vector<std::string> setting_list(const std::string& text);

/// The settings as TOML, with the password replaced by "***".
std::string to_toml(const settings& s);

} // namespace warren
