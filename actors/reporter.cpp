#include "actors/reporter.hpp"

#include <caf/stateful_actor.hpp>

#include "actors/status.hpp"

namespace warren {

reporter_actor::behavior_type
reporter(reporter_actor::stateful_pointer<reporter_state> self,
         request_stats::config cfg) {
  self->state.cfg = cfg;
  self->state.stats = request_stats{cfg};
  return {
      [self](record_atom, const request_sample& sample) {
        ++self->state.recorded;
        self->state.stats.record(sample, self->clock().now());
      },
      [self](report_atom) {
        auto& st = self->state;
        auto now = self->clock().now();
        request_snapshot snap;
        snap.counts = st.stats.counts();
        snap.histograms = st.stats.histograms();
        snap.tools = st.stats.rolling(now);
        snap.slowest = st.stats.slowest(now);
        snap.window_seconds = std::chrono::duration<double>(st.cfg.window).count();
        return snap;
      },
      [self](status_atom) {
        auto s = status_of(self, "reporter",
                           std::to_string(self->state.recorded) + " requests recorded");
        s.handled = self->state.recorded;
        return s;
      },
  };
}

} // namespace warren
