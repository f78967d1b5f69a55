#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/error.hpp>

#include "actors/interfaces.hpp"

namespace warren {

/// The parts of a status every actor fills the same way: its id, its kind, a few
/// words on its state and how many messages wait in its mailbox. Called from the
/// actor's own handler (the mailbox is only read by its owner).
template <class Self>
actor_status status_of(Self* self, std::string kind, std::string state) {
  actor_status s;
  s.id = self->id();
  s.kind = std::move(kind);
  s.state = std::move(state);
  s.mailbox = self->mailbox().size();
  return s;
}

inline void add_figure(actor_status& s, std::string name, double value) {
  s.figures.push_back({std::move(name), value});
}

/// The status shown for an actor that did not answer.
inline actor_status silent_status(const caf::actor& who, const std::string& why) {
  actor_status s;
  s.id = who ? who.id() : 0;
  s.kind = "unknown";
  s.state = "not answering: " + why;
  return s;
}

/// Asks every target for its status at once and calls `done` with their answers, in
/// the targets' order, when the last one has answered or failed to within `timeout`.
template <class Self>
void gather_status(Self* self, std::vector<caf::actor> targets, caf::timespan timeout,
                   std::function<void(std::vector<actor_status>)> done) {
  struct gathering {
    std::vector<actor_status> answers;
    std::size_t left = 0;
    std::function<void(std::vector<actor_status>)> done;
  };
  auto g = std::make_shared<gathering>();
  g->answers.resize(targets.size());
  g->left = targets.size();
  g->done = std::move(done);
  if (targets.empty()) {
    g->done({});
    return;
  }
  auto finish_one = [g] {
    if (--g->left == 0)
      g->done(std::move(g->answers));
  };
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto target = targets[i];
    self->request(target, timeout, status_atom::value)
        .then(
            [g, i, finish_one](actor_status& s) {
              g->answers[i] = std::move(s);
              finish_one();
            },
            [self, g, i, target, finish_one](caf::error& err) {
              g->answers[i] = silent_status(target, self->system().render(err));
              finish_one();
            });
  }
}

} // namespace warren
