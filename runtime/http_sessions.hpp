#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/session.hpp"
#include "protocol/http_rules.hpp"

namespace warren {

/// Where the lines of one HTTP exchange go: a POST waiting for its answer, or a
/// session's GET stream. The HTTP connection implements it; any thread may call it.
class http_sink {
public:
  virtual ~http_sink() = default;
  /// One JSON-RPC message for this exchange; `last`: it is the answer, and the
  /// exchange ends with it.
  virtual void push(std::string line, bool last) = 0;
};

/// A session's output over Streamable HTTP: each answer goes to the POST that carried
/// its request, each notification about a request to that POST's stream, and other
/// notifications to the session's GET stream. Lines for a request whose POST is gone
/// are dropped (the spec lets a server drop them; the work itself is done).
class http_session_output : public session_output {
public:
  void respond(const std::string& id_json, std::string line) override;
  void notify(const std::string& about_id_json, std::string line) override;
  /// Reading credit is stdio's: over HTTP the requests awaiting answers are counted.
  void release() override {}
  /// A cancelled request gets no answer: its POST ends empty.
  void drop(const std::string& id_json) override;

  enum class admission { admitted, duplicate_id, full };
  /// Routes the lines of request `id_json` to `sink` until its answer; refused when
  /// that id is already waiting in this session (the client reused it), or when
  /// `limit` requests await their answers.
  admission expect(const std::string& id_json, std::shared_ptr<http_sink> sink,
                   std::size_t limit);
  /// Makes `sink` the session's GET stream (a previous one is told it ended).
  void open_stream(std::shared_ptr<http_sink> sink);
  /// The GET stream `sink` ended (its client went away); a newer one stays.
  void close_stream(const http_sink* sink);
  /// Ends the GET stream, if one is open (the session ended).
  void end_stream();
  bool has_stream() const;
  /// Requests of the session that await their answers.
  std::size_t in_flight() const;

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<http_sink>> waiting_;
  std::shared_ptr<http_sink> stream_;
};

/// One MCP session over HTTP.
struct http_session {
  std::string id;
  session_actor actor;
  std::shared_ptr<http_session_output> out;

  /// Takes a token from the session's rate limit; false when it is spent.
  bool admit(token_bucket::time_point now, uint32_t& retry_after_s);
  /// Marks the session used now.
  void touch(token_bucket::time_point now);
  /// True when the session has been unused since `before`, with nothing in flight
  /// and no stream open.
  bool idle_since(token_bucket::time_point before) const;

  http_session(std::string id, session_actor actor,
               std::shared_ptr<http_session_output> out, double rate_per_second);

private:
  mutable std::mutex mutex_;
  std::unique_ptr<token_bucket> bucket_; ///< none: no rate limit
  token_bucket::time_point last_used_;
};

/// The live HTTP sessions by id; thread-safe.
class http_session_table {
public:
  using time_point = token_bucket::time_point;

  /// Spawns the actor of a new session that writes to the given output.
  using session_factory =
      std::function<session_actor(std::shared_ptr<http_session_output>)>;

  /// Session ids are `id_prefix` followed by 32 random hex digits.
  http_session_table(std::size_t max_sessions, double rate_per_second,
                     session_factory factory, std::string id_prefix = {});

  /// A new session with a fresh random id; nullptr when `max_sessions` are open.
  std::shared_ptr<http_session> create(time_point now);
  /// The session with this id, or nullptr (unknown, ended or expired).
  std::shared_ptr<http_session> find(const std::string& id) const;
  /// Removes the session (DELETE); nullptr when there was none.
  std::shared_ptr<http_session> remove(const std::string& id);
  /// Removes and returns the sessions idle since `before`.
  std::vector<std::shared_ptr<http_session>> expire(time_point before);
  /// Removes and returns every session (shutdown).
  std::vector<std::shared_ptr<http_session>> remove_all();
  std::vector<caf::actor> actors() const;
  std::size_t size() const;

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<http_session>> sessions_;
  std::size_t max_sessions_;
  double rate_per_second_;
  session_factory factory_;
  std::string id_prefix_;
};

/// 128 bits from the kernel's cryptographic random source, as 32 hex digits.
std::string random_session_id();

} // namespace warren
