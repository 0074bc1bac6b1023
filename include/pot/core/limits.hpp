/// \file
/// \brief `std::numeric_limits` for pot types.
///
/// Include this header (or pot/pot.hpp) wherever `std::numeric_limits<pot<...>>` is used:
/// a translation unit that sees only the primary template would disagree with one that
/// sees this specialisation.
#pragma once

#include <limits>

#include "pot/core/pot.hpp"

namespace pot::detail {

/// \brief `ceil(e * log10(2))` (or its floor), exact for every |e| <= 1023: no such
/// multiple of log10(2) lies within 1e-13 of an integer, far above the 15-digit
/// constant's error.
constexpr int scaled_log10_of_power_of_two(int e, bool round_up) noexcept {
  constexpr long long log10_of_2_e15 = 301029995663981;  // log10(2) * 10^15
  constexpr long long one_e15 = 1000000000000000;
  const long long scaled = e * log10_of_2_e15;
  long long quotient = scaled / one_e15;  // truncates toward zero
  const long long remainder = scaled % one_e15;
  if (round_up && remainder > 0) {
    ++quotient;
  }
  if (!round_up && remainder < 0) {
    --quotient;
  }
  return static_cast<int>(quotient);
}

/// \brief `±2^e` as a `P`, with `e` clamped to `P`'s exponent range.
template <class P>
constexpr P clamped_power_of_two(int e) noexcept {
  const int clamped = e < P::min_exponent ? P::min_exponent
                      : e > P::max_exponent ? P::max_exponent
                                            : e;
  return P::from_code(static_cast<typename P::code_type>(clamped - P::min_exponent));
}

}  // namespace pot::detail

/// \brief Limits of a pot type: one significant bit, values `±2^e` for e in
/// [MinExp, MaxExp] and possibly 0, no infinity, no NaN.
template <int Bits, int MinExp, int MaxExp, pot::rounding Rounding, pot::zero_code Zero>
class std::numeric_limits<pot::pot<Bits, MinExp, MaxExp, Rounding, Zero>> {
  using value_type = pot::pot<Bits, MinExp, MaxExp, Rounding, Zero>;

 public:
  /// \brief Always true.
  static constexpr bool is_specialized = true;
  /// \brief The least positive value, `2^MinExp` (every non-zero pot is normal).
  static constexpr value_type min() noexcept { return value_type::from_code(0); }
  /// \brief The greatest value, `2^MaxExp`.
  static constexpr value_type max() noexcept {
    return value_type::from_code(static_cast<typename value_type::code_type>(MaxExp - MinExp));
  }
  /// \brief The least value, `-2^MaxExp`.
  static constexpr value_type lowest() noexcept { return -max(); }
  /// \brief One significant binary digit: the leading one.
  static constexpr int digits = 1;
  /// \brief No decimal digit survives a round trip through a pot.
  static constexpr int digits10 = 0;
  /// \brief Decimal digits needed to tell the values apart: one.
  static constexpr int max_digits10 = 1;
  /// \brief Pots are signed.
  static constexpr bool is_signed = true;
  /// \brief Pots are not integers (2^e with e < 0 exists in general).
  static constexpr bool is_integer = false;
  /// \brief Conversion from float rounds, so the type is not exact.
  static constexpr bool is_exact = false;
  /// \brief Binary.
  static constexpr int radix = 2;
  /// \brief The relative spacing: 1 (the value 1), or the value nearest 1 when 1 is out of range.
  ///
  /// Neighbours `2^e` and `2^(e+1)` differ by `2^e`, so the gap after 1 is 1. When 0 is
  /// outside [MinExp, MaxExp], this is `2^MinExp` or `2^MaxExp`, whichever is nearer 1.
  static constexpr value_type epsilon() noexcept {
    return pot::detail::clamped_power_of_two<value_type>(0);
  }
  /// \brief `2^-1` clamped to the range: linear rounding's worst error in units of the
  /// lower neighbour; log rounding's is `2 - sqrt(2)`, which no pot represents.
  static constexpr value_type round_error() noexcept {
    return pot::detail::clamped_power_of_two<value_type>(-1);
  }
  /// \brief `MinExp + 1`: `2^(min_exponent - 1)` is the least positive value.
  static constexpr int min_exponent = MinExp + 1;
  /// \brief Least n with `10^n >= 2^MinExp`.
  static constexpr int min_exponent10 = pot::detail::scaled_log10_of_power_of_two(MinExp, true);
  /// \brief `MaxExp + 1`: `2^(max_exponent - 1)` is the greatest value.
  static constexpr int max_exponent = MaxExp + 1;
  /// \brief Greatest n with `10^n <= 2^MaxExp`.
  static constexpr int max_exponent10 = pot::detail::scaled_log10_of_power_of_two(MaxExp, false);
  /// \brief No infinity: ±inf saturates to `±2^MaxExp`.
  static constexpr bool has_infinity = false;
  /// \brief No NaN: NaN converts to `pot()`.
  static constexpr bool has_quiet_NaN = false;
  /// \brief No NaN.
  static constexpr bool has_signaling_NaN = false;
  /// \brief No subnormal values.
  static constexpr std::float_denorm_style has_denorm = std::denorm_absent;
  /// \brief No subnormal values, so no loss from them.
  static constexpr bool has_denorm_loss = false;
  /// \brief Meaningless (no infinity): `pot()`.
  static constexpr value_type infinity() noexcept { return value_type(); }
  /// \brief Meaningless (no NaN): `pot()`.
  static constexpr value_type quiet_NaN() noexcept { return value_type(); }
  /// \brief Meaningless (no NaN): `pot()`.
  static constexpr value_type signaling_NaN() noexcept { return value_type(); }
  /// \brief The least positive value, as `min()` (no subnormals).
  static constexpr value_type denorm_min() noexcept { return min(); }
  /// \brief Not IEEE 754.
  static constexpr bool is_iec559 = false;
  /// \brief A finite set of values.
  static constexpr bool is_bounded = true;
  /// \brief Overflow saturates; it never wraps.
  static constexpr bool is_modulo = false;
  /// \brief No operation traps.
  static constexpr bool traps = false;
  /// \brief Tininess is not a concept here (no subnormals).
  static constexpr bool tinyness_before = false;
  /// \brief Both policies round to the nearest power of two (in log or linear domain).
  static constexpr std::float_round_style round_style = std::round_to_nearest;
};
