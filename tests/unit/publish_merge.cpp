#include "protocol/publish_merge.hpp"

#include <doctest/doctest.h>

using namespace warren;

namespace {

amqp_request single(const std::string& body) {
  amqp_request r;
  r.what = amqp_request::kind::publish;
  r.publish.routing_key = "q";
  r.publish.body = body;
  return r;
}

amqp_confirm confirm(amqp_confirm::status what, std::string text = {},
                     ec error = ec::none) {
  return {what, 0, std::move(text), error};
}

} // namespace

TEST_CASE("publish merge: only single publishes merge") {
  CHECK(mergeable(single("a")));
  amqp_request get;
  get.what = amqp_request::kind::get;
  CHECK_FALSE(mergeable(get));
  amqp_request batch;
  batch.what = amqp_request::kind::publish_batch;
  CHECK_FALSE(mergeable(batch));
}

TEST_CASE("publish merge: the merged request carries every message in order, all in "
          "flight at once") {
  auto merged = merge_publishes({single("a"), single("b"), single("c")});
  CHECK(merged.what == amqp_request::kind::publish_each);
  CHECK(merged.window == 3);
  REQUIRE(merged.batch.size() == 3);
  CHECK(merged.batch[0].body == "a");
  CHECK(merged.batch[2].body == "c");
  CHECK(merged.call == 0);
}

TEST_CASE("publish merge: each part gets what its publish alone would have got") {
  amqp_response r;
  r.backend_ns = 7;
  r.confirms = {confirm(amqp_confirm::status::confirmed),
                {amqp_confirm::status::returned, 312, "NO_ROUTE", ec::none},
                confirm(amqp_confirm::status::nacked),
                confirm(amqp_confirm::status::unknown,
                        "the connection failed; it may "
                        "or may not have been published",
                        ec::backend_unreachable),
                confirm(amqp_confirm::status::not_sent,
                        "priority must be between 0 "
                        "and 255; it was not published",
                        ec::invalid_params),
                confirm(amqp_confirm::status::not_sent, "did not confirm in time",
                        ec::backend_timeout)};
  auto parts = split_publishes(r, 6);
  REQUIRE(parts.size() == 6);
  REQUIRE(parts[0]);
  CHECK(parts[0]->result == amqp_response::outcome::confirmed);
  CHECK(parts[0]->backend_ns == 7);
  REQUIRE(parts[1]);
  CHECK(parts[1]->result == amqp_response::outcome::returned);
  CHECK(parts[1]->reply_code == 312);
  CHECK(parts[1]->reply_text == "NO_ROUTE");
  REQUIRE(parts[2]);
  CHECK(parts[2]->result == amqp_response::outcome::nacked);
  REQUIRE_FALSE(parts[3]);
  CHECK(code_of(parts[3].error()) == ec::backend_unreachable);
  CHECK(message_of(parts[3].error()).find("may or may not") != std::string::npos);
  REQUIRE_FALSE(parts[4]);
  CHECK(code_of(parts[4].error()) == ec::invalid_params);
  REQUIRE_FALSE(parts[5]);
  CHECK(code_of(parts[5].error()) == ec::backend_timeout);
}

TEST_CASE("publish merge: a merged call that failed as a whole fails every part, and "
          "a part the answer does not name is not called published") {
  auto failed =
      split_publishes(make_error(ec::backend_unreachable, "nothing was published"), 3);
  REQUIRE(failed.size() == 3);
  for (auto& p : failed) {
    REQUIRE_FALSE(p);
    CHECK(message_of(p.error()) == "nothing was published");
  }
  amqp_response short_answer;
  short_answer.confirms = {confirm(amqp_confirm::status::confirmed)};
  auto parts = split_publishes(short_answer, 2);
  CHECK(parts[0]);
  REQUIRE_FALSE(parts[1]);
  CHECK(message_of(parts[1].error()).find("unknown") != std::string::npos);
}
