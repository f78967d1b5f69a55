#include "protocol/base64.hpp"

#include <doctest/doctest.h>

using namespace warren;

TEST_CASE("base64_encode pads to whole groups of four") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\x00\xFF\xFE", 3)) == "AP/+");
}

TEST_CASE("base64_decode inverts base64_encode for every byte value") {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  for (std::size_t n = 0; n < 5; ++n)
    CHECK(base64_decode(base64_encode(all.substr(n))) == all.substr(n));
}

TEST_CASE("base64_decode refuses text that is not canonical base64") {
  CHECK_FALSE(base64_decode("Zg="));   // length
  CHECK_FALSE(base64_decode("Zg!="));  // alphabet
  CHECK_FALSE(base64_decode("Z==="));  // too much padding
  CHECK_FALSE(base64_decode("Zh=="));  // leftover bits set
  CHECK_FALSE(base64_decode("Zm 9v")); // whitespace
  CHECK_FALSE(base64_decode("=Zm9"));  // padding first
  CHECK(base64_decode("") == std::string{});
}
