#include "actors/dispatcher.hpp"

#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include "protocol/error.hpp"

namespace warren {

namespace {

// What a client should read when the backend could not answer.
std::string describe_backend_failure(const caf::error& err, caf::timespan budget) {
  if (err == caf::sec::request_timeout) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(budget).count();
    return "the management API did not answer within " + std::to_string(ms) +
           " ms; the broker may be overloaded. Try again, or raise "
           "server.request_timeout_ms";
  }
  if (err == caf::sec::request_receiver_down)
    return "the connection to the management API failed while handling this call; "
           "try again";
  return message_of(err);
}

} // namespace

dispatcher_actor::behavior_type
dispatcher(dispatcher_actor::stateful_pointer<dispatcher_state> self,
           std::shared_ptr<const tool_catalog> catalog, backend_lookup backend) {
  self->state.catalog = std::move(catalog);
  self->state.backend = std::move(backend);
  return {
      [self](call_atom, const tool_call& call,
             caf::timespan budget) -> caf::result<tool_result> {
        auto& st = self->state;
        auto op = st.catalog->prepare(call.name, call.arguments_json);
        if (!op)
          return std::move(op.error());
        auto backend = st.backend();
        if (!backend)
          return tool_catalog::failure(
              "the management API backend is restarting; try again in a moment");
        auto promise = self->make_response_promise<tool_result>();
        auto catalog = st.catalog;
        self->request(backend, budget, http_atom::value, op->request, budget)
            .then(
                [promise, catalog,
                 op = std::move(*op)](http_response& response) mutable {
                  promise.deliver(catalog->shape(op, response));
                },
                [promise, budget](caf::error& err) mutable {
                  promise.deliver(
                      tool_catalog::failure(describe_backend_failure(err, budget)));
                });
        return promise;
      },
  };
}

} // namespace warren
