// The compile-time facts and the text of pot types: policies, product and integer result
// types, traits, std::numeric_limits, printing and error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "pot/core/io.hpp"
#include "pot/core/limits.hpp"
#include "pot/core/pot.hpp"
#include "pot/core/traits.hpp"

namespace {

using pot::rounding;
using pot::zero_code;
using paper = pot::pot<4, 0, 7>;

template <class P>
std::string printed(P p) {
  std::ostringstream out;
  out << p;
  return out.str();
}

}  // namespace

TEST_CASE("format parameters, storage and the zero policy") {
  static_assert(paper::bits == 4 && paper::min_exponent == 0 && paper::max_exponent == 7);
  static_assert(paper::exponent_count == 8);
  static_assert(!paper::has_zero);  // 8 exponents fill the 3 index bits
  static_assert(paper::rounding_policy == rounding::log);
  static_assert(std::is_same_v<paper::code_type, std::uint8_t>);
  static_assert(std::is_same_v<pot::pot<9, 0, 7>::code_type, std::uint16_t>);
  static_assert(pot::pot<4, 0, 6>::has_zero);
  static_assert(!pot::pot<4, 0, 6, rounding::log, zero_code::none>::has_zero);
  static_assert(pot::pot<2, 5, 5, rounding::log, zero_code::flush>::has_zero);
  static_assert(pot::pot<16, -1022, 1023>::has_zero);  // 2046 exponents of 32768 indices
  CHECK(pot::pot<4, 0, 6>::from_code(0b0111).is_zero());
  CHECK(pot::pot<4, 0, 6>().is_zero());
  CHECK(static_cast<double>(paper()) == 1.0);
  CHECK(static_cast<double>(pot::pot<3, -2, 1, rounding::log, zero_code::none>()) == 0.25);
}

TEST_CASE("the API is usable in constant expressions") {
  constexpr paper p(-5.0);
  static_assert(p.is_negative() && p.exponent() == 2 && p.code() == 0b1010);
  static_assert(static_cast<double>(p * p) == 16.0);
  static_assert(p * 3 == -12);
  static_assert(p * 0.5f == -2.0f);
  static_assert(-17 / abs(p) == -4);  // -4.25 rounds to -4
  static_assert(paper::from_code(0b0011) == paper(8.0f));
  CHECK(p.exponent_index() == 2);
}

TEST_CASE("from_code rejects codes without a value and names them") {
  using narrow = pot::pot<4, 0, 5>;  // indices 6 unused, 7 is zero
  CHECK_THROWS_AS(narrow::from_code(0b0110), std::invalid_argument);
  CHECK_THROWS_AS(narrow::from_code(0b1111), std::invalid_argument);  // no negative zero
  CHECK_THROWS_AS(narrow::from_code(0b10000), std::invalid_argument);  // wider than 4 bits
  try {
    static_cast<void>(narrow::from_code(0b1111));
    FAIL("from_code(0b1111) did not throw");
  } catch (const std::invalid_argument& error) {
    CHECK(std::string(error.what()) == "pot: code 15 has no value in pot<4,0,5,log,zero>");
  }
}

TEST_CASE("product types widen at compile time") {
  static_assert(std::is_same_v<pot::product_t<paper, paper>,
                               pot::pot<5, 0, 14, rounding::log, zero_code::none>>);
  // 15 exponents plus zero need 4 index bits.
  using with_zero = pot::pot<4, 0, 6>;
  static_assert(std::is_same_v<pot::product_t<with_zero, paper>,
                               pot::pot<5, 0, 13, rounding::log, zero_code::flush>>);
  // 8 exponents plus zero need 4 index bits.
  static_assert(std::is_same_v<pot::product_t<pot::pot<2, 0, 0, rounding::linear>, paper>,
                               pot::pot<5, 0, 7, rounding::linear, zero_code::flush>>);
  static_assert(std::is_same_v<pot::product_t<pot::pot<2, 1, 1, rounding::log, zero_code::none>,
                                              pot::pot<2, 2, 2, rounding::log, zero_code::none>>,
                               pot::pot<2, 3, 3, rounding::log, zero_code::none>>);
  static_assert(std::is_same_v<decltype(paper() * std::int8_t{}), std::int16_t>);
  static_assert(std::is_same_v<decltype(paper() * std::uint8_t{}), std::int16_t>);
  static_assert(std::is_same_v<decltype(paper() * std::int16_t{}), std::int32_t>);
  static_assert(std::is_same_v<decltype(paper() * std::int32_t{}), std::int64_t>);
  static_assert(std::is_same_v<decltype(std::int8_t{} * pot::pot<5, 0, 8>()), std::int32_t>);
  static_assert(std::is_same_v<decltype(paper() * 1.0f), float>);
  static_assert(std::is_same_v<decltype(1.0 * paper()), double>);
  static_assert(std::is_same_v<decltype(std::int8_t{} / paper()), std::int8_t>);
}

TEST_CASE("a zero pot in float products acts as +0.0") {
  using with_zero = pot::pot<4, 0, 6>;
  const with_zero zero;
  CHECK(std::isnan(zero * std::numeric_limits<float>::infinity()));
  CHECK(std::signbit(zero * -3.0));
  CHECK(!std::signbit(zero * 3.0f));
  CHECK((zero * -3) == 0);
  CHECK_THROWS_AS(7 / zero, std::domain_error);
}

TEST_CASE("integer division rounds to nearest with ties away from zero") {
  const paper four(4.0);
  CHECK(6 / four == 2);    // 1.5
  CHECK(-6 / four == -2);  // -1.5
  CHECK(5 / four == 1);    // 1.25
  CHECK(-7 / four == -2);  // -1.75
  CHECK(7 / -four == -2);
  CHECK(-2 / four == -1);  // -0.5
  CHECK(1 / four == 0);    // 0.25
  CHECK_THROWS_AS(std::int8_t{-128} / paper(-1.0), std::overflow_error);
  CHECK(std::int8_t{-128} / paper(1.0) == -128);
}

TEST_CASE("traits recognise pot types only") {
  static_assert(pot::is_pot_v<paper>);
  static_assert(pot::is_pot_v<const pot::pot<8, -64, 63, rounding::linear>>);
  static_assert(!pot::is_pot_v<float>);
  static_assert(!pot::is_pot_v<paper&>);
  static_assert(pot::pot_type<pot::product_t<paper, paper>>);
  static_assert(!pot::pot_type<std::int8_t>);
  CHECK(pot::type_tag<paper>() == "pot<4,0,7,log,nozero>");
  CHECK(pot::type_tag(pot::pot<3, -2, 0, rounding::linear>()) == "pot<3,-2,0,linear,zero>");
}

TEST_CASE("printing values and code bits") {
  CHECK(printed(paper(-8.0)) == "-8");
  CHECK(printed(paper(1.0)) == "1");
  CHECK(printed(pot::pot<4, -3, 2>(0.25)) == "0.25");
  CHECK(printed(pot::pot<4, -3, 2>(0.0)) == "0");
  CHECK(printed(pot::pot<2, -1022, -1021>(-1e-308)) == "-2.2250738585072014e-308");
  CHECK(pot::to_binary(paper(-8.0)) == "0b1.011");
  CHECK(pot::to_binary(paper(1.0)) == "0b0.000");
  CHECK(pot::to_binary(pot::pot<4, 0, 6>()) == "0b0.111");
  CHECK(pot::to_binary(pot::pot<9, 0, 200>(-2.0)) == "0b1.00000001");
}

TEST_CASE("numeric_limits of pot types") {
  using limits = std::numeric_limits<paper>;
  static_assert(limits::is_specialized && limits::is_signed && !limits::is_integer);
  static_assert(!limits::is_exact && limits::radix == 2 && limits::digits == 1);
  static_assert(!limits::has_infinity && !limits::has_quiet_NaN && !limits::has_signaling_NaN);
  static_assert(limits::round_style == std::round_to_nearest && limits::is_bounded);
  CHECK(static_cast<double>(limits::min()) == 1.0);
  CHECK(static_cast<double>(limits::max()) == 128.0);
  CHECK(static_cast<double>(limits::lowest()) == -128.0);
  CHECK(static_cast<double>(limits::epsilon()) == 1.0);
  CHECK(static_cast<double>(limits::round_error()) == 1.0);  // 2^-1 clamped to 2^0
  CHECK(limits::min_exponent == 1);
  CHECK(limits::max_exponent == 8);
  CHECK(limits::min_exponent10 == 0);
  CHECK(limits::max_exponent10 == 2);  // 10^2 <= 128 < 10^3

  using fine = std::numeric_limits<pot::pot<8, -64, 63, rounding::linear>>;
  CHECK(static_cast<double>(fine::min()) == 0x1p-64);
  CHECK(static_cast<double>(fine::round_error()) == 0.5);
  CHECK(fine::min_exponent10 == -19);  // 2^-64 = 5.4e-20
  CHECK(fine::max_exponent10 == 18);   // 2^63 = 9.2e18

  // The range of double's normal exponents: the same convention as double's own members.
  using extreme = std::numeric_limits<pot::pot<12, -1022, 1023>>;
  CHECK(extreme::min_exponent == std::numeric_limits<double>::min_exponent);
  CHECK(extreme::max_exponent == std::numeric_limits<double>::max_exponent);
  CHECK(extreme::min_exponent10 == std::numeric_limits<double>::min_exponent10);
  CHECK(extreme::max_exponent10 == 307);  // 2^1023 = 8.99e307, below double's max 1.8e308
  CHECK(static_cast<double>(extreme::min()) == std::numeric_limits<double>::min());

  using above_one = std::numeric_limits<pot::pot<4, 2, 5, rounding::log, zero_code::flush>>;
  CHECK(static_cast<double>(above_one::epsilon()) == 4.0);
}
