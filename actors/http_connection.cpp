#include "actors/http_connection.hpp"

#include <caf/stateful_actor.hpp>

namespace warren {

http_actor::behavior_type
http_connection(http_actor::stateful_pointer<http_connection_state> self,
                http_connection_config cfg) {
  auto client = std::make_shared<http_client>(cfg.endpoint, cfg.user, cfg.password,
                                              cfg.connect_timeout);
  self->state.client = client;
  abort_on_shutdown(self, cfg.shutdown, client);
  abort_on_shutdown(self, cfg.abort, client);
  return {
      [self](http_atom, const http_request& request,
             caf::timespan budget) -> caf::result<http_response> {
        auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(budget);
        auto started = std::chrono::steady_clock::now();
        auto response = self->state.client->send(request, timeout);
        if (response)
          response->backend_ns = nanos_since(started);
        return response;
      },
  };
}

} // namespace warren
