#include "actors/amqp_router.hpp"

#include <caf/stateful_actor.hpp>

namespace warren {

namespace {

const std::string& vhost_of(const amqp_request& request) {
  return request.what == amqp_request::kind::publish ? request.publish.vhost
                                                     : request.get.vhost;
}

} // namespace

amqp_service::behavior_type
amqp_router(amqp_service::stateful_pointer<amqp_router_state> self, pool_config cfg,
            amqp_connection_factory factory) {
  self->state.cfg = std::move(cfg);
  self->state.factory = std::move(factory);
  return {
      [self](amqp_atom, amqp_request& request,
             caf::timespan budget) -> caf::delegated<amqp_response> {
        auto& st = self->state;
        const auto& vhost = vhost_of(request);
        auto i = st.pools.find(vhost);
        if (i == st.pools.end()) {
          amqp_protocol::factory make =
              [factory = st.factory, vhost](caf::local_actor* owner,
                                            std::shared_ptr<shutdown_signal> abort) {
                return factory(owner, vhost, std::move(abort));
              };
          auto pool = self->spawn<caf::linked>(connection_pool<amqp_protocol>, st.cfg,
                                               std::move(make));
          i = st.pools.emplace(vhost, pool).first;
        }
        return self->delegate(i->second, amqp_atom::value, std::move(request), budget);
      },
      [self](cancel_atom, uint64_t call) {
        for (auto& [vhost, pool] : self->state.pools)
          self->send(pool, cancel_atom::value, call);
      },
  };
}

} // namespace warren
