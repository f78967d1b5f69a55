#include "config/settings.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/unit/temp_dir.hpp"

#include "protocol/error.hpp"

using namespace warren;
using warren::test::temp_dir;

namespace {

using env_map = std::map<std::string, std::string>;

env_lookup env_of(env_map vars) {
  return
      [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto i = vars.find(name);
        if (i == vars.end())
          return std::nullopt;
        return i->second;
      };
}

const env_lookup no_env = env_of({});

// The message of the error load_settings reports; fails the test when it succeeds.
std::string load_error(const std::optional<std::string>& file, const env_map& env,
                       const std::map<std::string, std::string>& flags) {
  auto s = load_settings(file, env_of(env), flags);
  REQUIRE_FALSE(s);
  CHECK(code_of(s.error()) == ec::invalid_config);
  return message_of(s.error());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("settings: defaults load without a file, environment or flags") {
  auto s = load_settings(std::nullopt, no_env, {});
  REQUIRE(s);
  CHECK(s->management_url == "http://127.0.0.1:15672");
  CHECK(s->management.host == "127.0.0.1");
  CHECK(s->management.port == 15672);
  CHECK(s->management.base_path == "");
  CHECK(s->max_in_flight == 64);
  CHECK(s->http_pool_min == 5);
  CHECK(s->http_pool_max == 50);
  CHECK(s->log_level == "info");
}

TEST_CASE("settings: file is overridden by environment, environment by flags") {
  temp_dir dir;
  auto file = dir.write("warren.toml", R"(
[rabbitmq]
user = "from-file"
management_url = "http://file-host:1111"

[server]
max_in_flight = 10
log_level = "debug"
request_timeout_ms = 1000

[http_pool]
max = 20
min = 2
)");
  env_map env = {{"WARREN_MAX_IN_FLIGHT", "20"},
                 {"WARREN_LOG_LEVEL", "warn"},
                 {"RABBITMQ_MANAGEMENT_URL", "http://env-host:2222"},
                 {"WARREN_HTTP_POOL_MAX", "30"}};
  std::map<std::string, std::string> flags = {
      {"server.max_in_flight", "30"},
      {"rabbitmq.management_url", "http://flag-host:3333/api/"}};
  auto s = load_settings(file, env_of(env), flags);
  REQUIRE(s);
  // file only
  CHECK(s->user == "from-file");
  CHECK(s->http_pool_min == 2);
  CHECK(s->request_timeout == std::chrono::milliseconds{1000});
  // file < env
  CHECK(s->log_level == "warn");
  CHECK(s->http_pool_max == 30);
  // file < env < flags
  CHECK(s->max_in_flight == 30);
  CHECK(s->management.host == "flag-host");
  CHECK(s->management.port == 3333);
  CHECK(s->management.base_path == "/api");
  // untouched default
  CHECK(s->tools_page_size == 50);
}

TEST_CASE("settings: an empty environment variable counts as unset") {
  auto s = load_settings(std::nullopt, env_of({{"WARREN_MAX_IN_FLIGHT", ""}}), {});
  REQUIRE(s);
  CHECK(s->max_in_flight == 64);
}

TEST_CASE("settings: every key has one env var and one flag, all distinct") {
  const auto& keys = setting_keys();
  CHECK(keys.size() == 63);
  std::map<std::string, int> seen;
  for (const auto& key : keys) {
    CHECK(++seen[key.key] == 1);
    CHECK(++seen[key.env] == 1);
    CHECK(++seen[key.flag] == 1);
    CHECK_FALSE(key.help.empty());
  }
  for (const char* env : {"RABBITMQ_MANAGEMENT_URL",
                          "RABBITMQ_URL",
                          "RABBITMQ_USER",
                          "RABBITMQ_PASSWORD",
                          "WARREN_LOG_LEVEL",
                          "WARREN_METRICS",
                          "WARREN_CONSOLE_SOCKET",
                          "WARREN_MAX_LINE_BYTES",
                          "WARREN_MAX_IN_FLIGHT",
                          "WARREN_TOOLS_PAGE_SIZE",
                          "WARREN_REQUEST_TIMEOUT_MS",
                          "WARREN_SHUTDOWN_GRACE_MS",
                          "WARREN_SCHEDULER",
                          "WARREN_SCHEDULER_THREADS",
                          "WARREN_ALLOW_WRITES",
                          "WARREN_TOOLS",
                          "WARREN_MAX_BODY_BYTES",
                          "WARREN_HTTP_POOL_MIN",
                          "WARREN_HTTP_POOL_MAX",
                          "WARREN_HTTP_IDLE_TIMEOUT_MS",
                          "WARREN_HTTP_CONNECT_TIMEOUT_MS",
                          "WARREN_POOL_POLICY",
                          "WARREN_POOL_WAIT_MS",
                          "WARREN_POOL_QUEUE",
                          "WARREN_BREAKER_FAILURES",
                          "WARREN_BREAKER_FAILURE_RATE",
                          "WARREN_BREAKER_MIN_CALLS",
                          "WARREN_BREAKER_WINDOW_MS",
                          "WARREN_BREAKER_OPEN_MS",
                          "WARREN_BREAKER_PROBES",
                          "WARREN_RETRY_ATTEMPTS",
                          "WARREN_RETRY_BASE_MS",
                          "WARREN_RETRY_FACTOR",
                          "WARREN_RETRY_MAX_MS",
                          "WARREN_RETRY_BUDGET_PERCENT"})
    CHECK_MESSAGE(seen.count(env) == 1, env);
}

TEST_CASE("settings: each environment variable reaches its key") {
  // A value for every key that differs from its default and passes validation.
  std::map<std::string, std::string> values = {
      {"rabbitmq.management_url", "http://h:1/x"},
      {"rabbitmq.url", "amqp://u:p@h:5673/v"},
      {"rabbitmq.user", "alice"},
      {"rabbitmq.password", "pw-42"},
      {"server.log_level", "error"},
      {"server.metrics", "127.0.0.1:9999"},
      {"server.console_socket", "/run/warren.sock"},
      {"server.max_line_bytes", "2048"},
      {"server.max_in_flight", "7"},
      {"server.tools_page_size", "9"},
      {"server.request_timeout_ms", "11"},
      {"server.shutdown_grace_ms", "13"},
      {"server.scheduler", "stealing"},
      {"server.allow_writes", "1"},
      {"server.tools", "direct"},
      {"server.max_body_bytes", "1000"},
      {"server.scheduler_threads", "3"},
      {"server.conformance_fixtures", "1"},
      {"http_pool.min", "3"},
      {"http_pool.max", "4"},
      {"http_pool.idle_timeout_ms", "17"},
      {"http_pool.connect_timeout_ms", "19"},
      {"pool.policy", "fail_fast"},
      {"pool.wait_ms", "47"},
      {"pool.queue", "23"},
      {"breaker.failures", "53"},
      {"breaker.failure_rate", "59"},
      {"breaker.min_calls", "61"},
      {"breaker.window_ms", "67"},
      {"breaker.open_ms", "71"},
      {"breaker.probes", "73"},
      {"retry.attempts", "7"},
      {"retry.base_ms", "79"},
      {"retry.factor", "3"},
      {"retry.max_ms", "83"},
      {"retry.budget_percent", "89"},
      {"amqp_pool.max", "29"},
      {"cache.ttl_lists", "31"},
      {"cache.max_size", "37"},
      {"cache.max_bytes", "41"},
      {"cache.shards", "4"},
      {"cache.settle_ms", "43"},
      {"cache.merge_wait_ms", "0"},
      {"cache.invalidation_exchange", "my.inval"},
      {"cache.backend", "redis"},
      {"cache.warm_vhosts", "/,prod"},
      {"cache.redis_url", "redis://r:7000/2"},
      {"batch.max_items", "97"},
      {"batch.max_bytes", "101"},
      {"batch.parallelism", "3"},
      {"batch.confirm_window", "103"},
      {"batch.timeout_ms", "107"},
      {"http.listen", "0.0.0.0:8765"},
      {"http.token", "tok-109"},
      {"http.token_file", "/etc/warren/token"},
      {"http.allowed_hosts", "mcp.example.com"},
      {"http.allowed_origins", "https://ui.example.com"},
      {"http.session_idle_ms", "113000"},
      {"http.max_sessions", "127"},
      {"http.rate_session", "131"},
      {"http.rate_global", "137"},
      {"http.threads", "2"},
      {"http.session_prefix", "w1-"}};
  env_map env;
  for (const auto& key : setting_keys())
    env[key.env] = values.at(key.key);
  auto s = load_settings(std::nullopt, env_of(env), {});
  REQUIRE(s);
  CHECK(s->management_url == "http://h:1/x");
  CHECK(s->amqp_url == "amqp://u:p@h:5673/v");
  CHECK(s->user == "alice");
  CHECK(s->password == "pw-42");
  CHECK(s->log_level == "error");
  CHECK(s->metrics == "127.0.0.1:9999");
  CHECK(s->console_socket == "/run/warren.sock");
  CHECK(s->max_line_bytes == 2048);
  CHECK(s->max_in_flight == 7);
  CHECK(s->tools_page_size == 9);
  CHECK(s->request_timeout.count() == 11);
  CHECK(s->shutdown_grace.count() == 13);
  CHECK(s->scheduler == "stealing");
  CHECK(s->allow_writes);
  CHECK(s->tool_families == "direct");
  CHECK(s->max_body_bytes == 1000);
  CHECK(s->scheduler_threads == 3);
  CHECK(s->conformance_fixtures);
  CHECK(s->http_pool_min == 3);
  CHECK(s->http_pool_max == 4);
  CHECK(s->http_idle_timeout.count() == 17);
  CHECK(s->http_connect_timeout.count() == 19);
  CHECK(s->pool_policy == "fail_fast");
  CHECK(s->pool_wait.count() == 47);
  CHECK(s->pool_queue == 23);
  CHECK(s->breaker_failures == 53);
  CHECK(s->breaker_failure_rate == 59);
  CHECK(s->breaker_min_calls == 61);
  CHECK(s->breaker_window.count() == 67);
  CHECK(s->breaker_open.count() == 71);
  CHECK(s->breaker_probes == 73);
  CHECK(s->retry_attempts == 7);
  CHECK(s->retry_base.count() == 79);
  CHECK(s->retry_factor == 3);
  CHECK(s->retry_max.count() == 83);
  CHECK(s->retry_budget_percent == 89);
  CHECK(s->amqp_pool_max == 29);
  CHECK(s->cache_ttl_lists == 31);
  CHECK(s->cache_max_size == 37);
  CHECK(s->cache_max_bytes == 41);
  CHECK(s->cache_shards == 4);
  CHECK(s->cache_settle.count() == 43);
  CHECK(s->cache_merge_wait.count() == 0);
  CHECK(s->cache_invalidation_exchange == "my.inval");
  CHECK(s->cache_backend == "redis");
  CHECK(s->cache_warm_vhosts == "/,prod");
  CHECK(s->redis_url == "redis://r:7000/2");
  CHECK(s->batch_max_items == 97);
  CHECK(s->batch_max_bytes == 101);
  CHECK(s->batch_parallelism == 3);
  CHECK(s->batch_confirm_window == 103);
  CHECK(s->batch_timeout.count() == 107);
  CHECK(s->http_listen == "0.0.0.0:8765");
  CHECK(s->http_token == "tok-109");
  CHECK(s->http_token_file == "/etc/warren/token");
  CHECK(s->http_allowed_hosts == "mcp.example.com");
  CHECK(s->http_allowed_origins == "https://ui.example.com");
  CHECK(s->http_session_idle.count() == 113000);
  CHECK(s->http_max_sessions == 127);
  CHECK(s->http_rate_session == 131);
  CHECK(s->http_rate_global == 137);
  CHECK(s->http_threads == 2);
  CHECK(s->http_session_prefix == "w1-");
  CHECK(setting_value(*s, "http.token") == "***");
}

TEST_CASE("settings: each invalid value is refused naming its key") {
  struct bad_value {
    std::string key;
    std::string value;
  };
  std::vector<bad_value> cases = {
      {"rabbitmq.management_url", "ftp://x"},
      {"rabbitmq.management_url", "http://:80"},
      {"rabbitmq.url", "http://h"},
      {"rabbitmq.user", ""},
      {"server.log_level", "loud"},
      {"server.max_line_bytes", "1023"},
      {"server.max_line_bytes", "1073741825"},
      {"server.max_in_flight", "0"},
      {"server.max_in_flight", "abc"},
      {"server.max_in_flight", "-1"},
      {"server.max_in_flight", "100001"},
      {"server.tools_page_size", "1001"},
      {"server.request_timeout_ms", "0"},
      {"server.shutdown_grace_ms", "600001"},
      {"cache.merge_wait_ms", "1001"},
      {"http_pool.min", "1001"},
      {"http_pool.max", "0"},
      {"http_pool.idle_timeout_ms", "0"},
      {"http_pool.connect_timeout_ms", "99999999999999999999999"},
      {"pool.queue", "100001"},
      {"pool.policy", "wait"},
      {"breaker.failures", "0"},
      {"breaker.failure_rate", "101"},
      {"breaker.probes", "0"},
      {"retry.attempts", "11"},
      {"retry.factor", "0"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    CAPTURE(c.value);
    auto message = load_error(std::nullopt, {}, {{c.key, c.value}});
    CHECK_MESSAGE(contains(message, c.key), message);
  }
}

TEST_CASE("settings: a number out of range says what is accepted") {
  auto message = load_error(std::nullopt, {}, {{"http_pool.max", "0"}});
  CHECK(message ==
        "invalid value for http_pool.max: 0 (must be between 1 and 1000); set by flag "
        "--http-pool-max");
}

TEST_CASE("settings: validate checks ranges of settings built in code") {
  settings s;
  s.http_pool_max = 0;
  auto err = validate(s);
  REQUIRE(err);
  CHECK(code_of(err) == ec::invalid_config);
  CHECK(message_of(err) ==
        "invalid value for http_pool.max: 0 (must be between 1 and 1000)");
  settings timeouts;
  timeouts.request_timeout = std::chrono::minutes{11};
  CHECK(contains(message_of(validate(timeouts)), "server.request_timeout_ms"));
  settings fine;
  fine.management_url = "http://broker:8080/rabbitmq/";
  CHECK_FALSE(validate(fine));
  CHECK(fine.management.base_path == "/rabbitmq");
}

TEST_CASE("settings: a pool minimum above the maximum names both keys") {
  auto message = load_error(std::nullopt, {{"WARREN_HTTP_POOL_MIN", "60"}}, {});
  CHECK(contains(message, "http_pool.min (60) must not exceed http_pool.max (50)"));
  CHECK(contains(message, "WARREN_HTTP_POOL_MIN"));
}

TEST_CASE("settings: a management URL that is not http is refused") {
  auto ftp = load_error(std::nullopt, {}, {{"rabbitmq.management_url", "ftp://x"}});
  CHECK(contains(
      ftp, "rabbitmq.management_url: \"ftp://x\" is not an http:// URL (https is not "
           "supported yet)"));
  auto https =
      load_error(std::nullopt, {{"RABBITMQ_MANAGEMENT_URL", "https://broker"}}, {});
  CHECK(contains(https, "rabbitmq.management_url"));
  CHECK(contains(https, "https is not supported yet"));
  CHECK(contains(https, "RABBITMQ_MANAGEMENT_URL"));
  auto port = load_error(std::nullopt, {}, {{"rabbitmq.management_url", "http://h:0"}});
  CHECK(contains(port, "invalid port"));
  auto query =
      load_error(std::nullopt, {}, {{"rabbitmq.management_url", "http://h/api?x=1"}});
  CHECK(contains(query, "query"));
}

TEST_CASE("settings: an unknown log level lists the accepted ones") {
  auto message = load_error(std::nullopt, {}, {{"server.log_level", "loud"}});
  CHECK(contains(
      message,
      "server.log_level: \"loud\" is not one of trace, debug, info, warn, error, "
      "off"));
  auto s = load_settings(std::nullopt, env_of({{"WARREN_LOG_LEVEL", "DEBUG"}}), {});
  REQUIRE(s);
  CHECK(s->log_level == "debug");
}

TEST_CASE("settings: a number that does not parse names the key and its source") {
  auto from_flag = load_error(std::nullopt, {}, {{"server.max_in_flight", "abc"}});
  CHECK(from_flag ==
        "invalid value for server.max_in_flight: \"abc\" (must be a whole number "
        "between 1 and 100000); set by flag --max-in-flight");
  auto from_env = load_error(std::nullopt, {{"WARREN_MAX_IN_FLIGHT", "12x"}}, {});
  CHECK(contains(from_env, "server.max_in_flight"));
  CHECK(contains(from_env, "environment variable WARREN_MAX_IN_FLIGHT"));
  auto spaced = load_error(std::nullopt, {{"WARREN_HTTP_POOL_MAX", " 5"}}, {});
  CHECK(contains(spaced, "http_pool.max"));
}

TEST_CASE("settings: an unknown flag key is refused") {
  auto message = load_error(std::nullopt, {}, {{"server.nope", "1"}});
  CHECK(contains(message, "server.nope"));
}

TEST_CASE("settings: an unknown key in the file is refused naming key and file") {
  temp_dir dir;
  auto file = dir.write("warren.toml", "[server]\nmax_inflight = 5\n");
  auto message = load_error(file, {}, {});
  CHECK(contains(message, "unknown key server.max_inflight in " + file));
  CHECK(contains(message, "did you mean server.max_in_flight?"));
  auto top = dir.write("top.toml", "verbose = true\n");
  CHECK(contains(load_error(top, {}, {}), "unknown key verbose in " + top));
  auto table = dir.write("table.toml", "[metrics]\nport = 9090\n");
  CHECK(contains(load_error(table, {}, {}), "unknown key metrics.port in " + table));
}

TEST_CASE("settings: a value of the wrong type in the file names key and file") {
  temp_dir dir;
  auto file = dir.write("warren.toml", "[http_pool]\nmax = \"many\"\n");
  auto message = load_error(file, {}, {});
  CHECK(contains(message, "http_pool.max"));
  CHECK(contains(message, "expected an integer"));
  CHECK(contains(message, file));
  auto negative = dir.write("negative.toml", "[server]\nmax_in_flight = -3\n");
  auto neg_message = load_error(negative, {}, {});
  CHECK(contains(neg_message, "server.max_in_flight: -3"));
  auto text = dir.write("text.toml", "[rabbitmq]\nuser = 5\n");
  CHECK(contains(load_error(text, {}, {}), "rabbitmq.user: expected a string"));
}

TEST_CASE("settings: a range error from the file names the file") {
  temp_dir dir;
  auto file = dir.write("warren.toml", "[server]\ntools_page_size = 5000\n");
  CHECK(load_error(file, {}, {}) ==
        "invalid value for server.tools_page_size: 5000 (must be between 1 and 1000); "
        "set in config file " +
            file);
}

TEST_CASE("settings: a file with bad TOML syntax reports line and column") {
  temp_dir dir;
  auto file = dir.write("broken.toml", "[server]\nmax_in_flight = 5\nlog_level = \n");
  auto message = load_error(file, {}, {});
  CHECK(contains(message, "cannot parse config file " + file + ":3:"));
}

TEST_CASE("settings: a missing config file is reported") {
  temp_dir dir;
  auto missing = (dir.path / "nope.toml").string();
  auto message = load_error(missing, {}, {});
  CHECK(message == "config file " + missing + " does not exist");
  CHECK(contains(load_error(dir.path.string(), {}, {}), "is a directory"));
}

TEST_CASE("settings: management_url is split into host, port and base path") {
  struct expectation {
    std::string url;
    std::string host;
    uint16_t port;
    std::string base_path;
  };
  std::vector<expectation> cases = {
      {"http://127.0.0.1:15672/", "127.0.0.1", 15672, ""},
      {"http://127.0.0.1:15672", "127.0.0.1", 15672, ""},
      {"http://broker", "broker", 80, ""},
      {"HTTP://broker/", "broker", 80, ""},
      {"http://broker:8080/rabbitmq", "broker", 8080, "/rabbitmq"},
      {"http://broker:8080/a/b//", "broker", 8080, "/a/b"},
      {"http://[::1]:15673/mgmt/", "::1", 15673, "/mgmt"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.url);
    auto s = load_settings(std::nullopt, no_env, {{"rabbitmq.management_url", c.url}});
    REQUIRE(s);
    CHECK(s->management.host == c.host);
    CHECK(s->management.port == c.port);
    CHECK(s->management.base_path == c.base_path);
  }
}

TEST_CASE("settings: to_toml hides the password and reads back the same settings") {
  auto s =
      load_settings(std::nullopt,
                    env_of({{"RABBITMQ_PASSWORD", "hunter2-secret"},
                            {"RABBITMQ_URL", "amqp://bob:hunter2-secret@h:5672/v"}}),
                    {{"http_pool.max", "42"}, {"server.log_level", "trace"}});
  REQUIRE(s);
  auto text = to_toml(*s);
  CHECK_FALSE(contains(text, "hunter2"));
  CHECK(contains(text, "password = '***'"));
  CHECK(contains(text, "url = 'amqp://bob:***@h:5672/v'"));
  CHECK(contains(text, "[http_pool]"));
  CHECK(contains(text, "max = 42"));

  temp_dir dir;
  auto file = dir.write("round.toml", text);
  auto again = load_settings(file, no_env, {});
  REQUIRE(again);
  CHECK(again->password == "***");
  CHECK(again->http_pool_max == 42);
  CHECK(again->log_level == "trace");
  CHECK(again->management_url == s->management_url);
  CHECK(again->request_timeout == s->request_timeout);
}

TEST_CASE("settings: errors never contain the password") {
  const std::string secret = "s3cr3t-pw";
  auto bad_amqp = load_error(
      std::nullopt,
      {{"RABBITMQ_PASSWORD", secret}, {"RABBITMQ_URL", "ftp://u:" + secret + "@h"}},
      {});
  CHECK(contains(bad_amqp, "rabbitmq.url"));
  CHECK_FALSE(contains(bad_amqp, secret));
  auto creds_in_mgmt = load_error(
      std::nullopt, {}, {{"rabbitmq.management_url", "http://u:" + secret + "@h:1/"}});
  CHECK(contains(creds_in_mgmt, "rabbitmq.management_url"));
  CHECK_FALSE(contains(creds_in_mgmt, secret));
  auto slash_in_password = load_error(
      std::nullopt, {}, {{"rabbitmq.url", "amqps://u:pa/" + secret + "@h/"}});
  CHECK_FALSE(contains(slash_in_password, secret));
  temp_dir dir;
  auto file = dir.write("pw.toml", "[rabbitmq]\npassword = 12345678\n");
  auto typed = load_error(file, {}, {});
  CHECK(contains(typed, "rabbitmq.password"));
  CHECK_FALSE(contains(typed, "12345678"));
}

TEST_CASE(
    "the scheduler defaults to sharing, and an unknown policy is refused by name") {
  auto none = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  auto defaults = warren::load_settings(std::nullopt, none, {});
  REQUIRE(defaults);
  CHECK(defaults->scheduler == "sharing");
  CHECK(defaults->scheduler_threads == 0);
  auto stealing =
      warren::load_settings(std::nullopt, none, {{"server.scheduler", "Stealing"}});
  REQUIRE(stealing);
  CHECK(stealing->scheduler == "stealing");
  auto bad = warren::load_settings(std::nullopt, none, {{"server.scheduler", "fifo"}});
  REQUIRE(!bad);
  CHECK(warren::message_of(bad.error()).find("server.scheduler") != std::string::npos);
  auto too_many =
      warren::load_settings(std::nullopt, none, {{"server.scheduler_threads", "999"}});
  CHECK(!too_many);
}

TEST_CASE("settings: writes are off by default and switched on by flag, env or file") {
  auto none = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  auto defaults = load_settings(std::nullopt, none, {});
  REQUIRE(defaults);
  CHECK_FALSE(defaults->allow_writes);
  CHECK(defaults->tool_families == "all");
  auto by_flag = load_settings(std::nullopt, none, {{"server.allow_writes", "true"}});
  REQUIRE(by_flag);
  CHECK(by_flag->allow_writes);
  auto off = load_settings(std::nullopt, env_of({{"WARREN_ALLOW_WRITES", "0"}}), {});
  REQUIRE(off);
  CHECK_FALSE(off->allow_writes);
  auto bad =
      load_settings(std::nullopt, env_of({{"WARREN_ALLOW_WRITES", "maybe"}}), {});
  REQUIRE(!bad);
  CHECK(message_of(bad.error()).find("server.allow_writes") != std::string::npos);
  CHECK(message_of(bad.error()).find("WARREN_ALLOW_WRITES") != std::string::npos);
  temp_dir dir;
  auto file =
      dir.write("w.toml", "[server]\nallow_writes = true\ntools = \"direct\"\n");
  auto from_file = load_settings(file, none, {});
  REQUIRE(from_file);
  CHECK(from_file->allow_writes);
  auto wrong_type =
      load_settings(dir.write("x.toml", "[server]\nallow_writes = 1\n"), none, {});
  CHECK(!wrong_type);
  auto families = load_settings(std::nullopt, none, {{"server.tools", "some"}});
  REQUIRE(!families);
  CHECK(message_of(families.error()).find("server.tools") != std::string::npos);
}

TEST_CASE("settings: set_setting applies a valid value and leaves all as it was on "
          "a bad one, naming the key") {
  settings s;
  REQUIRE_FALSE(set_setting(s, "cache.ttl_lists", "5"));
  CHECK(s.cache_ttl_lists == 5);
  auto err = set_setting(s, "cache.ttl_lists", "soon");
  REQUIRE(err);
  CHECK(message_of(err).find("cache.ttl_lists") != std::string::npos);
  CHECK(s.cache_ttl_lists == 5);
  // A value valid on its own but not with the rest is refused too.
  err = set_setting(s, "http_pool.min", "60");
  REQUIRE(err);
  CHECK(message_of(err).find("http_pool.max") != std::string::npos);
  CHECK(s.http_pool_min == 5);
  err = set_setting(s, "cache.ttl_list", "5");
  REQUIRE(err);
  CHECK(message_of(err).find("unknown setting") != std::string::npos);
}

TEST_CASE("settings: setting_value never shows the password") {
  settings s;
  s.password = "hunter2";
  s.amqp_url = "amqp://app:hunter2@broker:5672/%2f";
  CHECK(setting_value(s, "rabbitmq.password") == "***");
  CHECK(setting_value(s, "rabbitmq.url")->find("hunter2") == std::string::npos);
  CHECK(setting_value(s, "breaker.failures") == "5");
  CHECK_FALSE(setting_value(s, "no.such_key"));
}

TEST_CASE("settings: http.listen off loopback is refused without a bearer token") {
  auto open =
      load_settings(std::nullopt, env_of({{"WARREN_HTTP", "0.0.0.0:8765"}}), {});
  REQUIRE_FALSE(open);
  CHECK(contains(message_of(open.error()), "WARREN_HTTP_TOKEN"));
  CHECK(contains(message_of(open.error()), "not a loopback address"));
  for (const char* loopback : {"127.0.0.1:8765", "localhost:1", "[::1]:8765"})
    CHECK(load_settings(std::nullopt, env_of({{"WARREN_HTTP", loopback}}), {}));
  CHECK(load_settings(std::nullopt,
                      env_of({{"WARREN_HTTP", "0.0.0.0:8765"},
                              {"WARREN_HTTP_TOKEN_FILE", "/etc/warren/token"}}),
                      {}));
  CHECK_FALSE(load_settings(std::nullopt, env_of({{"WARREN_HTTP", "8765"}}), {}));
}

TEST_CASE("settings: http.session_prefix takes only a short run of safe characters") {
  CHECK(load_settings(std::nullopt, env_of({{"WARREN_HTTP_SESSION_PREFIX", "w-1.a_b"}}),
                      {}));
  for (const char* bad : {"w 1", "w/1", "a\"b", "0123456789012345678901234567890123"})
    CHECK_FALSE(
        load_settings(std::nullopt, env_of({{"WARREN_HTTP_SESSION_PREFIX", bad}}), {}));
}

TEST_CASE(
    "settings: a comma-separated setting's items come without blanks or empties") {
  CHECK(setting_list("") == std::vector<std::string>{});
  CHECK(setting_list("/,prod") == std::vector<std::string>{"/", "prod"});
  CHECK(setting_list(" a.example.com:80 ,,\tB:1 , ") ==
        std::vector<std::string>{"a.example.com:80", "B:1"});
}

TEST_CASE("settings: server.metrics must be HOST:PORT") {
  for (const char* bad : {"9464", ":9464", "localhost:", "h:0", "h:70000", "h:12x"}) {
    auto s = load_settings(std::nullopt, env_of({{"WARREN_METRICS", bad}}), {});
    CHECK_FALSE(s);
  }
  auto s =
      load_settings(std::nullopt, env_of({{"WARREN_METRICS", "127.0.0.1:9464"}}), {});
  REQUIRE(s);
  CHECK(s->metrics == "127.0.0.1:9464");
}
