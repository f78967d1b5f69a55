#include "actors/cache_shard.hpp"

#include <algorithm>
#include <optional>

#include <caf/stateful_actor.hpp>

#include "actors/status.hpp"
#include "protocol/error.hpp"

namespace warren {

namespace {

using shard_ptr = cache_actor::stateful_pointer<cache_shard_state>;

bool starts_with(const std::string& key, const std::string& prefix) {
  return key.compare(0, prefix.size(), prefix) == 0;
}

// The end of the settle window of the latest write that touched this key, if that
// window was still open when the fetch of its value began: until then the management
// API may have shown the counts from before the write. Also forgets windows too old to
// matter to any flight still allowed to fill (none is older than max_flight).
std::optional<caf::actor_clock::time_point>
settling_until(cache_shard_state& st, const std::string& key,
               caf::actor_clock::time_point fetch_began,
               caf::actor_clock::time_point now) {
  auto& c = st.cooling_prefixes;
  c.erase(
      std::remove_if(c.begin(), c.end(),
                     [&](const auto& x) { return x.until + st.cfg.max_flight <= now; }),
      c.end());
  std::optional<caf::actor_clock::time_point> until;
  for (auto& x : c)
    if (x.until > fetch_began && starts_with(key, x.prefix) &&
        (!until || x.until > *until))
      until = x.until;
  return until;
}

// Opens (or extends) the settle window of a write under `prefix`.
void open_window(cache_shard_state& st, const std::string& prefix,
                 caf::actor_clock::time_point until) {
  auto& c = st.cooling_prefixes;
  auto same = std::find_if(c.begin(), c.end(),
                           [&](const auto& x) { return x.prefix == prefix; });
  if (same != c.end())
    same->until = std::max(same->until, until); // one window per prefix
  else
    c.push_back({prefix, until});
}

void answer(cache_shard_state::flight& f, const tool_result& result) {
  for (auto& waiter : f.waiters)
    waiter.deliver(cache_answer{true, result, 0});
  f.waiters.clear();
}

using promises = std::vector<caf::typed_response_promise<cache_answer>>;

// Begins a waiting fetch once it is due or everyone it waits for is there: its first
// waiter leads it.
void begin_if_ready(cache_shard_state& st, cache_shard_state::flight& f,
                    caf::actor_clock::time_point now) {
  if (!f.waiting || (f.started > now && f.waiters.size() < f.expect))
    return;
  f.waiting = false;
  f.started = now;
  if (f.waiters.empty())
    return;
  f.waiters.front().deliver(cache_answer{false, {}, f.id});
  f.waiters.erase(f.waiters.begin());
  --st.joins; // counted as a join when it queued; it fetches after all
}

// Places fresh lookups that are to share the key's next fetch: they join the current
// flight, which began after they came (a finished one was orphaned before it started)
// or has not begun; else they make one that begins at `due`, or sooner once `expect`
// lookups wait for it.
void place(shard_ptr self, const std::string& key, promises waiting,
           caf::actor_clock::time_point due, std::size_t expect) {
  if (waiting.empty())
    return;
  auto& st = self->state;
  auto now = self->clock().now();
  auto i = st.flights.find(key);
  if (i == st.flights.end()) {
    auto id = st.next_flight++;
    cache_shard_state::flight f{id, std::max(due, now), true, expect, {}, {}};
    i = st.flights.emplace(key, std::move(f)).first;
    if (due > now)
      self->delayed_send(self, due - now, tick_atom::value, key, id);
  }
  auto& f = i->second;
  f.waiters.insert(f.waiters.end(), waiting.begin(), waiting.end());
  begin_if_ready(st, f, now);
}

// After a fill that answered `answered` lookups: those queued behind it share the
// next fetch, which waits up to merge_wait for the answered ones to ask again. When
// none queued, the key remembers for merge_wait that several asked at once.
void after_fill(shard_ptr self, const std::string& key, std::size_t answered,
                promises next) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto expect = answered + next.size();
  if (!next.empty()) {
    place(self, key, std::move(next), now + st.cfg.merge_wait, expect);
    return;
  }
  if (answered < 2 || st.cfg.merge_wait.count() <= 0)
    return;
  auto& g = st.gathering;
  if (g.size() >= 64) // forget the keys whose time is over
    for (auto j = g.begin(); j != g.end();)
      j = j->second.until <= now ? g.erase(j) : std::next(j);
  g[key] = cache_shard_state::gather{now + st.cfg.merge_wait, expect};
}

} // namespace

cache_shard_state::~cache_shard_state() {
  auto gone = [] { return make_error(ec::cancelled, "the cache shard stopped"); };
  auto fail = [&](flight& f) {
    for (auto* parked : {&f.waiters, &f.next})
      for (auto& waiter : *parked)
        waiter.deliver(gone());
  };
  for (auto& [key, f] : flights)
    fail(f);
  for (auto& [id, f] : orphans)
    fail(f);
}

cache_actor::behavior_type cache_shard(shard_ptr self, cache_shard_config cfg) {
  self->state.cfg = cfg;
  self->state.map.set_limits(cfg.limits);
  return {
      [self](lookup_atom, const std::string& key,
             bool fresh) -> caf::result<cache_answer> {
        auto& st = self->state;
        auto now = self->clock().now();
        if (fresh)
          st.map.count_miss();
        else if (auto value = st.map.get(key, now))
          return cache_answer{true, tool_result{false, std::move(*value)}, 0};
        auto i = st.flights.find(key);
        if (i != st.flights.end() && now - i->second.started < st.cfg.max_flight) {
          // A join: served by the leader's fetch (or, fresh, by the next one), no
          // backend call of its own. The map has counted it as a miss; joins tells
          // how many misses were these.
          ++st.joins;
          auto promise = self->make_response_promise<cache_answer>();
          auto& f = i->second;
          (fresh && !f.waiting ? f.next : f.waiters).push_back(promise);
          begin_if_ready(st, f, now);
          return promise;
        }
        if (i != st.flights.end()) { // the fetch took too long: let a new one lead
          auto stale = std::move(i->second);
          st.flights.erase(i);
          st.orphans.emplace(stale.id, std::move(stale));
        }
        if (auto g = st.gathering.find(key); fresh && g != st.gathering.end()) {
          auto gather = g->second;
          st.gathering.erase(g);
          if (gather.until > now) { // several just asked: wait for them to ask again
            ++st.joins;
            auto promise = self->make_response_promise<cache_answer>();
            place(self, key, {promise}, gather.until, gather.expect);
            return promise;
          }
        }
        auto id = st.next_flight++;
        st.flights.emplace(key, cache_shard_state::flight{id, now, false, 0, {}, {}});
        return cache_answer{false, {}, id};
      },
      [self](fill_atom, const std::string& key, const tool_result& result,
             caf::timespan ttl, uint64_t id) -> bool {
        auto& st = self->state;
        auto now = self->clock().now();
        if (auto i = st.flights.find(key);
            i != st.flights.end() && i->second.id == id) {
          auto began = i->second.started;
          auto answered = i->second.waiters.size() + 1; // and the leader
          answer(i->second, result);
          auto next = std::move(i->second.next);
          st.flights.erase(i);
          after_fill(self, key, answered, std::move(next));
          if (result.is_error || ttl.count() <= 0)
            return false;
          if (now - began >= st.cfg.max_flight) // given up on: too old to keep
            return false;
          // The fetch began after every write that touched the key (else it would be
          // an orphan), so the value's topology is current; but if it began inside a
          // settle window, its counts may be from before the write. Keep it only
          // until the window ends, so that it is fetched anew once the statistics have
          // caught up, and answer false, so that the caller does not pass it on to a
          // cache that would keep it for the full ttl.
          if (auto until = settling_until(st, key, began, now)) {
            if (*until > now)
              st.map.put(key, result.json, std::min(*until, now + ttl));
            return false;
          }
          st.map.put(key, result.json, now + ttl);
          return true;
        }
        if (auto o = st.orphans.find(id); o != st.orphans.end()) {
          auto answered = o->second.waiters.size() + 1;
          answer(o->second, result); // they asked before the write: not stored
          auto next = std::move(o->second.next);
          st.orphans.erase(o);
          after_fill(self, key, answered, std::move(next));
        }
        return false;
      },
      [self](tick_atom, const std::string& key, uint64_t id) {
        auto& st = self->state;
        auto now = self->clock().now();
        if (auto i = st.flights.find(key);
            i != st.flights.end() && i->second.id == id) {
          begin_if_ready(st, i->second, now);
        } else if (auto o = st.orphans.find(id);
                   o != st.orphans.end() && o->second.waiting) {
          // A write came while it waited: it never began, so its waiters go to the
          // flight begun after the write, or lead one now.
          auto waiters = std::move(o->second.waiters);
          st.orphans.erase(o);
          place(self, key, std::move(waiters), now, 0);
        }
      },
      [self](status_atom) {
        auto& st = self->state;
        auto s = status_of(self, "cache_shard",
                           std::to_string(st.map.size()) + " entries, " +
                               std::to_string(st.flights.size()) + " fetching");
        auto& c = st.map.stats();
        s.handled = c.hits + c.misses;
        auto put = [&s](const char* name, double value) { add_figure(s, name, value); };
        put("hits", c.hits);
        put("misses", c.misses); // joins included
        put("joins", st.joins);
        put("evictions", c.evictions);
        put("expirations", c.expirations);
        put("invalidations", c.invalidations);
        put("entries", st.map.size());
        put("bytes", st.map.bytes());
        put("flights", st.flights.size());
        return s;
      },
      [self](invalidate_atom, const std::vector<std::string>& prefixes) -> uint64_t {
        auto& st = self->state;
        auto until = self->clock().now() + st.cfg.settle;
        uint64_t erased = 0;
        for (auto& prefix : prefixes) {
          erased += st.map.erase_prefix(prefix);
          open_window(st, prefix, until);
          for (auto i = st.flights.begin(); i != st.flights.end();) {
            if (starts_with(i->first, prefix)) {
              st.orphans.emplace(i->second.id, std::move(i->second));
              i = st.flights.erase(i);
            } else {
              ++i;
            }
          }
        }
        return erased;
      },
      [self](refresh_atom, const std::vector<std::string>& prefixes) -> uint64_t {
        // Only counts changed: what is cached stays right about the topology, and is
        // kept until the settle window ends, when the statistics have caught up.
        auto& st = self->state;
        auto until = self->clock().now() + st.cfg.settle;
        uint64_t cut = 0;
        for (auto& prefix : prefixes) {
          cut += st.map.expire_prefix_by(prefix, until);
          open_window(st, prefix, until);
        }
        return cut;
      },
  };
}

} // namespace warren
