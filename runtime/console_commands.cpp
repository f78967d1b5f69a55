#include "runtime/console_commands.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <vector>

#include <rapidjson/stringbuffer.h>

#include "protocol/error.hpp"
#include "protocol/json_writer.hpp"
#include "protocol/text_table.hpp"

namespace warren {

namespace {

using writer_type = json_writer<rapidjson::StringBuffer>;

std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> words;
  std::istringstream in{std::string{line}};
  std::string w;
  while (in >> w)
    words.push_back(w);
  return words;
}

console_reply refused(std::string why) {
  return {false, std::move(why)};
}

console_reply from_error(const caf::error& err) {
  return refused(message_of(err));
}

std::string number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void write_status(writer_type& w, const actor_status& s) {
  w.StartObject();
  w.Key("id");
  w.Uint64(s.id);
  w.Key("kind");
  w.String(s.kind);
  w.Key("name");
  w.String(s.name);
  w.Key("state");
  w.String(s.state);
  w.Key("mailbox");
  w.Uint64(s.mailbox);
  w.Key("restarts");
  w.Uint64(s.restarts);
  w.Key("handled");
  w.Uint64(s.handled);
  w.Key("figures");
  w.StartObject();
  for (const auto& f : s.figures) {
    w.Key(f.name);
    w.Double(f.value);
  }
  w.EndObject();
  w.Key("children");
  w.StartArray();
  for (const auto& c : s.children)
    write_status(w, c);
  w.EndArray();
  w.EndObject();
}

void tree_rows(const actor_status& s, std::size_t depth,
               std::vector<std::vector<std::string>>& rows) {
  rows.push_back({std::string(2 * depth, ' ') + s.kind, s.name,
                  s.id == 0 ? "-" : std::to_string(s.id), s.state,
                  std::to_string(s.mailbox), std::to_string(s.restarts)});
  for (const auto& c : s.children)
    tree_rows(c, depth + 1, rows);
}

// The statuses of one kind, flat.
std::vector<const actor_status*> of_kind(const actor_status& tree,
                                         std::initializer_list<const char*> kinds) {
  std::vector<const actor_status*> found;
  for_each_status(tree, [&](const actor_status& s) {
    for (auto k : kinds)
      if (s.kind == k)
        found.push_back(&s);
  });
  return found;
}

// A table of the named figures of every status of the given kinds.
console_reply figure_table(const actor_status& tree,
                           std::initializer_list<const char*> kinds,
                           const std::vector<std::string>& figures, bool json) {
  auto found = of_kind(tree, kinds);
  if (json) {
    rapidjson::StringBuffer buf;
    writer_type w{buf};
    w.StartArray();
    for (auto* s : found)
      write_status(w, *s);
    w.EndArray();
    return {true, buf.GetString()};
  }
  std::vector<std::string> headers{"name", "state"};
  headers.insert(headers.end(), figures.begin(), figures.end());
  std::vector<std::vector<std::string>> rows;
  for (auto* s : found) {
    std::vector<std::string> row{s->name, s->state};
    for (const auto& f : figures)
      row.push_back(number(figure_of(*s, f)));
    rows.push_back(std::move(row));
  }
  if (rows.empty())
    return {true, "(none)\n"};
  return {true, render_table(headers, rows)};
}

std::optional<std::size_t> parse_size(const std::string& text) {
  std::size_t v = 0;
  auto [ptr, err] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (err != std::errc{} || ptr != text.data() + text.size())
    return std::nullopt;
  return v;
}

} // namespace

std::string status_json(const actor_status& s) {
  rapidjson::StringBuffer buf;
  writer_type w{buf};
  write_status(w, s);
  return buf.GetString();
}

std::string console_session::help() {
  return "Commands (add --json for machine-readable output):\n"
         "  tree                          the supervision tree: id, kind, name, state, "
         "mailbox, restarts\n"
         "  top [--sort mailbox|rate]     actors by mailbox depth or messages per "
         "second\n"
         "  sessions                      connected MCP sessions\n"
         "  cache stats|flush [PREFIX]|warm\n"
         "  pool stats|resize management|amqp MIN MAX\n"
         "  breaker list|trip NAME|reset NAME   (NAME: management or amqp)\n"
         "  config get [KEY]|set KEY VALUE\n"
         "  report                        per-tool latency, errors, slowest calls, "
         "hints\n"
         "  metrics                       the Prometheus exposition\n"
         "  help, quit\n";
}

console_reply console_session::top(bool json, const std::string& sort) {
  auto tree = control_.tree();
  auto now = std::chrono::steady_clock::now();
  double seconds = last_top_ == std::chrono::steady_clock::time_point{}
                       ? 0
                       : std::chrono::duration<double>(now - last_top_).count();
  struct row {
    const actor_status* s;
    double rate;
  };
  std::vector<row> rows;
  std::map<uint64_t, uint64_t> seen;
  for_each_status(tree, [&](const actor_status& s) {
    if (s.id == 0)
      return;
    auto before = last_handled_.find(s.id);
    double rate = 0;
    if (seconds > 0 && before != last_handled_.end() && s.handled >= before->second)
      rate = static_cast<double>(s.handled - before->second) / seconds;
    seen[s.id] = s.handled;
    rows.push_back({&s, rate});
  });
  last_handled_ = std::move(seen);
  last_top_ = now;
  std::stable_sort(rows.begin(), rows.end(), [&](const row& a, const row& b) {
    return sort == "rate" ? a.rate > b.rate : a.s->mailbox > b.s->mailbox;
  });
  if (json) {
    rapidjson::StringBuffer buf;
    writer_type w{buf};
    w.StartArray();
    for (auto& r : rows) {
      w.StartObject();
      w.Key("id");
      w.Uint64(r.s->id);
      w.Key("kind");
      w.String(r.s->kind);
      w.Key("name");
      w.String(r.s->name);
      w.Key("mailbox");
      w.Uint64(r.s->mailbox);
      w.Key("rate");
      w.Double(r.rate);
      w.Key("handled");
      w.Uint64(r.s->handled);
      w.EndObject();
    }
    w.EndArray();
    return {true, buf.GetString()};
  }
  std::vector<std::vector<std::string>> table;
  for (auto& r : rows)
    table.push_back({std::to_string(r.s->id), r.s->kind, r.s->name,
                     std::to_string(r.s->mailbox), number(r.rate),
                     std::to_string(r.s->handled), r.s->state});
  return {true,
          render_table({"id", "kind", "name", "mailbox", "msg/s", "handled", "state"},
                       table)};
}

console_reply console_session::run(std::string_view line) {
  auto words = words_of(line);
  bool json = false;
  words.erase(std::remove_if(words.begin(), words.end(),
                             [&](const std::string& w) {
                               if (w != "--json")
                                 return false;
                               json = true;
                               return true;
                             }),
              words.end());
  if (words.empty())
    return {true, ""};
  auto arg = [&](std::size_t i) { return i < words.size() ? words[i] : std::string{}; };
  const auto& cmd = words[0];
  if (cmd == "help")
    return {true, help()};
  if (cmd == "tree") {
    auto tree = control_.tree();
    if (json)
      return {true, status_json(tree)};
    std::vector<std::vector<std::string>> rows;
    tree_rows(tree, 0, rows);
    return {true,
            render_table({"kind", "name", "id", "state", "mailbox", "restarts"}, rows)};
  }
  if (cmd == "top") {
    auto sort = arg(1) == "--sort" ? arg(2) : std::string{"mailbox"};
    if (sort != "mailbox" && sort != "rate")
      return refused("top sorts by mailbox or rate, not '" + sort + "'");
    return top(json, sort);
  }
  if (cmd == "sessions")
    return figure_table(control_.tree(), {"session"}, {"requests", "in_flight"}, json);
  if (cmd == "cache") {
    if (arg(1) == "stats" || arg(1).empty())
      return figure_table(
          control_.tree(), {"cache_shard", "redis_l2"},
          {"hits", "misses", "entries", "bytes", "evictions", "expirations"}, json);
    if (arg(1) == "flush") {
      auto dropped = control_.flush(arg(2));
      if (!dropped)
        return from_error(dropped.error());
      return {true, "flushed " + std::to_string(*dropped) + " entries" +
                        (arg(2).empty() ? std::string{} : " under '" + arg(2) + "'") +
                        "\n"};
    }
    if (arg(1) == "warm") {
      control_.warm();
      return {true, "cache warming started\n"};
    }
    return refused("cache takes stats, flush [PREFIX] or warm");
  }
  if (cmd == "pool") {
    if (arg(1) == "stats" || arg(1).empty())
      return figure_table(
          control_.tree(), {"pool"},
          {"min", "max", "active", "idle", "waiting", "exhausted", "opened", "reused"},
          json);
    if (arg(1) == "resize") {
      auto min = parse_size(arg(3));
      auto max = parse_size(arg(4));
      if (!min || !max)
        return refused("usage: pool resize management|amqp MIN MAX");
      if (auto err = control_.resize(arg(2), *min, *max))
        return from_error(err);
      return {true,
              arg(2) + " pool resized to min " + arg(3) + ", max " + arg(4) + "\n"};
    }
    return refused("pool takes stats or resize NAME MIN MAX");
  }
  if (cmd == "breaker") {
    if (arg(1) == "list" || arg(1).empty())
      return figure_table(control_.tree(), {"breaker", "redis_l2"},
                          {"calls", "failures", "rejected", "transitions", "retries"},
                          json);
    if (arg(1) == "trip" || arg(1) == "reset") {
      auto err = arg(1) == "trip" ? control_.trip(arg(2)) : control_.reset(arg(2));
      if (err)
        return from_error(err);
      return {true,
              arg(2) + " breaker " + (arg(1) == "trip" ? "tripped" : "reset") + "\n"};
    }
    return refused("breaker takes list, trip NAME or reset NAME");
  }
  if (cmd == "config") {
    auto current = control_.current();
    if (arg(1) == "get" || arg(1).empty()) {
      if (!arg(2).empty()) {
        auto v = setting_value(current, arg(2));
        if (!v)
          return refused("unknown setting '" + arg(2) + "'");
        return {true, *v + "\n"};
      }
      std::vector<std::vector<std::string>> rows;
      const auto& live = control_plane::runtime_keys();
      for (const auto& k : setting_keys())
        rows.push_back({k.key, setting_value(current, k.key).value_or(""),
                        std::find(live.begin(), live.end(), k.key) != live.end()
                            ? "yes"
                            : "at start"});
      return {true, render_table({"key", "value", "changeable"}, rows)};
    }
    if (arg(1) == "set") {
      if (words.size() != 4)
        return refused("usage: config set KEY VALUE");
      if (auto err = control_.set(arg(2), arg(3)))
        return from_error(err);
      return {true, arg(2) + " = " +
                        setting_value(control_.current(), arg(2)).value_or("") + "\n"};
    }
    return refused("config takes get [KEY] or set KEY VALUE");
  }
  if (cmd == "report") {
    auto r = control_.report();
    return {true, json ? render_json(r) : render_text(r)};
  }
  if (cmd == "metrics")
    return {true, control_.metrics_text()};
  return refused("unknown command '" + cmd + "'; try help");
}

} // namespace warren
