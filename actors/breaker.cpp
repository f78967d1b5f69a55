#include "actors/breaker.hpp"

#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/status.hpp"
#include "protocol/error.hpp"

namespace warren {

namespace {

template <class P>
using breaker_ptr =
    typename breaker_actor<P>::template stateful_pointer<breaker_state<P>>;

// The pool answers within the budget plus its own grace second; past this the breaker
// stops waiting for it.
constexpr auto grace = std::chrono::seconds{2};

// What one attempt's outcome says about the backend.
enum class verdict {
  success, ///< it answered (even "not found": that is an answer)
  failure, ///< unreachable, broken, late or in trouble (5xx)
  neutral, ///< nothing: warren's own overload, a cancel, a restart
};

struct judgement {
  verdict what = verdict::success;
  bool retryable = false; ///< safe and useful to try again (for idempotent requests)
  std::string text;       ///< what went wrong, for the open breaker's message
};

judgement judge(const http_response& response) {
  if (response.status < 500)
    return {};
  auto transient =
      response.status == 502 || response.status == 503 || response.status == 504;
  return {verdict::failure, transient,
          "HTTP " + std::to_string(response.status) + " from the broker"};
}

judgement judge(const amqp_response& response) {
  // Confirmed, returned and nacked are all the broker answering; a batch whose
  // connection broke off is the backend failing.
  if (response.broken)
    return {verdict::failure, false, response.reply_text};
  return {};
}

judgement judge(const caf::error& err) {
  if (err.category() == caf::atom("system")) {
    if (err == caf::sec::request_timeout)
      return {verdict::failure, false, "a call overran its deadline"};
    if (err == caf::sec::request_receiver_down)
      return {verdict::neutral, true, "the connection pool restarted"};
    return {verdict::neutral, false, "internal error"};
  }
  switch (code_of(err)) {
  case ec::backend_unreachable:
  case ec::backend_protocol:
    // The request never arrived, or its answer broke off: the next connection may
    // well succeed.
    return {verdict::failure, true, message_of(err)};
  case ec::backend_timeout:
    return {verdict::failure, false, message_of(err)};
  case ec::overloaded:
  case ec::cancelled:
  case ec::unavailable:
  case ec::internal:
    return {verdict::neutral, false, {}};
  default:
    return {}; // the broker answered with a refusal: it is alive
  }
}

// Only reads are repeated: repeating anything else could do it twice, and a publish
// must never be repeated blindly (it would duplicate the message).
bool idempotent(const http_request& request) {
  return request.method == "GET" || request.method == "HEAD";
}

bool idempotent(const amqp_request&) {
  return false;
}

std::string seconds_until(caf::actor_clock::time_point from,
                          caf::actor_clock::time_point to) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
  auto s = std::max<long long>(1, (ms + 999) / 1000);
  return std::to_string(s) + (s == 1 ? " second" : " seconds");
}

template <class P>
caf::error refusal(breaker_ptr<P> self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.rule.current(now) == circuit_breaker::state::half_open)
    return make_error(ec::unavailable,
                      "the " + st.cfg.what +
                          " was unavailable and warren is probing it now; try again "
                          "in a moment");
  auto cause = st.last_failure.empty() ? std::string{}
                                       : " (last failure: " + st.last_failure + ")";
  return make_error(ec::unavailable,
                    "the " + st.cfg.what + " is unavailable: its calls kept failing" +
                        cause +
                        ", so warren's circuit breaker fails calls at once; "
                        "the next probe is in " +
                        seconds_until(now, st.rule.next_probe()) +
                        ". Try again after that, or check the broker");
}

// Logs a change of the breaker's state, once per change.
template <class P>
void report_transition(breaker_ptr<P> self, uint64_t transitions_before) {
  auto& st = self->state;
  if (st.rule.transitions() == transitions_before)
    return;
  auto now = self->clock().now();
  switch (st.rule.current(now)) {
  case circuit_breaker::state::open:
    spdlog::warn("{} circuit breaker open: {}; calls fail at once for {}", st.cfg.what,
                 st.last_failure, seconds_until(now, st.rule.next_probe()));
    break;
  case circuit_breaker::state::half_open:
    spdlog::info("{} circuit breaker half-open: probing the backend", st.cfg.what);
    break;
  case circuit_breaker::state::closed:
    spdlog::info("{} circuit breaker closed: the backend answers again", st.cfg.what);
    break;
  }
}

template <class P>
bool admit(breaker_ptr<P> self) {
  auto& st = self->state;
  auto before = st.rule.transitions();
  auto allowed = st.rule.allow(self->clock().now());
  report_transition<P>(self, before);
  return allowed;
}

template <class P>
void record(breaker_ptr<P> self, const judgement& j) {
  auto& st = self->state;
  auto before = st.rule.transitions();
  auto now = self->clock().now();
  switch (j.what) {
  case verdict::success:
    st.rule.on_success(now);
    break;
  case verdict::failure:
    ++st.counters.failures;
    st.last_failure = j.text;
    st.rule.on_failure(now);
    break;
  case verdict::neutral:
    st.rule.on_neutral();
    break;
  }
  report_transition<P>(self, before);
}

template <class P>
void send_attempt(breaker_ptr<P> self, typename breaker_state<P>::pending call);

// After a failed attempt: schedules the next one when the request may be repeated,
// another attempt is allowed, the delay fits before the deadline and the budget has a
// retry left. Returns false when the failure is the answer.
template <class P>
bool schedule_retry(breaker_ptr<P> self, typename breaker_state<P>::pending& call,
                    const judgement& j) {
  auto& st = self->state;
  if (j.what != verdict::failure || !j.retryable || !idempotent(call.request) ||
      !st.cfg.retry.may_retry(call.attempts))
    return false;
  std::uniform_real_distribution<double> uniform{0.0, 1.0};
  auto delay = std::chrono::duration_cast<caf::timespan>(
      st.cfg.retry.delay(call.attempts, uniform(st.random)));
  if (self->clock().now() + delay >= call.deadline)
    return false;
  if (!st.budget.try_spend()) {
    ++st.counters.budget_refusals;
    return false;
  }
  ++st.counters.retries;
  auto id = st.next_id++;
  st.waiting_retry.emplace(id, std::move(call));
  self->delayed_send(self, delay, retry_atom::value, id);
  return true;
}

template <class P>
void send_attempt(breaker_ptr<P> self, typename breaker_state<P>::pending call) {
  auto& st = self->state;
  auto backend = st.backend();
  if (!backend) {
    st.rule.on_neutral();
    call.promise.deliver(make_error(
        ec::unavailable, "the " + st.cfg.what + " pool is restarting; try again"));
    return;
  }
  ++call.attempts;
  auto left = call.deadline - self->clock().now();
  // A request that will never be repeated moves into the message; one that may be
  // keeps its copy for the next attempt.
  auto repeatable = idempotent(call.request) && st.cfg.retry.may_retry(call.attempts);
  auto request = repeatable ? call.request : std::move(call.request);
  auto shared = std::make_shared<typename breaker_state<P>::pending>(std::move(call));
  self->request(backend, left + grace, P::atom::value, std::move(request), left)
      .then(
          [self, shared](typename P::response& response) {
            auto j = judge(response);
            record<P>(self, j);
            if (!schedule_retry<P>(self, *shared, j))
              shared->promise.deliver(std::move(response));
          },
          [self, shared](caf::error& err) {
            auto j = judge(err);
            record<P>(self, j);
            if (!schedule_retry<P>(self, *shared, j))
              shared->promise.deliver(std::move(err));
          });
}

template <class P>
actor_status breaker_status(breaker_ptr<P> self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto state = st.rule.current(now);
  std::string words = to_string(state);
  if (state == circuit_breaker::state::open)
    words += " (next probe in " + seconds_until(now, st.rule.next_probe()) + ")";
  auto s = status_of(self, "breaker", std::move(words));
  s.name = st.cfg.what;
  s.handled = st.counters.calls;
  auto put = [&s](const char* name, double value) { add_figure(s, name, value); };
  put("state", static_cast<double>(state));
  put("transitions", st.rule.transitions());
  put("calls", st.counters.calls);
  put("failures", st.counters.failures);
  put("rejected", st.counters.rejected);
  put("retries", st.counters.retries);
  put("budget_refusals", st.counters.budget_refusals);
  put("waiting_retry", st.waiting_retry.size());
  return s;
}

} // namespace

template <class P>
breaker_state<P>::~breaker_state() {
  for (auto& [id, call] : waiting_retry)
    call.promise.deliver(make_error(ec::cancelled, "warren is shutting down"));
}

template <class P>
typename breaker_actor<P>::behavior_type
breaker(breaker_ptr<P> self, breaker_config cfg,
        std::function<typename P::service()> backend) {
  auto& st = self->state;
  st.rule = circuit_breaker{cfg.rule};
  st.budget = retry_budget{cfg.budget_ratio, cfg.budget_reserve};
  st.random.seed(cfg.seed != 0 ? cfg.seed : std::random_device{}());
  st.cfg = std::move(cfg);
  st.backend = std::move(backend);
  return {
      [self](typename P::atom, typename P::request& request,
             caf::timespan budget) -> caf::result<typename P::response> {
        auto& st = self->state;
        ++st.counters.calls;
        // An open breaker answers at once; only a call let through gets a promise.
        if (!admit<P>(self)) {
          ++st.counters.rejected;
          return refusal<P>(self);
        }
        st.budget.on_call();
        auto promise = self->template make_response_promise<typename P::response>();
        send_attempt<P>(self,
                        {std::move(request), self->clock().now() + budget, 0, promise});
        return promise;
      },
      [self](cancel_atom, uint64_t call) {
        // A call waiting for its retry ends here; one at work is the pool's to stop.
        auto& st = self->state;
        for (auto i = st.waiting_retry.begin(); i != st.waiting_retry.end();) {
          if (i->second.request.call == call) {
            i->second.promise.deliver(
                make_error(ec::cancelled, "the client cancelled the call"));
            i = st.waiting_retry.erase(i);
          } else {
            ++i;
          }
        }
        if (auto backend = st.backend())
          self->send(backend, cancel_atom::value, call);
      },
      [self](status_atom) { return breaker_status<P>(self); },
      [self](trip_atom) {
        auto& st = self->state;
        auto before = st.rule.transitions();
        st.last_failure = "tripped by an operator";
        st.rule.trip(self->clock().now());
        report_transition<P>(self, before);
      },
      [self](reset_atom) {
        auto& st = self->state;
        auto before = st.rule.transitions();
        st.rule.reset();
        report_transition<P>(self, before);
      },
      [self](configure_atom, breaker_config& cfg) {
        auto& st = self->state;
        st.rule.reconfigure(cfg.rule);
        st.budget = retry_budget{cfg.budget_ratio, cfg.budget_reserve};
        cfg.what = st.cfg.what;
        cfg.seed = st.cfg.seed;
        st.cfg = std::move(cfg);
      },
      [self](retry_atom, uint64_t id) {
        auto& st = self->state;
        auto i = st.waiting_retry.find(id);
        if (i == st.waiting_retry.end())
          return;
        auto call = std::move(i->second);
        st.waiting_retry.erase(i);
        if (!admit<P>(self)) {
          call.promise.deliver(refusal<P>(self));
          return;
        }
        send_attempt<P>(self, std::move(call));
      },
  };
}

template typename breaker_actor<http_protocol>::behavior_type
    breaker<http_protocol>(breaker_ptr<http_protocol>, breaker_config,
                           std::function<http_protocol::service()>);
template struct breaker_state<http_protocol>;

template typename breaker_actor<amqp_protocol>::behavior_type
    breaker<amqp_protocol>(breaker_ptr<amqp_protocol>, breaker_config,
                           std::function<amqp_protocol::service()>);
template struct breaker_state<amqp_protocol>;

} // namespace warren
