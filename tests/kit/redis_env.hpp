#pragma once

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

namespace warren {

/// The value of `key` in a KEY=VALUE env file that scripts/local-redis wrote, from the
/// file named by the environment variable WARREN_TEST_REDIS_ENV, else the path CMake
/// compiles into the test executable. nullopt when there is no such file or key.
inline std::optional<std::string> redis_env_value(const std::string& key) {
  std::string path;
  if (const char* from_env = std::getenv("WARREN_TEST_REDIS_ENV");
      from_env && *from_env)
    path = from_env;
#ifdef WARREN_TEST_REDIS_ENV
  else
    path = WARREN_TEST_REDIS_ENV;
#endif
  if (path.empty())
    return std::nullopt;
  std::ifstream in{path};
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    if (line.compare(0, key.size() + 1, key + '=') == 0) {
      auto value = line.substr(key.size() + 1);
      if (value.empty())
        return std::nullopt;
      return value;
    }
  }
  return std::nullopt;
}

/// REDIS_URL of the fixture's redis-server ("redis://127.0.0.1:PORT/0").
inline std::optional<std::string> load_redis_url() {
  return redis_env_value("REDIS_URL");
}

/// REDIS_PID of the fixture's redis-server.
inline std::optional<int> redis_pid() {
  auto value = redis_env_value("REDIS_PID");
  if (!value || value->find_first_not_of("0123456789") != std::string::npos ||
      value->size() > 9)
    return std::nullopt;
  return std::stoi(*value);
}

} // namespace warren
