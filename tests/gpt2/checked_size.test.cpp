#include "checked_size.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <vector>

TEST_CASE("checked sizes add and multiply as size_t does, and throw where it would wrap") {
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  CHECK((gpt2::checked_size(6) * 7 + 3).value() == 45);
  CHECK((gpt2::checked_size(max) * 1 + 0).value() == max);
  CHECK((gpt2::checked_size(0) * max).value() == 0);
  CHECK_THROWS_AS(gpt2::checked_size(max) + 1, std::overflow_error);
  CHECK_THROWS_AS(gpt2::checked_size(std::size_t{1} << 32) * (std::size_t{1} << 32), std::overflow_error);
  CHECK(gpt2::checked_product(std::vector<std::size_t>{}).value() == 1);
  CHECK(gpt2::checked_product(std::vector<std::size_t>{3, 0, max}).value() == 0);
  CHECK_THROWS_AS(gpt2::checked_product(std::vector<std::size_t>{max / 2, 3}), std::overflow_error);
}

TEST_CASE("require_memory refuses more than the machine has, naming what and how much") {
  const std::size_t memory = gpt2::physical_memory_bytes();
  REQUIRE(memory > 0);
  CHECK_NOTHROW(gpt2::require_memory(memory, "all of it"));
  CHECK_THROWS_WITH_AS(gpt2::require_memory(gpt2::checked_size(memory) + 1, "one byte more"),
                       doctest::Contains("pot: one byte more needs "), std::length_error);
  CHECK(gpt2::format_bytes(999) == "999 bytes");
  CHECK(gpt2::format_bytes(1500) == "1.5 kB");
  CHECK(gpt2::format_bytes(425.9e12) == "425.9 TB");
}
