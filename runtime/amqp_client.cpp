// Placeholder until the rabbitmq-c client lands; every call fails clearly.
#include "runtime/amqp_client.hpp"

#include "protocol/error.hpp"

namespace warren {

struct amqp_client::impl {};

caf::expected<amqp_endpoint> parse_amqp_url(const std::string&) {
  return make_error(ec::internal, "AMQP is not available in this build");
}

amqp_client::amqp_client(amqp_endpoint, std::string) : impl_(std::make_unique<impl>()) {}
amqp_client::~amqp_client() = default;

caf::expected<amqp_response> amqp_client::publish(const amqp_publish&,
                                                  std::chrono::milliseconds) {
  return make_error(ec::internal, "AMQP is not available in this build");
}

caf::expected<amqp_response> amqp_client::get(const amqp_get&, std::chrono::milliseconds) {
  return make_error(ec::internal, "AMQP is not available in this build");
}

void amqp_client::abort() {}
bool amqp_client::connected() const { return false; }
void amqp_client::close() {}

} // namespace warren
