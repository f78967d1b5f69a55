#include "actors/interfaces.hpp"

#include "protocol/error.hpp"

namespace warren {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<http_request>("warren::http_request");
  cfg.add_message_type<http_response>("warren::http_response");
  cfg.add_message_type<tool_call>("warren::tool_call");
  cfg.add_message_type<amqp_request>("warren::amqp_request");
  cfg.add_message_type<cache_answer>("warren::cache_answer");
  cfg.add_message_type<std::vector<std::string>>("std::vector<std::string>");
  cfg.add_message_type<amqp_response>("warren::amqp_response");
  cfg.add_message_type<tool_result>("warren::tool_result");
  cfg.add_message_type<figure>("warren::figure");
  cfg.add_message_type<actor_status>("warren::actor_status");
  cfg.add_error_category(error_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           std::string out = "warren::";
                           out += to_string(static_cast<ec>(code));
                           if (ctx.match_elements<std::string>()) {
                             out += ": ";
                             out += ctx.get_as<std::string>(0);
                           }
                           return out;
                         });
}

} // namespace warren
