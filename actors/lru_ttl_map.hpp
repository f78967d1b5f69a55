#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace warren {

/// A cache map with a time to live per entry and least-recently-used eviction past a
/// bound in entries and in bytes. Pure: the caller passes the time.
class lru_ttl_map {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  struct limits {
    std::size_t max_entries = 1000;
    std::size_t max_bytes = 100u << 20;
  };

  struct counters {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;   ///< pushed out by the bounds
    uint64_t expirations = 0; ///< found past their time to live
    uint64_t invalidations = 0;
  };

  explicit lru_ttl_map(limits bounds) : limits_(bounds) {}

  /// The value, if present and alive at `now`; it becomes the most recently used.
  std::optional<std::string> get(const std::string& key, time_point now);

  /// Stores a value until `expires`, then evicts least recently used entries until
  /// both bounds hold. A value larger than the byte bound is not stored.
  void put(const std::string& key, std::string value, time_point expires);

  /// Removes every entry whose key starts with `prefix`; returns how many.
  std::size_t erase_prefix(std::string_view prefix);

  /// Every entry whose key starts with `prefix` expires at `expires` at the latest;
  /// returns how many entries that cut short.
  std::size_t expire_prefix_by(std::string_view prefix, time_point expires);

  void clear();

  /// Counts a miss for a lookup that did not ask the map (it wanted a fresh value).
  void count_miss() { ++counters_.misses; }

  std::size_t size() const { return index_.size(); }
  std::size_t bytes() const { return bytes_; }
  const counters& stats() const { return counters_; }
  void set_limits(limits bounds);

private:
  struct entry {
    std::string key;
    std::string value;
    time_point expires;
  };
  using list_type = std::list<entry>; ///< most recently used first

  static std::size_t cost(const entry& e) { return e.key.size() + e.value.size(); }
  void erase(list_type::iterator it);
  void enforce_limits();

  limits limits_;
  list_type order_;
  std::unordered_map<std::string_view, list_type::iterator> index_;
  std::size_t bytes_ = 0;
  counters counters_;
};

} // namespace warren
