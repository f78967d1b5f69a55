// The discovery tools: search-ids, get-id and call-id reach every operation of the
// management API through the embedded operation index, the way agents know from
// other RabbitMQ MCP servers. call-id obeys the same write switch as the direct tools,
// and its destructive operations need force: true.

#include "protocol/api_index.hpp"
#include "protocol/error.hpp"
#include "protocol/tool_spec.hpp"

namespace warren::tools {

namespace {

// The index is immutable after construction; one serves every catalog and thread.
const api_index& index() {
  static const api_index shared;
  return shared;
}

const api_operation* operation_of(const rj::Value& args) {
  return index().find(string_arg(args, "id"));
}

std::string describe(const api_operation& op) {
  return "operation " + quoted(op.id) + " (" + op.method + " " + op.path + ")";
}

std::string unknown_id(const rj::Value& args) {
  return "unknown operation id " + quoted(string_arg(args, "id")) +
         "; search-ids finds operations by what they do";
}

std::string arguments_of(const rj::Value& args) {
  auto a = member(args, "arguments");
  return a != nullptr ? to_json(*a) : std::string{"{}"};
}

void add_operation(const api_operation& op, rj::Value& dst,
                   rj::Document::AllocatorType& alloc) {
  dst.AddMember("id", rj::Value(op.id.c_str(), alloc), alloc);
  dst.AddMember("method", rj::Value(op.method.c_str(), alloc), alloc);
  dst.AddMember("path", rj::Value(op.path.c_str(), alloc), alloc);
  dst.AddMember("summary", rj::Value(op.summary.c_str(), alloc), alloc);
  dst.AddMember("writes", op.writes, alloc);
  dst.AddMember("destructive", op.destructive, alloc);
}

// -- search-ids -----------------------------------------------------------------------

void build_local(const tool_spec&, const rj::Value&, operation& op) {
  op.backend = backend_kind::local;
}

bool shape_search(const tool_spec&, const std::vector<http_response>&,
                  const rj::Value& args, rj::Document& out) {
  auto& alloc = out.GetAllocator();
  rj::Value results(rj::kArrayType);
  auto limit = static_cast<std::size_t>(int_arg(args, "limit", 5));
  for (auto& hit : index().search(string_arg(args, "query"), limit)) {
    rj::Value item(rj::kObjectType);
    add_operation(*hit.operation, item, alloc);
    item.AddMember("score", hit.score, alloc);
    results.PushBack(item, alloc);
  }
  out.AddMember("results", results, alloc);
  return true;
}

// -- get-id ---------------------------------------------------------------------------

std::string check_known(const rj::Value& args) {
  return operation_of(args) != nullptr ? std::string{} : unknown_id(args);
}

bool shape_get(const tool_spec&, const std::vector<http_response>&,
               const rj::Value& args, rj::Document& out) {
  auto op = operation_of(args);
  if (op == nullptr)
    return false;
  auto& alloc = out.GetAllocator();
  add_operation(*op, out, alloc);
  rj::Document schema;
  schema.Parse(op->schema_json.c_str());
  if (schema.HasParseError())
    return false;
  out.AddMember("arguments_schema", rj::Value(schema, alloc), alloc);
  return true;
}

// -- call-id --------------------------------------------------------------------------

// The default exchange and amq.* belong to the broker, whichever tool asks.
bool deletes_builtin_exchange(const api_operation& op, const rj::Value& arguments) {
  if (op.method != "DELETE" || op.path.rfind("/api/exchanges/", 0) != 0)
    return false;
  auto name = string_arg(arguments, "name");
  return name.empty() || name == "amq.default" || name.rfind("amq.", 0) == 0;
}

std::string check_call(const rj::Value& args) {
  auto op = operation_of(args);
  if (op == nullptr)
    return unknown_id(args);
  auto arguments = member(args, "arguments");
  static const rj::Value empty(rj::kObjectType);
  if (deletes_builtin_exchange(*op, arguments ? *arguments : empty))
    return "the default exchange and amq.* exchanges belong to the broker and cannot "
           "be deleted";
  if (op->destructive && !bool_arg(args, "force"))
    return describe(*op) + " deletes or drops data; pass force: true to run it (the "
                           "direct tools delete_queue, purge_queue and delete_exchange "
                           "offer dry_run to see what would go first)";
  auto request = index().build(*op, arguments_of(args));
  return request ? std::string{} : message_of(request.error());
}

std::string call_writes(const rj::Value& args) {
  auto op = operation_of(args);
  return op != nullptr && op->writes ? describe(*op) + " changes the broker"
                                     : std::string{};
}

void build_call(const tool_spec&, const rj::Value& args, operation& op) {
  auto api_op = operation_of(args);
  if (api_op == nullptr)
    return;
  if (auto request = index().build(*api_op, arguments_of(args)))
    op.requests.push_back(std::move(*request));
  op.idempotent =
      api_op->method == "GET" || api_op->method == "PUT" || api_op->method == "DELETE";
}

std::string call_not_found(const rj::Value& args) {
  auto op = operation_of(args);
  return (op != nullptr ? describe(*op) : std::string{"the operation"}) +
         " found nothing at that path (404); check the names in its arguments";
}

// Any 2xx answer: the body as it came (null when empty), and the status.
bool shape_call(const tool_spec&, const std::vector<http_response>& answers,
                const rj::Value&, rj::Document& out) {
  auto& alloc = out.GetAllocator();
  auto& answer = answers.front();
  out.AddMember("status", answer.status, alloc);
  rj::Document body;
  if (answer.body.find_first_not_of(" \r\n\t") == std::string::npos) {
    out.AddMember("result", rj::Value(rj::kNullType), alloc);
    return true;
  }
  body.Parse<parse_flags>(answer.body.data(), answer.body.size());
  if (body.HasParseError())
    return false;
  // Bounded: an answer nested arbitrarily deep must not recurse the copy off the stack.
  out.AddMember("result", copy_bounded(body, alloc), alloc);
  return true;
}

tool_annotations search_hints(const char* title) {
  tool_annotations hints;
  hints.title = title;
  hints.open_world = false; // answered from warren's own index
  return hints;
}

} // namespace

const spec_list& discovery_tool_specs() {
  static const spec_list specs = [] {
    spec_list s;
    s.push_back(tool_spec{
        "search-ids",
        "Search the management API",
        "Find operations of the RabbitMQ management HTTP API by what they do, in plain "
        "words (\"export all definitions\", \"who is connected\", \"set a policy\"). "
        "Answers the best matches with their ids; get-id shows an operation's "
        "arguments and call-id runs it. Covers users, permissions, policies, "
        "parameters, shovels, federation, definitions, health checks and everything "
        "the direct tools do not.",
        object_schema(R"("query":{"type":"string","minLength":1,"maxLength":500,)"
                      R"("description":"what you want to do or know"},)"
                      R"("limit":{"type":"integer","minimum":1,"maximum":20,)"
                      R"("default":5})",
                      R"("query")"),
        R"({"type":"object","properties":{"results":{"type":"array","items":{)"
        R"("type":"object","properties":{"id":{"type":"string"},)"
        R"("method":{"type":"string"},"path":{"type":"string"},)"
        R"("summary":{"type":"string"},"writes":{"type":"boolean"},)"
        R"("destructive":{"type":"boolean"},"score":{"type":"number"}}}}},)"
        R"("required":["results"]})",
        build_local,
        nullptr,
        nullptr,
    });
    s.back().hints = search_hints("Search the management API");
    s.back().shape_answers = shape_search;
    s.push_back(tool_spec{
        "get-id",
        "Describe a management API operation",
        "Show one management API operation found with search-ids: method, path, what "
        "it does, whether it changes the broker, and the JSON Schema of the arguments "
        "call-id takes for it.",
        object_schema(R"("id":{"type":"string","minLength":1,"maxLength":200,)"
                      R"("description":"an id from search-ids"})",
                      R"("id")"),
        R"({"type":"object","properties":{"id":{"type":"string"},)"
        R"("method":{"type":"string"},"path":{"type":"string"},)"
        R"("summary":{"type":"string"},"writes":{"type":"boolean"},)"
        R"("destructive":{"type":"boolean"},"arguments_schema":{"type":"object"}},)"
        R"("required":["id","method","path","arguments_schema"]})",
        build_local,
        nullptr,
        nullptr,
        check_known,
    });
    s.back().hints = search_hints("Describe a management API operation");
    s.back().shape_answers = shape_get;
    s.push_back(tool_spec{
        "call-id",
        "Call a management API operation",
        "Run one management API operation by its id (from search-ids) with arguments "
        "that fit its schema (get-id). Operations that change the broker need warren "
        "started with --allow-writes; those that delete or drop data also need "
        "force: true. Answers the HTTP status and the API's JSON as it came.",
        object_schema(
            R"("id":{"type":"string","minLength":1,"maxLength":200},)"
            R"("arguments":{"type":"object","default":{},)"
            R"x("description":"path, query and body arguments (see get-id)"},)x"
            R"("force":{"type":"boolean","default":false,)"
            R"("description":"required for operations that delete data"})",
            R"("id")"),
        R"({"type":"object","properties":{"status":{"type":"integer"},"result":{}},)"
        R"("required":["status"]})",
        build_call,
        nullptr,
        call_not_found,
        check_call,
    });
    s.back().hints = change_hints("Call a management API operation", true, false);
    s.back().access = gate::by_arguments;
    s.back().writes_with = call_writes;
    s.back().shape_answers = shape_call;
    return s;
  }();
  return specs;
}

} // namespace warren::tools
