#include "actors/redis_l2.hpp"

#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/status.hpp"
#include "protocol/error.hpp"

namespace warren {

namespace {

using l2_ptr = l2_actor::stateful_pointer<redis_l2_state>;

// Whether a call may go to Redis now; the error to answer with when not.
caf::error refused(l2_ptr self) {
  auto& st = self->state;
  if (st.rule.allow(self->clock().now()))
    return {};
  ++st.counters.refused;
  return make_error(ec::unavailable, "the Redis L2 cache is unavailable; its circuit "
                                     "breaker is open");
}

// Remembers whether Redis answered, and says so when that changes.
void note(l2_ptr self, const caf::error& err) {
  auto& st = self->state;
  if (err)
    ++st.counters.errors;
  if (err)
    st.rule.on_failure(self->clock().now());
  else
    st.rule.on_success(self->clock().now());
  if (err && st.up)
    spdlog::warn("the Redis L2 cache is unavailable ({}); serving from memory and the "
                 "broker until it is back",
                 message_of(err));
  else if (!err && !st.up)
    spdlog::info("the Redis L2 cache is back");
  st.up = !err;
}

} // namespace

l2_actor::behavior_type redis_l2(l2_ptr self, redis_l2_config cfg) {
  auto client = std::make_shared<redis_client>(cfg.endpoint);
  self->state.client = client;
  self->state.rule = circuit_breaker{cfg.breaker};
  self->state.cfg = std::move(cfg);
  abort_on_shutdown(self, self->state.cfg.shutdown, client);
  return {
      [self](lookup_atom, const std::string& key) -> caf::result<bool, std::string> {
        auto& st = self->state;
        if (auto err = refused(self))
          return err;
        auto value = st.client->get(st.cfg.namespace_prefix + key, st.cfg.timeout);
        note(self, value ? caf::error{} : value.error());
        if (!value)
          return std::move(value.error());
        if (!*value) {
          ++st.counters.misses;
          return {false, std::string{}};
        }
        ++st.counters.hits;
        return {true, std::move(**value)};
      },
      [self](fill_atom, const std::string& key, const std::string& value,
             caf::timespan ttl) {
        auto& st = self->state;
        if (refused(self))
          return;
        ++st.counters.fills;
        note(self,
             st.client->set(st.cfg.namespace_prefix + key, value,
                            std::chrono::duration_cast<std::chrono::milliseconds>(ttl),
                            st.cfg.timeout));
      },
      [self](status_atom) {
        auto& st = self->state;
        auto& c = st.counters;
        auto breaker = st.rule.current(self->clock().now());
        auto s = status_of(self, "redis_l2",
                           std::string{st.up ? "up" : "down"} + ", breaker " +
                               to_string(breaker));
        s.name = "Redis";
        s.handled = c.hits + c.misses + c.fills;
        auto put = [&s](const char* name, double value) { add_figure(s, name, value); };
        put("hits", c.hits);
        put("misses", c.misses);
        put("fills", c.fills);
        put("errors", c.errors);
        put("rejected", c.refused);
        put("up", st.up ? 1 : 0);
        put("state", static_cast<double>(breaker));
        put("transitions", st.rule.transitions());
        return s;
      },
      [self](invalidate_atom,
             const std::vector<std::string>& prefixes) -> caf::result<uint64_t> {
        auto& st = self->state;
        if (auto err = refused(self))
          return err;
        std::vector<std::string> keys;
        keys.reserve(prefixes.size());
        for (auto& p : prefixes)
          keys.push_back(st.cfg.namespace_prefix + p);
        auto erased = st.client->erase_prefixes(keys, st.cfg.timeout);
        note(self, erased ? caf::error{} : erased.error());
        if (!erased)
          return std::move(erased.error());
        return *erased;
      },
  };
}

} // namespace warren
