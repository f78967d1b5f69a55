#include "actors/dispatcher.hpp"

#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include "actors/status.hpp"
#include "protocol/batch.hpp"
#include "protocol/cache_invalidation.hpp"
#include "protocol/error.hpp"
#include "runtime/logging.hpp"

namespace warren {

namespace {

using dispatcher_ptr = dispatcher_actor::stateful_pointer<dispatcher_state>;
using op_ptr = std::shared_ptr<const operation>;
/// Receives the outcome of a call exactly once.
using done_fn = std::function<void(tool_result)>;

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

tool_result failed(const caf::error& err, caf::timespan budget) {
  return tool_catalog::failure(describe_backend_failure(err, budget));
}

// The answers of a fan-out, collected in request order.
struct gather_state {
  std::vector<http_response> responses;
  std::size_t missing = 0;
  bool failed = false;
};

// Sends every request of `op` at once and shapes the answers when all are in. `call`
// marks the requests as the tool call's own, so a cancel can stop them (0: it cannot).
void run_management(dispatcher_ptr self, op_ptr op, caf::timespan budget, uint64_t call,
                    done_fn done) {
  auto catalog = self->state.catalog;
  if (op->requests.empty()) {
    done(catalog->shape(*op, {}));
    return;
  }
  auto backend = self->state.backend();
  if (!backend) {
    done(restarting());
    return;
  }
  auto gather = std::make_shared<gather_state>();
  gather->responses.resize(op->requests.size());
  gather->missing = op->requests.size();
  for (std::size_t i = 0; i < op->requests.size(); ++i) {
    auto request = op->requests[i];
    request.call = call;
    self->request(backend, budget, http_atom::value, std::move(request), budget)
        .then(
            [=](http_response& response) {
              if (gather->failed)
                return;
              gather->responses[i] = std::move(response);
              if (--gather->missing == 0) {
                // The requests ran side by side: the slowest is the broker's time.
                uint64_t backend_ns = 0;
                for (auto& r : gather->responses)
                  backend_ns = std::max(backend_ns, r.backend_ns);
                auto result = catalog->shape(*op, gather->responses);
                result.backend_ns = backend_ns;
                done(std::move(result));
              }
            },
            [=](caf::error& err) {
              if (gather->failed)
                return;
              gather->failed = true;
              done(failed(err, budget));
            });
  }
}

// A guarded write: the precheck's answer decides whether the write goes out at all.
void run_guarded(dispatcher_ptr self, op_ptr op, caf::timespan budget, uint64_t call,
                 done_fn done) {
  auto backend = self->state.backend();
  if (!backend) {
    done(restarting());
    return;
  }
  auto started = self->clock().now();
  auto precheck = *op->precheck;
  precheck.call = call;
  self->request(backend, budget, http_atom::value, std::move(precheck), budget)
      .then(
          [=](http_response& response) {
            if (auto verdict = self->state.catalog->review(*op, response)) {
              verdict->backend_ns = response.backend_ns;
              done(std::move(*verdict));
              return;
            }
            if (op->precheck_only) { // a batch's check: the write may go ahead
              done(tool_result{false, "{}", response.backend_ns});
              return;
            }
            auto left = budget - (self->clock().now() - started);
            run_management(self, op, left, call,
                           [done, precheck_ns = response.backend_ns](tool_result r) {
                             r.backend_ns += precheck_ns;
                             done(std::move(r));
                           });
          },
          [=](caf::error& err) { done(failed(err, budget)); });
}

// A failed AMQP call; a publish's answer says whether the message may be stored, by
// its id, so that nobody publishes it again blindly.
tool_result amqp_failed(const operation& op, const caf::error& err,
                        caf::timespan budget) {
  auto text = describe_backend_failure(err, budget);
  if (op.amqp.what != amqp_request::kind::publish)
    return tool_catalog::failure(text);
  auto id = "'" + op.amqp.publish.message_id + "'";
  if (err == caf::sec::request_timeout)
    text += ". Message " + id +
            " may or may not have been published: look for it in the queue before "
            "publishing it again";
  else if (code_of(err) == ec::unavailable || code_of(err) == ec::overloaded)
    text += " Message " + id + " was not published.";
  return tool_catalog::failure(text);
}

// Sends op's AMQP request as the call's own; `done` gets the broker's response or
// the error.
void send_amqp(dispatcher_ptr self, op_ptr op, caf::timespan budget, uint64_t call,
               std::function<void(caf::expected<amqp_response>)> done) {
  auto amqp = self->state.amqp ? self->state.amqp() : amqp_service{};
  if (!amqp) {
    done(make_error(ec::unavailable,
                    "the AMQP backend is restarting; try again in a moment"));
    return;
  }
  auto request = op->amqp;
  request.call = call;
  self->request(amqp, budget, amqp_atom::value, std::move(request), budget)
      .then([=](amqp_response& response) { done(std::move(response)); },
            [=](caf::error& err) { done(std::move(err)); });
}

void run_amqp(dispatcher_ptr self, op_ptr op, caf::timespan budget, uint64_t call,
              done_fn done) {
  auto catalog = self->state.catalog;
  send_amqp(self, op, budget, call, [=](caf::expected<amqp_response> response) {
    if (!response) {
      done(amqp_failed(*op, response.error(), budget));
      return;
    }
    auto result = catalog->shape_amqp(*op, *response);
    result.backend_ns = response->backend_ns;
    done(std::move(result));
  });
}

void execute(dispatcher_ptr self, op_ptr op, caf::timespan budget, uint64_t call,
             done_fn done) {
  if (op->backend == backend_kind::amqp)
    run_amqp(self, op, budget, call, std::move(done));
  else if (op->precheck)
    run_guarded(self, op, budget, call, std::move(done));
  else
    run_management(self, op, budget, call, std::move(done));
}

// Stores a fetched result in the key's shard and, when the shard kept it (no write
// overtook the fetch, none touched the key just now), in the shared L2 too.
void fill_caches(dispatcher_ptr self, cache_actor shard, op_ptr op,
                 const tool_result& result, uint64_t flight) {
  auto ttl = self->state.cache.ttl;
  auto l2 = self->state.cache.l2 ? self->state.cache.l2() : l2_actor{};
  self->request(shard, caf::infinite, fill_atom::value, op->cache_key, result, ttl,
                flight)
      .then(
          [=](bool stored) {
            if (stored && l2)
              self->send(l2, fill_atom::value, op->cache_key, result.json, ttl);
          },
          [](caf::error&) {});
}

// After an L1 miss: the shared L2 may have it; else fetch from the broker.
void fetch_for_cache(dispatcher_ptr self, cache_actor shard, op_ptr op,
                     caf::timespan budget, uint64_t flight, done_fn done) {
  auto from_broker = [=] {
    execute(self, op, budget, 0, [=](tool_result result) {
      fill_caches(self, shard, op, result, flight);
      done(std::move(result));
    });
  };
  auto l2 = self->state.cache.l2 && self->state.cache.ttl.count() > 0
                ? self->state.cache.l2()
                : l2_actor{}; // a fresh read (time to live 0) goes to the broker
  if (!l2) {
    from_broker();
    return;
  }
  self->request(l2, std::min<caf::timespan>(budget, std::chrono::milliseconds{500}),
                lookup_atom::value, op->cache_key)
      .then(
          [=](bool found, std::string& value) {
            if (!found) {
              from_broker();
              return;
            }
            tool_result result{false, std::move(value)};
            self->request(shard, caf::infinite, fill_atom::value, op->cache_key, result,
                          self->state.cache.ttl, flight)
                .then([](bool) {}, [](caf::error&) {});
            done(std::move(result));
          },
          [=](caf::error&) { from_broker(); }); // Redis trouble: go to the broker
}

// Answers from the key's shard, or fetches (once for all concurrent misses) and fills.
void run_cached(dispatcher_ptr self, cache_actor shard, op_ptr op, caf::timespan budget,
                done_fn done) {
  // No timeout: a shard answers at once (a join waits for a fetch that has its own
  // deadline), and CAF 0.17 would keep every request's timeout in its clock until it
  // fires, a cost per cached call (see the session's sweep).
  bool fresh = self->state.cache.ttl.count() <= 0;
  self->request(shard, caf::infinite, lookup_atom::value, op->cache_key, fresh)
      .then(
          [=](cache_answer& answer) {
            if (answer.hit)
              done(std::move(answer.result));
            else
              fetch_for_cache(self, shard, op, budget, answer.flight, done);
          },
          [=](caf::error&) {
            execute(self, op, budget, 0, done);
          }); // cache trouble: go direct
}

// Publishes invalidations for the other instances sharing the broker. Best effort:
// the write's answer does not wait for it, and the cache's time to live bounds what a
// lost message costs.
void publish_to_peers(dispatcher_ptr self, const std::vector<std::string>& prefixes,
                      caf::timespan budget) {
  auto& cache = self->state.cache;
  auto amqp = self->state.amqp ? self->state.amqp() : amqp_service{};
  if (!amqp)
    return;
  amqp_request request;
  request.what = amqp_request::kind::publish;
  request.publish.exchange = cache.exchange;
  request.publish.body = invalidation_message(cache.origin, prefixes);
  request.publish.content_type = "application/json";
  request.publish.persistent = false;
  request.publish.mandatory = false;
  self->request(amqp, budget, amqp_atom::value, std::move(request), budget)
      .then([](amqp_response&) {},
            [](caf::error& err) {
              spdlog::warn("could not tell other instances about a write: {}",
                           message_of(err));
            });
}

// A write's invalidations for the other instances: gathered for cache.peer_gather,
// then sent in one notice with those of the writes that came meanwhile.
void tell_peers(dispatcher_ptr self, const std::vector<std::string>& prefixes,
                caf::timespan budget) {
  auto& st = self->state;
  if (st.cache.exchange.empty() || prefixes.empty())
    return;
  if (st.cache.peer_gather <= caf::timespan{0})
    return publish_to_peers(self, prefixes, budget);
  bool gathering = !st.peer_prefixes.empty();
  st.peer_prefixes.insert(prefixes.begin(), prefixes.end());
  if (gathering)
    return;
  st.peer_budget = budget;
  self->delayed_send(self, st.cache.peer_gather, peers_atom::value);
}

// Wraps `done` so that the write's invalidations (and refreshes: keys whose counts
// it changed) reach every shard before the caller hears the outcome (whatever it is:
// a failed write may still have changed something). The shared L2 and the other
// instances drop both kinds. Without a cache, or for an operation that touches no
// key, `done` is unchanged.
template <class Result>
std::function<void(Result)> invalidate_first(dispatcher_ptr self, const operation& op,
                                             caf::timespan budget,
                                             std::function<void(Result)> done) {
  auto& cache = self->state.cache;
  if (cache.count == 0 || (op.invalidates.empty() && op.refreshes.empty()))
    return done;
  std::vector<cache_actor> shards;
  for (std::size_t i = 0; i < cache.count; ++i)
    if (auto shard = cache.shard(i))
      shards.push_back(std::move(shard));
  auto dropped = op.invalidates;
  auto refreshed = op.refreshes;
  auto everything = dropped;
  everything.insert(everything.end(), refreshed.begin(), refreshed.end());
  return [=](Result result) {
    auto l2 = self->state.cache.l2 ? self->state.cache.l2() : l2_actor{};
    auto per_shard = std::size_t{!dropped.empty()} + std::size_t{!refreshed.empty()};
    auto remaining =
        std::make_shared<std::size_t>(shards.size() * per_shard + (l2 ? 1 : 0));
    if (*remaining == 0) { // every cache restarting: nothing holds the old state
      done(std::move(result));
      tell_peers(self, everything, budget);
      return;
    }
    auto outcome = std::make_shared<Result>(std::move(result));
    auto one_done = [=] {
      if (--*remaining == 0)
        done(std::move(*outcome));
    };
    auto ask = [=](auto to, auto what, const std::vector<std::string>& prefixes) {
      self->request(to, budget, what, prefixes)
          .then([=](uint64_t) { one_done(); }, [=](caf::error&) { one_done(); });
    };
    for (auto& shard : shards) {
      if (!dropped.empty())
        ask(shard, invalidate_atom::value, dropped);
      if (!refreshed.empty())
        ask(shard, refresh_atom::value, refreshed);
    }
    if (l2)
      ask(l2, invalidate_atom::value, everything);
    tell_peers(self, everything, budget);
  };
}

// Runs a prepared call: from its cache shard when it is a cached read, else at its
// backend, with its invalidations done before the answer.
caf::result<tool_result> run(dispatcher_ptr self, op_ptr op, caf::timespan budget,
                             uint64_t call) {
  auto& st = self->state;
  if (op->backend == backend_kind::local)
    return st.catalog->shape(*op, {});
  auto promise = self->make_response_promise<tool_result>();
  ++st.calls;
  ++st.in_flight;
  done_fn done = [self, promise, call](tool_result result) mutable {
    --self->state.in_flight;
    log_for(call, spdlog::level::debug, "dispatcher: {} ({} us at the broker)",
            result.is_error ? "failed" : "answered", result.backend_ns / 1000);
    promise.deliver(std::move(result));
  };
  done = invalidate_first(self, *op, budget, std::move(done));
  auto& cache = st.cache;
  cache_actor shard;
  if (cache.count > 0 && !op->cache_key.empty())
    shard = cache.shard(std::hash<std::string>{}(op->cache_key) % cache.count);
  log_for(call, spdlog::level::debug, "dispatcher: {} {} via {}{}{}", op->tool,
          op->invalidates.empty() ? "reads" : "writes",
          op->backend == backend_kind::amqp ? "AMQP" : "the management API",
          shard ? ", cached under key " : "",
          shard ? std::string_view{op->cache_key} : std::string_view{});
  if (shard)
    run_cached(self, shard, op, budget, std::move(done));
  else
    execute(self, op, budget, call, std::move(done));
  return promise;
}

// Hands a batch call to the batch supervisor, which runs it as a job.
caf::result<tool_result> run_batch(dispatcher_ptr self, op_ptr op, caf::timespan budget,
                                   const tool_call& call) {
  auto& st = self->state;
  auto batches = st.batches ? st.batches() : batch_service{};
  if (!batches)
    return tool_catalog::failure(
        "warren's batch runner is restarting; nothing was done, try again in a moment");
  auto promise = self->make_response_promise<tool_result>();
  ++st.calls;
  ++st.in_flight;
  st.batch_calls.insert(call.id);
  log_for(call.id, spdlog::level::debug,
          "dispatcher: {} runs as a batch job of {} items", call.name,
          op->batch ? op->batch->items.size() : 0);
  auto id = call.id;
  auto done = [self, id, promise](tool_result result) mutable {
    --self->state.in_flight;
    self->state.batch_calls.erase(id);
    promise.deliver(std::move(result));
  };
  self->request(batches, budget + batch_rollback_time + std::chrono::seconds{1},
                run_atom::value, op, budget, call.id, call.progress)
      .then([done](tool_result& result) mutable { done(std::move(result)); },
            [done, budget](caf::error& err) mutable {
              auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(budget);
              done(tool_catalog::failure(
                  err == caf::sec::request_timeout
                      ? "the batch job did not finish within " +
                            std::to_string(ms.count()) +
                            " ms (batch.timeout_ms); some items may have run: look "
                            "at the resources before trying again"
                      : "the batch job failed: " + message_of(err)));
            });
  return promise;
}

} // namespace

dispatcher_actor::behavior_type dispatcher(dispatcher_ptr self,
                                           std::shared_ptr<const tool_catalog> catalog,
                                           backend_lookup backend, amqp_lookup amqp,
                                           cache_access cache, batch_lookup batches) {
  self->state.catalog = std::move(catalog);
  self->state.backend = std::move(backend);
  self->state.amqp = std::move(amqp);
  self->state.cache = std::move(cache);
  self->state.batches = std::move(batches);
  return {
      [self](call_atom, const tool_call& call,
             caf::timespan budget) -> caf::result<tool_result> {
        auto prepared = self->state.catalog->prepare(call.name, call.arguments_json);
        if (!prepared)
          return std::move(prepared.error());
        auto op = std::make_shared<const operation>(std::move(*prepared));
        if (op->backend == backend_kind::batch)
          return run_batch(self, std::move(op), budget, call);
        return run(self, std::move(op), budget, call.id);
      },
      [self](run_atom, op_handle op, caf::timespan budget, uint64_t call) {
        return run(self, std::move(op), budget, call);
      },
      [self](amqp_atom, op_handle op, caf::timespan budget,
             uint64_t call) -> caf::result<amqp_response> {
        auto promise = self->make_response_promise<amqp_response>();
        std::function<void(caf::expected<amqp_response>)> done =
            [promise](caf::expected<amqp_response> response) mutable {
              if (response)
                promise.deliver(std::move(*response));
              else
                promise.deliver(std::move(response.error()));
            };
        done = invalidate_first(self, *op, budget, std::move(done));
        send_amqp(self, std::move(op), budget, call, std::move(done));
        return promise;
      },
      [self](ttl_atom, caf::timespan ttl) { self->state.cache.ttl = ttl; },
      [self](peers_atom) {
        auto& st = self->state;
        std::vector<std::string> prefixes(st.peer_prefixes.begin(),
                                          st.peer_prefixes.end());
        st.peer_prefixes.clear();
        publish_to_peers(self, prefixes, st.peer_budget);
      },
      [self](status_atom) {
        auto& st = self->state;
        auto s = status_of(self, "dispatcher",
                           std::to_string(st.in_flight) + " call(s) in flight");
        s.handled = st.calls;
        add_figure(s, "calls", static_cast<double>(st.calls));
        add_figure(s, "in_flight", static_cast<double>(st.in_flight));
        add_figure(s, "cache_ttl_seconds",
                   std::chrono::duration<double>(st.cache.ttl).count());
        return s;
      },
      [self](cancel_atom, uint64_t call) {
        auto& st = self->state;
        // A batch job stops starting items, and lets those in flight finish so that
        // it can say what each really did (and roll back exactly that).
        if (st.batch_calls.count(call) > 0) {
          if (auto batches = st.batches ? st.batches() : batch_service{})
            self->send(batches, cancel_atom::value, call);
          return;
        }
        if (auto backend = st.backend())
          self->send(backend, cancel_atom::value, call);
        if (auto amqp = st.amqp ? st.amqp() : amqp_service{})
          self->send(amqp, cancel_atom::value, call);
      },
  };
}

} // namespace warren
