#include "actors/supervisor.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/interfaces.hpp"
#include "actors/status.hpp"

namespace warren {

namespace {

using supervisor_ptr = caf::stateful_actor<supervisor_state>*;

void start_child(supervisor_ptr self, supervisor_state::child& c) {
  c.handle = c.spec.start(self);
  self->link_to(c.handle);
  self->system().registry().put(c.spec.name, c.handle);
}

} // namespace

supervisor_state::~supervisor_state() {
  if (system == nullptr)
    return;
  for (auto& c : children)
    if (c.handle)
      system->registry().erase(c.spec.name);
}

caf::behavior supervisor(supervisor_ptr self, std::vector<child_spec> children,
                         restart_policy::config policy) {
  self->state.system = &self->system();
  for (auto& spec : children) {
    self->state.children.push_back({std::move(spec), {}, restart_policy{policy}, 0});
    start_child(self, self->state.children.back());
  }
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& kids = self->state.children;
    auto i = std::find_if(kids.begin(), kids.end(), [&](const auto& c) {
      return c.handle && c.handle.address() == msg.source;
    });
    if (i == kids.end()) {
      // Not a child: a link from above tells the supervisor to stop.
      if (msg.reason)
        self->quit(msg.reason);
      return;
    }
    auto name = caf::to_string(i->spec.name);
    i->handle = nullptr;
    self->system().registry().erase(i->spec.name);
    if (!msg.reason || msg.reason == caf::exit_reason::user_shutdown) {
      spdlog::debug("{} stopped", name);
      return;
    }
    auto delay = i->policy.on_crash(self->clock().now());
    if (!delay) {
      spdlog::error("{} crashed too often ({}); giving up", name,
                    self->system().render(msg.reason));
      self->quit(msg.reason);
      return;
    }
    spdlog::warn("{} crashed ({}); restarting in {} ms", name,
                 self->system().render(msg.reason),
                 std::chrono::duration_cast<std::chrono::milliseconds>(*delay).count());
    self->delayed_send(self, *delay, restart_atom::value, i->spec.name);
  });
  return {
      // Any answer comes after the children above started and were registered, so
      // asking is how the process waits until the tree is ready.
      [self](caf::get_atom) -> uint64_t { return self->state.children.size(); },
      // Its own status with its children's: the tree the console and metrics show.
      [self](status_atom) -> caf::result<actor_status> {
        auto& kids = self->state.children;
        auto s =
            status_of(self, "supervisor", std::to_string(kids.size()) + " children");
        std::vector<caf::actor> handles;
        std::vector<std::pair<std::string, uint64_t>> names; // and restarts
        for (auto& c : kids) {
          if (!c.handle) {
            actor_status gone;
            gone.kind = "unknown";
            gone.name = caf::to_string(c.spec.name);
            gone.state = "restarting";
            gone.restarts = c.restarts;
            s.children.push_back(std::move(gone));
            continue;
          }
          handles.push_back(c.handle);
          names.emplace_back(caf::to_string(c.spec.name), c.restarts);
        }
        auto promise = self->make_response_promise<actor_status>();
        gather_status(self, std::move(handles), std::chrono::seconds{2},
                      [promise, s, names](std::vector<actor_status> answers) mutable {
                        for (std::size_t i = 0; i < answers.size(); ++i) {
                          // What it serves, if it said; else its registry name.
                          auto& a = answers[i];
                          if (a.name.empty())
                            a.name = names[i].first;
                          a.restarts = names[i].second;
                          s.children.push_back(std::move(a));
                        }
                        promise.deliver(std::move(s));
                      });
        return promise;
      },
      [self](restart_atom, caf::atom_value name) {
        for (auto& c : self->state.children)
          if (c.spec.name == name && !c.handle) {
            ++c.restarts;
            start_child(self, c);
          }
      },
  };
}

} // namespace warren
