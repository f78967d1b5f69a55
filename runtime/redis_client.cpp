#include "runtime/redis_client.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "protocol/error.hpp"

namespace warren {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* scheme = "redis://";

long long millis(milliseconds d) {
  return static_cast<long long>(d.count());
}

milliseconds remaining(clock_type::time_point deadline) {
  return std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
}

timeval to_timeval(milliseconds d) {
  // hiredis treats a zero timeout as "block forever".
  if (d < milliseconds{1})
    d = milliseconds{1};
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(d.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((d.count() % 1000) * 1000);
  return tv;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// A password may carry '@', ':' or '/' percent-encoded, as in any URL.
std::optional<std::string> percent_decode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size())
      return std::nullopt;
    int hi = hex_value(s[i + 1]);
    int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// SCAN MATCH is a glob: the prefix itself must match only literally.
std::string glob_escape(const std::string& prefix) {
  std::string out;
  out.reserve(prefix.size() + 1);
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '*';
  return out;
}

struct reply_deleter {
  void operator()(redisReply* r) const {
    if (r)
      freeReplyObject(r);
  }
};

using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

std::string reply_text(const redisReply& r) {
  return r.str ? std::string(r.str, r.len) : std::string{};
}

} // namespace

caf::expected<redis_endpoint> parse_redis_url(const std::string& url) {
  // Messages show the URL with any password replaced, never the password itself.
  auto shown = url;
  auto scheme_end = url.find("://");
  auto at = url.rfind('@');
  if (scheme_end != std::string::npos && at != std::string::npos && at > scheme_end)
    shown = url.substr(0, scheme_end + 3) + "***" + url.substr(at);
  auto invalid = [&](const std::string& what) {
    return make_error(ec::invalid_config,
                      "the Redis URL '" + shown + "' is not usable: " + what +
                          "; expected redis://[:password@]host[:port][/db]");
  };
  if (url.compare(0, std::strlen(scheme), scheme) != 0) {
    if (url.compare(0, 9, "rediss://") == 0)
      return invalid("TLS (rediss://) is not supported");
    return invalid("it does not start with redis://");
  }
  redis_endpoint ep;
  auto rest = url.substr(std::strlen(scheme));
  if (rest.find_first_of("?#") != std::string::npos)
    return invalid("query parameters are not supported");
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string::npos ? std::string{} : rest.substr(slash + 1);
  auto userinfo_end = authority.rfind('@');
  if (userinfo_end != std::string::npos) {
    auto userinfo = authority.substr(0, userinfo_end);
    authority = authority.substr(userinfo_end + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string::npos)
      return invalid("the part before '@' must be ':password'");
    if (colon != 0)
      return invalid("a user name is not supported, only ':password'");
    auto password = percent_decode(userinfo.substr(colon + 1));
    if (!password)
      return invalid("the password has a malformed percent escape");
    ep.password = std::move(*password);
  }
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos)
      return invalid("the IPv6 address lacks its closing ']'");
    ep.host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return invalid("unexpected text after the IPv6 address");
      port = after.substr(1);
      if (port.empty())
        return invalid("the port is empty");
    }
  } else {
    auto colon = authority.find(':');
    ep.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port = authority.substr(colon + 1);
      if (port.empty())
        return invalid("the port is empty");
    }
  }
  if (ep.host.empty())
    return invalid("it names no host");
  if (!port.empty()) {
    if (!all_digits(port) || port.size() > 5 || std::stoul(port) == 0 ||
        std::stoul(port) > 65535)
      return invalid("the port must be a number from 1 to 65535");
    ep.port = static_cast<uint16_t>(std::stoul(port));
  }
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  if (!path.empty()) {
    if (!all_digits(path) || path.size() > 9)
      return invalid("the database must be a number (the path /0 selects database 0)");
    ep.db = std::stoi(path);
  }
  return ep;
}

struct redis_client::impl {
  explicit impl(redis_endpoint ep)
      : endpoint(std::move(ep)),
        where(endpoint.host.find(':') == std::string::npos
                  ? endpoint.host + ':' + std::to_string(endpoint.port)
                  : '[' + endpoint.host + "]:" + std::to_string(endpoint.port)) {}

  redis_endpoint endpoint;
  std::string where; ///< "host:port", for messages
  redisContext* ctx = nullptr;
  bool use_del = false; ///< the server lacks UNLINK (before Redis 4)
  std::atomic<bool> aborted{false};
  // abort() runs on another thread: it must never shut down a descriptor number that
  // close() already handed back to the system, so both take this lock.
  std::mutex fd_mutex;
  int fd = -1;

  caf::error shutting_down() const {
    return make_error(ec::cancelled,
                      "warren is shutting down; the Redis call was abandoned");
  }

  void close() {
    if (!ctx)
      return;
    {
      std::lock_guard<std::mutex> guard{fd_mutex};
      fd = -1;
    }
    redisFree(ctx);
    ctx = nullptr;
  }

  // The error of a failed hiredis call on `c`, for the operation `what`.
  caf::error io_error(const redisContext& c, int saved_errno, const std::string& what,
                      milliseconds budget) const {
    if (c.err == REDIS_ERR_IO &&
        (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
         saved_errno == ETIMEDOUT || saved_errno == EINPROGRESS))
      return make_error(ec::backend_timeout,
                        "Redis at " + where + " did not " + what + " within " +
                            std::to_string(millis(budget)) + " ms");
    if (c.err == REDIS_ERR_PROTOCOL)
      return make_error(ec::backend_protocol,
                        "Redis at " + where +
                            " answered with something that is not "
                            "the Redis protocol (" +
                            c.errstr + "); check the Redis URL");
    std::string why =
        c.err == REDIS_ERR_EOF ? "connection closed by the server" : c.errstr;
    return make_error(ec::backend_unreachable, "cannot reach Redis at " + where + " (" +
                                                   why +
                                                   "); is redis-server running and the "
                                                   "Redis URL right?");
  }

  caf::error connect(clock_type::time_point deadline) {
    close();
    auto budget = std::min(endpoint.connect_timeout, remaining(deadline));
    if (budget < milliseconds{1})
      return make_error(ec::backend_timeout,
                        "no time was left to connect to Redis at " + where);
    errno = 0;
    auto* c = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port,
                                      to_timeval(budget));
    int saved_errno = errno;
    if (!c)
      return make_error(ec::internal, "out of memory connecting to Redis");
    if (c->err) {
      auto err = io_error(*c, saved_errno, "accept a connection", budget);
      if (code_of(err) != ec::backend_timeout &&
          std::strstr(c->errstr, "timed out") != nullptr)
        err = make_error(ec::backend_timeout,
                         "Redis at " + where + " did not accept a connection within " +
                             std::to_string(millis(budget)) + " ms");
      redisFree(c);
      return err;
    }
    ctx = c;
    {
      std::lock_guard<std::mutex> guard{fd_mutex};
      fd = c->fd;
      // An abort() during the connect found no descriptor to shut down.
      if (aborted)
        ::shutdown(fd, SHUT_RDWR);
    }
    if (aborted) {
      close();
      return shutting_down();
    }
    if (!endpoint.password.empty()) {
      auto reply = exchange({"AUTH", endpoint.password}, deadline, "answer AUTH");
      if (!reply)
        return reply.error();
      if ((*reply)->type == REDIS_REPLY_ERROR) {
        // The server's text names the problem, never the password we sent.
        auto text = reply_text(**reply);
        close();
        return make_error(ec::backend_protocol,
                          "Redis at " + where + " refused the password (" + text +
                              "); check the password in the Redis URL");
      }
    }
    if (endpoint.db != 0) {
      auto reply =
          exchange({"SELECT", std::to_string(endpoint.db)}, deadline, "answer SELECT");
      if (!reply)
        return reply.error();
      if ((*reply)->type == REDIS_REPLY_ERROR) {
        auto text = reply_text(**reply);
        close();
        return make_error(ec::backend_protocol,
                          "Redis at " + where + " refused database " +
                              std::to_string(endpoint.db) + " (" + text +
                              "); check the database number in the Redis URL");
      }
    }
    return {};
  }

  // One command on the open connection. A failure drops the connection, so that the
  // next call starts on a fresh one; an error reply (a valid answer) does not.
  caf::expected<reply_ptr> exchange(const std::vector<std::string>& args,
                                    clock_type::time_point deadline, const char* what) {
    auto budget = remaining(deadline);
    if (budget < milliseconds{1}) {
      close();
      return make_error(ec::backend_timeout,
                        "no time was left for a Redis call to " + where);
    }
    if (redisSetTimeout(ctx, to_timeval(budget)) != REDIS_OK) {
      auto err = io_error(*ctx, errno, what, budget);
      close();
      return err;
    }
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    errno = 0;
    auto* raw =
        redisCommandArgv(ctx, static_cast<int>(args.size()), argv.data(), lens.data());
    int saved_errno = errno;
    if (!raw) {
      auto err = aborted ? shutting_down() : io_error(*ctx, saved_errno, what, budget);
      close();
      return err;
    }
    return reply_ptr{static_cast<redisReply*>(raw)};
  }

  // Connects when needed, then runs one command.
  caf::expected<reply_ptr> command(const std::vector<std::string>& args,
                                   clock_type::time_point deadline, const char* what) {
    if (aborted) {
      close();
      return shutting_down();
    }
    if (!ctx)
      if (auto err = connect(deadline))
        return aborted ? shutting_down() : err;
    return exchange(args, deadline, what);
  }

  caf::error unexpected(const redisReply& r, const std::string& command) {
    if (r.type == REDIS_REPLY_ERROR) {
      auto text = reply_text(r);
      if (text.compare(0, 6, "NOAUTH") == 0)
        return make_error(ec::backend_protocol,
                          "Redis at " + where +
                              " wants a password; put it in the Redis URL "
                              "(redis://:PASSWORD@host:port/db)");
      return make_error(ec::backend_protocol,
                        "Redis at " + where + " refused " + command + ": " + text);
    }
    // A reply of the wrong shape means the stream is not what we think it is.
    close();
    return make_error(ec::backend_protocol,
                      "Redis at " + where + " answered " + command +
                          " with an unexpected reply type " + std::to_string(r.type));
  }

  caf::expected<uint64_t> erase(const std::vector<std::string>& prefixes,
                                clock_type::time_point deadline, milliseconds timeout) {
    uint64_t erased = 0;
    auto out_of_time = [&] {
      return make_error(ec::backend_timeout, "erasing keys in Redis at " + where +
                                                 " did not finish within " +
                                                 std::to_string(millis(timeout)) +
                                                 " ms (" + std::to_string(erased) +
                                                 " erased so far)");
    };
    for (auto& prefix : prefixes) {
      if (prefix.empty())
        return make_error(ec::internal,
                          "refusing to erase an empty key prefix: it would empty the "
                          "whole Redis database");
      auto pattern = glob_escape(prefix);
      std::string cursor = "0";
      do {
        if (remaining(deadline) < milliseconds{1})
          return out_of_time();
        auto scan = command({"SCAN", cursor, "MATCH", pattern, "COUNT", "500"},
                            deadline, "answer SCAN");
        if (!scan)
          return std::move(scan.error());
        auto& r = **scan;
        if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
            r.element[0]->type != REDIS_REPLY_STRING ||
            r.element[1]->type != REDIS_REPLY_ARRAY)
          return unexpected(r, "SCAN");
        cursor = reply_text(*r.element[0]);
        std::vector<std::string> args;
        args.reserve(r.element[1]->elements + 1);
        args.emplace_back(use_del ? "DEL" : "UNLINK");
        for (size_t i = 0; i < r.element[1]->elements; ++i)
          args.push_back(reply_text(*r.element[1]->element[i]));
        if (args.size() == 1)
          continue;
        auto del = command(args, deadline, "answer UNLINK");
        if (!del)
          return std::move(del.error());
        if ((*del)->type == REDIS_REPLY_ERROR && !use_del &&
            reply_text(**del).find("unknown command") != std::string::npos) {
          use_del = true;
          args.front() = "DEL";
          del = command(args, deadline, "answer DEL");
          if (!del)
            return std::move(del.error());
        }
        if ((*del)->type != REDIS_REPLY_INTEGER)
          return unexpected(**del, args.front());
        erased += static_cast<uint64_t>(std::max<long long>(0, (*del)->integer));
      } while (cursor != "0");
    }
    return erased;
  }
};

redis_client::redis_client(redis_endpoint endpoint)
    : impl_(std::make_unique<impl>(std::move(endpoint))) {}

redis_client::~redis_client() {
  impl_->close();
}

caf::expected<std::optional<std::string>>
redis_client::get(const std::string& key, std::chrono::milliseconds timeout) {
  try {
    auto& d = *impl_;
    auto deadline = clock_type::now() + timeout;
    auto reply = d.command({"GET", key}, deadline, "answer GET");
    if (!reply)
      return std::move(reply.error());
    auto& r = **reply;
    if (r.type == REDIS_REPLY_NIL)
      return std::optional<std::string>{};
    if (r.type == REDIS_REPLY_STRING)
      return std::optional<std::string>{reply_text(r)};
    return d.unexpected(r, "GET");
  } catch (const std::exception& e) {
    impl_->close();
    return make_error(ec::internal,
                      std::string{"the Redis client failed: "} + e.what());
  }
}

caf::error redis_client::set(const std::string& key, const std::string& value,
                             std::chrono::milliseconds ttl,
                             std::chrono::milliseconds timeout) {
  try {
    auto& d = *impl_;
    if (d.aborted)
      return d.shutting_down();
    // An entry that would expire at once is not worth a round trip (and PX 0 is an
    // error to Redis).
    if (ttl < milliseconds{1})
      return {};
    auto deadline = clock_type::now() + timeout;
    auto reply = d.command({"SET", key, value, "PX", std::to_string(ttl.count())},
                           deadline, "answer SET");
    if (!reply)
      return std::move(reply.error());
    auto& r = **reply;
    if (r.type == REDIS_REPLY_STATUS)
      return {};
    return d.unexpected(r, "SET");
  } catch (const std::exception& e) {
    impl_->close();
    return make_error(ec::internal,
                      std::string{"the Redis client failed: "} + e.what());
  }
}

caf::expected<uint64_t>
redis_client::erase_prefixes(const std::vector<std::string>& prefixes,
                             std::chrono::milliseconds timeout) {
  try {
    auto& d = *impl_;
    auto result = d.erase(prefixes, clock_type::now() + timeout, timeout);
    if (!result && d.aborted)
      return d.shutting_down();
    return result;
  } catch (const std::exception& e) {
    impl_->close();
    return make_error(ec::internal,
                      std::string{"the Redis client failed: "} + e.what());
  }
}

void redis_client::abort() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.fd_mutex};
  d.aborted = true;
  // Shutting the socket down (not closing it: the owner still holds the descriptor)
  // makes a blocked read or write return at once.
  if (d.fd >= 0)
    ::shutdown(d.fd, SHUT_RDWR);
}

bool redis_client::connected() const {
  return impl_->ctx != nullptr;
}

void redis_client::close() {
  impl_->close();
}

} // namespace warren
