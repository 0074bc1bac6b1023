// The pot formats every exhaustive core test walks: for each Bits in 2..8, full code
// spaces with and without a zero, narrow ranges with unused codes, negative exponents,
// both rounding policies, and ranges at the edges of double (and float's subnormals).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <tuple>
#include <vector>

#include "pot/core/pot.hpp"

namespace pot_test {

using pot::rounding;
using pot::zero_code;

using all_formats = std::tuple<
    pot::pot<2, 0, 1>, pot::pot<2, 0, 0>, pot::pot<2, -1, 0, rounding::linear>,
    pot::pot<2, 3, 3, rounding::log, zero_code::none>,
    pot::pot<3, 0, 3>, pot::pot<3, -2, 0>, pot::pot<3, -1, 2, rounding::linear>,
    pot::pot<3, 1, 2, rounding::log, zero_code::none>,
    pot::pot<3, -4, -3, rounding::linear, zero_code::flush>,
    pot::pot<4, 0, 7>, pot::pot<4, 0, 7, rounding::linear>, pot::pot<4, 0, 6>,
    pot::pot<4, -3, 3, rounding::linear, zero_code::flush>, pot::pot<4, -8, -1>,
    pot::pot<4, 2, 5, rounding::log, zero_code::none>,
    pot::pot<5, 0, 15>, pot::pot<5, -7, 7, rounding::linear>, pot::pot<5, 0, 14>,
    pot::pot<5, -20, -10, rounding::linear, zero_code::none>,
    pot::pot<6, -16, 15>, pot::pot<6, -10, 20, rounding::linear>, pot::pot<6, 0, 31, rounding::linear>,
    pot::pot<7, -32, 31>, pot::pot<7, 0, 62, rounding::linear>, pot::pot<7, -160, -100>,
    pot::pot<8, -64, 63>, pot::pot<8, -60, 60, rounding::linear>, pot::pot<8, 0, 126>,
    pot::pot<8, -1022, -896>, pot::pot<8, 896, 1023, rounding::linear>,
    pot::pot<8, 0, 40, rounding::log, zero_code::none>>;

// Sanitizer builds run a smaller random sample so the suite stays under a minute there.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized_build = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
inline constexpr bool sanitized_build = true;
#else
inline constexpr bool sanitized_build = false;
#endif
#else
inline constexpr bool sanitized_build = false;
#endif

/// What a code of P means under the layout of docs/number-format.md, derived from the
/// code bits alone.
template <class P>
struct code_meaning {
  bool valid;
  long double value;
};

template <class P>
code_meaning<P> meaning_of_code(unsigned code) {
  const unsigned index_mask = (1u << (P::bits - 1)) - 1;
  const bool negative = (code >> (P::bits - 1)) != 0;
  const unsigned index = code & index_mask;
  const bool room = P::exponent_count < (1 << (P::bits - 1));
  if (code >= (1u << P::bits)) {
    return {false, 0.0L};
  }
  if (index < static_cast<unsigned>(P::exponent_count)) {
    const long double magnitude = std::ldexp(1.0L, P::min_exponent + static_cast<int>(index));
    return {true, negative ? -magnitude : magnitude};
  }
  if (P::has_zero && room && !negative && index == index_mask) {
    return {true, 0.0L};
  }
  return {false, 0.0L};
}

/// Every valid pot of P, found by walking the whole code space.
template <class P>
std::vector<P> every_value() {
  std::vector<P> values;
  for (unsigned code = 0; code < (1u << P::bits); ++code) {
    if (meaning_of_code<P>(code).valid) {
      values.push_back(P::from_code(static_cast<typename P::code_type>(code)));
    }
  }
  return values;
}

/// Floats of type F: the special values first, then random bit patterns (every exponent,
/// sign, subnormals, inf and NaN alike).
template <class F, class Bits>
std::vector<F> float_sample(std::size_t random_count) {
  using limits = std::numeric_limits<F>;
  std::vector<F> sample = {F(0), -F(0), limits::denorm_min(), -limits::denorm_min(),
                           limits::min(), -limits::min(), limits::max(), -limits::max(),
                           limits::infinity(), -limits::infinity(), limits::quiet_NaN(),
                           F(1), F(-1), F(1.5), F(-3), std::nextafter(limits::min(), F(0)),
                           std::nextafter(F(1), F(2))};
  std::mt19937_64 generator(20240611);
  for (std::size_t i = 0; i < random_count; ++i) {
    sample.push_back(std::bit_cast<F>(static_cast<Bits>(generator())));
  }
  return sample;
}

}  // namespace pot_test
