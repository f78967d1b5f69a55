#include "actors/amqp_connection.hpp"

#include <caf/stateful_actor.hpp>

namespace warren {

amqp_actor::behavior_type
amqp_connection(amqp_actor::stateful_pointer<amqp_connection_state> self,
                amqp_connection_config cfg) {
  auto client = std::make_shared<amqp_client>(cfg.endpoint, cfg.vhost);
  self->state.client = client;
  abort_on_shutdown(self, cfg.shutdown, client);
  abort_on_shutdown(self, cfg.abort, client);
  return {
      [self](amqp_atom, const amqp_request& request,
             caf::timespan budget) -> caf::result<amqp_response> {
        auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(budget);
        auto& client = *self->state.client;
        auto started = std::chrono::steady_clock::now();
        auto response = [&] {
          switch (request.what) {
          case amqp_request::kind::publish:
            return client.publish(request.publish, timeout);
          case amqp_request::kind::publish_batch:
            return client.publish_batch(request.batch, request.window, timeout);
          case amqp_request::kind::publish_each:
            return client.publish_each(request.batch, request.window, timeout);
          case amqp_request::kind::get:
            break;
          }
          return client.get(request.get, timeout);
        }();
        if (response)
          response->backend_ns = nanos_since(started);
        return response;
      },
  };
}

} // namespace warren
