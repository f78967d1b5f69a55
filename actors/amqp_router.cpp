#include "actors/amqp_router.hpp"

#include <caf/stateful_actor.hpp>

#include "actors/status.hpp"

namespace warren {

namespace {

// A batch goes, whole, to the vhost of its first message.
std::string vhost_of(const amqp_request& request) {
  switch (request.what) {
  case amqp_request::kind::publish:
    return request.publish.vhost;
  case amqp_request::kind::publish_batch:
  case amqp_request::kind::publish_each:
    return request.batch.empty() ? std::string{"/"} : request.batch.front().vhost;
  case amqp_request::kind::get:
    break;
  }
  return request.get.vhost;
}

} // namespace

amqp_router_actor::behavior_type
amqp_router(amqp_router_actor::stateful_pointer<amqp_router_state> self,
            pool_config cfg, amqp_connection_factory factory) {
  self->state.cfg = std::move(cfg);
  self->state.factory = std::move(factory);
  return {
      [self](amqp_atom, amqp_request& request,
             caf::timespan budget) -> caf::delegated<amqp_response> {
        auto& st = self->state;
        const auto vhost = vhost_of(request);
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
      [self](resize_atom, uint64_t min, uint64_t max) {
        auto& st = self->state;
        st.cfg.min = static_cast<std::size_t>(min);
        st.cfg.max = static_cast<std::size_t>(max);
        for (auto& [vhost, pool] : st.pools)
          self->send(pool, resize_atom::value, min, max);
      },
      [self](status_atom) -> caf::result<actor_status> {
        auto& st = self->state;
        auto s = status_of(self, "router",
                           std::to_string(st.pools.size()) + " vhost pool(s)");
        s.name = st.cfg.what;
        std::vector<caf::actor> pools;
        std::vector<std::string> names;
        for (auto& [vhost, pool] : st.pools) {
          pools.push_back(caf::actor_cast<caf::actor>(pool));
          names.push_back(st.cfg.what + " vhost " + vhost);
        }
        auto promise = self->make_response_promise<actor_status>();
        gather_status(self, std::move(pools), std::chrono::seconds{1},
                      [promise, s, names](std::vector<actor_status> kids) mutable {
                        for (std::size_t i = 0; i < kids.size(); ++i)
                          kids[i].name = names[i];
                        s.children = std::move(kids);
                        promise.deliver(std::move(s));
                      });
        return promise;
      },
  };
}

} // namespace warren
