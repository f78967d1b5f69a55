#include "actors/session.hpp"

#include <atomic>

#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/status.hpp"
#include "protocol/error.hpp"
#include "protocol/jsonrpc.hpp"
#include "runtime/logging.hpp"

namespace warren {

namespace {

using session_ptr = session_impl_actor::stateful_pointer<session_state>;

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// After eof the session only waits for calls that still owe the client an answer;
// cancelled work still running is abandoned (warren's shutdown aborts it).
void maybe_quit(session_ptr self) {
  if (self->state.closing && self->state.pending.empty())
    self->quit();
}

// The line's work is done: give its reading credit back.
void finish_line(session_ptr self) {
  --self->state.running;
  self->state.out->release();
  maybe_quit(self);
}

void log_to_client(session_ptr self, const std::string& about_id_json, log_level level,
                   const std::string& text) {
  if (self->state.mcp->wants(level))
    self->state.out->notify(about_id_json,
                            mcp_session::log_notification(level, "warren", text));
}

// Tool calls are numbered across the process, so that a cancel names exactly one
// whichever session sent it.
uint64_t next_call_id() {
  static std::atomic<uint64_t> next{0};
  return ++next;
}

// Hands the reporter one answered request.
void record(session_ptr self, std::string method, std::string tool,
            request_outcome outcome, caf::actor_clock::time_point started,
            uint64_t backend_ns, uint64_t call) {
  auto& st = self->state;
  ++st.requests;
  auto reporter = st.cfg.reporter ? st.cfg.reporter() : reporter_actor{};
  if (!reporter)
    return;
  request_sample sample;
  sample.method = std::move(method);
  sample.tool = std::move(tool);
  sample.outcome = outcome;
  sample.total = self->clock().now() - started;
  sample.backend = std::min(std::chrono::nanoseconds{backend_ns}, sample.total);
  if (call != 0)
    sample.correlation = std::to_string(call);
  self->send(reporter, record_atom::value, std::move(sample));
}

// Answers a call that is still pending (not cancelled); returns false otherwise.
bool answer(session_ptr self, const std::string& id_json, const std::string& line) {
  auto& st = self->state;
  auto i = st.pending.find(id_json);
  if (i == st.pending.end())
    return false;
  auto& p = i->second;
  auto last = std::max<uint64_t>(p.total, 1);
  if (!p.progress_token_json.empty() && last > p.progress)
    st.out->notify(id_json, mcp_session::progress_notification(
                                p.progress_token_json, static_cast<double>(last),
                                static_cast<double>(last), "done"));
  st.out->respond(id_json, line);
  st.pending.erase(i);
  return true;
}

// Calls wait for the dispatcher without a CAF request timeout: CAF 0.17 keeps each
// request's timeout in its clock until it fires, even when the answer came long
// before, so at thousands of calls a second the clock's table (memory) and its thread
// (CPU) grew with every call (measured: peak RSS 75 MB against 36 MB over 150000
// cached calls at 64 in flight, with 30 s against 2 s timeouts). One sweep a second
// answers the calls past their deadline instead.
void arm_sweep(session_ptr self) {
  if (self->state.sweeping)
    return;
  self->state.sweeping = true;
  self->delayed_send(self, std::chrono::seconds{1}, sweep_atom::value);
}

void sweep(session_ptr self) {
  auto& st = self->state;
  st.sweeping = false;
  auto now = self->clock().now();
  std::vector<std::string> late;
  for (auto& [id, p] : st.pending)
    if (p.deadline && *p.deadline <= now)
      late.push_back(id);
  for (auto& id : late) {
    auto& p = st.pending[id];
    auto call = p.call;
    auto tool = p.tool;
    record(self, "tools/call", tool, request_outcome::tool_error, p.started, 0, call);
    st.abandoned.insert(call);
    if (auto dispatcher = st.dispatcher())
      self->send(dispatcher, cancel_atom::value, call);
    answer(self, id,
           make_result(id, tool_catalog::failure("warren could not complete " + tool +
                                                 ": no answer within its time limit; "
                                                 "try again")
                               .json));
    finish_line(self);
  }
  for (auto& [id, p] : st.pending)
    if (p.deadline) {
      arm_sweep(self);
      break;
    }
}

// True (once) for a call the sweep already answered.
bool abandoned(session_ptr self, uint64_t call) {
  return self->state.abandoned.erase(call) > 0;
}

void start_call(session_ptr self, call_action call) {
  auto& st = self->state;
  if (st.pending.count(call.id_json) > 0) {
    st.out->respond(
        call.id_json,
        make_error_response(call.id_json,
                            make_error(ec::invalid_request,
                                       "request id " + call.id_json +
                                           " is already in use by a call in flight")));
    finish_line(self);
    return;
  }
  auto dispatcher = st.dispatcher();
  st.pending.emplace(call.id_json,
                     session_state::pending_call{call.tool, call.progress_token_json,
                                                 self->clock().now()});
  if (!call.progress_token_json.empty())
    st.out->notify(call.id_json,
                   mcp_session::progress_notification(call.progress_token_json, 0, 1,
                                                      "calling " + call.tool));
  if (!dispatcher) {
    answer(self, call.id_json,
           make_result(call.id_json,
                       tool_catalog::failure("warren's dispatcher is restarting; try "
                                             "again in a moment")
                           .json));
    finish_line(self);
    return;
  }
  auto id = call.id_json;
  auto tool = call.tool;
  auto call_id = next_call_id();
  st.pending[id].call = call_id;
  log_for(call_id, spdlog::level::debug,
          "tools/call {} (request id {}) from the {} client", tool, id,
          st.cfg.transport);
  // A batch job may also spend batch_rollback_time undoing its work.
  bool job = st.catalog->runs_as_job(tool);
  auto budget = job ? st.cfg.batch_timeout : st.cfg.request_timeout;
  auto wait =
      budget + std::chrono::seconds{1} + (job ? batch_rollback_time : caf::timespan{0});
  tool_call request{std::move(call.tool), std::move(call.arguments_json), call_id, {}};
  if (!call.progress_token_json.empty())
    request.progress = caf::actor_cast<progress_actor>(self);
  st.pending[id].deadline = self->clock().now() + wait;
  arm_sweep(self);
  self->request(dispatcher, caf::infinite, call_atom::value, std::move(request), budget)
      .then(
          [self, id, tool, call_id](tool_result& result) {
            if (abandoned(self, call_id))
              return;
            auto i = self->state.pending.find(id);
            if (i != self->state.pending.end()) {
              auto started = i->second.started;
              auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                            self->clock().now() - started)
                            .count();
              log_for(call_id, spdlog::level::debug,
                      "tools/call {} {} in {} us ({} us at the broker)", tool,
                      result.is_error ? "failed" : "succeeded", us,
                      result.backend_ns / 1000);
              record(self, "tools/call", tool,
                     result.is_error ? request_outcome::tool_error
                                     : request_outcome::ok,
                     started, result.backend_ns, call_id);
            }
            // The log message goes first: on HTTP the answer ends the request's
            // stream.
            if (result.is_error && self->state.pending.count(id) > 0)
              log_to_client(self, id, log_level::warning, "tool " + tool + " failed");
            answer(self, id, make_result(id, result.json));
            finish_line(self);
          },
          [self, id, tool, call_id](caf::error& err) {
            if (abandoned(self, call_id))
              return;
            auto code = code_of(err);
            auto refused = code == ec::invalid_params || code == ec::unknown_tool;
            log_for(call_id, spdlog::level::debug, "tools/call {} failed: {}", tool,
                    message_of(err));
            if (auto i = self->state.pending.find(id); i != self->state.pending.end())
              record(self, "tools/call", tool,
                     refused ? request_outcome::error : request_outcome::tool_error,
                     i->second.started, 0, call_id);
            if (refused)
              answer(self, id, make_error_response(id, err));
            else
              answer(self, id,
                     make_result(id, tool_catalog::failure(
                                         "warren could not complete " + tool + ": " +
                                         message_of(err) + "; try again")
                                         .json));
            finish_line(self);
          });
}

// The conformance fixtures' pace: the suite's reference server sends its
// notifications about 50 ms apart.
constexpr auto fixture_step = std::chrono::milliseconds{50};

// A fixture tool that sends notifications before its answer (logging, progress):
// each line is a timed step, the answer the last one. The tool's own progress
// replaces the session's "calling" and "done" notifications.
void start_fixture(session_ptr self, fixture_action call) {
  auto& st = self->state;
  const auto& fixtures = *st.mcp->fixtures();
  auto number = next_call_id();
  st.pending.emplace(call.id_json, session_state::pending_call{
                                       call.tool, {}, self->clock().now(), number});
  std::vector<std::string> lines;
  if (call.flow == fixture_flow::logging && st.mcp->wants(log_level::info))
    for (auto& params : fixtures.log_message_params())
      lines.push_back(make_notification("notifications/message", params));
  if (call.flow == fixture_flow::progress && !call.progress_token_json.empty())
    for (auto& params : fixtures.progress_params(call.progress_token_json))
      lines.push_back(make_notification("notifications/progress", params));
  if (call.flow == fixture_flow::sampling || call.flow == fixture_flow::elicitation) {
    auto request = fixtures.client_request_for(call.tool, call.arguments_json);
    auto capability = call.flow == fixture_flow::sampling ? "sampling" : "elicitation";
    if (auto* done = std::get_if<std::string>(&request)) {
      answer(self, call.id_json, make_result(call.id_json, *done));
    } else if (!st.mcp->client_can(capability)) {
      answer(self, call.id_json,
             make_result(call.id_json,
                         fixtures.result_from_client_error(
                             call.tool, std::string{"the client did not declare the "} +
                                            capability + " capability")));
    } else {
      // Ask the client on the call's own stream; its answer comes as a new message.
      auto& ask = std::get<client_request>(request);
      auto ask_id = quote_json("warren-" + std::to_string(++st.next_ask));
      st.asked.emplace(ask_id, call.id_json);
      st.out->notify(call.id_json, R"({"jsonrpc":"2.0","id":)" + ask_id +
                                       R"(,"method":)" + quote_json(ask.method) +
                                       R"(,"params":)" + ask.params_json + "}");
      self->delayed_send(
          self, st.cfg.request_timeout, step_atom::value, number, call.id_json,
          make_result(call.id_json,
                      fixtures.result_from_client_error(
                          call.tool, "the client did not answer in time")),
          true);
      return;
    }
    finish_line(self);
    return;
  }
  auto closing =
      fixtures.closing_result(call.tool).value_or(R"({"content":[],"isError":true})");
  auto delay = caf::timespan{0};
  for (auto& line : lines) {
    self->delayed_send(self, delay, step_atom::value, number, call.id_json,
                       std::move(line), false);
    delay += fixture_step;
  }
  self->delayed_send(self, delay, step_atom::value, number, call.id_json,
                     make_result(call.id_json, closing), true);
}

// The client answered a request warren sent it for a fixture tool.
void client_answered(session_ptr self, const client_answer_action& reply) {
  auto& st = self->state;
  auto i = st.asked.find(reply.id_json);
  if (i == st.asked.end())
    return;
  auto call_id = i->second;
  st.asked.erase(i);
  auto p = st.pending.find(call_id);
  if (p == st.pending.end())
    return;
  const auto& fixtures = *st.mcp->fixtures();
  auto result =
      reply.ok ? fixtures.result_from_client(p->second.tool, reply.result_json)
               : fixtures.result_from_client_error(p->second.tool, reply.error_text);
  answer(self, call_id, make_result(call_id, result));
  finish_line(self); // the tools/call line's credit
}

void handle_line(session_ptr self, const std::string& line) {
  auto& st = self->state;
  ++st.running;
  auto started = self->clock().now();
  auto action = st.mcp->handle(line);
  std::visit(
      overloaded{
          [&](no_action&) { finish_line(self); },
          [&](reply_action& reply) {
            if (reply.method == "logging/setLevel" && !reply.error &&
                st.cfg.client_sets_stderr_level)
              set_log_level(stderr_level_of(st.mcp->level()));
            st.out->respond(reply.id_json, std::move(reply.line));
            record(self, reply.method.empty() ? "invalid" : reply.method, "",
                   reply.error ? request_outcome::error : request_outcome::ok, started,
                   0, 0);
            finish_line(self);
          },
          [&](cancel_action& cancel) {
            // The backends stop the call's work; should an answer still come,
            // it is dropped.
            if (auto i = st.pending.find(cancel.request_id_json);
                i != st.pending.end()) {
              log_for(i->second.call, spdlog::level::debug,
                      "request {} cancelled by the client", cancel.request_id_json);
              record(self, "tools/call", i->second.tool, request_outcome::cancelled,
                     i->second.started, 0, i->second.call);
              if (auto dispatcher = st.dispatcher(); dispatcher && i->second.call)
                self->send(dispatcher, cancel_atom::value, i->second.call);
              st.pending.erase(i);
              st.out->drop(cancel.request_id_json);
            }
            finish_line(self);
          },
          [&](call_action& call) { start_call(self, std::move(call)); },
          [&](fixture_action& call) { start_fixture(self, std::move(call)); },
          [&](client_answer_action& reply) {
            client_answered(self, reply);
            finish_line(self);
          },
      },
      action);
}

} // namespace

session_impl_actor::behavior_type session(session_ptr self,
                                          std::shared_ptr<const tool_catalog> catalog,
                                          std::shared_ptr<session_output> out,
                                          dispatcher_lookup dispatcher,
                                          session_config cfg) {
  auto& st = self->state;
  st.catalog = std::move(catalog);
  st.mcp = std::make_unique<mcp_session>(*st.catalog, cfg.info, cfg.fixtures.get());
  st.out = std::move(out);
  st.dispatcher = std::move(dispatcher);
  st.cfg = std::move(cfg);
  return {
      [self](line_atom, const std::string& line) { handle_line(self, line); },
      [self](oversize_atom, uint64_t size) {
        self->state.out->respond("null", mcp_session::too_large_response(
                                             size, self->state.cfg.max_line_bytes));
        self->state.out->release();
      },
      [self](status_atom) {
        auto& st = self->state;
        auto s =
            status_of(self, "session",
                      std::to_string(st.pending.size()) + " call(s) in flight" +
                          (st.mcp->client().empty() ? std::string{}
                                                    : ", client " + st.mcp->client()));
        s.name = st.cfg.transport;
        s.handled = st.requests;
        add_figure(s, "requests", static_cast<double>(st.requests));
        add_figure(s, "in_flight", static_cast<double>(st.pending.size()));
        return s;
      },
      [self](eof_atom) {
        auto& st = self->state;
        st.closing = true;
        if (!st.pending.empty()) {
          spdlog::info("input closed; waiting up to {} ms for {} call(s) in flight",
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           st.cfg.shutdown_grace)
                           .count(),
                       st.pending.size());
          self->delayed_send(self, st.cfg.shutdown_grace, deadline_atom::value);
        }
        maybe_quit(self);
      },
      [self](progress_atom, uint64_t call, uint64_t done, uint64_t total,
             const std::string& what) {
        for (auto& [id, p] : self->state.pending) {
          if (p.call != call || p.progress_token_json.empty() || done <= p.progress)
            continue;
          p.progress = done;
          p.total = total;
          self->state.out->notify(
              id, mcp_session::progress_notification(p.progress_token_json,
                                                     static_cast<double>(done),
                                                     static_cast<double>(total), what));
          return;
        }
      },
      [self](sweep_atom) { sweep(self); },
      [self](step_atom, uint64_t call, const std::string& id_json,
             const std::string& line, bool last) {
        auto& st = self->state;
        auto i = st.pending.find(id_json);
        if (i == st.pending.end() || i->second.call != call)
          return; // cancelled, or answered already
        if (!last) {
          st.out->notify(id_json, line);
          return;
        }
        for (auto a = st.asked.begin(); a != st.asked.end();)
          a = a->second == id_json ? st.asked.erase(a) : std::next(a);
        answer(self, id_json, line);
        finish_line(self);
      },
      [self](deadline_atom) {
        // The grace period is over: answer what is left, then stop.
        auto& st = self->state;
        for (auto& [id, call] : st.pending)
          st.out->respond(
              id, make_result(id, tool_catalog::failure(
                                      "warren shut down before the broker answered " +
                                      call.tool + "; the call was abandoned")
                                      .json));
        st.pending.clear();
        self->quit();
      },
  };
}

} // namespace warren
