#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace warren {

/// One named number an actor reports about itself: a counter ("hits") or a gauge
/// ("entries"). The metrics exporter maps names to metric families.
struct figure {
  std::string name;
  double value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, figure& x) {
  return f(caf::meta::type_name("figure"), x.name, x.value);
}

/// What an actor says about itself when asked (status_atom): the one shared status
/// request that the console's tree and top and the actor metrics are built from.
struct actor_status {
  uint64_t id = 0;      ///< CAF's actor id
  std::string kind;     ///< "cache_shard", "pool", "breaker", ...
  std::string name;     ///< its registry name or what it serves; set by its parent
  std::string state;    ///< a few words: "closed", "3 busy, 2 idle", "running"
  uint64_t mailbox = 0; ///< messages waiting in its mailbox when it answered
  uint64_t restarts = 0;
  uint64_t handled = 0; ///< requests it has handled, for rates between two samples
  std::vector<figure> figures;
  std::vector<actor_status> children;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, actor_status& x) {
  return f(caf::meta::type_name("actor_status"), x.id, x.kind, x.name, x.state,
           x.mailbox, x.restarts, x.handled, x.figures, x.children);
}

} // namespace warren
