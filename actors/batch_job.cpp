#include "actors/batch_job.hpp"

#include <map>
#include <utility>

#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/status.hpp"
#include "protocol/error.hpp"
#include "protocol/jsonrpc.hpp"
#include "runtime/logging.hpp"

namespace warren {

namespace {

using job_ptr = batch_job_actor::stateful_pointer<batch_job_state>;
using phase = batch_job_state::phase;
using task = batch_job_state::task;

const batch_plan& plan_of(job_ptr self) {
  return *self->state.cfg.plan;
}

bool is_publish(job_ptr self) {
  return plan_of(self).item_tool == "publish_message";
}

bool all_or_nothing(job_ptr self) {
  return plan_of(self).mode == batch_mode::all_or_nothing;
}

// An item's own operation, sharing the plan's lifetime.
op_handle item_op(job_ptr self, std::size_t i) {
  auto& plan = self->state.cfg.plan;
  return op_handle{plan, &plan->items[i].op};
}

// A call the catalog prepares for the job itself (checks and rollbacks).
op_handle prepared(job_ptr self, const char* tool, const std::string& arguments) {
  auto op = self->state.cfg.catalog->prepare(tool, arguments);
  if (!op) {
    spdlog::error("batch job: could not prepare {}: {}", tool, message_of(op.error()));
    return nullptr;
  }
  return std::make_shared<const operation>(std::move(*op));
}

std::string name_args(const std::string& vhost, const std::string& name) {
  return R"({"vhost":)" + quote_json(vhost) + R"(,"name":)" + quote_json(name) + "}";
}

void report_progress(job_ptr self, const std::string& what) {
  auto& st = self->state;
  if (!st.cfg.progress || st.now != phase::run)
    return;
  auto total = static_cast<uint64_t>(st.outcomes.size());
  // At most one notification per percent, and always the last one.
  auto percent = total == 0 ? 100 : st.finished * 100 / total;
  if (percent == st.last_progress && st.finished != total)
    return;
  st.last_progress = percent;
  self->send(st.cfg.progress, progress_atom::value, st.cfg.call,
             static_cast<uint64_t>(st.finished), total, what);
}

void stop(job_ptr self, std::string reason) {
  if (self->state.stop_reason.empty())
    self->state.stop_reason = std::move(reason);
}

void finish(job_ptr self) {
  auto& st = self->state;
  st.now = phase::done;
  for (auto& o : st.outcomes)
    if (o.status == item_status::skipped && o.error.empty())
      o.error = "not run: " + (st.stop_reason.empty() ? std::string{"no reason given"}
                                                      : st.stop_reason);
  batch_summary summary{st.cancelled, self->clock().now() - st.started};
  log_for(st.cfg.call, spdlog::level::info, "{}",
          audit_line(plan_of(self), st.outcomes, summary));
  if (st.cfg.parent) {
    auto t = count_outcomes(st.outcomes);
    self->send(st.cfg.parent, record_atom::value, plan_of(self).tool,
               std::vector<uint64_t>{t.succeeded, t.failed, t.rolled_back, t.skipped});
  }
  st.promise.deliver(batch_result(plan_of(self), st.outcomes, summary));
  self->quit();
}

void pump(job_ptr self);

void start_phase(job_ptr self, phase next, std::vector<task> tasks) {
  auto& st = self->state;
  st.now = next;
  st.tasks = std::move(tasks);
  st.next = 0;
  pump(self);
}

// -- what each answer means
// ------------------------------------------------------------

void on_check(job_ptr self, const task& t, const tool_result& result) {
  if (!result.is_error)
    return;
  auto& st = self->state;
  auto why = error_text(result);
  for (auto i : t.items)
    st.outcomes[i] = {item_status::failed, why};
  if (all_or_nothing(self))
    stop(self, "item " + std::to_string(t.items.front()) +
                   " cannot go ahead and the mode is all_or_nothing");
}

void on_item(job_ptr self, const task& t, const tool_result& result) {
  auto& st = self->state;
  auto i = t.items.front();
  if (result.is_error) {
    st.outcomes[i] = {item_status::failed, error_text(result)};
    if (all_or_nothing(self))
      stop(self,
           "item " + std::to_string(i) + " failed and the mode is all_or_nothing");
  } else {
    st.outcomes[i] = {item_status::succeeded, {}, reports_created(result)};
  }
  ++st.finished;
  report_progress(self, std::to_string(st.finished) + " of " +
                            std::to_string(st.outcomes.size()) + " done");
}

void on_rollback(job_ptr self, const task& t, const tool_result& result) {
  auto& o = self->state.outcomes[t.items.front()];
  if (result.is_error) {
    o.error = "created, and could not be deleted again: " + error_text(result);
    return;
  }
  o = {item_status::rolled_back,
       "created, then deleted again because " + self->state.stop_reason};
}

void on_confirms(job_ptr self, const task& t, caf::expected<amqp_response> response) {
  auto& st = self->state;
  for (std::size_t k = 0; k < t.items.size(); ++k) {
    auto& o = st.outcomes[t.items[k]];
    if (response && k < response->confirms.size())
      o = outcome_of(response->confirms[k]);
    else if (!response && response.error() == caf::sec::request_timeout)
      o = outcome_of(
          {amqp_confirm::status::unknown, 0, "no answer within the job's time"});
    else
      o = outcome_of({amqp_confirm::status::not_sent, 0,
                      response ? "the broker's answer did not cover it"
                               : message_of(response.error())});
    ++st.finished;
  }
  report_progress(self, std::to_string(st.finished) + " of " +
                            std::to_string(st.outcomes.size()) + " published");
}

// -- the phases
// --------------------------------------------------------------------------

// One task per item: its own call, or (check) a copy that stops after the precheck.
std::vector<task> item_tasks(job_ptr self, bool precheck_only) {
  std::vector<task> tasks;
  for (std::size_t i = 0; i < plan_of(self).items.size(); ++i) {
    if (self->state.outcomes[i].status == item_status::failed)
      continue;
    auto op = item_op(self, i);
    if (precheck_only) { // only asks: it changes nothing, so it invalidates nothing
      auto check = std::make_shared<operation>(*op);
      check->precheck_only = true;
      check->invalidates.clear();
      check->refreshes.clear();
      op = std::move(check);
    }
    tasks.push_back({{i}, std::move(op)});
  }
  return tasks;
}

// One lookup per exchange the messages name, so that a missing exchange fails its
// messages by name instead of closing the channel under a whole chunk.
std::vector<task> exchange_checks(job_ptr self) {
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> by_exchange;
  auto& items = plan_of(self).items;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& p = items[i].op.amqp.publish;
    if (!p.exchange.empty())
      by_exchange[{p.vhost, p.exchange}].push_back(i);
  }
  std::vector<task> tasks;
  for (auto& [where, indices] : by_exchange)
    if (auto op = prepared(self, "get_exchange", name_args(where.first, where.second)))
      tasks.push_back({indices, std::move(op)});
  return tasks;
}

// The publish chunks of the messages still to send, each one AMQP publish_batch.
std::vector<task> publish_tasks(job_ptr self) {
  auto& plan = plan_of(self);
  std::vector<task> tasks;
  for (auto& chunk : publish_chunks(plan)) {
    task t;
    for (auto i : chunk) // the checks may have failed some already
      if (self->state.outcomes[i].status != item_status::failed)
        t.items.push_back(i);
    if (t.items.empty())
      continue;
    t.op = std::make_shared<const operation>(publish_chunk(plan, t.items));
    tasks.push_back(std::move(t));
  }
  return tasks;
}

// all_or_nothing after a failure: delete the queues this call created.
std::vector<task> rollback_tasks(job_ptr self) {
  std::vector<task> tasks;
  if (plan_of(self).item_tool != "create_queue")
    return tasks;
  auto& items = plan_of(self).items;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& o = self->state.outcomes[i];
    if (o.status != item_status::succeeded || !o.created)
      continue;
    auto args = name_args(items[i].vhost, items[i].resource);
    args.insert(args.size() - 1, R"(,"force":true)");
    if (auto op = prepared(self, "delete_queue", args))
      tasks.push_back({{i}, std::move(op)});
  }
  return tasks;
}

void phase_over(job_ptr self) {
  auto& st = self->state;
  switch (st.now) {
  case phase::check:
    if (!st.stop_reason.empty())
      return finish(self);
    // Items the checks failed are done: progress counts them.
    st.finished = count_outcomes(st.outcomes).failed;
    return start_phase(self, phase::run,
                       is_publish(self) ? publish_tasks(self)
                                        : item_tasks(self, false));
  case phase::run: {
    bool undo = all_or_nothing(self) && !st.stop_reason.empty();
    auto tasks = undo ? rollback_tasks(self) : std::vector<task>{};
    if (tasks.empty())
      return finish(self);
    st.rollback_deadline = self->clock().now() + batch_rollback_time;
    return start_phase(self, phase::rollback, std::move(tasks));
  }
  case phase::rollback:
  case phase::done:
    return finish(self);
  }
}

// What a task's answer means in the phase the job is in.
void dispatch_answer(job_ptr self, const task& t, const tool_result& result) {
  switch (self->state.now) {
  case phase::check:
    return on_check(self, t, result);
  case phase::run:
    return on_item(self, t, result);
  default:
    return on_rollback(self, t, result);
  }
}

void launch(job_ptr self, const task& t) {
  auto& st = self->state;
  ++st.in_flight;
  // Undoing has its own time: it must not fail because the items used up theirs.
  auto until = st.now == phase::rollback ? st.rollback_deadline : st.deadline;
  auto left = std::max<caf::timespan>(until - self->clock().now(),
                                      std::chrono::milliseconds{1});
  auto timeout = left + std::chrono::milliseconds{500};
  // Items run under the call's id, for its log lines; a cancel of a batch call
  // reaches only the job (see the dispatcher), so items in flight finish and report
  // what they really did. Undoing runs under no call id.
  auto call = st.now == phase::rollback ? 0 : st.cfg.call;
  auto landed = [self] {
    --self->state.in_flight;
    pump(self);
  };
  auto runner = st.cfg.runner ? st.cfg.runner() : call_runner{};
  if (!runner) {
    auto why = make_error(ec::unavailable,
                          "warren's dispatcher is restarting; this item did not run");
    if (st.now == phase::run && is_publish(self))
      on_confirms(self, t, why);
    else
      dispatch_answer(self, t, tool_catalog::failure(message_of(why)));
    landed();
    return;
  }
  if (st.now == phase::run && is_publish(self)) {
    self->request(runner, timeout, amqp_atom::value, t.op, left, call)
        .then(
            [=](amqp_response& response) {
              on_confirms(self, t, std::move(response));
              landed();
            },
            [=](caf::error& err) {
              on_confirms(self, t, std::move(err));
              landed();
            });
    return;
  }
  auto on_answer = [=](const tool_result& result) {
    dispatch_answer(self, t, result);
    landed();
  };
  self->request(runner, timeout, run_atom::value, t.op, left, call)
      .then([=](tool_result& result) { on_answer(result); },
            [=](caf::error& err) {
              on_answer(tool_catalog::failure("warren could not run this item: " +
                                              message_of(err)));
            });
}

void pump(job_ptr self) {
  auto& st = self->state;
  auto most = std::max<std::size_t>(1, plan_of(self).parallelism);
  while (st.in_flight < most && st.next < st.tasks.size()) {
    if (st.now != phase::rollback) {
      if (self->clock().now() >= st.deadline)
        stop(self, "the job ran out of time (batch.timeout_ms)");
      if (!st.stop_reason.empty())
        break;
    }
    launch(self, st.tasks[st.next++]);
  }
  bool more = st.next < st.tasks.size() &&
              (st.now == phase::rollback || st.stop_reason.empty());
  if (st.in_flight == 0 && !more)
    phase_over(self);
}

void start(job_ptr self) {
  auto& st = self->state;
  st.started = self->clock().now();
  st.deadline = st.started + st.cfg.budget;
  st.outcomes.assign(plan_of(self).items.size(), item_outcome{});
  if (is_publish(self))
    return start_phase(self, phase::check, exchange_checks(self));
  if (plan_of(self).item_tool == "delete_queue" && all_or_nothing(self))
    return start_phase(self, phase::check, item_tasks(self, true));
  start_phase(self, phase::run, item_tasks(self, false));
}

const char* phase_name(phase p) {
  switch (p) {
  case phase::check:
    return "checking";
  case phase::run:
    return "running";
  case phase::rollback:
    return "rolling back";
  case phase::done:
    break;
  }
  return "done";
}

} // namespace

batch_job_actor::behavior_type
batch_job(batch_job_actor::stateful_pointer<batch_job_state> self,
          batch_job_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
      [self](run_atom) -> caf::result<tool_result> {
        auto& st = self->state;
        st.promise = self->make_response_promise<tool_result>();
        start(self);
        return st.promise;
      },
      [self](cancel_atom) {
        auto& st = self->state;
        if (st.now == phase::rollback || st.now == phase::done)
          return;
        st.cancelled = true;
        stop(self, "the call was cancelled");
      },
      [self](status_atom) {
        auto& st = self->state;
        auto total = st.outcomes.size();
        auto s = status_of(self, "batch_job",
                           std::string{phase_name(st.now)} + ", " +
                               std::to_string(st.finished) + " of " +
                               std::to_string(total) + " items done");
        s.name = plan_of(self).tool;
        s.handled = st.finished;
        auto t = count_outcomes(st.outcomes);
        add_figure(s, "items", static_cast<double>(total));
        add_figure(s, "finished", static_cast<double>(st.finished));
        add_figure(s, "in_flight", static_cast<double>(st.in_flight));
        add_figure(s, "succeeded", static_cast<double>(t.succeeded));
        add_figure(s, "failed", static_cast<double>(t.failed));
        return s;
      },
  };
}

} // namespace warren
