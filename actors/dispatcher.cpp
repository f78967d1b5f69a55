#include "actors/dispatcher.hpp"

#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include "protocol/error.hpp"

namespace warren {

namespace {

using dispatcher_ptr = dispatcher_actor::stateful_pointer<dispatcher_state>;
using promise_type = caf::typed_response_promise<tool_result>;

// What a client should read when a backend could not answer.
std::string describe_backend_failure(const caf::error& err, caf::timespan budget) {
  if (err == caf::sec::request_timeout) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(budget).count();
    return "the broker did not answer within " + std::to_string(ms) +
           " ms; it may be overloaded. Try again, or raise server.request_timeout_ms";
  }
  if (err == caf::sec::request_receiver_down)
    return "the connection to the broker failed while handling this call; try again";
  return message_of(err);
}

tool_result restarting() {
  return tool_catalog::failure(
      "the broker backend is restarting; try again in a moment");
}

// The answers of a fan-out, collected in request order.
struct gather_state {
  std::vector<http_response> responses;
  std::size_t missing = 0;
  bool failed = false;
};

// Sends every request of `op` at once and shapes the answers when all are in.
void run_management(dispatcher_ptr self, std::shared_ptr<const operation> op,
                    caf::timespan budget, promise_type promise) {
  auto backend = self->state.backend();
  if (!backend) {
    promise.deliver(restarting());
    return;
  }
  if (op->requests.empty()) {
    promise.deliver(self->state.catalog->shape(*op, {}));
    return;
  }
  auto gather = std::make_shared<gather_state>();
  gather->responses.resize(op->requests.size());
  gather->missing = op->requests.size();
  auto catalog = self->state.catalog;
  for (std::size_t i = 0; i < op->requests.size(); ++i) {
    self->request(backend, budget, http_atom::value, op->requests[i], budget)
        .then(
            [=](http_response& response) mutable {
              if (gather->failed)
                return;
              gather->responses[i] = std::move(response);
              if (--gather->missing == 0)
                promise.deliver(catalog->shape(*op, gather->responses));
            },
            [=](caf::error& err) mutable {
              if (gather->failed)
                return;
              gather->failed = true;
              promise.deliver(
                  tool_catalog::failure(describe_backend_failure(err, budget)));
            });
  }
}

// A guarded write: the precheck's answer decides whether the write goes out at all.
void run_guarded(dispatcher_ptr self, std::shared_ptr<const operation> op,
                 caf::timespan budget, promise_type promise) {
  auto backend = self->state.backend();
  if (!backend) {
    promise.deliver(restarting());
    return;
  }
  auto started = self->clock().now();
  self->request(backend, budget, http_atom::value, *op->precheck, budget)
      .then(
          [=](http_response& response) mutable {
            if (auto verdict = self->state.catalog->review(*op, response)) {
              promise.deliver(std::move(*verdict));
              return;
            }
            auto left = budget - (self->clock().now() - started);
            run_management(self, op, left, promise);
          },
          [=](caf::error& err) mutable {
            promise.deliver(
                tool_catalog::failure(describe_backend_failure(err, budget)));
          });
}

void run_amqp(dispatcher_ptr self, std::shared_ptr<const operation> op,
              caf::timespan budget, promise_type promise) {
  auto amqp = self->state.amqp ? self->state.amqp() : amqp_actor{};
  if (!amqp) {
    promise.deliver(restarting());
    return;
  }
  auto catalog = self->state.catalog;
  self->request(amqp, budget, amqp_atom::value, op->amqp, budget)
      .then(
          [=](amqp_response& response) mutable {
            promise.deliver(catalog->shape_amqp(*op, response));
          },
          [=](caf::error& err) mutable {
            promise.deliver(
                tool_catalog::failure(describe_backend_failure(err, budget)));
          });
}

} // namespace

dispatcher_actor::behavior_type dispatcher(dispatcher_ptr self,
                                           std::shared_ptr<const tool_catalog> catalog,
                                           backend_lookup backend, amqp_lookup amqp) {
  self->state.catalog = std::move(catalog);
  self->state.backend = std::move(backend);
  self->state.amqp = std::move(amqp);
  return {
      [self](call_atom, const tool_call& call,
             caf::timespan budget) -> caf::result<tool_result> {
        auto prepared = self->state.catalog->prepare(call.name, call.arguments_json);
        if (!prepared)
          return std::move(prepared.error());
        auto op = std::make_shared<const operation>(std::move(*prepared));
        if (op->backend == backend_kind::local)
          return self->state.catalog->shape(*op, {});
        auto promise = self->make_response_promise<tool_result>();
        if (op->backend == backend_kind::amqp)
          run_amqp(self, op, budget, promise);
        else if (op->precheck)
          run_guarded(self, op, budget, promise);
        else
          run_management(self, op, budget, promise);
        return promise;
      },
  };
}

} // namespace warren
