#include "protocol/metric_families.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace warren {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using labels = std::vector<ClientMetric::Label>;

// Collects samples into families, one family per name, in the order first seen.
class family_set {
public:
  void counter(const std::string& name, const std::string& help, labels l,
               double value) {
    family(name, help, MetricType::Counter).metric.push_back(make(l, value, true));
  }
  void gauge(const std::string& name, const std::string& help, labels l, double value) {
    family(name, help, MetricType::Gauge).metric.push_back(make(l, value, false));
  }
  MetricFamily& family(const std::string& name, const std::string& help,
                       MetricType type) {
    auto i = index_.find(name);
    if (i != index_.end())
      return families_[i->second];
    index_.emplace(name, families_.size());
    families_.push_back(MetricFamily{name, help, type, {}});
    return families_.back();
  }
  std::vector<MetricFamily> take() { return std::move(families_); }

private:
  static ClientMetric make(labels& l, double value, bool is_counter) {
    ClientMetric m;
    m.label = std::move(l);
    if (is_counter)
      m.counter.value = value;
    else
      m.gauge.value = value;
    return m;
  }
  std::vector<MetricFamily> families_;
  std::map<std::string, std::size_t> index_;
};

void add_requests(family_set& out, const request_snapshot& requests,
                  const actor_status& tree) {
  for (const auto& c : requests.counts)
    out.counter(
        "warren_requests_total",
        "JSON-RPC requests answered, by method, tool and outcome.",
        {{"method", c.method}, {"tool", c.tool}, {"outcome", to_string(c.outcome)}},
        static_cast<double>(c.count));
  // Declared even before the first request, so that dashboards find the family.
  out.family("warren_requests_total",
             "JSON-RPC requests answered, by method, tool and outcome.",
             MetricType::Counter);
  auto& histograms =
      out.family("warren_request_duration_seconds",
                 "Time from a request's arrival to its answer, by tool (or method for "
                 "requests that are not tools/call).",
                 MetricType::Histogram);
  const auto& bounds = latency_buckets();
  for (const auto& h : requests.histograms) {
    ClientMetric m;
    m.label = {{"tool", h.tool}};
    m.histogram.sample_count = h.count;
    m.histogram.sample_sum = h.sum_seconds;
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size() && i < h.counts.size(); ++i) {
      cumulative += h.counts[i];
      m.histogram.bucket.push_back({cumulative, bounds[i]});
    }
    m.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
    histograms.metric.push_back(std::move(m));
  }
  double in_flight = 0;
  std::map<std::string, double> sessions{{"stdio", 0}, {"http", 0}};
  for_each_status(tree, [&](const actor_status& s) {
    if (s.kind == "session") {
      in_flight += figure_of(s, "in_flight");
      sessions[s.name] += 1;
    }
  });
  out.gauge("warren_requests_in_flight", "Tool calls received and not answered yet.",
            {}, in_flight);
  for (auto& [transport, count] : sessions)
    out.gauge("warren_sessions", "MCP sessions open, by transport.",
              {{"transport", transport}}, count);
}

void add_cache(family_set& out, const actor_status& tree) {
  double hits = 0, misses = 0, joins = 0, evictions = 0, expirations = 0, entries = 0,
         bytes = 0;
  bool l1 = false;
  const actor_status* l2 = nullptr;
  for_each_status(tree, [&](const actor_status& s) {
    if (s.kind == "cache_shard") {
      l1 = true;
      hits += figure_of(s, "hits");
      misses += figure_of(s, "misses");
      joins += figure_of(s, "joins");
      evictions += figure_of(s, "evictions");
      expirations += figure_of(s, "expirations");
      entries += figure_of(s, "entries");
      bytes += figure_of(s, "bytes");
    } else if (s.kind == "redis_l2") {
      l2 = &s;
    }
  });
  auto ratio = [](double h, double m) { return h + m > 0 ? h / (h + m) : 0.0; };
  if (l1) {
    labels l{{"backend", "l1"}};
    out.counter("warren_cache_hits_total", "Cache lookups answered from the cache.", l,
                hits);
    out.counter("warren_cache_misses_total", "Cache lookups that were not.", l, misses);
    out.counter("warren_cache_joins_total",
                "Misses that waited for a fetch already in flight (no backend call "
                "of their own).",
                l, joins);
    out.counter("warren_cache_evictions_total",
                "Entries pushed out by the size bounds.", l, evictions);
    out.counter("warren_cache_expirations_total",
                "Entries found past their time to live.", l, expirations);
    out.gauge("warren_cache_entries", "Entries held now.", l, entries);
    out.gauge("warren_cache_bytes", "Bytes held now (keys and values).", l, bytes);
    out.gauge("warren_cache_hit_ratio", "hits / (hits + misses) since the start.", l,
              ratio(hits, misses));
  }
  if (l2 != nullptr) {
    labels l{{"backend", "l2"}};
    auto h = figure_of(*l2, "hits");
    auto m = figure_of(*l2, "misses");
    out.counter("warren_cache_hits_total", "Cache lookups answered from the cache.", l,
                h);
    out.counter("warren_cache_misses_total", "Cache lookups that were not.", l, m);
    out.gauge("warren_cache_hit_ratio", "hits / (hits + misses) since the start.", l,
              ratio(h, m));
    out.counter("warren_cache_errors_total",
                "L2 calls that failed or were refused while Redis was down.", l,
                figure_of(*l2, "errors") + figure_of(*l2, "rejected"));
    out.gauge("warren_cache_up", "1 while the L2 (Redis) answers, 0 while it does not.",
              l, figure_of(*l2, "up"));
  }
}

void add_pools(family_set& out, const actor_status& tree) {
  for_each_status(tree, [&](const actor_status& s) {
    if (s.kind != "pool")
      return;
    auto pool = [&s] { return labels{{"pool", s.name}}; };
    out.gauge("warren_pool_connections",
              "Connections by state (active: serving a call).",
              {{"pool", s.name}, {"state", "active"}}, figure_of(s, "active"));
    out.gauge("warren_pool_connections",
              "Connections by state (active: serving a call).",
              {{"pool", s.name}, {"state", "idle"}}, figure_of(s, "idle"));
    out.gauge("warren_pool_waiting", "Requests waiting for a connection now.", pool(),
              figure_of(s, "waiting"));
    out.gauge("warren_pool_max_connections", "The pool's size limit now.", pool(),
              figure_of(s, "max"));
    out.counter("warren_pool_exhausted_total",
                "Requests that found every connection busy at the pool's maximum.",
                pool(), figure_of(s, "exhausted"));
    out.counter("warren_pool_rejected_total",
                "Requests refused because the pool and its wait queue were full.",
                pool(), figure_of(s, "rejected"));
    out.counter("warren_pool_wait_timeouts_total",
                "Waiting requests whose wait ran out.", pool(),
                figure_of(s, "timed_out"));
    out.counter("warren_pool_waits_total", "Requests that waited and got a connection.",
                pool(), figure_of(s, "waited"));
    out.counter("warren_pool_wait_seconds_total", "Time those requests waited.", pool(),
                figure_of(s, "wait_seconds"));
    out.counter("warren_pool_connections_opened_total", "Connections opened.", pool(),
                figure_of(s, "opened"));
    out.counter("warren_pool_connections_reused_total",
                "Requests served by a connection already open (keep-alive).", pool(),
                figure_of(s, "reused"));
    out.counter("warren_pool_connections_broken_total",
                "Connections that died or overran a deadline and were replaced.",
                pool(), figure_of(s, "broken"));
  });
}

// Batch jobs: running now, started, and the items of finished jobs by tool and
// status (figures "items/<tool>/<status>" of the batch supervisor).
void add_batches(family_set& out, const actor_status& tree) {
  for_each_status(tree, [&](const actor_status& s) {
    if (s.kind != "batch_supervisor")
      return;
    out.gauge("warren_batch_jobs_running", "Batch jobs running now.", {},
              figure_of(s, "jobs"));
    out.counter("warren_batch_jobs_total", "Batch jobs started.", {},
                figure_of(s, "started"));
    for (const auto& f : s.figures) {
      if (f.name.rfind("items/", 0) != 0)
        continue;
      auto slash = f.name.rfind('/');
      out.counter(
          "warren_batch_items_total",
          "Items of finished batch jobs, by tool and status.",
          {{"tool", f.name.substr(6, slash - 6)}, {"status", f.name.substr(slash + 1)}},
          f.value);
    }
  });
}

void add_breakers(family_set& out, const actor_status& tree) {
  for_each_status(tree, [&](const actor_status& s) {
    if (s.kind != "breaker" && s.kind != "redis_l2")
      return;
    labels l{{"backend", s.name}};
    out.gauge("warren_breaker_state",
              "Circuit breaker state: 0 closed, 1 open, 2 half-open.", l,
              figure_of(s, "state"));
    out.counter("warren_breaker_transitions_total", "Changes of breaker state.", l,
                figure_of(s, "transitions"));
    out.counter("warren_breaker_rejected_total",
                "Calls refused at once while the breaker was open.", l,
                figure_of(s, "rejected"));
    if (s.kind != "breaker")
      return;
    out.counter("warren_retry_attempts_total",
                "Retries of idempotent requests (attempts beyond the first).", l,
                figure_of(s, "retries"));
    out.counter("warren_retry_budget_exhausted_total",
                "Retries not made because the retry budget was spent.", l,
                figure_of(s, "budget_refusals"));
  });
}

void add_actors(family_set& out, const actor_status& tree) {
  struct per_kind {
    double count = 0, mailbox_max = 0, mailbox_sum = 0, restarts = 0;
  };
  std::map<std::string, per_kind> kinds;
  for_each_status(tree, [&](const actor_status& s) {
    auto& k = kinds[s.kind];
    ++k.count;
    k.mailbox_max = std::max(k.mailbox_max, static_cast<double>(s.mailbox));
    k.mailbox_sum += static_cast<double>(s.mailbox);
    k.restarts += static_cast<double>(s.restarts);
  });
  for (const auto& [kind, k] : kinds) {
    labels l{{"kind", kind}};
    out.gauge("warren_actors", "Actors alive, by kind.", l, k.count);
    out.gauge("warren_actor_mailbox_max",
              "The deepest mailbox among the actors of a kind (messages waiting).", l,
              k.mailbox_max);
    out.gauge("warren_actor_mailbox_sum",
              "Messages waiting in all mailboxes of a kind.", l, k.mailbox_sum);
    out.counter("warren_actor_restarts_total", "Restarts by a supervisor, by kind.", l,
                k.restarts);
  }
}

void add_process(family_set& out, const process_figures& p) {
  if (!p.known)
    return;
  out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
            p.resident_bytes);
  out.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
            p.virtual_bytes);
  out.counter("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
              {}, p.cpu_seconds);
  out.gauge("process_open_fds", "Open file descriptors.", {}, p.open_fds);
  out.gauge("process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds.", {},
            p.start_time_seconds);
}

} // namespace

double figure_of(const actor_status& s, const std::string& name) {
  for (const auto& f : s.figures)
    if (f.name == name)
      return f.value;
  return 0;
}

std::vector<prometheus::MetricFamily> metric_families(const actor_status& tree,
                                                      const request_snapshot& requests,
                                                      const process_figures& process) {
  family_set out;
  add_requests(out, requests, tree);
  add_cache(out, tree);
  add_pools(out, tree);
  add_breakers(out, tree);
  add_batches(out, tree);
  add_actors(out, tree);
  add_process(out, process);
  return out.take();
}

std::string to_prometheus_text(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream text;
  prometheus::TextSerializer{}.Serialize(text, families);
  return text.str();
}

health_inputs health_from(const actor_status& tree) {
  health_inputs health;
  for_each_status(tree, [&](const actor_status& s) {
    if (s.kind == "pool") {
      health.pools.push_back({s.name, static_cast<uint64_t>(figure_of(s, "max")),
                              static_cast<uint64_t>(figure_of(s, "requests")),
                              static_cast<uint64_t>(figure_of(s, "exhausted")),
                              static_cast<uint64_t>(figure_of(s, "waited")),
                              figure_of(s, "wait_seconds")});
    } else if (s.kind == "breaker" || s.kind == "redis_l2") {
      static const char* names[] = {"closed", "open", "half-open"};
      auto state = static_cast<std::size_t>(figure_of(s, "state"));
      health.breakers.push_back({s.name, names[std::min<std::size_t>(state, 2)],
                                 static_cast<uint64_t>(figure_of(s, "transitions")),
                                 static_cast<uint64_t>(figure_of(s, "rejected"))});
    } else if (s.kind == "cache_shard") {
      health.cache.enabled = true;
      health.cache.hits += static_cast<uint64_t>(figure_of(s, "hits"));
      health.cache.misses += static_cast<uint64_t>(figure_of(s, "misses"));
    }
  });
  return health;
}

} // namespace warren
