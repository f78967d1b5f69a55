#include "actors/lru_ttl_map.hpp"

namespace warren {

std::optional<std::string> lru_ttl_map::get(const std::string& key, time_point now) {
  auto i = index_.find(key);
  if (i == index_.end()) {
    ++counters_.misses;
    return std::nullopt;
  }
  auto it = i->second;
  if (it->expires <= now) {
    erase(it);
    ++counters_.expirations;
    ++counters_.misses;
    return std::nullopt;
  }
  order_.splice(order_.begin(), order_, it);
  ++counters_.hits;
  return it->value;
}

void lru_ttl_map::put(const std::string& key, std::string value, time_point expires) {
  if (auto i = index_.find(key); i != index_.end())
    erase(i->second);
  entry e{key, std::move(value), expires};
  if (cost(e) > limits_.max_bytes || limits_.max_entries == 0)
    return;
  bytes_ += cost(e);
  order_.push_front(std::move(e));
  index_.emplace(order_.front().key, order_.begin());
  enforce_limits();
}

std::size_t lru_ttl_map::erase_prefix(std::string_view prefix) {
  std::size_t erased = 0;
  for (auto it = order_.begin(); it != order_.end();) {
    auto next = std::next(it);
    if (std::string_view{it->key}.substr(0, prefix.size()) == prefix) {
      erase(it);
      ++erased;
    }
    it = next;
  }
  counters_.invalidations += erased;
  return erased;
}

std::size_t lru_ttl_map::expire_prefix_by(std::string_view prefix, time_point expires) {
  std::size_t cut = 0;
  for (auto& e : order_)
    if (std::string_view{e.key}.substr(0, prefix.size()) == prefix &&
        e.expires > expires) {
      e.expires = expires;
      ++cut;
    }
  return cut;
}

void lru_ttl_map::clear() {
  counters_.invalidations += index_.size();
  index_.clear();
  order_.clear();
  bytes_ = 0;
}

void lru_ttl_map::set_limits(limits bounds) {
  limits_ = bounds;
  enforce_limits();
}

void lru_ttl_map::erase(list_type::iterator it) {
  bytes_ -= cost(*it);
  index_.erase(std::string_view{it->key});
  order_.erase(it);
}

void lru_ttl_map::enforce_limits() {
  while (!order_.empty() &&
         (index_.size() > limits_.max_entries || bytes_ > limits_.max_bytes)) {
    erase(std::prev(order_.end()));
    ++counters_.evictions;
  }
}

} // namespace warren
