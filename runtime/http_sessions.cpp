#include "runtime/http_sessions.hpp"

#include <cerrno>
#include <stdexcept>
#include <sys/random.h>

namespace warren {

void http_session_output::respond(const std::string& id_json, std::string line) {
  std::shared_ptr<http_sink> sink;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = waiting_.find(id_json);
    if (i == waiting_.end())
      return;
    sink = std::move(i->second);
    waiting_.erase(i);
  }
  sink->push(std::move(line), true);
}

void http_session_output::notify(const std::string& about_id_json, std::string line) {
  std::shared_ptr<http_sink> sink;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (auto i = waiting_.find(about_id_json); i != waiting_.end())
      sink = i->second;
    else
      sink = stream_;
  }
  if (sink)
    sink->push(std::move(line), false);
}

void http_session_output::drop(const std::string& id_json) {
  respond(id_json, {});
}

http_session_output::admission
http_session_output::expect(const std::string& id_json, std::shared_ptr<http_sink> sink,
                            std::size_t limit) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (waiting_.count(id_json) > 0)
    return admission::duplicate_id;
  if (waiting_.size() >= limit)
    return admission::full;
  waiting_.emplace(id_json, std::move(sink));
  return admission::admitted;
}

void http_session_output::open_stream(std::shared_ptr<http_sink> sink) {
  std::shared_ptr<http_sink> previous;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    previous = std::exchange(stream_, std::move(sink));
  }
  if (previous)
    previous->push({}, true);
}

void http_session_output::close_stream(const http_sink* sink) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (stream_.get() == sink)
    stream_.reset();
}

void http_session_output::end_stream() {
  std::shared_ptr<http_sink> previous;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    previous = std::move(stream_);
    stream_.reset();
  }
  if (previous)
    previous->push({}, true);
}

bool http_session_output::has_stream() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return stream_ != nullptr;
}

std::size_t http_session_output::in_flight() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return waiting_.size();
}

http_session::http_session(std::string id, session_actor actor,
                           std::shared_ptr<http_session_output> out,
                           double rate_per_second)
    : id(std::move(id)), actor(std::move(actor)), out(std::move(out)) {
  // Bursts of two seconds' worth: an agent's few quick calls in a row pass.
  if (rate_per_second > 0)
    bucket_ = std::make_unique<token_bucket>(rate_per_second, 2 * rate_per_second);
}

bool http_session::admit(token_bucket::time_point now, uint32_t& retry_after_s) {
  std::lock_guard<std::mutex> guard{mutex_};
  last_used_ = now;
  if (!bucket_ || bucket_->take(now))
    return true;
  retry_after_s = bucket_->seconds_until_next(now);
  return false;
}

void http_session::touch(token_bucket::time_point now) {
  std::lock_guard<std::mutex> guard{mutex_};
  last_used_ = now;
}

bool http_session::idle_since(token_bucket::time_point before) const {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (last_used_ >= before)
      return false;
  }
  return out->in_flight() == 0 && !out->has_stream();
}

http_session_table::http_session_table(std::size_t max_sessions, double rate_per_second,
                                       session_factory factory, std::string id_prefix)
    : max_sessions_(max_sessions), rate_per_second_(rate_per_second),
      factory_(std::move(factory)), id_prefix_(std::move(id_prefix)) {}

std::shared_ptr<http_session> http_session_table::create(time_point now) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (sessions_.size() >= max_sessions_)
    return nullptr;
  auto out = std::make_shared<http_session_output>();
  auto session = std::make_shared<http_session>(id_prefix_ + random_session_id(),
                                                factory_(out), out, rate_per_second_);
  session->touch(now);
  sessions_.emplace(session->id, session);
  return session;
}

std::shared_ptr<http_session> http_session_table::find(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = sessions_.find(id);
  return i == sessions_.end() ? nullptr : i->second;
}

std::shared_ptr<http_session> http_session_table::remove(const std::string& id) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto i = sessions_.find(id);
  if (i == sessions_.end())
    return nullptr;
  auto session = std::move(i->second);
  sessions_.erase(i);
  return session;
}

std::vector<std::shared_ptr<http_session>>
http_session_table::expire(time_point before) {
  std::vector<std::shared_ptr<http_session>> expired;
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto i = sessions_.begin(); i != sessions_.end();) {
    if (i->second->idle_since(before)) {
      expired.push_back(std::move(i->second));
      i = sessions_.erase(i);
    } else {
      ++i;
    }
  }
  return expired;
}

std::vector<std::shared_ptr<http_session>> http_session_table::remove_all() {
  std::vector<std::shared_ptr<http_session>> all;
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& [id, session] : sessions_)
    all.push_back(std::move(session));
  sessions_.clear();
  return all;
}

std::vector<caf::actor> http_session_table::actors() const {
  std::vector<caf::actor> result;
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& [id, session] : sessions_)
    result.push_back(caf::actor_cast<caf::actor>(session->actor));
  return result;
}

std::size_t http_session_table::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return sessions_.size();
}

std::string random_session_id() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    auto n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw std::runtime_error("getrandom failed: no random source for session ids");
    }
    got += static_cast<std::size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (auto b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 0xf];
  }
  return id;
}

} // namespace warren
