// Rounding of floats and doubles to powers of two, checked against a reference computed a
// different way (long double comparisons instead of integer significands), then
// saturation, zero, ±inf, NaN and checked() through pot types.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <ios>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "pot/core/pot.hpp"
#include "pot/core/rounding.hpp"
#include "pot_formats.hpp"

namespace {

using pot::rounding;

// floor(log2 |x|) from frexp: |x| = f * 2^n with f in [0.5, 1).
int floor_log2(long double x) {
  int n = 0;
  static_cast<void>(std::frexp(x, &n));
  return n - 1;
}

// The exponent nearest |x| (x finite, non-zero): log domain compares x^2 with 2 * 4^k,
// linear domain compares the distances to 2^k and 2^(k+1) (a tie goes up). Both are exact
// in long double: x^2 of a float is exact, and no double's square lies within long
// double's rounding error of 2 * 4^k (the nearest double significand is 0.23 ulp from sqrt 2).
template <rounding Rounding>
int reference_exponent(long double x) {
  const long double magnitude = std::fabs(x);
  const int k = floor_log2(magnitude);
  const long double lower = std::ldexp(1.0L, k);
  const long double upper = std::ldexp(1.0L, k + 1);
  bool up = false;
  if constexpr (Rounding == rounding::log) {
    up = magnitude * magnitude >= 2 * lower * lower;
  } else {
    up = upper - magnitude <= magnitude - lower;
  }
  return k + (up ? 1 : 0);
}

template <rounding Rounding, class F>
void check_rounding(F x) {
  const pot::rounded_power rounded = pot::round_to_power_of_two<Rounding>(x);
  REQUIRE(rounded.kind == pot::float_kind::finite);
  CHECK(rounded.negative == std::signbit(x));
  if (rounded.exponent != reference_exponent<Rounding>(x)) {
    FAIL_CHECK(std::hexfloat << x << " rounded to 2^" << rounded.exponent << ", expected 2^"
                             << reference_exponent<Rounding>(x));
  }
}

// The floats nearest `threshold` (long double), two on each side, both signs.
template <class F>
void check_around(long double threshold) {
  const F nearest = static_cast<F>(threshold);
  const F below = std::nextafter(nearest, F(0));
  const F above = std::nextafter(nearest, std::numeric_limits<F>::infinity());
  for (const F x : {std::nextafter(below, F(0)), below, nearest, above,
                    std::nextafter(above, std::numeric_limits<F>::infinity())}) {
    if (std::isfinite(x) && x != 0) {
      check_rounding<rounding::log>(x);
      check_rounding<rounding::linear>(x);
      check_rounding<rounding::log>(-x);
      check_rounding<rounding::linear>(-x);
    }
  }
}

template <class F>
void check_every_exponent_threshold() {
  using limits = std::numeric_limits<F>;
  const int least = limits::min_exponent - limits::digits;  // the denorm_min exponent
  for (int k = least; k < limits::max_exponent; ++k) {
    check_around<F>(std::sqrt(2.0L) * std::ldexp(1.0L, k));
    check_around<F>(1.5L * std::ldexp(1.0L, k));
    check_around<F>(std::ldexp(1.0L, k));
  }
}

template <class F, class Bits>
void check_random_rounding(std::size_t count) {
  for (const F x : pot_test::float_sample<F, Bits>(count)) {
    if (std::isfinite(x) && x != 0) {
      check_rounding<rounding::log>(x);
      check_rounding<rounding::linear>(x);
    }
  }
}

// What docs/number-format.md says P(x) is, from the reference exponent.
template <class P, class F>
long double reference_conversion(F x) {
  const long double least = std::ldexp(1.0L, P::min_exponent);
  const long double greatest = std::ldexp(1.0L, P::max_exponent);
  const long double sign = std::signbit(x) ? -1.0L : 1.0L;
  if (std::isnan(x)) {
    return P::has_zero ? 0.0L : least;
  }
  if (x == 0) {
    return P::has_zero ? 0.0L : sign * least;
  }
  if (std::isinf(x)) {
    return sign * greatest;
  }
  const int e = reference_exponent<P::rounding_policy>(x);
  if (e > P::max_exponent) {
    return sign * greatest;
  }
  if (e < P::min_exponent) {
    return P::has_zero ? 0.0L : sign * least;
  }
  return sign * std::ldexp(1.0L, e);
}

template <class P, class F, class Bits>
void check_conversions(std::size_t random_count) {
  auto sample = pot_test::float_sample<F, Bits>(random_count);
  // Values around every threshold inside and just outside the format's range.
  for (int k = P::min_exponent - 2; k <= P::max_exponent + 1; ++k) {
    for (const long double t : {std::sqrt(2.0L), 1.5L, 1.0L}) {
      const F nearest = static_cast<F>(t * std::ldexp(1.0L, k));
      sample.push_back(nearest);
      sample.push_back(std::nextafter(nearest, F(0)));
      sample.push_back(std::nextafter(nearest, std::numeric_limits<F>::infinity()));
      sample.push_back(-nearest);
    }
  }
  for (const F x : sample) {
    const P p(x);
    const long double expected = reference_conversion<P>(x);
    if (static_cast<long double>(static_cast<double>(p)) != expected) {
      FAIL_CHECK(std::hexfloat << x << " converted to " << static_cast<double>(p)
                               << ", expected " << static_cast<double>(expected));
    }
  }
}

}  // namespace

TEST_CASE("rounding around sqrt(2)*2^k, 1.5*2^k and 2^k for every float and double exponent") {
  check_every_exponent_threshold<float>();
  check_every_exponent_threshold<double>();
}

TEST_CASE("rounding of random floats and doubles") {
  const std::size_t count = pot_test::sanitized_build ? 20000 : 200000;
  check_random_rounding<float, std::uint32_t>(count);
  check_random_rounding<double, std::uint64_t>(count);
}

TEST_CASE("rounding classifies zero, infinity and NaN") {
  using limits = std::numeric_limits<double>;
  CHECK(pot::round_to_power_of_two<rounding::log>(0.0).kind == pot::float_kind::zero);
  CHECK(pot::round_to_power_of_two<rounding::log>(-0.0f).negative);
  CHECK(pot::round_to_power_of_two<rounding::linear>(-limits::infinity()).kind ==
        pot::float_kind::infinite);
  CHECK(pot::round_to_power_of_two<rounding::linear>(-limits::infinity()).negative);
  CHECK(pot::round_to_power_of_two<rounding::log>(limits::quiet_NaN()).kind == pot::float_kind::nan);
}

TEST_CASE("linear ties go away from zero; log has no ties") {
  using lin = pot::pot<5, -8, 7, rounding::linear>;
  CHECK(static_cast<double>(lin(1.5)) == 2.0);
  CHECK(static_cast<double>(lin(-1.5f)) == -2.0);
  CHECK(static_cast<double>(lin(0.375)) == 0.5);
  CHECK(static_cast<double>(lin(std::nextafter(1.5, 0.0))) == 1.0);
  using log = pot::pot<5, -8, 7>;
  CHECK(static_cast<double>(log(1.4142135623730951)) == 2.0);  // the double above sqrt(2)
  CHECK(static_cast<double>(log(1.4142135623730949)) == 1.0);  // the double below
}

TEST_CASE("the reference's float32 sqrt(2) threshold differs on exactly one float mantissa") {
  // PyTorch's reference compares with float32(sqrt 2) = 0x3FB504F3, just below sqrt(2);
  // that float rounds down here and up there. Its successor rounds up in both.
  using paper = pot::pot<4, 0, 7>;
  const float reference_threshold = std::bit_cast<float>(std::uint32_t{0x3FB504F3});
  CHECK(static_cast<long double>(reference_threshold) < std::sqrt(2.0L));
  CHECK(static_cast<double>(paper(reference_threshold)) == 1.0);
  CHECK(static_cast<double>(paper(std::nextafter(reference_threshold, 2.0f))) == 2.0);
  CHECK(static_cast<double>(paper(std::ldexp(reference_threshold, 3))) == 8.0);
}

TEST_CASE("worked examples of pot<4, 0, 7> from docs/number-format.md") {
  using paper = pot::pot<4, 0, 7>;
  CHECK(static_cast<double>(paper(0.9)) == 1.0);
  CHECK(static_cast<double>(paper(1.42)) == 2.0);
  CHECK(static_cast<double>(paper(-1.41)) == -1.0);
  CHECK(static_cast<double>(paper(200.0)) == 128.0);
  CHECK(static_cast<double>(paper(0.0)) == 1.0);
  CHECK(static_cast<double>(paper(-0.0)) == -1.0);
  CHECK(static_cast<double>(paper(std::numeric_limits<double>::quiet_NaN())) == 1.0);
  CHECK(static_cast<double>(paper(-std::numeric_limits<float>::infinity())) == -128.0);
  CHECK(static_cast<double>(paper(1e-30)) == 1.0);
  CHECK(static_cast<double>(paper(-1e-30f)) == -1.0);
  using with_zero = pot::pot<4, 0, 6>;
  CHECK(static_cast<double>(with_zero(0.70)) == 0.0);   // rounds to 2^-1, below MinExp
  CHECK(static_cast<double>(with_zero(0.71)) == 1.0);   // rounds to 2^0
  CHECK(static_cast<double>(with_zero(-0.0)) == 0.0);
  CHECK(!std::signbit(static_cast<double>(with_zero(-0.0))));
  CHECK(static_cast<double>(with_zero(std::numeric_limits<double>::quiet_NaN())) == 0.0);
  CHECK(static_cast<double>(with_zero(1e300)) == 64.0);
}

TEST_CASE("checked() throws on NaN and otherwise converts as the constructor") {
  using paper = pot::pot<4, 0, 7>;
  try {
    static_cast<void>(paper::checked(std::numeric_limits<double>::quiet_NaN()));
    FAIL("checked(NaN) did not throw");
  } catch (const std::domain_error& error) {
    CHECK(std::string(error.what()) == "pot: cannot convert NaN to pot<4,0,7,log,nozero>");
  }
  CHECK(paper::checked(3.0) == paper(3.0));
  CHECK(paper::checked(-std::numeric_limits<double>::infinity()) == paper(-128.0));
}

TEST_CASE_TEMPLATE_DEFINE("conversion saturates, flushes and clamps as documented", P, conversions) {
  const std::size_t count = pot_test::sanitized_build ? 2000 : 20000;
  check_conversions<P, float, std::uint32_t>(count);
  check_conversions<P, double, std::uint64_t>(count);
}
TEST_CASE_TEMPLATE_APPLY(conversions, pot_test::all_formats);
