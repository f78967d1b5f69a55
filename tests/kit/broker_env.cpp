#include "tests/kit/broker_env.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace warren {

namespace {

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::optional<uint16_t> to_port(const std::string& s) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != s.npos)
    return std::nullopt;
  auto v = std::stoul(s);
  if (v == 0 || v > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(v);
}

// "http://host:port/base" → host, port, base. Only what local-broker writes.
bool split_http_url(const std::string& url, broker_env& env) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return false;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  env.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!env.base_path.empty() && env.base_path.back() == '/')
    env.base_path.pop_back();
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) {
    env.host = authority;
    env.management_port = 80;
  } else {
    auto port = to_port(authority.substr(colon + 1));
    if (!port)
      return false;
    env.host = authority.substr(0, colon);
    env.management_port = *port;
  }
  return !env.host.empty();
}

// amqp://user:password@host:port/vhost → user, password (not percent-decoded: the
// fixture only uses the stock guest account).
void split_amqp_credentials(const std::string& url, broker_env& env) {
  auto start = url.find("://");
  if (start == std::string::npos)
    return;
  start += 3;
  auto at = url.find('@', start);
  if (at == std::string::npos)
    return;
  auto userinfo = url.substr(start, at - start);
  auto colon = userinfo.find(':');
  env.user = userinfo.substr(0, colon);
  env.password = colon == std::string::npos ? "" : userinfo.substr(colon + 1);
}

} // namespace

std::optional<broker_env> parse_broker_env(const std::string& text) {
  broker_env env;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#')
      continue;
    if (line.compare(0, 7, "export ") == 0)
      line = trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    if (key == "RABBITMQ_MANAGEMENT_URL") {
      env.management_url = value;
    } else if (key == "RABBITMQ_URL") {
      env.amqp_url = value;
    } else if (key == "RABBITMQ_AMQP_PORT") {
      env.amqp_port = to_port(value).value_or(0);
    } else if (key == "RABBITMQ_BROKER_PID") {
      env.broker_pid = std::strtol(value.c_str(), nullptr, 10);
    }
  }
  if (!split_http_url(env.management_url, env))
    return std::nullopt;
  split_amqp_credentials(env.amqp_url, env);
  return env;
}

std::optional<broker_env> load_broker_env(const std::string& fallback_path) {
  std::string path;
  if (const char* from_env = std::getenv("WARREN_TEST_BROKER_ENV");
      from_env && *from_env)
    path = from_env;
  else
    path = fallback_path;
  if (path.empty())
    return std::nullopt;
  std::ifstream file{path};
  if (!file)
    return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  return parse_broker_env(text.str());
}

} // namespace warren
