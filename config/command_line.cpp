#include "config/command_line.hpp"

#include <algorithm>
#include <exception>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "protocol/error.hpp"

namespace warren {

namespace {

std::string group_of(const std::string& key) {
  auto section = std::string_view(key).substr(0, key.find('.'));
  if (section == "rabbitmq")
    return "RabbitMQ";
  if (section == "server")
    return "Server";
  if (section == "http_pool")
    return "Management API connection pool";
  if (section == "amqp_pool")
    return "AMQP connection pool";
  if (section == "pool")
    return "Both connection pools, when every connection is busy";
  if (section == "breaker")
    return "Circuit breakers (one per backend)";
  if (section == "retry")
    return "Retries of idempotent management API reads";
  if (section == "cache")
    return "Cache";
  if (section == "batch")
    return "Batch jobs";
  if (section == "http")
    return "Streamable HTTP transport";
  return std::string(section);
}

// Registers --config and one option per settings key on `app`. Each option only
// records its text under its config key; load_settings parses it with the rest.
void add_setting_options(CLI::App& app, command_line& cl) {
  app.add_option_function<std::string>(
         "--config", [&cl](const std::string& file) { cl.config_file = file; },
         "TOML settings file with [rabbitmq], [server], [http_pool], [amqp_pool], "
         "[pool], [breaker], [retry] and [cache] tables. Env WARREN_CONFIG.")
      ->type_name("FILE");
  for (const auto& key : setting_keys()) {
    auto help = key.help + " Config " + key.key + ", env " + key.env + ".";
    if (!key.default_value.empty())
      help += " Default: " + key.default_value + ".";
    if (key.is_flag) {
      app.add_flag_function(
             key.flag,
             [&cl, name = key.key](int64_t count) {
               // "--allow-writes" counts 1; CLI11 turns "--allow-writes=false" into -1.
               cl.flags[name] = count > 0 ? "true" : "false";
             },
             help)
          ->group(group_of(key.key));
      continue;
    }
    app.add_option_function<std::string>(
           key.flag,
           [&cl, name = key.key](const std::string& value) { cl.flags[name] = value; },
           help)
        ->type_name(key.placeholder)
        ->group(group_of(key.key));
  }
}

// --socket and --json, shared by `console` and `report`.
void add_console_options(CLI::App& app, command_line& cl) {
  app.add_option("--socket", cl.console_socket,
                 "Unix socket of a running warren's console (the path it was started "
                 "with as --console-socket). Env WARREN_CONSOLE_SOCKET.")
      ->type_name("PATH");
  app.add_flag("--json", cl.json,
               "Ask for JSON instead of text tables (appends --json to each command).");
}

// A batch subcommand and the tool it runs.
struct batch_command {
  CLI::App* app;
  const char* tool;
  const char* items_key;
};

// The options every batch command has; returns the subcommand.
CLI::App* add_batch_command(CLI::App& parent, const char* name, const char* help,
                            const char* tool, const char* items_key, command_line& cl,
                            std::vector<batch_command>& batches) {
  auto* sub = parent.add_subcommand(name, help);
  sub->add_flag("--batch", "Run the items of the file as one batch job (required).")
      ->required();
  sub->add_option("--file", cl.batch.file,
                  "The items: a JSON array, or one JSON value per line (NDJSON); - "
                  "(the default) reads stdin.")
      ->type_name("FILE");
  sub->add_option("--mode", cl.batch.mode,
                  "best_effort (default: run every item, report each) or "
                  "all_or_nothing (undo the job when an item fails).")
      ->check(CLI::IsMember({"best_effort", "all_or_nothing"}))
      ->type_name("MODE");
  sub->add_option("--parallelism", cl.batch.parallelism,
                  "Items run at once (default: batch.parallelism).")
      ->check(CLI::Range(1, 64))
      ->type_name("N");
  sub->add_flag("--json", cl.json, "Print the result as JSON instead of a table.");
  sub->footer("Files bigger than batch.max_items are run as several batch calls, one "
              "after another. Exit code: 0 when every item succeeded, 1 otherwise, 2 "
              "for a file or command line warren cannot use.");
  add_setting_options(*sub, cl);
  batches.push_back({sub, tool, items_key});
  return sub;
}

} // namespace

command_line parse_command_line(int argc, const char* const* argv, std::ostream& out,
                                std::ostream& err) {
  command_line cl;
  try {
    CLI::App app{"warren: an MCP server for RabbitMQ.", "warren"};
    app.set_version_flag("--version", std::string("warren ") + warren_version);
    app.footer("Settings apply in this order, later ones winning: built-in defaults, "
               "the --config file (or WARREN_CONFIG), environment variables, flags.");
    auto* serve = app.add_subcommand("serve", "Speak MCP (JSON-RPC lines) over stdio.");
    add_setting_options(*serve, cl);
    auto* config = app.add_subcommand("config", "Inspect warren's settings.");
    config->require_subcommand(1);
    auto* check = config->add_subcommand(
        "check",
        "Load and validate the settings, then print the effective ones as TOML "
        "(password hidden).");
    add_setting_options(*check, cl);
    auto* console = app.add_subcommand(
        "console", "Talk to a running warren's introspection console (actor tree, "
                   "mailboxes, pools, breakers, cache).");
    console->footer("Without -c: an interactive session with history (type help for "
                    "the commands, quit to leave), or, when stdin is not a terminal, "
                    "one command per line read from stdin.");
    add_console_options(*console, cl);
    console
        ->add_option_function<std::string>(
            "-c,--command",
            [&cl](const std::string& text) { cl.console_command = text; },
            "Run this one command (e.g. \"tree\", \"top --sort rate\"), print its "
            "answer and exit: 0 if it ran, 1 if warren refused it or is unreachable.")
        ->type_name("CMD");
    auto* report = app.add_subcommand(
        "report", "Print a running warren's performance report (the console's "
                  "report command).");
    report->footer("Requests per tool, the slowest operations and bottleneck hints.");
    add_console_options(*report, cl);
    std::vector<batch_command> batches;
    auto* queue = app.add_subcommand("queue", "Change many queues at once.");
    queue->require_subcommand(1);
    add_batch_command(*queue, "create",
                      "Create the queues of a file (each as create_queue takes it) "
                      "in one batch job.",
                      "batch_create_queues", "queues", cl, batches);
    auto* remove = add_batch_command(
        *queue, "delete", "Delete the queues named in a file in one batch job.",
        "batch_delete_queues", "names", cl, batches);
    remove->add_option("--vhost", cl.batch.vhost, "The queues' vhost (default /).")
        ->type_name("VHOST");
    remove->add_flag("--force", cl.batch.force,
                     "Delete queues that still hold messages or have consumers.");
    remove->add_flag("--dry-run", cl.batch.dry_run,
                     "Only report what would be deleted.");
    add_batch_command(app, "publish",
                      "Publish the messages of a file (each as publish_message takes "
                      "it) in one batch job, with publisher confirms.",
                      "batch_publish_messages", "messages", cl, batches);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      cl = command_line{};
      auto code = app.exit(e, out, err);
      cl.exit_code = code == 0 ? 0 : 2;
      return cl;
    }
    if (serve->parsed()) {
      cl.cmd = command_line::command::serve;
    } else if (check->parsed()) {
      cl.cmd = command_line::command::config_check;
    } else if (console->parsed()) {
      cl.cmd = command_line::command::console;
    } else if (report->parsed()) {
      cl.cmd = command_line::command::report;
    } else if (auto batch = std::find_if(batches.begin(), batches.end(),
                                         [](auto& b) { return b.app->parsed(); });
               batch != batches.end()) {
      cl.cmd = command_line::command::batch;
      cl.batch.tool = batch->tool;
      cl.batch.items_key = batch->items_key;
    } else {
      out << app.help();
      cl = command_line{};
      cl.exit_code = 2;
    }
    return cl;
  } catch (const std::exception& e) {
    err << "warren: cannot parse the command line: " << e.what() << "\n";
    command_line failed;
    failed.exit_code = 2;
    return failed;
  }
}

caf::expected<settings> load_settings(const command_line& cl, const env_lookup& env) {
  auto config_file = cl.config_file;
  if (!config_file && env) {
    // An empty WARREN_CONFIG means "no file", as for the other variables.
    if (auto from_env = env("WARREN_CONFIG"); from_env && !from_env->empty())
      config_file = std::move(from_env);
  }
  return load_settings(config_file, env, cl.flags);
}

int run_config_check(const command_line& cl, const env_lookup& env, std::ostream& out,
                     std::ostream& err) {
  auto s = load_settings(cl, env);
  if (!s) {
    err << "config error: " << message_of(s.error()) << "\n";
    return 2;
  }
  out << "config ok\n" << to_toml(*s);
  return 0;
}

} // namespace warren
