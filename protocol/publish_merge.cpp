#include "protocol/publish_merge.hpp"

#include <string>

namespace warren {

bool mergeable(const amqp_request& request) {
  return request.what == amqp_request::kind::publish;
}

amqp_request merge_publishes(std::vector<amqp_request> parts) {
  amqp_request merged;
  merged.what = amqp_request::kind::publish_each;
  merged.window = static_cast<uint32_t>(parts.size());
  merged.batch.reserve(parts.size());
  for (auto& part : parts)
    merged.batch.push_back(std::move(part.publish));
  return merged;
}

namespace {

caf::expected<amqp_response> single(const amqp_confirm& c, uint64_t backend_ns) {
  amqp_response r;
  r.backend_ns = backend_ns;
  switch (c.what) {
  case amqp_confirm::status::confirmed:
    return r;
  case amqp_confirm::status::returned:
    r.result = amqp_response::outcome::returned;
    r.reply_code = c.reply_code;
    r.reply_text = c.reply_text;
    return r;
  case amqp_confirm::status::nacked:
    r.result = amqp_response::outcome::nacked;
    return r;
  case amqp_confirm::status::not_sent:
  case amqp_confirm::status::unknown:
    break;
  }
  return make_error(c.error == ec::none ? ec::backend_unreachable : c.error,
                    c.reply_text);
}

} // namespace

std::vector<caf::expected<amqp_response>>
split_publishes(const caf::expected<amqp_response>& outcome, std::size_t parts) {
  std::vector<caf::expected<amqp_response>> out;
  out.reserve(parts);
  for (std::size_t i = 0; i < parts; ++i) {
    if (!outcome)
      out.emplace_back(outcome.error());
    else if (i < outcome->confirms.size())
      out.push_back(single(outcome->confirms[i], outcome->backend_ns));
    else
      out.emplace_back(
          make_error(ec::internal, "the broker's answer to " + std::to_string(parts) +
                                       " publishes sent together named only " +
                                       std::to_string(outcome->confirms.size()) +
                                       "; whether this one was published is unknown"));
  }
  return out;
}

} // namespace warren
