#include "config/command_line.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/unit/temp_dir.hpp"

using namespace warren;
using warren::test::temp_dir;

namespace {

struct parsed {
  command_line cl;
  std::string out;
  std::string err;
};

parsed parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"warren"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::ostringstream out;
  std::ostringstream err;
  auto cl = parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err);
  return {std::move(cl), out.str(), err.str()};
}

env_lookup env_of(std::map<std::string, std::string> vars) {
  return
      [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto i = vars.find(name);
        if (i == vars.end())
          return std::nullopt;
        return i->second;
      };
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("command line: serve collects flags as config keys without parsing them") {
  auto p = parse({"serve", "--management-url", "http://h:1/", "--http-pool-max=7",
                  "--max-in-flight", "abc", "--config", "w.toml", "--password", "pw"});
  CHECK(p.cl.cmd == command_line::command::serve);
  REQUIRE(p.cl.config_file);
  CHECK(*p.cl.config_file == "w.toml");
  CHECK(p.cl.flags.size() == 4);
  CHECK(p.cl.flags["rabbitmq.management_url"] == "http://h:1/");
  CHECK(p.cl.flags["http_pool.max"] == "7");
  CHECK(p.cl.flags["server.max_in_flight"] == "abc"); // load_settings judges it
  CHECK(p.cl.flags["rabbitmq.password"] == "pw");
  CHECK(p.err.empty());
  CHECK(p.out.empty());
}

TEST_CASE("command line: every settings key has a flag on serve and config check") {
  for (const auto& key : setting_keys()) {
    CAPTURE(key.flag);
    for (auto sub : {std::vector<const char*>{"serve"},
                     std::vector<const char*>{"config", "check"}}) {
      std::vector<const char*> argv{"warren"};
      argv.insert(argv.end(), sub.begin(), sub.end());
      argv.push_back(key.flag.c_str());
      if (!key.is_flag)
        argv.push_back("v");
      std::ostringstream out;
      std::ostringstream err;
      auto cl =
          parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err);
      CHECK(cl.exit_code == 0);
      CHECK(err.str().empty());
      CHECK(cl.flags.size() == 1);
      CHECK(cl.flags[key.key] == (key.is_flag ? "true" : "v"));
    }
  }
}

TEST_CASE("command line: config check is recognised") {
  auto p = parse({"config", "check", "--log-level", "debug"});
  CHECK(p.cl.cmd == command_line::command::config_check);
  CHECK(p.cl.flags["server.log_level"] == "debug");
  CHECK_FALSE(p.cl.config_file);
}

TEST_CASE("command line: --help and --version print to out and exit 0") {
  auto help = parse({"--help"});
  CHECK(help.cl.cmd == command_line::command::exit);
  CHECK(help.cl.exit_code == 0);
  CHECK(contains(help.out, "serve"));
  CHECK(contains(help.out, "config"));
  CHECK(help.err.empty());

  auto version = parse({"--version"});
  CHECK(version.cl.cmd == command_line::command::exit);
  CHECK(version.cl.exit_code == 0);
  CHECK(version.out == "warren 0.1.0\n");
}

TEST_CASE("command line: subcommand help describes every option") {
  for (auto args : {std::vector<const char*>{"serve", "--help"},
                    std::vector<const char*>{"config", "check", "--help"}}) {
    std::vector<const char*> argv{"warren"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::ostringstream out;
    std::ostringstream err;
    auto cl = parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err);
    CHECK(cl.cmd == command_line::command::exit);
    CHECK(cl.exit_code == 0);
    auto text = out.str();
    CHECK(contains(text, "--config"));
    CHECK(contains(text, "WARREN_CONFIG"));
    for (const auto& key : setting_keys()) {
      CAPTURE(key.flag);
      CHECK(contains(text, key.flag));
      CHECK(contains(text, key.env));
    }
    // The password flag steers people to the environment variable.
    CHECK(contains(text, "ps"));
    CHECK(contains(text, "Default: 64"));
    auto password_line = text.substr(text.find("--password"));
    password_line = password_line.substr(0, password_line.find('\n'));
    CHECK(contains(password_line, "RABBITMQ_PASSWORD"));
    CHECK_FALSE(contains(password_line, "Default"));
  }
}

TEST_CASE("command line: an unknown flag is a usage error with exit code 2") {
  auto p = parse({"serve", "--no-such-flag"});
  CHECK(p.cl.cmd == command_line::command::exit);
  CHECK(p.cl.exit_code == 2);
  CHECK(contains(p.err, "--no-such-flag"));
  CHECK(p.cl.flags.empty());
  auto missing_value = parse({"serve", "--http-pool-max"});
  CHECK(missing_value.cl.exit_code == 2);
  CHECK_FALSE(missing_value.err.empty());
  auto bare_config = parse({"config"});
  CHECK(bare_config.cl.cmd == command_line::command::exit);
  CHECK(bare_config.cl.exit_code == 2);
}

TEST_CASE("command line: no subcommand prints help and exits with 2") {
  auto p = parse({});
  CHECK(p.cl.cmd == command_line::command::exit);
  CHECK(p.cl.exit_code == 2);
  CHECK(contains(p.out, "serve"));
}

TEST_CASE("command line: config check prints the effective settings") {
  auto p = parse({"config", "check", "--http-pool-max", "33"});
  std::ostringstream out;
  std::ostringstream err;
  auto rc = run_config_check(p.cl, env_of({{"RABBITMQ_PASSWORD", "top-secret-pw"}}),
                             out, err);
  CHECK(rc == 0);
  CHECK(err.str().empty());
  CHECK(out.str().rfind("config ok\n", 0) == 0);
  CHECK(contains(out.str(), "max = 33"));
  CHECK(contains(out.str(), "password = '***'"));
  CHECK_FALSE(contains(out.str(), "top-secret-pw"));
}

TEST_CASE("command line: config check reports a bad value and exits with 2") {
  auto p = parse({"config", "check", "--http-pool-max", "0"});
  std::ostringstream out;
  std::ostringstream err;
  auto rc = run_config_check(p.cl, env_of({}), out, err);
  CHECK(rc == 2);
  CHECK(out.str().empty());
  CHECK(err.str().rfind("config error: invalid value for http_pool.max: 0", 0) == 0);
  CHECK(contains(err.str(), "--http-pool-max"));
}

TEST_CASE("command line: the config file comes from --config, else WARREN_CONFIG") {
  temp_dir dir;
  auto from_env = dir.write("env.toml", "[server]\nmax_in_flight = 11\n");
  auto from_flag = dir.write("flag.toml", "[server]\nmax_in_flight = 22\n");
  auto env = env_of({{"WARREN_CONFIG", from_env}});

  auto without_flag = parse({"serve"});
  auto s = load_settings(without_flag.cl, env);
  REQUIRE(s);
  CHECK(s->max_in_flight == 11);

  auto with_flag = parse({"serve", "--config", from_flag.c_str()});
  auto t = load_settings(with_flag.cl, env);
  REQUIRE(t);
  CHECK(t->max_in_flight == 22);

  auto absent = (dir.path / "absent.toml").string();
  auto missing = parse({"config", "check", "--config", absent.c_str()});
  std::ostringstream out;
  std::ostringstream err;
  CHECK(run_config_check(missing.cl, env, out, err) == 2);
  CHECK(contains(err.str(), absent + " does not exist"));
}

TEST_CASE("command line: --allow-writes is a switch without a value") {
  std::ostringstream out, err;
  const char* argv[] = {"warren", "serve", "--allow-writes", "--tools", "direct"};
  auto cl = parse_command_line(5, argv, out, err);
  CHECK(cl.cmd == command_line::command::serve);
  CHECK(cl.flags.at("server.allow_writes") == "true");
  CHECK(cl.flags.at("server.tools") == "direct");
}

TEST_CASE("command line: --allow-writes=false leaves writes off") {
  std::ostringstream out, err;
  const char* argv[] = {"warren", "serve", "--allow-writes=false"};
  auto cl = parse_command_line(3, argv, out, err);
  CHECK(cl.cmd == command_line::command::serve);
  CHECK(cl.flags.at("server.allow_writes") == "false");
}

TEST_CASE("command line: console takes --socket, -c and --json") {
  auto p =
      parse({"console", "--socket", "/run/w.sock", "-c", "top --sort rate", "--json"});
  CHECK(p.cl.cmd == command_line::command::console);
  CHECK(p.cl.console_socket == "/run/w.sock");
  REQUIRE(p.cl.console_command);
  CHECK(*p.cl.console_command == "top --sort rate");
  CHECK(p.cl.json);
  CHECK(p.err.empty());

  auto long_form = parse({"console", "--socket=/s", "--command", "tree"});
  CHECK(long_form.cl.cmd == command_line::command::console);
  CHECK(long_form.cl.console_socket == "/s");
  REQUIRE(long_form.cl.console_command);
  CHECK(*long_form.cl.console_command == "tree");
  CHECK_FALSE(long_form.cl.json);
}

TEST_CASE("command line: console without -c is an interactive session") {
  auto p = parse({"console", "--socket", "/s"});
  CHECK(p.cl.cmd == command_line::command::console);
  CHECK_FALSE(p.cl.console_command);
  CHECK_FALSE(p.cl.json);
}

TEST_CASE("command line: console and report leave a missing --socket to main") {
  // WARREN_CONSOLE_SOCKET may supply it; main reports when neither is there.
  auto console = parse({"console"});
  CHECK(console.cl.cmd == command_line::command::console);
  CHECK(console.cl.console_socket.empty());
  auto report = parse({"report", "--json"});
  CHECK(report.cl.cmd == command_line::command::report);
  CHECK(report.cl.console_socket.empty());
  CHECK(report.cl.json);
}

TEST_CASE("command line: report takes --socket and --json but no command") {
  auto p = parse({"report", "--socket", "/s"});
  CHECK(p.cl.cmd == command_line::command::report);
  CHECK(p.cl.console_socket == "/s");
  CHECK_FALSE(p.cl.json);
  CHECK_FALSE(p.cl.console_command);

  auto with_command = parse({"report", "--socket", "/s", "-c", "tree"});
  CHECK(with_command.cl.cmd == command_line::command::exit);
  CHECK(with_command.cl.exit_code == 2);
  CHECK_FALSE(with_command.err.empty());
}

TEST_CASE("command line: console refuses setting flags and a --socket without value") {
  auto setting = parse({"console", "--socket", "/s", "--http-pool-max", "3"});
  CHECK(setting.cl.cmd == command_line::command::exit);
  CHECK(setting.cl.exit_code == 2);
  CHECK(contains(setting.err, "--http-pool-max"));

  auto bare = parse({"console", "--socket"});
  CHECK(bare.cl.cmd == command_line::command::exit);
  CHECK(bare.cl.exit_code == 2);
  CHECK(contains(bare.err, "--socket"));
}

TEST_CASE("command line: console and report help name their options") {
  auto console = parse({"console", "--help"});
  CHECK(console.cl.cmd == command_line::command::exit);
  CHECK(console.cl.exit_code == 0);
  for (const char* part : {"--socket", "WARREN_CONSOLE_SOCKET", "--command", "-c",
                           "--json", "--console-socket"})
    CHECK_MESSAGE(contains(console.out, part), part);

  auto report = parse({"report", "--help"});
  CHECK(report.cl.exit_code == 0);
  CHECK(contains(report.out, "--socket"));
  CHECK(contains(report.out, "--json"));
  CHECK_FALSE(contains(report.out, "--command"));

  auto top = parse({"--help"});
  CHECK(contains(top.out, "console"));
  CHECK(contains(top.out, "report"));
}

TEST_CASE("command line: queue create, queue delete and publish with --batch run the "
          "batch tools") {
  auto create = parse({"queue", "create", "--batch", "--file", "q.json", "--mode",
                       "all_or_nothing", "--parallelism", "3", "--json",
                       "--management-url", "http://h:1"});
  CHECK(create.cl.cmd == command_line::command::batch);
  CHECK(create.cl.batch.tool == "batch_create_queues");
  CHECK(create.cl.batch.items_key == "queues");
  CHECK(create.cl.batch.file == "q.json");
  CHECK(create.cl.batch.mode == "all_or_nothing");
  CHECK(create.cl.batch.parallelism == 3);
  CHECK(create.cl.json);
  CHECK(create.cl.flags["rabbitmq.management_url"] == "http://h:1");

  auto remove =
      parse({"queue", "delete", "--batch", "--vhost", "v", "--force", "--dry-run"});
  CHECK(remove.cl.batch.tool == "batch_delete_queues");
  CHECK(remove.cl.batch.items_key == "names");
  CHECK(remove.cl.batch.file == "-");
  CHECK(remove.cl.batch.vhost == "v");
  CHECK(remove.cl.batch.force);
  CHECK(remove.cl.batch.dry_run);

  auto publish = parse({"publish", "--batch"});
  CHECK(publish.cl.batch.tool == "batch_publish_messages");
  CHECK(publish.cl.batch.items_key == "messages");
}

TEST_CASE("command line: a batch command without --batch or with a bad mode is a usage "
          "error") {
  auto no_batch = parse({"queue", "create", "--file", "q.json"});
  CHECK(no_batch.cl.cmd == command_line::command::exit);
  CHECK(no_batch.cl.exit_code == 2);
  CHECK(contains(no_batch.err, "--batch"));
  auto bad_mode = parse({"publish", "--batch", "--mode", "sometimes"});
  CHECK(bad_mode.cl.exit_code == 2);
  CHECK_FALSE(
      parse({"queue", "delete", "--batch", "--parallelism", "0"}).cl.exit_code == 0);
}
