#include "protocol/management_api.hpp"

#include <doctest/doctest.h>

using namespace warren;

TEST_CASE("percent_encode keeps unreserved characters and encodes the rest") {
  CHECK(percent_encode("orders-1_a.b~c") == "orders-1_a.b~c");
  CHECK(percent_encode("/") == "%2F");
  CHECK(percent_encode("a b#c%d?e&f=g+h") == "a%20b%23c%25d%3Fe%26f%3Dg%2Bh");
  CHECK(percent_encode("\xC3\xA9") == "%C3%A9");
  CHECK(percent_encode(std::string_view{"\0x", 2}) == "%00x");
  CHECK(percent_encode("") == "");
}

TEST_CASE("percent_encode leaves the characters asked for") {
  CHECK(percent_encode("name,vhost", ",") == "name,vhost");
  CHECK(percent_encode("name,vhost") == "name%2Cvhost");
}

TEST_CASE("query_string joins encoded parameters in order") {
  CHECK(query_string({}) == "");
  CHECK(query_string({{"page", "1"}}) == "?page=1");
  CHECK(query_string({{"name", "a&b=c"}, {"columns", "x,y", ","}}) ==
        "?name=a%26b%3Dc&columns=x,y");
}

TEST_CASE("page_count_for rounds up and is zero for no items") {
  CHECK(page_count_for(0, 100) == 0);
  CHECK(page_count_for(1, 100) == 1);
  CHECK(page_count_for(100, 100) == 1);
  CHECK(page_count_for(101, 100) == 2);
  CHECK(page_count_for(5, 0) == 0);
}

TEST_CASE(
    "binding_properties_key matches RabbitMQ's names for argument-less bindings") {
  CHECK(binding_properties_key("") == "~");
  CHECK(binding_properties_key("orders.created") == "orders.created");
  CHECK(binding_properties_key("a b") == "a+b");
  CHECK(binding_properties_key("a~b") == "a%7Eb");
  CHECK(binding_properties_key("#.*/x") == "%23.%2A%2Fx");
  CHECK(binding_properties_key("\xC3\xA9") == "%C3%A9");
}
