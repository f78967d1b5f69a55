#pragma once

#include <cstddef>
#include <vector>

#include <caf/expected.hpp>

#include "protocol/amqp_message.hpp"

namespace warren {

// Single publishes that wait for an AMQP connection go out together: one
// publish_each call, one confirm window, and each caller still gets the answer its
// publish alone would have had. This is what lets many concurrent publish_message
// calls share a few connections without each waiting for its own confirm in turn.

/// Whether `request` may be sent together with others: a single publish.
bool mergeable(const amqp_request& request);

/// One publish_each carrying the parts' messages in their order, all of them in
/// flight at once (the window is their number). The parts must be mergeable and go
/// to one vhost.
amqp_request merge_publishes(std::vector<amqp_request> parts);

/// What each of `parts` merged calls gets from the merged call's outcome: the
/// response of a single publish (confirmed, returned or nacked), or its error (a
/// message not sent or never confirmed, with the reason and the error code a single
/// publish would have had). A merged call that failed as a whole fails every part.
std::vector<caf::expected<amqp_response>>
split_publishes(const caf::expected<amqp_response>& outcome, std::size_t parts);

} // namespace warren
