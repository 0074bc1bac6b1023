/// \file
/// \brief Rounding and zero policies of pot types, and the exact rounding of a float to a
/// power of two.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <limits>

namespace pot {

/// \brief How a real number is rounded to the nearest power of two.
///
/// Both policies are decided exactly from the bits of the float (see
/// docs/number-format.md); neither uses a rounded `std::log2`.
enum class rounding {
  log,    ///< \brief Nearest in the log domain: `m * 2^k` rounds up when `m >= sqrt(2)` (the paper's rule).
  linear  ///< \brief Nearest by value: `m * 2^k` rounds up when `m >= 1.5` (ties go away from zero).
};

/// \brief Whether a pot type spends one code on the value 0.
enum class zero_code {
  automatic,  ///< \brief `flush` when the code space has a spare exponent index, `none` otherwise.
  none,       ///< \brief No zero: magnitudes below `2^MinExp` clamp to `±2^MinExp`.
  flush       ///< \brief A zero code: values whose rounded exponent is below `MinExp` become 0.
};

/// \brief What kind of number a float was, as far as rounding to a power of two cares.
enum class float_kind {
  zero,      ///< \brief +0 or -0.
  finite,    ///< \brief A non-zero finite number (normal or subnormal).
  infinite,  ///< \brief +inf or -inf.
  nan        ///< \brief Any NaN.
};

/// \brief A float rounded to a signed power of two, before any saturation to a range.
struct rounded_power {
  float_kind kind;  ///< \brief Zero, finite, infinite or NaN.
  bool negative;    ///< \brief The float's sign bit (also set for -0 and negative infinity).
  int exponent;     ///< \brief For finite numbers, `e` of the nearest `±2^e`; 0 otherwise.
};

namespace detail {

// GCC's -Wpedantic rejects the __int128 keyword without __extension__.
__extension__ typedef unsigned __int128 unsigned_int128;

/// \brief The bit layout of an IEEE binary float type.
template <class F>
struct float_layout;

/// \brief The bit layout of binary32.
template <>
struct float_layout<float> {
  using bits_type = std::uint32_t;     ///< \brief Unsigned integer as wide as the float.
  using square_type = std::uint64_t;   ///< \brief Holds the square of a significand.
  static constexpr int precision = 24; ///< \brief Significand bits, the hidden one included.
  static constexpr int exponent_bias = 127;  ///< \brief Bias of the exponent field.
};

/// \brief The bit layout of binary64.
template <>
struct float_layout<double> {
  using bits_type = std::uint64_t;      ///< \brief Unsigned integer as wide as the float.
  using square_type = unsigned_int128;  ///< \brief Holds the square of a significand.
  static constexpr int precision = 53;  ///< \brief Significand bits, the hidden one included.
  static constexpr int exponent_bias = 1023;  ///< \brief Bias of the exponent field.
};

}  // namespace detail

/// \brief Rounds `x` to the nearest signed power of two under `Rounding`, exactly.
///
/// Writes `|x| = m * 2^k` with `m` in [1, 2) (subnormals normalised exactly) and returns
/// `e = k + 1` when `m` reaches the policy's threshold, else `e = k`. The log threshold
/// `sqrt(2)` is tested as `M*M >= 2^(2p-1)` on the p-bit integer significand `M`, so no
/// tie exists; the linear threshold 1.5 is tested as `M >= 3 * 2^(p-2)`.
template <rounding Rounding, class F>
  requires std::same_as<F, float> || std::same_as<F, double>
constexpr rounded_power round_to_power_of_two(F x) noexcept {
  using layout = detail::float_layout<F>;
  using bits_type = typename layout::bits_type;
  using square_type = typename layout::square_type;
  constexpr int stored_fraction_bits = layout::precision - 1;
  constexpr int total_bits = static_cast<int>(sizeof(F)) * 8;
  constexpr bits_type fraction_mask = (bits_type{1} << stored_fraction_bits) - 1;
  constexpr bits_type hidden_bit = bits_type{1} << stored_fraction_bits;
  constexpr bits_type exponent_field_max = (bits_type{1} << (total_bits - layout::precision)) - 1;

  const auto bits = std::bit_cast<bits_type>(x);
  const bool negative = (bits >> (total_bits - 1)) != 0;
  const bits_type exponent_field = (bits >> stored_fraction_bits) & exponent_field_max;
  bits_type fraction = bits & fraction_mask;

  if (exponent_field == exponent_field_max) {
    return {fraction == 0 ? float_kind::infinite : float_kind::nan, negative, 0};
  }
  int k = 0;
  if (exponent_field == 0) {
    if (fraction == 0) {
      return {float_kind::zero, negative, 0};
    }
    // Subnormal: shift the leading one up to the hidden-bit position.
    const int shift = std::countl_zero(fraction) - (total_bits - layout::precision);
    fraction <<= shift;
    k = 1 - layout::exponent_bias - shift;
  } else {
    fraction |= hidden_bit;
    k = static_cast<int>(exponent_field) - layout::exponent_bias;
  }

  bool rounds_up = false;
  if constexpr (Rounding == rounding::log) {
    const square_type significand = fraction;
    rounds_up = significand * significand >= (square_type{1} << (2 * layout::precision - 1));
  } else {
    rounds_up = fraction >= (bits_type{3} << (layout::precision - 2));
  }
  return {float_kind::finite, negative, k + (rounds_up ? 1 : 0)};
}

}  // namespace pot
