#pragma once

// An actor system on CAF's deterministic test coordinator, driven step by step from
// doctest: nothing runs until the test calls run(), and time moves only when the
// test advances it.

#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/interfaces.hpp"

namespace warren::test {

struct test_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;

  test_system() {
    register_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  ~test_system() {
    for (auto& a : tracked_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  /// Spawns an actor that the fixture stops at its end.
  template <class... Ts>
  auto spawn(Ts&&... xs) {
    auto handle = sys->spawn(std::forward<Ts>(xs)...);
    tracked_.push_back(caf::actor_cast<caf::actor>(handle));
    return handle;
  }

  /// Runs every actor until no message is left.
  void run() { sched->run(); }

  /// Moves the clock forward, fires what fell due, and runs.
  void advance(caf::timespan dt) {
    sched->advance_time(dt);
    run();
  }

private:
  std::vector<caf::actor> tracked_;
};

} // namespace warren::test
