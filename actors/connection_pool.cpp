#include "actors/connection_pool.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/pool_policy.hpp"
#include "actors/status.hpp"
#include "protocol/error.hpp"

namespace warren {

namespace {

template <class P>
using pool_ptr = typename P::actor::template stateful_pointer<pool_state<P>>;

// Extra time a connection gets beyond the caller's budget before the pool stops
// waiting for it; the connection enforces the budget itself, this is a safety net.
constexpr auto grace = std::chrono::seconds{1};

template <class P>
void serve_waiters(pool_ptr<P> self);

// A waiter's time ran out. Under block that is the pool's wait limit; under queue it
// is the call's own deadline. Either way it is warren's overload, not the broker's
// failure (the breaker does not count it).
caf::error saturated(const pool_config& cfg, bool call_deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.wait).count();
  return make_error(ec::overloaded,
                    "all " + std::to_string(cfg.max) + " " + cfg.what +
                        " connections stayed busy " +
                        (call_deadline ? std::string{"until the call's deadline"}
                                       : "for " + std::to_string(ms) + " ms") +
                        "; the pool is saturated. Retry shortly, or raise its maximum "
                        "size");
}

template <class P>
using callers_of = std::vector<typename pool_state<P>::caller>;

template <class P>
void deliver(typename pool_state<P>::caller& c,
             caf::expected<typename P::response> outcome) {
  if (c.answered)
    return;
  c.answered = true;
  if (outcome)
    c.promise.deliver(std::move(*outcome));
  else
    c.promise.deliver(std::move(outcome.error()));
}

// Answers the callers of one request: `outcome` itself, or for a merged request
// each caller's own part of it.
template <class P>
void answer_callers(callers_of<P>& callers,
                    caf::expected<typename P::response> outcome) {
  if (callers.size() == 1) {
    deliver<P>(callers.front(), std::move(outcome));
    return;
  }
  if constexpr (request_merging<P>::enabled) {
    auto parts = request_merging<P>::split(outcome, callers.size());
    for (std::size_t i = 0; i < callers.size(); ++i)
      deliver<P>(callers[i], std::move(parts[i]));
  }
}

// Every caller still waiting gets `err`.
template <class P>
void fail_callers(callers_of<P>& callers, const caf::error& err) {
  for (auto& c : callers)
    deliver<P>(c, err);
}

// The call on connection `addr` ended with `outcome`: answer its callers and put the
// connection back to work, unless it overran its deadline (then it is still blocked
// and must never get another request).
template <class P>
void finish(pool_ptr<P> self, const caf::actor_addr& addr,
            caf::expected<typename P::response> outcome) {
  auto& st = self->state;
  auto i = st.busy.find(addr);
  if (i == st.busy.end())
    return; // it died, and its callers were answered then
  auto call = std::move(i->second);
  st.busy.erase(i);
  auto overran = !outcome && outcome.error() == caf::sec::request_timeout;
  answer_callers<P>(call.callers, std::move(outcome));
  if (overran) {
    ++st.counters.broken;
    self->demonitor(addr);
    self->send_exit(call.conn.handle, caf::exit_reason::kill);
  } else if (st.total() >= st.cfg.max) {
    // The pool was resized below what it holds: this one goes.
    self->demonitor(addr);
    self->send_exit(call.conn.handle, caf::exit_reason::user_shutdown);
  } else {
    st.idle.push_back({std::move(call.conn), self->clock().now()});
  }
  serve_waiters<P>(self);
}

// Sends `request` over `conn`; finish() answers its callers.
template <class P>
void run_on(pool_ptr<P> self, typename pool_state<P>::member conn,
            typename P::request request, caf::timespan budget, callers_of<P> callers) {
  auto addr = conn.handle.address();
  auto handle = conn.handle;
  self->state.busy.emplace(addr, typename pool_state<P>::busy_connection{
                                     std::move(conn), std::move(callers)});
  self->request(handle, budget + grace, P::atom::value, std::move(request), budget)
      .then(
          [self, addr](typename P::response& response) {
            finish<P>(self, addr, std::move(response));
          },
          [self, addr](caf::error& err) { finish<P>(self, addr, std::move(err)); });
}

template <class P>
typename pool_state<P>::member spawn_connection(pool_ptr<P> self) {
  auto abort = std::make_shared<shutdown_signal>();
  auto conn = self->state.factory(self, abort);
  self->monitor(conn);
  ++self->state.counters.opened;
  return {conn, std::move(abort)};
}

caf::error cancelled() {
  return make_error(ec::cancelled, "the client cancelled the call");
}

// Stops the work of tool call `call`: a waiting request leaves the queue, a running
// one has its connection aborted (the connection is not reused: its state after an
// abort is unknown) and its caller is answered now. A request merged with others'
// is not aborted: its caller is answered now, and the others' work goes on.
template <class P>
void cancel_call(pool_ptr<P> self, uint64_t call) {
  auto& st = self->state;
  for (auto i = st.waiting.begin(); i != st.waiting.end();) {
    if (i->request.call == call) {
      ++st.counters.cancelled;
      i->promise.deliver(cancelled());
      i = st.waiting.erase(i);
    } else {
      ++i;
    }
  }
  for (auto i = st.busy.begin(); i != st.busy.end();) {
    auto& callers = i->second.callers;
    if (callers.size() > 1) {
      for (auto& c : callers)
        if (c.call == call && !c.answered) {
          ++st.counters.cancelled;
          deliver<P>(c, cancelled());
        }
      ++i;
    } else if (callers.front().call == call) {
      ++st.counters.cancelled;
      deliver<P>(callers.front(), cancelled());
      if (i->second.conn.abort)
        i->second.conn.abort->fire();
      self->demonitor(i->first);
      self->send_exit(i->second.conn.handle, caf::exit_reason::kill);
      i = st.busy.erase(i);
    } else {
      ++i;
    }
  }
  serve_waiters<P>(self);
}

// Answers the first waiter if its wait has run out; whether it had.
template <class P>
bool expire_first(pool_ptr<P> self, caf::actor_clock::time_point now) {
  auto& st = self->state;
  auto& w = st.waiting.front();
  if (w.wait_until > now)
    return false;
  ++st.counters.timed_out;
  w.promise.deliver(saturated(st.cfg, w.wait_until == w.call_deadline));
  st.waiting.pop_front();
  return true;
}

// Takes the first waiter (whose wait has not run out) off the queue.
template <class P>
typename pool_state<P>::waiter take_first(pool_ptr<P> self,
                                          caf::actor_clock::time_point now) {
  auto& st = self->state;
  auto w = std::move(st.waiting.front());
  st.waiting.pop_front();
  ++st.counters.waited;
  st.counters.wait_time += now - w.since;
  return w;
}

template <class P>
void serve_waiters(pool_ptr<P> self) {
  auto& st = self->state;
  while (!st.waiting.empty()) {
    auto now = self->clock().now();
    if (st.idle.empty() && st.total() >= st.cfg.max)
      return;
    if (expire_first<P>(self, now))
      continue;
    auto w = take_first<P>(self, now);
    auto request = std::move(w.request);
    auto deadline = w.call_deadline;
    callers_of<P> callers;
    callers.push_back({request.call, std::move(w.promise)});
    if constexpr (request_merging<P>::enabled) {
      // The mergeable requests queued right behind this one go with it.
      using merging = request_merging<P>;
      std::vector<typename P::request> group;
      while (merging::mergeable(request) && callers.size() < st.cfg.merge_limit &&
             !st.waiting.empty()) {
        if (expire_first<P>(self, now))
          continue;
        if (!merging::mergeable(st.waiting.front().request))
          break;
        auto more = take_first<P>(self, now);
        if (group.empty())
          group.push_back(std::move(request));
        deadline = std::min(deadline, more.call_deadline);
        callers.push_back({more.request.call, std::move(more.promise)});
        group.push_back(std::move(more.request));
      }
      if (!group.empty())
        request = merging::merge(std::move(group));
    }
    typename pool_state<P>::member conn;
    if (!st.idle.empty()) {
      conn = std::move(st.idle.back().conn);
      st.idle.pop_back();
      ++st.counters.reused;
    } else {
      conn = spawn_connection<P>(self);
    }
    run_on<P>(self, conn, std::move(request), deadline - now, std::move(callers));
  }
}

// Closes connections idle for longer than the idle timeout, keeping at least min.
template <class P>
void close_idle(pool_ptr<P> self) {
  auto& st = self->state;
  auto now = self->clock().now();
  // idle is ordered by the time each connection came back: the coldest are first.
  std::size_t closable = st.total() > st.cfg.min ? st.total() - st.cfg.min : 0;
  std::size_t closed = 0;
  while (closed < closable && closed < st.idle.size() &&
         now - st.idle[closed].since >= st.cfg.idle_timeout) {
    self->demonitor(st.idle[closed].conn.handle.address());
    self->send_exit(st.idle[closed].conn.handle, caf::exit_reason::user_shutdown);
    ++closed;
  }
  st.idle.erase(st.idle.begin(), st.idle.begin() + static_cast<std::ptrdiff_t>(closed));
}

void close_connection(caf::local_actor* self, const caf::actor_addr& addr,
                      const caf::actor& handle) {
  self->demonitor(addr);
  self->send_exit(handle, caf::exit_reason::user_shutdown);
}

// New bounds from an operator: open connections up to the new min, close idle ones
// above the new max (busy ones close when their call ends, see finish()).
template <class P>
void resize(pool_ptr<P> self, std::size_t min, std::size_t max) {
  auto& st = self->state;
  st.cfg.max = std::max<std::size_t>(1, max);
  st.cfg.min = std::min(min, st.cfg.max);
  while (!st.idle.empty() && st.total() > st.cfg.max) {
    auto& coldest = st.idle.front().conn.handle;
    close_connection(self, coldest.address(), caf::actor_cast<caf::actor>(coldest));
    st.idle.erase(st.idle.begin());
  }
  while (st.total() < st.cfg.min)
    st.idle.push_back({spawn_connection<P>(self), self->clock().now()});
  serve_waiters<P>(self);
}

template <class P>
actor_status pool_status(pool_ptr<P> self) {
  auto& st = self->state;
  auto& c = st.counters;
  auto s = status_of(self, "pool",
                     std::to_string(st.busy.size()) + " busy, " +
                         std::to_string(st.idle.size()) + " idle, " +
                         std::to_string(st.waiting.size()) + " waiting (max " +
                         std::to_string(st.cfg.max) + ")");
  s.name = st.cfg.what;
  s.handled = c.requests;
  auto seconds = std::chrono::duration<double>(c.wait_time).count();
  auto put = [&s](const char* name, double value) { add_figure(s, name, value); };
  put("min", st.cfg.min);
  put("max", st.cfg.max);
  put("active", st.busy.size());
  put("idle", st.idle.size());
  put("waiting", st.waiting.size());
  put("requests", c.requests);
  put("opened", c.opened);
  put("reused", c.reused);
  put("exhausted", c.exhausted);
  put("rejected", c.rejected);
  put("timed_out", c.timed_out);
  put("waited", c.waited);
  put("wait_seconds", seconds);
  put("broken", c.broken);
  put("cancelled", c.cancelled);
  for (auto& [addr, busy] : st.busy) {
    actor_status conn;
    conn.id = busy.conn.handle.id();
    conn.kind = "connection";
    std::string calls;
    for (auto& c : busy.callers)
      calls += (calls.empty() ? "" : ", ") + std::to_string(c.call);
    conn.state =
        (busy.callers.size() > 1 ? "busy (calls " : "busy (call ") + calls + ")";
    s.children.push_back(std::move(conn));
  }
  for (auto& idle : st.idle) {
    actor_status conn;
    conn.id = idle.conn.handle.id();
    conn.kind = "connection";
    conn.state = "idle";
    s.children.push_back(std::move(conn));
  }
  return s;
}

} // namespace

template <class P>
pool_state<P>::~pool_state() {
  auto gone = [] { return make_error(ec::cancelled, "warren is shutting down"); };
  for (auto& w : waiting)
    w.promise.deliver(gone());
  for (auto& [addr, call] : busy) {
    fail_callers<P>(call.callers, gone());
    caf::anon_send_exit(call.conn.handle, caf::exit_reason::user_shutdown);
  }
  for (auto& c : idle)
    caf::anon_send_exit(c.conn.handle, caf::exit_reason::user_shutdown);
}

template <class P>
typename P::actor::behavior_type connection_pool(pool_ptr<P> self, pool_config cfg,
                                                 typename P::factory factory) {
  auto& st = self->state;
  st.cfg = cfg;
  st.factory = std::move(factory);
  for (std::size_t i = 0; i < cfg.min; ++i)
    st.idle.push_back({spawn_connection<P>(self), self->clock().now()});
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (auto i = st.busy.find(msg.source); i != st.busy.end()) {
      ++st.counters.broken;
      fail_callers<P>(i->second.callers,
                      make_error(ec::backend_unreachable,
                                 "the " + st.cfg.what +
                                     " connection failed during the call; try again"));
      st.busy.erase(i);
    }
    st.idle.erase(std::remove_if(st.idle.begin(), st.idle.end(),
                                 [&](const auto& c) {
                                   return c.conn.handle.address() == msg.source;
                                 }),
                  st.idle.end());
    serve_waiters<P>(self);
  });
  auto sweep_every =
      std::max<caf::timespan>(cfg.idle_timeout / 2, std::chrono::milliseconds{100});
  self->delayed_send(self, sweep_every, tick_atom::value);
  return {
      [self](typename P::atom, typename P::request& request,
             caf::timespan budget) -> caf::result<typename P::response> {
        auto& st = self->state;
        ++st.counters.requests;
        auto call = request.call;
        // A promise marks the request as answered later, so only the branches that
        // answer later make one; reject answers now.
        auto decision = decide(st.idle.size(), st.total(), st.cfg.max,
                               st.waiting.size(), st.cfg.queue_bound, st.cfg.policy);
        if (decision == pool_decision::enqueue || decision == pool_decision::reject)
          ++st.counters.exhausted;
        switch (decision) {
        case pool_decision::use_idle: {
          auto conn = std::move(st.idle.back().conn);
          st.idle.pop_back();
          ++st.counters.reused;
          auto promise = self->template make_response_promise<typename P::response>();
          run_on<P>(self, conn, std::move(request), budget, {{call, promise}});
          return promise;
        }
        case pool_decision::grow: {
          auto promise = self->template make_response_promise<typename P::response>();
          run_on<P>(self, spawn_connection<P>(self), std::move(request), budget,
                    {{call, promise}});
          return promise;
        }
        case pool_decision::enqueue: {
          auto promise = self->template make_response_promise<typename P::response>();
          auto id = st.next_waiter_id++;
          auto now = self->clock().now();
          auto patience = st.cfg.policy == exhaustion_policy::block
                              ? std::min(budget, st.cfg.wait)
                              : budget;
          st.waiting.push_back(
              {id, std::move(request), now, now + patience, now + budget, promise});
          self->delayed_send(self, patience, deadline_atom::value, id);
          return promise;
        }
        case pool_decision::reject:
          ++st.counters.rejected;
          if (st.cfg.policy == exhaustion_policy::fail_fast)
            return make_error(ec::overloaded,
                              "all " + std::to_string(st.cfg.max) + " " + st.cfg.what +
                                  " connections are busy (pool policy fail_fast); "
                                  "retry shortly");
          return make_error(ec::overloaded,
                            "all " + std::to_string(st.cfg.max) + " " + st.cfg.what +
                                " connections are busy and " +
                                std::to_string(st.cfg.queue_bound) +
                                " requests are already waiting; retry shortly");
        }
        return make_error(ec::internal, "unreachable pool decision");
      },
      [self](cancel_atom, uint64_t call) {
        if (call != 0)
          cancel_call<P>(self, call);
      },
      [self](status_atom) { return pool_status<P>(self); },
      [self](resize_atom, uint64_t min, uint64_t max) {
        resize<P>(self, static_cast<std::size_t>(min), static_cast<std::size_t>(max));
      },
      [self, sweep_every](tick_atom) {
        close_idle<P>(self);
        self->delayed_send(self, sweep_every, tick_atom::value);
      },
      [self](deadline_atom, uint64_t id) {
        auto& waiting = self->state.waiting;
        auto i = std::find_if(waiting.begin(), waiting.end(),
                              [id](const auto& w) { return w.id == id; });
        if (i == waiting.end())
          return;
        ++self->state.counters.timed_out;
        i->promise.deliver(
            saturated(self->state.cfg, i->wait_until == i->call_deadline));
        waiting.erase(i);
      },
  };
}

template typename http_protocol::actor::behavior_type
    connection_pool<http_protocol>(pool_ptr<http_protocol>, pool_config,
                                   http_protocol::factory);
template struct pool_state<http_protocol>;

template typename amqp_protocol::actor::behavior_type
    connection_pool<amqp_protocol>(pool_ptr<amqp_protocol>, pool_config,
                                   amqp_protocol::factory);
template struct pool_state<amqp_protocol>;

} // namespace warren
