#include "runtime/console_client.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace warren;

namespace {

// A private directory under /tmp: Unix socket paths must stay short.
struct socket_dir {
  std::filesystem::path path;

  socket_dir() {
    std::string pattern = "/tmp/warren-console-XXXXXX";
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }

  ~socket_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }

  socket_dir(const socket_dir&) = delete;
  socket_dir& operator=(const socket_dir&) = delete;

  std::string socket() const { return (path / "console.sock").string(); }
};

// A socket bound to `path` (not yet listening), or -1.
int bound_socket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Stands in for warren's console: accepts one connection, records every line the
// client writes and answers each with what `answer` returns for it (nothing to stay
// silent, std::nullopt to hang up instead). "quit" ends the connection.
class fake_console {
public:
  using answer_fn = std::function<std::optional<std::string>(const std::string&)>;

  explicit fake_console(answer_fn answer) : answer_(std::move(answer)) {
    listen_fd_ = bound_socket(dir_.socket());
    REQUIRE(listen_fd_ >= 0);
    REQUIRE(::listen(listen_fd_, 4) == 0);
    REQUIRE(::pipe(stop_) == 0);
    thread_ = std::thread([this] { serve(); });
  }

  ~fake_console() {
    finish();
    ::close(listen_fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

  fake_console(const fake_console&) = delete;
  fake_console& operator=(const fake_console&) = delete;

  std::string path() const { return dir_.socket(); }

  /// Waits until the client has gone (or, if none came, stops waiting for one) and
  /// returns the lines it sent.
  std::vector<std::string> lines() {
    finish();
    std::lock_guard<std::mutex> guard(mutex_);
    return lines_;
  }

private:
  void finish() {
    if (!thread_.joinable())
      return;
    char stop = 's';
    (void)!::write(stop_[1], &stop, 1);
    thread_.join();
  }

  void serve() {
    pollfd wait[2] = {{listen_fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    if (::poll(wait, 2, -1) <= 0 || (wait[1].revents & POLLIN) != 0)
      return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      return;
    talk(fd);
    ::close(fd);
  }

  void talk(int fd) {
    std::string buffer;
    char chunk[4096];
    for (;;) {
      auto n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0)
        return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (auto end = buffer.find('\n'); end != std::string::npos;
           end = buffer.find('\n')) {
        auto line = buffer.substr(0, end);
        buffer.erase(0, end + 1);
        {
          std::lock_guard<std::mutex> guard(mutex_);
          lines_.push_back(line);
        }
        if (line == "quit")
          return;
        auto reply = answer_(line);
        if (!reply)
          return;
        if (!send_all(fd, *reply))
          return;
      }
    }
  }

  static bool send_all(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  socket_dir dir_;
  answer_fn answer_;
  int listen_fd_ = -1;
  int stop_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

std::string ok_line(const std::string& output_json) {
  return "{\"ok\":true,\"output\":" + output_json + "}\n";
}

struct result {
  int rc = -1;
  std::string out;
  std::string err;
};

result run(const std::string& path, std::optional<std::string> command,
           bool json = false, const std::string& script = {},
           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  console_options options;
  options.socket_path = path;
  options.command = std::move(command);
  options.json = json;
  options.reply_timeout = timeout;
  std::istringstream in(script);
  std::ostringstream out;
  std::ostringstream err;
  result r;
  r.rc = run_console(options, in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("console -c prints warren's output and exits with 0") {
  fake_console server([](const std::string& line) -> std::optional<std::string> {
    if (line == "tree")
      return ok_line("\"root\\n  child\"");
    return std::string("{\"ok\":false,\"output\":\"unexpected\"}\n");
  });
  auto r = run(server.path(), std::string("tree"));
  CHECK(r.rc == 0);
  CHECK(r.out == "root\n  child\n");
  CHECK(r.err.empty());
  CHECK(server.lines() == std::vector<std::string>{"tree", "quit"});
}

TEST_CASE("console -c keeps an output that already ends in a newline as it is") {
  fake_console server([](const std::string&) { return ok_line("\"line\\n\""); });
  auto r = run(server.path(), std::string("status"));
  CHECK(r.rc == 0);
  CHECK(r.out == "line\n");
}

TEST_CASE("a refused command prints warren's reason to err and exits with 1") {
  fake_console server([](const std::string&) -> std::optional<std::string> {
    return std::string(
        "{\"ok\":false,\"output\":\"unknown command frob; try help\"}\n");
  });
  auto r = run(server.path(), std::string("frob"));
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "unknown command frob; try help\n");
  CHECK(server.lines() == std::vector<std::string>{"frob", "quit"});
}

TEST_CASE("--json appends --json to the command sent") {
  fake_console server([](const std::string&) { return ok_line("\"{}\""); });
  auto r = run(server.path(), std::string("top --sort rate"), true);
  CHECK(r.rc == 0);
  CHECK(r.out == "{}\n");
  auto lines = server.lines();
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0] == "top --sort rate --json");
}

TEST_CASE("report asks the console for its report") {
  fake_console server([](const std::string&) { return ok_line("\"Hints:\""); });
  std::ostringstream out;
  std::ostringstream err;
  CHECK(run_report(server.path(), true, out, err) == 0);
  CHECK(out.str() == "Hints:\n");
  CHECK(server.lines() == std::vector<std::string>{"report --json", "quit"});
}

TEST_CASE("a missing socket is reported with its path and a hint, exit 1") {
  socket_dir dir;
  auto path = dir.socket();
  auto r = run(path, std::string("tree"));
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "cannot connect to warren's console at " + path +
                     ": No such file or directory (is warren running with "
                     "--console-socket " +
                     path + "?)\n");
}

TEST_CASE("a socket nobody listens on gets the same hint") {
  socket_dir dir;
  auto path = dir.socket();
  int fd = bound_socket(path); // bound, never listening: connect is refused
  REQUIRE(fd >= 0);
  auto r = run(path, std::string("tree"));
  ::close(fd);
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "cannot connect to warren's console at " + path));
  CHECK(contains(r.err, "Connection refused"));
  CHECK(contains(r.err, "--console-socket " + path));
}

TEST_CASE("a socket path too long for a Unix socket is refused with its reason") {
  auto r = run("/tmp/" + std::string(200, 'x'), std::string("tree"));
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "Unix socket path"));
}

TEST_CASE("a server that hangs up without answering gives a clear error and 1") {
  fake_console server([](const std::string&) { return std::nullopt; });
  auto r = run(server.path(), std::string("tree"));
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "closed the connection before answering"));
  CHECK(contains(r.err, server.path()));
}

TEST_CASE("a server that answers with something other than JSON gives 1") {
  fake_console server([](const std::string&) -> std::optional<std::string> {
    return std::string("HTTP/1.1 400 Bad Request\x1b[2J\xff\n");
  });
  auto r = run(server.path(), std::string("tree"));
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "answered with something other than"));
  CHECK(contains(r.err, "HTTP/1.1 400"));
  // The quoted garbage cannot drive the terminal.
  CHECK_FALSE(contains(r.err, "\x1b"));
}

TEST_CASE("JSON of the wrong shape is refused like garbage") {
  for (const char* reply : {"{\"ok\":\"yes\",\"output\":\"x\"}\n", "{\"ok\":true}\n",
                            "[true,\"x\"]\n", "{\"ok\":true,\"output\":7}\n", "\n"}) {
    CAPTURE(reply);
    fake_console server(
        [reply](const std::string&) -> std::optional<std::string> { return reply; });
    auto r = run(server.path(), std::string("tree"));
    CHECK(r.rc == 1);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "answered with something other than"));
  }
}

TEST_CASE("an endless answer line is cut off with an error, not held in memory") {
  fake_console server([](const std::string&) -> std::optional<std::string> {
    return std::string(10u << 20, 'x');
  });
  auto r = run(server.path(), std::string("tree"));
  CHECK(r.rc == 1);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "longer than 8 MiB"));
}

TEST_CASE("a server that does not answer in time gives a timeout error and 1") {
  // Silent: reads the command, answers nothing; the client gives up after 50 ms.
  fake_console server([](const std::string&) { return std::string(); });
  auto r =
      run(server.path(), std::string("tree"), false, {}, std::chrono::milliseconds(50));
  CHECK(r.rc == 1);
  CHECK(contains(r.err, "did not answer within 50 ms"));
}

TEST_CASE("a command of several lines is refused before anything is sent") {
  auto r = run("/tmp/unused.sock", std::string("tree\ncache flush"));
  CHECK(r.rc == 2);
  CHECK(contains(r.err, "one line"));
}

TEST_CASE("without -c, commands are read line by line from the input") {
  fake_console server([](const std::string& line) -> std::optional<std::string> {
    if (line == "frob")
      return std::string("{\"ok\":false,\"output\":\"unknown command frob\"}\n");
    return ok_line("\"ran " + line + "\"");
  });
  auto r =
      run(server.path(), std::nullopt, false,
          "tree\n\n  # a comment\nfrob\r\ncache flush queues:\nquit\nnever sent\n");
  CHECK(r.rc == 1); // one command was refused
  CHECK(r.out == "ran tree\nran cache flush queues:\n");
  CHECK(r.err == "unknown command frob\n");
  CHECK(server.lines() ==
        std::vector<std::string>{"tree", "frob", "cache flush queues:", "quit"});
}

TEST_CASE("a script whose commands all run exits with 0 at the end of its input") {
  fake_console server([](const std::string&) { return ok_line("\"fine\""); });
  auto r = run(server.path(), std::nullopt, true, "tree\nreport --json\n");
  CHECK(r.rc == 0);
  CHECK(r.out == "fine\nfine\n");
  CHECK(server.lines() ==
        std::vector<std::string>{"tree --json", "report --json", "quit"});
}

TEST_CASE("a script stops with 1 when warren goes away in the middle") {
  fake_console server([](const std::string& line) -> std::optional<std::string> {
    if (line == "tree")
      return ok_line("\"root\"");
    return std::nullopt;
  });
  auto r = run(server.path(), std::nullopt, false, "tree\nstatus\nnever sent\n");
  CHECK(r.rc == 1);
  CHECK(r.out == "root\n");
  CHECK(contains(r.err, "closed the connection"));
  CHECK(server.lines() == std::vector<std::string>{"tree", "status"});
}
