#include "actors/cache_warmer.hpp"

#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "protocol/jsonrpc.hpp"

namespace warren {

caf::behavior cache_warmer(caf::stateful_actor<cache_warmer_state>* self,
                           dispatcher_actor dispatcher, std::vector<std::string> vhosts,
                           caf::timespan budget) {
  std::vector<tool_call> calls{{"search-ids", R"({"query":"warm up"})"}};
  for (auto& vhost : vhosts)
    for (auto tool : {"list_queues", "list_exchanges", "list_bindings"})
      calls.push_back({tool, R"({"vhost":)" + quote_json(vhost) + "}"});
  self->state.pending = calls.size();
  auto finished = [self, vhosts] {
    if (--self->state.pending > 0)
      return;
    spdlog::info("cache warmed: discovery index built, {} vhost(s) listed ({} call(s) "
                 "failed)",
                 vhosts.size(), self->state.failed);
    self->quit();
  };
  for (auto& call : calls)
    self->request(dispatcher, budget, call_atom::value, call, budget)
        .then(
            [self, finished](tool_result& result) {
              self->state.failed += result.is_error ? 1 : 0;
              finished();
            },
            [self, finished](caf::error&) {
              ++self->state.failed;
              finished();
            });
  return {[](caf::unit_t) {}};
}

} // namespace warren
