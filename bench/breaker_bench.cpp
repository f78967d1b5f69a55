// What a circuit breaker costs: the rule alone per call on the closed path, one call
// through the breaker actor versus straight to the same backend (alternating rounds
// in one run, so the ratio holds on a noisy machine), and how fast an open breaker
// answers.
//
//   warren_breaker_bench [--calls N] [--rounds R] [--json]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/breaker.hpp"
#include "actors/circuit_breaker.hpp"
#include "actors/interfaces.hpp"
#include "protocol/error.hpp"

using namespace warren;
using clock_type = std::chrono::steady_clock;

namespace {

// Answers at once: the breaker's cost is all that differs between the two paths.
http_service::behavior_type instant_backend(http_service::pointer) {
  return {
      [](http_atom, const http_request&, caf::timespan) -> caf::result<http_response> {
        return http_response{200, "ok"};
      },
      [](cancel_atom, uint64_t) {},
      [](status_atom) { return actor_status{}; },
  };
}

// Always fails as an unreachable broker would, to open a breaker.
http_service::behavior_type failing_backend(http_service::pointer) {
  return {
      [](http_atom, const http_request&, caf::timespan) -> caf::result<http_response> {
        return make_error(ec::backend_unreachable, "connection refused");
      },
      [](cancel_atom, uint64_t) {},
      [](status_atom) { return actor_status{}; },
  };
}

struct percentiles {
  double p50 = 0, p95 = 0, p99 = 0, mean = 0;
};

percentiles summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))];
  };
  double sum = 0;
  for (auto v : us)
    sum += v;
  return {at(0.50), at(0.95), at(0.99), sum / static_cast<double>(us.size())};
}

// One call at a time from a blocking actor: each call's round trip in µs.
template <class Handle>
std::vector<double> round_trips(caf::scoped_actor& self, const Handle& to,
                                std::size_t calls) {
  std::vector<double> us;
  us.reserve(calls);
  http_request request{"GET", "/api/overview", "", 0};
  for (std::size_t i = 0; i < calls; ++i) {
    auto start = clock_type::now();
    // No request timeout: a blocking actor gets each one as a message later, and
    // thousands of stale ones in its mailbox would slow every receive.
    self->request(to, caf::infinite, http_atom::value, request,
                  caf::timespan{std::chrono::seconds{5}})
        .receive([](http_response&) {}, [](caf::error&) {});
    us.push_back(
        std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
  }
  return us;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t calls = 20000;
  std::size_t rounds = 5;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--calls") && i + 1 < argc)
      calls = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = std::stoul(argv[++i]);
    else if (!std::strcmp(argv[i], "--json"))
      json = true;
  }

  // 1. The rule alone: allow + on_success, as the breaker actor calls them.
  circuit_breaker rule;
  std::size_t rule_calls = 10'000'000;
  auto t0 = clock_type::now();
  std::size_t allowed = 0;
  for (std::size_t i = 0; i < rule_calls; ++i) {
    auto now = clock_type::now();
    if (rule.allow(now)) {
      ++allowed;
      rule.on_success(now);
    }
  }
  auto rule_total = std::chrono::duration<double, std::nano>(clock_type::now() - t0);
  // The loop reads the clock once per call, as the actor does; measure that too.
  auto t1 = clock_type::now();
  clock_type::time_point sink{};
  for (std::size_t i = 0; i < rule_calls; ++i)
    sink = std::max(sink, clock_type::now());
  auto clock_total = std::chrono::duration<double, std::nano>(clock_type::now() - t1);
  double rule_ns = rule_total.count() / static_cast<double>(rule_calls);
  double clock_ns = clock_total.count() / static_cast<double>(rule_calls);

  // 2. Through the breaker actor versus straight to the backend, alternating.
  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto backend = sys.spawn(instant_backend);
  breaker_config closed_cfg;
  closed_cfg.retry.attempts = 1;
  auto guard = sys.spawn(http_breaker, closed_cfg, [backend] { return backend; });
  caf::scoped_actor self{sys};
  std::vector<double> direct, guarded;
  round_trips(self, backend, calls / 10); // warm up both paths
  round_trips(self, guard, calls / 10);
  for (std::size_t r = 0; r < rounds; ++r) {
    auto d = round_trips(self, backend, calls);
    auto g = round_trips(self, guard, calls);
    direct.insert(direct.end(), d.begin(), d.end());
    guarded.insert(guarded.end(), g.begin(), g.end());
  }
  auto direct_p = summarize(direct);
  auto guarded_p = summarize(guarded);

  // 3. An open breaker: every call fails at once without reaching the backend.
  auto broken = sys.spawn(failing_backend);
  breaker_config open_cfg;
  open_cfg.retry.attempts = 1;
  open_cfg.rule.open_for = std::chrono::hours{1};
  auto open_guard = sys.spawn(http_breaker, open_cfg, [broken] { return broken; });
  round_trips(self, open_guard, 10); // five failures open it
  auto open_p = summarize(round_trips(self, open_guard, calls));

  if (json) {
    std::printf("{\"rule_ns\":%.1f,\"clock_ns\":%.1f,"
                "\"direct_us\":{\"p50\":%.2f,\"p95\":%.2f,\"p99\":%.2f,\"mean\":%.2f},"
                "\"breaker_us\":{\"p50\":%.2f,\"p95\":%.2f,\"p99\":%.2f,\"mean\":%.2f},"
                "\"open_us\":{\"p50\":%.2f,\"p95\":%.2f,\"p99\":%.2f,\"mean\":%.2f}}\n",
                rule_ns, clock_ns, direct_p.p50, direct_p.p95, direct_p.p99,
                direct_p.mean, guarded_p.p50, guarded_p.p95, guarded_p.p99,
                guarded_p.mean, open_p.p50, open_p.p95, open_p.p99, open_p.mean);
  } else {
    std::printf("rule alone (allow + on_success, closed): %.1f ns/call, of which "
                "reading the clock %.1f ns (%zu calls)\n",
                rule_ns, clock_ns, allowed);
    std::printf("round trip straight to the backend:   p50 %.2f us  p95 %.2f  p99 "
                "%.2f  mean %.2f\n",
                direct_p.p50, direct_p.p95, direct_p.p99, direct_p.mean);
    std::printf("round trip through a closed breaker:  p50 %.2f us  p95 %.2f  p99 "
                "%.2f  mean %.2f\n",
                guarded_p.p50, guarded_p.p95, guarded_p.p99, guarded_p.mean);
    std::printf("round trip to an open breaker:        p50 %.2f us  p95 %.2f  p99 "
                "%.2f  mean %.2f\n",
                open_p.p50, open_p.p95, open_p.p99, open_p.mean);
  }
  caf::anon_send_exit(guard, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(open_guard, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(backend, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(broken, caf::exit_reason::user_shutdown);
  return 0;
}
