#include "actors/http_pool.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/pool_policy.hpp"
#include "protocol/error.hpp"

namespace warren {

namespace {

using pool_ptr = http_pool_actor::stateful_pointer<http_pool_state>;

// Extra time a connection gets beyond the caller's budget before the pool stops
// waiting for it; the connection enforces the budget itself, this is a safety net.
constexpr auto grace = std::chrono::seconds{1};

void serve_waiters(pool_ptr self);

caf::error saturated() {
  return make_error(ec::backend_timeout,
                    "no management API connection came free before the request's "
                    "deadline; the pool is saturated (raise http_pool.max?)");
}

// The call on connection `addr` ended with `outcome`: answer its caller and put the
// connection back to work, unless it overran its deadline (then it is still blocked
// and must never get another request).
void finish(pool_ptr self, const caf::actor_addr& addr,
            caf::expected<http_response> outcome) {
  auto& st = self->state;
  auto i = st.busy.find(addr);
  if (i == st.busy.end())
    return; // it died, and its caller was answered then
  auto call = std::move(i->second);
  st.busy.erase(i);
  auto overran = !outcome && outcome.error() == caf::sec::request_timeout;
  if (outcome)
    call.promise.deliver(std::move(*outcome));
  else
    call.promise.deliver(std::move(outcome.error()));
  if (overran) {
    self->demonitor(addr);
    self->send_exit(call.handle, caf::exit_reason::kill);
  } else {
    st.idle.push_back({call.handle, self->clock().now()});
  }
  serve_waiters(self);
}

// Sends `request` over `conn`; finish() delivers the answer to `promise`.
void run_on(pool_ptr self, http_actor conn, http_request request, caf::timespan budget,
            caf::typed_response_promise<http_response> promise) {
  auto addr = conn.address();
  self->state.busy.emplace(addr,
                           http_pool_state::busy_connection{conn, std::move(promise)});
  self->request(conn, budget + grace, http_atom::value, std::move(request), budget)
      .then([self, addr](
                http_response& response) { finish(self, addr, std::move(response)); },
            [self, addr](caf::error& err) { finish(self, addr, std::move(err)); });
}

http_actor spawn_connection(pool_ptr self) {
  auto conn = self->state.factory(self);
  self->monitor(conn);
  ++self->state.opened;
  return conn;
}

void serve_waiters(pool_ptr self) {
  auto& st = self->state;
  while (!st.waiting.empty()) {
    auto now = self->clock().now();
    if (st.idle.empty() && st.total() >= st.cfg.max)
      return;
    auto w = std::move(st.waiting.front());
    st.waiting.pop_front();
    if (w.deadline <= now) {
      w.promise.deliver(saturated());
      continue;
    }
    http_actor conn;
    if (!st.idle.empty()) {
      conn = st.idle.back().handle;
      st.idle.pop_back();
    } else {
      conn = spawn_connection(self);
    }
    run_on(self, conn, std::move(w.request), w.deadline - now, std::move(w.promise));
  }
}

// Closes connections idle for longer than the idle timeout, keeping at least min.
void close_idle(pool_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  // idle is ordered by the time each connection came back: the coldest are first.
  std::size_t closable = st.total() > st.cfg.min ? st.total() - st.cfg.min : 0;
  std::size_t closed = 0;
  while (closed < closable && closed < st.idle.size() &&
         now - st.idle[closed].since >= st.cfg.idle_timeout) {
    self->demonitor(st.idle[closed].handle.address());
    self->send_exit(st.idle[closed].handle, caf::exit_reason::user_shutdown);
    ++closed;
  }
  st.idle.erase(st.idle.begin(), st.idle.begin() + static_cast<std::ptrdiff_t>(closed));
}

} // namespace

http_pool_state::~http_pool_state() {
  auto gone = [] { return make_error(ec::cancelled, "warren is shutting down"); };
  for (auto& w : waiting)
    w.promise.deliver(gone());
  for (auto& [addr, call] : busy) {
    call.promise.deliver(gone());
    caf::anon_send_exit(call.handle, caf::exit_reason::user_shutdown);
  }
  for (auto& c : idle)
    caf::anon_send_exit(c.handle, caf::exit_reason::user_shutdown);
}

http_pool_actor::behavior_type http_pool(pool_ptr self, http_pool_config cfg,
                                         connection_factory factory) {
  auto& st = self->state;
  st.cfg = cfg;
  st.factory = std::move(factory);
  for (std::size_t i = 0; i < cfg.min; ++i)
    st.idle.push_back({spawn_connection(self), self->clock().now()});
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (auto i = st.busy.find(msg.source); i != st.busy.end()) {
      i->second.promise.deliver(make_error(
          ec::backend_unreachable,
          "the management API connection failed during the call; try again"));
      st.busy.erase(i);
    }
    st.idle.erase(
        std::remove_if(st.idle.begin(), st.idle.end(),
                       [&](const auto& c) { return c.handle.address() == msg.source; }),
        st.idle.end());
    serve_waiters(self);
  });
  auto sweep_every =
      std::max<caf::timespan>(cfg.idle_timeout / 2, std::chrono::milliseconds{100});
  self->delayed_send(self, sweep_every, tick_atom::value);
  return {
      [self](http_atom, http_request& request,
             caf::timespan budget) -> caf::result<http_response> {
        auto& st = self->state;
        // A promise marks the request as answered later, so only the branches that
        // answer later make one; reject answers now.
        switch (decide(st.idle.size(), st.total(), st.cfg.max, st.waiting.size(),
                       st.cfg.queue_bound)) {
        case pool_decision::use_idle: {
          auto conn = st.idle.back().handle;
          st.idle.pop_back();
          auto promise = self->make_response_promise<http_response>();
          run_on(self, conn, std::move(request), budget, promise);
          return promise;
        }
        case pool_decision::grow: {
          auto promise = self->make_response_promise<http_response>();
          run_on(self, spawn_connection(self), std::move(request), budget, promise);
          return promise;
        }
        case pool_decision::enqueue: {
          auto promise = self->make_response_promise<http_response>();
          auto id = st.next_waiter_id++;
          st.waiting.push_back(
              {id, std::move(request), self->clock().now() + budget, promise});
          self->delayed_send(self, budget, deadline_atom::value, id);
          return promise;
        }
        case pool_decision::reject:
          ++st.rejected;
          return make_error(ec::overloaded,
                            "all " + std::to_string(st.cfg.max) +
                                " management API connections are busy and " +
                                std::to_string(st.cfg.queue_bound) +
                                " requests are already waiting; retry shortly");
        }
        return make_error(ec::internal, "unreachable pool decision");
      },
      [self, sweep_every](tick_atom) {
        close_idle(self);
        self->delayed_send(self, sweep_every, tick_atom::value);
      },
      [self](deadline_atom, uint64_t id) {
        auto& waiting = self->state.waiting;
        auto i = std::find_if(waiting.begin(), waiting.end(),
                              [id](const auto& w) { return w.id == id; });
        if (i == waiting.end())
          return;
        i->promise.deliver(saturated());
        waiting.erase(i);
      },
  };
}

} // namespace warren
