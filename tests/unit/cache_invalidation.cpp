#include "protocol/cache_invalidation.hpp"

#include <doctest/doctest.h>

using namespace warren;

TEST_CASE("an invalidation message carries its origin and prefixes, and reads back") {
  auto body = invalidation_message("a1", {"queues:list:/:", "queues:get:/:or\"ders"});
  std::vector<std::string> prefixes;
  REQUIRE(parse_invalidation(body, "b2", prefixes));
  CHECK(prefixes ==
        std::vector<std::string>{"queues:list:/:", "queues:get:/:or\"ders"});
}

TEST_CASE("an instance ignores its own invalidations and anything malformed") {
  std::vector<std::string> prefixes;
  CHECK_FALSE(parse_invalidation(invalidation_message("me", {"x"}), "me", prefixes));
  CHECK_FALSE(parse_invalidation("not json", "me", prefixes));
  CHECK_FALSE(parse_invalidation(R"({"origin":"x"})", "me", prefixes));
  CHECK_FALSE(parse_invalidation(R"({"origin":"x","prefixes":[]})", "me", prefixes));
  CHECK_FALSE(parse_invalidation(R"({"origin":1,"prefixes":["a"]})", "me", prefixes));
}
