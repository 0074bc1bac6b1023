#include "strict_number.hpp"

#include <doctest/doctest.h>

#include <cstdint>

TEST_CASE("counts are decimal digits only: no sign, space, trailing text or overflow") {
  CHECK(gpt2::parse_strict_number<std::size_t>("0") == 0u);
  CHECK(gpt2::parse_strict_number<std::size_t>("18446744073709551615") == 18446744073709551615u);
  // std::stoull took "-1" as 2^64 - 1 and " 1" as 1.
  for (const char* text : {"-1", " 1", "1 ", "+1", "", "1e3", "0x10", "18446744073709551616", "one"}) {
    CAPTURE(text);
    CHECK_FALSE(gpt2::parse_strict_number<std::size_t>(text).has_value());
  }
  CHECK(gpt2::parse_strict_number<std::int32_t>("-7") == -7);
  CHECK_FALSE(gpt2::parse_strict_number<std::int32_t>("2147483648").has_value());
}

TEST_CASE("reals are finite") {
  CHECK(gpt2::parse_strict_number<double>("1e-3") == 1e-3);
  CHECK(gpt2::parse_strict_number<double>("-0.5") == -0.5);
  for (const char* text : {"nan", "inf", "-inf", "1e400", "1.5x", " 1", ""}) {
    CAPTURE(text);
    CHECK_FALSE(gpt2::parse_strict_number<double>(text).has_value());
  }
}
