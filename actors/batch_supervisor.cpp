#include "actors/batch_supervisor.hpp"

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/status.hpp"

namespace warren {

namespace {

// Answers a job's caller once.
void answer(batch_supervisor_state::running& r, tool_result result) {
  if (r.answered)
    return;
  r.answered = true;
  r.promise.deliver(std::move(result));
}

} // namespace

batch_service::behavior_type
batch_supervisor(batch_service::stateful_pointer<batch_supervisor_state> self,
                 batch_supervisor_config cfg) {
  self->state.cfg = std::move(cfg);
  // A job that ends normally has answered its caller (its answer arrives before its
  // exit); one that crashed has not, and its caller hears why here. An exit from
  // anywhere else (warren shutting down) ends the supervisor and, linked, its jobs.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& jobs = self->state.jobs;
    for (auto i = jobs.begin(); i != jobs.end(); ++i) {
      if (i->second.job.address() != msg.source)
        continue;
      if (msg.reason && msg.reason != caf::exit_reason::normal) {
        ++self->state.crashed;
        auto why = self->system().render(msg.reason);
        spdlog::error("a batch job stopped abnormally: {}", why);
        answer(i->second,
               tool_catalog::failure("the batch job stopped unexpectedly (" + why +
                                     "); some items may have run: look at the "
                                     "resources before trying again"));
      }
      jobs.erase(i);
      return;
    }
    if (msg.reason)
      self->quit(msg.reason);
  });
  return {
      [self](run_atom, op_handle op, caf::timespan budget, uint64_t call,
             progress_actor progress) -> caf::result<tool_result> {
        auto& st = self->state;
        batch_job_config job_cfg{op->batch,
                                 st.cfg.catalog,
                                 st.cfg.runner,
                                 std::move(progress),
                                 call,
                                 budget,
                                 caf::actor_cast<batch_service>(self)};
        auto job = self->spawn<caf::linked>(batch_job, std::move(job_cfg));
        ++st.started;
        auto promise = self->make_response_promise<tool_result>();
        st.jobs[call] = batch_supervisor_state::running{job, promise, false};
        self->request(job, caf::infinite, run_atom::value)
            .then(
                [self, call](tool_result& result) {
                  if (auto i = self->state.jobs.find(call); i != self->state.jobs.end())
                    answer(i->second, std::move(result));
                },
                [self, call](caf::error& err) {
                  if (auto i = self->state.jobs.find(call); i != self->state.jobs.end())
                    answer(i->second,
                           tool_catalog::failure("the batch job failed: " +
                                                 self->system().render(err)));
                });
        return promise;
      },
      [self](cancel_atom, uint64_t call) {
        auto i = self->state.jobs.find(call);
        if (i != self->state.jobs.end())
          self->send(i->second.job, cancel_atom::value);
      },
      [self](record_atom, const std::string& tool, const std::vector<uint64_t>& items) {
        auto& counts = self->state.items[tool];
        counts.resize(std::max(counts.size(), items.size()));
        for (std::size_t i = 0; i < items.size(); ++i)
          counts[i] += items[i];
      },
      [self](status_atom) -> caf::result<actor_status> {
        auto& st = self->state;
        auto promise = self->make_response_promise<actor_status>();
        std::vector<caf::actor> jobs;
        for (auto& [call, running] : st.jobs)
          jobs.push_back(caf::actor_cast<caf::actor>(running.job));
        auto s = status_of(self, "batch_supervisor",
                           std::to_string(st.jobs.size()) + " job(s) running");
        s.handled = st.started;
        add_figure(s, "jobs", static_cast<double>(st.jobs.size()));
        add_figure(s, "started", static_cast<double>(st.started));
        add_figure(s, "crashed", static_cast<double>(st.crashed));
        // "items/<tool>/<status>": what the metrics turn into one labelled counter.
        for (auto& [tool, counts] : st.items)
          for (std::size_t i = 0; i < counts.size(); ++i)
            add_figure(s,
                       "items/" + tool + "/" + status_name(static_cast<item_status>(i)),
                       static_cast<double>(counts[i]));
        gather_status(self, std::move(jobs), std::chrono::seconds{1},
                      [promise, s](std::vector<actor_status> children) mutable {
                        s.children = std::move(children);
                        promise.deliver(std::move(s));
                      });
        return promise;
      },
  };
}

} // namespace warren
