#include "runtime/amqp_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/error.hpp"

namespace warren {

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr amqp_channel_t channel = 1;
constexpr int frame_max = 131072;
// Header tables nest; a bound keeps a hostile header from exhausting the stack.
constexpr int max_table_depth = 32;

long long millis(milliseconds d) {
  return static_cast<long long>(d.count());
}

milliseconds remaining(clock_type::time_point deadline) {
  return std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
}

timeval to_timeval(milliseconds d) {
  d = std::max(d, milliseconds{1});
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

std::string to_string(amqp_bytes_t b) {
  if (b.len == 0 || b.bytes == nullptr)
    return {};
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

amqp_bytes_t as_bytes(const std::string& s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

// The broker's strings (header keys, values) are bytes; JSON wants UTF-8, so invalid
// sequences become U+FFFD rather than breaking the document.
std::string valid_utf8(const char* p, size_t n) {
  std::string out;
  out.reserve(n);
  size_t i = 0;
  while (i < n) {
    auto c = static_cast<unsigned char>(p[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(p[i + k]) & 0xc0) == 0x80;
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and values above U+10FFFF.
      uint32_t cp = c & (0xff >> (len + 1));
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(p[i + k]) & 0x3f);
      ok = !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) &&
           !(len == 4 && cp < 0x10000) && !(cp >= 0xd800 && cp <= 0xdfff) &&
           cp <= 0x10ffff;
    }
    if (ok) {
      out.append(p + i, len);
      i += len;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

// --- headers: JSON object -> amqp_table --------------------------------------------

// Owns the memory the encoded table points into, until the publish has been sent.
class table_arena {
public:
  table_arena() { init_amqp_pool(&pool_, 4096); }
  ~table_arena() { empty_amqp_pool(&pool_); }
  table_arena(const table_arena&) = delete;
  table_arena& operator=(const table_arena&) = delete;

  template <class T>
  T* alloc(size_t n) {
    if (n == 0)
      return nullptr;
    auto* p = static_cast<T*>(amqp_pool_alloc(&pool_, n * sizeof(T)));
    if (p == nullptr)
      throw std::bad_alloc{};
    std::memset(static_cast<void*>(p), 0, n * sizeof(T));
    return p;
  }

  amqp_bytes_t copy(const char* s, size_t n) {
    amqp_bytes_t b;
    b.len = n;
    b.bytes = n == 0 ? nullptr : alloc<char>(n);
    if (n > 0)
      std::memcpy(b.bytes, s, n);
    return b;
  }

private:
  amqp_pool_t pool_;
};

caf::error encode_value(const rapidjson::Value& v, const std::string& path, int depth,
                        table_arena& arena, amqp_field_value_t& out);

caf::error encode_table(const rapidjson::Value& obj, const std::string& path, int depth,
                        table_arena& arena, amqp_table_t& out) {
  if (depth > max_table_depth)
    return make_error(ec::invalid_params, "headers nest deeper than " +
                                              std::to_string(max_table_depth) +
                                              " levels at '" + path + "'");
  out.num_entries = static_cast<int>(obj.MemberCount());
  out.entries = arena.alloc<amqp_table_entry_t>(obj.MemberCount());
  int i = 0;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it, ++i) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    if (key.size() > 128)
      return make_error(ec::invalid_params, "header name '" + key.substr(0, 40) +
                                                "...' is longer than 128 bytes");
    auto& entry = out.entries[i];
    entry.key = arena.copy(key.data(), key.size());
    auto sub = path.empty() ? key : path + "." + key;
    if (auto err = encode_value(it->value, sub, depth + 1, arena, entry.value))
      return err;
  }
  return {};
}

caf::error encode_value(const rapidjson::Value& v, const std::string& path, int depth,
                        table_arena& arena, amqp_field_value_t& out) {
  if (v.IsString()) {
    out.kind = AMQP_FIELD_KIND_UTF8;
    out.value.bytes = arena.copy(v.GetString(), v.GetStringLength());
  } else if (v.IsBool()) {
    out.kind = AMQP_FIELD_KIND_BOOLEAN;
    out.value.boolean = v.GetBool() ? 1 : 0;
  } else if (v.IsInt64()) {
    out.kind = AMQP_FIELD_KIND_I64;
    out.value.i64 = v.GetInt64();
  } else if (v.IsUint64()) {
    return make_error(ec::invalid_params,
                      "header '" + path +
                          "' is an integer above 2^63-1, which AMQP headers cannot "
                          "carry; send it as a string");
  } else if (v.IsNumber()) {
    out.kind = AMQP_FIELD_KIND_F64;
    out.value.f64 = v.GetDouble();
  } else if (v.IsNull()) {
    out.kind = AMQP_FIELD_KIND_VOID;
  } else if (v.IsObject()) {
    out.kind = AMQP_FIELD_KIND_TABLE;
    return encode_table(v, path, depth, arena, out.value.table);
  } else if (v.IsArray()) {
    if (depth > max_table_depth)
      return make_error(ec::invalid_params, "headers nest deeper than " +
                                                std::to_string(max_table_depth) +
                                                " levels at '" + path + "'");
    out.kind = AMQP_FIELD_KIND_ARRAY;
    out.value.array.num_entries = static_cast<int>(v.Size());
    out.value.array.entries = arena.alloc<amqp_field_value_t>(v.Size());
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
      if (auto err = encode_value(v[i], path + "[" + std::to_string(i) + "]", depth + 1,
                                  arena, out.value.array.entries[i]))
        return err;
  }
  return {};
}

caf::error encode_headers(const std::string& json, table_arena& arena,
                          amqp_table_t& out) {
  rapidjson::Document doc;
  // Iterative: a deeply nested document must not exhaust the stack while parsing.
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return make_error(ec::invalid_params,
                      "headers must be a JSON object of header names to values "
                      "(strings, numbers, booleans, objects, arrays)");
  return encode_table(doc, "", 0, arena, out);
}

// --- headers: amqp_table -> JSON object --------------------------------------------

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_bytes(json_writer& w, amqp_bytes_t b) {
  auto s = valid_utf8(static_cast<const char*>(b.bytes), b.bytes ? b.len : 0);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_table(json_writer& w, const amqp_table_t& t, int depth);

void write_value(json_writer& w, const amqp_field_value_t& v, int depth) {
  if (depth > max_table_depth) {
    w.Null();
    return;
  }
  switch (v.kind) {
  case AMQP_FIELD_KIND_BOOLEAN:
    w.Bool(v.value.boolean != 0);
    break;
  case AMQP_FIELD_KIND_I8:
    w.Int(v.value.i8);
    break;
  case AMQP_FIELD_KIND_U8:
    w.Uint(v.value.u8);
    break;
  case AMQP_FIELD_KIND_I16:
    w.Int(v.value.i16);
    break;
  case AMQP_FIELD_KIND_U16:
    w.Uint(v.value.u16);
    break;
  case AMQP_FIELD_KIND_I32:
    w.Int(v.value.i32);
    break;
  case AMQP_FIELD_KIND_U32:
    w.Uint(v.value.u32);
    break;
  case AMQP_FIELD_KIND_I64:
    w.Int64(v.value.i64);
    break;
  case AMQP_FIELD_KIND_U64:
  case AMQP_FIELD_KIND_TIMESTAMP:
    w.Uint64(v.value.u64);
    break;
  case AMQP_FIELD_KIND_F32:
  case AMQP_FIELD_KIND_F64: {
    double d = v.kind == AMQP_FIELD_KIND_F32 ? v.value.f32 : v.value.f64;
    // JSON has no NaN or infinity; RapidJSON would emit nothing and break the text.
    if (std::isfinite(d))
      w.Double(d);
    else
      w.Null();
    break;
  }
  case AMQP_FIELD_KIND_DECIMAL:
    w.Double(static_cast<double>(v.value.decimal.value) /
             std::pow(10.0, v.value.decimal.decimals));
    break;
  case AMQP_FIELD_KIND_UTF8:
  case AMQP_FIELD_KIND_BYTES:
    write_bytes(w, v.value.bytes);
    break;
  case AMQP_FIELD_KIND_TABLE:
    write_table(w, v.value.table, depth + 1);
    break;
  case AMQP_FIELD_KIND_ARRAY:
    w.StartArray();
    for (int i = 0; i < v.value.array.num_entries; ++i)
      write_value(w, v.value.array.entries[i], depth + 1);
    w.EndArray();
    break;
  default:
    w.Null();
  }
}

void write_table(json_writer& w, const amqp_table_t& t, int depth) {
  w.StartObject();
  for (int i = 0; i < t.num_entries; ++i) {
    write_bytes(w, t.entries[i].key);
    write_value(w, t.entries[i].value, depth);
  }
  w.EndObject();
}

std::string headers_to_json(const amqp_table_t& t) {
  rapidjson::StringBuffer buf;
  json_writer w{buf};
  write_table(w, t, 0);
  return std::string(buf.GetString(), buf.GetSize());
}

void copy_properties(const amqp_basic_properties_t& p, amqp_delivery& out) {
  auto has = [&](amqp_flags_t flag) { return (p._flags & flag) != 0; };
  if (has(AMQP_BASIC_CONTENT_TYPE_FLAG))
    out.content_type = to_string(p.content_type);
  if (has(AMQP_BASIC_CONTENT_ENCODING_FLAG))
    out.content_encoding = to_string(p.content_encoding);
  if (has(AMQP_BASIC_HEADERS_FLAG))
    out.headers_json = headers_to_json(p.headers);
  if (has(AMQP_BASIC_DELIVERY_MODE_FLAG))
    out.delivery_mode = p.delivery_mode;
  if (has(AMQP_BASIC_PRIORITY_FLAG))
    out.priority = p.priority;
  if (has(AMQP_BASIC_CORRELATION_ID_FLAG))
    out.correlation_id = to_string(p.correlation_id);
  if (has(AMQP_BASIC_REPLY_TO_FLAG))
    out.reply_to = to_string(p.reply_to);
  if (has(AMQP_BASIC_EXPIRATION_FLAG))
    out.expiration = to_string(p.expiration);
  if (has(AMQP_BASIC_MESSAGE_ID_FLAG))
    out.message_id = to_string(p.message_id);
  if (has(AMQP_BASIC_TIMESTAMP_FLAG))
    out.timestamp = static_cast<int64_t>(p.timestamp);
}

std::string library_error(int status) {
  const char* s = amqp_error_string2(status);
  return s ? s : "unknown error";
}

caf::error shutting_down() {
  return make_error(ec::cancelled, "warren is shutting down; the call was abandoned");
}

// Checks a message and builds its properties. They point into `msg` and `arena`,
// which must outlive the send.
caf::error build_properties(const amqp_publish& msg, table_arena& arena,
                            amqp_basic_properties_t& props) {
  if (msg.priority < -1 || msg.priority > 255)
    return make_error(ec::invalid_params, "priority must be between 0 and 255");
  props = amqp_basic_properties_t{};
  auto set = [&](amqp_flags_t flag, amqp_bytes_t& field, const std::string& value) {
    if (!value.empty()) {
      props._flags |= flag;
      field = as_bytes(value);
    }
  };
  set(AMQP_BASIC_CONTENT_TYPE_FLAG, props.content_type, msg.content_type);
  set(AMQP_BASIC_CONTENT_ENCODING_FLAG, props.content_encoding, msg.content_encoding);
  set(AMQP_BASIC_MESSAGE_ID_FLAG, props.message_id, msg.message_id);
  set(AMQP_BASIC_CORRELATION_ID_FLAG, props.correlation_id, msg.correlation_id);
  set(AMQP_BASIC_REPLY_TO_FLAG, props.reply_to, msg.reply_to);
  set(AMQP_BASIC_EXPIRATION_FLAG, props.expiration, msg.expiration);
  props._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.delivery_mode = msg.persistent ? 2 : 1;
  if (msg.priority >= 0) {
    props._flags |= AMQP_BASIC_PRIORITY_FLAG;
    props.priority = static_cast<uint8_t>(msg.priority);
  }
  if (!msg.headers_json.empty()) {
    if (auto err = encode_headers(msg.headers_json, arena, props.headers))
      return err;
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
  }
  return {};
}

// Why a run of publishes ended before every message was settled.
enum class stop_reason {
  none,              ///< it did not: every message was acked or nacked
  send_failed,       ///< the socket failed while a message was being written
  timeout,           ///< the deadline passed; the connection was dropped
  connection_lost,   ///< socket error or EOF; the connection was dropped
  connection_closed, ///< the broker closed the connection
  channel_closed,    ///< the broker closed the channel (e.g. 404 no such exchange)
  blocked,           ///< the broker began blocking publishers mid-run
  aborted,           ///< abort() was called
};

// What became of a run of publishes.
struct publish_run {
  std::vector<amqp_confirm> confirms; ///< not_sent for those never sent
  stop_reason stop = stop_reason::none;
  std::string detail; ///< the library's or the broker's words about the stop
  uint16_t code = 0;  ///< the broker's reply code, when it closed something
  size_t sent = 0;    ///< messages written whole to the socket
  size_t failed = std::numeric_limits<size_t>::max(); ///< the one whose write failed
};

// How a wait for the broker's next frame ended.
enum class wait_result {
  frame,             ///< a frame the caller must look at
  timeout,           ///< the deadline passed; the connection was dropped
  connection_lost,   ///< socket error or EOF; the connection was dropped
  connection_closed, ///< the broker sent connection.close; the connection was dropped
  channel_closed,    ///< the broker closed our channel; it is reopened on the next call
};

} // namespace

struct amqp_client::impl {
  impl(amqp_endpoint ep, std::string vh)
      : endpoint(std::move(ep)), vhost(std::move(vh)) {
    auto host = endpoint.host.find(':') == std::string::npos
                    ? endpoint.host
                    : '[' + endpoint.host + ']';
    where = host + ':' + std::to_string(endpoint.port);
  }

  amqp_endpoint endpoint;
  std::string vhost;
  std::string where; ///< "host:port" for messages

  amqp_connection_state_t conn = nullptr;
  bool channel_open = false;
  uint64_t published = 0; ///< the channel's last publish sequence number
  bool blocked = false;   ///< the broker sent connection.blocked (resource alarm)
  clock_type::time_point last_io{};
  uint16_t reply_code = 0; ///< of the last channel.close or connection.close
  std::string reply_text;

  std::atomic<bool> aborted{false};
  // abort() shuts the socket down from another thread; the mutex keeps it from
  // touching a descriptor number that was closed and reused meanwhile.
  std::mutex fd_mutex;
  int fd = -1;

  // Forgets the connection without the closing handshake.
  void drop() {
    {
      std::lock_guard<std::mutex> guard{fd_mutex};
      fd = -1;
    }
    if (conn != nullptr) {
      amqp_destroy_connection(conn);
      conn = nullptr;
    }
    channel_open = false;
    blocked = false;
    published = 0;
  }

  void close_gracefully(milliseconds bound) {
    if (conn != nullptr && !aborted) {
      auto tv = to_timeval(bound);
      amqp_set_rpc_timeout(conn, &tv);
      amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    }
    drop();
  }

  // Runs one call of the public interface: refused after abort() or for another
  // vhost; a failure that abort() caused becomes ec::cancelled, and an exception an
  // error (with `unknown_note` saying what it leaves unknown).
  template <class Call>
  caf::expected<amqp_response> guarded(const std::string& asked_vhost,
                                       const char* unknown_note, Call&& call) {
    if (aborted)
      return shutting_down();
    if (!asked_vhost.empty() && asked_vhost != vhost)
      return wrong_vhost(asked_vhost);
    try {
      auto res = call();
      if (!res && aborted) {
        drop();
        return shutting_down();
      }
      return res;
    } catch (const std::exception& e) {
      drop();
      return make_error(ec::internal, std::string{"the AMQP client failed: "} +
                                          e.what() + unknown_note);
    }
  }

  // The client is bound to one vhost; a request for another would silently go to
  // the wrong place.
  caf::error wrong_vhost(const std::string& asked) const {
    return make_error(ec::internal, "a request for vhost '" + asked +
                                        "' reached the AMQP connection of vhost '" +
                                        vhost + "'");
  }

  caf::error timed_out(const std::string& what, milliseconds timeout) const {
    return make_error(ec::backend_timeout, "RabbitMQ at " + where + " did not " + what +
                                               " within " +
                                               std::to_string(millis(timeout)) + " ms");
  }

  caf::error lost(const std::string& what) const {
    return make_error(ec::backend_unreachable, "the AMQP connection to RabbitMQ at " +
                                                   where + " failed " + what);
  }

  caf::error refused(const std::string& what) const {
    return make_error(ec::broker_refused,
                      "RabbitMQ refused " + what + ": " + reply_text);
  }

  void answer_channel_close() {
    amqp_channel_close_ok_t ok{};
    amqp_send_method(conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    channel_open = false;
    published = 0;
  }

  void answer_connection_close() {
    amqp_connection_close_ok_t ok{};
    amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    drop();
  }

  // Records the broker's reason from a channel.close or connection.close method.
  void note_close(const amqp_method_t& m) {
    if (m.id == AMQP_CHANNEL_CLOSE_METHOD) {
      auto* c = static_cast<amqp_channel_close_t*>(m.decoded);
      reply_code = c->reply_code;
      reply_text = to_string(c->reply_text);
    } else if (m.id == AMQP_CONNECTION_CLOSE_METHOD) {
      auto* c = static_cast<amqp_connection_close_t*>(m.decoded);
      reply_code = c->reply_code;
      reply_text = to_string(c->reply_text);
    }
  }

  // The next frame for the caller; the broker's housekeeping (blocked notices,
  // closes) is handled here. A zero `deadline` budget polls without waiting.
  wait_result next_frame(amqp_frame_t& frame, clock_type::time_point deadline,
                         bool poll = false) {
    for (;;) {
      timeval tv{};
      if (!poll) {
        auto left = remaining(deadline);
        if (left <= milliseconds{0}) {
          drop();
          return wait_result::timeout;
        }
        tv = to_timeval(left);
      }
      int status = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
      if (status == AMQP_STATUS_TIMEOUT) {
        if (poll)
          return wait_result::timeout;
        drop();
        return wait_result::timeout;
      }
      if (status != AMQP_STATUS_OK) {
        reply_text = library_error(status);
        drop();
        return wait_result::connection_lost;
      }
      last_io = clock_type::now();
      if (frame.frame_type != AMQP_FRAME_METHOD)
        return wait_result::frame;
      auto& m = frame.payload.method;
      switch (m.id) {
      case AMQP_CONNECTION_CLOSE_METHOD:
        note_close(m);
        answer_connection_close();
        return wait_result::connection_closed;
      case AMQP_CHANNEL_CLOSE_METHOD:
        if (frame.channel != channel)
          continue;
        note_close(m);
        answer_channel_close();
        return wait_result::channel_closed;
      case AMQP_CONNECTION_BLOCKED_METHOD:
        blocked = true;
        continue;
      case AMQP_CONNECTION_UNBLOCKED_METHOD:
        blocked = false;
        continue;
      default:
        return wait_result::frame;
      }
    }
  }

  // An RPC's failure as an error; drops or marks what the failure broke.
  caf::error rpc_failure(const amqp_rpc_reply_t& reply, const std::string& what,
                         milliseconds timeout) {
    switch (reply.reply_type) {
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      note_close(reply.reply);
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        answer_channel_close();
        return refused(what);
      }
      answer_connection_close();
      return make_error(ec::broker_refused, "RabbitMQ closed the connection during " +
                                                what + ": " + reply_text);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      drop();
      if (reply.library_error == AMQP_STATUS_TIMEOUT)
        return timed_out("answer " + what, timeout);
      return lost("during " + what + " (" + library_error(reply.library_error) + ")");
    default:
      drop();
      return make_error(ec::backend_protocol,
                        "RabbitMQ at " + where + " sent no answer to " + what);
    }
  }

  bool set_rpc_deadline(clock_type::time_point deadline) {
    auto left = remaining(deadline);
    if (left <= milliseconds{0})
      return false;
    auto tv = to_timeval(left);
    amqp_set_rpc_timeout(conn, &tv);
    return true;
  }

  caf::error open_channel(clock_type::time_point deadline, milliseconds timeout) {
    if (!set_rpc_deadline(deadline)) {
      drop();
      return timed_out("open a channel", timeout);
    }
    amqp_channel_open(conn, channel);
    auto reply = amqp_get_rpc_reply(conn);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL)
      return rpc_failure(reply, "opening a channel", timeout);
    amqp_confirm_select(conn, channel);
    reply = amqp_get_rpc_reply(conn);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL)
      return rpc_failure(reply, "turning on publisher confirms", timeout);
    channel_open = true;
    published = 0;
    last_io = clock_type::now();
    return {};
  }

  caf::error connect(clock_type::time_point deadline, milliseconds timeout) {
    drop();
    conn = amqp_new_connection();
    if (conn == nullptr)
      return make_error(ec::internal, "could not allocate an AMQP connection");
    auto* socket = amqp_tcp_socket_new(conn);
    if (socket == nullptr) {
      drop();
      return make_error(ec::internal, "could not allocate an AMQP socket");
    }
    auto bound = std::min(endpoint.connect_timeout, remaining(deadline));
    if (bound <= milliseconds{0}) {
      drop();
      return timed_out("accept a connection", bound);
    }
    auto tv = to_timeval(bound);
    int status =
        amqp_socket_open_noblock(socket, endpoint.host.c_str(), endpoint.port, &tv);
    if (status != AMQP_STATUS_OK) {
      drop();
      if (status == AMQP_STATUS_TIMEOUT)
        return timed_out("accept a connection", bound);
      if (status == AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED)
        return make_error(ec::backend_unreachable,
                          "cannot reach RabbitMQ at " + where +
                              " (host not found); check the host in RABBITMQ_URL");
      // rabbitmq-c keeps no errno for a failed connect; refused is the usual cause.
      auto why = status == AMQP_STATUS_SOCKET_ERROR
                     ? std::string{"connection refused or reset"}
                     : library_error(status);
      return make_error(ec::backend_unreachable,
                        "cannot reach RabbitMQ at " + where + " over AMQP (" + why +
                            "); is the broker running and is this its AMQP port?");
    }
    {
      std::lock_guard<std::mutex> guard{fd_mutex};
      fd = amqp_get_sockfd(conn);
    }
    // abort() may have run before the descriptor was published.
    if (aborted) {
      drop();
      return shutting_down();
    }
    auto left = remaining(deadline);
    if (left <= milliseconds{0}) {
      drop();
      return timed_out("complete the AMQP handshake", timeout);
    }
    tv = to_timeval(left);
    amqp_set_handshake_timeout(conn, &tv);
    amqp_set_rpc_timeout(conn, &tv);
    // The name operators see for this connection in the management UI.
    auto name = "warren (vhost " + vhost + ")";
    amqp_table_entry_t property{};
    property.key = amqp_cstring_bytes("connection_name");
    property.value.kind = AMQP_FIELD_KIND_UTF8;
    property.value.value.bytes = as_bytes(name);
    amqp_table_t properties{1, &property};
    auto reply = amqp_login_with_properties(
        conn, vhost.c_str(), 0, frame_max, endpoint.heartbeat_seconds, &properties,
        AMQP_SASL_METHOD_PLAIN, endpoint.user.c_str(), endpoint.password.c_str());
    if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
      note_close(reply.reply);
      drop();
      auto hint =
          reply_code == AMQP_ACCESS_REFUSED
              ? "; check the user and password in RABBITMQ_URL"
          : reply_code == AMQP_NOT_ALLOWED
              ? "; check that vhost '" + vhost + "' exists and the user may use it"
              : std::string{};
      return make_error(ec::broker_refused, "RabbitMQ at " + where +
                                                " refused the login of user '" +
                                                endpoint.user + "' to vhost '" + vhost +
                                                "': " + reply_text + hint);
    }
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      drop();
      if (reply.library_error == AMQP_STATUS_TIMEOUT)
        return timed_out("complete the AMQP handshake", timeout);
      // RabbitMQ closes the socket without a word when the login is refused to a
      // client that did not ask for authentication_failure_close.
      return make_error(ec::backend_unreachable,
                        "the AMQP handshake with RabbitMQ at " + where + " failed (" +
                            library_error(reply.library_error) +
                            "); check the address and the user and password in "
                            "RABBITMQ_URL");
    }
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
      drop();
      return make_error(ec::backend_protocol,
                        "RabbitMQ at " + where +
                            " did not complete the AMQP handshake");
    }
    last_io = clock_type::now();
    return open_channel(deadline, timeout);
  }

  // A connection with channel 1 open in confirm mode, made or repaired as needed.
  caf::error ready(clock_type::time_point deadline, milliseconds timeout) {
    if (conn != nullptr) {
      // rabbitmq-c answers heartbeats only while a call waits; a connection idle for
      // longer than the interval may be about to be closed by the broker, and a
      // publish on it would end with an unknown outcome. Start afresh instead.
      auto idle = clock_type::now() - last_io;
      if (endpoint.heartbeat_seconds > 0 &&
          idle >= std::chrono::seconds(endpoint.heartbeat_seconds)) {
        close_gracefully(std::min(milliseconds{500}, remaining(deadline)));
      } else {
        // Take in what arrived since the last call: a close, a blocked notice, or a
        // late frame of an abandoned exchange.
        amqp_frame_t frame;
        while (conn != nullptr) {
          auto r = next_frame(frame, deadline, true);
          if (r == wait_result::timeout || r == wait_result::channel_closed)
            break;
        }
        if (conn != nullptr)
          amqp_maybe_release_buffers(conn);
      }
    }
    if (aborted)
      return shutting_down();
    if (conn == nullptr)
      if (auto err = connect(deadline, timeout))
        return err;
    if (!channel_open)
      if (auto err = open_channel(deadline, timeout))
        return err;
    return {};
  }

  // Reads a content header and its body frames on the channel into `out` (or skips
  // them when `out` is null; skips only the body when not `keep_body`).
  wait_result read_content(clock_type::time_point deadline, amqp_delivery* out,
                           bool keep_body = true) {
    amqp_frame_t frame;
    auto r = next_frame(frame, deadline);
    if (r != wait_result::frame)
      return r;
    if (frame.frame_type != AMQP_FRAME_HEADER || frame.channel != channel) {
      reply_text = "a frame other than the expected content header arrived";
      drop();
      return wait_result::connection_lost;
    }
    auto size = frame.payload.properties.body_size;
    if (out != nullptr) {
      copy_properties(
          *static_cast<amqp_basic_properties_t*>(frame.payload.properties.decoded),
          *out);
      if (keep_body)
        out->body.reserve(static_cast<size_t>(size));
    }
    uint64_t got = 0;
    while (got < size) {
      r = next_frame(frame, deadline);
      if (r != wait_result::frame)
        return r;
      if (frame.frame_type != AMQP_FRAME_BODY || frame.channel != channel) {
        reply_text = "a frame other than the expected message body arrived";
        drop();
        return wait_result::connection_lost;
      }
      auto& piece = frame.payload.body_fragment;
      got += piece.len;
      if (out != nullptr && keep_body)
        out->body.append(static_cast<const char*>(piece.bytes), piece.len);
    }
    return wait_result::frame;
  }

  // A connection ready to publish on: the same refusals for one message or many.
  caf::error ready_to_publish(clock_type::time_point deadline, milliseconds timeout) {
    if (auto err = ready(deadline, timeout))
      return err;
    if (blocked)
      return make_error(ec::overloaded,
                        "RabbitMQ at " + where +
                            " is blocking publishers (a memory or disk alarm); the "
                            "message was not sent, retry later");
    return {};
  }

  // A basic.return carries no delivery tag: it names the message by its message_id
  // (warren sets one), else by the first waiting message with its exchange and key.
  static size_t match_return(const amqp_publish* msgs, const std::vector<bool>& waiting,
                             const std::vector<bool>& returned, size_t first,
                             size_t end, const amqp_delivery& back) {
    // Only a mandatory message comes back, and each at most once; another to the same
    // place is dropped.
    auto open = [&](size_t i) {
      return waiting[i] && msgs[i].mandatory && !returned[i];
    };
    if (!back.message_id.empty())
      for (size_t i = first; i < end; ++i)
        if (open(i) && msgs[i].message_id == back.message_id)
          return i;
    for (size_t i = first; i < end; ++i)
      if (open(i) && msgs[i].exchange == back.exchange &&
          msgs[i].routing_key == back.routing_key)
        return i;
    return end;
  }

  // Publishes msgs[0..n) in order on the ready channel, with at most `window` waiting
  // for their confirm, reading acks, nacks and returns as they come. Never fails as a
  // whole: what became of each message is in the run.
  publish_run run_publishes(const amqp_publish* msgs,
                            const amqp_basic_properties_t* props, size_t n,
                            size_t window, clock_type::time_point deadline) {
    publish_run run;
    run.confirms.resize(n);
    const uint64_t base = published; // message i has delivery tag base + i + 1
    size_t sent = 0;
    size_t settled = 0;
    size_t first_open = 0;         // no message before it still waits
    std::vector<bool> waiting(n);  // sent, not yet acked or nacked
    std::vector<bool> returned(n); // a basic.return named it
    auto settle = [&](size_t i, bool nack) {
      if (!waiting[i])
        return;
      waiting[i] = false;
      ++settled;
      auto& c = run.confirms[i];
      if (nack) {
        c = amqp_confirm{
            amqp_confirm::status::nacked, 0,
            "RabbitMQ refused the message (basic.nack); it was not stored"};
      } else {
        c.what = returned[i] ? amqp_confirm::status::returned
                             : amqp_confirm::status::confirmed;
      }
    };
    // Whatever still waits for its confirm ends unknown, unless the broker returned
    // it: then no queue took it, confirm or not.
    auto stop = [&](stop_reason why) {
      run.stop = why;
      run.sent = sent;
      for (size_t i = first_open; i < sent; ++i)
        if (waiting[i])
          run.confirms[i].what = returned[i] ? amqp_confirm::status::returned
                                             : amqp_confirm::status::unknown;
      return std::move(run);
    };
    amqp_frame_t frame;
    for (;;) {
      if (aborted) {
        drop();
        return stop(stop_reason::aborted);
      }
      // A connection.blocked that arrives mid-run stops further sends; the broker
      // still confirms what it already took.
      while (sent < n && sent - settled < window && !blocked) {
        int status = amqp_basic_publish(conn, channel, as_bytes(msgs[sent].exchange),
                                        as_bytes(msgs[sent].routing_key),
                                        msgs[sent].mandatory ? 1 : 0, 0, &props[sent],
                                        as_bytes(msgs[sent].body));
        if (status != AMQP_STATUS_OK) {
          run.detail = library_error(status);
          run.failed = sent;
          drop();
          return stop(aborted ? stop_reason::aborted : stop_reason::send_failed);
        }
        last_io = clock_type::now();
        ++published;
        waiting[sent++] = true;
      }
      if (settled == n)
        return stop(stop_reason::none);
      if (sent == settled)
        return stop(stop_reason::blocked);
      auto r = next_frame(frame, deadline);
      switch (r) {
      case wait_result::frame:
        break;
      case wait_result::timeout:
        return stop(stop_reason::timeout);
      case wait_result::connection_lost:
        run.detail = reply_text;
        return stop(aborted ? stop_reason::aborted : stop_reason::connection_lost);
      case wait_result::connection_closed:
      case wait_result::channel_closed:
        run.detail = reply_text;
        run.code = reply_code;
        return stop(r == wait_result::channel_closed ? stop_reason::channel_closed
                                                     : stop_reason::connection_closed);
      }
      if (frame.frame_type != AMQP_FRAME_METHOD || frame.channel != channel)
        continue;
      auto& m = frame.payload.method;
      if (m.id == AMQP_BASIC_RETURN_METHOD) {
        auto* ret = static_cast<amqp_basic_return_t*>(m.decoded);
        amqp_delivery back;
        back.exchange = to_string(ret->exchange);
        back.routing_key = to_string(ret->routing_key);
        auto code = ret->reply_code;
        auto text = to_string(ret->reply_text);
        // The content follows; only its properties matter here.
        r = read_content(deadline, &back, false);
        if (r != wait_result::frame) {
          run.detail = reply_text;
          run.code = reply_code;
          return stop(r == wait_result::timeout          ? stop_reason::timeout
                      : r == wait_result::channel_closed ? stop_reason::channel_closed
                      : r == wait_result::connection_closed
                          ? stop_reason::connection_closed
                      : aborted ? stop_reason::aborted
                                : stop_reason::connection_lost);
        }
        auto i = match_return(msgs, waiting, returned, first_open, sent, back);
        if (i < sent && !returned[i]) {
          returned[i] = true;
          run.confirms[i].reply_code = code;
          run.confirms[i].reply_text = text;
        }
      } else if (m.id == AMQP_BASIC_ACK_METHOD || m.id == AMQP_BASIC_NACK_METHOD) {
        bool nack = m.id == AMQP_BASIC_NACK_METHOD;
        uint64_t tag = 0;
        bool multiple = false;
        if (nack) {
          auto* a = static_cast<amqp_basic_nack_t*>(m.decoded);
          tag = a->delivery_tag;
          multiple = a->multiple != 0;
        } else {
          auto* a = static_cast<amqp_basic_ack_t*>(m.decoded);
          tag = a->delivery_tag;
          multiple = a->multiple != 0;
        }
        // A confirm for a publish before this run (none should wait) is not ours.
        if (tag > base && tag <= base + sent) {
          auto last = static_cast<size_t>(tag - base - 1);
          if (multiple)
            for (size_t i = first_open; i <= last; ++i)
              settle(i, nack);
          else
            settle(last, nack);
          while (first_open < sent && !waiting[first_open])
            ++first_open;
        }
      }
      amqp_maybe_release_buffers(conn);
    }
  }

  // What ended a run early, said of one message.
  std::string stop_cause(const publish_run& run, milliseconds timeout) const {
    switch (run.stop) {
    case stop_reason::send_failed:
    case stop_reason::connection_lost:
      return "the connection to RabbitMQ at " + where + " failed (" + run.detail + ")";
    case stop_reason::connection_closed:
      return "RabbitMQ at " + where + " closed the connection: " + run.detail;
    case stop_reason::channel_closed:
      return "RabbitMQ closed the channel: " + run.detail;
    case stop_reason::timeout:
      return "RabbitMQ at " + where + " did not confirm the messages within " +
             std::to_string(millis(timeout)) + " ms";
    case stop_reason::blocked:
      return "RabbitMQ at " + where +
             " began blocking publishers (a memory or disk alarm)";
    case stop_reason::aborted:
      return "warren is shutting down and abandoned the publishes";
    case stop_reason::none:
      break;
    }
    return {};
  }

  // The error a single publish gets when its run stopped for `stop`.
  static ec stop_error(stop_reason stop) {
    switch (stop) {
    case stop_reason::timeout:
      return ec::backend_timeout;
    case stop_reason::channel_closed:
      return ec::broker_refused;
    case stop_reason::blocked:
      return ec::unavailable;
    case stop_reason::aborted:
      return ec::cancelled;
    case stop_reason::send_failed:
    case stop_reason::connection_lost:
    case stop_reason::connection_closed:
    case stop_reason::none:
      break;
    }
    return ec::backend_unreachable;
  }

  caf::expected<amqp_response> publish_each(const std::vector<amqp_publish>& msgs,
                                            uint32_t window, milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    // Those that do not validate stay out; the rest go as one run.
    table_arena arena;
    std::vector<amqp_basic_properties_t> props(msgs.size());
    std::vector<amqp_confirm> refused(msgs.size());
    std::vector<size_t> valid;
    for (size_t i = 0; i < msgs.size(); ++i) {
      if (auto err = build_properties(msgs[i], arena, props[i]))
        refused[i] = {amqp_confirm::status::not_sent, 0,
                      message_of(err) + "; it was not published", code_of(err)};
      else
        valid.push_back(i);
    }
    if (valid.size() == msgs.size())
      return send_all(msgs.data(), props.data(), msgs.size(), window, deadline,
                      timeout);
    std::vector<amqp_publish> kept;
    std::vector<amqp_basic_properties_t> kept_props;
    for (auto i : valid) {
      kept.push_back(msgs[i]);
      kept_props.push_back(props[i]);
    }
    auto sent = send_all(kept.data(), kept_props.data(), kept.size(), window, deadline,
                         timeout);
    if (!sent)
      return sent;
    for (size_t k = 0; k < valid.size(); ++k)
      refused[valid[k]] = std::move(sent->confirms[k]);
    sent->confirms = std::move(refused);
    return sent;
  }

  caf::expected<amqp_response> publish_batch(const std::vector<amqp_publish>& msgs,
                                             uint32_t window, milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    // Every message is checked before any is sent: a bad one fails the whole call.
    table_arena arena;
    std::vector<amqp_basic_properties_t> props(msgs.size());
    for (size_t i = 0; i < msgs.size(); ++i)
      if (auto err = build_properties(msgs[i], arena, props[i]))
        return make_error(code_of(err), "message " + std::to_string(i) +
                                            " of the batch (counting from 0): " +
                                            message_of(err) + "; nothing was sent");
    return send_all(msgs.data(), props.data(), msgs.size(), window, deadline, timeout);
  }

  // Publishes msgs[0..n), whose properties are built, on the ready channel: what
  // became of each, or an error when none reached the broker.
  caf::expected<amqp_response>
  send_all(const amqp_publish* msgs, const amqp_basic_properties_t* props, size_t n,
           uint32_t window, clock_type::time_point deadline, milliseconds timeout) {
    amqp_response res;
    if (n == 0)
      return res;
    if (auto err = ready_to_publish(deadline, timeout))
      return err;
    auto run = run_publishes(msgs, props, n, std::max<uint32_t>(window, 1), deadline);
    // Nothing reached the broker: the call failed as a whole.
    if (run.sent == 0 && run.stop == stop_reason::aborted)
      return shutting_down();
    if (run.sent == 0 && run.stop == stop_reason::send_failed)
      return lost("while sending the first message of the batch (" + run.detail +
                  "); nothing was published");
    if (run.stop != stop_reason::none) {
      auto cause = stop_cause(run, timeout);
      res.reply_code = run.code;
      res.reply_text = cause;
      // The broker refusing one message (a closed channel), blocking publishers, or
      // warren shutting down is not the backend failing; the rest is.
      res.broken = run.stop == stop_reason::send_failed ||
                   run.stop == stop_reason::timeout ||
                   run.stop == stop_reason::connection_lost ||
                   run.stop == stop_reason::connection_closed;
      for (size_t i = 0; i < n; ++i) {
        auto& c = run.confirms[i];
        if (i == run.failed) {
          c = amqp_confirm{amqp_confirm::status::not_sent, 0,
                           cause + " while sending this message; it was not published"};
        } else if (i >= run.sent) {
          c = amqp_confirm{amqp_confirm::status::not_sent, run.code,
                           cause +
                               " before this message was sent; it was not published"};
        } else if (c.what == amqp_confirm::status::unknown) {
          c.reply_code = run.code;
          c.reply_text = cause +
                         " before the broker confirmed this message; it may or may "
                         "not have been published";
        }
        if (c.what == amqp_confirm::status::not_sent ||
            c.what == amqp_confirm::status::unknown)
          c.error = stop_error(run.stop);
      }
    }
    res.confirms = std::move(run.confirms);
    return res;
  }

  // One message: the batch machinery, with the outcome as a result or an error.
  caf::expected<amqp_response> publish(const amqp_publish& msg, milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    table_arena arena;
    amqp_basic_properties_t props{};
    if (auto err = build_properties(msg, arena, props))
      return err;
    if (auto err = ready_to_publish(deadline, timeout))
      return err;
    auto run = run_publishes(&msg, &props, 1, 1, deadline);
    auto& c = run.confirms[0];
    amqp_response res;
    if (c.what == amqp_confirm::status::returned) {
      res.result = amqp_response::outcome::returned;
      res.reply_code = c.reply_code;
      res.reply_text = c.reply_text;
      return res;
    }
    if (c.what == amqp_confirm::status::confirmed)
      return res;
    if (c.what == amqp_confirm::status::nacked) {
      res.result = amqp_response::outcome::nacked;
      return res;
    }
    auto id_note = msg.message_id.empty() ? std::string{}
                                          : " (message_id '" + msg.message_id + "')";
    auto unknown = [&](const std::string& how) {
      return make_error(ec::backend_unreachable,
                        "the connection to RabbitMQ at " + where + " failed (" + how +
                            ") before the broker confirmed the message; it may or may "
                            "not have been published" +
                            id_note);
    };
    switch (run.stop) {
    case stop_reason::send_failed:
      return lost("while sending the message (" + run.detail +
                  "); it was not published" + id_note);
    case stop_reason::timeout:
      return make_error(ec::backend_timeout,
                        "RabbitMQ at " + where +
                            " did not confirm the message within " +
                            std::to_string(millis(timeout)) +
                            " ms; it may or may not have been published" + id_note);
    case stop_reason::connection_lost:
      return unknown(run.detail);
    case stop_reason::connection_closed:
      return unknown("the broker closed the connection: " + run.detail);
    case stop_reason::channel_closed:
      return refused("the publish to exchange '" + msg.exchange + "'");
    case stop_reason::aborted:
      return shutting_down();
    case stop_reason::blocked:
    case stop_reason::none:
      break;
    }
    return make_error(ec::internal, "the publish ended without a confirm" + id_note);
  }

  caf::expected<amqp_response> get(const amqp_get& request, milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    amqp_response res;
    res.result = amqp_response::outcome::delivered;
    if (request.count == 0)
      return res;
    if (auto err = ready(deadline, timeout))
      return err;
    auto what = "basic.get on queue '" + request.queue + "'";
    uint64_t last_tag = 0;
    // On any failure below the channel or connection is gone (closed by the broker
    // or dropped here), so the broker requeues whatever was taken and not settled.
    auto fail = [&](caf::error err) {
      if (conn != nullptr && channel_open && last_tag != 0)
        drop();
      return err;
    };
    for (uint32_t i = 0; i < request.count; ++i) {
      if (!set_rpc_deadline(deadline)) {
        drop();
        return fail(timed_out("answer " + what, timeout));
      }
      auto reply = amqp_basic_get(conn, channel, as_bytes(request.queue), 0);
      if (reply.reply_type != AMQP_RESPONSE_NORMAL)
        return fail(rpc_failure(reply, what, timeout));
      last_io = clock_type::now();
      if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
        break;
      if (reply.reply.id != AMQP_BASIC_GET_OK_METHOD) {
        drop();
        return fail(make_error(ec::backend_protocol, "RabbitMQ answered " + what +
                                                         " with an unexpected method"));
      }
      auto* ok = static_cast<amqp_basic_get_ok_t*>(reply.reply.decoded);
      amqp_delivery d;
      auto tag = ok->delivery_tag;
      d.redelivered = ok->redelivered != 0;
      d.exchange = to_string(ok->exchange);
      d.routing_key = to_string(ok->routing_key);
      d.message_count = ok->message_count;
      switch (read_content(deadline, &d)) {
      case wait_result::frame:
        break;
      case wait_result::timeout:
        return fail(timed_out("deliver the message body of " + what, timeout));
      case wait_result::channel_closed:
        return fail(refused(what));
      case wait_result::connection_closed:
        return fail(
            make_error(ec::broker_refused, "RabbitMQ closed the connection during " +
                                               what + ": " + reply_text));
      case wait_result::connection_lost:
        return fail(lost("during " + what + " (" + reply_text + ")"));
      }
      last_tag = tag;
      res.messages.push_back(std::move(d));
      amqp_maybe_release_buffers_on_channel(conn, channel);
    }
    if (last_tag == 0)
      return res;
    int status = AMQP_STATUS_OK;
    switch (request.mode) {
    case ack_mode::ack:
      status = amqp_basic_ack(conn, channel, last_tag, 1);
      break;
    case ack_mode::reject_requeue:
      status = amqp_basic_nack(conn, channel, last_tag, 1, 1);
      break;
    case ack_mode::reject_drop:
      status = amqp_basic_nack(conn, channel, last_tag, 1, 0);
      break;
    }
    if (status != AMQP_STATUS_OK) {
      drop();
      return make_error(ec::backend_unreachable,
                        "the connection to RabbitMQ at " + where +
                            " failed while settling the messages taken from queue '" +
                            request.queue + "' (" + library_error(status) +
                            "); the broker puts them back in the queue");
    }
    last_io = clock_type::now();
    return res;
  }
};

caf::expected<amqp_endpoint> parse_amqp_url(const std::string& url) {
  auto invalid = [](const std::string& why) {
    return make_error(ec::invalid_config,
                      "the AMQP URL is not valid (" + why +
                          "); expected amqp://user:password@host:port/vhost");
  };
  if (url.compare(0, 8, "amqps://") == 0)
    return make_error(
        ec::invalid_config,
        "amqps:// (AMQP over TLS) is not supported yet; use an amqp:// URL");
  if (url.compare(0, 7, "amqp://") != 0)
    return invalid("it must start with amqp://");
  // amqp_parse_url cuts the text it is given into pieces.
  std::vector<char> copy(url.begin(), url.end());
  copy.push_back('\0');
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (amqp_parse_url(copy.data(), &info) != AMQP_STATUS_OK)
    return invalid("check the host, the port and that special characters in the user "
                   "or password are percent-encoded");
  if (info.port <= 0 || info.port > 65535)
    return invalid("the port must be between 1 and 65535");
  amqp_endpoint ep;
  ep.host = info.host != nullptr ? info.host : "";
  if (ep.host.empty())
    return invalid("it names no host");
  ep.port = static_cast<uint16_t>(info.port);
  ep.user = info.user != nullptr ? info.user : "guest";
  ep.password = info.password != nullptr ? info.password : "guest";
  return ep;
}

amqp_client::amqp_client(amqp_endpoint endpoint, std::string vhost)
    : impl_(std::make_unique<impl>(std::move(endpoint), std::move(vhost))) {}

amqp_client::~amqp_client() {
  close();
}

caf::expected<amqp_response> amqp_client::publish(const amqp_publish& message,
                                                  milliseconds timeout) {
  auto& d = *impl_;
  return d.guarded(message.vhost, "; the outcome of the publish is unknown",
                   [&] { return d.publish(message, timeout); });
}

namespace {

// Runs `run` (publish_batch or publish_each) guarded on the vhost of the first
// message: the router chose this client by it, and all go there.
template <class Impl, class Run>
caf::expected<amqp_response>
guarded_run(Impl& d, const std::vector<amqp_publish>& messages, Run run) {
  auto vhost = messages.empty() ? std::string{} : messages.front().vhost;
  return d.guarded(vhost, "; the outcome of the publishes is unknown", run);
}

} // namespace

caf::expected<amqp_response>
amqp_client::publish_batch(const std::vector<amqp_publish>& messages, uint32_t window,
                           milliseconds timeout) {
  auto& d = *impl_;
  return guarded_run(d, messages,
                     [&] { return d.publish_batch(messages, window, timeout); });
}

caf::expected<amqp_response>
amqp_client::publish_each(const std::vector<amqp_publish>& messages, uint32_t window,
                          milliseconds timeout) {
  auto& d = *impl_;
  return guarded_run(d, messages,
                     [&] { return d.publish_each(messages, window, timeout); });
}

caf::expected<amqp_response> amqp_client::get(const amqp_get& request,
                                              milliseconds timeout) {
  auto& d = *impl_;
  // Dropping the connection on a failure makes the broker requeue anything taken.
  return d.guarded(request.vhost, "", [&] { return d.get(request, timeout); });
}

void amqp_client::abort() {
  auto& d = *impl_;
  d.aborted = true;
  std::lock_guard<std::mutex> guard{d.fd_mutex};
  // Shutting the socket down ends any poll or read on it at once; the owning thread
  // then sees a closed connection, and closes the descriptor itself.
  if (d.fd >= 0)
    ::shutdown(d.fd, SHUT_RDWR);
}

bool amqp_client::connected() const {
  return impl_->conn != nullptr;
}

void amqp_client::close() {
  impl_->close_gracefully(milliseconds{1000});
}

} // namespace warren
